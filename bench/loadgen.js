'use strict';
// A small bounded keep-alive HTTP/1.1 load generator (loopback only): `connections`
// persistent sockets, one request in flight on each, `requests` requests in total.
// Resolves { rps (all requests / all time), bestRps (the fastest of `windows` consecutive
// slices of the responses: interference only slows a slice), p50, p99, max (latencies, ms) }.
// Fails on any non-200 or socket error, and after `timeout` ms whatever happens.
const net = require('node:net');

function load({ port, host = '127.0.0.1', requests, connections, windows = 10, timeout = 60000 }) {
  if (host !== '127.0.0.1') throw new Error('loadgen: loopback only');
  const req = Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: keep-alive\r\n\r\n`);
  const lat = new Float64Array(requests);
  const doneAt = new Float64Array(requests); // completion time (s since t0) of the i-th response
  let sent = 0;
  let done = 0;
  return new Promise((resolve, reject) => {
    const socks = [];
    const starters = [];
    let failed = false;
    const timer = setTimeout(() => fail(new Error(`loadgen: timed out after ${done}/${requests}`)), timeout);
    function fail(e) {
      if (failed) return;
      failed = true;
      clearTimeout(timer);
      for (const s of socks) s.destroy();
      reject(e);
    }
    let t0;
    function finish() {
      clearTimeout(timer);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      for (const s of socks) s.destroy();
      const sorted = Array.from(lat).sort((a, b) => a - b);
      const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
      let bestRps = 0;
      const per = Math.floor(requests / windows);
      for (let w = 0, prev = 0; w < windows; w++) {
        const end = doneAt[(w + 1) * per - 1];
        if (end > prev) bestRps = Math.max(bestRps, per / (end - prev));
        prev = end;
      }
      resolve({ rps: requests / secs, bestRps, p50: q(0.5), p99: q(0.99), max: sorted[sorted.length - 1] });
    }
    let ready = 0;
    for (let c = 0; c < connections; c++) {
      const s = net.connect(port, host);
      socks.push(s);
      s.setNoDelay(true);
      let buf = '';
      let need = -1; // bytes of the current response still expected once its head is parsed
      let started = 0n;
      let slot = -1;
      function sendNext() {
        if (sent >= requests) return;
        slot = sent++;
        started = process.hrtime.bigint();
        s.write(req);
      }
      s.on('error', fail);
      s.on('close', () => { if (done < requests) fail(new Error('loadgen: server closed a connection')); });
      s.on('connect', () => {
        if (++ready === connections) {
          t0 = process.hrtime.bigint();
          for (const go of starters) go();
        }
      });
      starters.push(sendNext);
      s.setEncoding('latin1');
      s.on('data', (d) => {
        buf += d;
        for (;;) {
          if (need < 0) {
            const h = buf.indexOf('\r\n\r\n');
            if (h < 0) return;
            const head = buf.slice(0, h);
            if (!head.startsWith('HTTP/1.1 200')) return fail(new Error(`loadgen: ${head.split('\r\n')[0]}`));
            const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
            if (!m) return fail(new Error('loadgen: response without Content-Length'));
            need = Number(m[1]);
            buf = buf.slice(h + 4);
          }
          if (buf.length < need) return;
          buf = buf.slice(need);
          need = -1;
          const now = process.hrtime.bigint();
          lat[slot] = Number(now - started) / 1e6;
          doneAt[done] = Number(now - t0) / 1e9;
          if (++done === requests) return finish();
          sendNext();
        }
      });
    }
  });
}
module.exports = { load };
