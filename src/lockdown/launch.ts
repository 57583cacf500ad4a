// `blackbox run`: what the launcher needs to start a command under a policy. The I/O that
// the pure compiler may not do (PATH lookup, #! and ELF interpreters, realpaths) is here;
// the plan comes from compile() like lockdown()'s, with `launch: true`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { compile, type Plan } from '../compile/plan';
import { launchGrants } from '../compile/defaults';
import { encode } from '../compile/bpf/assembler';
import { normalizePolicy } from '../policy/normalize';
import type { NormalizedPolicy, PathContext } from '../policy/types';
import { loadBinding, PACKAGE_ROOT, type Binding } from '../enforce/binding';
import { buildRuleset } from '../enforce/enforce';
import { hostFacts, inode, packageRoot, pathContext, probe, supervisorInputs, kernelTarget, type Probe } from './probe';

export interface Command {
  /** The executable, absolute, as execve gets it. */
  file: string;
  argv: string[];
  /** Real paths of the executable and every interpreter the kernel opens to start it. */
  exec: string[];
  /** The command is Node: it gets the JS layer through the preload. */
  node: boolean;
  /** Node: the package root of its main script, when it names one. */
  appRoot?: string;
  /** Libraries the launcher preloads (LD_PRELOAD): the command's loader must read them. */
  preload: string[];
}

export class CommandError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

function isExecutableFile(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A command name as a shell finds it: with a slash, relative to cwd; else the first on PATH. */
export function findExecutable(name: string, envPath: string | undefined, cwd: string): string | undefined {
  if (name.includes('/')) {
    const p = path.resolve(cwd, name);
    return isExecutableFile(p) ? p : undefined;
  }
  for (const dir of (envPath ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (!dir) continue;
    const p = path.resolve(cwd, dir, name);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

/** PT_INTERP of an ELF file (little-endian, 32 or 64 bit), or undefined. */
export function elfInterpreter(file: string): string | undefined {
  let fd: number;
  try { fd = fs.openSync(file, 'r'); } catch { return undefined; }
  try {
    const h = Buffer.alloc(64);
    if (fs.readSync(fd, h, 0, 64, 0) < 52 || h.readUInt32BE(0) !== 0x7f454c46 || h[5] !== 1) return undefined;
    const is64 = h[4] === 2;
    const phoff = is64 ? Number(h.readBigUInt64LE(32)) : h.readUInt32LE(28);
    const phentsize = h.readUInt16LE(is64 ? 54 : 42);
    const phnum = h.readUInt16LE(is64 ? 56 : 44);
    if (phnum > 256 || phentsize < (is64 ? 56 : 32)) return undefined;
    const ph = Buffer.alloc(phentsize * phnum);
    fs.readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      if (ph.readUInt32LE(o) !== 3) continue; // PT_INTERP
      const off = is64 ? Number(ph.readBigUInt64LE(o + 8)) : ph.readUInt32LE(o + 4);
      const size = is64 ? Number(ph.readBigUInt64LE(o + 32)) : ph.readUInt32LE(o + 16);
      if (size <= 1 || size > 4096) return undefined;
      const b = Buffer.alloc(size);
      fs.readSync(fd, b, 0, size, off);
      return b.toString('latin1').replace(/\0.*$/s, '');
    }
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** `#!interp [arg]` of a script, as the kernel splits it (one optional argument). */
export function shebang(file: string): { interp: string; arg?: string } | undefined {
  let fd: number;
  try { fd = fs.openSync(file, 'r'); } catch { return undefined; }
  try {
    const b = Buffer.alloc(256);
    const n = fs.readSync(fd, b, 0, 256, 0);
    if (n < 3 || b[0] !== 0x23 || b[1] !== 0x21) return undefined;
    const line = b.subarray(2, n).toString('latin1').split('\n')[0].trim();
    const m = /^(\S+)(?:\s+(.*))?$/.exec(line);
    return m ? { interp: m[1], arg: m[2]?.trim() || undefined } : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

const NODE_NAME = /^node(js)?(\d+)?$/;

/**
 * The executable and every file the kernel (or /usr/bin/env) opens for execution to start
 * it: #! interpreters (also the program `env` looks up), their ELF interpreters.
 */
export function resolveCommand(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Command {
  if (argv.length === 0) throw new CommandError('run: no command given (blackbox run [options] -- <command> [args...])', 2);
  const file = findExecutable(argv[0], env.PATH, cwd);
  if (!file) throw new CommandError(`${argv[0]}: command not found`, 127);
  const exec: string[] = [];
  let node = false;
  const visit = (f: string, depth: number) => {
    let real: string;
    try { real = fs.realpathSync.native(f); } catch { return; }
    if (!exec.includes(real)) exec.push(real);
    if (NODE_NAME.test(path.basename(real)) || real === fs.realpathSync.native(process.execPath)) node = true;
    const interp = elfInterpreter(real);
    if (interp) { visit(interp, depth + 1); return; }
    const sb = depth < 4 ? shebang(real) : undefined;
    if (!sb) return;
    visit(sb.interp, depth + 1);
    if (path.basename(sb.interp) === 'env' && sb.arg) {
      // `#!/usr/bin/env [-S] prog args`: env looks prog up on PATH and execs it
      const prog = sb.arg.split(/\s+/).find((w) => !w.startsWith('-'));
      const found = prog ? findExecutable(prog, env.PATH, cwd) : undefined;
      if (found) visit(found, depth + 1);
    }
  };
  visit(file, 0);
  let appRoot: string | undefined;
  if (node) {
    const script = argv.slice(1).find((a) => !a.startsWith('-'));
    if (script) {
      try { appRoot = packageRoot(fs.realpathSync.native(path.resolve(cwd, script))); } catch { /* not a file */ }
    }
  }
  return { file, argv: [...argv], exec, node, appRoot, preload: [] };
}

export interface Launch {
  policy: NormalizedPolicy;
  plan: Plan;
  probe: Probe;
  /** Landlock rights the launcher grants on the command's own /proc/<pid>. */
  procSelf: number;
}

/** The plan for a command; throws ERR_BLACKBOX_POLICY for a bad policy. Pure but for the probe. */
export function planLaunch(input: unknown, cmd: Command, ctx: PathContext = pathContext()): Launch {
  const c: PathContext = { ...ctx, APP: cmd.appRoot ?? ctx.APP };
  const nodeExe = cmd.exec.find((e) => NODE_NAME.test(path.basename(e))) ?? cmd.exec[0];
  if (cmd.node) c.NODE = path.dirname(path.dirname(nodeExe));
  const policy = normalizePolicy(input, c);
  const binding = loadBinding();
  const p = probe(binding);
  const facts = hostFacts(c);
  const { grants, procSelf } = launchGrants(policy, {
    exec: cmd.exec,
    preload: cmd.preload,
    node: cmd.node ? { ...facts, pid: undefined, nodeExecPath: nodeExe, appRoot: cmd.appRoot } : undefined,
  });
  const plan = compile(policy, {
    ...kernelTarget(p),
    defaults: grants,
    launch: true,
    ...supervisorInputs(policy, p),
  });
  return { policy, plan, probe: p, procSelf: plan.landlock ? procSelf & plan.landlock.handledFs : 0 };
}

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

/**
 * What the launcher is told (native/supervisor/launch.cc): the rule table, then the spec.
 * Builds the Landlock ruleset now, in this unrestricted process; the caller passes its fd
 * to the launcher as fd 4 and closes it.
 */
export function launchSpec(l: Launch, cmd: Command, env: Record<string, string>, b: Binding | null = loadBinding()): { lines: string[]; rulesetFd?: number; missing: string[] } {
  const lines: string[] = [...(l.plan.supervisor?.lines ?? ['end'])];
  let rulesetFd: number | undefined;
  let missing: string[] = [];
  if (l.plan.landlock && b) {
    const r = buildRuleset(l.plan.landlock, b, inode);
    rulesetFd = r.fd;
    missing = r.missing;
    lines.push(`landlock ${l.plan.landlock.restrictFlags}`);
    if (l.procSelf) lines.push(`proc-self ${l.procSelf}`);
  }
  if (l.plan.seccomp) {
    if (l.plan.supervisor) lines.push('supervise');
    // Node commands name `*.domain` hosts to the supervisor (src/register.ts) through fd 3
    // The hint pipe (fd 3): Node's JS layer and, for other programs, the libc hook name the
    // hosts they resolve, for `*.domain` rules. Only Node repeats the launcher's self-test.
    if (l.plan.supervisor && (cmd.node || cmd.preload.length > 0)) lines.push('hint-fd');
    if (l.plan.supervisor && cmd.node) lines.push('share-selftest');
    lines.push(`seccomp ${l.plan.seccomp.flags} ${encode(l.plan.seccomp.insns).toString('hex')}`);
  }
  lines.push(`path ${hex(cmd.file)}`);
  for (const a of cmd.argv) lines.push(`arg ${hex(a)}`);
  for (const [k, v] of Object.entries(env)) lines.push(`env ${hex(`${k}=${v}`)}`);
  lines.push('go');
  return { lines, rulesetFd, missing };
}

/** The preload a Node command gets through NODE_OPTIONS. */
export const REGISTER_PATH = path.join(PACKAGE_ROOT, 'dist', 'register.js');
