'use strict';
// A fastify server under lockdown: listening on its granted loopback port,
// serving real requests from a bounded load loop (this process), each handler
// calling a local upstream on its granted port. A handler that tries another
// port, or another loopback host on the granted port, gets ERR_ACCESS_DENIED
// (PolicyViolation: code, permission, resource, layer 'js'); the same two
// connects made raw (no JS guard) get EACCES from the kernel layer; and the
// servers there receive nothing.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { haveKernel, recordingServer } = require('../helpers/harness');
const { runApp } = require('./fixtures/run-app');

const skip = haveKernel();
const REQUESTS = 400;

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function get(port, p) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p }, (res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: b }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function waitFor(pred, ms) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

test('fastify: serves a load loop through its granted upstream; other ports and hosts are denied and receive nothing', { skip, timeout: 90000 }, async (t) => {
  const upstreamHits = [];
  const upstream = http.createServer((req, res) => { upstreamHits.push(req.url); res.end(`item ${req.url.split('/').pop()}`); });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  const upPort = upstream.address().port;
  const otherPort = await recordingServer({ lifetimeMs: 80000 });
  const otherHost = await recordingServer({ host: '127.0.0.2', port: upPort, lifetimeMs: 80000 });
  const listen = await freePort();
  const otherListen = await freePort();
  let app;
  try {
    const running = runApp([path.join(__dirname, 'fixtures', 'fastify-app.js')], {
      policy: { net: { listen: [`127.0.0.1:${listen}`], connect: [`127.0.0.1:${upPort}`] }, fs: { read: false }, childProcess: false },
      env: { BB_LISTEN: String(listen), BB_UPSTREAM: String(upPort), BB_OTHER_PORT: String(otherPort.port), BB_OTHER_HOST: '127.0.0.2', BB_OTHER_LISTEN: String(otherListen) },
    });
    app = running.child;
    const ready = await waitFor(() => running.stdout().includes('@@listening') || app.exitCode !== null, 20000);
    assert.ok(ready && app.exitCode === null, 'fastify came up');

    // The load loop: REQUESTS requests, 8 at a time.
    const t0 = Date.now();
    let next = 1;
    const bad = [];
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next <= REQUESTS) {
        const n = next++;
        try {
          const r = await get(listen, `/proxy/${n}`);
          const body = JSON.parse(r.body);
          if (r.status !== 200 || body.n !== n || body.upstream !== `item ${n}`) bad.push(`${n}: ${r.status} ${r.body}`);
        } catch (e) {
          bad.push(`${n}: ${e.message}`);
        }
      }
    }));
    t.diagnostic(`${REQUESTS} proxied requests in ${Date.now() - t0} ms`);
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} bad answers`);
    assert.equal(upstreamHits.length, REQUESTS, 'the upstream got every proxied request');

    const port = JSON.parse((await get(listen, '/evil-port')).body);
    const host = JSON.parse((await get(listen, '/evil-host')).body);
    assert.deepEqual(port, { reached: false, name: 'PolicyViolation', code: 'ERR_ACCESS_DENIED', permission: 'Net', resource: `127.0.0.1:${otherPort.port}`, layer: 'js' });
    assert.deepEqual(host, { reached: false, name: 'PolicyViolation', code: 'ERR_ACCESS_DENIED', permission: 'Net', resource: `127.0.0.2:${upPort}`, layer: 'js' });
    // Listening anywhere but the granted port: the server emits 'error'.
    assert.deepEqual(JSON.parse((await get(listen, '/evil-listen')).body),
      { listening: false, name: 'PolicyViolation', code: 'ERR_ACCESS_DENIED', permission: 'Net', resource: `127.0.0.1:${otherListen}`, layer: 'js' });
    // The kernel layer alone (raw connect(2), no JS guard): EACCES for both.
    assert.deepEqual(JSON.parse((await get(listen, '/raw-evil')).body), { port: -13, host: -13 });

    await get(listen, '/quit').catch(() => {});
    const r = await running;
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.lockdown.layers.seccomp && r.lockdown.layers.landlock >= 4, JSON.stringify(r.lockdown));
    assert.equal(otherPort.connections(), 0, 'the other port received no connection');
    assert.equal(otherHost.connections(), 0, 'the other host received no connection');
    // The only denials fastify's process met are the three attempts (caught by the JS layer)…
    assert.deepEqual(r.violations.filter((v) => v.endsWith('(js)')), [`Net 127.0.0.1:${otherPort.port} (js)`, `Net 127.0.0.2:${upPort} (js)`, `Net 127.0.0.1:${otherListen} (js)`]);
    // The kernel layer reports the two raw attempts (the connect supervisor's
    // violation reports)…
    const kernel = r.violations.filter((v) => !v.endsWith('(js)'));
    t.diagnostic(`kernel-layer reports: ${JSON.stringify(kernel)}`);
    const rawSeen = [`Net 127.0.0.1:${otherPort.port} (kernel)`, `Net 127.0.0.2:${upPort} (kernel)`];
    assert.deepEqual(kernel.filter((v) => rawSeen.includes(v)), rawSeen, JSON.stringify(kernel));
    // …plus, today, one that is not the app's: the supervisor's self-test (a
    // denied connect to a throw-away loopback port inside lockdown()) is
    // published on the violation channel too (reported as a bug; tolerated here).
    const extra = kernel.filter((v) => !rawSeen.includes(v));
    assert.ok(extra.length <= 1 && extra.every((v) => /^Net 127\.0\.0\.1:\d+ \(kernel\)$/.test(v) && ![upPort, otherPort.port, listen, otherListen].some((p) => v.includes(`:${p} `))), JSON.stringify(extra));
  } finally {
    if (app && app.exitCode === null) app.kill('SIGKILL');
    await otherPort.close();
    await otherHost.close();
    await new Promise((r) => upstream.close(r));
  }
});
