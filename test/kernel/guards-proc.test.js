'use strict';
// The child_process, worker_threads and addon guards after a REAL lockdown(),
// each batch in a fresh child: every API × its delivery (event, callback,
// promise, sync throw, sync result) × denied and granted. Evidence is outside
// the child where there is some: the files a spawned `touch` would create (the
// child may write there, so a missing file means nothing ran). Undoing the
// patches — originals captured before lockdown, the spawn_sync binding,
// delete require.cache, a Worker realm without the guards — never runs a
// denied program or loads a denied addon: the kernel answers.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { haveKernel, runChild, tempDir, TEST_ADDON, ROOT } = require('../helpers/harness');

const skip = haveKernel();
const J = JSON.stringify;

/** Shared by every child: describe an error, and wait for a set of cases. */
const snippet = `
  const cp = require('node:child_process');
  const fs = require('node:fs');
  const path = require('node:path');
  const util = require('node:util');
  const shape = (e) => e == null ? e : ({ pv: e instanceof bb.PolicyViolation, code: e.code, permission: e.permission, resource: e.resource, layer: e.layer, cause: e.cause && e.cause.code, name: e.name });
  const res = {};
  const pending = [];
  /** An async form: the ChildProcess it returns must emit 'error' later (not during the call), then 'close'. */
  function viaEvent(name, start) {
    let sync = true;
    pending.push(new Promise((resolve) => {
      const child = start();
      res[name] = { returned: child instanceof cp.ChildProcess, stdio: Array.isArray(child.stdio), stdout: !!child.stdout };
      child.on('error', (e) => Object.assign(res[name], shape(e), { sync, path: e.path }));
      child.on('exit', (code) => { res[name].exit = code; });
      child.on('close', (code) => { res[name].close = code; resolve(); });
    }));
    sync = false;
  }
  function viaCallback(name, start) {
    let sync = true;
    pending.push(new Promise((resolve) => {
      start((err, stdout) => { res[name] = { ...shape(err), sync, stdout }; resolve(); });
    }));
    sync = false;
  }
  function viaPromise(name, p) {
    pending.push(p.then((v) => { res[name] = { resolved: true, stdout: v && v.stdout }; }, (e) => { res[name] = { ...shape(e), stdout: e.stdout }; }));
  }
  function thrown(name, fn) {
    try { res[name] = { returned: fn() }; } catch (e) { res[name] = { ...shape(e), status: e.status, errorIsSelf: e.error === e }; }
  }
  function sync(name, r) {
    res[name] = { ...shape(r.error), status: r.status, pid: r.pid, keys: Object.keys(r).join(',') };
  }
  function onWorker(name, w) {
    pending.push(new Promise((resolve) => {
      w.on('message', (m) => { res[name] = m; });
      w.on('error', (e) => { res[name] = { workerError: e.message }; });
      w.on('exit', resolve);
    }));
  }
  const done = () => Promise.all(pending).then(() => out(res));
`;

/** What a worker reports about its own guards (bb there is the worker's own instance). */
function workerBody(addon) {
  return `
    const bb = require(${J(ROOT)});
    const cp = require('node:child_process');
    const shape = (e) => e == null ? e : ({ pv: e instanceof bb.PolicyViolation, code: e.code, permission: e.permission, resource: e.resource, layer: e.layer });
    const r = cp.spawnSync('/usr/bin/true');
    let addon;
    try { require(${J(addon)}); addon = 'loaded'; } catch (e) { addon = shape(e); }
    cp.exec('true', (err) => {
      require('node:worker_threads').parentPort.postMessage({ spawnSync: shape(r.error), exec: shape(err), addon, execArgv: process.execArgv });
    });`;
}

function assertDenied(got, resource, { layer = 'js', permission = 'ChildProcess' } = {}) {
  assert.ok(got, 'case ran');
  assert.equal(got.pv, true, `instanceof PolicyViolation: ${J(got)}`);
  assert.equal(got.code, 'ERR_ACCESS_DENIED');
  assert.equal(got.permission, permission);
  assert.equal(got.layer, layer);
  if (resource !== undefined) assert.equal(got.resource, resource);
}

test('childProcess: false — every child_process form denied with its own delivery; workers and addons guarded too; undoing the patches meets the kernel', { skip }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    const addon = path.join(dir, 'copy.node'); // a fresh inode: not the already-mapped test addon
    fs.copyFileSync(TEST_ADDON, addon);
    fs.writeFileSync(path.join(dir, 'forked.js'), 'require("fs").writeFileSync(__filename + ".ran", "x")');
    fs.writeFileSync(path.join(dir, 'worker.js'), workerBody(addon));
    fs.writeFileSync(path.join(dir, 'worker.mjs'), `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n${workerBody(addon)}`);
    const f = (n) => path.join(dir, n);
    const r = await runChild(`${snippet}
      const wt = require('node:worker_threads');
      const EarlyWorker = wt.Worker; // captured before lockdown: its workers get the guards all the same
      const origSpawn = cp.ChildProcess.prototype.spawn;
      const origDlopen = process.dlopen;
      const syncBinding = process.binding('spawn_sync');
      const origSyncSpawn = syncBinding.spawn;
      const f = (n) => path.join(${J(dir)}, n);
      bb.lockdown({ fs: { write: [${J(dir)}] } });
      res.execArgv = process.execArgv;

      viaEvent('spawn', () => cp.spawn('/usr/bin/touch', [f('spawn')]));
      viaEvent('spawnPath', () => cp.spawn('touch', [f('spawnPath')]));
      viaEvent('spawnShell', () => cp.spawn('touch ' + f('spawnShell'), { shell: true }));
      viaEvent('fork', () => cp.fork(f('forked.js')));
      viaCallback('exec', (cb) => cp.exec('touch ' + f('exec'), cb));
      viaCallback('execFile', (cb) => cp.execFile('/usr/bin/touch', [f('execFile')], cb));
      viaPromise('execPromise', util.promisify(cp.exec)('touch ' + f('execPromise')));
      viaPromise('execFilePromise', util.promisify(cp.execFile)('touch', [f('execFilePromise')]));
      sync('spawnSync', cp.spawnSync('/usr/bin/touch', [f('spawnSync')]));
      sync('spawnSyncShell', cp.spawnSync('touch ' + f('spawnSyncShell'), { shell: true }));
      thrown('execSync', () => cp.execSync('touch ' + f('execSync')));
      thrown('execFileSync', () => cp.execFileSync('/usr/bin/touch', [f('execFileSync')]));

      // addons
      thrown('require', () => require(${J(addon)}));
      thrown('dlopen', () => { const m = { exports: {} }; process.dlopen(m, ${J(addon)}); return Object.keys(m.exports).length; });

      // workers created now carry the guards (eval, CJS file, ESM file)
      onWorker('evalWorker', new wt.Worker(${J(workerBody(addon))}, { eval: true }));
      onWorker('fileWorker', new wt.Worker(f('worker.js')));
      onWorker('esmWorker', new wt.Worker(f('worker.mjs'), { execArgv: ['--no-warnings'] }));

      // --- undoing the patches: the kernel answers ---
      // the original ChildProcess.prototype.spawn, captured before lockdown
      pending.push(new Promise((resolve) => {
        const c = new cp.ChildProcess();
        c.on('error', (e) => { res.undoProto = { ...shape(e), errno: e.errno }; });
        c.on('close', () => resolve());
        try {
          origSpawn.call(c, { file: '/usr/bin/touch', args: ['/usr/bin/touch', f('undoProto')], envPairs: [], stdio: 'ignore' });
        } catch (e) { res.undoProto = { thrown: shape(e) }; resolve(); }
      }));
      // the spawn_sync binding's original spawn
      const raw = origSyncSpawn.call(syncBinding, { file: '/usr/bin/touch', args: ['/usr/bin/touch', f('undoBinding')], envPairs: [], stdio: [{ type: 'ignore' }, { type: 'ignore' }, { type: 'ignore' }] });
      res.undoBinding = { error: raw.error, status: raw.status };
      // the original process.dlopen
      thrown('undoDlopen', () => { const m = { exports: {} }; origDlopen(m, ${J(addon)}); return Object.keys(m.exports).length; });
      // delete require.cache: builtins are not in it, the patched child_process comes back
      for (const k of Object.keys(require.cache)) delete require.cache[k];
      require(${J(ROOT)});
      sync('undoCache', require('node:child_process').spawnSync('/usr/bin/touch', [f('undoCache')]));
      // the class captured before lockdown: its workers (eval, CJS file, ESM file) have the
      // guards before their first line too; inside one, the raw binding meets the kernel
      onWorker('earlyEval', new EarlyWorker(${J(workerBody(addon))}, { eval: true }));
      onWorker('earlyFile', new EarlyWorker(f('worker.js'), { argv: ['a1'] }));
      onWorker('earlyEsm', new EarlyWorker(f('worker.mjs')));
      onWorker('earlyData', new EarlyWorker(new URL('data:text/javascript,' + encodeURIComponent("import { parentPort } from 'node:worker_threads'; import cp from 'node:child_process'; const r = cp.spawnSync('/usr/bin/true'); parentPort.postMessage({ code: r.error && r.error.code, layer: r.error && r.error.layer });"))));
      onWorker('realm', new EarlyWorker(\`
        const b = process.binding('spawn_sync');
        const raw = b.spawn({ file: '/usr/bin/touch', args: ['/usr/bin/touch', \${JSON.stringify(f('realm'))}], envPairs: [], stdio: [{ type: 'ignore' }, { type: 'ignore' }, { type: 'ignore' }] });
        require('node:worker_threads').parentPort.postMessage({ raw: raw.error, argv: process.argv.slice(1) });\`, { eval: true }));
      done();`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;

    // async forms: 'error' on a later tick, then 'close'; the ChildProcess (with its stdio) is returned
    for (const [name, resource] of [
      ['spawn', `/usr/bin/touch ${f('spawn')}`],
      ['spawnPath', `touch ${f('spawnPath')}`],
      ['spawnShell', `/bin/sh -c touch ${f('spawnShell')}`],
      ['fork', `${process.execPath} ${f('forked.js')}`],
    ]) {
      assertDenied(o[name], resource);
      assert.equal(o[name].sync, false, `${name}: emitted on a later tick`);
      assert.equal(o[name].returned, true, `${name}: returns the ChildProcess`);
      assert.equal(o[name].stdio, true, `${name}: stdio is set up`);
      assert.equal(o[name].stdout, name !== 'fork', `${name}: a stdout pipe unless inherited`);
      assert.equal(o[name].close, -13, `${name}: 'close' follows as for any failed spawn`);
      assert.equal(o[name].exit, undefined, `${name}: no 'exit'`);
    }
    assert.equal(o.spawn.path, '/usr/bin/touch', 'Node\'s .path is kept');
    // callbacks (later tick), promises
    assertDenied(o.exec, `/bin/sh -c touch ${f('exec')}`);
    assert.equal(o.exec.sync, false);
    assert.equal(o.exec.stdout, '');
    assertDenied(o.execFile, `/usr/bin/touch ${f('execFile')}`);
    assert.equal(o.execFile.sync, false);
    assertDenied(o.execPromise, `/bin/sh -c touch ${f('execPromise')}`);
    assert.equal(o.execPromise.stdout, '');
    assertDenied(o.execFilePromise, `touch ${f('execFilePromise')}`);
    // sync: spawnSync returns { error }, execSync/execFileSync throw (with the result assigned, as Node does)
    assertDenied(o.spawnSync, `/usr/bin/touch ${f('spawnSync')}`);
    assert.equal(o.spawnSync.status, null);
    assert.equal(o.spawnSync.pid, 0);
    assert.equal(o.spawnSync.keys, 'error,status,signal,output,pid,stdout,stderr');
    assertDenied(o.spawnSyncShell, `/bin/sh -c touch ${f('spawnSyncShell')}`);
    assertDenied(o.execSync, `/bin/sh -c touch ${f('execSync')}`);
    assert.equal(o.execSync.status, null);
    assert.equal(o.execSync.errorIsSelf, true);
    assertDenied(o.execFileSync, `/usr/bin/touch ${f('execFileSync')}`);

    // addons: require and process.dlopen throw synchronously
    assertDenied(o.require, addon, { permission: 'Addon' });
    assertDenied(o.dlopen, addon, { permission: 'Addon' });

    // every worker created after lockdown has the guards before its first line
    for (const name of ['evalWorker', 'fileWorker', 'esmWorker', 'earlyEval', 'earlyFile', 'earlyEsm']) {
      const w = o[name];
      assert.ok(w && !w.workerError, `${name}: ${J(w)}`);
      assertDenied(w.spawnSync, '/usr/bin/true');
      assertDenied(w.exec, '/bin/sh -c true');
      assertDenied(w.addon, addon, { permission: 'Addon' });
    }
    // the worker's process.execArgv is what Node would show: inherited, or the option (not our --require)
    assert.deepEqual(o.evalWorker.execArgv, o.execArgv);
    assert.deepEqual(o.esmWorker.execArgv, ['--no-warnings']);

    // undoing the patches: the kernel answers
    assert.equal(o.undoProto.code, 'EACCES', J(o.undoProto));
    assert.equal(o.undoProto.pv, false);
    assert.deepEqual(o.undoBinding, { error: -13, status: null });
    assert.equal(o.undoDlopen.code, 'ERR_DLOPEN_FAILED', J(o.undoDlopen));
    assertDenied(o.undoCache, `/usr/bin/touch ${f('undoCache')}`);
    assert.deepEqual(o.realm, { raw: -13, argv: ['[worker eval]'] });
    assert.deepEqual(o.earlyData, { code: 'ERR_ACCESS_DENIED', layer: 'js' }); // an ESM data: URL worker
    // a captured class's worker sees the execArgv and argv Node gives it (nothing of ours)
    assert.deepEqual(o.earlyEval.execArgv, o.execArgv);
    assert.deepEqual(o.earlyFile.execArgv, o.execArgv);

    // nothing ran
    const ran = fs.readdirSync(dir).filter((n) => !['copy.node', 'forked.js', 'worker.js', 'worker.mjs'].includes(n));
    assert.deepEqual(ran, [], 'no denied program ran');
  } finally {
    cleanup();
  }
});

test('childProcess: [exes] — listed programs run (absolute, on PATH, default PATH), others denied; a kernel refusal the JS check let through is layer \'kernel\'', { skip }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    // listed, but its interpreter (/bin/sh) is not: Landlock refuses the exec
    const script = path.join(dir, 'script.sh');
    fs.writeFileSync(script, `#!/bin/sh\ntouch ${path.join(dir, 'script-ran')}\n`, { mode: 0o755 });
    const f = (n) => path.join(dir, n);
    const r = await runChild(`${snippet}
      const f = (n) => path.join(${J(dir)}, n);
      bb.lockdown({ childProcess: ['/usr/bin/true', '/usr/bin/touch', ${J(script)}], fs: { write: [${J(dir)}] } });
      sync('trueSync', cp.spawnSync('/usr/bin/true'));
      sync('trueNoPath', cp.spawnSync('true', { env: {} }));
      thrown('touchSync', () => String(cp.execFileSync('touch', [f('touchSync')])));
      viaEvent('trueSpawn', () => cp.spawn('true'));
      viaEvent('touchSpawn', () => cp.spawn('touch', [f('touchSpawn')]));
      viaCallback('execFile', (cb) => cp.execFile('/usr/bin/touch', [f('execFile')], cb));
      viaPromise('execFilePromise', util.promisify(cp.execFile)('touch', [f('execFilePromise')]));
      // not listed
      sync('envSync', cp.spawnSync('/usr/bin/env', ['touch', f('envSync')]));
      viaEvent('envSpawn', () => cp.spawn('env', ['touch', f('envSpawn')]));
      viaCallback('exec', (cb) => cp.exec('true', cb));
      thrown('execSync', () => cp.execSync('true'));
      // listed, refused by the kernel
      sync('scriptSync', cp.spawnSync(${J(script)}));
      viaEvent('scriptSpawn', () => cp.spawn(${J(script)}));
      done();`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.trueSync.status, 0, J(o.trueSync));
    assert.equal(o.trueSync.code, undefined);
    assert.equal(o.trueNoPath.status, 0, `no PATH in env: libuv searches /usr/bin:/bin ${J(o.trueNoPath)}`);
    assert.equal(o.touchSync.returned, '');
    assert.equal(o.trueSpawn.exit, 0, J(o.trueSpawn));
    assert.equal(o.trueSpawn.code, undefined);
    assert.equal(o.touchSpawn.exit, 0);
    assert.equal(o.execFile.code, undefined, J(o.execFile));
    assert.equal(o.execFilePromise.resolved, true, J(o.execFilePromise));
    for (const n of ['touchSync', 'touchSpawn', 'execFile', 'execFilePromise']) assert.ok(fs.existsSync(f(n)), `${n}: the granted program ran`);

    assertDenied(o.envSync, `/usr/bin/env touch ${f('envSync')}`);
    assertDenied(o.envSpawn, `env touch ${f('envSpawn')}`);
    assert.equal(o.envSpawn.sync, false);
    assertDenied(o.exec, '/bin/sh -c true');
    assertDenied(o.execSync, '/bin/sh -c true');
    for (const n of ['envSync', 'envSpawn']) assert.ok(!fs.existsSync(f(n)), `${n}: nothing ran`);

    assertDenied(o.scriptSync, script, { layer: 'kernel' });
    assert.equal(o.scriptSync.cause, 'EACCES');
    assertDenied(o.scriptSpawn, script, { layer: 'kernel' });
    assert.equal(o.scriptSpawn.cause, 'EACCES');
    assert.equal(o.scriptSpawn.sync, false);
    assert.ok(!fs.existsSync(f('script-ran')), 'the script did not run');
  } finally {
    cleanup();
  }
});

test('workers: false — new Worker throws synchronously (like --permission), whatever class was captured; addons: true loads', { skip }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    const addon = path.join(dir, 'copy.node');
    fs.copyFileSync(TEST_ADDON, addon);
    const file = path.join(dir, 'w.js');
    fs.writeFileSync(file, 'require("fs").writeFileSync(__filename + ".ran", "x")');
    const r = await runChild(`${snippet}
      const wt = require('node:worker_threads');
      const Early = wt.Worker;
      class EarlySub extends Early {}
      bb.lockdown({ workers: false, addons: true });
      thrown('eval', () => typeof new wt.Worker('1', { eval: true }));
      thrown('file', () => typeof new wt.Worker(${J(file)}));
      thrown('early', () => typeof new Early(${J(file)}));
      thrown('sub', () => typeof new EarlySub('1', { eval: true }));
      class Later extends wt.Worker {}
      thrown('later', () => typeof new Later(${J(file)}));
      import('node:worker_threads').then((esm) => {
        res.esmLive = esm.Worker === wt.Worker;
        thrown('esm', () => typeof new esm.Worker(${J(file)}));
        thrown('addon', () => typeof require(${J(addon)}).forkExit);
        setTimeout(() => out(res), 200); // time for a worker that should not exist to write its file
      });`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assertDenied(o.eval, '[worker eval]', { permission: 'WorkerThreads' });
    assertDenied(o.file, file, { permission: 'WorkerThreads' });
    assertDenied(o.early, undefined, { permission: 'WorkerThreads' });
    assertDenied(o.sub, undefined, { permission: 'WorkerThreads' });
    assertDenied(o.later, file, { permission: 'WorkerThreads' });
    assert.equal(o.esmLive, true, 'ESM importers see the guarded Worker');
    assertDenied(o.esm, file, { permission: 'WorkerThreads' });
    assert.equal(o.addon.returned, 'function', J(o.addon));
    assert.ok(!fs.existsSync(`${file}.ran`), 'no worker ran');
  } finally {
    cleanup();
  }
});

test('audit mode: denied spawns and workers are published on the diagnostics channel and allowed', { skip }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    const f = (n) => path.join(dir, n);
    const r = await runChild(`${snippet}
      const seen = [];
      require('node:diagnostics_channel').subscribe(bb.VIOLATION_CHANNEL, (m) => seen.push([m.permission, m.resource, m.layer]));
      bb.lockdown({ mode: 'audit', workers: false, fs: { write: [${J(dir)}] } });
      sync('spawnSync', cp.spawnSync('/usr/bin/touch', [${J(f('audit-sync'))}]));
      viaEvent('spawn', () => cp.spawn('touch', [${J(f('audit-async'))}]));
      const { Worker } = require('node:worker_threads');
      onWorker('worker', new Worker('require("node:worker_threads").parentPort.postMessage("alive")', { eval: true }));
      Promise.all(pending).then(() => { res.seen = seen; out(res); });`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.spawnSync.status, 0, J(o.spawnSync));
    assert.equal(o.spawn.exit, 0);
    assert.equal(o.worker, 'alive');
    assert.ok(fs.existsSync(f('audit-sync')) && fs.existsSync(f('audit-async')));
    assert.deepEqual(o.seen, [
      ['ChildProcess', `/usr/bin/touch ${f('audit-sync')}`, 'js'],
      ['ChildProcess', `touch ${f('audit-async')}`, 'js'],
      ['WorkerThreads', '[worker eval]', 'js'],
    ]);
  } finally {
    cleanup();
  }
});
