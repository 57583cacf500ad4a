'use strict';
// Workload 3: new TCP connections, and bytes over an established one, to a granted loopback
// server that runs in a separate, unfiltered process (one fresh server process per round, one
// fresh port per client child). Client and server are pinned to two different CPUs where
// possible (same for every variant; the supervisor inherits the client's CPU).
//   new connections: sequential net.connect → 'connect' → destroy, N = 2000 after 200 warm-up
//     connects, timed in 10 chunks of 200: the verdict uses all 2000 (calls / time); the ratio
//     of each child's fastest chunk is kept in the JSON (bestChunkRatioMedian).
//   established: one connection, 256 MiB written in 64 KiB chunks until the server's close
//     (after a 32 MiB warm-up connection): MiB/s.
// Variants: locked = lockdown({ net: { connect: ['127.0.0.1:PORT'] } }), a per-host allow-list,
//   so the connect supervisor is active (checked: layers.netSupervisor) and every connect is a
//   round trip to it; guard = the same policy through guard() (JS guard alone); landlock: its
//   compiled Landlock ruleset alone (main thread, where connect() runs); allow-all: seccomp
//   `ret ALLOW` alone. (The compiled filter alone cannot run: its connect verdict is
//   USER_NOTIF, which without the supervisor waits for an answer that never comes.)
const { runChild, startServer, rotate, stats, row, pinPair } = require('./lib');

const SECCOMP = ['locked', 'allow-all'];

function check(kind, v, r) {
  if (SECCOMP.includes(v) !== (r.seccomp === 2)) throw new Error(`${kind} ${v}: Seccomp mode ${r.seccomp}`);
  if (v === 'locked' && process.platform === 'linux' && !(r.info.layers && r.info.layers.netSupervisor)) {
    throw new Error(`${kind} locked: the connect supervisor is not active (${JSON.stringify(r.info.layers)})`);
  }
}

async function run({ quick }) {
  const rounds = quick ? 3 : 9;
  const N = 2000;
  const MIB = quick ? 128 : 256;
  const pin = pinPair() || { client: null, server: null };
  const variants = ['plain', 'locked', 'guard', 'landlock', 'allow-all'];
  const others = variants.filter((v) => v !== 'plain');
  const ratio = Object.fromEntries(others.map((v) => [v, []]));
  const best = Object.fromEntries(others.map((v) => [v, []]));
  const bulk = [];
  const maxMs = [];
  const plainUs = [];
  const lockedUs = [];
  const mibPerSec = { plain: [], locked: [] };
  for (let i = 0; i < rounds; i++) {
    const srv = await startServer('tcp-server.js', ['120000', String(variants.length + 2)], { lifetime: 130000, pin: pin.server });
    try {
      const got = {};
      for (const [k, v] of rotate(variants, i).entries()) {
        const r = runChild('connect.js', [v, String(srv.info.ports[k]), String(N), '200', '10'], { timeout: 60000, pin: pin.client });
        check('connect', v, r);
        got[v] = r;
        maxMs.push(r.maxMs);
      }
      plainUs.push(1e6 / got.plain.overallPerSec);
      lockedUs.push(1e6 / got.locked.overallPerSec);
      for (const v of others) {
        ratio[v].push(got[v].overallPerSec / got.plain.overallPerSec);
        best[v].push(got[v].bestPerSec / got.plain.bestPerSec);
      }
      const b = {};
      for (const [k, v] of rotate(['plain', 'locked'], i).entries()) {
        const r = runChild('bulk.js', [v, String(srv.info.ports[variants.length + k]), String(MIB), '32'], { timeout: 60000, pin: pin.client });
        check('bulk', v, r);
        b[v] = r.mibPerSec;
        mibPerSec[v].push(r.mibPerSec);
      }
      bulk.push(b.locked / b.plain);
    } finally {
      await srv.stop();
    }
  }
  const rows = [
    row('net.connect ×2000', 'locked (supervisor) / plain', 'connects/s ratio', stats(ratio.locked), { text: '≥ 0.8', min: 0.8 }),
    row('net.connect ×2000', 'guard only / plain (across processes; verdict: paired)', 'connects/s ratio', stats(ratio.guard), null),
    row('net.connect ×2000', 'Landlock only / plain', 'connects/s ratio', stats(ratio.landlock), null),
    row('net.connect ×2000', 'allow-all / plain', 'connects/s ratio', stats(ratio['allow-all']), null),
    row(`tcp established ${MIB} MiB`, 'locked (supervisor) / plain', 'MiB/s ratio', stats(bulk), { text: '≥ 0.98', min: 0.98 }),
  ];
  const bestMedian = Object.fromEntries(Object.entries(best).map(([v, xs]) => [v, stats(xs).median]));
  return {
    rows,
    extra: {
      rounds, N, chunks: 10, pinned: pin.client !== null,
      plainUsPerOp: stats(plainUs).median, lockedUsPerOp: stats(lockedUs).median,
      bestChunkRatioMedian: bestMedian, slowestConnectMs: Math.max(...maxMs),
      bulkMiB: MIB, bulkMibPerSecMedian: { plain: stats(mibPerSec.plain).median, locked: stats(mibPerSec.locked).median },
    },
  };
}

module.exports = { run, name: 'connect' };
