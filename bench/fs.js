'use strict';
// Workload 2 (+7): fs hot paths. Each round runs one fresh child per variant, in rotated
// order; per round, each variant's throughput (all timed calls / their time) is divided by
// plain's from the same round. The same ratios from each child's fastest chunk are in the
// JSON (bestChunkRatioMedian).
//   plain / locked (lockdown({ fs: { write: [tmpdir] } }), JS guards active) /
//   guard (the same policy through guard(): JS guards only) /
//   filter (the compiled seccomp program of that policy alone: no Landlock, no guards) /
//   landlock (the compiled Landlock ruleset alone, main thread only: sync rows only) /
//   allow-all (seccomp `ret ALLOW` on every thread) / node-perm (Node's --permission)
const fs = require('node:fs');
const path = require('node:path');
const { runChild, rotate, stats, row, nodePermissionFlag, scratchDir } = require('./lib');

const OPS = ['statSync', 'readFileSync', 'promises.readFile'];

function run({ quick }) {
  const dir = scratchDir();
  const writeDir = path.join(dir, 'fs-write');
  fs.mkdirSync(writeDir, { recursive: true });
  const file = path.join(dir, 'small.txt');
  fs.writeFileSync(file, 'x'.repeat(256));
  const cfg = {
    file,
    writeDir,
    stat: 200000,
    read: 20000,
    // fs.promises.readFile is ~4 threadpool round trips (~75 µs here): 20k is ~1.5 s;
    // --quick runs a fifth of it.
    promises: quick ? 4000 : 20000,
    reps: quick ? 1 : 3, // passes of the sync loops (cheap: 0.15 s, 0.05 s)
    asyncReps: 1,
    chunks: 10,
    concurrency: 4,
  };
  const rounds = quick ? 3 : 5;
  const perm = nodePermissionFlag();
  const variants = ['plain', 'locked', 'guard', 'filter', 'landlock', 'allow-all'];
  if (perm) variants.push('node-perm');
  const nodeArgs = { 'node-perm': perm ? [perm, '--allow-fs-read=*', `--allow-fs-write=${writeDir}`] : [] };

  const per = {}; // per[variant][op] = [ratio per round]
  const abs = {}; // for the report: per-op times (µs) of plain, to relate to the floor
  const best = {}; // the same ratios from each child's fastest chunk
  for (const v of variants) { per[v] = {}; best[v] = {}; for (const op of OPS) { per[v][op] = []; best[v][op] = []; } }
  for (const op of OPS) abs[op] = [];
  for (let i = 0; i < rounds; i++) {
    const got = {};
    for (const v of rotate(variants, i)) {
      const r = runChild('fs.js', [v, JSON.stringify(cfg)], { nodeArgs: nodeArgs[v] || [], timeout: 120000 });
      const wantFilter = v === 'locked' || v === 'allow-all' || v === 'filter';
      if (wantFilter !== (r.seccomp === 2)) throw new Error(`fs ${v}: Seccomp mode ${r.seccomp}`);
      const wantDenied = !['plain', 'filter', 'allow-all'].includes(v); // guards, Landlock, Node's permission model
      if (wantDenied !== (r.probe !== 'allowed')) throw new Error(`fs ${v}: write outside the grant: ${r.probe}`);
      got[v] = r.ops;
    }
    for (const op of OPS) {
      abs[op].push(1e6 / got.plain[op].overall);
      for (const v of variants) {
        per[v][op].push(got[v][op].overall / got.plain[op].overall);
        best[v][op].push(got[v][op].best / got.plain[op].best);
      }
    }
  }

  const rows = [];
  for (const op of OPS) {
    const w = `fs ${op}`;
    rows.push(row(w, 'locked / plain', 'ops/s ratio', stats(per.locked[op]), { text: '≥ 0.95', min: 0.95 }));
    // readFileSync's guard verdict is the paired workload's (bench/paired.js): across processes
    // the spread is larger than the 2 % budget
    if (op === 'readFileSync') rows.push(row(w, 'guard only / plain (across processes; verdict: paired)', 'ops/s ratio', stats(per.guard[op]), null));
    else rows.push(row(w, 'guard only / plain', 'ops/s ratio', stats(per.guard[op]), { text: '≥ 0.98', min: 0.98 }));
    rows.push(row(w, 'filter only / plain', 'ops/s ratio', stats(per.filter[op]), null));
    if (op !== 'promises.readFile') rows.push(row(w, 'Landlock only / plain', 'ops/s ratio', stats(per.landlock[op]), null));
    rows.push(row(w, 'allow-all / plain', 'ops/s ratio', stats(per['allow-all'][op]), null));
    const pp = per.locked[op].map((x, k) => (x - per['allow-all'][op][k]) * 100);
    rows.push(row(w, 'locked − allow-all', 'pp of plain', stats(pp), { text: '≥ −1 pp', min: -1, unit: 'pp' }));
    if (perm) rows.push(row(w, 'node --permission / plain', 'ops/s ratio', stats(per['node-perm'][op]), null));
    else rows.push({ workload: w, variant: 'node --permission', skipped: 'no --permission flag in this node' });
  }
  const bestChunkRatioMedian = {};
  for (const v of variants) if (v !== 'plain') bestChunkRatioMedian[v] = Object.fromEntries(OPS.map((op) => [op, +stats(best[v][op]).median.toFixed(4)]));
  const extra = { rounds, cfg: { ...cfg, file: undefined, writeDir: undefined }, bestChunkRatioMedian, plainUsPerOp: Object.fromEntries(OPS.map((op) => [op, stats(abs[op]).median])) };
  return { rows, extra };
}

module.exports = { run, name: 'fs' };
