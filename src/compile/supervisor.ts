// Policy -> the connect supervisor's rule table (native/supervisor/rules.cc reads it).
// Pure. Every question of what a rule means is answered here: `localhost` is 127.0.0.0/8
// and ::1, ':443' is every address on port 443, a name is resolved by the supervisor
// itself, '*.example.com' admits names the target hints at (never more than the rule).

import type { NetRule, NormalizedPolicy } from '../policy/types';

export interface SupervisorPlan {
  /** The table, one rule per line, "end" last. */
  lines: string[];
  /** Which syscalls the filter traps to the supervisor. */
  trap: { connect: boolean; bind: boolean; send: boolean };
  /** Exact names and wildcard bases the supervisor resolves / accepts hints for. */
  names: string[];
  wildcards: string[];
}

/** Is the supervisor what enforces this policy's network part? */
export function supervisorNeeded(p: NormalizedPolicy): boolean {
  const { connect, listen, unix, dns } = p.net;
  // Audit mode too: the supervisor is what can name the destination a call would have been
  // denied for; it reports it and lets the kernel carry the call out (CONTINUE).
  return Array.isArray(connect) || (connect === false && dns) || Array.isArray(listen) || Array.isArray(unix);
}

function ports(r: NetRule): string {
  return r.port === undefined ? '0-65535' : `${r.port}-${r.port}`;
}

function ruleLines(r: NetRule, ops: 'c' | 'b'): string[] {
  const p = ports(r);
  switch (r.kind) {
    case 'any': return [`ip ${ops} any 0.0.0.0/0 ${p}`, `ip ${ops} any ::/0 ${p}`];
    case 'ip': return [`ip ${ops} any ${r.value}/${r.family === 4 ? 32 : 128} ${p}`];
    case 'cidr': return [`ip ${ops} any ${r.value}/${r.prefix} ${p}`];
    case 'localhost': return [`ip ${ops} any 127.0.0.0/8 ${p}`, `ip ${ops} any ::1/128 ${p}`];
    case 'host': return [`host ${ops} any ${r.value} ${p}`];
    case 'wildcard': return [`wild ${ops} any ${r.value} ${p}`];
  }
}

export interface SupervisorInputs {
  /** Canonical (realpath) form of each granted unix socket path; undefined: does not exist. */
  realpath(p: string): string | undefined;
  /** Directories where unix sockets may be created (the fs.write grants, canonical). */
  writeDirs: readonly string[] | true;
  /** errno the kernel answers a denial with. */
  denyErrno: number;
}

export function supervisorPlan(p: NormalizedPolicy, inp: SupervisorInputs): SupervisorPlan | null {
  if (!supervisorNeeded(p)) return null;
  const { connect, listen, unix, dns } = p.net;
  const lines = [`mode ${p.mode === 'audit' ? 'audit' : 'enforce'}`, `errno ${inp.denyErrno}`];
  const names: string[] = [];
  const wildcards: string[] = [];
  const add = (r: NetRule, ops: 'c' | 'b') => {
    lines.push(...ruleLines(r, ops));
    if (r.kind === 'host') names.push(r.value!);
    if (r.kind === 'wildcard') wildcards.push(r.value!);
  };
  if (connect === true) lines.push('connect-all');
  else if (Array.isArray(connect)) for (const r of connect) add(r, 'c');
  if (listen === true) lines.push('bind-all');
  else if (Array.isArray(listen)) for (const r of listen) add(r, 'b');
  // dgram sockets bind port 0 before their first send (uv_udp_send): the client side of
  // UDP, not a listener. Allowed wherever UDP may be sent at all.
  if (connect !== false || dns) lines.push('bind-ephemeral-udp');
  if (dns) lines.push('dns');
  if (unix === true) lines.push('unix-connect-all', 'abstract-all');
  else if (Array.isArray(unix)) {
    for (const path of unix) {
      const real = inp.realpath(path);
      if (real) lines.push(`unix-connect ${real}`);
    }
  }
  // Creating a socket file is a write: where fs.write allows it (Landlock's MAKE_SOCK does
  // not see a bind the supervisor makes, so the supervisor checks the directory itself).
  if (unix !== false) {
    if (inp.writeDirs === true) lines.push('unix-bind-all');
    else for (const d of inp.writeDirs) lines.push(`unix-bind ${d}`);
  }
  lines.push('end');
  return {
    lines,
    trap: { connect: true, bind: listen !== true || unix !== true, send: true },
    names: [...new Set(names)],
    wildcards: [...new Set(wildcards)],
  };
}
