'use strict';
// Workload 4: spawnSync('/usr/bin/true') ×300 (after 20 warm-up spawns), timed in 10 chunks
// of 30 (verdict: all 300, calls / time; each child's fastest chunk is kept in the JSON).
//   locked: lockdown({ childProcess: ['/usr/bin/true'] }) vs plain; allow-all separates what
//   any filter costs (the child inherits it: every syscall of fork, exec and ld.so pays);
//   guard: the same policy through guard() (JS guard alone); filter / landlock: that policy's
//   compiled seccomp program / Landlock ruleset alone (spawnSync forks from the main thread,
//   so a main-thread ruleset covers it).
const { runChild, rotate, stats, row } = require('./lib');

function run({ quick }) {
  const rounds = quick ? 3 : 7;
  const N = 300;
  const variants = ['plain', 'locked', 'guard', 'filter', 'landlock', 'allow-all'];
  const others = variants.slice(1);
  const ratio = Object.fromEntries(others.map((v) => [v, []]));
  const best = Object.fromEntries(others.map((v) => [v, []]));
  const plainUs = [];
  for (let i = 0; i < rounds; i++) {
    const got = {};
    for (const v of rotate(variants, i)) {
      const r = runChild('spawn.js', [v, String(N), '20', '10'], { timeout: 60000 });
      if (['locked', 'filter', 'allow-all'].includes(v) !== (r.seccomp === 2)) throw new Error(`spawn ${v}: Seccomp mode ${r.seccomp}`);
      got[v] = r;
    }
    plainUs.push(1e6 / got.plain.overallPerSec);
    for (const v of others) {
      ratio[v].push(got[v].overallPerSec / got.plain.overallPerSec);
      best[v].push(got[v].bestPerSec / got.plain.bestPerSec);
    }
  }
  return {
    rows: [
      row('spawnSync true ×300', 'locked / plain', 'spawns/s ratio', stats(ratio.locked), { text: '≥ 0.95', min: 0.95 }),
      row('spawnSync true ×300', 'guard only / plain', 'spawns/s ratio', stats(ratio.guard), null),
      row('spawnSync true ×300', 'filter only / plain', 'spawns/s ratio', stats(ratio.filter), null),
      row('spawnSync true ×300', 'Landlock only / plain', 'spawns/s ratio', stats(ratio.landlock), null),
      row('spawnSync true ×300', 'allow-all / plain', 'spawns/s ratio', stats(ratio['allow-all']), null),
    ],
    extra: { rounds, N, chunks: 10, plainUsPerOp: stats(plainUs).median, bestChunkRatioMedian: Object.fromEntries(Object.entries(best).map(([v, xs]) => [v, stats(xs).median])) },
  };
}

module.exports = { run, name: 'spawn' };
