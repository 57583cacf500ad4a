// Enforce a compiled plan, once, in the order that keeps every step possible:
//   Landlock on every thread (needs open(O_PATH) and signals, which the
//   seccomp filter might refuse)  ->  no_new_privs + seccomp with TSYNC, last.
// Nothing here decides policy: the plan says what, this says how.

import type { Plan } from '../compile/plan';
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
  /** The live connect supervisor, after its self-test passed. */
  supervisor?: { pid: number; fd: number };
  elapsedMs: number;
}

const EINPROGRESS = 115;

/** The supervisor answered something other than the protocol says: fail closed, loudly. */
function supervisorFailure(what: string): Error {
  return Object.assign(new Error(`connect supervisor: ${what}`), { code: 'ERR_BLACKBOX_SUPERVISOR' });
}

/**
 * Before anything is restricted: start the helper (unfiltered, so its own calls are not
 * trapped) and hand it the rule table. It answers "ready" once it has parsed it.
 */
function startSupervisor(plan: Plan, b: Binding, helper: string): { pid: number; fd: number } {
  const s = b.spawnSupervisor(helper);
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
 * After the filter is in: the helper pulls the listener with pidfd_getfd (the fd NUMBER
 * travels; sendmsg with SCM_RIGHTS is trapped already and nobody would answer it), then
 * we keep no copy: were we to, the helper's death could not fail our calls closed.
 * Self-test: one allowed and one denied raw connect through the live supervisor.
 */
function attachSupervisor(b: Binding, s: { pid: number; fd: number }, listener: number): void {
  try {
    b.writeFd(s.fd, `attach ${process.pid} ${listener}\n`);
    const reply = b.readLine(s.fd);
    const m = reply ? /^ok (\d+) (\d+)$/.exec(reply) : null;
    if (!m) throw supervisorFailure(`attach failed: ${reply ?? 'helper exited'}`);
    b.close(listener);
    listener = -1;
    const allowed = b.probeConnect('127.0.0.1', Number(m[1]));
    const denied = b.probeConnect('127.0.0.1', Number(m[2]));
    b.writeFd(s.fd, 'selftest-done\n');
    if (allowed !== 0 && allowed !== -EINPROGRESS) throw supervisorFailure(`self-test: an allowed connect failed (errno ${-allowed})`);
    if (denied !== -13) throw supervisorFailure(`self-test: a denied connect was not denied (result ${denied})`);
  } finally {
    if (listener >= 0) b.close(listener);
  }
}

/** How long the all-thread broadcast may wait for one straggling thread. */
export const BROADCAST_TIMEOUT_MS = 2000;

export function enforce(plan: Plan, b: Binding, inode: (p: string) => { dir: boolean } | undefined, helper?: string): EnforceResult {
  const t0 = process.hrtime.bigint();
  const result: EnforceResult = { landlock: false, seccomp: false, missing: [], unconfirmed: [], elapsedMs: 0 };
  if (plan.supervisor && (!plan.seccomp || !helper)) throw supervisorFailure('the plan needs the supervisor but has no filter or helper');
  const sup = plan.supervisor ? startSupervisor(plan, b, helper!) : null;

  const ll = plan.landlock;
  if (ll) {
    const fd = b.landlockCreateRuleset(ll.handledFs, ll.handledNet, ll.scoped);
    try {
      for (const rule of ll.paths) {
        const node = inode(rule.path);
        if (!node) {
          result.missing.push(rule.path);
          continue;
        }
        const access = maskForInode(rule.access, node.dir);
        if (access !== 0) b.landlockAddPathRule(fd, rule.path, access);
      }
      for (const rule of ll.ports) b.landlockAddNetRule(fd, rule.port, rule.access);
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
      if (sup) b.close(sup.fd); // nothing installed: the helper sees EOF and exits
      throw e;
    }
    result.seccomp = true;
    if (sup) {
      // From here on network calls wait for the supervisor; if it is gone they get ENOSYS.
      attachSupervisor(b, sup, listener);
      result.supervisor = sup;
    }
  }
  result.elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return result;
}
