'use strict';
// The single-script load (src/loader.ts, scripts/bundle.js): every dist module is one
// instance however it is reached, runs with its own file's __filename, and the V8 code cache
// is used only for the bundle file it was made from. Each case runs in a fresh node, since
// the loader's state is per process.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');
const bundled = fs.existsSync(path.join(DIST, 'bundle.js'));
const skip = bundled ? false : 'dist/ is not bundled (tsc alone; npm run build:ts bundles it)';

// NODE_PATH: a copy of the loader in a temp dir still finds the package's dependencies.
function node(code) {
  const env = { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') };
  const r = spawnSync(process.execPath, ['-e', code], { cwd: ROOT, env, encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

test('every dist file is a stub of a bundled module (scripts/bundle.js --check)', { skip }, () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'bundle.js'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('one instance per module, however it is reached: main, deep path, ESM entry', { skip }, () => {
  const out = node(`
    const main = require(${JSON.stringify(ROOT)});
    const deep = require(${JSON.stringify(path.join(DIST, 'errors.js'))});
    const status = require(${JSON.stringify(path.join(DIST, 'lockdown', 'status.js'))});
    import(${JSON.stringify(path.join(ROOT, 'esm', 'index.mjs'))}).then((esm) => {
      console.log(JSON.stringify({
        sameClass: main.PolicyViolation === deep.PolicyViolation,
        esmSame: esm.PolicyViolation === deep.PolicyViolation,
        sameStatus: main.status === status.status,
        // ipaddr.js runs from the bundle (scripts/bundle.js VENDORED), not from node_modules
        ipaddrFromDisk: Object.keys(require.cache).some((k) => k.includes('ipaddr')),
        ipaddrWorks: require(${JSON.stringify(path.join(DIST, 'policy', 'netrules.js'))}).parseNetRule('10.0.0.1:80', 'connect') !== undefined,
      }));
    });`);
  assert.deepEqual(out, { sameClass: true, esmSame: true, sameStatus: true, ipaddrFromDisk: false, ipaddrWorks: true });
});

test("a bundled module runs with its own file's __filename and __dirname", { skip }, () => {
  const out = node(`
    const b = require(${JSON.stringify(path.join(DIST, 'enforce', 'binding.js'))});
    const w = require(${JSON.stringify(path.join(DIST, 'guards', 'workers.js'))});
    console.log(JSON.stringify({ root: b.PACKAGE_ROOT, preload: w.PRELOAD }));`);
  assert.equal(path.resolve(out.root), ROOT);
  assert.equal(out.preload, path.join(DIST, 'guards', 'worker-preload.js'));
  assert.ok(fs.existsSync(out.preload));
});

// A copy of the three loader files in a temp dir: the loader finds its bundle beside itself.
function copyLoader(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-loader-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const f of ['loader.js', 'bundle.js', 'bundle.cache']) fs.copyFileSync(path.join(DIST, f), path.join(dir, f));
  return dir;
}
const probe = (dir) => node(`
  const l = require(${JSON.stringify(path.join(dir, 'loader.js'))});
  const e = l.load('errors.js');
  console.log(JSON.stringify({ state: l.codeCacheState(), ok: typeof e.PolicyViolation === 'function' }));`);

test('the code cache is used by the Node that made it, for the bundle it was made from', { skip }, (t) => {
  const dir = copyLoader(t);
  // copyFileSync gives the copy a new mtime and inode: the stamp no longer matches.
  assert.deepEqual(probe(dir), { state: 'stale', ok: true });
  node(`console.log(require(${JSON.stringify(path.join(dir, 'loader.js'))}).writeCache())`);
  assert.deepEqual(probe(dir), { state: 'accepted', ok: true });
  const header = fs.readFileSync(path.join(dir, 'bundle.cache'), 'latin1').split('\n')[0];
  assert.equal(JSON.parse(header).node, process.version);
});

test('a cache for another bundle (stale stamp), a corrupt one, or none: the code still loads and runs', { skip }, (t) => {
  const dir = copyLoader(t);
  node(`console.log(require(${JSON.stringify(path.join(dir, 'loader.js'))}).writeCache())`);
  // Same stamp, V8's header damaged (its magic number and version hash, the first 8 bytes;
  // a release V8 does not checksum the payload, so only the header is a fair test): V8's own
  // sanity check rejects it.
  const file = path.join(dir, 'bundle.cache');
  const buf = fs.readFileSync(file);
  const nl = buf.indexOf(10);
  for (let i = nl + 1; i < nl + 9; i++) buf[i] ^= 0x5a;
  fs.writeFileSync(file, buf);
  assert.deepEqual(probe(dir), { state: 'rejected', ok: true });
  // The bundle rewritten (as a rebuild would): its stamp changes, the cache is not fed to V8.
  const b = path.join(dir, 'bundle.js');
  fs.writeFileSync(b + '.new', fs.readFileSync(b));
  fs.renameSync(b + '.new', b);
  assert.deepEqual(probe(dir), { state: 'stale', ok: true });
  fs.rmSync(file);
  assert.deepEqual(probe(dir), { state: 'none', ok: true });
});

test('the package as installed here loads through the cache when it was made by this Node', { skip }, () => {
  const header = fs.readFileSync(path.join(DIST, 'bundle.cache'), 'latin1').split('\n')[0];
  const madeHere = JSON.parse(header).node === process.version;
  const out = node(`require(${JSON.stringify(ROOT)}); console.log(JSON.stringify(require(${JSON.stringify(path.join(DIST, 'loader.js'))}).codeCacheState()))`);
  assert.equal(out, madeHere ? 'accepted' : 'stale');
});
