// lockdown(policy): warm-up -> preflight (io_uring) -> compile -> Landlock on all threads
// -> seccomp with TSYNC, last. Irreversible. A later call may only narrow.

import * as fs from 'node:fs';
import * as os from 'node:os';
import { lockdownError, policyError } from '../errors';
import { normalizePolicy } from '../policy/normalize';
import type { NormalizedPolicy } from '../policy/types';
import { compile, type Plan } from '../compile/plan';
import { defaultGrants } from '../compile/defaults';
import { loadBinding, loadError, type Binding } from '../enforce/binding';
import { dismissEarly, enforce, spawnEarly, type EnforceResult } from '../enforce/enforce';
import { hostFacts, inode, pathContext, probe, probeIoUring, supervisorInputs, kernelTarget, type Probe } from './probe';
import { ioUringVerdict } from './iouring';
import { installGuards } from '../guards/install';
import { setLockdownLayer } from '../guards/state';
import { READ_RIGHTS, FS } from '../compile/landlock/rights';
import { setState, state, type LockdownReport } from './status';
import { narrowSupervisor, openSupervisorChannel } from './supervisor-channel';
import { supervisorNeeded, supervisorPlan } from '../compile/supervisor';
import { EACCES } from '../compile/bpf/constants';

// Load the addon with the package, not inside lockdown(): dlopen and the
// prebuild search are a millisecond lockdown() need not spend.
loadBinding();

/** Lazy things that need files or libraries later: load them while we may. */
function warmUp(policy: NormalizedPolicy): void {
  // The libuv threadpool starts on its first request; starting it now means
  // its threads exist before the broadcast and are restricted with the rest.
  fs.stat(__filename, () => {});
  try { os.userInfo(); } catch { /* no passwd entry: nothing to warm */ }
  // Not warmed: ICU is compiled into node (no data files), and the time zone
  // is found by readlink(/etc/localtime), which Landlock does not restrict.
  if (policy.net.dns) {
    // glibc reads nsswitch/hosts/resolv.conf on first use.
    require('node:dns').lookup('localhost', () => {});
  }
}

/** The io_uring rings that may stay usable (libuv's epoll rings), or a refusal: see ./iouring.ts. */
function preflight(binding: Binding | null, accepted: readonly number[]): number[] {
  const v = ioUringVerdict(probeIoUring(binding), accepted);
  if (!v.ok) throw lockdownError('preflight', v.reason);
  return v.fds;
}

function buildReport(policy: NormalizedPolicy, plan: Plan, res: EnforceResult | null, binding: Binding | null, previous: LockdownReport | null, opts: LockdownOptions = {}): LockdownReport {
  let warnings = [...plan.warnings];
  if (opts.launched?.supervised) {
    // The launcher's supervisor (our parent) performs every network call: the notes about
    // what this process's own layers cannot do for net rules do not apply.
    const netNotes = new Set(plan.coverage.filter((c) => c.capability === 'net' && c.note).map((c) => c.note));
    warnings = warnings.filter((w) => !netNotes.has(w));
  }
  if (binding === null && process.platform === 'linux') {
    const e = loadError();
    warnings.unshift(`the native addon could not be loaded (${e instanceof Error ? e.message.split('\n')[0] : String(e)}): no kernel layer is active`);
  }
  for (const m of res?.missing ?? []) {
    const rule = plan.landlock?.paths.find((r) => r.path === m);
    if (rule && !rule.why.startsWith('Node') && /fs\.|childProcess/.test(rule.why)) warnings.push(`${rule.why} ${m} does not exist: Landlock grants only existing paths, so nothing is granted there`);
  }
  return {
    policy,
    layers: {
      seccomp: (res?.seccomp ?? false) || (previous?.layers.seccomp ?? false),
      landlock: res?.landlock || previous?.layers.landlock || false,
      netSupervisor: (res?.supervisor !== undefined) || (previous?.layers.netSupervisor ?? false) || (opts.launched?.supervised ?? false),
      jsGuards: true,
    },
    platform: `${process.platform}-${process.arch}`,
    warnings: [...new Set(warnings)],
  };
}

export interface LockdownOptions {
  /**
   * The process was started by `blackbox run`, whose launcher already applied the kernel
   * layers before exec (seen: Seccomp 2 and NoNewPrivs 1 in /proc/self/status). This
   * lockdown adds its own layers (the JS guards, Node's grants, the addon rule) but never
   * a second supervisor: the launcher's filter chain has the one listener it may have.
   */
  launched?: { supervised: boolean };
}

/** Ring fds that exist now but were not accepted by the preflight. */
function ringsMadeDuring(binding: Binding, accepted: readonly number[]): number[] {
  try {
    return binding.ioUringFds().filter((fd) => !accepted.includes(fd));
  } catch {
    return [];  // /proc unreadable now: the preflight read it, and no ring can be made since
  }
}

export function lockdown(input?: unknown): LockdownReport {
  return lockdownWith(input, {});
}

export function lockdownWith(input: unknown, opts: LockdownOptions): LockdownReport {
  const ctx = pathContext();
  const requested = normalizePolicy(input, ctx);
  const prev = state();
  let policy = requested;
  if (prev) {
    // Only a second lockdown intersects: the first (and the preload's) does not load the
    // module. Reading it now is allowed: the first lockdown grants this package's own files
    // (defaultGrants: selfRoot), and stacked guard() layers loaded it already (state.ts).
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { intersect, widenings } = require('../policy/intersect') as typeof import('../policy/intersect');
    const wider = widenings(prev.policy, requested);
    if (wider.length > 0) {
      const w = wider[0];
      throw policyError(w.field, w.value, `asks for more than the lockdown in force allows (a later lockdown may only narrow${wider.length > 1 ? `; ${wider.length - 1} more field(s) too` : ''})`);
    }
    policy = intersect(prev.policy, requested);
  }

  // "Launched, not supervised" is the launcher's word that this policy needed no supervisor;
  // for one that does, the word is not taken (a copied environment): our own supervisor, or
  // the fallback that says it is missing.
  if (opts.launched && !opts.launched.supervised && supervisorNeeded(policy)) opts = { ...opts, launched: undefined };
  const binding = loadBinding();
  const p = probe(binding);
  warmUp(policy);
  const ioUringFds = preflight(binding, prev?.plan.target.ioUringFds ?? []);

  // The helper's start-up (exec, loading glibc) overlaps the compile below.
  const wantHelper = binding && 'path' in p.supervisor && !prev?.report.layers.netSupervisor && !opts.launched && supervisorNeeded(policy);
  let early = wantHelper ? spawnEarly(binding!, (p.supervisor as { path: string }).path) : undefined;
  let plan: Plan;
  let res: EnforceResult | null = null;
  try {
    const facts = hostFacts(ctx);
    const defaults = defaultGrants(policy, facts);
    const target = { ...kernelTarget(p), defaults, ioUringFds };
    plan = compile(policy, {
      ...target,
      // A second lockdown adds a filter, never a second listener (one per filter chain).
      ...(prev?.report.layers.netSupervisor || opts.launched ? {} : supervisorInputs(policy, p)),
    });
    const fallback = (why: string) => compile(policy, { ...target, supervisorUnavailable: why });

    // JS guards first: friendly errors for what the kernel is about to deny.
    // They answer to the same policy plus the default grants the kernel plan adds.
    setLockdownLayer({
      policy,
      extraRead: defaults.filter((d) => d.access & READ_RIGHTS).map((d) => d.path),
      extraWrite: defaults.filter((d) => d.access & FS.WRITE_FILE).map((d) => d.path),
    });
    installGuards();

    if (binding && (plan.landlock || plan.seccomp)) {
      try {
        const spawned = plan.supervisor ? early : undefined;
        early = undefined; // enforce owns it now (it closes it on failure)
        res = enforce(plan, binding, inode, 'path' in p.supervisor ? p.supervisor.path : undefined, (why) => fallback(why).seccomp, spawned);
        if (res.supervisorUnavailable) plan = fallback(res.supervisorUnavailable);
      } catch (cause) {
        // Everything before the first restrict call changes nothing; after it
        // the process stays at least as restricted as it got.
        throw lockdownError('enforce', cause instanceof Error ? cause.message : String(cause), cause);
      }
    }
  } finally {
    // not handed to enforce (no supervisor in the plan, or something threw first)
    if (early) dismissEarly(binding!, early);
  }
  if (res?.supervisor) openSupervisorChannel(res.supervisor.fd);
  const lateRings = res?.seccomp ? ringsMadeDuring(binding!, ioUringFds) : [];
  if (prev?.report.layers.netSupervisor) {
    // The first lockdown's supervisor performs every network call, so neither this filter
    // nor Landlock sees them: the narrowing must reach the supervisor itself.
    const inputs = supervisorInputs(policy, p);
    const table = 'supervisor' in inputs && inputs.supervisor ? supervisorPlan(policy, { ...inputs.supervisor, denyErrno: EACCES }) : null;
    narrowSupervisor(table ? table.lines : ['end']);
  }
  const report = buildReport(policy, plan, res, binding, prev?.report ?? null, opts);
  setState({ policy, report, plan });
  if (res && res.unconfirmed.length > 0) {
    // Fail closed: a thread we could not confirm may still read and write
    // anything; the caller must not carry on as if locked down.
    const err = lockdownError('landlock', `Landlock could not be confirmed on thread(s) ${res.unconfirmed.join(', ')}; seccomp is installed on every thread, but treat this process as not locked down`);
    (err as unknown as { report: LockdownReport }).report = report;
    throw err;
  }
  if (lateRings.length > 0) {
    // Made by another thread between the preflight and the filter (io_uring_setup is denied
    // since): seccomp denies io_uring_enter on it, but an SQPOLL ring needs none and runs
    // with its creator's unrestricted credentials. Fail closed.
    const err = lockdownError('preflight', `io_uring ring(s) fd ${lateRings.join(', ')} were created during lockdown, after the preflight: treat this process as not locked down`);
    (err as unknown as { report: LockdownReport }).report = report;
    throw err;
  }
  if (!report.layers.seccomp && !report.layers.landlock && !prev) {
    process.emitWarning(`blackbox-native: no kernel layer is active on ${report.platform}: ${report.warnings[0] ?? ''}`, { code: 'BLACKBOX_NO_KERNEL' } as never);
  }
  return report;
}

/**
 * What lockdown(input) would enforce on this machine, without enforcing it:
 * the compiled plan (`blackbox check` prints it). Throws ERR_BLACKBOX_POLICY
 * like lockdown() for a malformed policy.
 */
export function preview(input?: unknown): Plan {
  const ctx = pathContext();
  const policy = normalizePolicy(input, ctx);
  const binding = loadBinding();
  const p = probe(binding);
  const rings = ioUringVerdict(probeIoUring(binding), state()?.plan.target.ioUringFds ?? []);
  return compile(policy, {
    ...kernelTarget(p),
    defaults: defaultGrants(policy, hostFacts(ctx)),
    ioUringFds: rings.ok ? rings.fds : [],
    ...supervisorInputs(policy, p),
  });
}

/** For tests and `blackbox check`: the plan the last lockdown enforced. */
export function lastPlan(): Plan | null {
  return state()?.plan ?? null;
}
