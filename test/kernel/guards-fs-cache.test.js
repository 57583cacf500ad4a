'use strict';
// The fs guards remember allowed decisions (src/guards/cache.ts). What must hold, each in a
// fresh child, judged by what the child could read and by the files on disk:
// - a namespace change made through the guarded fs API (sync, callback, promise; the async
//   ones also while they are in flight) is seen: the re-pointed path is denied by the JS layer;
// - the key is the absolute path (a relative path after chdir is another file);
// - under lockdown, a swap the guard cannot see (made by another process) is met by the
//   kernel: a PolicyViolation with layer 'kernel', and no byte of the target is read.
// Also the fast path's reading of an options object: a Proxy cannot show one flag to the check
// and another to Node.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { haveKernel, runChild, runProcess, tempDir, ROOT, TEST_ADDON } = require('../helpers/harness');

const skip = haveKernel();

const SER = `const ser = (e) => e && { pv: e instanceof bb.PolicyViolation, code: e.code, permission: e.permission, resource: e.resource, layer: e.layer, cause: e.cause && e.cause.code };
  const rd = (p) => { try { return fs.readFileSync(p, 'utf8'); } catch (e) { return ser(e); } };`;

// (what out() sends: JSON, so a missing cause is no key at all)
function denied(resource, layer = 'js', permission = 'FileSystemRead') {
  const d = { pv: true, code: 'ERR_ACCESS_DENIED', permission, resource, layer };
  return layer === 'kernel' ? { ...d, cause: 'EACCES' } : d;
}

test('fs guard cache: a namespace change through the guarded API forgets remembered allows (sync, promise, callback, in flight)', async () => {
  const a = tempDir('bb-fsc-a-');
  const b = tempDir('bb-fsc-b-');
  try {
    const A = a.dir;
    const B = b.dir;
    const secret = path.join(B, 's');
    fs.writeFileSync(secret, 'TOKEN');
    for (const n of ['f', 'g', 'h']) fs.writeFileSync(path.join(A, n), n.toUpperCase());
    fs.symlinkSync(secret, path.join(A, 'ln-g'));
    fs.symlinkSync(secret, path.join(A, 'ln-h'));
    const r = await runChild(`
      const fs = require('fs');
      const path = require('path');
      ${SER}
      const A = ${JSON.stringify(A)};
      bb.guard({ fs: { read: [A], write: [A] } });
      (async () => {
        const res = {};
        res.f1 = [rd(A + '/f'), rd(A + '/f')]; // remembered
        fs.unlinkSync(A + '/f');
        fs.symlinkSync(${JSON.stringify(secret)}, A + '/f');
        res.f2 = rd(A + '/f');
        res.g1 = [rd(A + '/g'), rd(A + '/g')];
        // The rename runs on the threadpool: a read while it is in flight sees the file before
        // or after it, never the secret. Then the main thread waits (holding the event loop) until
        // the pool has renamed, before JS hears of it: still not remembered.
        const isLink = (p) => fs.lstatSync(p).isSymbolicLink();
        const spin = (p) => { const until = Date.now() + 5000; while (!isLink(p) && Date.now() < until); return isLink(p); };
        const renamed = fs.promises.rename(A + '/ln-g', A + '/g');
        res.gDuring = rd(A + '/g');
        res.gLinked = spin(A + '/g');
        res.gDone = rd(A + '/g');
        await renamed;
        res.g2 = rd(A + '/g');
        res.h1 = [rd(A + '/h'), rd(A + '/h')];
        await new Promise((done) => {
          fs.rename(A + '/ln-h', A + '/h', (err) => { res.hErr = err && err.code; res.h2 = rd(A + '/h'); done(); });
          res.hDuring = rd(A + '/h');
          res.hLinked = spin(A + '/h');
          res.hDone = rd(A + '/h');
        });
        out(res);
      })();`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.ok(o, r.stdout + r.stderr);
    assert.deepEqual(o.f1, ['F', 'F']);
    assert.deepEqual(o.f2, denied(secret), 'symlinkSync after a remembered allow');
    assert.deepEqual(o.g1, ['G', 'G']);
    assert.ok(o.gDuring === 'G' || (o.gDuring && o.gDuring.pv === true), `during the promise rename: ${JSON.stringify(o.gDuring)}`);
    assert.equal(o.gLinked, true);
    assert.deepEqual(o.gDone, denied(secret), 'renamed by the pool, before the promise settled');
    assert.deepEqual(o.g2, denied(secret), 'after fs.promises.rename');
    assert.deepEqual(o.h1, ['H', 'H']);
    assert.equal(o.hErr, null);
    assert.ok(o.hDuring === 'H' || (o.hDuring && o.hDuring.pv === true), `during the callback rename: ${JSON.stringify(o.hDuring)}`);
    assert.equal(o.hLinked, true);
    assert.deepEqual(o.hDone, denied(secret), 'renamed by the pool, before the callback');
    assert.deepEqual(o.h2, denied(secret), 'in the callback of fs.rename');
  } finally {
    a.cleanup();
    b.cleanup();
  }
});

test('fs guard cache: the key is the absolute path — the same relative name after chdir is another file', async () => {
  const a = tempDir('bb-fsc-a-');
  const b = tempDir('bb-fsc-b-');
  try {
    fs.writeFileSync(path.join(a.dir, 'n'), 'A');
    fs.writeFileSync(path.join(b.dir, 'n'), 'B');
    const r = await runChild(`
      const fs = require('fs');
      ${SER}
      bb.guard({ fs: { read: [${JSON.stringify(a.dir)}] } });
      process.chdir(${JSON.stringify(a.dir)});
      const res = { inA: [rd('n'), rd('n')] };
      process.chdir(${JSON.stringify(b.dir)});
      res.inB = rd('n');
      out(res);`);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.result.inA, ['A', 'A']);
    assert.deepEqual(r.result.inB, denied(path.join(b.dir, 'n')));
  } finally {
    a.cleanup();
    b.cleanup();
  }
});

test('fs guard cache: under lockdown, a remembered path re-pointed by another process is denied by the kernel (layer kernel), nothing read', { skip }, async () => {
  const a = tempDir('bb-fsc-a-');
  const b = tempDir('bb-fsc-b-');
  try {
    const A = a.dir;
    const secret = path.join(b.dir, 's');
    fs.writeFileSync(secret, 'TOKEN');
    fs.writeFileSync(path.join(A, 'f'), 'F');
    const go = path.join(A, 'go');
    const code = `
      const bb = require(${JSON.stringify(ROOT)});
      const t = require(${JSON.stringify(TEST_ADDON)});
      const out = (o) => process.stdout.write('\\n@@' + JSON.stringify(o) + '\\n');
      const fs = require('fs');
      ${SER}
      const f = ${JSON.stringify(path.join(A, 'f'))};
      bb.lockdown({ fs: { read: [${JSON.stringify(A)}] } });
      (async () => {
        const res = { before: [rd(f), rd(f), await fs.promises.readFile(f, 'utf8'), await new Promise((r) => fs.readFile(f, 'utf8', (e, d) => r(e ? ser(e) : d)))] };
        process.stdout.write('READY\\n');
        const deadline = Date.now() + 10000;
        while (!fs.existsSync(${JSON.stringify(go)})) {
          if (Date.now() > deadline) return out({ timeout: true });
          await new Promise((r) => setTimeout(r, 10));
        }
        res.sync = rd(f);
        res.promise = await fs.promises.readFile(f, 'utf8').catch(ser);
        res.callback = await new Promise((r) => fs.readFile(f, 'utf8', (e, d) => r(e ? ser(e) : d)));
        out(res);
      })();`;
    const r = await runProcess(process.execPath, ['-e', code], {
      onSpawn: (child, stdout) => {
        const timer = setInterval(() => {
          if (!stdout().includes('READY')) return;
          clearInterval(timer);
          // the swap, from outside the child: its guards cannot hear of it
          fs.unlinkSync(path.join(A, 'f'));
          fs.symlinkSync(secret, path.join(A, 'f'));
          fs.writeFileSync(go, '');
        }, 5);
        child.on('close', () => clearInterval(timer));
      },
    });
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.ok(o && !o.timeout, r.stdout + r.stderr);
    assert.deepEqual(o.before, ['F', 'F', 'F', 'F']);
    // The JS layer answers from its cache (the path was allowed and nothing it saw changed);
    // Landlock is the boundary and refuses the open; the re-check names the real target.
    for (const k of ['sync', 'promise', 'callback']) assert.deepEqual(o[k], denied(secret, 'kernel'), k);
    assert.ok(!r.stdout.includes('TOKEN'));
  } finally {
    a.cleanup();
    b.cleanup();
  }
});

test('fs guard: an options object that is a Proxy cannot show the check one flag and Node another', async () => {
  const a = tempDir('bb-fsc-w-');
  const b = tempDir('bb-fsc-v-');
  try {
    const victim = path.join(b.dir, 'victim');
    fs.writeFileSync(victim, 'DATA');
    const r = await runChild(`
      const fs = require('fs');
      ${SER}
      bb.guard({ fs: { write: [${JSON.stringify(a.dir)}] } });
      const liar = () => new Proxy({}, {
        getOwnPropertyDescriptor: (o, k) => (k === 'flag' ? { value: 'r', writable: true, enumerable: true, configurable: true } : undefined),
        ownKeys: () => ['flag'],
        has: (o, k) => k === 'flag',
        get: (o, k) => (k === 'flag' ? 'w' : undefined),
      });
      const v = ${JSON.stringify(victim)};
      (async () => {
        const res = {};
        res.promise = await fs.promises.readFile(v, liar()).then(() => 'read', ser);
        res.callback = await new Promise((r) => fs.readFile(v, liar(), (e) => r(e ? ser(e) : 'read')));
        try { fs.readFileSync(v, liar()); res.sync = 'read'; } catch (e) { res.sync = ser(e); }
        out(res);
      })();`);
    assert.equal(r.status, 0, r.stderr);
    for (const k of ['promise', 'callback', 'sync']) {
      assert.deepEqual(r.result[k], denied(victim, 'js', 'FileSystemWrite'), k);
    }
    assert.equal(fs.readFileSync(victim, 'utf8'), 'DATA', 'not truncated');
  } finally {
    a.cleanup();
    b.cleanup();
  }
});
