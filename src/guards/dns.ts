// dns: lookup, lookupService, resolve*/reverse, Resolver (callback and
// promise flavours) and setServers. Checked against Node 20.20's lib/dns.js,
// lib/internal/dns/{utils,callback_resolver,promises}.js:
//  - dns.resolve4 & co. are Resolver.prototype methods BOUND to the default
//    resolver at load time (bindDefaultResolver), so the prototypes and the
//    module-level functions are patched separately; dns.setServers re-binds
//    from the (patched) prototypes, which keeps them guarded.
//  - setServers lives on the shared ResolverBase.prototype.
//  - dns/promises is the same object as dns.promises.
// Policy: with net.dns false every query is denied (checkDns): lookup of an IP
// literal or of 'localhost' is answered without the network and passes.
// setServers may only name the resolvers in force at install time or now
// (dns.getServers()), or an address:port net.connect allows explicitly.

import * as dns from 'node:dns';
import * as nodeNet from 'node:net';
import { checkDns, checkDnsServers, type Denial } from './check';
import { callbackLater, violation } from './deny';
import { effective } from './state';

type Fn = (...a: unknown[]) => unknown;

const QUERY_KEYS = [
  'resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCaa', 'resolveCname', 'resolveMx',
  'resolveNaptr', 'resolveNs', 'resolvePtr', 'resolveSoa', 'resolveSrv', 'resolveTxt', 'reverse',
] as const;
const RRTYPES = new Set(['ANY', 'A', 'AAAA', 'CAA', 'CNAME', 'MX', 'NS', 'TXT', 'SRV', 'PTR', 'NAPTR', 'SOA']);
const kGuarded = Symbol('blackbox-native.dnsGuarded');

/** Keep name, length and symbol-keyed properties (util.promisify's customPromisifyArgs). */
function like<T extends Fn>(wrapper: T, orig: Fn): T {
  Object.defineProperty(wrapper, 'name', { value: orig.name, configurable: true });
  Object.defineProperty(wrapper, 'length', { value: orig.length, configurable: true });
  for (const s of Object.getOwnPropertySymbols(orig)) {
    const d = Object.getOwnPropertyDescriptor(orig, s);
    if (d) Object.defineProperty(wrapper, s, d);
  }
  (wrapper as unknown as Record<symbol, unknown>)[kGuarded] = orig;
  return wrapper;
}

function isGuarded(f: unknown): boolean {
  return typeof f === 'function' && (f as unknown as Record<symbol, unknown>)[kGuarded] !== undefined;
}

/** The denial to deliver (enforce mode), or null to call the original (allowed, audit, or nothing active). */
function decide(name: string, kind: 'lookup' | 'query'): Denial | null {
  const e = effective();
  if (!e) return null;
  const d = checkDns(e, name, kind);
  if (!d) return null;
  if (e.audit) {
    violation(d);
    return null;
  }
  return d;
}

// --- callback style -------------------------------------------------------

function guardLookup(orig: Fn): Fn {
  return like(function lookup(this: unknown, hostname: unknown, options: unknown, callback: unknown) {
    const cb = typeof options === 'function' ? options : callback;
    // invalid arguments: Node throws its own errors
    if (typeof hostname !== 'string' || typeof cb !== 'function' || (options !== undefined && typeof options !== 'function' && typeof options !== 'number' && typeof options !== 'object')) {
      return orig.apply(this, arguments as unknown as unknown[]);
    }
    const d = decide(hostname, 'lookup');
    if (!d) return orig.apply(this, arguments as unknown as unknown[]);
    callbackLater(cb as (e: Error) => void, violation(d));
    return {};
  }, orig);
}

function guardLookupService(orig: Fn): Fn {
  return like(function lookupService(this: unknown, address: unknown, port: unknown, callback: unknown) {
    if (arguments.length !== 3 || typeof address !== 'string' || nodeNet.isIP(address) === 0 || typeof callback !== 'function') {
      return orig.apply(this, arguments as unknown as unknown[]);
    }
    const d = decide(address, 'query');
    if (!d) return orig.apply(this, arguments as unknown as unknown[]);
    callbackLater(callback as (e: Error) => void, violation(d));
    return {};
  }, orig);
}

/** resolve(name, [rrtype], cb), resolveX(name, [options], cb), reverse(ip, cb). */
function guardQuery(orig: Fn, key: string): Fn {
  return like(function query(this: unknown, ...args: unknown[]) {
    const name = args[0];
    const cb = args.length > 2 ? args[2] : args[1];
    let valid = typeof name === 'string' && typeof cb === 'function';
    if (valid && key === 'resolve' && args.length > 2) valid = typeof args[1] === 'string' && RRTYPES.has(args[1]);
    if (!valid) return orig.apply(this, args);
    const d = decide(name as string, 'query');
    if (!d) return orig.apply(this, args);
    callbackLater(cb as (e: Error) => void, violation(d));
    return {};
  }, orig);
}

// --- promise style --------------------------------------------------------

function guardLookupPromise(orig: Fn): Fn {
  return like(function lookup(this: unknown, hostname: unknown, options: unknown) {
    if (typeof hostname !== 'string' || (options !== undefined && typeof options !== 'number' && typeof options !== 'object')) {
      return orig.apply(this, arguments as unknown as unknown[]);
    }
    const d = decide(hostname, 'lookup');
    if (!d) return orig.apply(this, arguments as unknown as unknown[]);
    return Promise.reject(violation(d));
  }, orig);
}

function guardLookupServicePromise(orig: Fn): Fn {
  return like(function lookupService(this: unknown, address: unknown, port: unknown) {
    if (arguments.length !== 2 || typeof address !== 'string' || nodeNet.isIP(address) === 0) {
      return orig.apply(this, arguments as unknown as unknown[]);
    }
    const d = decide(address, 'query');
    if (!d) return orig.apply(this, arguments as unknown as unknown[]);
    return Promise.reject(violation(d));
  }, orig);
}

function guardQueryPromise(orig: Fn, key: string): Fn {
  return like(function query(this: unknown, ...args: unknown[]) {
    const name = args[0];
    let valid = typeof name === 'string';
    if (valid && key === 'resolve' && args[1] !== undefined) valid = typeof args[1] === 'string' && RRTYPES.has(args[1]);
    if (!valid) return orig.apply(this, args);
    const d = decide(name as string, 'query');
    if (!d) return orig.apply(this, args);
    return Promise.reject(violation(d));
  }, orig);
}

// --- setServers -----------------------------------------------------------

/** Node's own parsing of a server entry (ResolverBase#setServers); undefined where Node throws. */
function parseServer(serv: unknown): { ip: string; port: number } | undefined {
  if (typeof serv !== 'string') return undefined;
  if (nodeNet.isIP(serv)) return { ip: serv, port: 53 };
  const v6 = /^\[([^[\]]*)\]/.exec(serv);
  if (v6 && nodeNet.isIP(v6[1])) return { ip: v6[1], port: Number.parseInt(serv.replace(/(^.+?)(?::(\d+))?$/, '$2'), 10) || 53 };
  const m = /(^.+?)(?::(\d+))?$/.exec(serv);
  if (m && nodeNet.isIP(m[1])) return { ip: m[1], port: Number.parseInt(m[2] || '53', 10) };
  return undefined;
}

function serverList(list: string[]): Array<{ ip: string; port: number }> {
  return list.map(parseServer).filter((s): s is { ip: string; port: number } => s !== undefined);
}

let systemServers: Array<{ ip: string; port: number }> = [];

function guardSetServers(orig: Fn): Fn {
  return like(function setServers(this: unknown, servers: unknown) {
    const e = effective();
    if (!e || !Array.isArray(servers)) return orig.apply(this, arguments as unknown as unknown[]);
    const parsed = servers.map(parseServer);
    if (parsed.some((s) => s === undefined)) return orig.apply(this, arguments as unknown as unknown[]); // Node throws ERR_INVALID_IP_ADDRESS
    let current = systemServers;
    try {
      current = [...systemServers, ...serverList(dns.getServers())];
    } catch { /* keep the snapshot */ }
    const d = checkDnsServers(e, parsed as Array<{ ip: string; port: number }>, current);
    if (d && !e.audit) throw violation(d); // sync API: Node throws its own setServers errors too
    if (d) violation(d);
    return orig.apply(this, arguments as unknown as unknown[]);
  }, orig);
}

// --- install --------------------------------------------------------------

function patchResolverPrototype(proto: Record<string, Fn>, promise: boolean): void {
  for (const key of QUERY_KEYS) {
    const f = proto[key];
    if (typeof f !== 'function' || isGuarded(f)) continue;
    proto[key] = promise ? guardQueryPromise(f, key) : guardQuery(f, key);
  }
}

function patchModule(mod: Record<string, unknown>, promise: boolean): void {
  for (const key of QUERY_KEYS) {
    const f = mod[key];
    if (typeof f !== 'function' || isGuarded(f)) continue;
    mod[key] = promise ? guardQueryPromise(f as Fn, key) : guardQuery(f as Fn, key);
  }
  if (typeof mod.lookup === 'function' && !isGuarded(mod.lookup)) mod.lookup = promise ? guardLookupPromise(mod.lookup as Fn) : guardLookup(mod.lookup as Fn);
  if (typeof mod.lookupService === 'function' && !isGuarded(mod.lookupService)) {
    mod.lookupService = promise ? guardLookupServicePromise(mod.lookupService as Fn) : guardLookupService(mod.lookupService as Fn);
  }
}

let done = false;
export function install(): void {
  if (done) return;
  done = true;
  try {
    systemServers = serverList(dns.getServers());
  } catch { /* no resolver configuration */ }
  const real = require('node:dns') as Record<string, unknown> & { Resolver: { prototype: Record<string, Fn> }; promises: Record<string, unknown> & { Resolver: { prototype: Record<string, Fn> } } };
  const promises = real.promises;

  patchResolverPrototype(real.Resolver.prototype, false);
  patchResolverPrototype(promises.Resolver.prototype, true);
  // setServers is on the ResolverBase both Resolver classes extend
  for (const proto of new Set([Object.getPrototypeOf(real.Resolver.prototype), real.Resolver.prototype, promises.Resolver.prototype])) {
    const owner = Object.prototype.hasOwnProperty.call(proto, 'setServers') ? proto : null;
    if (owner && typeof owner.setServers === 'function' && !isGuarded(owner.setServers)) owner.setServers = guardSetServers(owner.setServers);
  }
  patchModule(real, false);
  patchModule(promises, true);
}
