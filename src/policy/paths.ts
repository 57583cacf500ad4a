// Path variables and lexical normalization. Pure: the caller supplies the
// variable values; symlinks are resolved later (Landlock works on inodes, and
// the guards resolve with realpath before matching).

import * as path from 'node:path';
import { policyError } from '../errors';
import type { PathContext } from './types';

export const PATH_VARIABLES = ['CWD', 'HOME', 'TMPDIR', 'NODE', 'APP'] as const;
const STRAY_DOLLAR = 'has "$" that is not a leading $CWD, $HOME, $TMPDIR, $NODE or $APP';

/**
 * Expand `$VAR` at the start of a path, resolve relative paths against $CWD,
 * and normalize (no `.`/`..`, no trailing slash). Throws ERR_BLACKBOX_POLICY
 * naming `field` for NUL bytes, empty strings, unknown or unset variables, a
 * `~` (use $HOME), and anything that is not absolute after expansion.
 */
export function expandPath(raw: unknown, field: string, ctx: PathContext): string {
  if (typeof raw !== 'string') throw policyError(field, raw, 'must be a path string');
  if (raw === '') throw policyError(field, raw, 'must not be empty');
  if (raw.includes('\0')) throw policyError(field, raw, 'must not contain a NUL byte');
  if (raw.startsWith('~')) throw policyError(field, raw, 'starts with "~": write $HOME instead');
  let p = raw;
  const m = /^\$(\{([A-Z]+)\}|([A-Z]+))(?=\/|$)/.exec(raw);
  if (m) {
    const name = (m[2] ?? m[3]) as (typeof PATH_VARIABLES)[number];
    if (!(PATH_VARIABLES as readonly string[]).includes(name)) {
      throw policyError(field, raw, `uses the unknown variable $${name} (known: ${PATH_VARIABLES.map((v) => '$' + v).join(' ')})`);
    }
    const value = ctx[name];
    if (value === undefined || value === '') throw policyError(field, raw, `uses $${name}, which is not set here`);
    if (!path.isAbsolute(value)) throw policyError(field, raw, `uses $${name}, whose value "${value}" is not absolute`);
    const rest = raw.slice(m[0].length);
    // The same rule after a leading variable as without one: "$HOME/x/$HOME" is
    // refused like "/x/$HOME" (a "$" is a variable only at the start). The
    // variable's own value is the machine's and is not checked.
    if (rest.includes('$')) throw policyError(field, raw, STRAY_DOLLAR);
    p = value + rest;
  } else if (raw.includes('$')) {
    throw policyError(field, raw, STRAY_DOLLAR);
  }
  if (!path.isAbsolute(p)) {
    if (!path.isAbsolute(ctx.CWD)) throw policyError(field, raw, 'is relative and $CWD is not absolute');
    p = path.join(ctx.CWD, p);
  }
  p = path.normalize(p);
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  if (!path.isAbsolute(p)) throw policyError(field, raw, 'is not absolute after variable expansion');
  return p;
}

/** Is `p` equal to or beneath `dir`? Both absolute and normalized. */
export function isBeneath(p: string, dir: string): boolean {
  if (dir === '/') return p.startsWith('/');
  // p === dir || p.startsWith(dir + '/'), without building dir + '/' (hot in the guards).
  return p.startsWith(dir) && (p.length === dir.length || p.charCodeAt(dir.length) === 0x2f);
}

/**
 * The sort key that puts a directory's descendants directly after it: "/" is
 * ordered before every other character ("/a", "/a/b", "/a-b" rather than
 * "/a", "/a-b", "/a/b"). NUL cannot occur in a policy path, so it stands for "/".
 */
function treeKey(p: string): string {
  // split/join, not replaceAll: V8's replaceAll result is a rope, and comparing
  // ropes in a sort is ~10x slower than comparing the flat string join makes.
  return p.split('/').join('\0');
}

/** Unique absolute normalized paths in tree order (see treeKey). */
function treeSorted(list: readonly string[]): string[] {
  return [...new Set(list)]
    .map((p) => [treeKey(p), p] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map((e) => e[1]);
}

/** The entries of a tree-sorted list that no other entry covers, in tree order. */
function treeTops(sorted: readonly string[]): string[] {
  const tops: string[] = [];
  for (const p of sorted) {
    // In tree order everything beneath a kept entry follows it directly, so
    // only the last kept entry can cover p.
    if (tops.length > 0 && isBeneath(p, tops[tops.length - 1])) continue;
    tops.push(p);
  }
  return tops;
}

/**
 * Remove entries already covered by another entry of the list; sort for stable
 * output. O(n log n) comparisons (sort, then one scan), not a pairwise check.
 */
export function minimalPaths(list: readonly string[]): string[] {
  return treeTops(treeSorted(list)).sort();
}

/**
 * A test "is p equal to or beneath some entry of list?" for many p: the list's
 * minimal entries in tree order, then a binary search for the last one not
 * after p, which is the only one that can cover it. O(log n) per question.
 */
export function pathCoverage(list: readonly string[]): (p: string) => boolean {
  const tops = treeTops(treeSorted(list));
  const keys = tops.map(treeKey);
  return (p) => {
    const k = treeKey(p);
    let lo = 0;
    let hi = keys.length; // the answer is in [lo - 1, hi - 1]: the last key <= k
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] <= k) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && isBeneath(p, tops[lo - 1]);
  };
}
