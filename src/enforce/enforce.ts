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
  elapsedMs: number;
}

/** How long the all-thread broadcast may wait for one straggling thread. */
export const BROADCAST_TIMEOUT_MS = 2000;

export function enforce(plan: Plan, b: Binding, inode: (p: string) => { dir: boolean } | undefined): EnforceResult {
  const t0 = process.hrtime.bigint();
  const result: EnforceResult = { landlock: false, seccomp: false, missing: [], unconfirmed: [], elapsedMs: 0 };

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
        result.unconfirmed = r.threads.filter((t) => t.state !== 'applied' && t.state !== 'exited').map((t) => t.tid);
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
    b.seccompInstall(encode(plan.seccomp.insns), plan.seccomp.flags);
    result.seccomp = true;
  }
  result.elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return result;
}
