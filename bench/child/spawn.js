'use strict';
// spawn workload child: node bench/child/spawn.js <variant> <n> <warmup> <chunks>
// spawnSync('/usr/bin/true') n times, timed in `chunks` chunks. Prints { overallPerSec (all n
// / their time), bestPerSec (the fastest chunk) }.
const { spawnSync } = require('node:child_process');
const { apply, chunked, seccompMode } = require('./variant');

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
chunked(loop, Number(nS), Number(chunksS || 1)).then((rate) => {
  process.stdout.write(JSON.stringify({ variant, seccomp: seccompMode(), info, ...rate }) + '\n');
});
