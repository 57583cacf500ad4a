'use strict';
// Workload 3b: UDP datagrams to a granted loopback sink in a separate, unfiltered process.
// dgram.send of 64 bytes, one at a time (each after the previous one's callback), N = 10000
// after 1000 warm-up sends, timed in 10 chunks. Under a per-host allow-list every send is a
// sendmsg that names its destination, which BPF cannot read: each one is a round trip to the
// connect supervisor, which sends it itself. No target: the ratio is reported as measured.
const { runChild, startServer, rotate, stats, row, pinPair } = require('./lib');

async function run({ quick }) {
  const rounds = quick ? 3 : 7;
  const N = 10000;
  const pin = pinPair() || { client: null, server: null };
  const variants = ['plain', 'locked'];
  const ratio = [];
  const best = [];
  const plainUs = [];
  const lockedUs = [];
  const delivered = [];
  for (let i = 0; i < rounds; i++) {
    const srv = await startServer('udp-server.js', ['120000', String(variants.length)], { lifetime: 130000, pin: pin.server });
    const got = {};
    try {
      for (const [k, v] of rotate(variants, i).entries()) {
        const r = runChild('udp.js', [v, String(srv.info.ports[k]), String(N), '1000', '10'], { timeout: 60000, pin: pin.client });
        if ((v === 'locked') !== (r.seccomp === 2)) throw new Error(`udp ${v}: Seccomp mode ${r.seccomp}`);
        if (v === 'locked' && process.platform === 'linux' && !(r.info.layers && r.info.layers.netSupervisor)) throw new Error('udp locked: the connect supervisor is not active');
        got[v] = r;
      }
    } finally {
      await srv.stop();
    }
    plainUs.push(1e6 / got.plain.overallPerSec);
    lockedUs.push(1e6 / got.locked.overallPerSec);
    ratio.push(got.locked.overallPerSec / got.plain.overallPerSec);
    best.push(got.locked.bestPerSec / got.plain.bestPerSec);
  }
  return {
    rows: [row(`dgram.send 64 B ×${N / 1000}k`, 'locked (supervisor) / plain', 'sends/s ratio', stats(ratio), null)],
    extra: { rounds, N, pinned: pin.client !== null, plainUsPerOp: stats(plainUs).median, lockedUsPerOp: stats(lockedUs).median, bestChunkRatioMedian: stats(best).median },
  };
}

module.exports = { run, name: 'udp' };
