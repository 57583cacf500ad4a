'use strict';
// aarch64: every capability of the capability table compiled for arm64 and run in the BPF
// simulator with arm64's own syscall numbers, denied side and granted side. No arm64 machine
// is needed (none is here): the program is data, and the numbers below are written out by
// hand from the kernel's generic table (scripts/syscall.tbl, which include/uapi/asm-generic/
// unistd.h follows; arm64 builds it with the ABIs common, 64, renameat, rlimit, memfd_secret),
// NOT read from src/compile/bpf/syscalls/aarch64.ts, so a wrong entry there fails here.
const test = require('node:test');
const assert = require('node:assert/strict');

const { normalizePolicy } = require('../../dist/policy');
const { CAPABILITIES } = require('../../dist/policy/capabilities');
const { compile } = require('../../dist/compile/plan');
const { seccompRules } = require('../../dist/compile/seccomp/rules');
const {
  simulate, actionName, AARCH64_SYSCALLS, AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_ARM,
} = require('../../dist/compile/bpf');

// The arm64 numbers of every syscall the compiler can name (checked against scripts/syscall.tbl).
const NR = {
  setxattr: 5, lsetxattr: 6, fsetxattr: 7, removexattr: 14, lremovexattr: 15, fremovexattr: 16,
  mknodat: 33, mkdirat: 34, unlinkat: 35, symlinkat: 36, linkat: 37, renameat: 38, umount2: 39, mount: 40,
  pivot_root: 41, truncate: 45, ftruncate: 46, chroot: 51, fchmod: 52, fchmodat: 53, fchownat: 54, fchown: 55,
  openat: 56, close: 57, vhangup: 58, pipe2: 59, quotactl: 60, utimensat: 88, acct: 89, personality: 92,
  unshare: 97, kexec_load: 104, init_module: 105, delete_module: 106, ptrace: 117, reboot: 142, prctl: 167,
  socket: 198, bind: 200, connect: 203, sendto: 206, sendmsg: 211, add_key: 217, request_key: 218, keyctl: 219,
  clone: 220, execve: 221, mmap: 222, swapon: 224, swapoff: 225, mprotect: 226, perf_event_open: 241,
  name_to_handle_at: 264, open_by_handle_at: 265, setns: 268, sendmmsg: 269, process_vm_readv: 270,
  process_vm_writev: 271, kcmp: 272, finit_module: 273, renameat2: 276, seccomp: 277, memfd_create: 279,
  bpf: 280, execveat: 281, userfaultfd: 282, kexec_file_load: 294, io_uring_setup: 425, io_uring_enter: 426,
  io_uring_register: 427, open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432,
  fspick: 433, clone3: 435, openat2: 437, pidfd_getfd: 438, process_madvise: 440, mount_setattr: 442,
  quotactl_fd: 443, fchmodat2: 452, lsm_set_self_attr: 460, setxattrat: 463, removexattrat: 466,
  open_tree_attr: 467,
};
// Names the compiler uses (x86_64 has them) that arm64 does not have: libc uses the *at,
// clone and flags forms there, which the rules name too.
const ABSENT = new Set(['open', 'creat', 'fork', 'vfork', 'chmod', 'chown', 'lchown', 'utime', 'utimes', 'futimesat',
  'rename', 'mkdir', 'rmdir', 'unlink', 'link', 'symlink', 'mknod', 'iopl', 'ioperm', 'uselib']);

const CTX = { CWD: '/w', HOME: '/home/u', TMPDIR: '/tmp', NODE: '/usr/local', APP: '/w' };
const supervisorInputs = { realpath: (p) => p, writeDirs: [] };
const target = (abi, extra = {}) => ({ platform: 'linux', arch: 'aarch64', landlockAbi: abi, landlockErrata: 7, kernel: true, defaults: [], ...extra });
const arm64 = (policy, abi = 7, extra) => compile(normalizePolicy(policy, CTX), target(abi, extra));

const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, IPPROTO_MPTCP = 262;
const SIGCHLD = 17, CLONE_PTHREAD = 0x3d0f00, CLONE_VFORK_SPAWN = 0x4111; // glibc posix_spawn: CLONE_VM|CLONE_VFORK|SIGCHLD
const PROT_READ = 1, PROT_EXEC = 4, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MAP_DENYWRITE = 0x800;
const O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_CLOEXEC = 0x80000, AT_FDCWD = -100, MSG_FASTOPEN = 0x20000000;
const EACCES = 'ERRNO(13)', EPERM = 'ERRNO(1)', ENOSYS = 'ERRNO(38)', ALLOW = 'ALLOW', KILL = 'KILL_PROCESS', NOTIFY = 'USER_NOTIF';

function run(plan, nr, args = [], arch = AUDIT_ARCH_AARCH64) {
  assert.equal(plan.seccomp.arch, 'aarch64');
  return actionName(simulate(plan.seccomp.insns, { nr, arch, args }));
}

// Each row: [syscall, args, verdict when the capability is denied, verdict when granted].
// The test below requires a block for every row of CAPABILITIES, so a new capability
// fails here until its arm64 behaviour is written down.
const CASES = {
  net: {
    deny: {}, grant: { net: true },
    rows: [
      ['socket', [AF_INET, SOCK_STREAM, 0], EACCES, ALLOW],
      ['socket', [AF_INET6, SOCK_STREAM | 0x80800, 6], EACCES, ALLOW],
      ['socket', [AF_INET, SOCK_DGRAM, 0], EACCES, ALLOW],
      ['socket', [AF_UNIX, SOCK_STREAM, 0], EACCES, ALLOW],
      // With no inet socket to send on or connect, these need no rule (TFO and destinations
      // under a connect list: the next test)
      ['sendto', [3, 0, 1, 0, 0, 0], ALLOW, ALLOW],
      ['sendmsg', [3, 0, 0], ALLOW, ALLOW],
      ['sendmmsg', [3, 0, 1, 0], ALLOW, ALLOW],
      ['connect', [3, 0, 16], ALLOW, ALLOW],
    ],
  },
  'fs.read': {
    // Paths are Landlock's (READ_FILE/READ_DIR): seccomp never reads a path, so an open for
    // reading passes the filter whatever fs.read says.
    deny: { fs: { read: false } }, grant: { fs: { read: true } },
    rows: [
      ['openat', [AT_FDCWD, 0, O_RDONLY | O_CLOEXEC], ALLOW, ALLOW],
      ['openat', [AT_FDCWD, 0, O_WRONLY | O_CREAT], ALLOW, ALLOW],
    ],
  },
  'fs.write': {
    deny: { fs: { write: false } }, grant: { fs: { write: true } },
    rows: [
      ['fchmod', [3, 0o644], EACCES, ALLOW],
      ['fchmodat', [AT_FDCWD, 0, 0o644], EACCES, ALLOW],
      ['fchmodat2', [AT_FDCWD, 0, 0o644, 0], EACCES, ALLOW],
      ['fchown', [3, 0, 0], EACCES, ALLOW],
      ['fchownat', [AT_FDCWD, 0, 0, 0, 0], EACCES, ALLOW],
      ['utimensat', [AT_FDCWD, 0, 0, 0], EACCES, ALLOW],
      ['setxattr', [0, 0, 0, 0, 0], EACCES, ALLOW],
      ['lsetxattr', [0, 0, 0, 0, 0], EACCES, ALLOW],
      ['fsetxattr', [3, 0, 0, 0, 0], EACCES, ALLOW],
      ['setxattrat', [AT_FDCWD, 0, 0, 0, 0, 0], EACCES, ALLOW],
      ['removexattr', [0, 0], EACCES, ALLOW],
      ['lremovexattr', [0, 0], EACCES, ALLOW],
      ['fremovexattr', [3, 0], EACCES, ALLOW],
      ['removexattrat', [AT_FDCWD, 0, 0, 0], EACCES, ALLOW],
      // with Landlock (ABI 7 here) creating, removing and renaming are its job, by path
      ['openat', [AT_FDCWD, 0, O_WRONLY | O_CREAT], ALLOW, ALLOW],
      ['unlinkat', [AT_FDCWD, 0, 0], ALLOW, ALLOW],
    ],
  },
  childProcess: {
    deny: {}, grant: { childProcess: true },
    rows: [
      ['execve', [0, 0, 0], EACCES, ALLOW],
      ['execveat', [AT_FDCWD, 0, 0, 0, 0], EACCES, ALLOW],
      ['clone', [SIGCHLD, 0, 0, 0, 0], EACCES, ALLOW],
      ['clone', [CLONE_VFORK_SPAWN, 0, 0, 0, 0], EACCES, ALLOW],
      ['clone', [CLONE_PTHREAD, 0, 0, 0, 0], ALLOW, ALLOW], // threads (flags are arg 0 on arm64 too)
      ['clone3', [0, 88], ENOSYS, ENOSYS], // glibc falls back to clone, whose flags the filter reads
    ],
  },
  addons: {
    deny: {}, grant: { addons: true },
    rows: [
      ['mmap', [0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_DENYWRITE, 3, 0], EACCES, ALLOW],
      ['mmap', [0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, 3, 0], ALLOW, ALLOW], // V8's builtin remap
      ['mmap', [0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_DENYWRITE, -1, 0], ALLOW, ALLOW],
      ['memfd_create', [0, 0], EACCES, ALLOW],
      ['mprotect', [0, 4096, PROT_READ | PROT_EXEC], ALLOW, ALLOW], // the JIT needs it
    ],
  },
  workers: {
    // JS only: the kernel cannot tell a Worker from V8's own threads.
    deny: { workers: false }, grant: { workers: true },
    rows: [
      ['clone', [CLONE_PTHREAD, 0, 0, 0, 0], ALLOW, ALLOW],
    ],
  },
};

test('arm64 numbers: every syscall the compiler names is in the generic table with the kernel\'s number, or known absent', () => {
  const names = new Set();
  for (const c of CAPABILITIES) for (const s of c.syscalls) names.add(s);
  const policies = [{}, { net: true }, { net: { connect: ['127.0.0.1:5432'] } }, { fs: { write: false } }, { fs: { write: ['/tmp'] } },
    { childProcess: true }, { addons: true }, { mode: 'audit' }];
  for (const p of policies) {
    for (const o of [{ landlockFs: false }, { landlockFs: true }, { landlockFs: true, supervisor: { connect: true, bind: true, send: true } }]) {
      for (const r of seccompRules(normalizePolicy(p, CTX), o)) names.add(r.syscall);
    }
  }
  const unknown = [];
  for (const name of names) {
    if (ABSENT.has(name)) {
      assert.equal(Object.prototype.hasOwnProperty.call(AARCH64_SYSCALLS, name), false, `${name} is not an arm64 syscall`);
    } else if (name in NR) {
      assert.equal(AARCH64_SYSCALLS[name], NR[name], `aarch64 ${name}`);
    } else {
      unknown.push(name);
    }
  }
  assert.deepEqual(unknown, [], 'syscalls the compiler names with no arm64 number written down here: check scripts/syscall.tbl and add them');
});

test('arm64: the tables do not reference open/fork/vfork/dup2…; their *at / clone / flags forms are in the program', () => {
  const p = arm64({ fs: { write: false } }, 0); // coarse read-only: the largest set of path rules
  for (const name of p.seccomp.absent) assert.ok(ABSENT.has(name), `absent on arm64: ${name}`);
  for (const name of ['open', 'fork', 'vfork', 'creat', 'unlink', 'rename', 'mkdir', 'chmod']) assert.ok(p.seccomp.absent.includes(name), name);
  for (const name of ['dup2', 'open', 'fork', 'vfork', 'stat', 'pipe', 'access']) {
    assert.equal(Object.prototype.hasOwnProperty.call(AARCH64_SYSCALLS, name), false, name);
  }
  // The replacements are decided by their own numbers.
  const coarse = [
    ['openat', [AT_FDCWD, 0, O_WRONLY | O_CREAT], EACCES],
    ['openat', [AT_FDCWD, 0, O_RDONLY | O_CLOEXEC], ALLOW],
    ['unlinkat', [AT_FDCWD, 0, 0], EACCES],
    ['mkdirat', [AT_FDCWD, 0, 0o755], EACCES],
    ['renameat', [AT_FDCWD, 0, AT_FDCWD, 0], EACCES],
    ['renameat2', [AT_FDCWD, 0, AT_FDCWD, 0, 0], EACCES],
    ['linkat', [AT_FDCWD, 0, AT_FDCWD, 0, 0], EACCES],
    ['symlinkat', [0, AT_FDCWD, 0], EACCES],
    ['mknodat', [AT_FDCWD, 0, 0, 0], EACCES],
    ['truncate', [0, 0], EACCES],
    ['ftruncate', [3, 0], EACCES],
    ['fchmodat', [AT_FDCWD, 0, 0o644], EACCES],
    ['openat2', [AT_FDCWD, 0, 0, 24], ENOSYS], // its flags are behind a pointer: ENOSYS, libc falls back to openat
  ];
  for (const [name, args, want] of coarse) assert.equal(run(p, NR[name], args), want, `coarse ${name}`);
  // x86_64's numbers mean other calls on arm64 and must not be decided as the x86_64 call:
  // 57 (x86 fork) is close, 59 (x86 execve) is pipe2, 2 (x86 open) is io_submit, 58 (x86 vfork) is
  // vhangup, which the hardening denies as what it is on arm64.
  const strict = arm64({});
  assert.equal(run(strict, 57, [3]), ALLOW, 'close');
  assert.equal(run(strict, 59, [0, 0]), ALLOW, 'pipe2');
  assert.equal(run(strict, 2, [0, 0, 0], AUDIT_ARCH_AARCH64), ALLOW, 'io_submit');
  assert.equal(run(strict, 58, []), EPERM, 'vhangup (hardening)');
  assert.equal(run(strict, NR.execve, []), EACCES, 'execve at 221');
});

test('arm64: every capability of the table, denied side and granted side, in the simulator', () => {
  assert.deepEqual(Object.keys(CASES).sort(), CAPABILITIES.map((c) => c.id).sort(), 'one block per capability row');
  for (const c of CAPABILITIES) {
    const { deny, grant, rows } = CASES[c.id];
    const denied = arm64(deny);
    const granted = arm64(grant);
    // the row's own syscalls that arm64 has are all exercised
    for (const s of c.syscalls) {
      if (ABSENT.has(s)) continue;
      assert.ok(rows.some((r) => r[0] === s), `${c.id}: no arm64 case for ${s}`);
    }
    for (const [name, args, whenDenied, whenGranted] of rows) {
      assert.ok(name in NR, name);
      const label = `${c.id} ${name}(${args.join(', ')})`;
      assert.equal(run(denied, NR[name], args), whenDenied, `${label} with ${JSON.stringify(deny)}`);
      assert.equal(run(granted, NR[name], args), whenGranted, `${label} with ${JSON.stringify(grant)}`);
    }
  }
  // workers is JS-only: the two programs are the same instructions
  assert.deepEqual(arm64({ workers: false }).seccomp.insns, arm64({ workers: true }).seccomp.insns);
});

test('arm64: net lists without the supervisor (Landlock ports) and with it (USER_NOTIF by number)', () => {
  const list = { net: { connect: ['127.0.0.1:5432'] } };
  const plain = arm64(list);
  assert.equal(run(plain, NR.socket, [AF_INET, SOCK_STREAM, 0]), ALLOW);
  assert.equal(run(plain, NR.socket, [AF_INET, SOCK_STREAM, IPPROTO_MPTCP]), EACCES, 'MPTCP would bypass Landlock');
  assert.equal(run(plain, NR.socket, [AF_INET, SOCK_RAW, 1]), EACCES);
  assert.equal(run(plain, NR.sendto, [3, 0, 1, MSG_FASTOPEN, 0, 16]), EACCES, 'TFO is an implicit connect');
  assert.equal(run(plain, NR.connect, [3, 0, 16]), ALLOW, 'connect destinations are Landlock\'s without the supervisor');

  const sup = arm64(list, 7, { supervisor: supervisorInputs });
  assert.ok(sup.supervisor, 'supervisor plan');
  assert.equal(run(sup, NR.connect, [3, 0, 16]), NOTIFY);
  assert.equal(run(sup, NR.bind, [3, 0, 16]), NOTIFY);
  assert.equal(run(sup, NR.sendmsg, [3, 0, 0]), NOTIFY);
  assert.equal(run(sup, NR.sendmmsg, [3, 0, 1, 0]), NOTIFY);
  assert.equal(run(sup, NR.sendto, [3, 0, 1, 0, 0, 0]), ALLOW, 'send(): no destination');
  assert.equal(run(sup, NR.sendto, [3, 0, 1, 0, 0x1000, 16]), NOTIFY, 'a destination');
  // the x86_64 numbers of connect (42) and sendto (44) are other calls on arm64: not trapped
  assert.equal(run(sup, 42, [0, 0]), ALLOW);
  assert.equal(run(sup, 44, [0, 0]), ALLOW);
  // a second listener would take over the supervisor's job: refused
  assert.equal(run(sup, NR.seccomp, [1, 8, 0]), EPERM);
});

test('arm64 prologue: only AUDIT_ARCH_AARCH64 runs; x86_64, i386 and 32-bit ARM audit arches are killed, with or without the x32 bit', () => {
  for (const policy of [{}, { net: true, fs: true, childProcess: true, addons: true }]) {
    const p = arm64(policy);
    for (const nr of [0, NR.openat, NR.execve, NR.close, 0x40000000 | NR.execve, 0x40000000 | 59]) {
      for (const foreign of [AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_ARM, 0]) {
        assert.equal(run(p, nr, [], foreign), KILL, `nr ${nr} arch 0x${foreign.toString(16)}`);
      }
    }
    // arm64 has no x32 ABI and no numbers above the table: the program has no x32 branch (such
    // a number matches no rule and the kernel answers ENOSYS itself); it does not alias execve.
    assert.equal(run(p, 0x40000000 | NR.execve, []), ALLOW);
  }
  // The x86_64 program, for contrast, refuses the x32 bit itself and kills an aarch64 audit arch.
  const x = compile(normalizePolicy({}, CTX), { ...target(7), arch: 'x86_64' });
  assert.equal(actionName(simulate(x.seccomp.insns, { nr: 0x40000000 | 59, arch: AUDIT_ARCH_X86_64 })), ENOSYS);
  assert.equal(actionName(simulate(x.seccomp.insns, { nr: NR.execve, arch: AUDIT_ARCH_AARCH64 })), KILL);
});

// A reference reading of one rule (independent of the code generator) for the sweep below.
function reference(rule, args) {
  const word = (a, hi) => {
    const v = BigInt.asUintN(64, BigInt(args[a] ?? 0));
    return Number(hi ? v >> 32n : v & 0xffffffffn);
  };
  for (const c of rule.cases) {
    const ok = c.when.every((cond) => {
      const w = (word(cond.arg, cond.hi) & (cond.mask ?? 0xffffffff)) >>> 0;
      const v = cond.value >>> 0;
      switch (cond.op) {
        case 'eq': return w === v;
        case 'ne': return w !== v;
        case 'any': return (w & v) !== 0;
        case 'none': return (w & v) === 0;
      }
      return false;
    });
    if (ok) return c.then;
  }
  return rule.otherwise;
}
const verdictName = (v) => (v.kind === 'allow' ? ALLOW : v.kind === 'errno' ? `ERRNO(${v.errno})` : v.kind === 'notify' ? NOTIFY : v.kind === 'log' ? 'LOG' : KILL);

test('arm64 sweep: every number 0..1023 decides exactly what its arm64 rule says (no stray x86_64 number in the program)', () => {
  const byNr = new Map(Object.entries(AARCH64_SYSCALLS).map(([n, nr]) => [nr, n]));
  for (const [policy, abi, extra] of [[{}, 7], [{ fs: { write: false } }, 0], [{ net: { connect: ['127.0.0.1:1'] } }, 7, { supervisor: supervisorInputs }], [{ mode: 'audit' }, 7]]) {
    const p = arm64(policy, abi, extra);
    const rules = new Map(p.seccomp.rules.map((r) => [r.syscall, r]));
    for (const args of [[], [1, 1, 1, 1, 1, 1], [0xffffffff, 0x800, 0x4, 0x802, 0, 0]]) {
      for (let nr = 0; nr < 1024; nr++) {
        const name = byNr.get(nr);
        const rule = name && rules.get(name);
        const want = rule ? verdictName(reference(rule, args)) : ALLOW;
        assert.equal(run(p, nr, args), want, `${JSON.stringify(policy)} nr ${nr} (${name ?? 'none'}) args ${args}`);
      }
    }
  }
});
