'use strict';
// What the target wrote on the control socket before a call must bind that call: a second
// lockdown() narrows, and the very next raw connect/sendto to the dropped address is denied —
// repeated in fresh processes, each with the supervisor kept busy right before the narrowing
// (it checks that narrowing reaches the supervisor's decisions at once). And a sendmsg with
// several iovecs and a destination (the supervisor copies the msghdr, then name + iovec array
// + control, then the payload, each in one read) delivers exactly the bytes the application
// passed.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const { haveKernel, runChild, recordingServer, sleep } = require('../helpers/harness');

const skip = haveKernel();
const EACCES = -13;

test('supervisor: a narrowing written just before a call binds that call (8 fresh processes, TCP and UDP)', { skip, timeout: 120000 }, async () => {
  const a = await recordingServer({ lifetimeMs: 100000 });
  const b = await recordingServer({ lifetimeMs: 100000 });
  try {
    for (let i = 0; i < 8; i++) {
      const r = await runChild(`
        const res = {};
        bb.lockdown({ net: { connect: ['127.0.0.1:${a.port}', '127.0.0.1:${b.port}'] } });
        // keep the supervisor's notification thread busy right up to the narrowing
        res.busy = 0;
        for (let k = 0; k < 50; k++) res.busy += t.udpSend('127.0.0.1', ${b.port}, 'x') === 0 ? 1 : 0;
        bb.lockdown({ net: { connect: ['127.0.0.1:${a.port}'] } });
        res.udpB = t.udpSend('127.0.0.1', ${b.port}, 'late');
        res.tcpB = t.tcpConnect('127.0.0.1', ${b.port}, 0, 'late-${i}');
        res.tcpA = t.tcpConnect('127.0.0.1', ${a.port}, 0, 'a${i}');
        out(res);`, { timeout: 20000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.result.busy, 50, `round ${i}: the wide policy allowed the UDP sends`);
      assert.equal(r.result.udpB, EACCES, `round ${i}: UDP to the narrowed-away address`);
      assert.equal(r.result.tcpB, EACCES, `round ${i}: TCP to the narrowed-away address`);
      assert.equal(r.result.tcpA, 0, `round ${i}: the address still granted`);
    }
    await sleep(50);
    assert.doesNotMatch(b.text(), /late/, 'nothing reached the narrowed-away server');
  } finally {
    await a.close();
    await b.close();
  }
});

test('supervisor: dgram.send of several buffers (one sendmsg, several iovecs, a destination) arrives intact', { skip, timeout: 60000 }, async () => {
  const sink = dgram.createSocket('udp4');
  const got = [];
  sink.on('message', (m) => got.push(m.toString('latin1')));
  await new Promise((resolve) => sink.bind(0, '127.0.0.1', resolve));
  const port = sink.address().port;
  const life = setTimeout(() => sink.close(), 50000);
  try {
    const r = await runChild(`
      const dgram = require('node:dgram');
      bb.lockdown({ net: { connect: ['127.0.0.1:${port}'] } });
      const s = dgram.createSocket('udp4');
      const parts = (i) => [Buffer.from('head-' + i + '|'), Buffer.alloc(3000 + i, 0x61 + (i % 26)), Buffer.from(''), Buffer.from('|tail')];
      let n = 0;
      const next = () => {
        if (n === 20) { s.close(); return out({ sent: n }); }
        const i = n++;
        s.send(parts(i), ${port}, '127.0.0.1', (e) => (e ? out({ err: e.code }) : next()));
      };
      next();`);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.result, { sent: 20 });
    for (let k = 0; k < 50 && got.length < 20; k++) await sleep(20);
    assert.equal(got.length, 20);
    got.forEach((m, i) => {
      assert.equal(m, `head-${i}|${String.fromCharCode(0x61 + (i % 26)).repeat(3000 + i)}|tail`, `datagram ${i}`);
    });
  } finally {
    clearTimeout(life);
    sink.close();
  }
});
