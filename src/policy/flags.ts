// CLI grants (--allow-*, --deny-*, -A) applied to a base policy, at the level of the public
// Policy shape so that validation and normalization stay the one path every policy takes.
// Pure: executables are already resolved to absolute paths by the caller.
//
//   - A flag without a value grants the whole key; with values it adds them to the base's
//     list. When the base does not set the key, the flag's list replaces the default (so
//     `--allow-fs-read=/app` means "read only /app", not "everything, and /app").
//   - -A / --allow-all grants every capability.
//   - --deny-* are applied last: deny wins over allow, whatever the order on the line.

import { CAPABILITIES, type CliGrant } from './capabilities';
import type { Policy } from './types';

export interface FlagGrant {
  grant: CliGrant;
  /** undefined: the whole key (`--allow-net`); else the listed values. */
  values?: string[];
}

export interface Flags {
  grants: FlagGrant[];
  /** Capability ids whose --deny-* flag was given. */
  denies: string[];
  all: boolean;
  audit: boolean;
}

type Explicit = {
  net: { connect?: boolean | string[]; listen?: boolean | string[]; unix?: boolean | string[]; dns?: boolean };
  fs: { read?: boolean | string[]; write?: boolean | string[] };
  childProcess?: boolean | string[];
  addons?: boolean;
  workers?: boolean;
  mode?: 'enforce' | 'audit';
};

/** The base with booleans spelled out per key; keys the base leaves to defaults stay undefined. */
function explicit(base: Policy): Explicit {
  const out: Explicit = { net: {}, fs: {} };
  if (typeof base.net === 'boolean') out.net = { connect: base.net, listen: base.net, unix: base.net, dns: base.net };
  else if (base.net) out.net = { ...base.net };
  if (typeof base.fs === 'boolean') out.fs = { read: base.fs, write: base.fs };
  else if (base.fs) out.fs = { ...base.fs };
  if (base.childProcess !== undefined) out.childProcess = base.childProcess;
  if (base.addons !== undefined) out.addons = base.addons;
  if (base.workers !== undefined) out.workers = base.workers;
  if (base.mode !== undefined) out.mode = base.mode;
  return out;
}

function add(current: boolean | string[] | undefined, values: string[] | undefined): boolean | string[] {
  if (values === undefined || current === true) return true;
  if (current === undefined || current === false) return [...values];
  return [...current, ...values.filter((v) => !current.includes(v))];
}

export function applyFlags(base: Policy, f: Flags): Policy {
  const e = explicit(base);
  if (f.all) {
    e.net = { connect: true, listen: true, unix: true, dns: true };
    e.fs = { read: true, write: true };
    e.childProcess = true;
    e.addons = true;
    e.workers = true;
  }
  for (const { grant, values } of f.grants) {
    switch (grant.key) {
      case 'net.connect':
        e.net.connect = add(e.net.connect, values);
        // the whole network: unix sockets and DNS too (as `net: true` would)
        if (values === undefined) { e.net.unix = true; e.net.dns = true; }
        break;
      case 'net.listen': e.net.listen = add(e.net.listen, values); break;
      case 'fs.read': e.fs.read = add(e.fs.read, values); break;
      case 'fs.write': e.fs.write = add(e.fs.write, values); break;
      case 'childProcess': e.childProcess = add(e.childProcess, values); break;
      case 'addons': e.addons = true; break;
      case 'workers': e.workers = true; break;
    }
  }
  for (const id of f.denies) {
    if (id === 'net') e.net = { connect: false, listen: false, unix: false, dns: false };
    else if (id === 'fs.write') e.fs.write = false;
    else if (id === 'childProcess') e.childProcess = false;
    else if (id === 'addons') e.addons = false;
    else if (id === 'workers') e.workers = false;
  }
  if (f.audit) e.mode = 'audit';
  const out: Policy = {};
  const net = Object.fromEntries(Object.entries(e.net).filter(([, v]) => v !== undefined));
  if (Object.keys(net).length) out.net = net;
  const fs = Object.fromEntries(Object.entries(e.fs).filter(([, v]) => v !== undefined));
  if (Object.keys(fs).length) out.fs = fs;
  if (e.childProcess !== undefined) out.childProcess = e.childProcess;
  if (e.addons !== undefined) out.addons = e.addons;
  if (e.workers !== undefined) out.workers = e.workers;
  if (e.mode !== undefined) out.mode = e.mode;
  return out;
}

/** Every grant flag of the capability table, for the parser and --help. */
export function cliGrants(): CliGrant[] {
  return CAPABILITIES.flatMap((c) => [...c.cliGrants]);
}

/** --deny-<x> → capability id. */
export function denyFlags(): Map<string, string> {
  return new Map(CAPABILITIES.filter((c) => c.denyFlag).map((c) => [c.denyFlag!, c.id]));
}
