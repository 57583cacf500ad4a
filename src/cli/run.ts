// blackbox run [options] -- <command> [args...]
//
// We compile the plan, build the Landlock ruleset here (unrestricted), and start the
// launcher (blackbox-supervisor launch) with it on fd 4 and a control pipe on fd 3. The
// launcher forks the command, applies Landlock + no_new_privs + seccomp in the child (single-
// threaded: no broadcast), supervises its network calls when the plan needs it, and tells
// us its exit. We forward signals, print one line per kernel report, and exit with the
// command's code (128+signal when it was killed).

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Socket } from 'node:net';
import { grantHint, capability } from '../policy/capabilities';
import { hookPath, supervisorPath } from '../enforce/binding';
import { cliGrants } from '../policy/flags';
import { CommandError, launchSpec, planLaunch, REGISTER_PATH, resolveCommand, type Command } from '../lockdown/launch';
import { parseReport, type KernelViolation } from '../lockdown/reports';
import type { Options } from './args';

/** The exit code --exit-on-violation ends the command with (EX_CONFIG). */
export const EXIT_VIOLATION = 78;

const FORWARD: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'];

function say(msg: string): void {
  process.stderr.write(`blackbox: ${msg}\n`);
}

/** `blackbox: denied net connect 10.0.0.5:443 (grant with --allow-net=10.0.0.5:443)` */
export function violationLine(v: KernelViolation): string {
  const listen = v.operation === 'listen';
  const c = capability('net');
  const flag = c.cliGrants.find((g) => g.key === (listen ? 'net.listen' : 'net.connect'))?.flag;
  const unix = v.proto === 'unix';
  const grant = unix ? 'grant with net.unix in a --policy file' : `grant with ${flag}=${v.resource}`;
  return `${v.audit ? 'audit: would deny' : 'denied'} net ${listen ? 'listen' : 'connect'} ${v.resource} (${grant})`;
}

/** The environment the command starts with: ours, plus the preload for Node. */
function commandEnv(opts: Options, cmd: Command, supervised: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  if (cmd.node) {
    // keep the user's own NODE_OPTIONS; the path is quoted as Node's parser expects
    const req = `--require ${JSON.stringify(REGISTER_PATH)}`;
    env.NODE_OPTIONS = env.NODE_OPTIONS ? `${req} ${env.NODE_OPTIONS}` : req;
    env.BLACKBOX_POLICY = JSON.stringify(opts.policy);
    delete env.BLACKBOX_CONFIG;
    env.BLACKBOX_LAUNCHED = supervised ? 'supervised' : '1';
    if (supervised) env.BLACKBOX_HINT_FD = '3';
    else delete env.BLACKBOX_HINT_FD;
    delete env.BLACKBOX_SELFTEST; // the launcher sets it to its self-test pair when it supervises
  } else {
    // Non-Node commands: the libc hook (native/hook) names the denials libc sees in the
    // program's own stderr. Words only; the kernel layers are the boundary. The flags it
    // prints come from the capability table; network lines are the supervisor's when it runs.
    const hook = cmd.preload[0];
    if (hook) {
      env.LD_PRELOAD = env.LD_PRELOAD ? `${hook}:${env.LD_PRELOAD}` : hook;
      const flag = (key: string) => cliGrants().find((g) => g.key === key)?.flag ?? key;
      env.BLACKBOX_HOOK = [
        `net=${flag('net.connect')}`, `listen=${flag('net.listen')}`, `fs.read=${flag('fs.read')}`,
        `fs.write=${flag('fs.write')}`, `child=${flag('childProcess')}`, 'unix=net.unix in a --policy file',
      ].join(';');
      if (supervised) { env.BLACKBOX_HOOK_SKIP = 'net'; env.BLACKBOX_HINT_FD = '3'; }
      else { delete env.BLACKBOX_HOOK_SKIP; delete env.BLACKBOX_HINT_FD; }
    }
  }
  return env;
}

export function run(opts: Options): void {
  let cmd: Command;
  try {
    cmd = resolveCommand(opts.command, process.env, process.cwd());
    const hook = cmd.node ? undefined : hookPath();
    if (hook) cmd.preload.push(hook);
  } catch (e) {
    if (e instanceof CommandError) { say(e.message); process.exit(e.exitCode); }
    throw e;
  }
  let launch;
  try {
    launch = planLaunch(opts.policy, cmd);
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === 'ERR_BLACKBOX_POLICY') { say(`${opts.source}: ${err.message.replace(/^blackbox-native: /, '')}`); process.exit(2); }
    throw e;
  }
  const helper = supervisorPath();
  if (process.platform !== 'linux' || !helper || !launch.probe.kernel) {
    say(`run: no kernel layer here (${process.platform !== 'linux' ? process.platform : !helper ? 'the blackbox-supervisor launcher is not built' : 'the native addon is not available'}); refusing to run the command unrestricted`);
    process.exit(70);
  }
  const supervised = launch.plan.supervisor !== null;
  const env = commandEnv(opts, cmd, supervised);
  const spec = launchSpec(launch, cmd, env);
  if (opts.verbose) for (const w of launch.plan.warnings) say(`note: ${w}`);

  const child = spawn(helper, ['launch'], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe', spec.rulesetFd ?? 'ignore'],
    env: {},
  });
  if (spec.rulesetFd !== undefined) fs.closeSync(spec.rulesetFd);
  const ctl = child.stdio[3] as Socket;
  const log = opts.log ? fs.openSync(opts.log, 'a') : undefined;

  let pid = 0;
  let result: { code?: number; signal?: number; err?: string } | null = null;
  let violated = false;
  const pending: NodeJS.Signals[] = [];
  const forward = (sig: NodeJS.Signals) => {
    if (pid) { try { process.kill(pid, sig); } catch { /* gone */ } } else pending.push(sig);
  };
  for (const s of FORWARD) process.on(s, forward);

  const onLine = (line: string) => {
    if (line === 'ready') {
      ctl.write(spec.lines.slice(spec.lines.indexOf('end') + 1).join('\n') + '\n');
      return;
    }
    let m: RegExpExecArray | null;
    if ((m = /^child (\d+)$/.exec(line))) {
      pid = Number(m[1]);
      for (const s of pending.splice(0)) forward(s);
      return;
    }
    if (line === 'supervised') return;
    if ((m = /^exit (\d+)$/.exec(line))) { result = { code: Number(m[1]) }; return; }
    if ((m = /^signal (\d+)$/.exec(line))) { result = { signal: Number(m[1]) }; return; }
    if ((m = /^err (\d+) (.*)$/.exec(line))) {
      const errno = Number(m[1]);
      result = { err: m[2] === 'execve' ? `${cmd.argv[0]}: cannot execute: ${errnoName(errno)}` : `launch failed at ${m[2]}: ${errnoName(errno)}`, code: m[2] === 'execve' ? 126 : 70 };
      return;
    }
    const v = parseReport(line);
    if (!v) return;
    say(violationLine(v));
    if (log !== undefined) fs.writeSync(log, JSON.stringify({ time: new Date().toISOString(), ...v, hint: grantHint('net', v.resource, v.operation === 'listen' ? 'listen' : 'connect') }) + '\n');
    if (opts.exitOnViolation && !v.audit && !violated) {
      violated = true;
      if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  };
  let buf = '';
  ctl.setEncoding('utf8');
  ctl.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      onLine(line);
    }
  });
  ctl.on('error', () => {});
  // the rule table first; the spec follows "ready"
  ctl.write(spec.lines.slice(0, spec.lines.indexOf('end') + 1).join('\n') + '\n');

  const finish = () => {
    if (log !== undefined) fs.closeSync(log);
    const r = result as { code?: number; signal?: number; err?: string } | null;
    if (violated) process.exit(EXIT_VIOLATION);
    if (!r) { say('run: the launcher ended without reporting the command\'s exit'); process.exit(70); }
    if (r.err) { say(r.err); process.exit(r.code ?? 70); }
    process.exit(r.signal !== undefined ? 128 + r.signal : r.code ?? 0);
  };
  // The command's exit arrives before the launcher's own (it may keep supervising
  // descendants the command left running): we end with the command.
  ctl.on('data', () => { if (result && !result.err) setImmediate(finish); });
  child.on('exit', () => setImmediate(finish));
  child.on('error', (e) => { say(`run: cannot start the launcher ${path.basename(helper)}: ${e.message}`); process.exit(70); });
}

const ERRNO: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 8: 'ENOEXEC', 13: 'EACCES', 16: 'EBUSY', 22: 'EINVAL', 38: 'ENOSYS' };
function errnoName(n: number): string {
  return ERRNO[n] ? `${ERRNO[n]} (errno ${n})` : `errno ${n}`;
}
