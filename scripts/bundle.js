'use strict';
// After tsc: packs every dist/**/*.js (but dist/loader.js) into dist/bundle.js, one function
// per module keyed by its path under dist/, replaces each of those files by a stub that
// loads it from the bundle (src/loader.ts says why), and writes the V8 code cache
// dist/bundle.cache in a fresh node. `npm run build:ts` and `prepare` run tsc and then this.
//
//   node scripts/bundle.js            bundle + stubs + cache
//   node scripts/bundle.js --check    exit 1 unless dist/ is bundled and every stub's module is in the bundle
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const DIST = path.join(__dirname, '..', 'dist');
const LOADER = 'loader.js';
const BUNDLE = 'bundle.js';
// A stub's first line; a file that has it is already bundled (tsc rewrites every file it emits).
const MARK = '// blackbox-native bundle stub';
// Runtime dependencies packed into the bundle under 'npm:<name>' (the loader looks bare
// specifiers up there first): their code is then part of the code cache, and the version
// that was tested is the version that runs. Each one's license travels with it.
const VENDORED = ['ipaddr.js'];

function walk(dir, rel = '') {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(path.join(dir, e.name), r));
    else if (e.name.endsWith('.js') && r !== LOADER && r !== BUNDLE) out.push(r);
  }
  return out.sort();
}

function isStub(text) {
  return text.startsWith(MARK);
}

function stub(key) {
  const up = key.split('/').length - 1;
  const loader = up ? '../'.repeat(up) + LOADER : './' + LOADER;
  return `${MARK} (scripts/bundle.js): the module's code is in dist/${BUNDLE}.\n'use strict';\nmodule.exports = require('${loader}').load('${key}');\n`;
}

function bundle() {
  if (!fs.existsSync(path.join(DIST, LOADER))) throw new Error(`dist/${LOADER} is missing: run tsc first`);
  const keys = walk(DIST);
  const parts = ["(function () {\nreturn {\n"];
  for (const key of keys) {
    const file = path.join(DIST, key);
    const text = fs.readFileSync(file, 'utf8');
    if (isStub(text)) throw new Error(`dist/${key} is already a bundle stub: run tsc before scripts/bundle.js`);
    // Node's own module wrapper, so the code runs exactly as it would from its file; the
    // trailing newline keeps a last-line comment from swallowing the brace.
    parts.push(`${JSON.stringify(key)}: function (exports, require, module, __filename, __dirname) {\n${text}\n},\n`);
  }
  for (const name of VENDORED) {
    const main = require.resolve(name);
    let dir = path.dirname(main);
    while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const license = fs.readFileSync(path.join(dir, 'LICENSE'), 'utf8').replace(/\*\//g, '* /');
    const text = fs.readFileSync(main, 'utf8');
    parts.push(`/* ${name} ${pkg.version} (${pkg.license}), ${path.relative(dir, main)}:\n${license}*/\n`);
    parts.push(`${JSON.stringify(`npm:${name}`)}: function (exports, require, module, __filename, __dirname) {\n${text}\n},\n`);
  }
  parts.push('};\n})\n');
  const tmp = path.join(DIST, `${BUNDLE}.tmp`);
  fs.writeFileSync(tmp, parts.join(''));
  fs.renameSync(tmp, path.join(DIST, BUNDLE));
  for (const key of keys) fs.writeFileSync(path.join(DIST, key), stub(key));
  fs.rmSync(path.join(DIST, 'bundle.cache'), { force: true });
  const r = spawnSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(path.join(DIST, LOADER))}).writeCache()))`], { encoding: 'utf8', cwd: path.join(DIST, '..') });
  if (r.status !== 0) throw new Error(`writing the code cache failed: ${r.stderr}`);
  return { modules: keys.length, cacheBytes: Number(r.stdout) };
}

function check() {
  const keys = walk(DIST);
  const text = fs.readFileSync(path.join(DIST, BUNDLE), 'utf8');
  const missing = keys.filter((k) => !isStub(fs.readFileSync(path.join(DIST, k), 'utf8')) || !text.includes(`${JSON.stringify(k)}: function (`));
  if (missing.length) throw new Error(`not bundled: ${missing.join(', ')}`);
  return { modules: keys.length };
}

if (require.main === module) {
  try {
    const r = process.argv.includes('--check') ? check() : bundle();
    process.stderr.write(`bundle: ${r.modules} modules${r.cacheBytes ? `, code cache ${r.cacheBytes} bytes` : ''}\n`);
  } catch (e) {
    process.stderr.write(`scripts/bundle.js: ${e.message}\n`);
    process.exit(1);
  }
}

module.exports = { MARK, stub, walk };
