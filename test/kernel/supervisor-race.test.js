'use strict';
// The sockaddr race: a thread rewrites the destination of one sockaddr between an allowed and
// a denied address while another connects with it, 3,000 times. The supervisor copies the
// address once and connects with its copy, so no connection may reach the denied server.
// Judged by the two servers (in this process) and by each socket's real peer (getpeername).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { haveKernel, runChild, sleep, recordingServer } = require('../helpers/harness');

const skip = haveKernel();
const N = 3000;

/** A loopback server that records what it receives (bounded lifetime). */
const counter = (host, port) => recordingServer({ host, port, lifetimeMs: 60000 });

/** Two servers on one port: 127.0.0.1:P (to be allowed) and 127.0.0.2:P (to be denied). */
async function serverPair() {
  for (let i = 0; i < 20; i++) {
    const denied = await counter('127.0.0.2', 0);
    try {
      const allowed = await counter('127.0.0.1', denied.port);
      return { allowed, denied, port: denied.port };
    } catch {
      await denied.close(); // the port was taken on 127.0.0.1: try another
    }
  }
  throw new Error('no port free on both 127.0.0.1 and 127.0.0.2');
}

test(`supervisor: ${N} connects while a thread flips the sockaddr between 127.0.0.1 and 127.0.0.2 — none reaches 127.0.0.2`, { skip, timeout: 120000 }, async () => {
  const { allowed, denied, port } = await serverPair();
  try {
    // Control, no lockdown: the flipping is real, both servers are reached.
    const ctl = await runChild(`out(t.raceConnect('127.0.0.1', '127.0.0.2', ${port}, 1000));`);
    assert.equal(ctl.status, 0, ctl.stderr);
    assert.ok(ctl.result.allowedPeer > 0 && ctl.result.deniedPeer > 0, `unlocked control reaches both: ${JSON.stringify(ctl.result)}`);
    // The servers count a connection when they accept it, which under load can come well
    // after the client saw its peer: wait (bounded) until both counted what the control made,
    // so a late control connection is not taken for a locked one.
    for (let i = 0; i < 100 && (denied.connections() < ctl.result.deniedPeer || allowed.connections() < ctl.result.allowedPeer); i++) await sleep(50);
    await sleep(100);
    const deniedBefore = denied.connections();
    const allowedBefore = allowed.connections();
    assert.ok(deniedBefore > 0);

    const r = await runChild(`
      const report = bb.lockdown({ net: { connect: ['127.0.0.1:${port}'] } });
      out({ sup: report.layers.netSupervisor, race: t.raceConnect('127.0.0.1', '127.0.0.2', ${port}, ${N}) });`, { timeout: 100000 });
    assert.equal(r.status, 0, r.stderr);
    const o = r.result.race;
    assert.equal(r.result.sup, true);
    assert.equal(o.connects, N);
    assert.equal(o.deniedPeer, 0, JSON.stringify(o));
    assert.ok(o.allowedPeer > 0, `some connects were allowed: ${JSON.stringify(o)}`);
    assert.ok(o.denied > 0, `the race was live: the supervisor saw the denied address too: ${JSON.stringify(o)}`);
    assert.equal(o.allowedPeer + o.denied + o.unestablished + o.other, N);
    await sleep(200);
    assert.equal(denied.connections() - deniedBefore, 0, 'the denied server received no connection');
    assert.ok(allowed.connections() - allowedBefore > 0);
  } finally {
    await allowed.close();
    await denied.close();
  }
});
