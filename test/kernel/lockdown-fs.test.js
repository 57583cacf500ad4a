'use strict';
// Filesystem: raw open() from the test addon and async fs on a libuv pool
// that was started BEFORE lockdown; evidence is what is on disk.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { haveKernel, runChild, tempDir } = require('../helpers/harness');

const skip = haveKernel();
const EACCES = -13;
const O = { RDONLY: 0, WRONLY: 1, CREAT: 0o100, TRUNC: 0o1000 };

test('fs.write: false — raw open(O_CREAT) is denied and nothing appears on disk; reads still work', { skip }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    const target = path.join(dir, 'created-by-raw-open');
    fs.writeFileSync(path.join(dir, 'existing'), 'x');
    const modeBefore = fs.statSync(path.join(dir, 'existing')).mode;
    const r = await runChild(`
      const { chmodSync } = require('fs'); // captured before the JS guards: the kernel answers
      bb.lockdown();
      out({
        create: t.open(${JSON.stringify(target)}, ${O.WRONLY | O.CREAT}),
        truncate: t.open(${JSON.stringify(path.join(dir, 'existing'))}, ${O.WRONLY | O.TRUNC}),
        read: t.open(${JSON.stringify(path.join(dir, 'existing'))}, ${O.RDONLY}),
        chmod: (() => { try { chmodSync(${JSON.stringify(path.join(dir, 'existing'))}, 0o777); return 'ok'; } catch (e) { return e.code; } })(),
        devnull: t.open('/dev/null', ${O.WRONLY}),
      });`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.result.create, EACCES);
    assert.equal(r.result.truncate, EACCES);
    assert.equal(r.result.read, 0);
    assert.equal(r.result.chmod, 'EACCES');
    assert.equal(r.result.devnull, 0, '/dev/null stays writable');
    assert.equal(fs.existsSync(target), false);
    assert.equal(fs.readFileSync(path.join(dir, 'existing'), 'utf8'), 'x');
    assert.equal(fs.statSync(path.join(dir, 'existing')).mode, modeBefore, 'chmod changed nothing');
  } finally {
    cleanup();
  }
});

test('fs.write: [dir] — writes inside land on disk, outside are denied', { skip }, async () => {
  const a = tempDir();
  const b = tempDir();
  try {
    const r = await runChild(`
      const fs = require('fs');
      const { renameSync } = fs; // captured before the JS guards: the kernel answers
      bb.lockdown({ fs: { write: [${JSON.stringify(a.dir)}] } });
      const res = { inside: t.open(${JSON.stringify(path.join(a.dir, 'in'))}, ${O.WRONLY | O.CREAT}),
                    outside: t.open(${JSON.stringify(path.join(b.dir, 'out'))}, ${O.WRONLY | O.CREAT}) };
      fs.mkdirSync(${JSON.stringify(path.join(a.dir, 'sub'))});
      fs.writeFileSync(${JSON.stringify(path.join(a.dir, 'sub', 'f.txt'))}, 'written');
      fs.renameSync(${JSON.stringify(path.join(a.dir, 'sub', 'f.txt'))}, ${JSON.stringify(path.join(a.dir, 'g.txt'))});
      try { renameSync(${JSON.stringify(path.join(a.dir, 'g.txt'))}, ${JSON.stringify(path.join(b.dir, 'stolen.txt'))}); res.renameOut = 'ok'; } catch (e) { res.renameOut = e.code; }
      out(res);`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.result.inside, 0);
    assert.equal(r.result.outside, EACCES);
    assert.ok(['EACCES', 'EXDEV'].includes(r.result.renameOut), r.result.renameOut);
    assert.equal(fs.existsSync(path.join(a.dir, 'in')), true);
    assert.equal(fs.readFileSync(path.join(a.dir, 'g.txt'), 'utf8'), 'written');
    assert.equal(fs.existsSync(path.join(b.dir, 'out')), false);
    assert.equal(fs.existsSync(path.join(b.dir, 'stolen.txt')), false);
  } finally {
    a.cleanup();
    b.cleanup();
  }
});

test('async fs on a threadpool started before lockdown cannot read or write outside the grants', { skip }, async () => {
  const { dir, cleanup } = tempDir();
  const other = tempDir();
  try {
    const secret = path.join(other.dir, 'secret');
    fs.writeFileSync(secret, 'TOKEN');
    fs.writeFileSync(path.join(dir, 'ok.txt'), 'fine');
    const r = await runChild(`
      // the originals, captured before the JS guards patch the modules: the
      // kernel (Landlock on the pool threads) is what answers here
      const fsp = { ...require('fs/promises') };
      const readFileCb = require('fs').readFile;
      (async () => {
        // start all 4 pool threads and keep them busy-warm before lockdown
        await Promise.all([1, 2, 3, 4].map(() => fsp.readFile(${JSON.stringify(secret)}, 'utf8')));
        bb.lockdown({ fs: { read: [${JSON.stringify(dir)}], write: [${JSON.stringify(dir)}] } });
        const res = {};
        const tryit = async (k, f) => { try { res[k] = await f(); } catch (e) { res[k] = e.code; } };
        await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((i) => tryit('read' + i, () => fsp.readFile(${JSON.stringify(secret)}, 'utf8'))));
        await tryit('write', () => fsp.writeFile(${JSON.stringify(path.join(other.dir, 'planted'))}, 'x'));
        await tryit('readdir', () => fsp.readdir(${JSON.stringify(other.dir)}));
        await tryit('granted', () => fsp.readFile(${JSON.stringify(path.join(dir, 'ok.txt'))}, 'utf8'));
        await tryit('grantedWrite', () => fsp.writeFile(${JSON.stringify(path.join(dir, 'new.txt'))}, 'made').then(() => 'ok'));
        await tryit('cb', () => new Promise((res, rej) => readFileCb(${JSON.stringify(secret)}, (e, d) => e ? rej(e) : res(String(d)))));
        out(res);
      })();`);
    assert.equal(r.status, 0, r.stderr);
    for (let i = 1; i <= 8; i++) assert.equal(r.result['read' + i], 'EACCES', `pool read ${i}`);
    assert.equal(r.result.write, 'EACCES');
    assert.equal(r.result.readdir, 'EACCES');
    assert.equal(r.result.cb, 'EACCES');
    assert.equal(r.result.granted, 'fine');
    assert.equal(r.result.grantedWrite, 'ok');
    assert.equal(fs.existsSync(path.join(other.dir, 'planted')), false);
    assert.equal(fs.readFileSync(path.join(dir, 'new.txt'), 'utf8'), 'made');
  } finally {
    cleanup();
    other.cleanup();
  }
});

test('fs.write: true under a ruleset that still handles EXECUTE — renames across directories keep working (REFER granted)', { skip }, async () => {
  const a = tempDir();
  const b = tempDir();
  try {
    fs.writeFileSync(path.join(a.dir, 'f'), 'moved');
    const r = await runChild(`
      bb.lockdown({ fs: { write: true } });
      let res;
      try { require('fs').renameSync(${JSON.stringify(path.join(a.dir, 'f'))}, ${JSON.stringify(path.join(b.dir, 'f'))}); res = 'ok'; } catch (e) { res = e.code; }
      out({ res, exec: t.execve('/usr/bin/true', ['true']) });`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.result.res, 'ok');
    assert.equal(r.result.exec, -13, 'exec still denied');
    assert.equal(fs.readFileSync(path.join(b.dir, 'f'), 'utf8'), 'moved');
  } finally {
    a.cleanup();
    b.cleanup();
  }
});
