// Intersection of two normalized policies, and the check that a later
// lockdown only narrows. Lists intersect entry-wise: an entry survives when the
// other side has an entry that covers it. That is exact for paths and for most
// network rules, and never wider than the true intersection (two rules that
// overlap without either covering the other, such as `example.com` and
// `*.com:443`, are dropped), so it errs towards denying.

import { isBeneath } from './paths';
import { formatRule, ruleCovers } from './netrules';
import type { Grant, NetRule, NormalizedPolicy } from './types';

type Covers<T> = (outer: T, inner: T) => boolean;

/**
 * Pairwise: for every x in a and y in b, the narrower of the two survives when
 * one covers the other. Then entries covered by another survivor are dropped
 * (the union is unchanged), so the result is minimal and stable.
 */
function grantIntersect<T>(a: Grant<T>, b: Grant<T>, covers: Covers<T>, key: (t: T) => string): Grant<T> {
  if (a === false || b === false) return false;
  if (a === true) return b;
  if (b === true) return a;
  const kept = new Map<string, T>();
  for (const x of a) {
    for (const y of b) {
      if (covers(x, y)) kept.set(key(y), y);
      else if (covers(y, x)) kept.set(key(x), x);
    }
  }
  const list = [...kept.values()];
  const minimal = list.filter((x) => !list.some((y) => key(y) !== key(x) && covers(y, x)));
  minimal.sort((p, q) => (key(p) < key(q) ? -1 : key(p) > key(q) ? 1 : 0));
  return minimal.length === 0 ? false : minimal;
}

const netCovers: Covers<NetRule> = ruleCovers;
const pathCovers: Covers<string> = (outer, inner) => isBeneath(inner, outer);
const same: Covers<string> = (o, i) => o === i;
const pathKey = (p: string) => p;

function pathsIntersect(a: Grant<string>, b: Grant<string>): Grant<string> {
  return grantIntersect(a, b, pathCovers, pathKey);
}

function netIntersect(a: Grant<NetRule>, b: Grant<NetRule>): Grant<NetRule> {
  return grantIntersect(a, b, netCovers, formatRule);
}

export function intersect(a: NormalizedPolicy, b: NormalizedPolicy): NormalizedPolicy {
  const fsRead = pathsIntersect(a.fs.read, b.fs.read);
  return {
    net: {
      connect: netIntersect(a.net.connect, b.net.connect),
      listen: netIntersect(a.net.listen, b.net.listen),
      unix: pathsIntersect(a.net.unix, b.net.unix),
      dns: a.net.dns && b.net.dns,
    },
    fs: {
      read: fsRead === false ? [] : fsRead,
      write: pathsIntersect(a.fs.write, b.fs.write),
    },
    childProcess: grantIntersect(a.childProcess, b.childProcess, same, pathKey),
    addons: a.addons && b.addons,
    workers: a.workers && b.workers,
    mode: a.mode === 'enforce' || b.mode === 'enforce' ? 'enforce' : 'audit',
  };
}

export interface Widening {
  field: string;
  /** What was asked that the policy in force does not allow. */
  value: unknown;
}

// A widening names the list, not an index: the requested list is normalized
// (deduplicated, sorted, minimal), so its indices are not the ones the caller
// wrote. The value is the entry itself (a network rule as the caller spelled it).
function grantWidenings<T>(field: string, cur: Grant<T>, req: Grant<T>, covers: Covers<T>, show: (t: T) => string): Widening[] {
  if (req === false || cur === true) return [];
  if (req === true) return [{ field, value: true }];
  if (cur === false) return req.map((x) => ({ field, value: show(x) }));
  const out: Widening[] = [];
  for (const x of req) {
    if (!cur.some((y) => covers(y, x))) out.push({ field, value: show(x) });
  }
  return out;
}

const showRule = (r: NetRule): string => r.source;

function boolWidening(field: string, cur: boolean, req: boolean): Widening[] {
  return req && !cur ? [{ field, value: true }] : [];
}

/** Every field where `requested` asks for more than `current` allows. Empty = a pure narrowing. */
export function widenings(current: NormalizedPolicy, requested: NormalizedPolicy): Widening[] {
  const fsRead = (g: Grant<string>) => (Array.isArray(g) && g.length === 0 ? false : g);
  return [
    ...grantWidenings('net.connect', current.net.connect, requested.net.connect, netCovers, showRule),
    ...grantWidenings('net.listen', current.net.listen, requested.net.listen, netCovers, showRule),
    ...grantWidenings('net.unix', current.net.unix, requested.net.unix, pathCovers, pathKey),
    ...boolWidening('net.dns', current.net.dns, requested.net.dns),
    ...grantWidenings('fs.read', fsRead(current.fs.read), fsRead(requested.fs.read), pathCovers, pathKey),
    ...grantWidenings('fs.write', current.fs.write, requested.fs.write, pathCovers, pathKey),
    ...grantWidenings('childProcess', current.childProcess, requested.childProcess, same, pathKey),
    ...boolWidening('addons', current.addons, requested.addons),
    ...boolWidening('workers', current.workers, requested.workers),
    ...(requested.mode === 'audit' && current.mode === 'enforce' ? [{ field: 'mode', value: 'audit' }] : []),
  ];
}
