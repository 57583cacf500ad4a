'use strict';
// Packaging test: prebuild -> npm pack -> install the tarball in a fresh project with a PATH
// holding only node/npm/sh/env (no compiler, make or python) -> lockdown() in a fresh child.
// Proves the shipped prebuild is what gets loaded (no build/ directory after install).
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const supported = process.platform === 'linux' && process.arch === 'x64';

function which(name) {
  for (const d of (process.env.PATH || '').split(path.delimiter)) {
    const p = path.join(d, name);
    try { fs.accessSync(p, fs.constants.X_OK); return fs.realpathSync(p); } catch {}
  }
  return null;
}

function run(cmd, args, opts) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, ...opts });
  const out = `${cmd} ${args.join(' ')}\nstatus=${r.status} signal=${r.signal} err=${r.error}\n${r.stdout}\n${r.stderr}`;
  return { ...r, out };
}

test('tarball installs from prebuild without a toolchain and locks down', { skip: !supported && 'Linux x64 only', timeout: 90_000 }, (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-pack-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const bin = path.join(tmp, 'bin');
  const packDir = path.join(tmp, 'pack');
  const proj = path.join(tmp, 'proj');
  for (const d of [bin, packDir, proj]) fs.mkdirSync(d);

  // 1. prebuild (prebuilds are not committed; they are made at pack time)
  const npmCli = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath)
    ? process.env.npm_execpath : which('npm');
  assert.ok(npmCli, 'npm not found');
  let r = run(process.execPath, [npmCli, 'run', 'prebuild', '--silent'], { cwd: root });
  assert.strictEqual(r.status, 0, r.out);
  assert.ok(fs.existsSync(path.join(root, 'prebuilds', 'linux-x64', 'blackbox-native.node')), 'no linux-x64 prebuild');

  // 2. npm pack into a temp dir
  r = run(process.execPath, [npmCli, 'pack', '--pack-destination', packDir, '--silent'], { cwd: root });
  assert.strictEqual(r.status, 0, r.out);
  const tgz = fs.readdirSync(packDir).find((f) => f.endsWith('.tgz'));
  assert.ok(tgz, 'no tarball');

  // 3. toolchain-free environment: PATH is only symlinks to node, npm, sh, env
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync(npmCli, path.join(bin, 'npm'));
  for (const n of ['sh', 'env']) { const p = which(n); if (p) fs.symlinkSync(p, path.join(bin, n)); }
  for (const n of ['cc', 'c++', 'g++', 'gcc', 'make', 'python3']) assert.ok(!fs.existsSync(path.join(bin, n)));
  const emptyRc = path.join(tmp, 'npmrc');
  fs.writeFileSync(emptyRc, '');
  // Built from scratch: no npm_config_* from a parent `npm test` (npm_config_nodedir unset);
  // an empty user npmrc so a nodedir= in ~/.npmrc cannot help a source build either.
  const env = { PATH: bin, HOME: os.homedir(), TMPDIR: os.tmpdir(), npm_config_userconfig: emptyRc };
  fs.writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'bb-consumer', version: '1.0.0', private: true }));
  r = run(path.join(bin, 'npm'), ['install', path.join(packDir, tgz), '--no-audit', '--no-fund'], { cwd: proj, env, timeout: 75_000 });
  assert.strictEqual(r.status, 0, r.out);
  const installed = path.join(proj, 'node_modules', 'blackbox-native');
  assert.ok(fs.existsSync(path.join(installed, 'prebuilds', 'linux-x64', 'blackbox-native.node')));
  assert.ok(!fs.existsSync(path.join(installed, 'build')), 'build/ exists: the addon was compiled, not the prebuild used');

  // 4. fresh node in the consumer project
  const script = `
    const fs = require('fs');
    const bb = require('blackbox-native');
    const report = bb.lockdown();
    let denied = null;
    try { fs.writeFileSync('/tmp/x-' + process.pid, 'x'); } catch (e) { denied = { name: e.name, code: e.code, isPV: e instanceof bb.PolicyViolation }; }
    console.log(JSON.stringify({ layers: report.layers, denied }));`;
  r = run(path.join(bin, 'node'), ['-e', script], { cwd: proj, env: { PATH: bin, HOME: os.homedir() }, timeout: 20_000 });
  assert.strictEqual(r.status, 0, r.out);
  const res = JSON.parse(r.stdout.trim().split('\n').pop());
  t.diagnostic(`layers ${JSON.stringify(res.layers)}`);
  assert.strictEqual(res.layers.seccomp, true, r.out);
  assert.ok(res.layers.landlock >= 1, r.out);
  assert.ok(res.denied, 'writeFileSync was not denied');
  assert.strictEqual(res.denied.code, 'ERR_ACCESS_DENIED', r.out);
  assert.strictEqual(res.denied.isPV, true, r.out);
});
