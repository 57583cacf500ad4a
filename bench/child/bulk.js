'use strict';
// bulk workload child: node bench/child/bulk.js <variant> <port> <mib> <warmupMib>
// ONE established connection to 127.0.0.1:<port> (the supervisor, when active, saw only its
// connect), then <mib> MiB written in 64 KiB chunks and the write side ended; timed until the
// server (it drains, and ends when we end) closes. Prints { mibPerSec }. A warm-up connection
// first moves <warmupMib> MiB the same way.
const net = require('node:net');
const { apply, seccompMode } = require('./variant');

const [variant, portS, mibS, warmS] = process.argv.slice(2);
const port = Number(portS);
const info = apply(variant, { net: { connect: [`127.0.0.1:${port}`] } });
const chunk = Buffer.alloc(64 * 1024, 0x61);

function transfer(mib) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('error', reject);
    s.once('connect', () => {
      const t0 = process.hrtime.bigint();
      let left = mib * 16;
      const pump = () => {
        while (left > 0) {
          left--;
          if (!s.write(chunk)) return s.once('drain', pump);
        }
        s.end();
      };
      s.once('close', () => resolve(Number(process.hrtime.bigint() - t0) / 1e9));
      s.resume();
      pump();
    });
  });
}

(async () => {
  await transfer(Number(warmS));
  const mib = Number(mibS);
  const secs = await transfer(mib);
  process.stdout.write(JSON.stringify({ variant, seccomp: seccompMode(), info, mibPerSec: mib / secs }) + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
