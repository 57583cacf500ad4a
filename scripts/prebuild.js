#!/usr/bin/env node
'use strict';
// npm run prebuild: the prebuilds that ship in the npm tarball.
//
//   node scripts/prebuild.js [--arch=x64|arm64|all] [--out=<dir>]
//
// prebuildify (--napi --strip --tag-libc) builds and copies only the .node file; the connect
// supervisor (`blackbox-supervisor`, an executable target of the same binding.gyp) must sit
// beside it, or a prebuilt install runs with no kernel-enforced per-destination rules. So each
// arch is: prebuildify, then copy build/Release/blackbox-supervisor into
// prebuilds/linux-<arch>/ and strip it with that arch's strip.
//
// linux-arm64 is cross-built on an x86_64 host with Debian's g++-aarch64-linux-gnu when
// aarch64-linux-gnu-g++ is on PATH; without it that step is skipped with a message (exit 0),
// so nothing here needs a cross toolchain. The cross build runs in a staging copy of the
// sources in a temp dir: prebuildify always builds in <cwd>/build, and an aarch64
// build/Release/*.node in this checkout would be what node-gyp-build loads first.
//
// The libc tag (blackbox-native.glibc.node): the addon and the supervisor link glibc; on musl
// (Alpine) node-gyp-build then finds no matching prebuild and compiles from source instead of
// loading a binary that cannot run there.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const SUPERVISOR = 'blackbox-supervisor';
const CROSS = { arm64: 'aarch64-linux-gnu' };

function parseArgs(argv) {
  const opts = { arch: 'all', out: root };
  for (const a of argv) {
    const m = /^--(arch|out)=(.+)$/.exec(a);
    if (!m) throw new Error(`scripts/prebuild.js: unknown argument ${a} (--arch=x64|arm64|all, --out=<dir>)`);
    opts[m[1]] = m[1] === 'out' ? path.resolve(m[2]) : m[2];
  }
  return opts;
}

function which(name, envPath = process.env.PATH || '') {
  for (const d of envPath.split(path.delimiter)) {
    if (!d) continue;
    const p = path.join(d, name);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch {}
  }
  return null;
}

// prebuildify spawns `node-gyp`; `npm run` puts npm's own copy on PATH, a direct
// `node scripts/prebuild.js` does not: use the one npm ships (no download, no dependency).
function nodeGyp() {
  if (which('node-gyp')) return 'node-gyp';
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && fs.existsSync(c)) || 'node-gyp';
}

function prebuildify(opts) {
  const run = require('prebuildify');
  return new Promise((resolve, reject) => {
    run({ napi: true, strip: true, tagLibc: true, targets: [], nodeGyp: nodeGyp(), ...opts }, (err) => (err ? reject(err) : resolve()));
  });
}

function strip(stripBin, file) {
  const r = spawnSync(stripBin, ['--strip-all', file], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${stripBin} --strip-all ${file} failed (status ${r.status}, ${r.error || ''})`);
}

// The supervisor and the libc hook (native/hook, preloaded by `blackbox run` into non-Node
// commands) are built by the same node-gyp run as the addon; copy both beside the prebuild,
// stripped (--strip-all keeps a shared object's dynamic symbols, which the hook's wrappers are).
const HOOK = 'blackbox-hook.so';
function shipSupervisor(buildDir, destDir, stripBin) {
  for (const [name, mode] of [[SUPERVISOR, 0o755], [HOOK, 0o644]]) {
    const src = path.join(buildDir, 'build', 'Release', name);
    if (!fs.existsSync(src)) throw new Error(`no ${src}: binding.gyp did not build ${name}`);
    const dest = path.join(destDir, name);
    fs.copyFileSync(src, dest);
    fs.chmodSync(dest, mode);
    strip(stripBin, dest);
  }
  return path.join(destDir, SUPERVISOR);
}

// The newest GLIBC_2.N a binary names (its version needs are in .dynstr): the oldest glibc a
// prebuild runs on, printed so whoever packs sees it (the build host's glibc decides it).
function glibcNeeded(file) {
  const v = (fs.readFileSync(file).toString('latin1').match(/GLIBC_2\.\d+/g) || []).map((m) => Number(m.slice(8)));
  return v.length ? `glibc >= 2.${Math.max(...v)}` : 'no glibc version needs';
}

function describe(dest) {
  return fs.readdirSync(dest).map((f) => `${f} (${fs.statSync(path.join(dest, f)).size} bytes, ${glibcNeeded(path.join(dest, f))})`).join(', ');
}

// A prebuild left from an earlier run (another name, e.g. before the libc tag) could be the one
// node-gyp-build picks; each arch's directory is made afresh.
function clean(out, arch) {
  fs.rmSync(path.join(out, 'prebuilds', `${process.platform}-${arch}`), { recursive: true, force: true });
}

async function buildHost(out) {
  const arch = os.arch();
  clean(out, arch);
  await prebuildify({ cwd: root, out, arch });
  const dest = path.join(out, 'prebuilds', `${process.platform}-${arch}`);
  if (process.platform === 'linux') shipSupervisor(root, dest, process.env.PREBUILD_STRIP_BIN || 'strip');
  console.log(`prebuild: ${path.relative(process.cwd(), dest) || dest}: ${describe(dest)}`);
}

// Copy what binding.gyp needs (it resolves node-addon-api from its own directory).
function stage() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-prebuild-'));
  for (const f of ['package.json', 'binding.gyp']) fs.copyFileSync(path.join(root, f), path.join(dir, f));
  fs.cpSync(path.join(root, 'native'), path.join(dir, 'native'), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

async function buildCross(arch, out) {
  const triple = CROSS[arch];
  const tools = { CC: `${triple}-gcc`, CXX: `${triple}-g++`, AR: `${triple}-ar`, STRIP: `${triple}-strip` };
  const missing = Object.values(tools).filter((t) => !which(t));
  if (missing.length) {
    console.log(`prebuild: linux-${arch} skipped: no ${missing.join(', ')} on PATH (Debian: apt-get install g++-${triple})`);
    // Not deleted (it may have been built elsewhere and copied in), but it would ship: say so.
    const old = path.join(out, 'prebuilds', `linux-${arch}`);
    if (fs.existsSync(old)) console.log(`prebuild: note: ${old} from an earlier build is still there and will be packed`);
    return;
  }
  clean(out, arch);
  const dir = stage();
  const saved = {};
  // prebuildify passes process.env to node-gyp; gyp's make generator reads CC/CXX/LINK/AR.
  const env = { CC: tools.CC, CXX: tools.CXX, LINK: tools.CXX, AR: tools.AR, CC_host: 'gcc', CXX_host: 'g++' };
  for (const [k, v] of Object.entries(env)) { saved[k] = process.env[k]; process.env[k] = v; }
  try {
    await prebuildify({ cwd: dir, out, arch, platform: 'linux', stripBin: tools.STRIP });
    const dest = path.join(out, 'prebuilds', `linux-${arch}`);
    shipSupervisor(dir, dest, tools.STRIP);
    console.log(`prebuild: ${path.relative(process.cwd(), dest) || dest}: ${describe(dest)}; cross-built with ${tools.CXX}, not run here`);
  } finally {
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const host = os.arch();
  const wanted = opts.arch === 'all' ? [host, ...Object.keys(CROSS).filter((a) => a !== host)] : [opts.arch];
  for (const arch of wanted) {
    if (arch === host) await buildHost(opts.out);
    else if (process.platform === 'linux' && host === 'x64' && CROSS[arch]) await buildCross(arch, opts.out);
    else console.log(`prebuild: ${process.platform}-${arch} skipped: no cross build from ${process.platform}-${host}`);
  }
}

main().catch((err) => {
  console.error(`prebuild failed: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
