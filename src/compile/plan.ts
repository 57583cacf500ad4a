// Compile purely, enforce once: the plan is data (JSON-serialisable) that
// `blackbox check` prints and tests assert on. Only enforce/ touches the kernel.

import type { NormalizedPolicy } from '../policy/types';
import { formatRule } from '../policy/netrules';
import { CAPABILITIES, type CapabilityId, type Enforcer } from '../policy/capabilities';
import { archByName, type ArchName } from './bpf/arch';
import type { Insn } from './bpf/assembler';
import {
  SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_TSYNC_ESRCH, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, EACCES,
} from './bpf/constants';
import { supervisorNeeded, supervisorPlan, type SupervisorInputs, type SupervisorPlan } from './supervisor';
import { generate } from './seccomp/codegen';
import { ioUringWarning, seccompRules, socketNeeds, type SyscallRule } from './seccomp/rules';
import { FS } from './landlock/rights';
import { downgradeLandlock, idealLandlockPlan, landlockPorts, type DefaultGrant, type LandlockPlan } from './landlock/plan';

export interface CompileTarget {
  platform: string;
  /** undefined: no seccomp compiler for this arch (or not Linux). */
  arch: ArchName | undefined;
  /** 0 = no Landlock. */
  landlockAbi: number;
  landlockErrata: number;
  /** The kernel layer (the addon) can be used at all. */
  kernel: boolean;
  defaults: readonly DefaultGrant[];
  /** Present when the connect supervisor can run here (kernel >= 5.19, helper built, ptrace allowed). */
  supervisor?: Omit<SupervisorInputs, 'denyErrno'>;
  /** Why it cannot, for the report. */
  supervisorUnavailable?: string;
  /** `blackbox run`: the plan is applied by the launcher just before it execs the command. */
  launch?: boolean;
  /** io_uring rings made before lockdown that stay usable (preflight accepted them as libuv's). */
  ioUringFds?: readonly number[];
}

export interface SeccompPlan {
  arch: ArchName;
  rules: SyscallRule[];
  insns: Insn[];
  flags: number;
  absent: string[];
}

/** How one rule of the policy is enforced on this machine. */
export interface Coverage {
  capability: CapabilityId;
  rule: string;
  layers: Enforcer[];
  /** kernel: fully by the kernel; partial: the kernel enforces part of it; js: only the JS layer. */
  status: 'kernel' | 'partial' | 'js';
  note?: string;
}

export interface Plan {
  policy: NormalizedPolicy;
  target: CompileTarget;
  seccomp: SeccompPlan | null;
  landlock: LandlockPlan | null;
  supervisor: SupervisorPlan | null;
  coverage: Coverage[];
  warnings: string[];
}

export const SECCOMP_FLAGS = SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH | SECCOMP_FILTER_FLAG_SPEC_ALLOW;
// NEW_LISTENER|TSYNC needs TSYNC_ESRCH (5.7), else EINVAL: the TID of a failing thread would
// collide with the listener fd. WAIT_KILLABLE_RECV (5.19): once the supervisor has the
// call, only a fatal signal interrupts the wait; a restart would repeat an on-behalf send.
export const SUPERVISED_FLAGS = SECCOMP_FLAGS | SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;

export function compile(policy: NormalizedPolicy, target: CompileTarget): Plan {
  const audit = policy.mode === 'audit';
  const linux = target.kernel && target.platform === 'linux';
  const abi = linux && !audit ? target.landlockAbi : 0;
  const landlockDown = downgradeLandlock(idealLandlockPlan(policy, target.defaults), abi, target.landlockErrata);
  const landlock = linux && !audit ? landlockDown.plan : null;
  const ll = landlock ?? { abi: 0, handledFs: 0, handledNet: 0, scoped: 0, paths: [], ports: [], restrictFlags: 0 };
  const landlockFs = landlock !== null && (landlock.handledFs & ~0x800) !== 0;

  let seccomp: SeccompPlan | null = null;
  const arch = linux && target.arch ? archByName(target.arch) : undefined;
  const supervisor = arch && target.supervisor ? supervisorPlan(policy, { ...target.supervisor, denyErrno: EACCES }) : null;
  if (arch) {
    const rules = seccompRules(policy, { landlockFs, supervisor: supervisor?.trap ?? null, launch: target.launch, ioUringFds: target.ioUringFds ?? [] });
    const g = generate(rules, arch);
    seccomp = { arch: arch.name, rules, insns: g.insns, flags: supervisor ? SUPERVISED_FLAGS : SECCOMP_FLAGS, absent: g.absent };
  }

  // Audit enforces nothing, with or without the supervisor: the coverage is audit's.
  const coverage = supervisor && !audit
    ? supervisedCoverage(policy, computeCoverage(policy, { seccomp: seccomp !== null, landlock: ll, audit, launch: !!target.launch }))
    : computeCoverage(policy, { seccomp: seccomp !== null, landlock: ll, audit, launch: !!target.launch });
  const warnings: string[] = [];
  if (!linux) warnings.push(`no kernel layer on ${target.platform}${target.platform === 'linux' ? ' (the native addon is not available)' : ''}: every rule is enforced only by the JS layer, which native code, child processes and raw bindings bypass`);
  else if (!arch) warnings.push(`no seccomp compiler for this architecture: sockets, child processes and addons are enforced only by Landlock and the JS layer`);
  if (linux && arch && !supervisor && supervisorNeeded(policy) && target.supervisorUnavailable) warnings.push(`the connect supervisor cannot run here (${target.supervisorUnavailable}): per-destination network rules fall back to Landlock ports and the JS layer`);
  if (seccomp && (target.ioUringFds?.length ?? 0) > 0) warnings.push(ioUringWarning(target.ioUringFds!));
  if (audit) warnings.push(`audit mode: the kernel denies nothing the policy covers; seccomp logs the calls it would deny (SECCOMP_RET_LOG)${supervisor ? ', the connect supervisor reports each network call it would deny (layer \'kernel\')' : ''} and the JS layer reports them`);
  if (linux && !audit) warnings.push(...landlockDown.notes);
  // Without a kernel layer the per-rule notes would speak of Landlock ABIs and seccomp, which
  // mean nothing on this platform: each rule says plainly who enforces it.
  if (!linux) for (const c of coverage) c.note = `${c.rule}: only the JS layer enforces this on ${target.platform}${target.platform === 'linux' ? ' without the native addon' : ''}`;
  for (const c of coverage) {
    if (c.status !== 'kernel' && c.note) warnings.push(c.note);
  }
  return { policy, target, seccomp, landlock, supervisor, coverage, warnings: [...new Set(warnings)] };
}

interface Layers { seccomp: boolean; landlock: LandlockPlan; audit: boolean; launch: boolean }

/** With the supervisor, every net rule is the kernel's: the other rows stay as computed. */
function supervisedCoverage(p: NormalizedPolicy, base: Coverage[]): Coverage[] {
  const out = base.filter((c) => c.capability !== 'net');
  const layers: Enforcer[] = ['supervisor', 'seccomp', 'js'];
  const push = (rule: string, note?: string) => out.push({ capability: 'net', rule, layers, status: 'kernel', note });
  const list = (name: string, g: NormalizedPolicy['net']['connect']) => {
    if (g === false) push(`${name}: none`);
    else if (Array.isArray(g)) {
      for (const r of g) {
        push(`${name} ${formatRule(r)}`, r.kind === 'wildcard'
          ? `${name} ${formatRule(r)}: the supervisor allows the addresses of names below ${r.value} that it resolves itself when the JS layer names them; native code that connects to such a name by address alone is denied`
          : undefined);
      }
    }
  };
  list('net.connect', p.net.connect);
  list('net.listen', p.net.listen);
  if (p.net.unix === false) push('net.unix: none');
  else if (Array.isArray(p.net.unix)) push(`net.unix ${p.net.unix.join(', ')}`);
  if (p.net.dns) push('net.dns', 'net.dns: DNS queries go only to the nameservers in /etc/resolv.conf; what the queries carry is not inspected');
  return out;
}

const NET_JS = 'is enforced only by the JS layer (per-destination rules need the connect supervisor, which is not running here)';
// Landlock's port rules cover TCP only; seccomp is what keeps UDP, MPTCP and raw sockets out.
const NO_SECCOMP = (rule: string) => `${rule}: TCP by Landlock; without a seccomp filter, UDP, MPTCP and raw sockets are not restricted by the kernel`;

function computeCoverage(p: NormalizedPolicy, k: Layers): Coverage[] {
  const out: Coverage[] = [];
  const sc: Enforcer[] = k.seccomp && !k.audit ? ['seccomp'] : [];
  const llFs = k.landlock.handledFs !== 0 && !(k.landlock.handledFs === 0x800);
  const llNet = k.landlock.handledNet;
  const need = socketNeeds(p);
  const push = (capability: CapabilityId, rule: string, layers: Enforcer[], status: Coverage['status'], note?: string) =>
    out.push({ capability, rule, layers: [...layers, 'js'], status, note });

  // --- net.connect
  const ports = landlockPorts(p);
  if (p.net.connect === false) {
    if (!need.tcp && !need.udp && sc.length) push('net', 'net.connect: none', sc, 'kernel');
    else if (sc.length && (llNet & 2) && !need.udp) push('net', 'net.connect: none', [...sc, 'landlock'], 'kernel');
    else if (sc.length || llNet & 2) push('net', 'net.connect: none', [...sc, ...(llNet & 2 ? ['landlock' as Enforcer] : [])], 'partial',
      need.udp ? 'net.connect: UDP datagrams (allowed for DNS) can reach any address: only the JS layer restricts them'
        : !(llNet & 2) ? 'net.connect: TCP connects are not restricted by the kernel (Landlock TCP rules need ABI 4)' : NO_SECCOMP('net.connect'));
    else push('net', 'net.connect: none', [], 'js', 'net.connect: no kernel layer denies connections here');
  } else if (Array.isArray(p.net.connect)) {
    for (const r of p.net.connect) {
      const name = `net.connect ${formatRule(r)}`;
      const portOnly = r.kind === 'any';
      if (ports.connect && llNet & 2) {
        if (portOnly) push('net', name, ['landlock', ...sc], need.udp || !sc.length ? 'partial' : 'kernel', need.udp ? `${name}: TCP by Landlock; UDP is not port-restricted by the kernel` : !sc.length ? NO_SECCOMP(name) : undefined);
        else push('net', name, ['landlock', ...sc], 'partial', `${name}: the kernel (Landlock) allows TCP port ${r.port} to any host; the host part ${NET_JS}`);
      } else {
        push('net', name, sc, 'js', `${name} ${NET_JS}${r.port === undefined ? '; a rule without a port also leaves every TCP port open to native code' : ''}`);
      }
    }
    if (need.udp) push('net', 'net.connect: UDP', sc, 'js', 'net.connect: UDP datagrams (allowed for DNS) can reach any address: only the JS layer restricts them');
  }
  // --- net.listen
  if (p.net.listen === false) {
    if (!need.tcp && !need.udp && sc.length) push('net', 'net.listen: none', sc, 'kernel');
    else if (llNet & 1) push('net', 'net.listen: none', ['landlock', ...sc], need.udp || !sc.length ? 'partial' : 'kernel', need.udp ? 'net.listen: binding UDP ports is not restricted by the kernel' : !sc.length ? NO_SECCOMP('net.listen') : undefined);
    else push('net', 'net.listen: none', sc, 'js', 'net.listen: TCP listening is not restricted by the kernel (Landlock TCP rules need ABI 4)');
  } else if (Array.isArray(p.net.listen)) {
    for (const r of p.net.listen) {
      const name = `net.listen ${formatRule(r)}`;
      if (ports.bind && llNet & 1) {
        if (r.kind !== 'any') push('net', name, ['landlock'], 'partial', `${name}: the kernel (Landlock) allows binding TCP port ${r.port} on any local address; the address part ${NET_JS}`);
        else if (need.udp) push('net', name, ['landlock', ...sc], 'partial', `${name}: TCP by Landlock; binding UDP ports is not restricted by the kernel`);
        else if (!sc.length) push('net', name, ['landlock'], 'partial', NO_SECCOMP(name));
        else push('net', name, ['landlock', ...sc], 'kernel');
      }
      else push('net', name, [], 'js', `${name} ${NET_JS}`);
    }
  }
  // --- net.unix
  if (p.net.unix === false) push('net', 'net.unix: none', sc, sc.length ? 'kernel' : 'js', sc.length ? undefined : 'net.unix: unix sockets are not restricted by the kernel');
  else if (Array.isArray(p.net.unix)) {
    push('net', `net.unix ${p.net.unix.join(', ')}`, [], 'js', 'net.unix: connecting to a path-named unix socket is not restricted by Landlock (ABI <= 7); the path list is enforced only by the JS layer');
  }
  if (p.net.dns && p.net.connect !== true) push('net', 'net.dns', [], 'js', 'net.dns: DNS servers are not restricted to the system resolvers by the kernel (needs the connect supervisor)');

  // --- fs.read
  if (Array.isArray(p.fs.read)) {
    // Landlock (ABI <= 7) checks opens, not lookups: existence and metadata leak.
    if (llFs) push('fs.read', `fs.read ${p.fs.read.join(', ') || '(defaults only)'}`, ['landlock'], 'partial', 'fs.read: reading and listing outside the grants are denied by Landlock, but stat, access and readlink still succeed there (Landlock does not restrict metadata lookups)');
    else push('fs.read', 'fs.read', [], 'js', 'fs.read: the read list is enforced only by the JS layer (no Landlock)');
  }
  // --- fs.write
  if (p.fs.write === false) {
    if (llFs) push('fs.write', 'fs.write: none', ['landlock', ...sc], sc.length ? 'kernel' : 'partial', sc.length ? undefined : 'fs.write: chmod, chown, utimes and xattr changes are not restricted by the kernel');
    else if (sc.length) push('fs.write', 'fs.write: none', sc, 'kernel');
    else push('fs.write', 'fs.write: none', [], 'js', 'fs.write: writes are not restricted by the kernel');
  } else if (Array.isArray(p.fs.write)) {
    if (llFs) push('fs.write', `fs.write ${p.fs.write.join(', ')}`, ['landlock'], 'partial', 'fs.write: chmod, chown, utimes and xattr changes outside the write grants are enforced only by the JS layer (Landlock does not restrict metadata)');
    else push('fs.write', `fs.write ${p.fs.write.join(', ')}`, [], 'js', 'fs.write: the write list is enforced only by the JS layer (no Landlock)');
  }
  // --- childProcess
  if (p.childProcess === false && k.launch) {
    // Launched: seccomp stops fork/clone; execve must pass for the command to start, and
    // Landlock EXECUTE (granted on the command and its interpreters only) limits it after.
    const exe = (k.landlock.handledFs & FS.EXECUTE) !== 0;
    if (sc.length && exe) push('childProcess', 'childProcess: none (the command itself only)', [...sc, 'landlock'], 'kernel');
    else push('childProcess', 'childProcess: none (the command itself only)', sc, sc.length ? 'partial' : 'js', sc.length
      ? 'childProcess: the command cannot create processes, but without Landlock EXECUTE it can replace itself with any other program (execve)'
      : 'childProcess: process creation is not restricted by the kernel');
  } else if (p.childProcess === false) push('childProcess', 'childProcess: none', sc, sc.length ? 'kernel' : llFs ? 'partial' : 'js', sc.length ? undefined : 'childProcess: process creation is not restricted by the kernel');
  else if (Array.isArray(p.childProcess)) {
    if (llFs) push('childProcess', `childProcess ${p.childProcess.join(', ')}`, ['landlock'], 'kernel');
    else push('childProcess', 'childProcess', [], 'js', 'childProcess: the executable list is enforced only by the JS layer (no Landlock)');
  }
  // --- addons
  if (!p.addons) {
    if (k.launch) push('addons', 'addons: none', [], 'js', "addons: a launched command's own loader maps its shared libraries after the filter is in, so the kernel does not restrict loading native code (a Node command's preload adds the rule in-process)");
    else if (sc.length && p.childProcess === false) push('addons', 'addons: none', sc, 'kernel');
    else if (sc.length) push('addons', 'addons: none', [], 'js', 'addons: with child processes allowed, loading native code is not restricted by the kernel (the seccomp rule would also stop child programs from loading their own shared libraries)');
    else push('addons', 'addons: none', [], 'js', 'addons: loading native code is not restricted by the kernel');
  }
  // --- workers
  if (!p.workers) push('workers', 'workers: none', [], 'js', "workers: denying Worker threads is enforced only by the JS layer (the kernel cannot tell a Worker's thread from V8's own)");
  return out;
}

export { CAPABILITIES };
