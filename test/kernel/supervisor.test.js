'use strict';
// The connect supervisor: raw syscalls from the test addon (no JS on the path), judged by
// what loopback servers in THIS process received; the child is the one locked down.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const { haveKernel, runChild, recordingServer, sleep } = require('../helpers/harness');

const skip = haveKernel();
const EACCES = -13;

function udpServer() {
  return new Promise((resolve) => {
    const got = [];
    const s = dgram.createSocket('udp4');
    s.on('message', (m) => got.push(String(m)));
    s.bind(0, '127.0.0.1', () => resolve({ port: s.address().port, got, close: () => new Promise((r) => s.close(r)) }));
  });
}

test('supervisor: per-address rules for raw TCP and UDP — 127.0.0.1:P works, 127.0.0.2:P, ::ffff:127.0.0.2, TFO and MPTCP are denied', { skip }, async () => {
  const srv = await recordingServer();
  const other = await recordingServer();
  const udp = await udpServer();
  try {
    const r = await runChild(`
      const report = bb.lockdown({ net: { connect: ['127.0.0.1:${srv.port}', '127.0.0.1:${udp.port}'] } });
      out({
        layers: report.layers,
        ok: t.tcpConnect('127.0.0.1', ${srv.port}, 0, 'ok-v4'),
        ok0: t.tcpConnect('0.0.0.0', ${srv.port}, 0, 'ok-zero'),
        otherHost: t.tcpConnect('127.0.0.2', ${srv.port}, 0, 'leak-127.0.0.2'),
        mapped: t.tcpConnect('::ffff:127.0.0.2', ${srv.port}, 0, 'leak-mapped'),
        mappedOk: t.tcpConnect('::ffff:127.0.0.1', ${srv.port}, 0, 'ok-mapped'),
        v6: t.tcpConnect('::1', ${srv.port}, 0, 'leak-v6'),
        otherPort: t.tcpConnect('127.0.0.1', ${other.port}, 0, 'leak-port'),
        tfo: t.tfoSend('127.0.0.1', ${other.port}, 'leak-tfo'),
        mptcp: t.tcpConnect('127.0.0.1', ${srv.port}, 262, 'leak-mptcp'),
        udpOk: t.udpSend('127.0.0.1', ${udp.port}, 'udp-ok'),
        udpDenied: t.udpSend('127.0.0.2', ${udp.port}, 'udp-leak'),
        udpMapped: t.udpSend('::ffff:127.0.0.2', ${udp.port}, 'udp-leak-mapped'),
      });`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.layers.netSupervisor, true);
    assert.equal(o.ok, 0);
    assert.equal(o.ok0, 0, '0.0.0.0 as a destination is this host');
    assert.equal(o.mappedOk, 0);
    for (const k of ['otherHost', 'mapped', 'v6', 'otherPort', 'tfo', 'mptcp', 'udpDenied']) assert.equal(o[k], EACCES, k);
    assert.equal(o.udpOk, 0);
    await sleep(100);
    assert.equal(srv.has('leak'), false, srv.text('|'));
    assert.equal(other.connections(), 0, other.text('|'));
    assert.ok(srv.has('ok-v4') && srv.has('ok-zero') && srv.has('ok-mapped'), srv.text('|'));
    assert.deepEqual(udp.got.filter((m) => m.includes('leak')), []);
    assert.ok(udp.got.includes('udp-ok'), udp.got.join('|'));
  } finally {
    await srv.close();
    await other.close();
    await udp.close();
  }
});

test('supervisor: a denial is reported to the process as { resource, syscall, pid } on blackbox-native:violation', { skip }, async () => {
  const srv = await recordingServer();
  try {
    const r = await runChild(`
      const dc = require('node:diagnostics_channel');
      const seen = [];
      dc.subscribe('blackbox-native:violation', (m) => { if (m.layer === 'kernel') seen.push(m); });
      bb.lockdown({ net: { connect: ['127.0.0.1:${srv.port}'] } });
      const res = t.tcpConnect('127.0.0.2', ${srv.port}, 0, 'leak');
      setTimeout(() => out({ res, seen, pid: process.pid }), 200);`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.res, EACCES);
    const v = o.seen.find((m) => m.resource === `127.0.0.2:${srv.port}`);
    assert.ok(v, JSON.stringify(o.seen));
    assert.equal(v.syscall, 'connect');
    assert.equal(v.permission, 'Net');
    assert.equal(v.pid, o.pid);
    assert.equal(srv.connections(), 0);
  } finally {
    await srv.close();
  }
});

test('supervisor: killing it makes trapped calls fail (ENOSYS), never succeed', { skip }, async () => {
  const srv = await recordingServer();
  try {
    const r = await runChild(`
      bb.lockdown({ net: { connect: ['127.0.0.1:${srv.port}'] } });
      const before = t.tcpConnect('127.0.0.1', ${srv.port}, 0, 'before-kill');
      const fs = require('node:fs');
      // the helper is our child: find it by its name
      const kids = fs.readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8').trim().split(/\\s+/).filter(Boolean);
      const sup = kids.find((k) => { try { return fs.readFileSync('/proc/' + k + '/comm', 'utf8').startsWith('blackbox-superv'); } catch { return false; } });
      let killed = false;
      try { process.kill(Number(sup), 'SIGKILL'); killed = true; } catch (e) { killed = e.code; }
      setTimeout(() => out({ before, sup: !!sup, killed, after: t.tcpConnect('127.0.0.1', ${srv.port}, 0, 'after-kill'), udp: t.udpSend('127.0.0.1', ${srv.port}, 'after-kill-udp') }), 200);`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.before, 0);
    assert.equal(o.sup, true);
    if (o.killed === true) {
      assert.equal(o.after, -38, 'ENOSYS once the listener is gone');
      assert.equal(o.udp, -38);
    } else {
      // Landlock SCOPE_SIGNAL (ABI 6) forbids signalling the supervisor: it lives on
      assert.equal(o.killed, 'EPERM');
      assert.equal(o.after, 0);
    }
    await sleep(50);
    if (o.killed === true) assert.equal(srv.has('after-kill'), false, srv.text('|'));
  } finally {
    await srv.close();
  }
});

test('supervisor: works as an unprivileged user (nobody)', { skip: skip || (process.getuid() !== 0 ? 'needs root to drop to nobody' : false) }, async () => {
  const srv = await recordingServer();
  try {
    const r = await runChild(`
      const report = bb.lockdown({ net: { connect: ['127.0.0.1:${srv.port}'] } });
      out({ uid: process.getuid(), sup: report.layers.netSupervisor, ok: t.tcpConnect('127.0.0.1', ${srv.port}, 0, 'nobody-ok'), denied: t.tcpConnect('127.0.0.2', ${srv.port}, 0, 'nobody-leak') });`,
    { uid: 65534, gid: 65534, cwd: '/' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.result.uid, 65534);
    assert.equal(r.result.sup, true);
    assert.equal(r.result.ok, 0);
    assert.equal(r.result.denied, EACCES);
    await sleep(50);
    assert.ok(srv.has('nobody-ok'));
    assert.equal(srv.has('nobody-leak'), false);
  } finally {
    await srv.close();
  }
});
