'use strict';
// udp workload child: node bench/child/udp.js <variant> <port> <n> <warmup> <chunks>
// dgram.send of 64-byte datagrams to 127.0.0.1:<port>, one at a time (the next after the
// previous one's callback), timed in `chunks` chunks. Under the supervisor every send is a
// sendmsg with a destination, so each one is a round trip to it. Prints { overallPerSec,
// bestPerSec }.
const dgram = require('node:dgram');
const { apply, chunked, seccompMode } = require('./variant');

const [variant, portS, nS, warmS, chunksS] = process.argv.slice(2);
const port = Number(portS);
const info = apply(variant, { net: { connect: [`127.0.0.1:${port}`] } });
const sock = dgram.createSocket('udp4');
const msg = Buffer.alloc(64, 0x62);

function send() {
  return new Promise((resolve, reject) => sock.send(msg, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
}

async function loop(n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await send();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

(async () => {
  await loop(Number(warmS));
  const rate = await chunked(loop, Number(nS), Number(chunksS || 1));
  sock.close();
  process.stdout.write(JSON.stringify({ variant, seccomp: seccompMode(), info, ...rate }) + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
