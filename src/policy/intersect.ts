// Intersection of two normalized policies, and the check that a later
// lockdown only narrows. Lists intersect entry-wise: an entry survives when the
// other side has an entry that covers it. That is exact for paths and for most
// network rules, and never wider than the true intersection (two rules that
// overlap without either covering the other, such as `example.com` and
// `*.com:443`, are dropped), so it errs towards denying.

import ipaddr = require('ipaddr.js');
import { minimalPaths, pathCoverage } from './paths';
import { formatRule, ruleCovers } from './netrules';
import type { Grant, NetRule, NormalizedPolicy } from './types';

// Lists have up to 4096 entries (and a repeated lockdown(p) intersects p with
// itself), so nothing here compares every pair: each list gets an index that
// answers "does some entry cover x?" from a few candidates, and ruleCovers /
// isBeneath confirms every candidate, so the answers are exactly the pairwise
// ones.

/** covered(x, accept): is there an entry y that covers x (and accept(y))? */
type Coverage<T> = (x: T, accept?: (y: T) => boolean) => boolean;

// --- paths -----------------------------------------------------------------

function pathIndex(list: readonly string[]): Coverage<string> {
  const covered = pathCoverage(list);
  return (x) => covered(x);
}

// --- exact values (childProcess: executables are files, nothing covers another)

function sameIndex(list: readonly string[]): Coverage<string> {
  const set = new Set(list);
  return (x, accept) => set.has(x) && (!accept || accept(x));
}

// --- network rules ---------------------------------------------------------

/** The first `prefix` bits of an address, as text: the key of a CIDR block. */
function block(bytes: number[], prefix: number): string {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out.push(bytes[i] & ((0xff << (8 - bits)) & 0xff));
  }
  return out.join('.');
}

function ipBytes(value: string): number[] | undefined {
  try {
    return ipaddr.parse(value).toByteArray();
  } catch {
    return undefined;
  }
}

/** Rules of one port (or of no port), by kind and value. */
interface NetBucket {
  any: NetRule[];
  localhost: NetRule[];
  ip: Map<string, NetRule[]>;
  host: Map<string, NetRule[]>;
  wildcard: Map<string, NetRule[]>;
  /** `${family}/${prefix}` → block key → rules */
  cidr: Map<string, Map<string, NetRule[]>>;
  /** prefixes present per family, for the lookups of one address */
  prefixes: { 4: Set<number>; 6: Set<number> };
  /** rules of a kind this index does not know: checked one by one */
  other: NetRule[];
}

function push<K>(m: Map<K, NetRule[]>, k: K, r: NetRule): void {
  const l = m.get(k);
  if (l) l.push(r);
  else m.set(k, [r]);
}

function netIndex(list: readonly NetRule[]): Coverage<NetRule> {
  const buckets = new Map<number | 'none', NetBucket>();
  const bucket = (port: number | undefined): NetBucket => {
    const k = port === undefined ? 'none' : port;
    let b = buckets.get(k);
    if (!b) {
      b = { any: [], localhost: [], ip: new Map(), host: new Map(), wildcard: new Map(), cidr: new Map(), prefixes: { 4: new Set(), 6: new Set() }, other: [] };
      buckets.set(k, b);
    }
    return b;
  };
  for (const r of list) {
    const b = bucket(r.port);
    switch (r.kind) {
      case 'any': b.any.push(r); break;
      case 'localhost': b.localhost.push(r); break;
      case 'ip': push(b.ip, r.value!, r); break;
      case 'host': push(b.host, r.value!, r); break;
      case 'wildcard': push(b.wildcard, r.value!, r); break;
      case 'cidr': {
        const bytes = ipBytes(r.value!);
        if (!bytes || (r.family !== 4 && r.family !== 6)) { b.other.push(r); break; }
        let m = b.cidr.get(`${r.family}/${r.prefix}`);
        if (!m) b.cidr.set(`${r.family}/${r.prefix}`, (m = new Map()));
        push(m, block(bytes, r.prefix!), r);
        b.prefixes[r.family].add(r.prefix!);
        break;
      }
      default: b.other.push(r);
    }
  }

  /** Names a wildcard could cover: every parent domain of `name`. */
  const parents = (name: string): string[] => {
    const out: string[] = [];
    for (let i = name.indexOf('.'); i >= 0; i = name.indexOf('.', i + 1)) out.push(name.slice(i + 1));
    return out;
  };

  /** The rules of bucket b that could cover x (a superset of those that do). */
  function* candidates(b: NetBucket, x: NetRule): Generator<NetRule> {
    yield* b.any;
    yield* b.other;
    switch (x.kind) {
      case 'ip':
      case 'cidr': {
        yield* b.localhost;
        yield* b.ip.get(x.value!) ?? [];
        const bytes = ipBytes(x.value!);
        const family = x.family;
        if (!bytes || (family !== 4 && family !== 6)) {
          for (const m of b.cidr.values()) for (const l of m.values()) yield* l;
          break;
        }
        const most = x.kind === 'cidr' ? x.prefix! : family === 4 ? 32 : 128;
        for (const p of b.prefixes[family]) {
          if (p > most) continue;
          yield* b.cidr.get(`${family}/${p}`)?.get(block(bytes, p)) ?? [];
        }
        break;
      }
      case 'host':
        yield* b.host.get(x.value!) ?? [];
        for (const d of parents(x.value!)) yield* b.wildcard.get(d) ?? [];
        break;
      case 'wildcard':
        yield* b.wildcard.get(x.value!) ?? [];
        for (const d of parents(x.value!)) yield* b.wildcard.get(d) ?? [];
        break;
      case 'localhost':
        yield* b.localhost;
        break;
      case 'any':
        break;
      default:
        // A kind this index does not know: every rule is a candidate.
        for (const r of list) yield r;
    }
  }

  return (x, accept) => {
    // A rule with a port covers only rules with that port; a rule without covers any.
    const bs = [buckets.get('none'), x.port === undefined ? undefined : buckets.get(x.port)];
    for (const b of bs) {
      if (!b) continue;
      for (const y of candidates(b, x)) if (ruleCovers(y, x) && (!accept || accept(y))) return true;
    }
    return false;
  };
}

/**
 * The narrower side of every covering pair (x in a covered by some y in b, or
 * y in b covered by some x in a), then without the entries another survivor
 * covers, so the result is minimal and stable.
 */
function grantIntersect<T>(a: Grant<T>, b: Grant<T>, index: (l: readonly T[]) => Coverage<T>, key: (t: T) => string): Grant<T> {
  if (a === false || b === false) return false;
  if (a === true) return b;
  if (b === true) return a;
  const inA = index(a);
  const inB = index(b);
  const kept = new Map<string, T>();
  for (const x of a) if (inB(x)) kept.set(key(x), x);
  for (const y of b) if (inA(y)) kept.set(key(y), y);
  const list = [...kept.values()];
  const inList = index(list);
  // Drop x when another survivor covers it; of two that cover each other
  // (1.2.3.4 and 1.2.3.4/32) the one with the smaller key stays.
  const minimal = list.filter((x) => {
    const kx = key(x);
    return !inList(x, (y) => {
      const ky = key(y);
      return ky !== kx && (ky < kx || !inList(y, (z) => key(z) === kx));
    });
  });
  minimal.sort((p, q) => (key(p) < key(q) ? -1 : key(p) > key(q) ? 1 : 0));
  return minimal.length === 0 ? false : minimal;
}

const pathKey = (p: string) => p;

function pathsIntersect(a: Grant<string>, b: Grant<string>): Grant<string> {
  if (Array.isArray(a) && Array.isArray(b)) {
    // Paths never cover each other both ways: the tree-order scan is the minimal step.
    const inA = pathCoverage(a);
    const inB = pathCoverage(b);
    const kept = minimalPaths([...a.filter((x) => inB(x)), ...b.filter((y) => inA(y))]);
    return kept.length === 0 ? false : kept;
  }
  return grantIntersect(a, b, pathIndex, pathKey);
}

function netIntersect(a: Grant<NetRule>, b: Grant<NetRule>): Grant<NetRule> {
  return grantIntersect(a, b, netIndex, formatRule);
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
    childProcess: grantIntersect(a.childProcess, b.childProcess, sameIndex, pathKey),
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
function grantWidenings<T>(field: string, cur: Grant<T>, req: Grant<T>, index: (l: readonly T[]) => Coverage<T>, show: (t: T) => string): Widening[] {
  if (req === false || cur === true) return [];
  if (req === true) return [{ field, value: true }];
  if (cur === false) return req.map((x) => ({ field, value: show(x) }));
  const covered = index(cur);
  const out: Widening[] = [];
  for (const x of req) {
    if (!covered(x)) out.push({ field, value: show(x) });
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
    ...grantWidenings('net.connect', current.net.connect, requested.net.connect, netIndex, showRule),
    ...grantWidenings('net.listen', current.net.listen, requested.net.listen, netIndex, showRule),
    ...grantWidenings('net.unix', current.net.unix, requested.net.unix, pathIndex, pathKey),
    ...boolWidening('net.dns', current.net.dns, requested.net.dns),
    ...grantWidenings('fs.read', fsRead(current.fs.read), fsRead(requested.fs.read), pathIndex, pathKey),
    ...grantWidenings('fs.write', current.fs.write, requested.fs.write, pathIndex, pathKey),
    ...grantWidenings('childProcess', current.childProcess, requested.childProcess, sameIndex, pathKey),
    ...boolWidening('addons', current.addons, requested.addons),
    ...boolWidening('workers', current.workers, requested.workers),
    ...(requested.mode === 'audit' && current.mode === 'enforce' ? [{ field: 'mode', value: 'audit' }] : []),
  ];
}
