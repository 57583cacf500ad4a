'use strict';
// Stress (issue 7, part B1): many lockdowns, each in a fresh process, while
// threads are being created — Workers started just before lockdown() (their
// threads come up during it), the test addon's racers (a pthread spawner
// creating short-lived threads that keep trying to open a secret file, plus four
// long-lived pollers), and Workers started after it. After each lockdown:
//   - from OUTSIDE the child (this process reads /proc/<child>/task/*/status
//     while the child waits): every thread has Seccomp: 2 and NoNewPrivs: 1;
//   - from inside: the same read-back, every Worker's attempt to read the
//     secret is denied, and no racer open() that began after lockdown()
//     returned succeeded (Landlock is on every thread, new ones included).
//
// BLACKBOX_STRESS_LOCKDOWNS sets the count: `npm run test:stress` runs 1000,
// `npm test` 100 (the default here). Children run 2 at a time.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { haveKernel, onMessages, tempDir, ROOT, TEST_ADDON } = require('../helpers/harness');

const skip = haveKernel();
const RUNS = Number(process.env.BLACKBOX_STRESS_LOCKDOWNS ?? 100);
const PARALLEL = 2;

// The child. Its inputs come in environment variables, not argv: under
// \`node -e\`, lockdown() takes process.argv[1] for the main script and grants
// read access to its directory as "the app's own code" (see the report).
// BB_SECRET, BB_DIR (granted), BB_DELAY (ms between starting the early Workers
// and lockdown()), BB_LOCK (1/0). Talks on stdout in '@@' lines and
// waits for one line on stdin (the parent has read /proc) before it stops.
const CHILD = String.raw`
const bb = require(${JSON.stringify(ROOT)});
const t = require(${JSON.stringify(TEST_ADDON)});
const fs = require('node:fs');
const { Worker } = require('node:worker_threads');
const { BB_SECRET: secret, BB_DIR: dir, BB_DELAY: delayText, BB_LOCK: lockText } = process.env;
const lock = lockText === '1';
const out = (o) => process.stdout.write('@@' + JSON.stringify(o) + '\n');
const bail = setTimeout(() => { out({ error: 'child timed out' }); process.exit(7); }, 15000);

// Each Worker answers 'try' with the outcome of reading the secret.
const WORKER = "const { parentPort } = require('node:worker_threads'); const fs = require('node:fs');" +
  "parentPort.on('message', (p) => { let r; try { fs.readFileSync(p); r = 'READ'; } catch (e) { r = e.code || String(e); } parentPort.postMessage(r); });";
const workers = [];
const spawnWorker = () => { const w = new Worker(WORKER, { eval: true }); w.on('error', () => {}); workers.push(w); return w; };

function threads() {
  const out = [];
  for (const tid of fs.readdirSync('/proc/self/task')) {
    let s;
    try { s = fs.readFileSync('/proc/self/task/' + tid + '/status', 'latin1'); } catch { continue; } // exited meanwhile
    out.push({ tid: Number(tid), name: /^Name:\s*(.*)$/m.exec(s)[1], seccomp: Number(/^Seccomp:\s*(\d+)/m.exec(s)[1]), nnp: Number(/^NoNewPrivs:\s*(\d+)/m.exec(s)[1]) });
  }
  return out;
}
const ask = (w) => new Promise((resolve) => {
  const timer = setTimeout(() => resolve('no answer'), 3000);
  w.once('message', (m) => { clearTimeout(timer); resolve(m); });
  w.postMessage(secret);
});

t.racersStart(secret, 1, 3);
for (let i = 0; i < 2; i++) spawnWorker();
setTimeout(() => {
  spawnWorker(); // its thread starts while lockdown() runs
  let layers = null;
  if (lock) layers = bb.lockdown({ fs: { read: [dir] } }).layers;
  t.racersMark();
  for (let i = 0; i < 2; i++) spawnWorker(); // created after lockdown()
  setTimeout(async () => {
    const reads = await Promise.all(workers.map(ask));
    const inside = threads();
    out({ ready: true, layers, reads, inside });
    // The parent reads /proc/<pid>/task/* from outside, then writes a line.
    process.stdin.once('data', () => {
      const racers = t.racersStop();
      clearTimeout(bail);
      out({ done: true, racers });
      for (const w of workers) w.terminate();
      setTimeout(() => process.exit(0), 20).unref();
    });
  }, 25);
}, Number(delayText));
`;

/** What /proc says about every thread of `pid`, read from this (unrestricted) process. */
function outsideThreads(pid) {
  const list = [];
  let tids;
  try { tids = fs.readdirSync(`/proc/${pid}/task`); } catch { return null; }
  for (const tid of tids) {
    let s;
    try { s = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1'); } catch { continue; }
    list.push({ tid: Number(tid), name: /^Name:\s*(.*)$/m.exec(s)[1], seccomp: Number(/^Seccomp:\s*(\d+)/m.exec(s)[1]), nnp: Number(/^NoNewPrivs:\s*(\d+)/m.exec(s)[1]) });
  }
  return list;
}

function runOne(secret, dir, delay, lock) {
  return new Promise((resolve) => {
    const env = { ...process.env, BB_SECRET: secret, BB_DIR: dir, BB_DELAY: String(delay), BB_LOCK: lock ? '1' : '0' };
    const child = spawn(process.execPath, ['-e', CHILD], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const res = { status: null, signal: null, stderr: '', ready: null, done: null, outside: null };
    onMessages(child.stdout, (m) => {
      if (m.ready) {
        res.ready = m;
        res.outside = outsideThreads(child.pid);
        child.stdin.end('go\n');
      } else if (m.done) res.done = m;
      else if (m.error) res.error = m.error;
    });
    child.stderr.on('data', (d) => { res.stderr += d; });
    child.stdin.on('error', () => {});
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      res.status = status;
      res.signal = signal;
      resolve(res);
    });
  });
}

test(`${RUNS} lockdowns in fresh processes while threads are being created: no thread is left without the filter or Landlock`, { skip, timeout: Math.max(120000, RUNS * 1000) }, async (t) => {
  const granted = tempDir('bb-stress-ok-');
  const other = tempDir('bb-stress-secret-');
  try {
    const secret = path.join(other.dir, 'secret');
    fs.writeFileSync(secret, 'TOKEN');

    // Control: without lockdown the same child shows unfiltered threads, and
    // the racers and the Workers read the secret — so the checks below can fail.
    const control = await runOne(secret, granted.dir, 3, false);
    assert.equal(control.status, 0, control.stderr);
    assert.ok(control.outside.length > 5 && control.outside.every((x) => x.seccomp === 0), 'control: threads are unfiltered');
    assert.ok(control.done.racers.successesAfterMark > 0, 'control: racers read the secret');
    assert.ok(control.ready.reads.every((r) => r === 'READ'), `control: workers read the secret: ${control.ready.reads}`);

    const t0 = Date.now();
    const sum = { runs: 0, threadsOutside: 0, threadsInside: 0, racerThreads: 0, racerAttempts: 0, workerReads: 0, minThreads: Infinity, maxThreads: 0 };
    let next = 0;
    const failures = [];
    async function lane() {
      while (next < RUNS) {
        const i = next++;
        const r = await runOne(secret, granted.dir, i % 7, true); // vary where lockdown() falls in the Workers' start-up
        const bad = [];
        if (r.status !== 0) bad.push(`exit ${r.status}/${r.signal}: ${r.error ?? ''} ${r.stderr.slice(0, 500)}`);
        else {
          const { layers, reads, inside } = r.ready;
          if (!layers || !layers.seccomp || !(layers.landlock >= 1)) bad.push(`layers ${JSON.stringify(layers)}`);
          for (const th of r.outside ?? []) if (th.seccomp !== 2 || th.nnp !== 1) bad.push(`outside: thread ${th.tid} (${th.name}) Seccomp ${th.seccomp} NoNewPrivs ${th.nnp}`);
          for (const th of inside) if (th.seccomp !== 2 || th.nnp !== 1) bad.push(`inside: thread ${th.tid} (${th.name}) Seccomp ${th.seccomp} NoNewPrivs ${th.nnp}`);
          if (!r.outside || r.outside.length < 8) bad.push(`only ${r.outside && r.outside.length} threads seen from outside`);
          if (reads.length !== 5 || reads.some((x) => x === 'READ' || x === 'no answer')) bad.push(`worker reads: ${reads}`);
          if (r.done.racers.successesAfterMark !== 0) bad.push(`${r.done.racers.successesAfterMark} racer opens after lockdown succeeded`);
          sum.threadsOutside += r.outside.length;
          sum.threadsInside += inside.length;
          sum.minThreads = Math.min(sum.minThreads, r.outside.length);
          sum.maxThreads = Math.max(sum.maxThreads, r.outside.length);
          sum.racerThreads += r.done.racers.threadsCreated;
          sum.racerAttempts += r.done.racers.attempts;
          sum.workerReads += reads.length;
        }
        sum.runs++;
        if (bad.length) failures.push(`run ${i}: ${bad.slice(0, 5).join('; ')}`);
      }
    }
    await Promise.all(Array.from({ length: PARALLEL }, lane));
    const secs = (Date.now() - t0) / 1000;
    t.diagnostic(`${sum.runs} lockdowns in ${secs.toFixed(1)} s (${PARALLEL} at a time): ${sum.threadsOutside} thread states read from outside (${sum.minThreads}-${sum.maxThreads} per process), ${sum.threadsInside} from inside, ${sum.racerThreads} racer threads created, ${sum.racerAttempts} racer opens, ${sum.workerReads} Worker reads — ${failures.length} failing runs`);
    assert.deepEqual(failures, []);
    assert.equal(sum.runs, RUNS);
    assert.ok(sum.racerThreads > RUNS, `racer threads were really created (${sum.racerThreads})`);
  } finally {
    granted.cleanup();
    other.cleanup();
  }
});
