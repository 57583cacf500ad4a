'use strict';
// guard(): reversible, JS only, nests, never loosens a lockdown; the test
// helpers; the diagnostics channel. Fresh children, loopback evidence.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { haveKernel, runChild, recordingServer, sleep, ROOT } = require('../helpers/harness');

const skip = haveKernel();

const connectSnippet = `
  const net = require('node:net');
  const tryConnect = (port, host = '127.0.0.1', tag = 'x') => new Promise((resolve) => {
    const s = net.connect(port, host, () => { s.end(tag); resolve('ok'); });
    s.on('error', (e) => resolve(e instanceof bb.PolicyViolation ? 'violation:' + e.layer + ':' + e.resource : e.code));
  });`;

test('guard({ net: false }) denies, dispose() restores; guards nest; files are untouched', async () => {
  const srv = await recordingServer();
  try {
    const r = await runChild(`${connectSnippet}
      (async () => {
        const res = {};
        const g = bb.guard({ net: false });
        res.denied = await tryConnect(${srv.port}, '127.0.0.1', 'denied');
        require('fs').writeFileSync(require('os').tmpdir() + '/bb-guard-' + process.pid, 'x');
        res.fsUntouched = true;
        const inner = bb.guard({ net: { connect: [':${srv.port}'] } });
        res.innerStillDenied = await tryConnect(${srv.port}, '127.0.0.1', 'inner');
        inner.dispose();
        g.dispose();
        g.dispose();
        res.active = g.active;
        res.after = await tryConnect(${srv.port}, '127.0.0.1', 'after');
        const g2 = bb.guard({ net: { connect: [':${srv.port}'] } });
        res.scoped = await tryConnect(${srv.port}, '127.0.0.1', 'scoped');
        res.hasDispose = typeof g2[Symbol.dispose || Symbol.for('nodejs.dispose')] === 'function';
        g2.dispose();
        require('fs').unlinkSync(require('os').tmpdir() + '/bb-guard-' + process.pid);
        out(res);
      })();`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.denied, `violation:js:127.0.0.1:${srv.port}`);
    assert.equal(o.fsUntouched, true);
    assert.equal(o.innerStillDenied, `violation:js:127.0.0.1:${srv.port}`, 'an inner guard cannot loosen an outer one');
    assert.equal(o.active, false);
    assert.equal(o.after, 'ok');
    assert.equal(o.scoped, 'ok');
    assert.equal(o.hasDispose, true);
    await sleep(50);
    assert.equal(srv.text(), 'afterscoped');
  } finally {
    await srv.close();
  }
});

test('a guard never loosens a lockdown', { skip }, async () => {
  const srv = await recordingServer();
  try {
    const r = await runChild(`${connectSnippet}
      (async () => {
        bb.lockdown();
        const g = bb.guard({ net: true });
        const res = { js: await tryConnect(${srv.port}), raw: t.tcpConnect('127.0.0.1', ${srv.port}, 0, 'raw') };
        g.dispose();
        out(res);
      })();`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.result.js, `violation:js:127.0.0.1:${srv.port}`);
    assert.equal(r.result.raw, -13);
    await sleep(50);
    assert.equal(srv.text(), '');
  } finally {
    await srv.close();
  }
});

// policy/intersect is loaded on first need (state.ts pushGuard, lockdown.ts second call),
// i.e. after a lockdown whose fs.read does not list this package: the load must pass both
// Landlock and the JS fs guard (the CJS loader reads with the guarded fs.readFileSync), and
// the narrowing must then hold. Judged by the bytes and the file left on disk.
test('after a lockdown with a restricted fs.read, guard() and a second lockdown still load their code and narrow', { skip }, async () => {
  const fs = require('node:fs');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-lazy-'));
  const sub = path.join(dir, 'sub');
  fs.mkdirSync(sub);
  fs.writeFileSync(path.join(dir, 'outer.txt'), 'outer');
  fs.writeFileSync(path.join(sub, 'inner.txt'), 'inner');
  try {
    const r = await runChild(`
      const fs = require('node:fs');
      const res = {};
      const read = (f) => { try { return fs.readFileSync(f, 'utf8'); } catch (e) { return (e instanceof bb.PolicyViolation ? 'violation:' + e.layer : '') + e.code; } };
      bb.lockdown({ fs: { read: [${JSON.stringify(dir)}], write: [${JSON.stringify(dir)}] } });
      res.loadedEarly = Object.keys(require.cache).some((f) => f.endsWith('intersect.js'));
      try {
        const g = bb.guard({ fs: { read: [${JSON.stringify(sub)}], write: false } });
        res.gInner = read(${JSON.stringify(path.join(sub, 'inner.txt'))});
        res.gOuter = read(${JSON.stringify(path.join(dir, 'outer.txt'))});
        try { fs.writeFileSync(${JSON.stringify(path.join(dir, 'g-write.txt'))}, 'x'); res.gWrite = 'written'; } catch (e) { res.gWrite = e.code; }
        g.dispose();
      } catch (e) { res.guardError = String(e && e.stack || e); }
      res.afterOuter = read(${JSON.stringify(path.join(dir, 'outer.txt'))});
      try {
        bb.lockdown({ fs: { read: [${JSON.stringify(sub)}], write: false } });
        res.second = 'ok';
      } catch (e) { res.second = String(e && e.stack || e); }
      res.kInner = read(${JSON.stringify(path.join(sub, 'inner.txt'))});
      res.kOuterRaw = (() => { try { return require('node:fs').readFileSync(${JSON.stringify(path.join(dir, 'outer.txt'))}, 'utf8'); } catch (e) { return e.code; } })();
      try { fs.writeFileSync(${JSON.stringify(path.join(sub, 'k-write.txt'))}, 'x'); res.kWrite = 'written'; } catch (e) { res.kWrite = e.code; }
      out(res);`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.loadedEarly, false, 'a first lockdown does not load policy/intersect');
    assert.equal(o.guardError, undefined);
    assert.equal(o.gInner, 'inner');
    assert.equal(o.gOuter, 'violation:jsERR_ACCESS_DENIED');
    assert.equal(o.gWrite, 'ERR_ACCESS_DENIED');
    assert.equal(o.afterOuter, 'outer', 'dispose() restores the lockdown layer');
    assert.equal(o.second, 'ok');
    assert.equal(o.kInner, 'inner');
    assert.equal(o.kOuterRaw, 'ERR_ACCESS_DENIED');
    assert.equal(o.kWrite, 'ERR_ACCESS_DENIED');
    assert.equal(fs.existsSync(path.join(dir, 'g-write.txt')), false);
    assert.equal(fs.existsSync(path.join(sub, 'k-write.txt')), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('violations are published on diagnostics_channel blackbox-native:violation', { skip }, async () => {
  const r = await runChild(`${connectSnippet}
    const dc = require('node:diagnostics_channel');
    const seen = [];
    dc.subscribe(bb.VIOLATION_CHANNEL, (m) => seen.push(m));
    bb.lockdown();
    tryConnect(9).then((res) => out({ res, seen, name: bb.VIOLATION_CHANNEL }));`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.result.name, 'blackbox-native:violation');
  assert.equal(r.result.seen.length, 1);
  const m = r.result.seen[0];
  assert.equal(m.permission, 'Net');
  assert.equal(m.resource, '127.0.0.1:9');
  assert.equal(m.layer, 'js');
  assert.match(m.stack, /PolicyViolation|blackbox-native/);
});

test('blackbox-native/test: blockNetwork allows loopback by default, denies the rest; register works with --require', async () => {
  const srv = await recordingServer();
  try {
    const r = await runChild(`${connectSnippet}
      const { blockNetwork } = require('blackbox-native/test');
      (async () => {
        const g = blockNetwork({ allowLocalhost: false, allow: ['127.0.0.1:${srv.port}'] });
        const res = { ok: await tryConnect(${srv.port}, '127.0.0.1', 'allowed'), other: await tryConnect(${srv.port}, '127.0.0.2') };
        g.dispose();
        out(res);
      })();`, { cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.result.ok, 'ok');
    assert.equal(r.result.other, `violation:js:127.0.0.2:${srv.port}`);

    const reg = await runChild(`${connectSnippet}
      (async () => out({ loop: await tryConnect(${srv.port}, '127.0.0.1', 'loop'), any: await tryConnect(${srv.port}, '0.0.0.0') }))();`,
    { args: ['--require', path.join(ROOT, 'dist', 'testing-register.js')] });
    assert.equal(reg.status, 0, reg.stderr);
    assert.equal(reg.result.loop, 'ok');
    assert.equal(reg.result.any, `violation:js:0.0.0.0:${srv.port}`);
    await sleep(50);
    assert.equal(srv.text(), 'allowedloop');
  } finally {
    await srv.close();
  }
});
