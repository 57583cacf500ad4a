'use strict';
// Unfiltered loopback TCP server for the connect workload: accepts, drains, closes when the
// peer does. Listens on argv[3] ports (default 1), one per client child, so that no client
// meets the close states of another's connections. Prints {"ports":[…]}; ends when stdin
// closes, or after its lifetime (argv[2] ms).
// The port is picked below the ephemeral range (32768+): thousands of short connections
// leave client ports in TIME_WAIT, and a listener on one of those numbers can meet a stale
// reversed 4-tuple, which costs a 1 s SYN retransmission.
const net = require('node:net');
const lifetime = Number(process.argv[2] || 120000);
const count = Number(process.argv[3] || 1);
const servers = [];
function onConn(s) {
  s.on('error', () => {});
  s.resume();
  s.on('end', () => s.end());
}
function listen(tries = 0) {
  return new Promise((resolve, reject) => {
    const server = net.createServer(onConn);
    const port = 20000 + Math.floor(Math.random() * 12000);
    server.once('error', (e) => {
      if (e.code === 'EADDRINUSE' && tries < 50) return resolve(listen(tries + 1));
      reject(e);
    });
    // backlog above N: the kernel completes handshakes before accept(); a server that falls
    // behind must not overflow the accept queue (a dropped SYN costs the client 1 s).
    server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
      server.removeAllListeners('error');
      servers.push(server);
      resolve(server.address().port);
    });
  });
}
(async () => {
  const ports = [];
  for (let i = 0; i < count; i++) ports.push(await listen());
  process.stdout.write(JSON.stringify({ ports }) + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
const stop = () => { for (const s of servers) s.close(); process.exit(0); };
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
setTimeout(() => process.exit(3), lifetime);
