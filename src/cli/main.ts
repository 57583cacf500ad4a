// blackbox: the command line. `run` starts a command under a policy (cli/run.ts); `check`
// prints the compiled plan for the same flags.

import * as fs from 'node:fs';
import { disassemble } from '../compile/bpf/assembler';
import { syscallNames } from '../compile/bpf/arch';
import { fsRightNames } from '../compile/landlock/rights';
import { formatRule } from '../policy/netrules';
import { flagHelp, parseArgs, profileHelp, UsageError, type Options } from './args';
import { run } from './run';
import { findExecutable } from '../lockdown/launch';

const HELP = `usage: blackbox <command> [options]

commands:
  run [flags] -- <command> [args...]   run any program under a policy (kernel-enforced)
  check [flags] [--json] [--bpf]        validate a policy and print, per rule, which layer
                                        enforces it on this machine

blackbox run --help and blackbox check --help list the flags.
`;

const RUN_HELP = `usage: blackbox run [flags] -- <command> [args...]

The command starts with the kernel limits already applied (Landlock, seccomp, and the
connect supervisor for per-destination network rules); nothing it or its children do can
lift them. Node commands also get the JS layer (--require blackbox-native/register through
NODE_OPTIONS) and its friendly ERR_ACCESS_DENIED errors. Everything not granted is denied.

flags:
${flagHelp()}
  --log <file.jsonl>        one JSON line per kernel-reported violation
  --exit-on-violation       end the command (exit code 78) at the first violation
  --verbose                 first print every part of the policy the kernel does not enforce here
  -h, --help                this text

profiles:
${profileHelp()}

The command's exit code is blackbox's (128+signal when it was killed). Each network
violation the kernel denies is reported on stderr as one line:
  blackbox: denied net connect 10.0.0.5:443 (grant with --allow-net=10.0.0.5:443)
Unknown flags and bad values exit 2 before anything runs.

examples:
  blackbox run --allow-net=api.example.com:443 -- node server.js
  blackbox run --allow-listen=127.0.0.1:8080 --allow-net=db.internal:5432 --profile web-service -- node app.js
  blackbox run --profile offline-build -- npx tsc -p .
  blackbox run --allow-fs-write=./out --deny-child-process -- python3 build.py
  blackbox run --policy policy.json --log violations.jsonl -- ./service
`;

const CHECK_HELP = `usage: blackbox check [flags] [--json] [--bpf]

Validates the policy the flags (or --policy / --profile) describe and prints, per rule, which
layer enforces it on this machine: seccomp, Landlock (ABI n), the connect supervisor, or the
JS layer only, and every part the kernel does not enforce, in words.

flags: the same as blackbox run (see blackbox run --help), and
  --json        the compiled plan as JSON
  --bpf         the seccomp program, disassembled

examples:
  blackbox check --policy policy.json
  blackbox check --allow-net=db.internal:5432 --allow-fs-write=/var/tmp/app --json
`;

const resolveExe = (name: string) => findExecutable(name, process.env.PATH, process.cwd());

function options(cmd: 'run' | 'check', args: string[]): Options {
  try {
    return parseArgs(cmd, args, resolveExe);
  } catch (e) {
    if (e instanceof UsageError) fail(e.message);
    throw e;
  }
}

function fail(msg: string): never {
  process.stderr.write(`blackbox: ${msg}\n`);
  process.exit(2);
}


function check(args: string[]): void {
  const o = options('check', args);
  if (o.help) { process.stdout.write(CHECK_HELP); return; }
  const { json, bpf } = o;
  const file = o.source === 'flags' && args.length === 0 ? '(no policy: the strictest default)' : o.source;
  let plan;
  try {
    // loaded here, not at the top: `run` must not pay for the JS guards it never installs
    const { preview } = require('../lockdown/lockdown') as typeof import('../lockdown/lockdown');
    plan = preview(o.policy);
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === 'ERR_BLACKBOX_POLICY') fail(`${file}: ${err.message.replace(/^blackbox-native: /, '')}`);
    throw e;
  }
  if (json) {
    process.stdout.write(JSON.stringify(plan, null, 2) + '\n');
    return;
  }
  const t = plan.target;
  const lines: string[] = [];
  lines.push(`policy: ${file}`);
  lines.push(`machine: ${t.platform}${t.arch ? ' ' + t.arch : ''}, seccomp ${plan.seccomp ? `${plan.seccomp.insns.length} instructions` : 'not available'}, Landlock ${plan.landlock ? `ABI ${plan.landlock.abi}` : 'not available'}`);
  lines.push('');
  lines.push('rules:');
  for (const c of plan.coverage) {
    const who = c.layers.filter((l) => l !== 'js').map((l) => (l === 'landlock' && plan.landlock ? `landlock ABI ${plan.landlock.abi}` : l));
    lines.push(`  ${c.rule}: ${c.status === 'kernel' ? 'kernel' : c.status === 'partial' ? 'partly kernel' : 'JS only'} (${who.length ? who.join(' + ') : 'no kernel layer'})`);
  }
  if (plan.landlock) {
    lines.push('');
    lines.push(`landlock: handled fs [${fsRightNames(plan.landlock.handledFs).join(' ')}], net ${plan.landlock.handledNet}, scopes ${plan.landlock.scoped}`);
    for (const r of plan.landlock.paths) lines.push(`  ${r.path}: ${fsRightNames(r.access).join(' ')}  (${r.why})`);
    for (const r of plan.landlock.ports) lines.push(`  tcp port ${r.port}: ${r.access & 2 ? 'connect ' : ''}${r.access & 1 ? 'bind' : ''}  (${r.why})`);
  }
  if (plan.policy.net.connect !== true && plan.policy.net.connect !== false) {
    lines.push('');
    lines.push(`net.connect: ${plan.policy.net.connect.map(formatRule).join(', ')}`);
  }
  if (plan.warnings.length) {
    lines.push('');
    lines.push('not enforced by the kernel here:');
    for (const w of plan.warnings) lines.push(`  - ${w}`);
  }
  if (bpf && plan.seccomp) {
    lines.push('');
    lines.push(disassemble(plan.seccomp.insns, { syscallNames: syscallNames(plan.seccomp.arch) }));
  }
  process.stdout.write(lines.join('\n') + '\n');
}

export function main(argv: string[]): void {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'check': return check(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP);
      return;
    case 'run': {
      const o = options('run', rest);
      if (o.help) { process.stdout.write(RUN_HELP); return; }
      if (o.command.length === 0) fail('run: no command given (blackbox run [flags] -- <command> [args...])');
      return run(o);
    }
    default:
      return fail(`unknown command ${cmd} (see blackbox --help)`);
  }
}
