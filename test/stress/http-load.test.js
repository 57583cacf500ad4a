'use strict';
// Stress (issue 7, part B2): an HTTP server under continuous loopback load
// calls lockdown() in the middle of it — from inside a request handler, while
// other requests are in flight on other connections. The load comes from a
// separate process (a bounded loop: keep-alive and fresh connections, GET and
// POST, 8 in flight); it counts what it got back. No request may be lost
// (every request it sent got a 200), the server may not crash, and the
// lockdown must really be in force while it keeps serving: a connect to a
// port it was not granted, made by the server after lockdown, is denied and
// the recording server in this process receives nothing.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const { haveKernel, onMessages, recordingServer, ROOT } = require('../helpers/harness');

const skip = haveKernel();
const TOTAL = Number(process.env.BLACKBOX_STRESS_REQUESTS ?? 5000);
const LOCK_AT = Math.floor(TOTAL / 5);

// Inputs through the environment (see lockdown-threads.test.js for why not argv).
const SERVER = String.raw`
const bb = require(${JSON.stringify(ROOT)});
const http = require('node:http');
const net = require('node:net');
const out = (o) => process.stdout.write('@@' + JSON.stringify(o) + '\n');
const LOCK_AT = Number(process.env.BB_LOCK_AT);
const PROBE_PORT = Number(process.env.BB_PROBE_PORT);
const st = { served: 0, before: 0, after: 0, inFlightAtLock: 0, lockMs: 0, report: null, probe: null, errors: [] };
let inFlight = 0;
const server = http.createServer((req, res) => {
  inFlight++;
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    st.served++;
    if (st.report) st.after++; else st.before++;
    if (st.served === LOCK_AT) {
      st.inFlightAtLock = inFlight;
      const t0 = process.hrtime.bigint();
      const r = bb.lockdown({ net: { listen: ['127.0.0.1:' + server.address().port] }, fs: { read: false } });
      st.lockMs = Number(process.hrtime.bigint() - t0) / 1e6;
      st.report = { layers: r.layers };
      out({ locked: st.lockMs });
      // The lockdown is in force: a connect nobody granted is denied.
      const s = net.connect(PROBE_PORT, '127.0.0.1', () => { st.probe = 'connected'; s.end('LEAK'); });
      s.on('error', (e) => { st.probe = e.code; });
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok ' + body.length);
    inFlight--;
  });
});
server.on('clientError', (e, sock) => { st.errors.push('clientError ' + e.code); sock.destroy(); });
server.listen(0, '127.0.0.1', () => out({ port: server.address().port }));
process.on('uncaughtException', (e) => { st.errors.push('uncaught ' + e.stack); });
process.stdin.on('end', () => { out({ stats: st }); server.close(); setTimeout(() => process.exit(0), 50).unref(); });
process.stdin.resume();
setTimeout(() => { out({ stats: st, timeout: true }); process.exit(8); }, 60000).unref();
`;

const CLIENT = String.raw`
const http = require('node:http');
const PORT = Number(process.env.BB_PORT);
const TOTAL = Number(process.env.BB_TOTAL);
const DEADLINE = Date.now() + Number(process.env.BB_DEADLINE_MS);
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 4 });
const res = { sent: 0, ok: 0, other: {}, errors: {}, firstErrors: [] };
function one(i) {
  return new Promise((resolve) => {
    const post = i % 3 === 0;
    const fresh = i % 2 === 0; // half on a new connection each, half on keep-alive sockets
    const req = http.request({ host: '127.0.0.1', port: PORT, path: '/r/' + i, method: post ? 'POST' : 'GET',
      agent: fresh ? false : keepAlive, headers: fresh ? { connection: 'close' } : {} }, (r) => {
      let b = '';
      r.on('data', (d) => { b += d; });
      r.on('end', () => {
        if (r.statusCode === 200 && b.startsWith('ok ')) res.ok++;
        else res.other[r.statusCode] = (res.other[r.statusCode] || 0) + 1;
        resolve();
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => {
      const k = e.code || e.message;
      res.errors[k] = (res.errors[k] || 0) + 1;
      if (res.firstErrors.length < 5) res.firstErrors.push(i + ': ' + e.message);
      resolve();
    });
    res.sent++;
    req.end(post ? 'x'.repeat(i % 200) : undefined);
  });
}
let next = 0;
async function lane() {
  while (next < TOTAL && Date.now() < DEADLINE) await one(next++);
}
const t0 = Date.now();
Promise.all(Array.from({ length: 8 }, lane)).then(() => {
  res.ms = Date.now() - t0;
  process.stdout.write('@@' + JSON.stringify(res) + '\n');
  keepAlive.destroy();
});
`;

function node(code, env) {
  const child = spawn(process.execPath, ['-e', code], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const messages = [];
  const waiters = [];
  let stderr = '';
  onMessages(child.stdout, (m) => {
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdin.on('error', () => {});
  const exited = new Promise((resolve) => child.on('close', (status, signal) => resolve({ status, signal })));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60000);
  exited.then(() => clearTimeout(killer));
  /** The first message with `key`, within ms. */
  async function message(key, ms = 20000) {
    const end = Date.now() + ms;
    for (;;) {
      const m = messages.find((x) => key in x);
      if (m) return m;
      if (Date.now() > end || child.exitCode !== null) throw new Error(`no '${key}' message: ${stderr.slice(0, 2000)}`);
      await new Promise((r) => { waiters.push(r); setTimeout(r, 100); });
    }
  }
  return { child, message, exited, stderr: () => stderr, messages };
}

/** Where each thread of a (stuck) process is: name, state, kernel wait channel. */
function threadStates(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).map((tid) => {
      const r = (f) => { try { return fs.readFileSync(`/proc/${pid}/task/${tid}/${f}`, 'latin1').trim(); } catch { return '?'; } };
      return `${tid} ${r('comm')} ${(/^State:\s*(.*)$/m.exec(r('status')) || [])[1]} wchan=${r('wchan')}`;
    }).join('\n');
  } catch (e) {
    return `(no /proc/${pid}: ${e.code})`;
  }
}

test(`HTTP server under loopback load locks down mid-load: all ${TOTAL} requests get a 200, no crash, and the lockdown is in force`, { skip, timeout: 90000 }, async (t) => {
  const probe = await recordingServer({ lifetimeMs: 80000 });
  try {
    const server = node(SERVER, { BB_LOCK_AT: String(LOCK_AT), BB_PROBE_PORT: String(probe.port) });
    const { port } = await server.message('port');
    const client = node(CLIENT, { BB_PORT: String(port), BB_TOTAL: String(TOTAL), BB_DEADLINE_MS: '40000' });
    let load;
    try {
      load = await client.message('sent', 60000);
    } catch (e) {
      e.message += `\nserver messages: ${JSON.stringify(server.messages)}\nserver threads:\n${threadStates(server.child.pid)}\nserver stderr: ${server.stderr()}`;
      server.child.kill('SIGKILL');
      client.child.kill('SIGKILL');
      throw e;
    }
    const c = await client.exited;
    assert.equal(c.status, 0, client.stderr());
    server.child.stdin.end();
    const { stats } = await server.message('stats');
    const s = await server.exited;
    t.diagnostic(`client: ${load.sent} sent, ${load.ok} × 200 in ${load.ms} ms; server: ${stats.before} served before lockdown(), ${stats.after} after, ${stats.inFlightAtLock} in flight when it ran, lockdown() took ${stats.lockMs.toFixed(1)} ms`);

    assert.equal(s.status, 0, `server exit ${s.status}/${s.signal}: ${server.stderr()}`);
    assert.deepEqual(stats.errors, [], 'server errors');
    assert.equal(load.sent, TOTAL, 'the client sent every request within its deadline');
    assert.deepEqual(load.errors, {}, `client errors: ${load.firstErrors.join('; ')}`);
    assert.deepEqual(load.other, {}, 'non-200 answers');
    assert.equal(load.ok, load.sent, 'every request sent got a 200');
    assert.equal(stats.served, TOTAL, 'the server saw every request once');
    // The lockdown happened in the middle of the load, and is in force.
    assert.ok(stats.report && stats.report.layers.seccomp && stats.report.layers.landlock >= 4, `layers: ${JSON.stringify(stats.report)}`);
    assert.equal(stats.before, LOCK_AT);
    assert.ok(stats.after >= TOTAL / 2, `served after lockdown: ${stats.after}`);
    assert.equal(stats.probe, 'ERR_ACCESS_DENIED', `connect to an ungranted port after lockdown: ${stats.probe}`);
    assert.equal(probe.connections(), 0, 'the ungranted port received no connection');
  } finally {
    await probe.close();
  }
});
