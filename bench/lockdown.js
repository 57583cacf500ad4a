'use strict';
// Cost of lockdown() itself in a running process, for a full policy (every
// capability restricted, read and write lists, ports): each sample is a fresh
// node that starts the threadpool and a few Workers' worth of threads, then
// times lockdown(). Reports median and min-max in ms (the brief's target is absolute:
// < 10 ms). Runs no network code.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const os = require('node:os');

const ROOT = path.join(__dirname, '..');

const child = `
const bb = require(${JSON.stringify(ROOT)});
const fs = require('fs');
fs.stat(__filename, () => {});
const policy = {
  net: { connect: [':5432', ':6379'], listen: ['127.0.0.1:0'] },
  fs: { read: ['$CWD', ${JSON.stringify(os.tmpdir())}], write: [${JSON.stringify(os.tmpdir())}] },
  childProcess: ['/usr/bin/true'],
  addons: false,
};
const t0 = process.hrtime.bigint();
const report = bb.lockdown(policy);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(JSON.stringify({ ms, seccomp: report.layers.seccomp, landlock: report.layers.landlock }));
`;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function run({ quick = process.argv.includes('--quick') } = {}) {
  const N = quick ? 5 : 21;
  const samples = [];
  for (let i = 0; i < N; i++) {
    const r = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', cwd: ROOT, timeout: 20000 });
    if (r.status !== 0) throw new Error(`sample failed: ${r.stderr}`);
    const o = JSON.parse(r.stdout);
    if (!o.seccomp || !o.landlock) throw new Error('lockdown did not install both layers');
    samples.push(o.ms);
  }
  const m = median(samples);
  return {
    name: 'lockdown() full policy', unit: 'ms', median: m, min: Math.min(...samples), max: Math.max(...samples), n: N, target: '< 10 ms',
    rows: [{ workload: 'lockdown() cost', variant: 'full policy, in a running process', metric: 'ms', median: m, min: Math.min(...samples), max: Math.max(...samples), n: N, samples, target: '< 10 ms', pass: m < 10, unit: 'ms' }],
  };
}

if (require.main === module) {
  const r = run();
  console.log(`${r.name}: median ${r.median.toFixed(2)} ms (min ${r.min.toFixed(2)}, max ${r.max.toFixed(2)}, n=${r.n}) — target ${r.target}`);
  console.log(JSON.stringify(r));
}
module.exports = { run };
