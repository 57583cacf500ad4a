'use strict';
// Every thread: the per-thread status read-back, and a thread-creation race
// (go-landlock's RunInSubprocess style, 100+ fresh processes).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { haveKernel, runChild, tempDir } = require('../helpers/harness');

const skip = haveKernel();

test('after lockdown every thread has the seccomp filter and no_new_privs; a later Worker too', { skip }, async () => {
  const r = await runChild(`
    const native = require('node-gyp-build')(${JSON.stringify(path.join(__dirname, '..', '..'))});
    require('fs').stat(__filename, () => {});
    const report = bb.lockdown();
    const { Worker } = require('node:worker_threads');
    const w = new Worker('setTimeout(() => {}, 500)', { eval: true });
    w.on('online', () => {
      out({ threads: native.threadStatus(), report });
      w.terminate();
    });`);
  assert.equal(r.status, 0, r.stderr);
  const th = r.result.threads;
  assert.ok(th.length >= 7, `saw ${th.length} threads`);
  for (const x of th) {
    assert.equal(x.seccomp, 2, `thread ${x.tid} seccomp`);
    assert.equal(x.noNewPrivs, 1, `thread ${x.tid} no_new_privs`);
  }
  assert.equal(r.result.report.layers.seccomp, true);
});

function raceChild(secret, dir, lock) {
  return runChild(`
    t.racersStart(${JSON.stringify(secret)});
    setTimeout(() => {
      const layers = ${lock ? `bb.lockdown({ fs: { read: [${JSON.stringify(dir)}] } }).layers` : 'null'};
      t.racersMark();
      setTimeout(() => out({ ...t.racersStop(), layers }), 60);
    }, 20);`, { timeout: 15000 });
}

test('thread-creation race: threads spawning during lockdown — none reads the secret afterwards (120 runs)', { skip, timeout: 300000 }, async () => {
  const { dir, cleanup } = tempDir();
  const other = tempDir();
  try {
    const secret = path.join(other.dir, 'secret');
    fs.writeFileSync(secret, 'TOKEN');
    // The test can fail: without lockdown the racers do read it after the mark.
    const control = await raceChild(secret, dir, false);
    assert.equal(control.status, 0, control.stderr);
    assert.ok(control.result.successesAfterMark > 0, 'control run reads the secret');

    let escapes = 0;
    let created = 0;
    const RUNS = 120;
    for (let i = 0; i < RUNS; i += 2) {
      const rs = await Promise.all([raceChild(secret, dir, true), raceChild(secret, dir, true)]);
      for (const r of rs) {
        assert.equal(r.status, 0, r.stderr);
        assert.ok(r.result.layers && r.result.layers.landlock >= 1 && r.result.layers.seccomp, `the lockdown reached the kernel: ${JSON.stringify(r.result.layers)}`);
        escapes += r.result.successesAfterMark;
        created += r.result.threadsCreated;
      }
    }
    assert.equal(escapes, 0, `successful reads after lockdown returned, over ${RUNS} runs`);
    assert.ok(created > RUNS, `threads were really created during the runs (${created})`);
  } finally {
    cleanup();
    other.cleanup();
  }
});
