'use strict';
// spawn workload child: node bench/child/spawn.js <variant> <n> <warmup> <chunks>
// spawnSync('/usr/bin/true') n times, timed in `chunks` chunks. Prints { overallPerSec (all n
// / their time), bestPerSec (the fastest chunk) }.
const { spawnSync } = require('node:child_process');
const { apply, seccompMode } = require('./variant');

const [variant, nS, warmS, chunksS] = process.argv.slice(2);
const info = apply(variant, { childProcess: ['/usr/bin/true'] });

function loop(n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = spawnSync('/usr/bin/true');
    if (r.status !== 0) throw new Error(`true exited ${r.status} ${r.error && r.error.message}`);
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
loop(Number(warmS));
const n = Number(nS);
const chunks = Number(chunksS || 1);
const per = Math.ceil(n / chunks);
let total = 0;
let best = 0;
for (let k = 0; k < chunks; k++) {
  const s = loop(per);
  total += s;
  best = Math.max(best, per / s);
}
process.stdout.write(JSON.stringify({ variant, seccomp: seccompMode(), info, bestPerSec: best, overallPerSec: (per * chunks) / total }) + '\n');
