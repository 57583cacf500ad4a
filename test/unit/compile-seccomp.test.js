'use strict';
// compile() → seccomp BPF, run in the simulator against tables of
// (arch, syscall, args) → verdict, on x86_64 and aarch64 (each arch's numbers).
const test = require('node:test');
const assert = require('node:assert/strict');

const { normalizePolicy } = require('../../dist/policy');
const { compile, SECCOMP_FLAGS } = require('../../dist/compile/plan');
const { seccompRules, hardeningRules, socketNeeds } = require('../../dist/compile/seccomp/rules');
const { generate, verdictValue } = require('../../dist/compile/seccomp/codegen');
const {
  simulate, simulateTrace, actionName, decodeAction, check, syscallNumber, archByName, syscallNames, disassemble,
  X86_64_SYSCALLS, AARCH64_SYSCALLS, AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_ARM,
  SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_TSYNC_ESRCH, SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_NEW_LISTENER,
} = require('../../dist/compile/bpf');

const CTX = { CWD: '/w', HOME: '/home/u', TMPDIR: '/tmp', NODE: '/usr/local', APP: '/w' };
const ARCHES = ['x86_64', 'aarch64'];
const AUDIT = { x86_64: AUDIT_ARCH_X86_64, aarch64: AUDIT_ARCH_AARCH64 };
const target = (arch, abi = 7, extra = {}) => ({ platform: 'linux', arch, landlockAbi: abi, landlockErrata: 7, kernel: true, defaults: [], ...extra });
const plan = (policy, arch, abi = 7) => compile(normalizePolicy(policy, CTX), target(arch, abi));

// ---- ABI constants (identical on both arches)
const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16, AF_PACKET = 17;
const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_SEQPACKET = 5, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
const IPPROTO_TCP = 6, IPPROTO_UDP = 17, IPPROTO_MPTCP = 262, IPPROTO_UDPLITE = 136, IPPROTO_SCTP = 132;
const CLONE_THREAD = 0x10000, SIGCHLD = 17;
const CLONE_PTHREAD = 0x3d0f00; // glibc pthread_create: VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
const MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MAP_DENYWRITE = 0x800, MAP_FIXED = 0x10;
const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_TRUNC = 0x200, O_APPEND = 0x400, O_DIRECTORY = 0x10000, O_CLOEXEC = 0x80000, O_TMPFILE = 0x410000, O_NOFOLLOW = 0x20000;
const MSG_FASTOPEN = 0x20000000, MSG_NOSIGNAL = 0x4000, MSG_DONTWAIT = 0x40;
const AT_FDCWD = -100;
const HI = (v) => BigInt(v) << 32n; // a value in the high 32 bits of a u64 argument

const EACCES = 'ERRNO(13)', EPERM = 'ERRNO(1)', ENOSYS = 'ERRNO(38)', ALLOW = 'ALLOW', LOG = 'LOG', KILL = 'KILL_PROCESS';

function verdict(insns, arch, name, args = [], auditArch = AUDIT[arch]) {
  const nr = typeof name === 'number' ? name : syscallNumber(arch, name);
  assert.notEqual(nr, undefined, `${arch} has ${name}`);
  return actionName(simulate(insns, { nr, arch: auditArch, args }));
}

function runTable(p, arch, rows, label) {
  for (const [name, args, want] of rows) {
    if (typeof name === 'string' && syscallNumber(arch, name) === undefined) continue; // e.g. aarch64 has no open/fork/vfork
    assert.equal(verdict(p.seccomp.insns, arch, name, args), want, `${label} ${arch} ${name}(${args.map(String).join(', ')})`);
  }
}

// ---------------------------------------------------------------------------
// Always-on hardening: in every program, whatever the policy.
// ---------------------------------------------------------------------------

const POLICIES = [
  {}, { net: true }, { net: { connect: ['127.0.0.1:5432'] } }, { net: { connect: ['example.com'] } }, { net: { listen: [':0'] } },
  { net: { unix: true } }, { childProcess: true }, { childProcess: ['/usr/bin/git'] }, { addons: true }, { fs: { write: ['/tmp/x'] } },
  { fs: { write: false } }, { fs: true }, { mode: 'audit' }, { net: true, fs: true, childProcess: true, addons: true, workers: true },
  { net: true, fs: true, childProcess: true, addons: true, mode: 'audit' },
];

const HARDENING = [
  ['clone3', [0, 88], ENOSYS],
  ['openat2', [AT_FDCWD, 0, 0, 24], ENOSYS],
  ['io_uring_setup', [8, 0], ENOSYS],
  ['io_uring_enter', [3, 1, 0, 0], ENOSYS],
  ['io_uring_register', [3, 0, 0, 0], ENOSYS],
  ...['ptrace', 'process_vm_readv', 'process_vm_writev', 'process_madvise', 'pidfd_getfd', 'kcmp', 'bpf', 'perf_event_open',
    'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'mount', 'umount2', 'fsopen', 'fsmount', 'move_mount',
    'open_tree', 'mount_setattr', 'pivot_root', 'chroot', 'unshare', 'setns', 'keyctl', 'add_key', 'request_key', 'userfaultfd',
    'swapon', 'reboot', 'acct', 'iopl', 'ioperm', 'uselib', 'open_by_handle_at', 'name_to_handle_at'].map((s) => [s, [0, 0, 0], EPERM]),
  ['ptrace', [16 /* PTRACE_ATTACH */, 1], EPERM],
  ['unshare', [0x10000000 /* CLONE_NEWUSER */], EPERM],
  // personality: only the query (0xffffffff) and PER_LINUX
  ['personality', [0x0040000 /* ADDR_NO_RANDOMIZE */], EPERM],
  ['personality', [0x0400000 /* READ_IMPLIES_EXEC */], EPERM],
  ['personality', [8 /* PER_BSD */], EPERM],
  ['personality', [0xffffffff], ALLOW],
  ['personality', [HI(0xffffffff) | 0xffffffffn], ALLOW],
  ['personality', [0], ALLOW],
  ['personality', [HI(1)], ALLOW], // unsigned int: the high word is not part of the argument
  // seccomp(): no strict mode, no second listener; more filters may only narrow
  ['seccomp', [0, 0, 0], EPERM],
  ['seccomp', [1, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0], EPERM],
  ['seccomp', [1, SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH, 0], EPERM],
  ['seccomp', [HI(7), SECCOMP_FILTER_FLAG_NEW_LISTENER, 0], EPERM], // op is unsigned int: high word ignored
  ['seccomp', [1, SECCOMP_FILTER_FLAG_TSYNC, 0], ALLOW],
  ['seccomp', [1, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH | SECCOMP_FILTER_FLAG_SPEC_ALLOW, 0], ALLOW],
  ['seccomp', [1, 0, 0], ALLOW],
  ['seccomp', [2 /* GET_ACTION_AVAIL */, 0, 0], ALLOW],
  ['seccomp', [3 /* GET_NOTIF_SIZES */, 0, 0], ALLOW],
  // prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) would kill the thread on its next syscall
  ['prctl', [22, 1], EPERM],
  ['prctl', [22, 2 /* MODE_FILTER */, 0], ALLOW],
  ['prctl', [38 /* PR_SET_NO_NEW_PRIVS */, 1], ALLOW],
  ['prctl', [15 /* PR_SET_NAME */, 0], ALLOW],
  // ordinary calls
  ['getpid', [], ALLOW],
  ['read', [0, 0, 1], ALLOW],
  ['write', [1, 0, 1], ALLOW],
  ['futex', [0, 0], ALLOW],
  ['epoll_pwait', [0, 0], ALLOW],
  ['mprotect', [0, 4096, PROT_READ | PROT_EXEC], ALLOW], // the JIT needs executable mprotect
];

test('every program: prologue, hardening, check()', () => {
  for (const policy of POLICIES) {
    for (const arch of ARCHES) {
      for (const abi of [0, 3, 7, 8]) {
        const p = plan(policy, arch, abi);
        const label = `${JSON.stringify(policy)} abi ${abi}`;
        assert.equal(p.seccomp.arch, arch);
        assert.equal(p.seccomp.flags, SECCOMP_FLAGS);
        check(p.seccomp.insns);
        // wrong audit arch: KILL_PROCESS, whatever the number
        for (const other of [AUDIT_ARCH_I386, AUDIT_ARCH_ARM, arch === 'x86_64' ? AUDIT_ARCH_AARCH64 : AUDIT_ARCH_X86_64, 0]) {
          for (const nr of [0, 1, 11, 59, 221, 0x40000027]) {
            assert.equal(actionName(simulate(p.seccomp.insns, { nr, arch: other })), KILL, `${label} ${arch}: arch 0x${other.toString(16)} nr ${nr}`);
          }
        }
        runTable(p, arch, HARDENING, label);
        if (arch === 'x86_64') {
          // x32: same audit arch, nr | 0x40000000
          for (const nr of [0x40000000 | 39, 0x40000000 | 59, 0x40000000 | 101, 0x40000000 | 545, 0x40000000, 0x7fffffff, 0xffffffff]) {
            assert.equal(actionName(simulate(p.seccomp.insns, { nr, arch: AUDIT_ARCH_X86_64 })), ENOSYS, `${label} x32 nr 0x${nr.toString(16)}`);
          }
        }
      }
    }
  }
});

test('KILL_THREAD is never returned (a dead thread hangs Node); ERRNO data is a real errno', () => {
  for (const policy of POLICIES) {
    for (const arch of ARCHES) {
      const p = plan(policy, arch);
      for (const ins of p.seccomp.insns) {
        if (ins.code !== 0x06) continue; // ret k
        const { action, data } = decodeAction(ins.k);
        assert.notEqual(action, 'KILL_THREAD');
        assert.ok(['ALLOW', 'ERRNO', 'KILL_PROCESS', 'LOG'].includes(action), action);
        if (action === 'ERRNO') assert.ok([1, 13, 38].includes(data), `errno ${data}`);
      }
    }
  }
});

// ---------------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------------

const sock = (d, t, pr, want) => ['socket', [d, t, pr], want];

// Sockets: one column per policy. A = ALLOW, D = EACCES.
const NET_POLICIES = [
  {},
  { net: true },
  { net: { connect: ['127.0.0.1:5432'] } },
  { net: { connect: ['example.com:443'] } }, // a host name: dns, so UDP
  { net: { listen: [':8080'] } },
  { net: { unix: ['/run/x.sock'] } },
  { net: { connect: true } }, // every destination, but no listening: still no MPTCP/raw
  { net: { dns: true } },
];
const SOCKET_MATRIX = [
  // domain, type, protocol                                     {}   all  ip   host listn unix conn dns
  [AF_INET, SOCK_STREAM, 0,                                      'D', 'A', 'A', 'A', 'A', 'D', 'A', 'A'],
  [AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,       'D', 'A', 'A', 'A', 'A', 'D', 'A', 'A'],
  [AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP, 'D', 'A', 'A', 'A', 'A', 'D', 'A', 'A'],
  [AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0,                      'D', 'A', 'A', 'A', 'A', 'D', 'A', 'A'],
  [AF_INET6, SOCK_STREAM, IPPROTO_TCP,                           'D', 'A', 'A', 'A', 'A', 'D', 'A', 'A'],
  [AF_INET, HI(7) | BigInt(SOCK_STREAM), HI(9) | BigInt(IPPROTO_TCP), 'D', 'A', 'A', 'A', 'A', 'D', 'A', 'A'], // int args: high words ignored
  [AF_INET, SOCK_STREAM | 0x10, 0,                               'D', 'A', 'A', 'A', 'A', 'D', 'A', 'A'], // type & 0xf
  // Landlock's TCP rules do not see MPTCP or SCTP; raw sockets need no port
  [AF_INET, SOCK_STREAM, IPPROTO_MPTCP,                          'D', 'A', 'D', 'D', 'D', 'D', 'D', 'D'],
  [AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_MPTCP,         'D', 'A', 'D', 'D', 'D', 'D', 'D', 'D'],
  [AF_INET, SOCK_STREAM, IPPROTO_SCTP,                           'D', 'A', 'D', 'D', 'D', 'D', 'D', 'D'],
  [AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP,                        'D', 'A', 'D', 'D', 'D', 'D', 'D', 'D'],
  [AF_INET, SOCK_RAW, 1 /* ICMP */,                              'D', 'A', 'D', 'D', 'D', 'D', 'D', 'D'],
  // UDP only for DNS or connect: true
  [AF_INET, SOCK_DGRAM, 0,                                       'D', 'A', 'D', 'A', 'D', 'D', 'A', 'A'],
  [AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP, 'D', 'A', 'D', 'A', 'D', 'D', 'A', 'A'],
  [AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE,                         'D', 'A', 'D', 'D', 'D', 'D', 'D', 'D'],
  // unix
  [AF_UNIX, SOCK_STREAM, 0,                                      'D', 'A', 'D', 'D', 'D', 'A', 'D', 'D'],
  [AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0,                        'D', 'A', 'D', 'D', 'D', 'A', 'D', 'D'],
  // NETLINK_ROUTE (getifaddrs) with any IP socket; no other netlink protocol
  [AF_NETLINK, SOCK_RAW, 0,                                      'D', 'A', 'A', 'A', 'A', 'D', 'A', 'A'],
  [AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0,                       'D', 'A', 'A', 'A', 'A', 'D', 'A', 'A'],
  [AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */,                  'D', 'D', 'D', 'D', 'D', 'D', 'D', 'D'],
  [AF_NETLINK, SOCK_RAW, 4 /* NETLINK_SOCK_DIAG */,              'D', 'D', 'D', 'D', 'D', 'D', 'D', 'D'],
  // exotic families stay closed even with net: true
  [AF_PACKET, SOCK_RAW, 0x0300,                                  'D', 'D', 'D', 'D', 'D', 'D', 'D', 'D'],
  [38 /* AF_ALG */, SOCK_SEQPACKET, 0,                           'D', 'D', 'D', 'D', 'D', 'D', 'D', 'D'],
  [40 /* AF_VSOCK */, SOCK_STREAM, 0,                            'D', 'D', 'D', 'D', 'D', 'D', 'D', 'D'],
  [0 /* AF_UNSPEC */, SOCK_STREAM, 0,                            'D', 'D', 'D', 'D', 'D', 'D', 'D', 'D'],
];
// TCP Fast Open (MSG_FASTOPEN) is an implicit connect Landlock does not see:
// denied whenever TCP sockets exist but connect is not `true`.
const TFO_MATRIX = [
  // syscall, args                                              {}   all  ip   host listn unix conn dns
  ['sendto', [3, 0, 1, MSG_FASTOPEN, 0, 16],                     'A', 'A', 'D', 'D', 'D', 'A', 'A', 'D'],
  ['sendto', [3, 0, 1, MSG_FASTOPEN | MSG_NOSIGNAL | MSG_DONTWAIT, 0, 16], 'A', 'A', 'D', 'D', 'D', 'A', 'A', 'D'],
  ['sendto', [3, 0, 1, HI(MSG_FASTOPEN) | BigInt(MSG_NOSIGNAL), 0, 0], 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A'], // flags is an unsigned int
  ['sendto', [3, 0, 1, MSG_NOSIGNAL, 0, 0],                      'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A'],
  ['sendto', [3, 0, 1, 0, 0, 16],                                'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A'], // UDP DNS queries
  ['sendmsg', [3, 0, MSG_FASTOPEN],                              'A', 'A', 'D', 'D', 'D', 'A', 'A', 'D'],
  ['sendmsg', [3, 0, MSG_NOSIGNAL],                              'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A'],
  ['sendmmsg', [3, 0, 2, MSG_FASTOPEN],                          'A', 'A', 'D', 'D', 'D', 'A', 'A', 'D'],
  ['sendmmsg', [3, 0, 2, 0],                                     'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A'],
  ['connect', [3, 0, 16],                                        'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A'], // Landlock's job
  ['bind', [3, 0, 16],                                           'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A'],
  ['socketpair', [AF_UNIX, SOCK_STREAM, 0, 0],                   'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A'], // a connected pair reaches nothing outside
];

test('sockets and TCP Fast Open: matrix of policies × (domain, type, protocol), both arches', () => {
  const v = { A: ALLOW, D: EACCES };
  NET_POLICIES.forEach((policy, col) => {
    for (const arch of ARCHES) {
      const p = plan(policy, arch);
      const rows = [
        ...SOCKET_MATRIX.map((r) => ['socket', [r[0], r[1], r[2]], v[r[3 + col]]]),
        ...TFO_MATRIX.map((r) => [r[0], r[1], v[r[2 + col]]]),
      ];
      runTable(p, arch, rows, JSON.stringify(policy));
    }
  });
});

const mmapRX = (flags, want, prot = PROT_READ | PROT_EXEC) => ['mmap', [0, 4096, prot, flags, 3, 0], want];

/** Everything but sockets for the default policy {} at Landlock ABI 7: the strictest useful one. */
const DEFAULT_ROWS = [
  ['execve', [0, 0, 0], EACCES],
  ['execveat', [AT_FDCWD, 0, 0, 0, 0x1000], EACCES],
  ['fork', [], EACCES],
  ['vfork', [], EACCES],
  ['clone', [SIGCHLD, 0, 0, 0, 0], EACCES],
  ['clone', [0x01000000 | 0x00200000 | SIGCHLD /* CHILD_SETTID|CHILD_CLEARTID: glibc fork */, 0], EACCES],
  ['clone', [0x4000 | 0x100 | SIGCHLD /* VFORK|VM: posix_spawn */, 0], EACCES],
  ['clone', [CLONE_PTHREAD, 0x7f0000000000n], ALLOW],
  ['clone', [CLONE_THREAD, 0], ALLOW],
  ['clone', [HI(0xffffffff) | BigInt(CLONE_THREAD)], ALLOW], // high 32 bits ignored: still a thread
  ['clone', [HI(0xffffffff) | BigInt(CLONE_PTHREAD)], ALLOW],
  ['clone', [HI(CLONE_THREAD) | BigInt(SIGCHLD)], EACCES], // CLONE_THREAD only in the high word is not a thread
  ['clone', [-1], ALLOW], // every low bit includes CLONE_THREAD (the kernel refuses the combination itself)
  mmapRX(MAP_PRIVATE | MAP_DENYWRITE, EACCES), // the dynamic loader mapping a new shared object
  mmapRX(MAP_PRIVATE | MAP_DENYWRITE | MAP_FIXED, EACCES),
  mmapRX(MAP_PRIVATE | MAP_DENYWRITE, EACCES, PROT_READ | PROT_WRITE | PROT_EXEC),
  mmapRX(MAP_PRIVATE | MAP_DENYWRITE, EACCES, HI(0xffff) | BigInt(PROT_EXEC)),
  mmapRX(MAP_PRIVATE, ALLOW), // V8's builtin remap for new isolates
  mmapRX(MAP_PRIVATE | MAP_FIXED, ALLOW),
  mmapRX(MAP_PRIVATE | MAP_ANONYMOUS, ALLOW), // the JIT
  mmapRX(MAP_PRIVATE | MAP_ANONYMOUS | MAP_DENYWRITE, ALLOW),
  mmapRX(MAP_PRIVATE | MAP_DENYWRITE, ALLOW, PROT_READ), // data segments
  mmapRX(MAP_PRIVATE | MAP_DENYWRITE, ALLOW, HI(PROT_EXEC) | BigInt(PROT_READ)), // PROT_EXEC only in the high word
  mmapRX(HI(MAP_DENYWRITE) | BigInt(MAP_PRIVATE), ALLOW),
  ['memfd_create', [0, 0], EACCES],
  ...['chmod', 'fchmod', 'fchmodat', 'chown', 'fchown', 'lchown', 'fchownat', 'utime', 'utimes', 'futimesat', 'utimensat',
    'setxattr', 'lsetxattr', 'fsetxattr', 'removexattr', 'lremovexattr', 'fremovexattr'].map((s) => [s, [0, 0, 0], EACCES]),
  // with Landlock the paths are its job
  ['openat', [AT_FDCWD, 0, O_WRONLY | O_CREAT, 0o644], ALLOW],
  ['open', [0, O_RDWR], ALLOW],
  ['unlinkat', [AT_FDCWD, 0, 0], ALLOW],
  ['renameat2', [AT_FDCWD, 0, AT_FDCWD, 0, 0], ALLOW],
  ['unlink', [0], ALLOW],
];

const ADDON_ROWS_ALLOWED = [
  mmapRX(MAP_PRIVATE | MAP_DENYWRITE, ALLOW),
  mmapRX(MAP_PRIVATE | MAP_DENYWRITE | MAP_FIXED, ALLOW),
  mmapRX(MAP_PRIVATE | MAP_DENYWRITE, ALLOW, PROT_READ | PROT_WRITE | PROT_EXEC),
  mmapRX(MAP_PRIVATE | MAP_DENYWRITE, ALLOW, HI(0xffff) | BigInt(PROT_EXEC)),
  ['memfd_create', [0, 0], ALLOW],
];

/** Overrides of DEFAULT_ROWS per policy: [policy, rows]. */
// Processes may be made (childProcess granted in any form): every process-creating call passes.
const PROCESS_ROWS_ALLOWED = [
    ['execve', [0, 0, 0], ALLOW],
    ['execveat', [AT_FDCWD, 0, 0, 0, 0x1000], ALLOW],
    ['fork', [], ALLOW],
    ['vfork', [], ALLOW],
    ['clone', [SIGCHLD, 0, 0, 0, 0], ALLOW],
    ['clone', [0x01000000 | 0x00200000 | SIGCHLD, 0], ALLOW],
    ['clone', [0x4000 | 0x100 | SIGCHLD, 0], ALLOW],
    ['clone', [HI(CLONE_THREAD) | BigInt(SIGCHLD)], ALLOW],
    // the filter survives execve: a child's own loader maps libc MAP_DENYWRITE, so with
    // child processes allowed the addon rule is left out (addons: false is then JS-only)
    ...ADDON_ROWS_ALLOWED,
];

const CAPABILITY_TABLES = [
  [{}, []],
  [{ net: true }, []],
  [{ net: { connect: ['127.0.0.1:5432'] } }, []],
  [{ childProcess: true }, [
    ...PROCESS_ROWS_ALLOWED,
  ]],
  [{ childProcess: ['/usr/bin/git'] }, [ // the list is Landlock's EXECUTE; seccomp lets processes be made
    ...PROCESS_ROWS_ALLOWED,
  ]],
  [{ addons: true }, ADDON_ROWS_ALLOWED],
  [{ fs: { write: ['/tmp/x'] } }, // a write list: metadata outside it is the JS layer's (a warning says so)
    ['chmod', 'fchmod', 'fchmodat', 'chown', 'fchown', 'lchown', 'fchownat', 'utime', 'utimes', 'futimesat', 'utimensat',
      'setxattr', 'lsetxattr', 'fsetxattr', 'removexattr', 'lremovexattr', 'fremovexattr'].map((s) => [s, [0, 0, 0], ALLOW])],
  [{ fs: true },
    ['chmod', 'fchmod', 'fchmodat', 'chown', 'fchown', 'lchown', 'fchownat', 'utime', 'utimes', 'futimesat', 'utimensat',
      'setxattr', 'lsetxattr', 'fsetxattr', 'removexattr', 'lremovexattr', 'fremovexattr'].map((s) => [s, [0, 0, 0], ALLOW])],
];

test('capability tables, enforce mode, Landlock ABI 7, both arches', () => {
  const key = (r) => `${r[0]}(${r[1].map(String).join(',')})`;
  for (const [policy, overrides] of CAPABILITY_TABLES) {
    const rows = new Map(DEFAULT_ROWS.map((r) => [key(r), r]));
    for (const r of overrides) {
      assert.ok(rows.has(key(r)), `override ${key(r)} replaces a default row`);
      rows.set(key(r), r);
    }
    for (const arch of ARCHES) runTable(plan(policy, arch), arch, [...rows.values()], JSON.stringify(policy));
  }
});

const COARSE_RO = [ // fs.write: false without Landlock: no write opens, no path changes
  ['openat', [AT_FDCWD, 0, O_WRONLY, 0], EACCES],
  ['openat', [AT_FDCWD, 0, O_RDWR | O_CLOEXEC, 0], EACCES],
  ['openat', [AT_FDCWD, 0, O_RDONLY | O_CREAT, 0o644], EACCES],
  ['openat', [AT_FDCWD, 0, O_WRONLY | O_CREAT | O_TRUNC, 0o644], EACCES],
  ['openat', [AT_FDCWD, 0, O_RDONLY | O_TRUNC, 0], EACCES],
  ['openat', [AT_FDCWD, 0, O_WRONLY | O_APPEND, 0], EACCES],
  ['openat', [AT_FDCWD, 0, O_TMPFILE | O_RDWR, 0o600], EACCES],
  ['openat', [AT_FDCWD, 0, HI(0) | BigInt(O_WRONLY), 0], EACCES],
  ['openat', [AT_FDCWD, 0, O_RDONLY, 0], ALLOW],
  ['openat', [AT_FDCWD, 0, O_RDONLY | O_CLOEXEC, 0], ALLOW],
  ['openat', [AT_FDCWD, 0, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, 0], ALLOW],
  ['openat', [AT_FDCWD, 0, HI(O_WRONLY | O_CREAT) | BigInt(O_RDONLY), 0], ALLOW], // flags is an int
  ['open', [0, O_WRONLY | O_CREAT, 0o644], EACCES],
  ['open', [0, O_RDONLY | O_CLOEXEC], ALLOW],
  ...['creat', 'truncate', 'ftruncate', 'rename', 'renameat', 'renameat2', 'mkdir', 'mkdirat', 'rmdir', 'unlink', 'unlinkat',
    'link', 'linkat', 'symlink', 'symlinkat', 'mknod', 'mknodat', 'chmod', 'fchmodat', 'fchown', 'utimensat', 'setxattr'].map((s) => [s, [0, 0, 0, 0, 0], EACCES]),
  ['read', [3, 0, 10], ALLOW],
  ['write', [1, 0, 10], ALLOW], // fds opened before the lockdown (stdout) keep working
  ['pwrite64', [3, 0, 10, 0], ALLOW],
];

test('fs.write: false — coarse read-only mode without Landlock (abi 0) vs Landlock paths (abi 7)', () => {
  for (const arch of ARCHES) {
    for (const policy of [{ fs: { write: false } }, {}]) {
      const coarse = plan(policy, arch, 0);
      assert.equal(coarse.landlock, null);
      runTable(coarse, arch, COARSE_RO, `${JSON.stringify(policy)} abi 0`);
      const ll = plan(policy, arch, 7);
      assert.notEqual(ll.landlock, null);
      runTable(ll, arch, [
        ['openat', [AT_FDCWD, 0, O_WRONLY, 0], ALLOW],
        ['openat', [AT_FDCWD, 0, O_RDWR | O_CREAT | O_TRUNC, 0o644], ALLOW],
        ['open', [0, O_WRONLY | O_CREAT, 0o644], ALLOW],
        ['unlinkat', [AT_FDCWD, 0, 0], ALLOW],
        ['renameat2', [AT_FDCWD, 0, AT_FDCWD, 0, 0], ALLOW],
        ['truncate', [0, 0], ALLOW],
        ['chmod', [0, 0o777], EACCES], // Landlock (ABI <= 7) does not restrict metadata: seccomp does
        ['fchmodat', [AT_FDCWD, 0, 0o777], EACCES],
        ['openat', [AT_FDCWD, 0, O_RDONLY, 0], ALLOW],
      ], `${JSON.stringify(policy)} abi 7`);
    }
    // a write list or write: true never gets the coarse mode
    for (const policy of [{ fs: { write: ['/tmp'] } }, { fs: true }]) {
      runTable(plan(policy, arch, 0), arch, [
        ['openat', [AT_FDCWD, 0, O_WRONLY | O_CREAT, 0o644], ALLOW],
        ['unlinkat', [AT_FDCWD, 0, 0], ALLOW],
      ], `${JSON.stringify(policy)} abi 0`);
    }
  }
});

test('mode: audit — capability denials become LOG, hardening stays ERRNO/KILL', () => {
  for (const arch of ARCHES) {
    const p = plan({ mode: 'audit' }, arch, 7);
    assert.equal(p.landlock, null, 'audit: no Landlock (it cannot log-and-allow)');
    runTable(p, arch, [
      sock(AF_INET, SOCK_STREAM, 0, LOG),
      sock(AF_UNIX, SOCK_STREAM, 0, LOG),
      sock(AF_PACKET, SOCK_RAW, 0, LOG),
      ['execve', [0, 0, 0], LOG],
      ['execveat', [AT_FDCWD, 0, 0, 0, 0], LOG],
      ['fork', [], LOG],
      ['vfork', [], LOG],
      ['clone', [SIGCHLD, 0], LOG],
      ['clone', [CLONE_PTHREAD, 0], ALLOW],
      mmapRX(MAP_PRIVATE | MAP_DENYWRITE, LOG),
      mmapRX(MAP_PRIVATE, ALLOW),
      ['memfd_create', [0, 0], LOG],
      ['chmod', [0, 0], LOG],
      ['openat', [AT_FDCWD, 0, O_WRONLY | O_CREAT, 0], LOG], // no Landlock in audit: the coarse write checks log
      ['openat', [AT_FDCWD, 0, O_RDONLY, 0], ALLOW],
      ['unlinkat', [AT_FDCWD, 0, 0], LOG],
      ['getpid', [], ALLOW],
      ...HARDENING,
    ], 'audit');
    for (const ins of p.seccomp.insns) if (ins.code === 0x06) assert.notEqual(actionName(ins.k), EACCES, 'no EACCES in audit mode');
    assert.equal(verdict(p.seccomp.insns, arch, 0, [], AUDIT_ARCH_I386), KILL);
    if (arch === 'x86_64') assert.equal(actionName(simulate(p.seccomp.insns, { nr: 0x40000000 | 39, arch: AUDIT_ARCH_X86_64 })), ENOSYS);
    // audit with a connect list: the TFO check logs too
    const q = plan({ mode: 'audit', net: { connect: ['127.0.0.1:5432'] } }, arch, 7);
    runTable(q, arch, [
      ['sendto', [3, 0, 1, MSG_FASTOPEN, 0, 16], LOG],
      sock(AF_INET, SOCK_STREAM, IPPROTO_MPTCP, LOG),
      sock(AF_INET, SOCK_STREAM, 0, ALLOW),
    ], 'audit connect list');
  }
});

test('aarch64 has no open, fork, vfork: those rules are skipped and reported', () => {
  for (const name of ['open', 'fork', 'vfork', 'creat', 'unlink', 'rename', 'mkdir', 'chmod']) {
    assert.equal(syscallNumber('aarch64', name), undefined, name);
    assert.notEqual(syscallNumber('x86_64', name), undefined, name);
  }
  const a = plan({ fs: { write: false } }, 'aarch64', 0);
  for (const name of ['open', 'fork', 'vfork', 'creat']) assert.ok(a.seccomp.absent.includes(name), `absent ${name}`);
  for (const name of a.seccomp.absent) assert.equal(Object.prototype.hasOwnProperty.call(AARCH64_SYSCALLS, name), false, name);
  const x = plan({ fs: { write: false } }, 'x86_64', 0);
  for (const name of x.seccomp.absent) assert.equal(Object.prototype.hasOwnProperty.call(X86_64_SYSCALLS, name), false, name);
  assert.ok(!x.seccomp.absent.includes('open') && !x.seccomp.absent.includes('fork'));
  // the same syscall name decides the same on both arches, by each arch's number
  assert.notEqual(syscallNumber('x86_64', 'execve'), syscallNumber('aarch64', 'execve'));
  for (const arch of ARCHES) assert.equal(verdict(plan({}, arch).seccomp.insns, arch, 'execve', []), EACCES);
  // x86_64's execve number (59) is not execve on aarch64
  assert.equal(verdict(plan({}, 'aarch64').seccomp.insns, 'aarch64', 59, []), ALLOW);
});

// ---------------------------------------------------------------------------
// Every rule, against a reference evaluator of the rule itself
// ---------------------------------------------------------------------------

function lo(v) { return Number(BigInt.asUintN(64, BigInt(v)) & 0xffffffffn); }
function hi(v) { return Number(BigInt.asUintN(64, BigInt(v)) >> 32n); }
function reference(rule, args) {
  for (const c of rule.cases) {
    const ok = c.when.every((cond) => {
      const a = args[cond.arg] ?? 0;
      const word = cond.hi ? hi(a) : lo(a);
      const masked = cond.mask === undefined ? word : (word & cond.mask) >>> 0;
      switch (cond.op) {
        case 'eq': return masked === cond.value >>> 0;
        case 'ne': return masked !== cond.value >>> 0;
        case 'any': return ((word & cond.value) >>> 0) !== 0;
        case 'none': return ((word & cond.value) >>> 0) === 0;
        default: throw new Error(cond.op);
      }
    });
    if (ok) return verdictValue(c.then);
  }
  return verdictValue(rule.otherwise);
}

test('every rule of every program decides what the rule says (reference evaluator, sampled arguments)', () => {
  const values = [0, 1, 2, 3, 4, 5, 6, 7, 10, 16, 17, 22, 0x10, 0x20, 0x40, 0x802, 0x822, 0x800, 0x10000, 0x3d0f00, 0x80801, 262, 0x20000000,
    0x20004000, 0xffffffff, -1, HI(1), HI(0xffffffff) | 0x10000n, HI(0x20000000), 0x643, 0x40];
  let rng = 12345;
  const next = () => (rng = (Math.imul(rng, 1103515245) + 12345) >>> 0);
  let checked = 0;
  for (const policy of POLICIES) {
    for (const arch of ARCHES) {
      for (const abi of [0, 7]) {
        const p = plan(policy, arch, abi);
        for (const rule of p.seccomp.rules) {
          const nr = syscallNumber(arch, rule.syscall);
          if (nr === undefined) continue;
          const samples = rule.cases.length === 0 ? 1 : 60;
          for (let s = 0; s < samples; s++) {
            const args = Array.from({ length: 6 }, () => values[next() % values.length]);
            const got = simulate(p.seccomp.insns, { nr, arch: AUDIT[arch], args });
            assert.equal(actionName(got), actionName(reference(rule, args)), `${JSON.stringify(policy)} ${arch} abi ${abi} ${rule.syscall}(${args.map(String)})`);
            checked++;
          }
        }
      }
    }
  }
  assert.ok(checked > 5000, `${checked}`);
});

test('rules: one per syscall, hot argument-checked syscalls first, hardening in every rule set', () => {
  for (const policy of POLICIES) {
    const n = normalizePolicy(policy, CTX);
    for (const landlockFs of [true, false]) {
      const rules = seccompRules(n, { landlockFs });
      const names = rules.map((r) => r.syscall);
      assert.equal(new Set(names).size, names.length, 'one rule per syscall');
      for (const h of hardeningRules()) assert.ok(names.includes(h.syscall), `hardening ${h.syscall}`);
      // argument-checked rules come before number-only ones
      const firstNrOnly = rules.findIndex((r) => r.cases.length === 0);
      const lastArg = rules.map((r) => r.cases.length > 0).lastIndexOf(true);
      assert.ok(firstNrOnly === -1 || lastArg < firstNrOnly, `${JSON.stringify(policy)}: ${names.join(' ')}`);
      if (names.includes('mmap')) assert.equal(names[0], 'mmap');
    }
  }
  assert.deepEqual(socketNeeds(normalizePolicy({}, CTX)), { inetAll: false, tcp: false, udp: false, unix: false, netlink: false });
  assert.deepEqual(socketNeeds(normalizePolicy({ net: { dns: true } }, CTX)), { inetAll: false, tcp: true, udp: true, unix: false, netlink: true });
});

// ---------------------------------------------------------------------------
// Paths: number-only verdicts never load an argument
// ---------------------------------------------------------------------------

test('number-only paths touch only seccomp_data.nr and .arch; argument paths stay short', () => {
  for (const policy of POLICIES) {
    for (const arch of ARCHES) {
      const p = plan(policy, arch);
      const offsets = (name, args = []) => {
        const t = simulateTrace(p.seccomp.insns, { nr: syscallNumber(arch, name), arch: AUDIT[arch], args });
        return [...new Set(t.path.filter((pc) => p.seccomp.insns[pc].code === 0x20).map((pc) => p.seccomp.insns[pc].k))].sort((a, b) => a - b);
      };
      const numberOnly = new Set(p.seccomp.rules.filter((r) => r.cases.length === 0).map((r) => r.syscall));
      for (const name of ['getpid', 'read', 'write', 'futex', 'execve', 'ptrace', 'clone3', 'bpf', 'io_uring_setup', 'fork', 'memfd_create', 'chmod']) {
        if (syscallNumber(arch, name) === undefined) continue;
        if (!['getpid', 'read', 'write', 'futex'].includes(name)) assert.ok(numberOnly.has(name) || !p.seccomp.rules.some((r) => r.syscall === name), `${name} is number-only`);
        assert.deepEqual(offsets(name, [1, 2, 3, 4, 5, 6]), [0, 4], `${JSON.stringify(policy)} ${arch} ${name}`);
      }
      // mmap (the hottest argument-checked call) is tested first, and its path is short
      if (p.seccomp.rules.some((r) => r.syscall === 'mmap')) {
        const t = simulateTrace(p.seccomp.insns, { nr: syscallNumber(arch, 'mmap'), arch: AUDIT[arch], args: [0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_DENYWRITE, 3, 0] });
        assert.ok(t.path.length <= (arch === 'x86_64' ? 11 : 10), `mmap path ${t.path.length}`);
        const anon = simulateTrace(p.seccomp.insns, { nr: syscallNumber(arch, 'mmap'), arch: AUDIT[arch], args: [0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0] });
        assert.ok(anon.path.length <= 8, `plain mmap path ${anon.path.length}`);
      }
    }
  }
});

// ---------------------------------------------------------------------------
// Long programs: conditional jumps reach 255 instructions; beyond that, trampolines
// ---------------------------------------------------------------------------

test('programs with long deny lists assemble with trampolines and still decide correctly', () => {
  for (const arch of ARCHES) {
    const a = archByName(arch);
    const all = Object.keys(a.syscalls).filter((n) => n !== 'getpid' && n !== 'mmap' && n !== 'socket');
    // an argument-checked rule first (its block lies past the whole jeq list), then ~300 number-only denials
    const rules = [
      { syscall: 'mmap', cases: [{ when: [{ arg: 2, op: 'any', value: PROT_EXEC }], then: { kind: 'errno', errno: 13 } }], otherwise: { kind: 'allow' }, source: 'addons', why: 't' },
      { syscall: 'socket', cases: [{ when: [{ arg: 0, op: 'eq', value: AF_UNIX }], then: { kind: 'allow' } }], otherwise: { kind: 'errno', errno: 13 }, source: 'net', why: 't' },
      ...all.slice(0, 300).map((s, i) => ({ syscall: s, cases: [], otherwise: i % 3 === 0 ? { kind: 'errno', errno: 1 } : i % 3 === 1 ? { kind: 'errno', errno: 13 } : { kind: 'log' }, source: 'hardening', why: 't' })),
    ];
    const g = generate(rules, a);
    check(g.insns);
    assert.ok(g.insns.length > 300);
    const jas = g.insns.filter((ins) => ins.code === 0x05).length;
    assert.ok(jas > 0, `${arch}: trampolines (ja) were inserted`);
    for (const ins of g.insns) if ((ins.code & 0x07) === 0x05 && ins.code !== 0x05) assert.ok(ins.jt <= 255 && ins.jf <= 255);
    const run = (nr, args = []) => actionName(simulate(g.insns, { nr, arch: a.auditArch, args }));
    rules.slice(2).forEach((r, i) => {
      const want = actionName(verdictValue(r.otherwise));
      assert.equal(run(a.syscalls[r.syscall]), want, `${arch} ${r.syscall} (#${i})`);
    });
    assert.equal(run(a.syscalls.mmap, [0, 1, PROT_EXEC, 0]), EACCES);
    assert.equal(run(a.syscalls.mmap, [0, 1, PROT_READ, 0]), ALLOW);
    assert.equal(run(a.syscalls.socket, [AF_UNIX, 1, 0]), ALLOW);
    assert.equal(run(a.syscalls.socket, [AF_INET, 1, 0]), EACCES);
    assert.equal(run(a.syscalls.getpid), ALLOW);
    assert.equal(actionName(simulate(g.insns, { nr: 0, arch: AUDIT_ARCH_I386 })), KILL);
    if (arch === 'x86_64') assert.equal(run(0x40000000 | 39), ENOSYS);
    // and it disassembles with syscall names
    const text = disassemble(g.insns, { syscallNames: syscallNames(arch) });
    assert.match(text, /; mmap\n/);
    assert.match(text, /ja \d{4}/);
  }
});

test('the real programs fit the conditional-jump range or use trampolines, and stay far below BPF_MAXINSNS', () => {
  for (const policy of POLICIES) {
    for (const arch of ARCHES) {
      for (const abi of [0, 7]) {
        const p = plan(policy, arch, abi);
        assert.ok(p.seccomp.insns.length < 1024, `${p.seccomp.insns.length} instructions`);
      }
    }
  }
});

test('no kernel layer, no seccomp compiler: seccomp is null', () => {
  const n = normalizePolicy({}, CTX);
  assert.equal(compile(n, target('x86_64', 7, { platform: 'darwin' })).seccomp, null);
  assert.equal(compile(n, target('x86_64', 7, { kernel: false })).seccomp, null);
  assert.equal(compile(n, target(undefined, 7)).seccomp, null);
  assert.equal(compile(n, target('riscv64', 7)).seccomp, null);
});
