'use strict';
// Workload 5: an http server on 127.0.0.1 in a fresh child per variant (locked:
// lockdown({ net: { listen: ['127.0.0.1:0'] } })), loaded from the bench runner by a bounded
// keep-alive generator (bench/loadgen.js): a warm-up, then a fixed number of requests over a
// fixed number of connections. Reports the requests/s ratio (all requests / their time; the
// ratio of each run's fastest tenth of the responses is in the JSON) and the p99-latency ratio.
const { startServer, rotate, stats, row } = require('./lib');
const { load } = require('./loadgen');

async function run({ quick }) {
  const rounds = quick ? 3 : 7;
  const requests = quick ? 10000 : 20000;
  const connections = 8;
  const variants = ['plain', 'locked'];
  const rps = [];
  const rpsBest = [];
  const p99 = [];
  const p99ms = { plain: [], locked: [] };
  for (let i = 0; i < rounds; i++) {
    const got = {};
    for (const v of rotate(variants, i)) {
      const srv = await startServer('http-server.js', [v, '60000'], { lifetime: 70000 });
      try {
        if ((v !== 'plain') !== (srv.info.seccomp === 2)) throw new Error(`http ${v}: Seccomp mode ${srv.info.seccomp}`);
        await load({ port: srv.info.port, requests: 3000, connections });
        got[v] = await load({ port: srv.info.port, requests, connections });
      } finally {
        await srv.stop();
      }
      p99ms[v].push(got[v].p99);
    }
    rps.push(got.locked.rps / got.plain.rps);
    rpsBest.push(got.locked.bestRps / got.plain.bestRps);
    p99.push(got.plain.p99 / got.locked.p99);
  }
  return {
    rows: [
      row(`http keep-alive ×${requests / 1000}k c=${connections}`, 'locked / plain', 'req/s ratio', stats(rps), { text: '≥ 0.98', min: 0.98 }),
      row(`http keep-alive ×${requests / 1000}k c=${connections}`, 'plain p99 / locked p99', 'p99 ratio', stats(p99), null),
    ],
    extra: { rounds, requests, connections, bestWindowRpsRatioMedian: stats(rpsBest).median, p99msMedian: { plain: stats(p99ms.plain).median, locked: stats(p99ms.locked).median } },
  };
}

module.exports = { run, name: 'http' };
