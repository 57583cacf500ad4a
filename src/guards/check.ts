// Decisions: is this resource allowed by the effective policy? Matching uses
// the same rules as the compiler (policy/netrules, policy/paths). Returns a
// Denial (data) or null; guards turn a Denial into a delivered PolicyViolation.

import * as path from 'node:path';
import type { Permission } from '../errors';
import { capability, grantHint, type CapabilityId } from '../policy/capabilities';
import { anyRuleMatches, canonicalIp, formatEndpoint, ruleMatches } from '../policy/netrules';
import { isBeneath } from '../policy/paths';
import { effective, hintName, resolveReal, type Effective } from './state';

export interface Denial {
  capability: CapabilityId;
  permission: Permission;
  resource: string;
  operation: string;
  what: string;
  hint: string;
}

function denial(id: CapabilityId, operation: string, resource: string, what: string, hint?: string): Denial {
  return { capability: id, permission: capability(id).permission, resource, operation, what, hint: hint ?? grantHint(id, resource) };
}

/** Result of a connect check: allowed, denied, or "resolve this name and check every address". */
export type ConnectVerdict = { ok: true } | { ok: false; denial: Denial } | { ok: 'resolve' };

// shared, frozen answers: the allowed path of every connect allocates nothing
const OK: ConnectVerdict = Object.freeze({ ok: true as const });
const RESOLVE: ConnectVerdict = Object.freeze({ ok: 'resolve' as const });

export function netDenial(host: string, port: number | undefined, op: 'connect' | 'listen'): Denial {
  const resource = formatEndpoint(host, port);
  const key = op === 'connect' ? 'connect' : 'listen';
  return denial('net', op, resource, `net ${op === 'connect' ? 'connect to' : 'listen on'} ${resource}`, grantHint('net', resource, key));
}

/** net.connect / dgram.send / fetch: a destination host (name or any IP spelling) and port. */
export function checkConnect(e: Effective, host: string, port: number): ConnectVerdict {
  const c = e.policy.net.connect;
  if (c === true) return OK;
  const ip = canonicalIp(host);
  const shown = ip ? ip.ip : host;
  if (c === false) return { ok: false, denial: netDenial(shown, port, 'connect') };
  if (anyRuleMatches(c, ip ? ip.ip : host.toLowerCase(), port)) {
    if (!ip && c.some((r) => r.kind === 'wildcard' && ruleMatches(r, host.toLowerCase(), port))) hintName(host.toLowerCase().replace(/\.$/, ''));
    return OK;
  }
  // A name not listed itself may still resolve to listed addresses.
  if (!ip && c.some((r) => (r.kind === 'ip' || r.kind === 'cidr' || r.kind === 'localhost' || r.kind === 'any') && (r.port === undefined || r.port === port))) {
    return RESOLVE;
  }
  return { ok: false, denial: netDenial(shown, port, 'connect') };
}

/** Every address a name resolved to must be allowed; returns the first denied one. */
export function checkResolved(e: Effective, host: string, addresses: string[], port: number): Denial | null {
  if (addresses.length === 0) return netDenial(host, port, 'connect');
  for (const a of addresses) {
    const v = checkConnect(e, a, port);
    if (v.ok !== true) return v.ok === false ? { ...v.denial, resource: formatEndpoint(host, port), what: `net connect to ${formatEndpoint(host, port)} (${a})` } : netDenial(a, port, 'connect');
  }
  return null;
}

/** Server#listen / dgram bind: local address (''/undefined = all) and port (0 = ephemeral). */
export function checkListen(e: Effective, host: string | undefined, port: number): Denial | null {
  const l = e.policy.net.listen;
  if (l === true) return null;
  const h = host === undefined || host === '' ? '0.0.0.0' : host;
  if (l !== false && anyRuleMatches(l, canonicalIp(h)?.ip ?? h.toLowerCase(), port)) return null;
  return netDenial(canonicalIp(h)?.ip ?? h, port, 'listen');
}

function beneathAny(p: string, list: string[]): boolean {
  return list.some((d) => isBeneath(p, d));
}

export function checkUnix(e: Effective, socketPath: string, op: 'connect' | 'listen'): Denial | null {
  const u = e.unix;
  if (u === true) return null;
  // abstract sockets (leading NUL) have no path to grant
  const real = socketPath.startsWith('\0') ? socketPath : resolveReal(socketPath);
  if (u !== false && !socketPath.startsWith('\0') && beneathAny(real, u)) return null;
  const shown = socketPath.startsWith('\0') ? `@${socketPath.slice(1)}` : socketPath;
  return denial('net', op, shown, `net ${op === 'connect' ? 'connect to' : 'listen on'} unix socket ${shown}`, grantHint('net', shown, 'unix'));
}

// fs decisions live in fs.ts (per-call flags, entry vs target resolution).

/** `file` is what will be executed (already searched on PATH when relative), `command` the whole command line. */
export function checkSpawn(e: Effective, file: string, command: string): Denial | null {
  const x = e.exec;
  if (x === true) return null;
  if (x !== false && path.isAbsolute(file) && (x.includes(file) || x.includes(resolveReal(file)))) return null;
  return denial('childProcess', 'spawn', command, `child process ${command}`, grantHint('childProcess', path.isAbsolute(file) ? file : command));
}

export function checkWorker(e: Effective, what: string): Denial | null {
  if (e.policy.workers) return null;
  return denial('workers', 'create', what, `worker ${what}`);
}

export function checkAddon(e: Effective, file: string): Denial | null {
  if (e.policy.addons) return null;
  return denial('addons', 'load', file, `addon ${file}`);
}

export { effective };

/**
 * A DNS query for `name`. With net.dns false every query is denied, except
 * where getaddrinfo answers without the network: `lookup` of an IP literal
 * (any inet_aton spelling) or of the name localhost (/etc/hosts). resolve*,
 * reverse and lookupService always ask a DNS server.
 */
export function checkDns(e: Effective, name: string, kind: 'lookup' | 'query'): Denial | null {
  if (e.policy.net.dns) return null;
  if (kind === 'lookup') {
    if (name === '' || canonicalIp(name)) return null;
    if (name.toLowerCase().replace(/\.$/, '') === 'localhost') return null;
  }
  return { capability: 'net', permission: capability('net').permission, resource: name, operation: 'resolve', what: `dns ${kind} of ${JSON.stringify(name)}`, hint: 'grant it with net.dns: true' };
}

/**
 * setServers: every new server (ip, port) must already be one of `current`
 * (the system's resolvers, as dns.getServers() reported them) or be allowed
 * by net.connect itself (e.g. '10.0.0.53:53'). Returns the first denied one.
 */
export function checkDnsServers(e: Effective, servers: Array<{ ip: string; port: number }>, current: Array<{ ip: string; port: number }>): Denial | null {
  const known = new Set(current.map((s) => `${canonicalIp(s.ip)?.ip ?? s.ip}|${s.port}`));
  for (const s of servers) {
    const ip = canonicalIp(s.ip)?.ip ?? s.ip;
    if (known.has(`${ip}|${s.port}`)) continue;
    if (checkConnect(e, ip, s.port).ok === true) continue;
    const resource = formatEndpoint(ip, s.port);
    return { capability: 'net', permission: capability('net').permission, resource, operation: 'connect', what: `dns server ${resource}`, hint: grantHint('net', resource, 'connect') };
  }
  return null;
}
