'use strict';
// Workload 3: sequential new TCP connections to a granted loopback server that runs in a
// separate, unfiltered process (one fresh server process per round, one fresh port per
// client child). net.connect → 'connect' → destroy, N = 2000 after 200 warm-up connects, timed
// in 10 chunks of 200: the verdict uses all 2000 (calls / time); the ratio of each child's
// fastest chunk is kept in the JSON (bestChunkRatioMedian). Client and server are pinned to
// two different CPUs where possible (same for every variant).
//   locked: lockdown({ net: { connect: ['127.0.0.1:PORT'] } }) vs plain; guard: the same policy
//   through guard() (JS guard alone); filter: that policy's compiled seccomp program alone;
//   landlock: its compiled Landlock ruleset alone (main thread, where connect() runs);
//   allow-all: seccomp `ret ALLOW` alone.
const { runChild, startServer, rotate, stats, row, pinPair } = require('./lib');

async function run({ quick }) {
  const rounds = quick ? 3 : 9;
  const N = 2000;
  const pin = pinPair() || { client: null, server: null };
  const variants = ['plain', 'locked', 'guard', 'filter', 'landlock', 'allow-all'];
  const ratio = { locked: [], guard: [], filter: [], landlock: [], 'allow-all': [] };
  const best = { locked: [], guard: [], filter: [], landlock: [], 'allow-all': [] };
  const maxMs = [];
  const plainUs = [];
  for (let i = 0; i < rounds; i++) {
    const srv = await startServer('tcp-server.js', ['60000', String(variants.length)], { lifetime: 70000, pin: pin.server });
    try {
      const got = {};
      for (const [k, v] of rotate(variants, i).entries()) {
        const r = runChild('connect.js', [v, String(srv.info.ports[k]), String(N), '200', '10'], { timeout: 60000, pin: pin.client });
        if (['locked', 'filter', 'allow-all'].includes(v) !== (r.seccomp === 2)) throw new Error(`connect ${v}: Seccomp mode ${r.seccomp}`);
        got[v] = r;
        maxMs.push(r.maxMs);
      }
      plainUs.push(1e6 / got.plain.overallPerSec);
      for (const v of ['locked', 'guard', 'filter', 'landlock', 'allow-all']) {
        ratio[v].push(got[v].overallPerSec / got.plain.overallPerSec);
        best[v].push(got[v].bestPerSec / got.plain.bestPerSec);
      }
    } finally {
      await srv.stop();
    }
  }
  const rows = [
    row('net.connect ×2000', 'locked / plain', 'connects/s ratio', stats(ratio.locked), { text: '≥ 0.98', min: 0.98 }),
    row('net.connect ×2000', 'guard only / plain', 'connects/s ratio', stats(ratio.guard), { text: '≥ 0.98', min: 0.98 }),
    row('net.connect ×2000', 'filter only / plain', 'connects/s ratio', stats(ratio.filter), null),
    row('net.connect ×2000', 'Landlock only / plain', 'connects/s ratio', stats(ratio.landlock), null),
    row('net.connect ×2000', 'allow-all / plain', 'connects/s ratio', stats(ratio['allow-all']), null),
  ];
  const bestMedian = Object.fromEntries(Object.entries(best).map(([v, xs]) => [v, stats(xs).median]));
  return { rows, extra: { rounds, N, chunks: 10, pinned: pin.client !== null, plainUsPerOp: stats(plainUs).median, bestChunkRatioMedian: bestMedian, slowestConnectMs: Math.max(...maxMs) } };
}

module.exports = { run, name: 'connect' };
