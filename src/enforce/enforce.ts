// Enforce a compiled plan, once, in the order that keeps every step possible:
//   Landlock on every thread (needs open(O_PATH) and signals, which the
//   seccomp filter might refuse)  ->  no_new_privs + seccomp with TSYNC, last.
// Nothing here decides policy: the plan says what, this says how.

import type { Plan, SeccompPlan } from '../compile/plan';
import type { LandlockPlan } from '../compile/landlock/plan';
import { encode } from '../compile/bpf/assembler';
import { maskForInode, RESTRICT_SELF } from '../compile/landlock/rights';
import type { Binding, BroadcastResult } from './binding';

export interface EnforceResult {
  landlock: number | false;
  seccomp: boolean;
  /** Path rules that could not be added because the path does not exist. */
  missing: string[];
  broadcast?: BroadcastResult;
  /** Threads Landlock could not be confirmed on (fail closed: the caller throws). */
  unconfirmed: number[];
  /** The plan wanted the supervisor but it could not be used (why): the fallback filter went in. */
  supervisorUnavailable?: string;
  /** The live connect supervisor, after its self-test passed. */
  supervisor?: { pid: number; fd: number };
  elapsedMs: number;
}

const EINPROGRESS = 115;
const ECONNREFUSED = 111;

/** The supervisor answered something other than the protocol says: fail closed, loudly. */
function supervisorFailure(what: string): Error {
  return Object.assign(new Error(`connect supervisor: ${what}`), { code: 'ERR_BLACKBOX_SUPERVISOR' });
}

/**
 * Before anything is restricted: start the helper (unfiltered, so its own calls are not
 * trapped) and hand it the rule table. It answers "ready" once it has parsed it.
 */
function startSupervisor(plan: Plan, b: Binding, helper: string, spawned?: { pid: number; fd: number }): { pid: number; fd: number } {
  const s = spawned ?? b.spawnSupervisor(helper);
  try {
    b.writeFd(s.fd, plan.supervisor!.lines.join('\n') + '\n');
    const ready = b.readLine(s.fd);
    if (ready !== 'ready') throw supervisorFailure(`rule table refused: ${ready ?? 'helper exited'}`);
    // Yama ptrace_scope 1: a child may read us only when named (EINVAL without Yama: fine).
    b.setPtracer(s.pid);
  } catch (e) {
    b.close(s.fd);
    throw e;
  }
  return s;
}

/**
 * Start the helper early, while the caller compiles: its exec and dynamic loading (~2-4 ms)
 * overlap our work. The caller hands it to enforce(), or dismisses it: "end" with an empty
 * table, then EOF, and the helper exits quietly. undefined when it cannot start now (enforce
 * tries again and, failing, takes its fallback).
 */
export function spawnEarly(b: Binding, helper: string): { pid: number; fd: number } | undefined {
  try {
    return b.spawnSupervisor(helper);
  } catch {
    return undefined;
  }
}

export function dismissEarly(b: Binding, s: { pid: number; fd: number }): void {
  try { b.writeFd(s.fd, 'end\n'); } catch { /* gone already */ }
  b.close(s.fd);
}

/**
 * One allowed and one denied raw connect through a live supervisor's self-test pair (a port
 * it listens on, one it only bound): undefined when both got the supervisor's answers, else
 * what went wrong. Shared by lockdown()'s attach and by a command `blackbox run` launched,
 * whose register repeats the launcher's test (BLACKBOX_SELFTEST) before it reports one.
 */
export function selfTest(b: Binding, allowPort: number, denyPort: number, audit: boolean): string | undefined {
  const allowed = b.probeConnect('127.0.0.1', allowPort);
  const denied = b.probeConnect('127.0.0.1', denyPort);
  if (allowed !== 0 && allowed !== -EINPROGRESS) return `self-test: an allowed connect failed (errno ${-allowed})`;
  // Audit: the would-be denial is CONTINUEd, so the kernel's own connect meets the port the
  // helper bound without listening (refused, at once or once under way on this
  // non-blocking socket); EACCES would mean it was denied, ENOSYS that nobody answered.
  // Enforce: the helper answers EACCES itself.
  const ok = audit ? denied === -ECONNREFUSED || denied === -EINPROGRESS || denied === 0 : denied === -13;
  return ok ? undefined : `self-test: a ${audit ? 'would-be-' : ''}denied connect gave ${denied}`;
}

/**
 * After the filter is in: the helper pulls the listener with pidfd_getfd (the fd NUMBER
 * travels; sendmsg with SCM_RIGHTS is trapped already and nobody would answer it), then
 * we keep no copy: were we to, the helper's death could not fail our calls closed.
 * Self-test: one allowed and one denied raw connect through the live supervisor.
 */
function attachSupervisor(b: Binding, s: { pid: number; fd: number }, listener: number, audit: boolean): void {
  try {
    b.writeFd(s.fd, `attach ${process.pid} ${listener}\n`);
    const reply = b.readLine(s.fd);
    const m = reply ? /^ok (\d+) (\d+)$/.exec(reply) : null;
    if (!m) throw supervisorFailure(`attach failed: ${reply ?? 'helper exited'}`);
    b.close(listener);
    listener = -1;
    const failed = selfTest(b, Number(m[1]), Number(m[2]), audit);
    if (failed) throw supervisorFailure(failed);
    b.writeFd(s.fd, 'selftest-done\n');
  } finally {
    if (listener >= 0) b.close(listener);
  }
}

/**
 * Something failed after the helper was started: it must not outlive the attempt with our
 * control socket open. "abort" makes it exit (it honours that only until the self-test is
 * done, so code in the process cannot stop a working supervisor this way), and closing the
 * socket makes a helper that has not attached exit on EOF. A helper that holds the listener
 * and exits leaves every trapped call failing with ENOSYS: closed, never open. The lockdown
 * cannot signal it (Landlock SCOPE_SIGNAL), hence the words instead of a kill.
 */
function abandonSupervisor(b: Binding, s: { pid: number; fd: number }): void {
  try { b.writeFd(s.fd, 'abort\n'); } catch { /* it is gone already */ }
  b.close(s.fd);
}

/**
 * The Landlock ruleset of a plan, as an fd (O_CLOEXEC). Paths that do not exist are skipped
 * and listed: Landlock can only grant an inode.
 */
export function buildRuleset(ll: LandlockPlan, b: Binding, inode: (p: string) => { dir: boolean } | undefined): { fd: number; missing: string[] } {
  const fd = b.landlockCreateRuleset(ll.handledFs, ll.handledNet, ll.scoped);
  const missing: string[] = [];
  try {
    for (const rule of ll.paths) {
      const node = inode(rule.path);
      if (!node) {
        missing.push(rule.path);
        continue;
      }
      const access = maskForInode(rule.access, node.dir);
      if (access !== 0) b.landlockAddPathRule(fd, rule.path, access);
    }
    for (const rule of ll.ports) b.landlockAddNetRule(fd, rule.port, rule.access);
  } catch (e) {
    b.close(fd);
    throw e;
  }
  return { fd, missing };
}

/** How long the all-thread broadcast may wait for one straggling thread. */
export const BROADCAST_TIMEOUT_MS = 2000;

export function enforce(plan: Plan, b: Binding, inode: (p: string) => { dir: boolean } | undefined, helper?: string, fallback?: (why: string) => SeccompPlan | null, spawned?: { pid: number; fd: number }): EnforceResult {
  const t0 = process.hrtime.bigint();
  const result: EnforceResult = { landlock: false, seccomp: false, missing: [], unconfirmed: [], elapsedMs: 0 };
  if (plan.supervisor && (!plan.seccomp || !helper)) throw supervisorFailure('the plan needs the supervisor but has no filter or helper');
  let sup: { pid: number; fd: number } | null = null;
  if (plan.supervisor) {
    try {
      sup = startSupervisor(plan, b, helper!, spawned);
    } catch (e) {
      // Nothing is restricted yet. A helper that cannot start here (e.g. a prebuilt one on
      // an older glibc) costs the per-destination rules, not the lockdown: the filter
      // without the supervisor goes in, and the report says why.
      if (!fallback) throw e;
      const why = `the connect supervisor did not start (${(e as Error).message})`;
      result.supervisorUnavailable = why;
      plan = { ...plan, supervisor: null, seccomp: fallback(why) };
    }
  }

  let attached = false;
  try {
    const ll = plan.landlock;
    if (ll) {
      const { fd, missing } = buildRuleset(ll, b, inode);
      result.missing = missing;
      try {
        if (ll.restrictFlags & RESTRICT_SELF.TSYNC) {
          // ABI 8: the kernel applies the domain to every thread itself.
          b.landlockRestrictSelf(fd, ll.restrictFlags);
        } else {
          const r = b.landlockRestrictAllThreads(fd, ll.restrictFlags, BROADCAST_TIMEOUT_MS);
          result.broadcast = r;
          // io-worker: io_uring's kernel threads run requests with the submitter's credentials (native/threads.cc).
          result.unconfirmed = r.threads.filter((t) => t.state !== 'applied' && t.state !== 'exited' && t.state !== 'io-worker').map((t) => t.tid);
          if (!r.ok && result.unconfirmed.length === 0) result.unconfirmed.push(b.gettid());
        }
        result.landlock = result.unconfirmed.length === 0 ? ll.abi : false;
      } finally {
        b.close(fd);
      }
    }

    if (plan.seccomp) {
      // NNP on this thread; TSYNC copies it to every thread it syncs.
      b.setNoNewPrivs();
      let listener: number;
      try {
        listener = b.seccompInstall(encode(plan.seccomp.insns), plan.seccomp.flags);
      } catch (e) {
        // EBUSY: a filter installed before ours (a container runtime's, another sandbox's)
        // holds the one user-notification listener a filter chain may have. EPERM: a filter
        // before ours refuses SECCOMP_FILTER_FLAG_NEW_LISTENER (ours does, so a process
        // started by a locked one, or under `blackbox run`, gets this). Landlock is in place
        // already; the caller's fallback filter (no supervisor, no listener) still goes in,
        // and the report says the per-destination rules are not this process's own.
        const code = (e as { code?: string }).code;
        if (!(sup && fallback && (code === 'EBUSY' || code === 'EPERM'))) throw e;
        abandonSupervisor(b, sup);
        attached = true;
        const why = code === 'EBUSY'
          ? 'another seccomp filter in this process holds the user-notification listener (EBUSY; one per filter chain)'
          : 'a seccomp filter installed before this lockdown refuses a user-notification listener (EPERM; a parent that was locked down, e.g. a blackbox run command whose supervisor self-test did not pass here)';
        const f = fallback(why);
        if (f) b.seccompInstall(encode(f.insns), f.flags);
        result.seccomp = f !== null;
        result.supervisorUnavailable = why;
        result.elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
        return result;
      }
      result.seccomp = true;
      if (sup) {
        // From here on network calls wait for the supervisor; if it is gone they get ENOSYS.
        attachSupervisor(b, sup, listener, plan.policy.mode === 'audit');
        result.supervisor = sup;
      }
    }
    attached = true;
  } finally {
    if (sup && !attached) abandonSupervisor(b, sup);
  }
  result.elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return result;
}
