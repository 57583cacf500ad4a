// The policy in force and its report; has() answers from it.

import * as path from 'node:path';
import type { NormalizedPolicy } from '../policy/types';
import type { Plan } from '../compile/plan';
import { anyRuleMatches, canonicalIp } from '../policy/netrules';
import { isBeneath } from '../policy/paths';
import { policyError } from '../errors';

export interface LockdownReport {
  policy: NormalizedPolicy;
  layers: {
    seccomp: boolean;
    landlock: number | false;
    netSupervisor: boolean;
    jsGuards: boolean;
  };
  platform: string;
  warnings: string[];
}

interface State { policy: NormalizedPolicy; report: LockdownReport; plan: Plan }
let current: State | null = null;

export function state(): State | null {
  return current;
}

export function setState(s: State): void {
  current = s;
}

/** The current LockdownReport, or null before any lockdown. */
export function status(): LockdownReport | null {
  return current ? current.report : null;
}

function splitHostPort(resource: string): { host: string; port: number | undefined } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(resource) ?? /^([^:]*)(?::(\d+))?$/.exec(resource);
  if (m) return { host: m[1], port: m[2] === undefined ? undefined : Number(m[2]) };
  return { host: resource, port: undefined }; // a bare IPv6 address
}

const SCOPES = ['net', 'fs', 'fs.read', 'fs.write', 'child', 'worker', 'addon'] as const;

/**
 * Does the policy in force allow it? Scopes are process.permission.has's.
 * Without a resource: is the scope granted at all (any entry). Before any
 * lockdown everything is allowed.
 */
export function has(scope: string, resource?: string): boolean {
  if (!(SCOPES as readonly string[]).includes(scope)) throw policyError('scope', scope, `is not one of ${SCOPES.join(', ')}`);
  if (resource !== undefined && typeof resource !== 'string') throw policyError('resource', resource, 'must be a string');
  if (!current) return true;
  const p = current.policy;
  const paths = (g: boolean | string[], r: string | undefined) =>
    g === true || (Array.isArray(g) && (r === undefined ? g.length > 0 : g.some((d) => isBeneath(path.resolve(r), d))));
  switch (scope) {
    case 'fs': return paths(p.fs.read, resource) && paths(p.fs.write, resource);
    case 'fs.read': return paths(p.fs.read, resource);
    case 'fs.write': return paths(p.fs.write, resource);
    case 'child': return p.childProcess === true || (Array.isArray(p.childProcess) && (resource === undefined ? true : p.childProcess.includes(path.resolve(resource))));
    case 'worker': return p.workers;
    case 'addon': return p.addons;
    case 'net': {
      const c = p.net.connect;
      if (c === true) return true;
      if (c === false) return false;
      if (resource === undefined) return c.length > 0;
      const { host, port } = splitHostPort(resource);
      const h = canonicalIp(host)?.ip ?? host;
      if (port === undefined) return c.some((r) => r.port === undefined && anyRuleMatches([r], h, 0));
      return anyRuleMatches(c, h, port);
    }
  }
  return false;
}
