'use strict';
// lockdown twice narrows, widening throws and changes nothing; status/has;
// preflight refusals; a platform without the addon; an unprivileged user.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { haveKernel, runChild, recordingServer, sleep, ROOT } = require('../helpers/harness');

const skip = haveKernel();
const EACCES = -13;

test('a second lockdown narrows; a widening one throws ERR_BLACKBOX_POLICY and changes nothing', { skip }, async () => {
  const a = await recordingServer();
  const b = await recordingServer();
  try {
    const r = await runChild(`
      const res = {};
      bb.lockdown({ net: { connect: [':${a.port}', ':${b.port}'] } });
      res.b1 = t.tcpConnect('127.0.0.1', ${b.port}, 0, 'b1');
      const rep = bb.lockdown({ net: { connect: [':${a.port}'] } });
      res.connect = rep.policy.net.connect.map((x) => x.source);
      res.a2 = t.tcpConnect('127.0.0.1', ${a.port}, 0, 'a2');
      res.b2 = t.tcpConnect('127.0.0.1', ${b.port}, 0, 'b2');
      try { bb.lockdown({ net: { connect: [':${a.port}', ':${b.port}'] } }); res.widen = 'accepted'; }
      catch (e) { res.widen = e.code; res.field = e.field; res.isType = e instanceof TypeError; }
      try { bb.lockdown({ net: true }); res.widen2 = 'accepted'; } catch (e) { res.widen2 = e.code; }
      res.a3 = t.tcpConnect('127.0.0.1', ${a.port}, 0, 'a3');
      res.b3 = t.tcpConnect('127.0.0.1', ${b.port}, 0, 'b3');
      res.status = bb.status().policy.net.connect.map((x) => x.source);
      res.hasA = bb.has('net', '127.0.0.1:${a.port}');
      res.hasB = bb.has('net', '127.0.0.1:${b.port}');
      out(res);`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.b1, 0);
    assert.deepEqual(o.connect, [`:${a.port}`]);
    assert.equal(o.a2, 0);
    assert.equal(o.b2, EACCES);
    assert.equal(o.widen, 'ERR_BLACKBOX_POLICY');
    assert.equal(o.isType, true);
    assert.match(o.field, /^net\.connect/);
    assert.equal(o.widen2, 'ERR_BLACKBOX_POLICY');
    assert.equal(o.a3, 0);
    assert.equal(o.b3, EACCES);
    assert.deepEqual(o.status, [`:${a.port}`]);
    assert.equal(o.hasA, true);
    assert.equal(o.hasB, false);
    await sleep(50);
    assert.equal(a.text(), 'a2a3');
    assert.equal(b.text(), 'b1');
  } finally {
    await a.close();
    await b.close();
  }
});

test('a malformed policy throws before anything is enforced', { skip }, async () => {
  const r = await runChild(`
    const res = {};
    try { bb.lockdown({ net: { connect: ['10.0.0.300'] } }); } catch (e) { res.code = e.code; res.field = e.field; }
    res.status = bb.status();
    res.fork = t.forkExit();
    out(res);`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.result.code, 'ERR_BLACKBOX_POLICY');
  assert.equal(r.result.field, 'net.connect[0]');
  assert.equal(r.result.status, null);
  assert.ok(r.result.fork > 0, 'nothing was enforced');
});

test('status() is null before, the report after; has() answers from the policy', { skip }, async () => {
  const r = await runChild(`
    const before = bb.status();
    const hasBefore = bb.has('child');
    const rep = bb.lockdown({ fs: { write: ['/tmp'] } });
    out({ before, hasBefore, same: JSON.stringify(bb.status()) === JSON.stringify(rep), rep,
          hasChild: bb.has('child'), hasWriteTmp: bb.has('fs.write', '/tmp/x'), hasWriteEtc: bb.has('fs.write', '/etc/passwd'),
          hasRead: bb.has('fs.read', '/etc/hostname'), hasNet: bb.has('net'), hasWorker: bb.has('worker'), hasAddon: bb.has('addon') });`);
  assert.equal(r.status, 0, r.stderr);
  const o = r.result;
  assert.equal(o.before, null);
  assert.equal(o.hasBefore, true);
  assert.equal(o.same, true);
  assert.equal(o.hasChild, false);
  assert.equal(o.hasWriteTmp, true);
  assert.equal(o.hasWriteEtc, false);
  assert.equal(o.hasRead, true);
  assert.equal(o.hasNet, false);
  assert.equal(o.hasWorker, true);
  assert.equal(o.hasAddon, false);
  assert.equal(o.rep.layers.seccomp, true);
  assert.equal(typeof o.rep.layers.landlock, 'number');
  assert.equal(o.rep.layers.netSupervisor, false);
  assert.equal(o.rep.platform, `${process.platform}-${process.arch}`);
});

test('ESM import sees the same module: lockdown through import, status through require', { skip }, async () => {
  const r = await runChild(`
    import(${JSON.stringify(path.join(ROOT, 'esm', 'index.mjs'))}).then((m) => {
      m.lockdown();
      out({ same: bb.status() !== null && m.status() === bb.status(), fork: t.forkExit() });
    });`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.result.same, true);
  assert.equal(r.result.fork, EACCES);
});

// io_uring preflight cases (accepted libuv rings, refused SQPOLL/personality/odd rings,
// UV_USE_IO_URING=1): test/kernel/lockdown-iouring.test.js.

test('without the addon (another platform, a failed build) lockdown loads, reports in words, enforces nothing in the kernel', async () => {
  // Simulate: the loader finds no addon. node-gyp-build's override names a directory with
  // no build (so the build/Release fast path steps aside), and node-gyp-build itself is
  // replaced before blackbox-native loads it.
  const r = await runChild(`
    process.env.BLACKBOX_NATIVE_PREBUILD = '/nonexistent-blackbox-prebuild';
    const Module = require('node:module');
    const real = Module._load;
    Module._load = function (req, ...rest) {
      if (req === 'node-gyp-build') return () => { throw new Error('No native build was found for platform=test'); };
      return real.call(this, req, ...rest);
    };
    // a fresh copy of the package, loaded with the loader replaced
    for (const k of Object.keys(require.cache)) if (k.startsWith(${JSON.stringify(path.join(ROOT, 'dist') + path.sep)})) delete require.cache[k];
    const lib = require(${JSON.stringify(ROOT)});
    let warned = null;
    process.on('warning', (w) => { warned = w.code || w.name; });
    const rep = lib.lockdown();
    setImmediate(() => out({ rep, warned }));`);
  assert.equal(r.status, 0, r.stderr);
  const rep = r.result.rep;
  assert.equal(rep.layers.seccomp, false);
  assert.equal(rep.layers.landlock, false);
  assert.equal(rep.layers.netSupervisor, false);
  const w = rep.warnings.join('\n');
  assert.match(w, process.platform === 'linux' ? /native addon could not be loaded/ : /no kernel layer/);
  assert.match(w, /no kernel layer/);
  assert.equal(r.result.warned, 'BLACKBOX_NO_KERNEL');
});

test('works unprivileged: the same lockdown as uid 65534 (root only: skipped otherwise)', { skip: skip || (process.getuid && process.getuid() !== 0 ? 'needs root to drop to nobody' : false) }, async (tc) => {
  const srv = await recordingServer();
  try {
    // the package must be readable by nobody
    try { fs.accessSync(path.join(ROOT, 'dist', 'index.js'), fs.constants.R_OK); } catch { tc.skip('package not readable'); return; }
    const r = await runChild(`
      const rep = bb.lockdown({ net: { connect: [':${srv.port}'] } });
      out({ uid: process.getuid(), nnp: true, ok: t.tcpConnect('127.0.0.1', ${srv.port}, 0, 'nobody'), fork: t.forkExit(), layers: rep.layers });`,
    { uid: 65534, gid: 65534, cwd: '/tmp' });
    if (r.status !== 0 && /EACCES|permission denied/i.test(r.stderr) && !r.result) {
      tc.skip(`the checkout is not readable by nobody: ${r.stderr.split('\n')[0]}`);
      return;
    }
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.result.uid, 65534);
    assert.equal(r.result.ok, 0);
    assert.equal(r.result.fork, EACCES);
    assert.equal(r.result.layers.seccomp, true);
    assert.ok(r.result.layers.landlock >= 1);
    await sleep(50);
    assert.equal(srv.text(), 'nobody');
  } finally {
    await srv.close();
  }
});
