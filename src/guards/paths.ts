// Paths resolved the way the kernel walks them, for every guard: symlinks
// anywhere, `..` after a symlink, dangling symlinks that an O_CREAT would
// follow. Uses functions captured at load, so code running after the lockdown
// cannot fool the check by replacing fs.realpathSync.native or process.cwd.

import fs = require('node:fs');
// `import x = require()`: the module object itself; a namespace import reads
// every property through a getter, which showed on the hot path.
import path = require('node:path');

const realpathNative = fs.realpathSync.native as (p: string) => string;
const lstatSync = fs.lstatSync;
const readlinkSync = fs.readlinkSync as (p: string) => string;
const getCwd = process.cwd;

/** A path the kernel does not resolve into the filesystem: /proc/<pid>/fd/N of a pipe, socket or anon inode. */
export const NOT_A_PATH = '\0not-a-path';

export function absolute(p: string): string | null {
  if (path.isAbsolute(p)) return p;
  try {
    return getCwd.call(process) + '/' + p;
  } catch {
    return null; // cwd removed: nothing to resolve against — denied below
  }
}

function tryRealpath(p: string): string | null {
  try {
    return realpathNative(p);
  } catch {
    return null;
  }
}

/**
 * Resolve `abs` as the kernel would: every symlink (and `..` after it) in the
 * directory part; the last component too when `follow` (or a trailing slash),
 * including a dangling symlink, which open(O_CREAT) follows to create its target.
 * The part that does not exist yet is appended as written.
 */
export function resolveAbs(abs: string, follow: boolean, depth = 0): string {
  if (follow) {
    const r = tryRealpath(abs);
    if (r !== null) return r;
  }
  let s = abs;
  let trailing = false;
  while (s.length > 1 && s.endsWith('/')) {
    s = s.slice(0, -1);
    trailing = true;
  }
  if (s === '/' || s === '') return '/';
  const i = s.lastIndexOf('/');
  const dir = i <= 0 ? '/' : s.slice(0, i);
  const base = s.slice(i + 1);
  const parent = resolveAbs(dir, true, depth);
  if (parent === NOT_A_PATH) return NOT_A_PATH;
  if (base === '' || base === '.') return parent;
  if (base === '..') return path.dirname(parent);
  const full = parent === '/' ? `/${base}` : `${parent}/${base}`;
  if (!follow && !trailing) return full;
  // Following, and realpath failed: missing, a dangling or looping symlink, or a non-directory in the way.
  let isLink = false;
  try {
    isLink = lstatSync(full, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
  } catch {
    return full;
  }
  if (!isLink || depth >= 40) return full;
  let target: string;
  try {
    target = readlinkSync(full);
  } catch {
    return full;
  }
  if (!target.startsWith('/') && /^\/proc\/[^/]+\/(task\/[^/]+\/)?fd$/.test(parent) && /^[a-z_]+:/.test(target)) return NOT_A_PATH;
  return resolveAbs(target.startsWith('/') ? target : `${parent}/${target}`, true, depth + 1);
}

/** The kernel's view of `p` (relative to the cwd, every symlink followed); the input, resolved lexically, when the cwd is gone. */
export function resolveFollow(p: string): string {
  const abs = absolute(p);
  if (abs === null) return path.resolve(p);
  return resolveAbs(abs, true);
}
