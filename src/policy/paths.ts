// Path variables and lexical normalization. Pure: the caller supplies the
// variable values; symlinks are resolved later (Landlock works on inodes, and
// the guards resolve with realpath before matching).

import * as path from 'node:path';
import { policyError } from '../errors';
import type { PathContext } from './types';

export const PATH_VARIABLES = ['CWD', 'HOME', 'TMPDIR', 'NODE', 'APP'] as const;

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
    p = value + raw.slice(m[0].length);
  } else if (raw.includes('$')) {
    throw policyError(field, raw, 'has "$" that is not a leading $CWD, $HOME, $TMPDIR, $NODE or $APP');
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
  return p === dir || p.startsWith(dir + '/');
}

/** Remove entries already covered by another entry of the list; sort for stable output. */
export function minimalPaths(list: readonly string[]): string[] {
  const sorted = [...new Set(list)].sort();
  return sorted.filter((p) => !sorted.some((q) => q !== p && isBeneath(p, q)));
}
