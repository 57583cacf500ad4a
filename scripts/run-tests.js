'use strict';
// Runs the whole suite with node's built-in test runner.
//   node scripts/run-tests.js          unit + kernel (+ cli when present)
//   node scripts/run-tests.js unit     pure tests only (any OS)
//   node scripts/run-tests.js kernel   Linux enforcement tests (each case in a fresh child)
//   node scripts/run-tests.js apps     real programs under lockdown (needs the dev-dependencies)
//   node scripts/run-tests.js stress   many lockdowns / load (BLACKBOX_STRESS_LOCKDOWNS, default 100)
// The kernel tests need the test addon in test/fixtures/native; it is built here
// with the node-gyp that npm ships, so a fresh clone needs nothing by hand.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const testDir = path.join(root, 'test');
const want = process.argv.slice(2);
const suites = want.length ? want : ['unit', 'kernel', 'cli', 'apps', 'stress', 'package'];

function files(dir) {
  const abs = path.join(testDir, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs)
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => path.join(abs, f));
}

function nodeGyp() {
  if (process.env.npm_config_node_gyp && fs.existsSync(process.env.npm_config_node_gyp)) {
    return [process.execPath, process.env.npm_config_node_gyp];
  }
  // npm's own copy: <prefix>/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
  const npmCli = process.env.npm_execpath;
  const candidates = [];
  if (npmCli) candidates.push(path.join(path.dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const c of candidates) if (fs.existsSync(c)) return [process.execPath, c];
  return ['node-gyp'];
}

function buildTestAddon() {
  const dir = path.join(testDir, 'fixtures', 'native');
  if (!fs.existsSync(path.join(dir, 'binding.gyp'))) return true;
  const out = path.join(dir, 'build', 'Release', 'bbtest.node');
  const src = fs.readdirSync(dir).filter((f) => /\.(cc|h|gyp)$/.test(f)).map((f) => path.join(dir, f));
  if (fs.existsSync(out) && src.every((s) => fs.statSync(s).mtimeMs <= fs.statSync(out).mtimeMs)) return true;
  const [cmd, ...pre] = nodeGyp();
  // Build against the headers of the running node when they are installed
  // (no download); npm sets npm_config_nodedir itself under `npm test`.
  const args = [...pre, 'rebuild'];
  const prefix = path.dirname(path.dirname(process.execPath));
  if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
  const r = spawnSync(cmd, args, { cwd: dir, stdio: 'inherit' });
  return r.status === 0;
}

const list = [];
for (const s of suites) {
  const needsKernel = s === 'kernel' || s === 'stress' || s === 'apps';
  if (needsKernel && process.platform !== 'linux') {
    console.log(`# ${s} tests skipped: not Linux`);
    continue;
  }
  if (s === 'apps') {
    const missing = ['prettier', 'eslint', 'fastify', 'undici', 'typescript'].filter((m) => {
      try { require.resolve(`${m}/package.json`, { paths: [root] }); return false; } catch { return true; }
    });
    if (missing.length) {
      console.log(`# apps tests skipped: dev-dependencies not installed (${missing.join(', ')}); run \`npm install\``);
      continue;
    }
  }
  if (needsKernel && !buildTestAddon()) {
    console.error('scripts/run-tests.js: building the test addon failed');
    process.exit(1);
  }
  list.push(...files(s));
}
if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) {
  console.error('scripts/run-tests.js: dist/ is missing; run `npm install` (it compiles TypeScript)');
  process.exit(1);
}
// The package suite rebuilds the addon (prebuildify) in this checkout: it runs
// alone, after the others, so no kernel test loads a half-written addon.
const isPackage = (f) => f.includes(`${path.sep}package${path.sep}`);
const main = list.filter((f) => !isPackage(f));
const pkg = list.filter(isPackage);
let status = 0;
for (const group of [main, pkg]) {
  if (group.length === 0) continue;
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...group], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) status = r.status === null ? 1 : r.status;
}
process.exit(status);
