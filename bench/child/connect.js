'use strict';
// connect workload child: node bench/child/connect.js <variant> <port> <n> <warmup> <chunks>
// Sequential: net.connect → 'connect' → destroy, n times, to 127.0.0.1:<port> only, timed in
// `chunks` consecutive chunks. Prints { overallPerSec (all n / their time), bestPerSec (the
// fastest chunk), maxMs (the slowest single connect, to spot SYN retransmits) }.
const net = require('node:net');
const { apply, chunked, seccompMode } = require('./variant');

const [variant, portS, nS, warmS, chunksS] = process.argv.slice(2);
const port = Number(portS);
const info = apply(variant, { net: { connect: [`127.0.0.1:${port}`] } });

function once() {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(); });
    s.once('error', reject);
  });
}

let maxMs = 0;
async function loop(n) {
  const t0 = process.hrtime.bigint();
  let t = t0;
  for (let i = 0; i < n; i++) {
    await once();
    const t2 = process.hrtime.bigint();
    const ms = Number(t2 - t) / 1e6;
    if (ms > maxMs) maxMs = ms;
    t = t2;
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

(async () => {
  await loop(Number(warmS));
  maxMs = 0;
  const rate = await chunked(loop, Number(nS), Number(chunksS || 1));
  process.stdout.write(JSON.stringify({ variant, seccomp: seccompMode(), info, ...rate, maxMs }) + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
