// The command line of `blackbox run` and `blackbox check`: flags from the capability table
// (SPEC §4), --policy / --profile as the base, then validated like any policy. Every mistake
// is a UsageError (exit 2) naming the flag, the file or the field, before anything runs.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliGrants, denyFlags, applyFlags, type FlagGrant, type Flags } from '../policy/flags';
import { parseNetRule } from '../policy/netrules';
import { PROFILES, profile } from '../policy/presets';
import type { Policy } from '../policy/types';
import { validatePolicy } from '../policy/validate';

export class UsageError extends Error {
  readonly exitCode = 2;
}

export interface Options {
  /** The merged policy (base + flags), not yet normalized. */
  policy: Policy;
  /** Where the policy came from, for messages: a file name, `--profile x`, or 'flags'. */
  source: string;
  log?: string;
  exitOnViolation: boolean;
  /** run: print what the kernel does not enforce before starting. */
  verbose: boolean;
  json: boolean;
  bpf: boolean;
  help: boolean;
  command: string[];
}

function readPolicyFile(file: string): Policy {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) { throw new UsageError(`cannot read ${file}: ${(e as Error).message}`); }
  let json: unknown;
  try { json = JSON.parse(text); } catch (e) { throw new UsageError(`${file}: not JSON: ${(e as Error).message}`); }
  try {
    return validatePolicy(json);
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === 'ERR_BLACKBOX_POLICY') throw new UsageError(`${file}: ${err.message.replace(/^blackbox-native: /, '')}`);
    throw e;
  }
}

function checkValue(g: FlagGrant, flag: string, v: string, resolveExe: (name: string) => string | undefined): string {
  if (v === '') throw new UsageError(`${flag}: empty value in the list`);
  if (v.includes('\0')) throw new UsageError(`${flag}: NUL byte in a value`);
  if (g.grant.values === 'endpoints') {
    const r = parseNetRule(v);
    if (typeof r === 'string') throw new UsageError(`${flag}=${v}: ${r}`);
  } else if (g.grant.values === 'executables') {
    const found = resolveExe(v);
    if (!found) throw new UsageError(`${flag}=${v}: no such executable${v.includes('/') ? '' : ' on PATH'}`);
    return found;
  }
  return v;
}

/**
 * Parse `run` or `check` arguments. `resolveExe` finds --allow-child-process names on PATH
 * (I/O stays with the caller).
 */
export function parseArgs(cmd: 'run' | 'check', args: readonly string[], resolveExe: (name: string) => string | undefined): Options {
  const grants = new Map(cliGrants().map((g) => [g.flag, g]));
  const denies = denyFlags();
  const flags: Flags = { grants: [], denies: [], all: false, audit: false };
  let base: Policy | undefined;
  let source = 'flags';
  const o: Options = { policy: {}, source, exitOnViolation: false, verbose: false, json: false, bpf: false, help: false, command: [] };
  const needValue = (a: string, next: string | undefined, name: string): string => {
    if (next === undefined || next === '') throw new UsageError(`${name} needs a value`);
    return next;
  };
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { i++; break; }
    if (!a.startsWith('-') || a === '-') break; // the command starts here
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const value = eq < 0 ? undefined : a.slice(eq + 1);
    const g = grants.get(name);
    if (g) {
      if (g.values === 'none') {
        if (value !== undefined) throw new UsageError(`${name} takes no value`);
        flags.grants.push({ grant: g });
      } else if (value === undefined) {
        flags.grants.push({ grant: g });
      } else {
        const fg: FlagGrant = { grant: g };
        fg.values = value.split(',').map((v) => checkValue(fg, name, v.trim(), resolveExe));
        flags.grants.push(fg);
      }
      continue;
    }
    if (denies.has(name)) {
      if (value !== undefined) throw new UsageError(`${name} takes no value`);
      flags.denies.push(denies.get(name)!);
      continue;
    }
    switch (name) {
      case '-A':
      case '--allow-all':
        if (value !== undefined) throw new UsageError(`${name} takes no value`);
        flags.all = true;
        break;
      case '--policy': {
        if (base) throw new UsageError('give one --policy or --profile, not several');
        const f = value ?? needValue(a, args[++i], '--policy');
        base = readPolicyFile(f);
        source = f;
        break;
      }
      case '--profile': {
        if (base) throw new UsageError('give one --policy or --profile, not several');
        const n = value ?? needValue(a, args[++i], '--profile');
        const p = profile(n);
        if (!p) throw new UsageError(`--profile ${n}: unknown profile (one of ${PROFILES.map((x) => x.name).join(', ')})`);
        base = p.policy;
        source = `--profile ${n}`;
        break;
      }
      case '--audit': flags.audit = true; break;
      case '--log': o.log = path.resolve(value ?? needValue(a, args[++i], '--log')); break;
      case '--exit-on-violation': o.exitOnViolation = true; break;
      case '--verbose': o.verbose = true; break;
      case '--json': if (cmd === 'check') { o.json = true; break; } throw new UsageError(`${cmd}: unknown option ${a} (see blackbox ${cmd} --help)`);
      case '--bpf': if (cmd === 'check') { o.bpf = true; break; } throw new UsageError(`${cmd}: unknown option ${a} (see blackbox ${cmd} --help)`);
      case '-h':
      case '--help': o.help = true; break;
      default: throw new UsageError(`${cmd}: unknown option ${a} (see blackbox ${cmd} --help)`);
    }
  }
  o.command = args.slice(i);
  if (cmd === 'check' && o.command.length) throw new UsageError(`check: unexpected argument ${o.command[0]}`);
  if (cmd === 'check' && (o.log || o.exitOnViolation)) throw new UsageError('check: --log and --exit-on-violation belong to run');
  o.policy = applyFlags(base ?? {}, flags);
  o.source = source;
  return o;
}

/** The flag lines of --help, from the capability table. */
export function flagHelp(): string {
  const rows: [string, string][] = [];
  for (const g of cliGrants()) {
    const v = g.values === 'none' ? '' : g.values === 'endpoints' ? '[=host[:port],...]' : g.values === 'paths' ? '[=path,...]' : '[=exe,...]';
    rows.push([`${g.flag}${v}`, `grant ${g.key}${g.values === 'none' ? '' : ' (all, or the listed ones)'}`]);
  }
  for (const [flag, id] of denyFlags()) rows.push([flag, `take ${id} away (wins over --allow-*)`]);
  rows.push(['-A, --allow-all', 'grant everything (combine with --deny-*)']);
  rows.push(['--policy <file.json>', 'a policy file (the Policy shape; $CWD $HOME $TMPDIR $NODE $APP in paths)']);
  rows.push(['--profile <name>', `a shipped preset: ${PROFILES.map((p) => p.name).join(', ')}`]);
  rows.push(['--audit', 'report what would be denied, deny nothing']);
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  return rows.map(([a, b]) => `  ${a.padEnd(w)}${b}`).join('\n');
}

export function profileHelp(): string {
  return PROFILES.map((p) => `  ${p.name.padEnd(15)}${p.summary}`).join('\n');
}
