'use strict';
// The network guards after a REAL lockdown(), each batch in a fresh child:
// every client API (net, tls, http, https, fetch, http2, dgram, dns) and
// Server#listen × delivery (event, callback, promise, sync throw) × denied and
// granted. Evidence is outside the child: loopback servers in THIS process
// record what arrived (and on which local address), a loopback DNS server
// records the names it was asked. Undoing the patches never reaches a denied
// destination: the kernel answers.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const net = require('node:net');
const { haveKernel, runChild, sleep, recordingServer, ROOT } = require('../helpers/harness');

const skip = haveKernel();

// --- evidence in the parent ---------------------------------------------

/** TCP server recording each connection's bytes and local address; answers HTTP/1.1 requests with 200 "ok". */
function tcpServer(host = '127.0.0.1', port = 0) {
  return recordingServer({
    host,
    port,
    onData(c, s) {
      if (!c.replied && /^(GET|POST|PUT) /.test(c.bytes) && c.bytes.includes('\r\n\r\n')) {
        c.replied = true;
        s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      }
    },
  }).then((srv) => ({ ...srv, text: () => srv.text('|') }));
}

/** UDP server recording datagrams. */
async function udpServer() {
  const got = [];
  const s = dgram.createSocket('udp4');
  s.on('message', (m) => got.push(m.toString('latin1')));
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  return { port: s.address().port, got, text: () => got.join('|'), close: () => new Promise((r) => s.close(r)) };
}

/** A tiny DNS server on loopback: answers every A question with 127.0.0.1 and records the names asked. */
async function dnsServer() {
  const names = [];
  const s = dgram.createSocket('udp4');
  s.on('message', (q, rinfo) => {
    try {
      let i = 12;
      const labels = [];
      while (q[i] !== 0) {
        labels.push(q.subarray(i + 1, i + 1 + q[i]).toString('latin1'));
        i += q[i] + 1;
      }
      const qtype = q.readUInt16BE(i + 1);
      const question = q.subarray(12, i + 5);
      names.push(labels.join('.'));
      const header = Buffer.alloc(12);
      q.copy(header, 0, 0, 2); // id
      header.writeUInt16BE(0x8180, 2); // response, RD, RA, NOERROR
      header.writeUInt16BE(1, 4);
      header.writeUInt16BE(qtype === 1 ? 1 : 0, 6);
      const answer = qtype === 1 ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]) : Buffer.alloc(0);
      s.send(Buffer.concat([header, question, answer]), rinfo.port, rinfo.address);
    } catch { /* not a query */ }
  });
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  return { port: s.address().port, names, close: () => new Promise((r) => s.close(r)) };
}

/** A free TCP port on 127.0.0.1 (closed again): a fixed listen port nobody grants. */
async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

// --- the child's side -----------------------------------------------------

const LIB = String.raw`
const net = require('node:net');
const tls = require('node:tls');
const http = require('node:http');
const https = require('node:https');
const http2 = require('node:http2');
const dgram = require('node:dgram');
const dns = require('node:dns');
const util = require('node:util');
const { once } = require('node:events');
const results = {};
const shape = (e, sync) => (e == null ? { ok: true } : {
  pv: e instanceof bb.PolicyViolation, name: e.name, code: e.code, permission: e.permission, resource: e.resource,
  layer: e.layer, causeCode: e.cause && e.cause.code, message: String(e.message), sync: !!sync,
});
/** One case: fn(finish) calls finish(value) or returns/rejects; bounded by ms. */
function run(name, fn, ms = 3000) {
  return new Promise((resolve) => {
    let done = false;
    const timer = setTimeout(() => finish({ timeout: true }), ms);
    function finish(v) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      results[name] = v;
      resolve();
    }
    try {
      Promise.resolve(fn(finish)).then((v) => { if (v !== undefined) finish(v); }, (e) => finish(shape(e)));
    } catch (e) {
      finish(shape(e, true));
    }
  });
}
/** An emitter's first 'error' (shaped) or success event. */
const settle = (em, okEvent, finish, extra) => {
  em.on('error', (e) => { finish(shape(e)); if (em.destroy) em.destroy(); });
  em.on(okEvent, (...a) => finish({ ok: true, ...(extra ? extra(...a) : {}) }));
};
/** A connected socket writes its tag and finishes. */
const talk = (tag, finish) => function () { this.end(tag); finish({ ok: true, remote: this.remoteAddress }); };
const body = (res) => new Promise((r) => { let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => r(b)); });
`;

async function child(code, opts) {
  const r = await runChild(`${LIB}\n(async () => {\n${code}\n})().then(() => { out(results); setTimeout(() => process.exit(0), 50); }, (e) => { console.error(e); process.exit(9); });`, { timeout: 30000, ...opts });
  assert.equal(r.status, 0, `child failed: ${r.stderr}\n${r.stdout}`);
  assert.ok(r.result, `no result: ${r.stderr}`);
  return r.result;
}

function assertDenied(o, name, resource, { layer = 'js', sync = false } = {}) {
  const v = o[name];
  assert.ok(v, `${name}: no result`);
  assert.equal(v.timeout, undefined, `${name}: timed out`);
  assert.equal(v.pv, true, `${name}: not a PolicyViolation: ${JSON.stringify(v)}`);
  assert.equal(v.name, 'PolicyViolation', name);
  assert.equal(v.code, 'ERR_ACCESS_DENIED', name);
  assert.equal(v.permission, 'Net', name);
  if (resource !== undefined) assert.equal(v.resource, resource, name);
  assert.equal(v.layer, layer, name);
  if (layer === 'kernel') assert.equal(v.causeCode, 'EACCES', `${name}: kernel cause`);
  assert.equal(v.sync, sync, `${name}: delivered ${v.sync ? 'synchronously' : 'asynchronously'}`);
  assert.match(v.message, /^blackbox-native: .* denied — grant it with /, name);
}

function assertGranted(o, name) {
  const v = o[name];
  assert.ok(v, `${name}: no result`);
  assert.equal(v.ok, true, `${name}: ${JSON.stringify(v)}`);
}

// --- the matrix -------------------------------------------------------------

test('TCP clients, dns and Server#listen under { connect: [127.0.0.1:OK], listen: [127.0.0.1:0] }: denied calls deliver PolicyViolation every way, granted ones really arrive', { skip }, async () => {
  const ok = await tcpServer();
  const ok2 = await tcpServer('127.0.0.2', ok.port); // same port, another loopback address: only the JS layer tells them apart
  const other = await tcpServer();
  const fixed = await freePort();
  const OK = ok.port;
  const OTHER = other.port;
  try {
    const o = await child(`
      const report = bb.lockdown({ net: { connect: ['127.0.0.1:${OK}'], listen: ['127.0.0.1:0'] } });
      results.layers = report.layers;
      results.dnsPolicy = report.policy.net.dns;
      const cases = [
        // denied, 'error' event
        run('net.connect', (f) => settle(net.connect(${OTHER}, '127.0.0.1'), 'connect', f)),
        run('net.createConnection', (f) => settle(net.createConnection({ port: ${OTHER}, host: '127.0.0.1' }), 'connect', f)),
        run('Socket#connect', (f) => settle(new net.Socket().connect(${OTHER}, '127.0.0.1'), 'connect', f)),
        run('other host, allowed port', (f) => settle(net.connect(${OK}, '127.0.0.2'), 'connect', f)),
        run('spelling 0x7f.1', (f) => settle(net.connect(${OTHER}, '0x7f.1'), 'connect', f)),
        run('spelling 2130706433', (f) => settle(net.connect({ port: ${OTHER}, host: '2130706433' }), 'connect', f)),
        run('tls.connect', (f) => settle(tls.connect(${OTHER}, '127.0.0.1'), 'secureConnect', f)),
        run('http.get', (f) => settle(http.get('http://127.0.0.1:${OTHER}/d-http-get'), 'response', f)),
        run('http.request', (f) => { const q = http.request({ host: '127.0.0.1', port: ${OTHER}, path: '/d-http-request', method: 'POST' }); settle(q, 'response', f); q.end('x'); }),
        run('https.request', (f) => { const q = https.request({ host: '127.0.0.1', port: ${OTHER}, path: '/' }); settle(q, 'response', f); q.end(); }),
        run('http2.connect', (f) => settle(http2.connect('http://127.0.0.1:${OTHER}'), 'connect', f)),
        // a name whose lookup answers an allowed and a denied address
        run('lookup: allowed + denied address', (f) => settle(net.connect({ host: 'svc.test', port: ${OK}, lookup: (h, o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }, { address: '127.0.0.2', family: 4 }]) }), 'connect', f)),
        run('name, dns false', (f) => settle(net.connect(${OK}, 'svc.test'), 'connect', f)),
        // denied, promise (no 'error' listener of our own: awaited in try/catch)
        run('net.connect awaited', async () => { const s = net.connect(${OTHER}, '127.0.0.1'); await once(s, 'connect'); return { ok: true }; }),
        run('http.get awaited', async () => { await once(http.get('http://127.0.0.1:${OTHER}/'), 'response'); return { ok: true }; }),
        run('fetch awaited', async () => { await fetch('http://127.0.0.1:${OTHER}/d-fetch'); return { ok: true }; }),
        run('fetch Request', () => fetch(new Request('http://127.0.0.1:${OTHER}/d-fetch-req')).then(() => ({ ok: true }), (e) => shape(e))),
        run('fetch URL, other host', () => fetch(new URL('http://127.0.0.2:${OK}/d-fetch-url')).then(() => ({ ok: true }), (e) => shape(e))),
        run('fetch name, dns false', () => fetch('http://svc.test:${OK}/').then(() => ({ ok: true }), (e) => shape(e))),
        // dns, net.dns false: callback, promise, Resolver, sync throw
        run('dns.lookup', (f) => { dns.lookup('svc.test', (e) => f(shape(e))); }),
        run('dns.lookup all', (f) => { dns.lookup('svc.test', { all: true }, (e) => f(shape(e))); }),
        run('dns.promises.lookup', () => dns.promises.lookup('svc.test').then(() => ({ ok: true }))),
        run('dns/promises.resolve4', () => require('node:dns/promises').resolve4('svc.test').then(() => ({ ok: true }))),
        run('promisify(dns.lookup)', () => util.promisify(dns.lookup)('svc.test').then(() => ({ ok: true }))),
        run('dns.resolve4', (f) => { dns.resolve4('svc.test', (e) => f(shape(e))); }),
        run('dns.resolve MX', (f) => { dns.resolve('svc.test', 'MX', (e) => f(shape(e))); }),
        run('dns.reverse', (f) => { dns.reverse('127.0.0.1', (e) => f(shape(e))); }),
        run('dns.lookupService', (f) => { dns.lookupService('127.0.0.1', 22, (e) => f(shape(e))); }),
        run('Resolver#resolve4', (f) => { new dns.Resolver().resolve4('svc.test', (e) => f(shape(e))); }),
        run('promises.Resolver#resolveTxt', () => new dns.promises.Resolver().resolveTxt('svc.test').then(() => ({ ok: true }))),
        run('dns.setServers', () => { dns.setServers(['10.9.9.9']); return { ok: true }; }),
        run('Resolver#setServers', () => { new dns.Resolver().setServers(['127.0.0.1:${OTHER}']); return { ok: true }; }),
        run('dns.promises.setServers', () => { dns.promises.setServers(['[::1]:5353']); return { ok: true }; }),
        // dgram with dns false: the JS layer denies first; where it allows, seccomp refuses the UDP socket
        run('dgram.send denied', (f) => { dgram.createSocket('udp4').send('x', ${OTHER}, '127.0.0.1', (e) => f(shape(e))); }),
        run('dgram.send kernel', (f) => { const s = dgram.createSocket('udp4'); s.on('error', (e) => f(shape(e))); s.send('x', ${OK}, '127.0.0.1', (e) => f(shape(e))); }),
        // Server#listen: 'error' event and promise
        run('net listen fixed port', (f) => settle(net.createServer().listen(${fixed}, '127.0.0.1'), 'listening', f)),
        run('net listen all interfaces', (f) => settle(net.createServer().listen(0), 'listening', f)),
        run('http listen fixed port', (f) => settle(http.createServer().listen({ port: ${fixed}, host: '127.0.0.1' }), 'listening', f)),
        run('listen awaited', async () => { await once(net.createServer().listen(${fixed}, '127.0.0.1'), 'listening'); return { ok: true }; }),
        run('listen fd: undefined', (f) => settle(net.createServer().listen({ port: ${fixed}, host: '127.0.0.1', fd: undefined }), 'listening', f)),

        // granted
        run('g net.connect', (f) => { net.connect(${OK}, '127.0.0.1', talk('g-net-connect', f)).on('error', (e) => f(shape(e))); }),
        run('g net.createConnection', (f) => { net.createConnection({ port: ${OK}, host: '127.0.0.1' }, talk('g-create', f)).on('error', (e) => f(shape(e))); }),
        run('g Socket#connect', (f) => { new net.Socket().connect(${OK}, '127.0.0.1', talk('g-socket', f)).on('error', (e) => f(shape(e))); }),
        run('g spelling 0x7f.1', (f) => { net.connect({ port: ${OK}, host: '0x7f.1', lookup: () => { throw new Error('lookup called for an IP'); } }, talk('g-spelled', f)).on('error', (e) => f(shape(e))); }),
        run('g awaited', async () => { const s = net.connect(${OK}, '127.0.0.1'); await once(s, 'connect'); s.end('g-awaited'); return { ok: true }; }),
        run('g lookup one address', (f) => { let calls = 0; net.connect({ host: 'svc.test', port: ${OK}, lookup: (h, o, cb) => { calls++; cb(null, [{ address: '127.0.0.1', family: 4 }]); } }, function () { this.end('g-lookup'); f({ ok: true, calls, remote: this.remoteAddress }); }).on('error', (e) => f(shape(e))); }),
        run('g lookup string answer', (f) => { net.connect({ host: 'svc.test', port: ${OK}, family: 4, lookup: (h, o, cb) => cb(null, '127.0.0.1', 4) }, talk('g-lookup-string', f)).on('error', (e) => f(shape(e))); }),
        run('g lookup rebinding', (f) => { let calls = 0; net.connect({ host: 'svc.test', port: ${OK}, lookup: (h, o, cb) => { calls++; const a = calls === 1 ? '127.0.0.1' : '127.0.0.2'; cb(null, o.all ? [{ address: a, family: 4 }] : a, 4); } }, function () { this.end('g-rebind'); f({ ok: true, calls, remote: this.remoteAddress }); }).on('error', (e) => f(shape(e))); }),
        run('g http.get', (f) => { http.get('http://127.0.0.1:${OK}/g-http-get', async (res) => f({ ok: true, status: res.statusCode, body: await body(res) })).on('error', (e) => f(shape(e))); }),
        run('g http.request', (f) => { const q = http.request({ host: '127.0.0.1', port: ${OK}, path: '/g-http-request', method: 'POST' }, async (res) => f({ ok: true, status: res.statusCode, body: await body(res) })); q.on('error', (e) => f(shape(e))); q.end('x'); }),
        run('g fetch', async () => { const r = await fetch('http://127.0.0.1:${OK}/g-fetch'); return { ok: true, status: r.status, body: await r.text() }; }),
        run('g tls.connect', (f) => { const s = tls.connect({ port: ${OK}, host: '127.0.0.1', servername: 'g-tls.test' }); s.on('error', (e) => f(shape(e))); s.on('connect', () => setTimeout(() => { f({ ok: true }); s.destroy(); }, 200)); }),
        run('g https.request', (f) => { const q = https.request({ host: '127.0.0.1', port: ${OK}, servername: 'g-https.test', path: '/' }); q.on('error', (e) => f(shape(e))); q.on('socket', (s) => s.on('connect', () => setTimeout(() => { f({ ok: true }); q.destroy(); }, 200))); q.end(); }),
        run('g http2.connect', (f) => { const c = http2.connect('http://127.0.0.1:${OK}'); c.on('error', (e) => f(shape(e))); c.socket && c.socket.on('connect', () => setTimeout(() => { f({ ok: true }); c.destroy(); }, 200)); }),
        run('g dns.lookup localhost', (f) => { dns.lookup('localhost', (e, a) => f(e ? shape(e) : { ok: true, address: a })); }),
        run('g dns.lookup IP literal', (f) => { dns.lookup('127.0.0.1', (e, a) => f(e ? shape(e) : { ok: true, address: a })); }),
        run('g dns.promises.lookup localhost', async () => ({ ok: true, address: (await dns.promises.lookup('localhost')).address })),
        run('g dns.setServers current', () => { dns.setServers(dns.getServers()); return { ok: true }; }),
        run('g net listen', (f) => { const s = net.createServer().listen(0, '127.0.0.1', () => { f({ ok: true, port: s.address().port }); s.close(); }); s.on('error', (e) => f(shape(e))); }),
        run('g http listen', (f) => { const s = http.createServer().listen(0, '127.0.0.1', () => { f({ ok: true }); s.close(); }); s.on('error', (e) => f(shape(e))); }),
      ];
      await Promise.all(cases);`);

    assert.equal(o.layers.jsGuards, true);
    assert.equal(o.layers.seccomp, true);
    assert.ok(o.layers.landlock >= 4, 'Landlock with TCP port rules');
    assert.equal(o.dnsPolicy, false);

    const P = `127.0.0.1:${OTHER}`;
    for (const n of ['net.connect', 'net.createConnection', 'Socket#connect', 'spelling 0x7f.1', 'spelling 2130706433', 'tls.connect', 'http.get', 'http.request', 'https.request', 'http2.connect', 'net.connect awaited', 'http.get awaited', 'fetch awaited', 'fetch Request', 'dgram.send denied']) {
      assertDenied(o, n, P);
    }
    assertDenied(o, 'other host, allowed port', `127.0.0.2:${OK}`);
    assertDenied(o, 'fetch URL, other host', `127.0.0.2:${OK}`);
    assertDenied(o, 'lookup: allowed + denied address', `svc.test:${OK}`);
    assert.match(o['lookup: allowed + denied address'].message, /127\.0\.0\.2/);
    for (const n of ['name, dns false', 'fetch name, dns false', 'dns.lookup', 'dns.lookup all', 'dns.promises.lookup', 'dns/promises.resolve4', 'promisify(dns.lookup)', 'dns.resolve4', 'dns.resolve MX', 'Resolver#resolve4', 'promises.Resolver#resolveTxt']) {
      assertDenied(o, n, 'svc.test');
      assert.match(o[n].message, /net\.dns/);
    }
    assertDenied(o, 'dns.reverse', '127.0.0.1');
    assertDenied(o, 'dns.lookupService', '127.0.0.1');
    assertDenied(o, 'dns.setServers', '10.9.9.9:53', { sync: true });
    assertDenied(o, 'Resolver#setServers', P, { sync: true });
    assertDenied(o, 'dns.promises.setServers', '[::1]:5353', { sync: true });
    // UDP to the granted host:port: the connect supervisor checks datagram destinations, so
    // dgram sockets exist under a connect list and this one is allowed (net rules cover UDP).
    assert.equal(o['dgram.send kernel'].ok, true, JSON.stringify(o['dgram.send kernel']));
    for (const n of ['net listen fixed port', 'http listen fixed port', 'listen awaited', 'listen fd: undefined']) assertDenied(o, n, `127.0.0.1:${fixed}`);
    assertDenied(o, 'net listen all interfaces', '0.0.0.0:0');
    assert.match(o['net listen fixed port'].message, /net\.listen \['127\.0\.0\.1:\d+'\]/);

    for (const n of ['g net.connect', 'g net.createConnection', 'g Socket#connect', 'g spelling 0x7f.1', 'g awaited', 'g lookup one address', 'g lookup string answer', 'g lookup rebinding', 'g http.get', 'g http.request', 'g fetch', 'g tls.connect', 'g https.request', 'g http2.connect', 'g dns.lookup localhost', 'g dns.lookup IP literal', 'g dns.promises.lookup localhost', 'g dns.setServers current', 'g net listen', 'g http listen']) {
      assertGranted(o, n);
    }
    assert.equal(o['g spelling 0x7f.1'].remote, '127.0.0.1');
    assert.equal(o['g lookup one address'].calls, 1);
    assert.equal(o['g lookup rebinding'].calls, 1, 'the checked answer is the one used: one lookup');
    assert.equal(o['g lookup rebinding'].remote, '127.0.0.1');
    for (const n of ['g http.get', 'g http.request', 'g fetch']) assert.deepEqual([o[n].status, o[n].body], [200, 'ok'], n);
    assert.equal(o['g dns.lookup localhost'].address, '127.0.0.1');

    await sleep(100);
    for (const tag of ['g-net-connect', 'g-create', 'g-socket', 'g-spelled', 'g-awaited', 'g-lookup', 'g-lookup-string', 'g-rebind', 'GET /g-http-get', 'POST /g-http-request', 'GET /g-fetch', 'g-tls.test', 'g-https.test', 'PRI * HTTP/2.0']) {
      assert.ok(ok.has(tag), `the allowed server received ${tag}`);
    }
    assert.ok(ok.conns.every((c) => c.local === '127.0.0.1'));
    assert.equal(other.conns.length, 0, `the denied server received nothing: ${other.text()}`);
    assert.equal(ok2.conns.length, 0, `127.0.0.2:${OK} received nothing: ${ok2.text()}`);
    // by tag, not by /d-/: the TLS and HTTP/2 clients' random bytes may spell "d-" by chance
    for (const tag of ['d-connected', 'd-denied', 'd-lookup', 'd-send-cb', 'd-send-plain', 'd-send-promise', 'd-send-slice']) {
      assert.ok(!ok.has(tag), `a denied request reached the allowed server: ${tag}`);
    }
  } finally {
    await ok.close();
    await ok2.close();
    await other.close();
  }
});

test('the localhost rule: connect [localhost:OK] works through the name and through 127.0.0.1; other ports are denied', { skip }, async () => {
  const ok = await tcpServer();
  const other = await tcpServer();
  const OK = ok.port;
  const OTHER = other.port;
  try {
    const o = await child(`
      bb.lockdown({ net: { connect: ['localhost:${OK}'] } });
      await Promise.all([
        run('g name', (f) => { net.connect(${OK}, 'localhost', talk('l-name', f)).on('error', (e) => f(shape(e))); }),
        run('g ip', (f) => { net.connect(${OK}, '127.0.0.1', talk('l-ip', f)).on('error', (e) => f(shape(e))); }),
        run('g lookup loopback', (f) => { net.connect({ host: 'localhost', port: ${OK}, lookup: (h, o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) }, talk('l-lookup', f)).on('error', (e) => f(shape(e))); }),
        run('g http.get', (f) => { http.get('http://localhost:${OK}/l-http', async (res) => f({ ok: true, status: res.statusCode, body: await body(res) })).on('error', (e) => f(shape(e))); }),
        run('g fetch', async () => { const r = await fetch('http://localhost:${OK}/l-fetch'); return { ok: true, status: r.status }; }),
        run('name other port', (f) => settle(net.connect(${OTHER}, 'localhost'), 'connect', f)),
        run('ip other port', (f) => settle(net.connect(${OTHER}, '127.0.0.1'), 'connect', f)),
        run('fetch other port', () => fetch('http://localhost:${OTHER}/').then(() => ({ ok: true }), (e) => shape(e))),
      ]);`);
    for (const n of ['g name', 'g ip', 'g lookup loopback', 'g http.get', 'g fetch']) assertGranted(o, n);
    assertDenied(o, 'name other port', `localhost:${OTHER}`);
    assertDenied(o, 'ip other port', `127.0.0.1:${OTHER}`);
    assertDenied(o, 'fetch other port', `localhost:${OTHER}`);
    await sleep(100);
    for (const tag of ['l-name', 'l-ip', 'l-lookup', 'GET /l-http', 'GET /l-fetch']) assert.ok(ok.has(tag), tag);
    assert.equal(other.conns.length, 0);
  } finally {
    await ok.close();
    await other.close();
  }
});

test('dgram and dns with net.dns: send/connect/bind × callback/event/promise; Resolver and setServers against a loopback DNS server', { skip }, async () => {
  const uok = await udpServer();
  const uother = await udpServer();
  const ns = await dnsServer();
  const fixed = await freePort();
  const U = uok.port;
  const UO = uother.port;
  const D = ns.port;
  try {
    const o = await child(`
      bb.lockdown({ net: { connect: ['127.0.0.1:${U}', '127.0.0.1:${D}'], listen: ['127.0.0.1:0'], dns: true } });
      const sock = (opts) => dgram.createSocket(opts || 'udp4');
      await Promise.all([
        run('g send callback', (f) => { const s = sock(); s.send('d-send-cb', ${U}, '127.0.0.1', (e, n) => { f(e ? shape(e) : { ok: true, n }); s.close(); }); }),
        run('g send offset/length', (f) => { const s = sock(); s.send(Buffer.from('xxd-send-slicexx'), 2, 12, ${U}, '127.0.0.1', (e) => { f(shape(e)); s.close(); }); }),
        run('g send promise', async () => { const s = sock(); await util.promisify(s.send).call(s, 'd-send-promise', ${U}, '127.0.0.1'); s.close(); return { ok: true }; }),
        run('g send no callback', (f) => { const s = sock(); s.on('error', (e) => f(shape(e))); s.send('d-send-plain', ${U}, '127.0.0.1'); setTimeout(() => { f({ ok: true }); s.close(); }, 200); }),
        run('g connect', (f) => { const s = sock(); s.connect(${U}, '127.0.0.1', (e) => { if (e) return f(shape(e)); s.send('d-connected', (e2) => { f(shape(e2)); s.close(); }); }); }),
        run('g lookup', (f) => { const s = sock({ type: 'udp4', lookup: (h, o, cb) => cb(null, '127.0.0.1', 4) }); s.send('d-lookup', ${U}, 'svc.test', (e) => { f(shape(e)); s.close(); }); }),
        run('g bind', (f) => { const s = sock(); s.on('error', (e) => f(shape(e))); s.bind(0, '127.0.0.1', () => { f({ ok: true, port: s.address().port }); s.close(); }); }),
        run('send callback', (f) => { sock().send('d-denied', ${UO}, '127.0.0.1', (e) => f(shape(e))); }),
        run('send event', (f) => { const s = sock(); s.on('error', (e) => f(shape(e))); s.send('d-denied', ${UO}, '127.0.0.1'); }),
        run('send promise', async () => { const s = sock(); await util.promisify(s.send).call(s, 'd-denied', ${UO}, '127.0.0.1'); return { ok: true }; }),
        run('send spelling', (f) => { sock().send('d-denied', ${UO}, '0x7f.1', (e) => f(shape(e))); }),
        run('send lookup denied', (f) => { sock({ type: 'udp4', lookup: (h, o, cb) => cb(null, '127.0.0.2', 4) }).send('d-denied', ${U}, 'svc.test', (e) => f(shape(e))); }),
        run('connect callback', (f) => { sock().connect(${UO}, '127.0.0.1', (e) => f(shape(e))); }),
        run('connect event', (f) => { const s = sock(); s.on('error', (e) => f(shape(e))); s.on('connect', () => f({ ok: true })); s.connect(${UO}, '127.0.0.1'); }),
        run('connect lookup denied', (f) => { sock({ type: 'udp4', lookup: (h, o, cb) => setTimeout(cb, 5, null, '127.0.0.2', 4) }).connect(${U}, 'svc.test', (e) => f(shape(e))); }),
        run('bind fixed', (f) => { const s = sock(); s.on('error', (e) => f(shape(e))); s.bind(${fixed}, '127.0.0.1', () => f({ ok: true })); }),
        run('bind all interfaces', (f) => { const s = sock(); s.on('error', (e) => f(shape(e))); s.bind({ port: 0 }, () => f({ ok: true })); }),
        // dns: the loopback server is allowed explicitly by net.connect
        run('g Resolver', (f) => { const r = new dns.Resolver({ timeout: 2000, tries: 1 }); r.setServers(['127.0.0.1:${D}']); r.resolve4('cb.granted.test', (e, a) => f(e ? shape(e) : { ok: true, a })); }),
        run('g promises.Resolver', async () => { const r = new dns.promises.Resolver({ timeout: 2000, tries: 1 }); r.setServers(['127.0.0.1:${D}']); return { ok: true, a: await r.resolve4('promise.granted.test') }; }),
        run('Resolver other server', () => { new dns.Resolver().setServers(['127.0.0.1:${D + 1}']); return { ok: true }; }),
        run('setServers public', () => { dns.setServers(['8.8.8.8']); return { ok: true }; }),
      ]);
      // the default resolver, switched to the loopback server: callback and promise flavours
      dns.setServers(['127.0.0.1:${D}']);
      await Promise.all([
        run('g dns.resolve4', (f) => { dns.resolve4('default.granted.test', (e, a) => f(e ? shape(e) : { ok: true, a })); }),
        run('g dns.promises.resolve4', async () => ({ ok: true, a: await dns.promises.resolve4('default-p.granted.test') })),
        run('g dns.resolve', (f) => { dns.resolve('any.granted.test', 'A', (e, a) => f(e ? shape(e) : { ok: true, a })); }),
      ]);`);
    for (const n of ['g send callback', 'g send offset/length', 'g send promise', 'g send no callback', 'g connect', 'g lookup', 'g bind', 'g Resolver', 'g promises.Resolver', 'g dns.resolve4', 'g dns.promises.resolve4', 'g dns.resolve']) {
      assertGranted(o, n);
    }
    for (const n of ['g Resolver', 'g promises.Resolver', 'g dns.resolve4', 'g dns.promises.resolve4', 'g dns.resolve']) assert.deepEqual(o[n].a, ['127.0.0.1'], n);
    for (const n of ['send callback', 'send event', 'send promise', 'send spelling', 'connect callback', 'connect event']) assertDenied(o, n, `127.0.0.1:${UO}`);
    assertDenied(o, 'send lookup denied', `svc.test:${U}`);
    assertDenied(o, 'connect lookup denied', `svc.test:${U}`);
    assertDenied(o, 'bind fixed', `127.0.0.1:${fixed}`);
    assertDenied(o, 'bind all interfaces', '0.0.0.0:0');
    assertDenied(o, 'Resolver other server', `127.0.0.1:${D + 1}`, { sync: true });
    assertDenied(o, 'setServers public', '8.8.8.8:53', { sync: true });
    await sleep(100);
    for (const tag of ['d-send-cb', 'd-send-slice', 'd-send-promise', 'd-send-plain', 'd-connected', 'd-lookup']) assert.ok(uok.got.includes(tag), `${tag} arrived: ${uok.text()}`);
    assert.ok(!/d-denied/.test(uok.text()));
    assert.deepEqual(uother.got, [], 'the denied UDP server received nothing');
    assert.deepEqual(ns.names.sort(), ['any.granted.test', 'cb.granted.test', 'default-p.granted.test', 'default.granted.test', 'promise.granted.test']);
  } finally {
    await uok.close();
    await uother.close();
    await ns.close();
  }
});

test('audit mode lets denied calls through and publishes each on diagnostics_channel blackbox-native:violation', { skip }, async () => {
  const ok = await tcpServer();
  const other = await tcpServer();
  const uother = await udpServer();
  const OTHER = other.port;
  try {
    const o = await child(`
      const seen = [];
      require('node:diagnostics_channel').subscribe('blackbox-native:violation', (m) => seen.push(m));
      bb.lockdown({ net: { connect: ['127.0.0.1:${ok.port}'], listen: ['127.0.0.1:0'] }, mode: 'audit' });
      await Promise.all([
        run('net.connect', (f) => { net.connect(${OTHER}, '127.0.0.1', talk('a-net', f)).on('error', (e) => f(shape(e))); }),
        run('fetch', async () => { const r = await fetch('http://127.0.0.1:${OTHER}/a-fetch'); return { ok: true, status: r.status }; }),
        run('dgram', (f) => { const s = dgram.createSocket('udp4'); s.send('a-udp', ${uother.port}, '127.0.0.1', (e) => { f(shape(e)); s.close(); }); }),
      ]);
      results.seen = seen.map((m) => ({ permission: m.permission, resource: m.resource, layer: m.layer, stack: typeof m.stack === 'string' && m.stack.length > 0 }));`);
    for (const n of ['net.connect', 'fetch', 'dgram']) assertGranted(o, n);
    const want = { permission: 'Net', resource: `127.0.0.1:${OTHER}`, layer: 'js', stack: true };
    assert.ok(o.seen.filter((m) => JSON.stringify(m) === JSON.stringify(want)).length >= 2, JSON.stringify(o.seen));
    assert.ok(o.seen.some((m) => m.resource === `127.0.0.1:${uother.port}`));
    await sleep(100);
    assert.ok(other.has('a-net') && other.has('GET /a-fetch'), other.text());
    assert.deepEqual(uother.got, ['a-udp']);
  } finally {
    await ok.close();
    await other.close();
    await uother.close();
  }
});

test('undoing the patches (originals captured before lockdown, a fresh copy of the package, Module._load, tcp_wrap, a Worker) never reaches a denied port: the kernel answers', { skip }, async () => {
  const ok = await tcpServer();
  const other = await tcpServer();
  const uother = await udpServer();
  const ns = await dnsServer();
  const OK = ok.port;
  const OTHER = other.port;
  try {
    const o = await child(`
      const Module = require('node:module');
      const { Worker } = require('node:worker_threads');
      const origConnect = net.Socket.prototype.connect;
      const origListen = net.Server.prototype.listen;
      const origCreateConnection = net.createConnection;
      const origAgentCreate = http.Agent.prototype.createConnection;
      const origSend = dgram.Socket.prototype.send;
      const origBind = dgram.Socket.prototype.bind;
      const origFetch = globalThis.fetch;
      const resolver = new dns.Resolver({ timeout: 500, tries: 1 });
      resolver.setServers(['127.0.0.1:${ns.port}']);
      const origResolve4 = dns.Resolver.prototype.resolve4;
      bb.lockdown({ net: { connect: ['127.0.0.1:${OK}'], listen: ['127.0.0.1:0'] } });
      const bypass = (e) => (e ? { code: e.code, name: e.name, layer: e.layer, causeCode: e.cause && e.cause.code, syscall: e.syscall } : { connected: true });
      await Promise.all([
        run('control', (f) => { net.connect(${OK}, '127.0.0.1', talk('u-control', f)).on('error', (e) => f(shape(e))); }),
        run('captured Socket#connect', (f) => { const s = new net.Socket(); s.on('error', (e) => f(bypass(e))); origConnect.call(s, ${OTHER}, '127.0.0.1', () => { s.end('u-leak-orig'); f(bypass()); }); }),
        run('captured net.createConnection', (f) => { const s = origCreateConnection({ port: ${OTHER}, host: '127.0.0.1' }, () => { s.end('u-leak-cc'); f(bypass()); }); s.on('error', (e) => f(bypass(e))); }),
        run('captured Agent#createConnection', (f) => { const s = origAgentCreate.call(new http.Agent(), { port: ${OTHER}, host: '127.0.0.1' }); s.on('connect', () => { s.end('u-leak-agent'); f(bypass()); }); s.on('error', (e) => f(bypass(e))); }),
        run('captured fetch', () => origFetch('http://127.0.0.1:${OTHER}/u-leak-fetch').then(() => bypass(), (e) => bypass(e.cause || e))),
        run('captured Server#listen', (f) => { const s = net.createServer(); s.on('error', (e) => f(bypass(e))); origListen.call(s, ${OTHER + 1 > 65535 ? OTHER - 1 : OTHER + 1}, '127.0.0.1', () => f(bypass())); }),
        run('captured dgram send', (f) => { const s = dgram.createSocket('udp4'); s.bind = origBind; s.on('error', (e) => f(bypass(e))); origSend.call(s, 'u-leak-udp', ${uother.port}, '127.0.0.1', (e) => f(bypass(e))); }),
        run('captured Resolver#resolve4', (f) => { origResolve4.call(resolver, 'leak.test', (e) => f(bypass(e))); }),
        run('Module._load', (f) => { const n2 = Module._load('node:net', module, false); const s = n2.connect(${OTHER}, '127.0.0.1', () => { s.end('u-leak-load'); f(bypass()); }); s.on('error', (e) => f({ same: n2 === net, ...bypass(e) })); }),
        run('tcp_wrap', (f) => {
          const { TCP, TCPConnectWrap, constants } = process.binding('tcp_wrap');
          const h = new TCP(constants.SOCKET);
          const req = new TCPConnectWrap();
          req.oncomplete = (status) => { f({ status }); h.close(); };
          const rc = h.connect(req, '127.0.0.1', ${OTHER});
          if (rc !== 0) { f({ status: rc }); h.close(); }
        }),
        run('Worker', (f) => {
          const w = new Worker(\`
            const { parentPort } = require('node:worker_threads');
            const s = require('node:net').connect(${OTHER}, '127.0.0.1', () => { s.end('u-leak-worker'); parentPort.postMessage({ connected: true }); });
            s.on('error', (e) => parentPort.postMessage({ code: e.code, name: e.name, layer: e.layer, causeCode: e.cause && e.cause.code }));\`, { eval: true });
          w.on('message', (m) => { f(m); w.terminate(); });
          w.on('error', (e) => f({ workerError: String(e) }));
        }, 8000),
      ]);
      // restore the original on the prototype itself
      const guarded = net.Socket.prototype.connect;
      net.Socket.prototype.connect = origConnect;
      await run('restored prototype', (f) => { const s = net.connect(${OTHER}, '127.0.0.1', () => { s.end('u-leak-restored'); f(bypass()); }); s.on('error', (e) => f(bypass(e))); });
      net.Socket.prototype.connect = guarded;
      // a fresh copy of the package (delete require.cache): its own guards allow everything, the first ones still answer
      for (const k of Object.keys(require.cache)) if (k.startsWith(${JSON.stringify(ROOT + '/dist/')})) delete require.cache[k];
      try {
        const fresh = require(${JSON.stringify(ROOT)});
        results.freshDistinct = fresh !== bb;
        fresh.guard({ net: true });
      } catch (e) { results.freshError = String(e); }
      await run('fresh copy', (f) => { const s = net.connect(${OTHER}, '127.0.0.1', () => { s.end('u-leak-fresh'); f(bypass()); }); s.on('error', (e) => f(bypass(e))); });`);
    assertGranted(o, 'control');
    const kernelOrGuard = (n) => {
      const v = o[n];
      assert.ok(v && !v.connected && !v.timeout, `${n}: ${JSON.stringify(v)}`);
      const isKernelErrno = v.code === 'EACCES';
      const isPv = v.code === 'ERR_ACCESS_DENIED' && v.name === 'PolicyViolation' && (v.layer === 'js' || (v.layer === 'kernel' && v.causeCode === 'EACCES'));
      assert.ok(isKernelErrno || isPv, `${n}: ${JSON.stringify(v)}`);
      return v;
    };
    // the originals bypass the JS layer: the kernel's EACCES comes back raw
    for (const n of ['captured Socket#connect', 'captured Server#listen', 'restored prototype']) assert.equal(kernelOrGuard(n).code, 'EACCES', n);
    // the captured dgram send still meets the guarded lookup/bind path or the supervisor
    kernelOrGuard('captured dgram send');
    // entry points captured early still end in the guarded prototype
    assert.equal(o.freshDistinct, true, o.freshError);
    for (const n of ['captured net.createConnection', 'captured Agent#createConnection', 'captured fetch', 'Module._load', 'fresh copy']) {
      const v = kernelOrGuard(n);
      assert.equal(v.code, 'ERR_ACCESS_DENIED', n);
    }
    assert.equal(o['Module._load'].same, true);
    assert.equal(o.tcp_wrap.status, -13, 'raw tcp_wrap connect: EACCES from Landlock');
    kernelOrGuard('Worker');
    // c-ares' UDP socket is refused by seccomp (net.dns false)
    assert.ok(o['captured Resolver#resolve4'].code, JSON.stringify(o['captured Resolver#resolve4']));
    await sleep(100);
    assert.ok(ok.has('u-control'));
    assert.equal(other.conns.length, 0, `the denied server received nothing: ${other.text()}`);
    assert.deepEqual(uother.got, []);
    assert.deepEqual(ns.names, []);
  } finally {
    await ok.close();
    await other.close();
    await uother.close();
    await ns.close();
  }
});
