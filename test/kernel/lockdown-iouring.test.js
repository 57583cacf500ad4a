'use strict';
// io_uring rings that exist at lockdown (libuv >= 1.45 opens one per event loop for epoll_ctl
// batching; Node 22+ always). The filter allows io_uring_enter only on the rings the
// preflight accepted; what is submitted to them is not seen by seccomp. These cases MEASURE
// what the kernel does with such submissions after lockdown (the report's warning states
// it), using a ring the test addon makes before lockdown with libuv's shape (256 entries, no
// SQPOLL), and refuse the rings that are not libuv's.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const fs = require('node:fs');
const path = require('node:path');
const { haveKernel, runChild, recordingServer, tempDir, ROOT } = require('../helpers/harness');

const skip = haveKernel();
const EACCES = -13;
const ENOSYS = -38;
const NR = { io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427 };

function udpServer(lifetimeMs = 30000) {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const got = [];
    s.on('message', (m) => got.push(m.toString('latin1')));
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const timer = setTimeout(() => s.close(), lifetimeMs);
      timer.unref();
      resolve({ port: s.address().port, got, close: () => { clearTimeout(timer); try { s.close(); } catch { /* closed */ } } });
    });
  });
}

test('operations submitted to a pre-lockdown ring: Landlock applies (inline and io-wq), seccomp does not see them', { skip, timeout: 60000 }, async () => {
  const { dir, cleanup } = tempDir('bb-iouring-');
  fs.mkdirSync(path.join(dir, 'ok'));
  fs.mkdirSync(path.join(dir, 'no'));
  const allowed = await recordingServer();
  const denied = await recordingServer();
  const udp = await udpServer();
  try {
    const r = await runChild(`
      const fs = require('node:fs');
      const D = ${JSON.stringify(dir)};
      const ring = t.uringSetup(256, 0);
      if (ring < 0) { out({ noRing: ring }); process.exit(0); }
      const res = { ring };
      // An io-wq worker made BEFORE lockdown (an O_CREAT open always goes to io-wq; idle
      // workers live for seconds): would it still run later requests with its old creds?
      res.pre = t.uringOpenat(ring, D + '/ok/pre', t.O_WRONLY | t.O_CREAT, 0o600, true);
      const ioThreads = () => fs.readdirSync('/proc/self/task').map((x) => { try { return fs.readFileSync('/proc/self/task/' + x + '/comm', 'utf8').trim(); } catch { return ''; } }).filter((c) => c.startsWith('iou-wrk'));
      res.workersBefore = ioThreads().length;
      const rep = bb.lockdown({ fs: { read: true, write: [D + '/ok'] }, net: { connect: [':${allowed.port}'], listen: false, dns: false } });
      res.warnings = rep.warnings.filter((w) => w.startsWith('io_uring'));
      res.seccomp = rep.layers.seccomp; res.landlock = rep.layers.landlock;
      for (const a of [false, true]) {
        const k = a ? 'async' : 'inline';
        res['openDenied_' + k] = t.uringOpenat(ring, D + '/no/' + k, t.O_WRONLY | t.O_CREAT, 0o600, a);
        res['openGranted_' + k] = t.uringOpenat(ring, D + '/ok/' + k, t.O_WRONLY | t.O_CREAT, 0o600, a);
        const s1 = t.uringSocket(ring, t.AF_INET, t.SOCK_STREAM, 0, a);
        res['connectDenied_' + k] = s1 < 0 ? 'socket ' + s1 : t.uringConnect(ring, s1, ${denied.port}, a);
        const s2 = t.uringSocket(ring, t.AF_INET, t.SOCK_STREAM, 0, a);
        res['connectGranted_' + k] = s2 < 0 ? 'socket ' + s2 : t.uringConnect(ring, s2, ${allowed.port}, a);
        // UDP to a port no rule grants: the plain syscalls are refused (seccomp, or the
        // connect supervisor where it runs); the same datagram through the ring is not.
        res['udpPlain_' + k] = t.udpSend('127.0.0.1', ${udp.port}, 'plain-' + k);
        const s3 = t.uringSocket(ring, t.AF_INET, t.SOCK_DGRAM, 0, a);
        res['udpRing_' + k] = s3 < 0 ? 'socket ' + s3 : t.uringSendto(ring, s3, ${udp.port}, 'ring-' + k, a);
      }
      res.workersAfter = ioThreads().length;
      // Still usable: the accepted ring. Denied: new rings, registrations, other fds.
      res.nop = t.uringNop(ring);
      res.setup = t.syscall(${NR.io_uring_setup}, 8, 0);
      res.setupAddon = t.uringSetup(8, 0);
      res.register = t.uringRegisterPersonality(ring);
      res.enterOther = t.syscall(${NR.io_uring_enter}, 0, 0, 0, 0, 0, 0);
      out(res);
      setTimeout(() => process.exit(0), 200);`, { timeout: 30000 });
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    if (o.noRing !== undefined) {
      // io_uring disabled on this kernel (sysctl kernel.io_uring_disabled): nothing to measure,
      // and a process there has no ring to worry about.
      assert.ok([-1, -38, -12].includes(o.noRing), `io_uring_setup failed with ${o.noRing}`);
      return;
    }
    assert.ok(o.pre >= 0, 'the pre-lockdown open worked');
    assert.ok(o.workersBefore >= 1, 'an io-wq worker existed before lockdown');
    assert.equal(o.seccomp, true);
    assert.ok(o.landlock >= 4, 'Landlock with TCP port rules');
    // The report states it in words.
    assert.equal(o.warnings.length, 1, JSON.stringify(o.warnings));
    assert.match(o.warnings[0], /not seen by seccomp/);
    assert.match(o.warnings[0], /Landlock still applies/);
    assert.match(o.warnings[0], new RegExp(`fd [0-9, ]*\\b${o.ring}\\b`));
    for (const k of ['inline', 'async']) {
      // Landlock: measured on disk and at the servers.
      assert.equal(o[`openDenied_${k}`], EACCES, `${k}: open of a denied path for writing`);
      assert.ok(o[`openGranted_${k}`] >= 0, `${k}: open in the granted dir: ${o[`openGranted_${k}`]}`);
      assert.equal(o[`connectDenied_${k}`], EACCES, `${k}: connect to a denied port`);
      assert.equal(o[`connectGranted_${k}`], 0, `${k}: connect to the granted port`);
      // seccomp: does not see the ring.
      assert.ok(o[`udpPlain_${k}`] < 0, `${k}: plain UDP send refused (${o[`udpPlain_${k}`]})`);
      assert.ok(o[`udpRing_${k}`] > 0, `${k}: UDP through the ring was sent (${o[`udpRing_${k}`]})`);
    }
    assert.deepEqual(fs.readdirSync(path.join(dir, 'no')), [], 'nothing created in the denied dir');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'ok')).sort(), ['async', 'inline', 'pre']);
    assert.equal(denied.connections(), 0, 'the denied port saw no connection');
    assert.equal(allowed.connections(), 2, 'the granted port saw both');
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(udp.got.sort(), ['ring-async', 'ring-inline'], 'the ring datagrams arrived, the plain ones did not');
    assert.equal(o.nop, 0, 'io_uring_enter on the accepted ring');
    assert.equal(o.setup, ENOSYS);
    assert.equal(o.setupAddon, ENOSYS);
    assert.equal(o.register, ENOSYS);
    assert.equal(o.enterOther, ENOSYS, 'io_uring_enter on an fd the preflight did not accept');
  } finally {
    udp.close();
    await allowed.close();
    await denied.close();
    cleanup();
  }
});

test('rings that are not libuv\'s epoll ring: preflight refuses and nothing is enforced', { skip, timeout: 60000 }, async () => {
  const cases = {
    sqpoll: 't.uringSetup(8, t.IORING_SETUP_SQPOLL)',
    size: 't.uringSetup(8, 0)',
    personality: '(() => { const r = t.uringSetup(256, 0); return r < 0 ? r : t.uringRegisterPersonality(r); })()',
  };
  for (const [name, make] of Object.entries(cases)) {
    const r = await runChild(`
      const made = ${make};
      const res = { made };
      try { bb.lockdown({ childProcess: false }); res.locked = true; } catch (e) { res.code = e.code; res.step = e.step; res.message = e.message; }
      res.fork = t.forkExit();
      res.status = bb.status();
      out(res);`);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    const o = r.result;
    if (o.made < 0) {
      assert.ok([-1, -38, -12].includes(o.made), `${name}: ring setup failed with ${o.made}`);
      continue; // io_uring disabled here
    }
    assert.equal(o.code, 'ERR_BLACKBOX_LOCKDOWN', `${name}: ${JSON.stringify(o)}`);
    assert.equal(o.step, 'preflight', name);
    assert.ok(o.fork > 0, `${name}: nothing was enforced (fork ${o.fork})`);
    assert.equal(o.status, null, `${name}: no lockdown state`);
    assert.match(o.message, name === 'sqpoll' ? /SQPOLL/ : name === 'size' ? /size/ : /personalit/, name);
  }
});

test('libuv keeps working with its epoll rings: HTTP server, fs, child process, a later Worker', { skip, timeout: 60000 }, async () => {
  const { dir, cleanup } = tempDir('bb-iouring-uv-');
  try {
    const r = await runChild(`
      const fs = require('node:fs');
      const http = require('node:http');
      const { execFile } = require('node:child_process');
      const { Worker } = require('node:worker_threads');
      const native = require('node-gyp-build')(${JSON.stringify(ROOT)});
      const res = { uv: process.versions.uv, rings: native.ioUringFds().length };
      const rep = bb.lockdown({ fs: { read: true, write: [${JSON.stringify(dir)}] }, net: { listen: [':0'], connect: true }, childProcess: [process.execPath], workers: true });
      res.warnings = rep.warnings.filter((w) => w.startsWith('io_uring'));
      const server = http.createServer((q, s) => s.end('pong ' + q.url)).listen(0, '127.0.0.1', async () => {
        const port = server.address().port;
        try {
          const bodies = [];
          for (let i = 0; i < 20; i++) {
            const b = await new Promise((ok, ko) => http.get({ host: '127.0.0.1', port, path: '/' + i, agent: false }, (m) => { let d = ''; m.on('data', (c) => { d += c; }); m.on('end', () => ok(d)); }).on('error', ko));
            bodies.push(b);
          }
          res.http = bodies.filter((b, i) => b === 'pong /' + i).length;
          await fs.promises.writeFile(${JSON.stringify(path.join(dir, 'f'))}, 'data');
          res.fs = await fs.promises.readFile(${JSON.stringify(path.join(dir, 'f'))}, 'utf8');
          res.child = await new Promise((ok) => execFile(process.execPath, ['-e', 'console.log(6*7)'], (e, so) => ok(e ? e.code : so.trim())));
          res.worker = await new Promise((ok) => { const w = new Worker('require("node:worker_threads").parentPort.postMessage(1+1)', { eval: true }); w.on('message', ok); w.on('error', (e) => ok(e.message)); });
        } catch (e) { res.error = e.message; }
        server.close();
        out(res);
      });`, { timeout: 30000 });
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.error, undefined);
    assert.equal(o.http, 20);
    assert.equal(o.fs, 'data');
    assert.equal(o.child, '42');
    assert.equal(o.worker, 2);
    // The report names the rings exactly when there are some (Node 22+: libuv >= 1.51 makes
    // them always; Node 20 only with UV_USE_IO_URING=1, whose SQPOLL ring is refused).
    assert.equal(o.warnings.length, o.rings > 0 ? 1 : 0, JSON.stringify(o));
    const [maj, min] = o.uv.split('.').map(Number);
    if (maj > 1 || min >= 49) assert.ok(o.rings > 0, `libuv ${o.uv} makes its epoll rings by default`);
  } finally {
    cleanup();
  }
});

test('Node 20 with UV_USE_IO_URING=1 (SQPOLL rings): preflight refuses; without SQPOLL rings lockdown proceeds', { skip }, async () => {
  const r = await runChild(`
    const native = require('node-gyp-build')(${JSON.stringify(ROOT)});
    require('node:fs').stat(__filename, () => {});
    const st = native.ioUringState();
    const res = { rings: st.rings.length, sqpoll: st.ioThreads.filter((x) => x.comm.startsWith('iou-sqp')).length };
    try { bb.lockdown(); res.locked = true; } catch (e) { res.code = e.code; res.step = e.step; }
    res.fork = t.forkExit();
    out(res);`, { env: { UV_USE_IO_URING: '1' } });
  assert.equal(r.status, 0, r.stderr);
  const o = r.result;
  if (o.sqpoll > 0) {
    assert.equal(o.code, 'ERR_BLACKBOX_LOCKDOWN');
    assert.equal(o.step, 'preflight');
    assert.ok(o.fork > 0, 'nothing was enforced');
  } else {
    // libuv >= 1.49 makes SQPOLL rings only for loops configured with UV_LOOP_USE_IO_URING_SQPOLL.
    assert.equal(o.locked, true, JSON.stringify(o));
    assert.equal(o.fork, EACCES);
  }
});
