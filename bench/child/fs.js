'use strict';
// fs workload child: node bench/child/fs.js <variant> <config-json>
// config: { file, writeDir, stat, read, promises, reps (sync), asyncReps, chunks, concurrency }
// For each operation: a warm-up of n/5 calls, then `reps` passes of n calls, each timed in
// `chunks` consecutive chunks. Prints one JSON line with, per operation, `best` (ops/s of the
// fastest chunk: interference from other work on the machine only slows a chunk down, so the
// fastest one is the least disturbed estimate, for every variant alike) and `overall` (all
// timed calls / all their time).
const fs = require('node:fs');
const path = require('node:path');
const { apply, seccompMode } = require('./variant');

const variant = process.argv[2];
const cfg = JSON.parse(process.argv[3]);
const info = apply(variant, { fs: { write: [cfg.writeDir] } });

// Evidence that the variant is what it claims: creating a file next to (not inside) the write
// grant must fail under locked, guard, landlock and node-perm, and work (then be removed) under
// plain, filter and allow-all.
function writeProbe() {
  const probe = path.join(path.dirname(cfg.writeDir), `probe-${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
    fs.unlinkSync(probe);
    return 'allowed';
  } catch (e) {
    return e.code || 'error';
  }
}

function timeSync(n, fn) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function timeAsync(n, conc, fn) {
  let next = 0;
  const t0 = process.hrtime.bigint();
  async function lane() {
    while (next < n) {
      next++;
      await fn();
    }
  }
  const lanes = [];
  for (let i = 0; i < conc; i++) lanes.push(lane());
  await Promise.all(lanes);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function measure(n, reps, time) {
  await time(Math.ceil(n / 5)); // warm-up (JIT, caches, pool threads)
  const per = Math.ceil(n / cfg.chunks);
  let best = 0;
  let secs = 0;
  let calls = 0;
  for (let r = 0; r < reps; r++) {
    for (let k = 0; k < cfg.chunks; k++) {
      const s = await time(per);
      secs += s;
      calls += per;
      best = Math.max(best, per / s);
    }
  }
  return { best, overall: calls / secs };
}

async function main() {
  const file = cfg.file;
  const out = { variant, seccomp: seccompMode(), probe: writeProbe(), info, ops: {} };
  out.ops.statSync = await measure(cfg.stat, cfg.reps, async (n) => timeSync(n, () => fs.statSync(file)));
  out.ops.readFileSync = await measure(cfg.read, cfg.reps, async (n) => timeSync(n, () => fs.readFileSync(file)));
  out.ops['promises.readFile'] = await measure(cfg.promises, cfg.asyncReps, (n) => timeAsync(n, cfg.concurrency, () => fs.promises.readFile(file)));
  process.stdout.write(JSON.stringify(out) + '\n');
}
main().catch((e) => { console.error(e); process.exit(1); });
