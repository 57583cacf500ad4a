'use strict';
// undici's request() and fetch(), and Node's global fetch, under lockdown with
// net.connect granting one loopback host:port: requests there work (real
// HTTP answers), requests to another port or another loopback host reject
// with ERR_ACCESS_DENIED, and the servers there receive nothing. undici is
// loaded before the lockdown, as an app's dependencies are.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const { haveKernel, recordingServer, ROOT } = require('../helpers/harness');

const { spawn } = require('node:child_process');

const skip = haveKernel();

function run(env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'undici-app.js')], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('close', (status) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('@@'));
      resolve({ status, stderr, result: line && JSON.parse(line.slice(2)) });
    });
  });
}

test('undici request/fetch and global fetch: the granted loopback host:port works, others reject with ERR_ACCESS_DENIED and receive nothing', { skip, timeout: 60000 }, async () => {
  const hits = [];
  const server = http.createServer((req, res) => { hits.push(req.url); res.end(`hello ${req.url}`); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const deniedPort = await recordingServer({ lifetimeMs: 50000 });
  const deniedHost = await recordingServer({ host: '127.0.0.2', port, lifetimeMs: 50000 });
  try {
    const policy = { net: { connect: [`127.0.0.1:${port}`] }, fs: { read: false }, childProcess: false };
    const r = await run({ BB_APP_POLICY: JSON.stringify(policy), BB_GRANTED: String(port), BB_DENIED_PORT: String(deniedPort.port), BB_DENIED_HOST: '127.0.0.2' });
    assert.equal(r.status, 0, r.stderr);
    const { layers, r: o } = r.result;
    assert.ok(layers.seccomp && layers.landlock >= 4, JSON.stringify(layers));
    assert.deepEqual(o.requestGranted, { ok: true, status: 200, body: 'hello /a' });
    assert.deepEqual(o.undiciFetchGranted, { ok: true, status: 200, body: 'hello /b' });
    assert.deepEqual(o.fetchGranted, { ok: true, status: 200, body: 'hello /c' });
    assert.deepEqual(hits, ['/a', '/b', '/c']);
    const deniedPortRes = `127.0.0.1:${deniedPort.port}`;
    const deniedHostRes = `127.0.0.2:${port}`;
    const want = { requestDeniedPort: deniedPortRes, requestDeniedHost: deniedHostRes, fetchDeniedPort: deniedPortRes, fetchDeniedHost: deniedHostRes };
    for (const [k, resource] of Object.entries(want)) {
      const v = o[k];
      assert.equal(v.timeout, undefined, `${k} timed out`);
      assert.deepEqual({ ok: v.ok, name: v.name, code: v.code, permission: v.permission, resource: v.resource, layer: v.layer },
        { ok: false, name: 'PolicyViolation', code: 'ERR_ACCESS_DENIED', permission: 'Net', resource, layer: 'js' }, `${k}: ${JSON.stringify(v)}`);
    }
    // undici's own fetch() (not the global one the guards patch) follows the
    // fetch spec: a network error is TypeError('fetch failed'), here with the
    // PolicyViolation from the net guard as its cause.
    const uf = o.undiciFetchDeniedPort;
    assert.equal(uf.timeout, undefined, 'undici.fetch to the denied port timed out');
    assert.deepEqual({ ok: uf.ok, name: uf.name, cause: uf.cause },
      { ok: false, name: 'TypeError', cause: { name: 'PolicyViolation', code: 'ERR_ACCESS_DENIED', permission: 'Net', resource: deniedPortRes, layer: 'js' } }, JSON.stringify(uf));
    assert.equal(deniedPort.connections(), 0, 'the denied port received no connection');
    assert.equal(deniedHost.connections(), 0, 'the denied host received no connection');
  } finally {
    await deniedPort.close();
    await deniedHost.close();
    await new Promise((r) => server.close(r));
  }
});
