// Normalization: a validated Policy plus the path variables' values becomes
// the NormalizedPolicy every later layer reads (defaults filled in, paths
// absolute, network entries parsed, lists deduplicated and sorted).

import { policyError } from '../errors';
import { capability } from './capabilities';
import { needsDns, parseNetRule, formatRule } from './netrules';
import { expandPath, minimalPaths } from './paths';
import type { Grant, NetRule, NormalizedPolicy, PathContext, Policy } from './types';
import { validatePolicy } from './validate';

function netList(value: boolean | string[] | undefined, field: string): Grant<NetRule> {
  if (value === undefined || value === false) return false;
  if (value === true) return true;
  const seen = new Map<string, NetRule>();
  value.forEach((entry, i) => {
    const r = parseNetRule(entry);
    if (typeof r === 'string') throw policyError(`${field}[${i}]`, entry, r);
    seen.set(formatRule(r), r);
  });
  // An empty list grants nothing: say so with false, as fs.write and childProcess
  // do, so the compiler does not open TCP/unix sockets for a list of no entries.
  if (seen.size === 0) return false;
  return [...seen.values()].sort((a, b) => (formatRule(a) < formatRule(b) ? -1 : 1));
}

function pathList(value: boolean | string[] | undefined, field: string, ctx: PathContext, dflt: boolean): Grant<string> {
  if (value === undefined) return dflt;
  if (typeof value === 'boolean') return value;
  return minimalPaths(value.map((p, i) => expandPath(p, `${field}[${i}]`, ctx)));
}

function execList(value: boolean | string[] | undefined, ctx: PathContext): Grant<string> {
  if (value === undefined) return capability('childProcess').defaultGrant;
  if (typeof value === 'boolean') return value;
  return [...new Set(value.map((p, i) => expandPath(p, `childProcess[${i}]`, ctx)))].sort();
}

export function normalizePolicy(input: unknown, ctx: PathContext): NormalizedPolicy {
  const p: Policy = validatePolicy(input);

  let net: NormalizedPolicy['net'];
  if (p.net === undefined || typeof p.net === 'boolean') {
    const all = p.net === true;
    net = { connect: all, listen: all, unix: all, dns: all };
  } else {
    const connect = netList(p.net.connect, 'net.connect');
    const listen = netList(p.net.listen, 'net.listen');
    let unix: Grant<string> = p.net.unix === undefined ? false : typeof p.net.unix === 'boolean' ? p.net.unix : minimalPaths(p.net.unix.map((u, i) => expandPath(u, `net.unix[${i}]`, ctx)));
    if (Array.isArray(unix) && unix.length === 0) unix = false;
    // SPEC: dns defaults to true when connect names a host name.
    const dns = p.net.dns ?? (connect === true || (Array.isArray(connect) && connect.some(needsDns)));
    net = { connect, listen, unix, dns };
  }

  let fs: NormalizedPolicy['fs'];
  if (p.fs === undefined) fs = { read: true, write: false };
  else if (typeof p.fs === 'boolean') fs = { read: p.fs ? true : [], write: p.fs };
  else {
    const read = pathList(p.fs.read, 'fs.read', ctx, capability('fs.read').defaultGrant);
    fs = { read: read === false ? [] : read, write: pathList(p.fs.write, 'fs.write', ctx, capability('fs.write').defaultGrant) };
  }
  if (Array.isArray(fs.write) && fs.write.length === 0) fs.write = false;

  let childProcess = execList(p.childProcess, ctx);
  if (Array.isArray(childProcess) && childProcess.length === 0) childProcess = false;

  return {
    net,
    fs,
    childProcess,
    addons: p.addons ?? capability('addons').defaultGrant,
    workers: p.workers ?? capability('workers').defaultGrant,
    mode: p.mode ?? 'enforce',
  };
}
