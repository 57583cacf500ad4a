// Policy -> seccomp rules, by syscall NAME (arch independent). The code
// generator maps names to numbers per arch and skips syscalls an arch lacks
// (aarch64 has no open, fork, vfork, creat, ...).
//
// The program is a deny-list with an ALLOW fall-through (notes §10): new
// syscalls from future glibc/libuv/V8 keep working, number-only verdicts are
// free after the kernel's action cache (Linux 5.11+) learns them, and Landlock
// carries the path- and port-level policy.

import { EACCES, ENOSYS, EPERM } from '../bpf/constants';
import { capability, type CapabilityId } from '../../policy/capabilities';
import type { NormalizedPolicy } from '../../policy/types';

export type Verdict =
  | { kind: 'allow' }
  | { kind: 'errno'; errno: number }
  /** audit mode: allowed, and the kernel logs it (SECCOMP_RET_LOG) */
  | { kind: 'log' }
  /** SECCOMP_RET_USER_NOTIF: the connect supervisor decides and performs the call */
  | { kind: 'notify' }
  | { kind: 'kill' };

/**
 * A test on the low (default) or high 32-bit word of one argument. Only the
 * low word is compared for int/flag arguments (the kernel ignores the upper
 * half of an int), masked first when `mask` is given.
 *  eq:   (word & mask) == value     ne: (word & mask) != value
 *  any:  (word & value) != 0        none: (word & value) == 0
 */
export interface Cond {
  arg: number;
  hi?: boolean;
  op: 'eq' | 'ne' | 'any' | 'none';
  value: number;
  mask?: number;
}

export interface Case {
  when: Cond[];
  then: Verdict;
}

export interface SyscallRule {
  syscall: string;
  /** Tried in order; the first whose every condition holds decides. */
  cases: Case[];
  otherwise: Verdict;
  source: CapabilityId | 'hardening';
  why: string;
}

export const ALLOW: Verdict = { kind: 'allow' };
export const NOTIFY: Verdict = { kind: 'notify' };
export const errno = (e: number): Verdict => ({ kind: 'errno', errno: e });

// Kernel ABI constants the rules test (identical on x86_64 and aarch64).
export const K = {
  AF_UNIX: 1,
  AF_INET: 2,
  AF_INET6: 10,
  AF_NETLINK: 16,
  SOCK_TYPE_MASK: 0xf,     // type & 0xf drops SOCK_NONBLOCK | SOCK_CLOEXEC
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  IPPROTO_TCP: 6,
  IPPROTO_UDP: 17,
  NETLINK_ROUTE: 0,
  MSG_FASTOPEN: 0x20000000, // implicit connect in sendto/sendmsg: Landlock has no hook for it (landlock #41)
  CLONE_THREAD: 0x00010000,
  PROT_EXEC: 0x4,
  MAP_ANONYMOUS: 0x20,
  MAP_DENYWRITE: 0x0800,    // ignored by the kernel since 5.x but still passed by glibc's ld.so (MAP_COPY)
  O_WRITE_MASK: 0x643,      // O_WRONLY 1 | O_RDWR 2 | O_CREAT 0x40 | O_TRUNC 0x200 | O_APPEND 0x400 (O_TMPFILE needs O_WRONLY/O_RDWR)
  SECCOMP_SET_MODE_STRICT: 0,
  SECCOMP_SET_MODE_FILTER: 1,
  SECCOMP_FILTER_FLAG_NEW_LISTENER: 8,
  PR_SET_SECCOMP: 22,
  SECCOMP_MODE_STRICT: 1,
  PERSONALITY_QUERY: 0xffffffff,
  PER_LINUX: 0,
} as const;

/** Syscalls that are newer interfaces whose flags seccomp cannot read; ENOSYS makes glibc/libuv fall back. */
const FALLBACK_ENOSYS = ['clone3', 'openat2', 'io_uring_setup', 'io_uring_register'];

/** Admin and cross-process interfaces no Node app needs; EPERM like the kernel's own refusals. */
const ADMIN_EPERM = [
  'ptrace', 'process_vm_readv', 'process_vm_writev', 'process_madvise', 'pidfd_getfd', 'kcmp',
  'bpf', 'perf_event_open', 'userfaultfd',
  'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module',
  'mount', 'umount2', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree', 'open_tree_attr',
  'mount_setattr', 'pivot_root', 'chroot', 'unshare', 'setns',
  'keyctl', 'add_key', 'request_key',
  'swapon', 'swapoff', 'reboot', 'acct', 'quotactl', 'quotactl_fd', 'vhangup', 'iopl', 'ioperm', 'uselib',
  // open_by_handle_at bypasses path-based checks (Landlock included) with CAP_DAC_READ_SEARCH
  'name_to_handle_at', 'open_by_handle_at',
  'lsm_set_self_attr',
];

/** Path-changing syscalls denied by the coarse read-only mode (no Landlock). */
const COARSE_WRITE = [
  'creat', 'truncate', 'ftruncate', 'rename', 'renameat', 'renameat2', 'mkdir', 'mkdirat', 'rmdir',
  'unlink', 'unlinkat', 'link', 'linkat', 'symlink', 'symlinkat', 'mknod', 'mknodat',
];

export interface RuleOptions {
  /** The kernel enforces Landlock filesystem rights (ABI >= 1) in this plan. */
  landlockFs: boolean;
  /** The connect supervisor holds the listener: these calls go to it. */
  supervisor?: { connect: boolean; bind: boolean; send: boolean } | null;
  /**
   * `blackbox run`: the filter is installed by the launcher before it execs the command, so
   * execve itself must pass (Landlock EXECUTE decides which files) and the command's own
   * loader must map its libraries (no addon mmap rule).
   */
  launch?: boolean;
  /** Rings made before lockdown that stay usable (libuv's epoll rings; src/lockdown/iouring.ts). */
  ioUringFds?: readonly number[];
}

function deny(p: NormalizedPolicy, e: number): Verdict {
  return p.mode === 'audit' ? { kind: 'log' } : errno(e);
}

function nrOnly(syscall: string, v: Verdict, source: SyscallRule['source'], why: string): SyscallRule {
  return { syscall, cases: [], otherwise: v, source, why };
}

export function hardeningRules(o: { ioUringFds?: readonly number[] } = {}): SyscallRule[] {
  const out: SyscallRule[] = [];
  for (const s of FALLBACK_ENOSYS) out.push(nrOnly(s, errno(ENOSYS), 'hardening', 'newer interface: ENOSYS makes libc fall back to a call seccomp can read'));
  // io_uring_enter: only on the rings preflight accepted (arg 0 is an unsigned int fd: the
  // low word). Everything else, a ring fd received later included, gets ENOSYS like the rest.
  const fds = [...new Set(o.ioUringFds ?? [])].sort((a, b) => a - b);
  out.push({
    syscall: 'io_uring_enter',
    cases: fds.map((fd) => ({ when: [{ arg: 0, op: 'eq' as const, value: fd }], then: ALLOW })),
    otherwise: errno(ENOSYS),
    source: 'hardening',
    why: fds.length ? `only on libuv's epoll ring(s) made before lockdown (fd ${fds.join(', ')}); what they run is not seen by seccomp` : 'newer interface: ENOSYS makes libc fall back to a call seccomp can read',
  });
  for (const s of ADMIN_EPERM) out.push(nrOnly(s, errno(EPERM), 'hardening', 'admin or cross-process interface'));
  out.push({
    syscall: 'seccomp',
    cases: [
      { when: [{ arg: 0, op: 'eq', value: K.SECCOMP_SET_MODE_STRICT }], then: errno(EPERM) },
      // a second listener would answer our notifications or outlive a killed supervisor
      { when: [{ arg: 0, op: 'eq', value: K.SECCOMP_SET_MODE_FILTER }, { arg: 1, op: 'any', value: K.SECCOMP_FILTER_FLAG_NEW_LISTENER }], then: errno(EPERM) },
    ],
    otherwise: ALLOW,
    source: 'hardening',
    why: 'more filters may only narrow: no strict mode, no user-notification listener',
  });
  out.push({
    syscall: 'prctl',
    cases: [{ when: [{ arg: 0, op: 'eq', value: K.PR_SET_SECCOMP }, { arg: 1, op: 'eq', value: K.SECCOMP_MODE_STRICT }], then: errno(EPERM) }],
    otherwise: ALLOW,
    source: 'hardening',
    why: 'no seccomp strict mode through prctl (a strict thread dies on its next syscall and hangs Node)',
  });
  out.push({
    syscall: 'personality',
    cases: [
      { when: [{ arg: 0, op: 'eq', value: K.PERSONALITY_QUERY }], then: ALLOW },
      { when: [{ arg: 0, op: 'eq', value: K.PER_LINUX }], then: ALLOW },
    ],
    otherwise: errno(EPERM),
    source: 'hardening',
    why: 'no personality changes (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, ...)',
  });
  return out;
}

/** Which socket kinds the policy needs. */
export function socketNeeds(p: NormalizedPolicy, supervised = false): { inetAll: boolean; tcp: boolean; udp: boolean; unix: boolean; netlink: boolean } {
  const { connect, listen, unix, dns } = p.net;
  const inetAll = connect === true && listen === true;
  const tcp = inetAll || connect !== false || listen !== false || dns;
  // With the supervisor checking every destination, UDP to granted hosts is possible;
  // without it, UDP sockets would reach any address, so only DNS or connect: true get them.
  const udp = inetAll || connect === true || dns || (supervised && Array.isArray(connect));
  return { inetAll, tcp, udp, unix: unix !== false, netlink: tcp || udp };
}

export function netRules(p: NormalizedPolicy, o: RuleOptions = { landlockFs: false }): SyscallRule[] {
  const sup = o.supervisor ?? null;
  const need = socketNeeds(p, sup !== null);
  const no = deny(p, EACCES);
  const cases: Case[] = [];
  const dom = (d: number): Cond => ({ arg: 0, op: 'eq', value: d });
  const type = (t: number): Cond => ({ arg: 1, op: 'eq', value: t, mask: K.SOCK_TYPE_MASK });
  const proto = (n: number): Cond => ({ arg: 2, op: 'eq', value: n });
  cases.push({ when: [dom(K.AF_UNIX)], then: need.unix ? ALLOW : no });
  // NETLINK_ROUTE is getifaddrs (os.networkInterfaces, getaddrinfo's AI_ADDRCONFIG).
  cases.push({ when: [dom(K.AF_NETLINK), proto(K.NETLINK_ROUTE)], then: need.netlink ? ALLOW : no });
  for (const d of [K.AF_INET, K.AF_INET6]) {
    if (need.inetAll) {
      cases.push({ when: [dom(d)], then: ALLOW });
      continue;
    }
    // Landlock's TCP rules cover SOCK_STREAM with IPPROTO_TCP only: MPTCP (262)
    // and SCTP would bypass them, raw sockets need no port at all.
    if (need.tcp) {
      cases.push({ when: [dom(d), type(K.SOCK_STREAM), proto(0)], then: ALLOW });
      cases.push({ when: [dom(d), type(K.SOCK_STREAM), proto(K.IPPROTO_TCP)], then: ALLOW });
    }
    if (need.udp) {
      cases.push({ when: [dom(d), type(K.SOCK_DGRAM), proto(0)], then: ALLOW });
      cases.push({ when: [dom(d), type(K.SOCK_DGRAM), proto(K.IPPROTO_UDP)], then: ALLOW });
    }
  }
  const rules: SyscallRule[] = [{
    syscall: 'socket',
    cases,
    otherwise: no,
    source: 'net',
    why: 'socket families and types the policy grants',
  }];
  if (sup) {
    // BPF cannot read a sockaddr or a msghdr: every call that may carry a destination goes
    // to the supervisor, which copies it once and performs the call itself. Never a
    // CONTINUE: the kernel would re-read memory a racing thread can rewrite.
    const trap = (syscall: string, why: string): SyscallRule => ({ syscall, cases: [], otherwise: NOTIFY, source: 'net', why });
    if (sup.connect) rules.push(trap('connect', 'destination checked and connected by the supervisor'));
    if (sup.bind) rules.push(trap('bind', 'local address checked and bound by the supervisor'));
    if (sup.send) {
      rules.push({
        syscall: 'sendto',
        // send() is sendto(fd, buf, len, flags, NULL, 0): no destination, no trap (both
        // 32-bit halves of the pointer tested). MSG_FASTOPEN connects implicitly: trapped.
        cases: [{ when: [{ arg: 4, op: 'eq', value: 0 }, { arg: 4, hi: true, op: 'eq', value: 0 }, { arg: 3, op: 'none', value: K.MSG_FASTOPEN }], then: ALLOW }],
        otherwise: NOTIFY,
        source: 'net',
        why: 'a destination address or MSG_FASTOPEN: checked and sent by the supervisor',
      });
      rules.push(trap('sendmsg', 'msghdr may name a destination (and pass fds): sent by the supervisor'));
      rules.push(trap('sendmmsg', 'each mmsghdr may name a destination: sent by the supervisor'));
    }
  } else if (need.tcp && p.net.connect !== true) {
    // TCP Fast Open connects inside sendto/sendmsg without the LSM connect hook.
    const tfo = (syscall: string, flagsArg: number): SyscallRule => ({
      syscall,
      cases: [{ when: [{ arg: flagsArg, op: 'any', value: K.MSG_FASTOPEN }], then: no }],
      otherwise: ALLOW,
      source: 'net',
      why: 'MSG_FASTOPEN is an implicit connect Landlock does not see',
    });
    rules.push(tfo('sendto', 3), tfo('sendmsg', 2), tfo('sendmmsg', 3));
  }
  return rules;
}

export function fsWriteRules(p: NormalizedPolicy, o: RuleOptions): SyscallRule[] {
  if (p.fs.write === true) return [];
  const no = deny(p, EACCES);
  const out: SyscallRule[] = [];
  if (p.fs.write === false) {
    // Landlock (ABI <= 7) does not restrict metadata changes.
    for (const s of capability('fs.write').syscalls) out.push(nrOnly(s, no, 'fs.write', 'metadata change with no write grant'));
    if (!o.landlockFs) {
      // coarse read-only mode: no Landlock to name paths, so no writes at all
      out.push({ syscall: 'openat', cases: [{ when: [{ arg: 2, op: 'any', value: K.O_WRITE_MASK }], then: no }], otherwise: ALLOW, source: 'fs.write', why: 'coarse read-only mode: open for writing' });
      out.push({ syscall: 'open', cases: [{ when: [{ arg: 1, op: 'any', value: K.O_WRITE_MASK }], then: no }], otherwise: ALLOW, source: 'fs.write', why: 'coarse read-only mode: open for writing' });
      for (const s of COARSE_WRITE) out.push(nrOnly(s, no, 'fs.write', 'coarse read-only mode'));
    }
  }
  return out;
}

export function childProcessRules(p: NormalizedPolicy, launch = false): SyscallRule[] {
  if (p.childProcess !== false) return [];
  const no = deny(p, EACCES);
  // every syscall of the capability's row is denied by number, except clone,
  // which threads need too and is decided by its flags below. Launched: execve stays,
  // so the command can start; Landlock grants EXECUTE only on it and its interpreters.
  const keep = launch ? ['clone', 'execve', 'execveat'] : ['clone'];
  const out = capability('childProcess').syscalls.filter((s) => !keep.includes(s)).map((s) => nrOnly(s, no, 'childProcess', 'no new programs or processes'));
  out.push({
    syscall: 'clone',
    // flags are arg 0 on x86_64 and aarch64
    cases: [{ when: [{ arg: 0, op: 'any', value: K.CLONE_THREAD }], then: ALLOW }],
    otherwise: no,
    source: 'childProcess',
    why: 'threads yes (CLONE_THREAD), processes no',
  });
  return out;
}

export function addonRules(p: NormalizedPolicy, launch = false): SyscallRule[] {
  // The filter survives execve: a child program's own loader would meet the
  // same mmap rule and could not map libc. With child processes allowed the
  // rule is left out and addons: false is the JS layer's alone (coverage says so).
  if (p.addons || p.childProcess !== false || launch) return [];
  const no = deny(p, EACCES);
  return [
    {
      syscall: 'mmap',
      // The dynamic loader maps every segment MAP_PRIVATE|MAP_DENYWRITE from a
      // file; V8's builtin remap (each new isolate) and the JIT do not.
      cases: [{
        when: [
          { arg: 2, op: 'any', value: K.PROT_EXEC },
          { arg: 3, op: 'none', value: K.MAP_ANONYMOUS },
          { arg: 3, op: 'any', value: K.MAP_DENYWRITE },
        ],
        then: no,
      }],
      otherwise: ALLOW,
      source: 'addons',
      why: 'no shared object mapped executable by the loader',
    },
    nrOnly('memfd_create', no, 'addons', 'no anonymous files to load code from'),
  ];
}

/** Hot, argument-checked syscalls first: only their path runs BPF on every call. */
const HOT = ['mmap', 'sendto', 'sendmsg', 'openat', 'open', 'clone', 'sendmmsg', 'socket', 'connect'];

export function seccompRules(p: NormalizedPolicy, o: RuleOptions): SyscallRule[] {
  const rules = [...addonRules(p, o.launch), ...netRules(p, o), ...fsWriteRules(p, o), ...childProcessRules(p, o.launch), ...hardeningRules(o)];
  const seen = new Set<string>();
  for (const r of rules) {
    if (seen.has(r.syscall)) throw new Error(`compiler bug: two rules for ${r.syscall}`);
    seen.add(r.syscall);
  }
  const rank = (r: SyscallRule) => (HOT.includes(r.syscall) ? HOT.indexOf(r.syscall) : r.cases.length ? HOT.length : HOT.length + 1);
  return rules.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i).map(({ r }) => r);
}

/**
 * The report's words for the rings left usable (seccomp allows io_uring_enter on them).
 * States what the kernel test test/kernel/lockdown-iouring.test.js measures (and asserts).
 */
export function ioUringWarning(list: readonly number[]): string {
  const fds = [...new Set(list)].sort((a, b) => a - b);
  return `io_uring: ${fds.length} ring(s) made before lockdown stay usable (fd ${fds.join(', ')}; libuv batches epoll_ctl through one per event loop, and denying io_uring_enter on them would abort Node): operations native code submits to these rings are not seen by seccomp, so socket creation, UDP datagrams to any address, the connect supervisor's per-destination checks and MSG_FASTOPEN are not enforced for them; Landlock still applies to them (they run with the submitting thread's restricted credentials: opening a denied path for writing and a TCP connect to a denied port fail with EACCES, inline and on io-wq workers). No new ring can be created (io_uring_setup and io_uring_register are denied).`;
}
