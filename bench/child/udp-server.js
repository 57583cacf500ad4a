'use strict';
// Unfiltered loopback UDP sink for the udp workload: counts datagrams on argv[3] ports (one per
// client child). Prints {"ports":[…]}; on stdin end prints {"received":[…]} and exits; killed
// by its lifetime (argv[2] ms) otherwise.
const dgram = require('node:dgram');
const lifetime = Number(process.argv[2] || 120000);
const count = Number(process.argv[3] || 1);
const socks = [];
const received = [];
function bind(i) {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    received[i] = 0;
    s.on('message', () => { received[i]++; });
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => { socks.push(s); resolve(s.address().port); });
  });
}
(async () => {
  const ports = [];
  for (let i = 0; i < count; i++) ports.push(await bind(i));
  process.stdout.write(JSON.stringify({ ports }) + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
const stop = () => { for (const s of socks) s.close(); process.exit(0); };
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
setTimeout(() => process.exit(3), lifetime);
