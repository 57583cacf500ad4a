'use strict';
// Workload 8 (+7): start-up wall time, interleaved spawnSync timing (20 rounds; --quick 10):
//   plain      node -e 0
//   builtins   node -e "require('net'); …"                  (only the Node modules the JS layer
//              patches and must load to do so: the floor under 'require' and 'register')
//   require    node -e "require(ROOT)"                      (loading the package only)
//   locked     node -e "require(ROOT).lockdown(fullPolicy)"
//   register   node --require blackbox-native/register -e 0  (BLACKBOX_POLICY = the full policy)
//   run        blackbox run --policy full.json -- node -e 0   (the CLI: launcher + preload)
//   node-perm  node --permission --allow-fs-read=* -e 0     (where the flag exists)
// Ratio per round: plain time / variant time (≥ 1 is "no slower").
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT, fullPolicy, rotate, stats, row, nodePermissionFlag } = require('./lib');

// What `require(ROOT)` loads of Node's own modules beyond `node -e 0` (process.moduleLoadList,
// Node 20): the guards patch them, so they must be loaded before the app's first line.
const PATCHED_BUILTINS = ['net', 'dns', 'dgram', 'fs/promises', 'child_process', 'worker_threads', 'diagnostics_channel', 'vm', 'os'];

function run({ quick }) {
  const rounds = quick ? 10 : 20;
  const policyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bb-bench-')), 'full.json');
  fs.writeFileSync(policyFile, JSON.stringify(fullPolicy()));
  const perm = nodePermissionFlag();
  const R = JSON.stringify(ROOT);
  const argv = {
    plain: ['-e', '0'],
    builtins: ['-e', `for (const m of ${JSON.stringify(PATCHED_BUILTINS)}) require(m)`],
    require: ['-e', `require(${R})`],
    locked: ['-e', `require(${R}).lockdown(${JSON.stringify(fullPolicy())})`],
    register: ['--require', path.join(ROOT, 'dist', 'register.js'), '-e', '0'],
    run: [path.join(ROOT, 'bin', 'blackbox.js'), 'run', '--policy', policyFile, '--', process.execPath, '-e', '0'],
  };
  const env = { register: { ...process.env, BLACKBOX_POLICY: JSON.stringify(fullPolicy()) } };
  if (perm) argv['node-perm'] = [perm, '--allow-fs-read=*', '-e', '0'];
  const variants = Object.keys(argv);
  const time = (v) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, argv[v], { cwd: ROOT, env: env[v] ?? process.env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20000 });
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
    row('start-up node -e', 'patched builtins only: plain / variant', 'time ratio', ratio('builtins'), null),
    row('start-up node -e', 'require only: plain / variant', 'time ratio', ratio('require'), null),
    row('start-up node -e', 'lockdown(full): plain / variant', 'time ratio', ratio('locked'), null),
    row('start-up node -e', '--require register (full): plain / variant', 'time ratio', ratio('register'), { text: '≥ 0.952 (time ≤ 1.05×)', min: 1 / 1.05 }),
    row('start-up node -e', 'blackbox run (full): plain / variant', 'time ratio', ratio('run'), { text: '≥ 0.8 (time ≤ 1.25×)', min: 1 / 1.25 }),
  ];
  if (perm) rows.push(row('start-up node -e', 'node --permission: plain / variant', 'time ratio', ratio('node-perm'), null));
  else rows.push({ workload: 'start-up node -e', variant: 'node --permission', skipped: 'no --permission flag in this node' });
  const extra = { rounds, msMedian: Object.fromEntries(variants.map((v) => [v, stats(ms[v]).median])) };
  extra.lockdownAddsMs = stats(ms.locked.map((x, k) => x - ms.plain[k])).median;
  extra.runAddsMs = stats(ms.run.map((x, k) => x - ms.plain[k])).median;
  extra.builtinsAddMs = stats(ms.builtins.map((x, k) => x - ms.plain[k])).median;
  extra.requireAddsMs = stats(ms.require.map((x, k) => x - ms.plain[k])).median;
  extra.registerAddsMs = stats(ms.register.map((x, k) => x - ms.plain[k])).median;
  fs.rmSync(path.dirname(policyFile), { recursive: true, force: true });
  return { rows, extra };
}

module.exports = { run, name: 'startup' };
