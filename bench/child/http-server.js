'use strict';
// http workload child: node bench/child/http-server.js <variant> <lifetime-ms>
// An http server on 127.0.0.1 (ephemeral port) answering "ok"; prints {"port":N}; ends when
// stdin closes, or after its lifetime.
const http = require('node:http');
const { apply, seccompMode } = require('./variant');

const [variant, lifeS] = process.argv.slice(2);
const info = apply(variant, { net: { listen: ['127.0.0.1:0'] } });
const body = Buffer.from('ok');
const server = http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end(body);
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port, seccomp: seccompMode(), info }) + '\n');
});
const stop = () => { server.close(); process.exit(0); };
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
setTimeout(() => process.exit(3), Number(lifeS || 120000));
