// Network endpoint grammar (Deno's: host[:port], *.domain[:port], [v6]:port,
// CIDR, :port) and the matching rules. One implementation, shared by the
// compiler, the JS guards and the connect supervisor's rule export.

import ipaddr = require('ipaddr.js');
import type { NetRule } from './types';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function isHostName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (!labels.every((l) => LABEL.test(l))) return false;
  // A name whose last label is a number (decimal or 0x-hex) would be read as an
  // IPv4 spelling by inet_aton ("0x7f." is 0.0.0.127, not a name).
  return !/^([0-9]+|0x[0-9a-f]*)$/.test(labels[labels.length - 1]);
}

function parsePort(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

/**
 * Parse any IP spelling the kernel or libc would accept (inet_aton's decimal,
 * hex, octal and short forms; IPv6 with an optional zone is refused) into
 * canonical text, folding IPv4-mapped IPv6 (::ffff:a.b.c.d) to IPv4.
 */
// canonicalIp is pure and sits on every guarded connect: remember recent answers.
const ipCache = new Map<string, { ip: string; family: 4 | 6 } | null>();
const IP_CACHE_MAX = 1024;

export function canonicalIp(text: string): { ip: string; family: 4 | 6 } | undefined {
  const hit = ipCache.get(text);
  if (hit !== undefined) return hit ?? undefined;
  const r = parseIp(text);
  if (ipCache.size >= IP_CACHE_MAX) ipCache.clear();
  ipCache.set(text, r ? Object.freeze(r) : null);
  return r;
}

function parseIp(text: string): { ip: string; family: 4 | 6 } | undefined {
  if (text.includes('%')) return undefined;
  if (!ipaddr.isValid(text)) return undefined;
  // ipaddr.js reads the deprecated IPv4-compatible form ::a.b.c.d as if it were
  // IPv4-mapped (::ffff:a.b.c.d); inet_pton and the kernel read it as the IPv6
  // address ::<ab>:<cd>, which is not the IPv4 host a.b.c.d.
  const compat = /^::([^:]*\.[^:]*)$/.exec(text);
  if (compat) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(compat[1])) return undefined;
    const b = ipaddr.IPv4.parse(compat[1]).toByteArray();
    return { ip: ipaddr.IPv6.parse(`::${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`).toString(), family: 6 };
  }
  let addr = ipaddr.parse(text);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr.kind() === 'ipv4' ? { ip: addr.toString(), family: 4 } : { ip: addr.toString(), family: 6 };
}

function canonicalV6(text: string): string {
  return ipaddr.IPv6.parse(text).toString();
}

export type NetRuleError = string;

/**
 * Parse one policy entry. `allowPortOnly` is true for listen (':8080') and
 * connect (':443' = any host on port 443). Returns the rule or the reason it
 * is not one. IP entries must be written with dots or colons: a bare number is
 * ambiguous between a port and inet_aton's single-number form.
 */
export function parseNetRule(entry: string): NetRule | NetRuleError {
  const source = entry;
  const text = entry.trim().toLowerCase();
  if (text === '') return 'is empty';
  if (text !== entry.toLowerCase()) return 'has surrounding spaces';
  let host: string;
  let port: number | undefined;

  if (text.startsWith('[')) {
    // [v6] or [v6]:port or [v6/len] or [v6/len]:port
    const close = text.indexOf(']');
    if (close < 0) return 'has "[" without "]"';
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return 'has text after "]" that is not ":port"';
      port = parsePort(rest.slice(1));
      if (port === undefined) return `has a bad port "${rest.slice(1)}" (0-65535)`;
    }
    if (!host.includes(':')) return 'has brackets around something that is not an IPv6 address';
  } else if ((text.match(/:/g) ?? []).length >= 2) {
    host = text; // bare IPv6 (or v6 CIDR), no port possible
  } else if (text.includes(':')) {
    const i = text.lastIndexOf(':');
    host = text.slice(0, i);
    port = parsePort(text.slice(i + 1));
    if (port === undefined) return `has a bad port "${text.slice(i + 1)}" (0-65535)`;
  } else {
    host = text;
  }

  if (host === '') return port === undefined ? 'is empty' : { kind: 'any', port, source };
  if (host === '*') return 'is "*": use true to allow every host';

  if (host.includes('/')) {
    const parts = host.split('/');
    if (parts.length !== 2) return 'has more than one "/"';
    let [addr] = parts;
    const len = parts[1];
    if (!/^[0-9]{1,3}$/.test(len)) return `has a bad prefix length "${len}"`;
    if (!addr.includes('.') && !addr.includes(':')) return 'is not a CIDR';
    if (/^::[^:]*\.[^:]*$/.test(addr)) {
      // ::a.b.c.d is IPv4-compatible IPv6, not IPv4-mapped (see canonicalIp)
      const c = canonicalIp(addr);
      if (!c) return `has a bad network address "${addr}"`;
      addr = c.ip;
    }
    if (!ipaddr.isValidCIDR(`${addr}/${len}`)) {
      if (!ipaddr.isValid(addr)) return `has a bad network address "${addr}"`;
      return `has a prefix length out of range "${len}"`;
    }
    const [net, prefix] = ipaddr.parseCIDR(`${addr}/${len}`);
    let family: 4 | 6 = net.kind() === 'ipv4' ? 4 : 6;
    let value: string;
    let plen = prefix;
    if (family === 6 && (net as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
      family = 4;
      plen = prefix - 96;
      value = (ipaddr.IPv4.networkAddressFromCIDR(`${(net as ipaddr.IPv6).toIPv4Address()}/${plen}`)).toString();
    } else {
      value = family === 4
        ? ipaddr.IPv4.networkAddressFromCIDR(`${addr}/${len}`).toString()
        : canonicalV6(ipaddr.IPv6.networkAddressFromCIDR(`${addr}/${len}`).toString());
    }
    return { kind: 'cidr', value, family, prefix: plen, port, source };
  }

  if (host === 'localhost') return { kind: 'localhost', value: 'localhost', port, source };

  if (host.startsWith('*.')) {
    const base = host.slice(2);
    if (!isHostName(base) || !base.includes('.')) return `is not a wildcard of the form *.example.com`;
    return { kind: 'wildcard', value: base, port, source };
  }
  if (host.includes('*')) return 'has "*" somewhere other than a leading "*."';

  // Every dot-separated part a decimal, octal or 0x-hex number: an inet_aton
  // spelling (0x7f.1, 0177.0.0.1, 127.1), never a host name.
  if (host.includes(':') || host.split('.').every((part) => /^(0x[0-9a-f]*|[0-9]+)$/.test(part))) {
    if (!host.includes('.') && !host.includes(':')) return 'is a bare number: write a port as ":PORT" and an IPv4 address with dots';
    const ip = canonicalIp(host);
    if (!ip) return host.includes('%') ? 'has an IPv6 zone index, which is not supported' : `is not a valid IP address`;
    return { kind: 'ip', value: ip.ip, family: ip.family, port, source };
  }
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (!isHostName(name)) return 'is not a host name, IP address, CIDR or :port';
  return { kind: 'host', value: name, port, source };
}

/** True when the rule names something only DNS can turn into addresses. */
export function needsDns(rule: NetRule): boolean {
  return rule.kind === 'host' || rule.kind === 'wildcard';
}

const parsed = new Map<string, ipaddr.IPv4 | ipaddr.IPv6>();
function parseCached(text: string): ipaddr.IPv4 | ipaddr.IPv6 {
  let v = parsed.get(text);
  if (!v) {
    if (parsed.size >= IP_CACHE_MAX) parsed.clear();
    v = ipaddr.parse(text);
    parsed.set(text, v);
  }
  return v;
}

function ipInCidr(ip: string, family: 4 | 6, net: string, prefix: number): boolean {
  const a = parseCached(ip);
  const n = parseCached(net);
  if (a.kind() !== n.kind()) return false;
  return (a as ipaddr.IPv4).match(n as ipaddr.IPv4, prefix);
}

function isLoopback(ip: string, family: 4 | 6): boolean {
  return family === 4 ? ipInCidr(ip, 4, '127.0.0.0', 8) : ip === '::1';
}

/**
 * Does `rule` allow this destination? `host` is a name (lower case) or an IP in
 * any spelling; `port` the destination port. A name matches host/wildcard
 * rules; an address matches ip/cidr/localhost rules. Names are never matched
 * against IP rules here: the caller resolves and checks every address.
 */
export function ruleMatches(rule: NetRule, host: string, port: number): boolean {
  if (rule.port !== undefined && rule.port !== port) return false;
  if (rule.kind === 'any') return true;
  const ip = canonicalIp(host);
  if (ip) {
    switch (rule.kind) {
      case 'ip': return rule.value === ip.ip;
      case 'cidr': return rule.family === ip.family && ipInCidr(ip.ip, ip.family, rule.value!, rule.prefix!);
      case 'localhost': return isLoopback(ip.ip, ip.family);
      default: return false;
    }
  }
  const name = host.toLowerCase().replace(/\.$/, '');
  switch (rule.kind) {
    case 'host': return rule.value === name;
    case 'wildcard': return name.endsWith(`.${rule.value}`);
    case 'localhost': return name === 'localhost';
    default: return false;
  }
}

export function anyRuleMatches(rules: readonly NetRule[], host: string, port: number): boolean {
  return rules.some((r) => ruleMatches(r, host, port));
}

/**
 * Does rule `a` allow everything rule `b` allows? Used by intersection: a later
 * lockdown may only ask for what an earlier one already allowed.
 */
export function ruleCovers(a: NetRule, b: NetRule): boolean {
  if (a.port !== undefined && a.port !== b.port) return false;
  if (a.kind === 'any') return true;
  switch (b.kind) {
    case 'any': return false;
    case 'ip': return ruleMatches({ ...a, port: undefined }, b.value!, 0);
    case 'cidr':
      if (a.kind === 'cidr') return a.family === b.family && a.prefix! <= b.prefix! && ipInCidr(b.value!, b.family!, a.value!, a.prefix!);
      if (a.kind === 'localhost') return b.family === 4 ? b.prefix! >= 8 && ipInCidr(b.value!, 4, '127.0.0.0', 8) : b.prefix === 128 && b.value === '::1';
      return a.kind === 'ip' && ((b.family === 4 && b.prefix === 32) || (b.family === 6 && b.prefix === 128)) && a.value === b.value;
    case 'host': return (a.kind === 'host' && a.value === b.value) || (a.kind === 'wildcard' && b.value!.endsWith(`.${a.value}`));
    case 'wildcard': return a.kind === 'wildcard' && (a.value === b.value || b.value!.endsWith(`.${a.value}`));
    case 'localhost': return a.kind === 'localhost';
  }
}

/** The entry in Deno's grammar, for messages and `blackbox check`. */
export function formatRule(rule: NetRule): string {
  let host: string;
  switch (rule.kind) {
    case 'any': host = ''; break;
    case 'ip': host = rule.family === 6 && rule.port !== undefined ? `[${rule.value}]` : rule.value!; break;
    case 'cidr': host = rule.family === 6 && rule.port !== undefined ? `[${rule.value}/${rule.prefix}]` : `${rule.value}/${rule.prefix}`; break;
    case 'wildcard': host = `*.${rule.value}`; break;
    default: host = rule.value!;
  }
  return rule.port === undefined ? host : `${host}:${rule.port}`;
}

/** "host:port" the way Node prints a destination ([v6]:port). */
export function formatEndpoint(host: string, port: number | undefined): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}
