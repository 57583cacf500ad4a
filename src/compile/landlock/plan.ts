// Policy -> Landlock plan, then a pure downgrade to the ABI this kernel has.

import type { NormalizedPolicy } from '../../policy/types';
import {
  ERRATA, FS, NET, READ_RIGHTS, SCOPE, WRITE_RIGHTS,
  fsRightsForAbi, netRightsForAbi, restrictFlagsForAbi, scopesForAbi,
} from './rights';

export interface PathRule { path: string; access: number; why: string }
export interface PortRule { port: number; access: number; why: string }

export interface LandlockPlan {
  /** The ABI the plan is written for (the kernel's, after downgrade). */
  abi: number;
  handledFs: number;
  handledNet: number;
  scoped: number;
  paths: PathRule[];
  ports: PortRule[];
  restrictFlags: number;
}

/** A read/write/execute grant the lockdown adds so a Node app keeps working (see compile/defaults). */
export interface DefaultGrant {
  path: string;
  access: number;
  why: string;
}

/** The highest ABI this compiler knows; plans are written for it, then downgraded. */
export const LANDLOCK_MAX_ABI = 8;

/** All ports in TCP rules of a list, or undefined when some rule names no port (Landlock cannot express it). */
function tcpPorts(rules: NormalizedPolicy['net']['connect']): number[] | undefined {
  if (rules === true) return undefined;
  if (rules === false) return [];
  if (rules.some((r) => r.port === undefined)) return undefined;
  return [...new Set(rules.map((r) => r.port!))].sort((a, b) => a - b);
}

/** Which TCP ports Landlock restricts for connect and bind; undefined = not restricted by Landlock. */
export function landlockPorts(p: NormalizedPolicy): { connect: number[] | undefined; bind: number[] | undefined } {
  let connect = tcpPorts(p.net.connect);
  // DNS falls back to TCP port 53 when an answer is truncated.
  if (connect && p.net.dns && !connect.includes(53)) connect = [...connect, 53].sort((a, b) => a - b);
  return { connect, bind: tcpPorts(p.net.listen) };
}

/** The plan at LANDLOCK_MAX_ABI, before downgrade. `defaults` come from compile/defaults. */
export function idealLandlockPlan(p: NormalizedPolicy, defaults: readonly DefaultGrant[]): LandlockPlan {
  let handledFs = 0;
  if (p.fs.write !== true) handledFs |= WRITE_RIGHTS;
  if (p.fs.read !== true) handledFs |= READ_RIGHTS;
  if (p.childProcess !== true) handledFs |= FS.EXECUTE;

  const paths: PathRule[] = [];
  // REFER (ABI 2) is denied by every ruleset that handles any filesystem right,
  // handled or not, unless a rule grants it: with `write: true` under such a
  // domain (no child processes, or a read list) every rename/link across
  // directories would fail with EXDEV. Grant it everywhere; the kernel still
  // refuses a move that would give the file rights it did not have.
  if (p.fs.write === true && handledFs !== 0) {
    handledFs |= FS.REFER;
    paths.push({ path: '/', access: FS.REFER, why: 'fs.write: true (renames and links across directories)' });
  }
  if (Array.isArray(p.fs.read)) for (const path of p.fs.read) paths.push({ path, access: READ_RIGHTS, why: 'fs.read' });
  // A directory you may write is one you may read back.
  if (Array.isArray(p.fs.write)) for (const path of p.fs.write) paths.push({ path, access: WRITE_RIGHTS | READ_RIGHTS, why: 'fs.write' });
  // execve opens the file for reading and for execution (FMODE_READ | FMODE_EXEC).
  if (Array.isArray(p.childProcess)) for (const path of p.childProcess) paths.push({ path, access: FS.EXECUTE | FS.READ_FILE, why: 'childProcess' });
  for (const d of defaults) paths.push({ path: d.path, access: d.access, why: d.why });

  const ports: PortRule[] = [];
  let handledNet = 0;
  const lp = landlockPorts(p);
  if (lp.connect) {
    handledNet |= NET.CONNECT_TCP;
    for (const port of lp.connect) ports.push({ port, access: NET.CONNECT_TCP, why: port === 53 && p.net.dns ? 'net.dns (TCP fallback)' : 'net.connect' });
  }
  if (lp.bind) {
    handledNet |= NET.BIND_TCP;
    for (const port of lp.bind) ports.push({ port, access: NET.BIND_TCP, why: port === 0 ? 'net.listen (ephemeral port)' : 'net.listen' });
  }

  // Signals and abstract unix sockets to processes outside the sandbox: the
  // sandboxed code must not kill or talk to its supervisor or the user's other
  // processes. Any domain also brings ptrace scoping (no /proc/<outside>/mem).
  let scoped = SCOPE.SIGNAL;
  if (p.net.unix !== true) scoped |= SCOPE.ABSTRACT_UNIX_SOCKET;

  return { abi: LANDLOCK_MAX_ABI, handledFs, handledNet, scoped, paths: mergePaths(paths, handledFs), ports: mergePorts(ports), restrictFlags: restrictFlagsForAbi(LANDLOCK_MAX_ABI) };
}

function mergePaths(paths: PathRule[], handled: number): PathRule[] {
  const by = new Map<string, PathRule>();
  for (const r of paths) {
    const access = r.access & handled;
    if (access === 0) continue;
    const prev = by.get(r.path);
    by.set(r.path, prev ? { path: r.path, access: prev.access | access, why: prev.why.includes(r.why) ? prev.why : `${prev.why}, ${r.why}` } : { ...r, access });
  }
  return [...by.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function mergePorts(ports: PortRule[]): PortRule[] {
  const by = new Map<number, PortRule>();
  for (const r of ports) {
    const prev = by.get(r.port);
    by.set(r.port, prev ? { ...prev, access: prev.access | r.access, why: `${prev.why}, ${r.why}` } : r);
  }
  return [...by.values()].sort((a, b) => a.port - b.port);
}

export interface Downgraded {
  plan: LandlockPlan | null;
  /** What the kernel's ABI takes away, in words. */
  notes: string[];
}

/**
 * Keep what this ABI understands (go-landlock's downgrade()). Pure.
 * `errata` is the kernel's errata bitmask (0 before ABI 7 reports it).
 */
export function downgradeLandlock(ideal: LandlockPlan, abi: number, errata: number): Downgraded {
  const notes: string[] = [];
  if (abi < 1) return { plan: null, notes: ['Landlock is not available on this kernel'] };
  const handledFs = ideal.handledFs & fsRightsForAbi(abi);
  const handledNet = ideal.handledNet & netRightsForAbi(abi);
  let scoped = ideal.scoped & scopesForAbi(abi);
  const lost = (bit: number) => (ideal.handledFs & bit) !== 0 && (handledFs & bit) === 0;
  if (lost(FS.REFER)) notes.push(`Landlock ABI ${abi} < 2: renaming or linking across directories is always denied (EXDEV)`);
  if (lost(FS.TRUNCATE)) notes.push(`Landlock ABI ${abi} < 3: truncating existing files outside the write grants is not restricted by the kernel`);
  if (lost(FS.IOCTL_DEV)) notes.push(`Landlock ABI ${abi} < 5: ioctl on devices is not restricted by the kernel`);
  if (ideal.handledNet !== 0 && handledNet === 0) notes.push(`Landlock ABI ${abi} < 4: TCP port rules are not enforced by the kernel`);
  if (ideal.scoped !== 0 && scoped === 0) notes.push(`Landlock ABI ${abi} < 6: signals and abstract unix sockets to processes outside the sandbox are not restricted`);
  // Before ABI 8 every thread gets its own domain (signal broadcast); without
  // erratum 2 SCOPE_SIGNAL would then block signals between our own threads.
  if ((scoped & SCOPE.SIGNAL) && abi < 8 && !(errata & ERRATA.SCOPED_SIGNAL_SAME_TGID)) {
    scoped &= ~SCOPE.SIGNAL;
    notes.push('Landlock erratum 2 is missing: signals to processes outside the sandbox are not restricted');
  }
  let paths = ideal.paths.map((r) => ({ ...r, access: r.access & handledFs })).filter((r) => r.access !== 0);
  const ports = handledNet === 0 ? [] : ideal.ports.map((r) => ({ ...r, access: r.access & handledNet })).filter((r) => r.access !== 0);
  let fs = handledFs;
  if (fs === 0 && handledNet === 0 && scoped === 0) {
    // The kernel refuses an empty ruleset (ENOMSG), but a domain is still worth
    // having for its ptrace scoping: handle MAKE_BLOCK and grant it everywhere.
    fs = FS.MAKE_BLOCK;
    paths = [{ path: '/', access: FS.MAKE_BLOCK, why: 'a domain for ptrace scoping only' }];
  }
  return {
    plan: { abi, handledFs: fs, handledNet, scoped, paths, ports, restrictFlags: restrictFlagsForAbi(abi) },
    notes,
  };
}
