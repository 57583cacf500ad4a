'use strict';
// Workload 8 (+7): start-up wall time, interleaved spawnSync timing (20 rounds; --quick 10):
//   plain      node -e 0
//   require    node -e "require(ROOT)"                      (loading the package only)
//   locked     node -e "require(ROOT).lockdown(fullPolicy)"
//   node-perm  node --permission --allow-fs-read=* -e 0     (where the flag exists)
// Ratio per round: plain time / variant time (≥ 1 is "no slower").
const { spawnSync } = require('node:child_process');
const { ROOT, fullPolicy, rotate, stats, row, nodePermissionFlag } = require('./lib');

function run({ quick }) {
  const rounds = quick ? 10 : 20;
  const perm = nodePermissionFlag();
  const R = JSON.stringify(ROOT);
  const argv = {
    plain: ['-e', '0'],
    require: ['-e', `require(${R})`],
    locked: ['-e', `require(${R}).lockdown(${JSON.stringify(fullPolicy())})`],
  };
  if (perm) argv['node-perm'] = [perm, '--allow-fs-read=*', '-e', '0'];
  const variants = Object.keys(argv);
  const time = (v) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, argv[v], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20000 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`startup ${v}: exit ${r.status ?? r.signal}: ${r.stderr}`);
    return ms;
  };
  for (const v of variants) time(v); // warm the page cache
  const ms = {};
  for (const v of variants) ms[v] = [];
  for (let i = 0; i < rounds; i++) for (const v of rotate(variants, i)) ms[v].push(time(v));
  const ratio = (v) => stats(ms.plain.map((p, k) => p / ms[v][k]));
  const rows = [
    row('start-up node -e', 'require only: plain / variant', 'time ratio', ratio('require'), null),
    row('start-up node -e', 'lockdown(full): plain / variant', 'time ratio', ratio('locked'), null),
  ];
  if (perm) rows.push(row('start-up node -e', 'node --permission: plain / variant', 'time ratio', ratio('node-perm'), null));
  else rows.push({ workload: 'start-up node -e', variant: 'node --permission', skipped: 'no --permission flag in this node' });
  const extra = { rounds, msMedian: Object.fromEntries(variants.map((v) => [v, stats(ms[v]).median])) };
  extra.lockdownAddsMs = stats(ms.locked.map((x, k) => x - ms.plain[k])).median;
  return { rows, extra };
}

module.exports = { run, name: 'startup' };
