'use strict';
// A host name in a rule is resolved by the supervisor itself (getaddrinfo, on its own
// thread): a name with two addresses, 127.0.0.1 and ::1, reaches both and nothing else. The
// name lives in a PRIVATE /etc/hosts (a bind mount in a mount namespace of the child's own,
// so the machine's file is never touched); that needs root, and the test skips without it.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ROOT, TEST_ADDON, haveKernel, cannotUnshare, runWithPrivateFile, tempDir, sleep, recordingServer } = require('../helpers/harness');

const skip = haveKernel() || cannotUnshare('/etc/hosts');
const NAME = 'bb-dual.blackbox.test';

/** Run code in a fresh node whose /etc/hosts is `hosts` (a mount namespace of its own). */
function runWithHosts(hosts, code, { timeout = 20000 } = {}) {
  return runWithPrivateFile('/etc/hosts', hosts, code, { timeout });
}

/** A loopback server that records what it receives (bounded lifetime). */
const counter = (host, port) => recordingServer({ host, port, lifetimeMs: 60000 });

/** 127.0.0.1:P, [::1]:P and 127.0.0.2:P: one port on three addresses. */
async function servers() {
  for (let i = 0; i < 20; i++) {
    const v4 = await counter('127.0.0.1', 0);
    try {
      const v6 = await counter('::1', v4.port);
      try {
        const other = await counter('127.0.0.2', v4.port);
        return { v4, v6, other, port: v4.port };
      } catch {
        await v6.close();
      }
    } catch { /* taken on ::1 */ }
    await v4.close();
  }
  throw new Error('no port free on 127.0.0.1, ::1 and 127.0.0.2 at once');
}

test(`supervisor: a name with two addresses (${NAME} -> 127.0.0.1 and ::1 in /etc/hosts) reaches both, and nothing else`, { skip }, async () => {
  const { v4, v6, other, port } = await servers();
  const elsewhere = await counter('127.0.0.1', 0);
  try {
    const r = await runWithHosts(`127.0.0.1 localhost\n127.0.0.1 ${NAME}\n::1 ${NAME}\n`, `
      const net = require('node:net');
      const report = bb.lockdown({ net: { connect: ['${NAME}:${port}'] } });
      const raw = {
        v4: t.tcpConnect('127.0.0.1', ${port}, 0, 'raw-v4'),
        v6: t.tcpConnect('::1', ${port}, 0, 'raw-v6'),
        other: t.tcpConnect('127.0.0.2', ${port}, 0, 'leak-127.0.0.2'),
        mapped: t.tcpConnect('::ffff:127.0.0.2', ${port}, 0, 'leak-mapped'),
        otherPort: t.tcpConnect('127.0.0.1', ${elsewhere.port}, 0, 'leak-port'),
        udpOther: t.udpSend('127.0.0.2', ${port}, 'leak-udp'),
      };
      const viaNode = (family) => new Promise((resolve) => {
        const s = net.connect({ host: '${NAME}', port: ${port}, family }, () => { s.end('node-v' + family); resolve({ ok: s.remoteAddress }); });
        s.on('error', (e) => resolve({ err: e.code }));
      });
      Promise.all([viaNode(4), viaNode(6)]).then(([n4, n6]) => out({ sup: report.layers.netSupervisor, raw, n4, n6 }));`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.sup, true);
    assert.equal(o.raw.v4, 0, 'raw connect to 127.0.0.1');
    assert.equal(o.raw.v6, 0, 'raw connect to ::1');
    for (const k of ['other', 'mapped', 'otherPort', 'udpOther']) assert.equal(o.raw[k], -13, k);
    assert.deepEqual(o.n4, { ok: '127.0.0.1' });
    assert.deepEqual(o.n6, { ok: '::1' });
    await sleep(100);
    assert.match(v4.text('|'), /raw-v4/);
    assert.match(v4.text('|'), /node-v4/);
    assert.match(v6.text('|'), /raw-v6/);
    assert.match(v6.text('|'), /node-v6/);
    assert.equal(other.connections(), 0, other.text('|'));
    assert.equal(elsewhere.connections(), 0, elsewhere.text('|'));
  } finally {
    for (const s of [v4, v6, other, elsewhere]) await s.close();
  }
});
