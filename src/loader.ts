// Start-up cost is the price of every `node --require blackbox-native/register` and of the
// CLI, so the package loads as one script with a V8 code cache instead of ~57 files.
//
// scripts/bundle.js (run after tsc) writes dist/bundle.js — one function per dist module,
// keyed by its path under dist/ — and replaces each dist/X.js with a one-line stub that
// calls load('X.js') here. Every way in (main, exports, deep paths, the Worker preload, the
// CLI) therefore reaches the same single instance of each module. The bundle is compiled
// with the code cache in dist/bundle.cache when that cache was made by this Node build for
// this exact bundle file; V8 rejects a cache from another V8 version or flag set by itself,
// and an unusable cache only costs the compile it would have saved. Nothing here is needed
// for correctness: a dist/ built by tsc alone (no bundle step) runs the same code unbundled.
//
// This file is not part of the bundle and must not import any module of the package.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';

type ModuleFn = (this: unknown, exports: unknown, require: NodeJS.Require, module: Mod, filename: string, dirname: string) => void;
interface Mod { exports: unknown; id: string; filename: string; loaded: boolean; children: Mod[]; paths: string[] }

const DIST = __dirname;
export const BUNDLE = path.join(DIST, 'bundle.js');
export const CACHE = path.join(DIST, 'bundle.cache');

let script: vm.Script | undefined;
let defs: Record<string, ModuleFn> | undefined;
let cacheState: 'none' | 'accepted' | 'rejected' | 'stale' = 'none';
const modules = new Map<string, Mod>();

/** What identifies the bundle a cache was made from: a cache for another file is never fed to V8. */
function stamp(st: fs.Stats): string {
  return JSON.stringify({ node: process.version, arch: process.arch, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
}

function readCache(want: string): Buffer | undefined {
  let buf: Buffer;
  try { buf = fs.readFileSync(CACHE); } catch { return undefined; }
  const nl = buf.indexOf(10);
  if (nl < 0 || buf.toString('latin1', 0, nl) !== want) { cacheState = 'stale'; return undefined; }
  return buf.subarray(nl + 1);
}

function compile(useCache: boolean): Record<string, ModuleFn> {
  if (defs) return defs;
  const fd = fs.openSync(BUNDLE, 'r');
  let source: string;
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
    source = fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
  const cachedData = useCache ? readCache(stamp(st)) : undefined;
  script = new vm.Script(source, { filename: BUNDLE, cachedData });
  if (cachedData) cacheState = script.cachedDataRejected ? 'rejected' : 'accepted';
  defs = (script.runInThisContext() as () => Record<string, ModuleFn>)();
  return defs;
}

function resolveKey(key: string): string | undefined {
  const d = defs as Record<string, ModuleFn>;
  if (key in d) return key;
  if (key + '.js' in d) return key + '.js';
  if (key + '/index.js' in d) return key + '/index.js';
  return undefined;
}

function requireFrom(dir: string): NodeJS.Require {
  const r = ((spec: string) => {
    if (spec.startsWith('./') || spec.startsWith('../')) {
      const key = path.posix.join(dir, spec);
      const hit = resolveKey(key);
      // Not bundled (package.json, a .node file, a path outside dist/): Node's own loader.
      return hit ? loadKey(hit) : require(path.join(DIST, key));
    }
    // a dependency the bundle carries (scripts/bundle.js VENDORED), else Node's resolution
    return 'npm:' + spec in (defs as Record<string, ModuleFn>) ? loadKey('npm:' + spec) : require(spec);
  }) as NodeJS.Require;
  r.main = require.main;
  r.cache = require.cache;
  r.resolve = require.resolve;
  r.extensions = require.extensions;
  return r;
}

function loadKey(key: string): unknown {
  const have = modules.get(key);
  if (have) return have.exports;
  const filename = key.startsWith('npm:') ? path.join(DIST, 'node_modules', key.slice(4)) : path.join(DIST, key);
  const mod: Mod = { exports: {}, id: filename, filename, loaded: false, children: [], paths: [] };
  modules.set(key, mod);
  const dir = path.posix.dirname(key);
  try {
    (defs as Record<string, ModuleFn>)[key].call(mod.exports, mod.exports, requireFrom(dir === '.' ? '' : dir), mod, filename, path.dirname(filename));
  } catch (e) {
    modules.delete(key); // as Node does: a module whose top level threw is not cached
    throw e;
  }
  mod.loaded = true;
  return mod.exports;
}

/** The exports of dist/<key> (e.g. 'lockdown/lockdown.js'), from the bundle. */
export function load(key: string): unknown {
  compile(true);
  if (!resolveKey(key)) throw new Error(`blackbox-native: ${key} is not in ${BUNDLE} (rebuild: npm run build:ts)`);
  return loadKey(key);
}

/** For tests and `blackbox check --verbose`: whether this process's bundle compile used the cache. */
export function codeCacheState(): typeof cacheState {
  return cacheState;
}

/**
 * Writes dist/bundle.cache for this Node build. Runs in a fresh process made for it (the
 * bundle step, the install script): it compiles the bundle without a cache, runs the code
 * paths every start-up runs (loading the entry points, validating and compiling a policy,
 * installing and removing a guard — nothing that touches the kernel), and then serializes
 * the script, so the cache holds the bytecode of those functions as well as the top level.
 */
export function writeCache(): number {
  compile(false);
  const index = loadKey('index.js') as { guard(p: unknown): { dispose(): void } };
  for (const k of ['cli/main.js', 'testing.js', 'lockdown/launch.js']) if (resolveKey(k)) loadKey(k);
  const lockdown = loadKey('lockdown/lockdown.js') as { preview?(p: unknown): unknown };
  const policy = {
    net: { connect: ['127.0.0.1:5432', '*.example.com:443', ':6379'], listen: ['127.0.0.1:0'], dns: true },
    fs: { read: ['$CWD', '/tmp'], write: ['/tmp'] },
    childProcess: ['/usr/bin/true'],
    addons: false,
  };
  try { lockdown.preview?.(policy); } catch { /* the cache is an optimization; a warm-up failure only makes it smaller */ }
  try { index.guard(policy).dispose(); } catch { /* same */ }
  const data = (script as vm.Script).createCachedData();
  const st = fs.statSync(BUNDLE);
  const tmp = `${CACHE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, Buffer.concat([Buffer.from(stamp(st) + '\n', 'latin1'), data]));
  fs.renameSync(tmp, CACHE);
  return data.length;
}
