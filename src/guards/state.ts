// The policy the JS guards answer to: the lockdown's (permanent) intersected
// with every active guard() (reversible, JS only). A guard can only narrow.
// Patches are installed once and consult effective() on every call; with
// nothing active they pass straight through.

import { AllowCache } from './cache';
import { resolveFollow } from './paths';
import type { NormalizedPolicy } from '../policy/types';

export interface GuardLayer {
  policy: NormalizedPolicy;
  /** Extra grants the lockdown's kernel plan adds (defaults such as /dev/null), realpath'd. */
  extraRead: string[];
  extraWrite: string[];
}

let lockdownLayer: GuardLayer | null = null;
const stack: Array<{ id: number; policy: NormalizedPolicy }> = [];
let nextId = 1;
let cache: Effective | null | undefined;

export interface Effective {
  policy: NormalizedPolicy;
  /** realpath'd grant lists, computed once per change */
  read: true | string[];
  write: true | false | string[];
  unix: boolean | string[];
  exec: boolean | string[];
  audit: boolean;
  /** allowed fs decisions under this policy (cache.ts); a new policy starts empty */
  fsAllowed: AllowCache;
  /**
   * TCP connects that passed unchanged under this policy: host as given → the port values
   * (as given) it passed with. Only literal IPs in Node's own spelling are remembered, so an
   * entry depends on nothing but this policy (no name, no lookup, no hint); bounded (net.ts).
   */
  connectPass: Map<string, Set<unknown>>;
}

export function setLockdownLayer(layer: GuardLayer): void {
  lockdownLayer = layer;
  cache = undefined;
}

// policy/intersect is needed only once a guard() layer is stacked, so lockdown() alone does
// not load it. It is required here, BEFORE the layer is pushed, never inside effective():
// the CJS loader reads the file with the (guarded) fs.readFileSync, which calls
// effective(); at this point the layers in force are the lockdown's alone (whose read
// grants include this package, defaultGrants' selfRoot) or, when layers are stacked
// already, the module is cached and nothing is read.
let intersectFn: typeof import('../policy/intersect').intersect | undefined;

export function pushGuard(policy: NormalizedPolicy): number {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  intersectFn ??= (require('../policy/intersect') as typeof import('../policy/intersect')).intersect;
  const id = nextId++;
  stack.push({ id, policy });
  cache = undefined;
  return id;
}

export function popGuard(id: number): void {
  const i = stack.findIndex((g) => g.id === id);
  if (i >= 0) stack.splice(i, 1);
  cache = undefined;
}

/**
 * The path the kernel will act on: every symlink followed, `..` applied after
 * them (not lexically first, which a symlink would step around).
 */
export function resolveReal(p: string): string {
  return resolveFollow(p);
}

function realList(list: string[]): string[] {
  const out = new Set<string>();
  for (const p of list) {
    out.add(p);
    out.add(resolveReal(p));
  }
  return [...out];
}

export function effective(): Effective | null {
  if (cache !== undefined) return cache;
  let policy: NormalizedPolicy | null = lockdownLayer ? lockdownLayer.policy : null;
  for (const g of stack) policy = policy ? intersectFn!(policy, g.policy) : g.policy;
  if (!policy) return (cache = null);
  const extraRead = lockdownLayer?.extraRead ?? [];
  const extraWrite = lockdownLayer?.extraWrite ?? [];
  const r = policy.fs.read;
  const w = policy.fs.write;
  cache = {
    policy,
    read: r === true ? true : realList([...(Array.isArray(r) ? r : []), ...(Array.isArray(w) ? w : []), ...extraRead, ...extraWrite]),
    write: w === true ? true : w === false && extraWrite.length === 0 ? false : realList([...(Array.isArray(w) ? w : []), ...extraWrite]),
    unix: Array.isArray(policy.net.unix) ? realList(policy.net.unix) : policy.net.unix,
    exec: Array.isArray(policy.childProcess) ? realList(policy.childProcess) : policy.childProcess,
    audit: policy.mode === 'audit',
    fsAllowed: new AllowCache(),
    connectPass: new Map(),
  };
  return cache;
}

/** True while a lockdown is in force (guards then convert kernel errnos too). */
export function lockedDown(): boolean {
  return lockdownLayer !== null;
}

/** The lockdown layer, for handing to Worker threads (worker-preload). */
export function getLockdownLayer(): GuardLayer | null {
  return lockdownLayer;
}

// The connect supervisor admits names below a '*.domain' rule only when told about them (it
// resolves them itself; a hint cannot widen anything). lockdown() sets the sender.
let hinter: ((name: string) => void) | null = null;
const hinted = new Set<string>();

export function setNameHinter(fn: ((name: string) => void) | null): void {
  hinter = fn;
}

export function hintName(name: string): void {
  if (!hinter || hinted.has(name)) return;
  if (hinted.size >= 4096) hinted.clear();
  hinted.add(name);
  hinter(name);
}
