'use strict';
// DNS under a per-host allow-list: the system resolver (a tiny UDP DNS server on a loopback
// address, named in a PRIVATE /etc/resolv.conf) is reachable through glibc (dns.lookup) and
// c-ares (dns.resolve4), and the supervisor resolves the rule's name through it too; any
// other resolver is denied — by the JS guard, and by the kernel when the guard is undone.
// The private resolv.conf is a bind mount in the child's own mount namespace (unshare -m):
// root only, the test skips without it. Port 53 is used because glibc offers no other.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ROOT, TEST_ADDON, haveKernel, cannotUnshare, runWithPrivateFile, tempDir, sleep } = require('../helpers/harness');

const skip = haveKernel() || cannotUnshare('/etc/resolv.conf');
const NAME = 'bb-dns.blackbox.test';
const ANSWER = '127.0.0.77';

/** Run code in a fresh node whose /etc/resolv.conf is `resolv` (a mount namespace of its own). */
function runWithResolv(resolv, code, { timeout = 30000 } = {}) {
  return runWithPrivateFile('/etc/resolv.conf', resolv, code, { timeout });
}

/**
 * A DNS server (UDP) that answers A queries for NAME with ANSWER; everything else NOERROR with
 * no answer (AAAA) or NXDOMAIN (other names). Records every query name it sees. Bounded.
 */
function dnsServer(host) {
  return new Promise((resolve, reject) => {
    const queries = [];
    const s = dgram.createSocket('udp4');
    s.on('message', (m, rinfo) => {
      if (m.subarray(0, 4).toString('latin1') === 'raw-') { queries.push(`raw:${m.toString('latin1')}`); return; }
      if (m.length < 12) { queries.push('<short>'); return; }
      const labels = [];
      let i = 12;
      while (i < m.length && m[i] !== 0 && labels.length < 64) {
        const n = m[i];
        labels.push(m.subarray(i + 1, i + 1 + n).toString('latin1'));
        i += n + 1;
      }
      const qname = labels.join('.').toLowerCase();
      const qtype = m.length >= i + 3 ? m.readUInt16BE(i + 1) : 0;
      queries.push(`${qname}/${qtype}`);
      const question = m.subarray(12, i + 5);
      const known = qname === NAME;
      const answer = known && qtype === 1;
      const hdr = Buffer.alloc(12);
      hdr.writeUInt16BE(m.readUInt16BE(0), 0);
      hdr.writeUInt16BE(0x8180 | (known ? 0 : 3), 2); // response, RD, RA; rcode NXDOMAIN for unknown names
      hdr.writeUInt16BE(1, 4);
      hdr.writeUInt16BE(answer ? 1 : 0, 6);
      const parts = [hdr, question];
      if (answer) {
        const rr = Buffer.alloc(16);
        rr.writeUInt16BE(0xc00c, 0);
        rr.writeUInt16BE(1, 2);
        rr.writeUInt16BE(1, 4);
        rr.writeUInt32BE(60, 6);
        rr.writeUInt16BE(4, 10);
        ANSWER.split('.').forEach((b, k) => rr.writeUInt8(Number(b), 12 + k));
        parts.push(rr);
      }
      s.send(Buffer.concat(parts), rinfo.port, rinfo.address);
    });
    s.once('error', reject);
    s.bind(53, host, () => {
      const timer = setTimeout(() => s.close(), 60000);
      timer.unref();
      resolve({ host, queries, close: () => new Promise((r) => { clearTimeout(timer); s.close(r); }) });
    });
  });
}

function tcpServer(host) {
  return new Promise((resolve, reject) => {
    const got = [];
    const socks = new Set();
    const s = net.createServer((c) => { socks.add(c); c.on('data', (d) => got.push(String(d))); c.on('error', () => {}); c.on('close', () => socks.delete(c)); });
    s.once('error', reject);
    s.listen(0, host, () => resolve({ port: s.address().port, got, close: () => { for (const c of socks) c.destroy(); return new Promise((r) => s.close(() => r())); } }));
  });
}

test('supervisor: dns.lookup and dns.resolve4 reach the system resolver; a name rule resolves through it; any other resolver is denied (JS guard, and the kernel when the guard is undone)', { skip, timeout: 60000 }, async () => {
  // Addresses of our own under 127.53/16, so parallel tests never share a port-53 socket.
  const net3 = 1 + Math.floor(Math.random() * 250);
  const ns = await dnsServer(`127.53.${net3}.1`);
  const rogue = await dnsServer(`127.53.${net3}.2`);
  const app = await tcpServer(ANSWER);
  try {
    const r = await runWithResolv(`nameserver ${ns.host}\noptions timeout:1 attempts:1\n`, `
      const dns = require('node:dns');
      // What undoing the JS guard gives: the originals the guard wrapped.
      const orig = (f) => Object.getOwnPropertySymbols(f).map((s) => f[s]).find((v) => typeof v === 'function');
      const p = (fn) => new Promise((resolve) => fn((e, v) => resolve(e ? { err: e.code } : { ok: v })));
      (async () => {
        // Before the lockdown the rogue resolver is reachable (the evidence below can fail).
        const pre = new dns.Resolver();
        pre.setServers(['${rogue.host}']);
        const preRogue = await p((cb) => pre.resolve4('pre.${NAME}', cb));
        const report = bb.lockdown({ net: { connect: ['${NAME}:${app.port}'] } });
        const lookup = await p((cb) => dns.lookup('${NAME}', { family: 4 }, cb));
        const resolve4 = await p((cb) => dns.resolve4('${NAME}', cb));
        const nx = await p((cb) => dns.resolve4('nx.${NAME}', cb));
        // The name rule: the supervisor resolved ${NAME} itself, through the same resolver.
        const conn = await new Promise((resolve) => {
          const s = require('node:net').connect(${app.port}, '${NAME}', () => { s.end('via-name'); resolve({ ok: s.remoteAddress }); });
          s.on('error', (e) => resolve({ err: e.code }));
        });
        let guard;
        try { dns.setServers(['${rogue.host}']); guard = 'allowed'; } catch (e) { guard = e.code; }
        const res = new dns.Resolver();
        let guard2;
        try { res.setServers(['${rogue.host}']); guard2 = 'allowed'; } catch (e) { guard2 = e.code; }
        // Undo the guard: c-ares itself now talks to the rogue server, and the kernel answers.
        const raw = new dns.Resolver();
        orig(dns.Resolver.prototype.setServers).call(raw, ['${rogue.host}']);
        const bypass = await p((cb) => orig(dns.Resolver.prototype.resolve4).call(raw, 'bypass.${NAME}', cb));
        out({
          sup: report.layers.netSupervisor, preRogue, lookup, resolve4, nx, conn, guard, guard2, bypass,
          rawRogueUdp: t.udpSend('${rogue.host}', 53, 'raw-rogue'),
          rawRogueTcp: t.tcpConnect('${rogue.host}', 53, 0, 'raw-rogue'),
          rawNs: t.udpSend('${ns.host}', 53, 'raw-ns-allowed'),
        });
      })();`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.sup, true);
    assert.deepEqual(o.preRogue, { err: 'ENOTFOUND' }, 'the rogue server answered before the lockdown');
    assert.deepEqual(o.lookup, { ok: ANSWER }, 'dns.lookup (glibc: connect + sendmmsg) through the supervisor');
    assert.deepEqual(o.resolve4, { ok: [ANSWER] }, 'dns.resolve4 (c-ares: connect + send)');
    assert.deepEqual(o.nx, { err: 'ENOTFOUND' });
    assert.deepEqual(o.conn, { ok: ANSWER });
    assert.equal(o.guard, 'ERR_ACCESS_DENIED');
    assert.equal(o.guard2, 'ERR_ACCESS_DENIED');
    // c-ares reads the kernel's EACCES on connect(rogue:53) as a refusal
    assert.deepEqual(o.bypass, { err: 'ECONNREFUSED' }, 'c-ares with the guard undone gets no answer');
    assert.equal(o.rawRogueUdp, -13);
    assert.equal(o.rawRogueTcp, -13);
    assert.equal(o.rawNs, 0);
    await sleep(100);
    assert.deepEqual(rogue.queries, [`pre.${NAME}/1`], 'after the lockdown the rogue resolver received nothing');
    assert.ok(ns.queries.includes(`${NAME}/1`), ns.queries.join(' '));
    assert.ok(ns.queries.includes(`nx.${NAME}/1`), ns.queries.join(' '));
    assert.ok(ns.queries.includes('raw:raw-ns-allowed'), 'a raw sendto to the system resolver is allowed');
    assert.deepEqual(app.got, ['via-name']);
  } finally {
    await ns.close();
    await rogue.close();
    await app.close();
  }
});
