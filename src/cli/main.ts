// blackbox: the command line. This release has `check`; `run` arrives with
// the CLI issue (it needs the launcher and the supervisor).

import * as fs from 'node:fs';
import { preview } from '../lockdown/lockdown';
import { disassemble } from '../compile/bpf/assembler';
import { syscallNames } from '../compile/bpf/arch';
import { fsRightNames } from '../compile/landlock/rights';
import { formatRule } from '../policy/netrules';

const HELP = `usage: blackbox <command> [options]

commands:
  check [--policy <file.json>] [--json] [--bpf]
        validate a policy and print, per rule, which layer enforces it on this machine

examples:
  blackbox check --policy policy.json
  blackbox check --policy policy.json --json
`;

function fail(msg: string): never {
  process.stderr.write(`blackbox: ${msg}\n`);
  process.exit(2);
}

function readPolicy(file: string): unknown {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) { fail(`cannot read ${file}: ${(e as Error).message}`); }
  try { return JSON.parse(text); } catch (e) { fail(`${file}: not JSON: ${(e as Error).message}`); }
}

function check(args: string[]): void {
  let policy: unknown = undefined;
  let json = false;
  let bpf = false;
  let file = '(no policy: the strictest default)';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--bpf') bpf = true;
    else if (a === '--policy') { file = args[++i] ?? fail('--policy needs a file'); policy = readPolicy(file); }
    else if (a.startsWith('--policy=')) { file = a.slice(9); policy = readPolicy(file); }
    else if (a === '--help' || a === '-h') { process.stdout.write(HELP); return; }
    else fail(`check: unknown option ${a} (see blackbox --help)`);
  }
  let plan;
  try {
    plan = preview(policy);
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
    const who = c.layers.filter((l) => l !== 'js');
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
    case 'run':
      return fail('run: not in this release (it arrives with the CLI wrapper); use lockdown() in-process for now');
    default:
      return fail(`unknown command ${cmd} (see blackbox --help)`);
  }
}
