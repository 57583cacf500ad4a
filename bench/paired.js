'use strict';
// Workload 9: the JS guards' own cost on the hot paths (fs.readFileSync, net.connect to a
// granted host), measured PAIRED in one process (bench/child/paired.js): Node's original
// function (captured before guard()) and the guarded one alternate, each from a call site of
// its own, nothing swapped in and out (that deopts Node's code and would charge the guarded
// side for the measurement), so the ratio is not swamped by the
// ±10 % that separates one fresh node process from the next on this VM (the "guard only"
// rows of the fs and connect workloads, which compare processes, show that spread). Each
// round runs one child for the real pairing and one A/A control whose both sides are Node's
// originals: the control shows what the method resolves (≈ 1.00 when it is sound).
// Verdict: median over rounds of each child's ratio (plain time / guarded time per call; ≥ 1
// is "no slower"). Loopback only: one bounded server process per round.
const fs = require('node:fs');
const path = require('node:path');
const { runChild, startServer, stats, row, pinPair, scratchDir } = require('./lib');

async function run({ quick }) {
  const rounds = quick ? 3 : 7;
  const dir = scratchDir();
  const writeDir = path.join(dir, 'paired-write');
  fs.mkdirSync(writeDir, { recursive: true });
  const file = path.join(dir, 'paired-small.txt');
  fs.writeFileSync(file, 'x'.repeat(256));
  const pin = pinPair() || { client: null, server: null };
  const got = { real: { readFileSync: [], connect: [] }, control: { readFileSync: [], connect: [] } };
  const plainUs = { readFileSync: [], connect: [] };
  for (let i = 0; i < rounds; i++) {
    const srv = await startServer('tcp-server.js', ['120000', '2'], { lifetime: 130000, pin: pin.server });
    try {
      const order = i % 2 ? ['control', 'real'] : ['real', 'control'];
      for (const [k, kind] of order.entries()) {
        const cfg = { file, writeDir, port: srv.info.ports[k], pairs: quick ? 10 : 40, readN: 2000, connectN: quick ? 500 : 3000, control: kind === 'control' };
        const r = runChild('paired.js', [JSON.stringify(cfg)], { timeout: 120000, pin: pin.client });
        for (const op of ['readFileSync', 'connect']) {
          got[kind][op].push(r.ops[op].pairMedian);
          if (kind === 'real') plainUs[op].push(r.ops[op].plainUs);
        }
      }
    } finally {
      await srv.stop();
    }
  }
  const target = { text: '≥ 0.98', min: 0.98 };
  const rows = [
    row('fs readFileSync', 'guard only, paired in one process / plain', 'time ratio', stats(got.real.readFileSync), target),
    row('fs readFileSync', 'A/A control of the pairing', 'time ratio', stats(got.control.readFileSync), null),
    row('net.connect', 'guard only, paired in one process / plain', 'time ratio', stats(got.real.connect), target),
    row('net.connect', 'A/A control of the pairing', 'time ratio', stats(got.control.connect), null),
  ];
  return { rows, extra: { rounds, pinned: pin.client !== null, plainUsPerCall: { readFileSync: stats(plainUs.readFileSync).median, connect: stats(plainUs.connect).median } } };
}

module.exports = { run, name: 'paired' };
