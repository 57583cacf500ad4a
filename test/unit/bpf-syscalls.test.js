'use strict';
// Pure tests of the per-arch syscall tables and the Arch helpers.
const test = require('node:test');
const assert = require('node:assert/strict');

const { X86_64_SYSCALLS } = require('../../dist/compile/bpf/syscalls/x86_64');
const { AARCH64_SYSCALLS } = require('../../dist/compile/bpf/syscalls/aarch64');
const {
  ARCHES, X86_64, AARCH64, archByName, nodeArchToArch, syscallNumber, syscallName, syscallNames,
} = require('../../dist/compile/bpf/arch');
const bpf = require('../../dist/compile/bpf');
const C = require('../../dist/compile/bpf/constants');

const KNOWN_X86_64 = {
  read: 0, write: 1, open: 2, close: 3, mmap: 9, mprotect: 10, socket: 41, connect: 42, sendto: 44,
  clone: 56, fork: 57, vfork: 58, execve: 59, ptrace: 101, personality: 135, chroot: 161, mount: 165,
  openat: 257, unshare: 272, setns: 308, process_vm_readv: 310, seccomp: 317, memfd_create: 319,
  bpf: 321, execveat: 322, userfaultfd: 323, statx: 332, rseq: 334,
  pidfd_send_signal: 424, io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427, open_tree: 428,
  fsopen: 430, pidfd_open: 434, clone3: 435, close_range: 436, openat2: 437, pidfd_getfd: 438,
  faccessat2: 439, epoll_pwait2: 441, landlock_create_ruleset: 444, landlock_add_rule: 445,
  landlock_restrict_self: 446, memfd_secret: 447, futex_waitv: 449, set_mempolicy_home_node: 450,
};

const KNOWN_AARCH64 = {
  io_setup: 0, getcwd: 17, fcntl: 25, ioctl: 29, mknodat: 33, mkdirat: 34, unlinkat: 35, renameat: 38,
  umount2: 39, mount: 40, statfs: 43, truncate: 45, faccessat: 48, chroot: 51, openat: 56, close: 57,
  pipe2: 59, lseek: 62, read: 63, write: 64, newfstatat: 79, fstat: 80, exit_group: 94, unshare: 97,
  futex: 98, ptrace: 117, kill: 129, getrlimit: 163, prctl: 167, getpid: 172, socket: 198, bind: 200,
  connect: 203, sendto: 206, sendmsg: 211, munmap: 215, keyctl: 219, clone: 220, execve: 221, mmap: 222,
  fadvise64: 223, mprotect: 226, accept4: 242, wait4: 260, prlimit64: 261, setns: 268, sendmmsg: 269,
  process_vm_readv: 270, renameat2: 276, seccomp: 277, getrandom: 278, memfd_create: 279, bpf: 280,
  execveat: 281, userfaultfd: 282, statx: 291, rseq: 293, kexec_file_load: 294,
  pidfd_send_signal: 424, io_uring_setup: 425, pidfd_open: 434, clone3: 435, openat2: 437,
  pidfd_getfd: 438, landlock_create_ruleset: 444, landlock_add_rule: 445, landlock_restrict_self: 446,
  memfd_secret: 447, process_mrelease: 448, futex_waitv: 449, set_mempolicy_home_node: 450,
};

// Added by hand on top of the 6.1 headers: the same numbers on both tables.
const NEWER = {
  cachestat: 451, fchmodat2: 452, map_shadow_stack: 453, futex_wake: 454, futex_wait: 455,
  futex_requeue: 456, statmount: 457, listmount: 458, lsm_get_self_attr: 459, lsm_set_self_attr: 460,
  lsm_list_modules: 461, mseal: 462, setxattrat: 463, getxattrat: 464, listxattrat: 465,
  removexattrat: 466, open_tree_attr: 467, file_getattr: 468, file_setattr: 469,
};

const TABLES = [['x86_64', X86_64_SYSCALLS, KNOWN_X86_64], ['aarch64', AARCH64_SYSCALLS, KNOWN_AARCH64]];

test('known syscall numbers', () => {
  for (const [arch, table, known] of TABLES) {
    for (const [name, nr] of Object.entries({ ...known, ...NEWER })) {
      assert.equal(table[name], nr, `${arch} ${name}`);
    }
  }
});

test('aarch64 has the generic table only: no legacy calls', () => {
  const legacy = ['open', 'creat', 'fork', 'vfork', 'stat', 'lstat', 'access', 'pipe', 'poll', 'select',
    'dup2', 'mkdir', 'rmdir', 'unlink', 'rename', 'link', 'symlink', 'chmod', 'chown', 'lchown',
    'readlink', 'utime', 'utimes', 'mknod', 'epoll_create', 'epoll_wait', 'eventfd', 'inotify_init',
    'signalfd', 'time', 'alarm', 'pause', 'getdents', 'uselib', 'arch_prctl', 'iopl', 'modify_ldt',
    'sync_file_range2', 'fcntl64', 'mmap2', 'fstatat64', 'clock_gettime64', 'arch_specific_syscall', 'syscalls'];
  for (const name of legacy) {
    assert.equal(Object.prototype.hasOwnProperty.call(AARCH64_SYSCALLS, name), false, name);
  }
  for (const name of ['open', 'creat', 'fork', 'vfork', 'stat', 'access', 'pipe', 'arch_prctl']) {
    assert.equal(typeof X86_64_SYSCALLS[name], 'number', `x86_64 ${name}`);
  }
});

test('tables: no duplicate numbers, sane names and values, expected size', () => {
  for (const [arch, table] of TABLES) {
    const seen = new Map();
    for (const [name, nr] of Object.entries(table)) {
      assert.match(name, /^[a-z_][a-z0-9_]*$/, `${arch} name ${name}`);
      assert.ok(Number.isInteger(nr) && nr >= 0 && nr < 1024, `${arch} ${name} = ${nr}`);
      assert.ok(!seen.has(nr), `${arch}: ${name} and ${seen.get(nr)} share ${nr}`);
      seen.set(nr, name);
    }
    // 424..469 are all assigned on both (the generic and x86_64 tables were synchronised at 424).
    for (let nr = 424; nr <= 469; nr++) assert.ok(seen.has(nr), `${arch} has ${nr}`);
    assert.ok(Object.isFrozen(table));
  }
  // 0..334 + 424..469 on x86_64; 0..243 + 260..294 + 424..469 on aarch64.
  assert.equal(Object.keys(X86_64_SYSCALLS).length, 335 + 46);
  assert.equal(Object.keys(AARCH64_SYSCALLS).length, 244 + 35 + 46);
  for (let nr = 244; nr < 260; nr++) assert.equal(syscallName(AARCH64, nr), undefined, `aarch64 arch-specific ${nr}`);
  for (let nr = 295; nr < 424; nr++) assert.equal(syscallName(AARCH64, nr), undefined, `aarch64 hole ${nr}`);
  for (let nr = 335; nr < 424; nr++) assert.equal(syscallName(X86_64, nr), undefined, `x86_64 hole ${nr}`);
});

test('arches: lookup by name and by Node process.arch, audit tokens, x32', () => {
  assert.deepEqual(ARCHES.map((a) => a.name), ['x86_64', 'aarch64']);
  assert.equal(archByName('x86_64'), X86_64);
  assert.equal(archByName('aarch64'), AARCH64);
  assert.equal(archByName('x64'), undefined);
  assert.equal(archByName('arm'), undefined);
  assert.equal(nodeArchToArch('x64'), X86_64);
  assert.equal(nodeArchToArch('arm64'), AARCH64);
  for (const other of ['ia32', 'arm', 'riscv64', 'ppc64', 's390x', 'loong64', 'x86_64', '']) {
    assert.equal(nodeArchToArch(other), undefined, other);
  }
  assert.equal(X86_64.auditArch, 0xc000003e);
  assert.equal(AARCH64.auditArch, 0xc00000b7);
  assert.equal(X86_64.x32, true);
  assert.equal(AARCH64.x32, false);
  assert.equal(X86_64.syscalls, X86_64_SYSCALLS);
  assert.equal(AARCH64.syscalls, AARCH64_SYSCALLS);
});

test('syscallNumber / syscallName', () => {
  assert.equal(syscallNumber(X86_64, 'socket'), 41);
  assert.equal(syscallNumber('aarch64', 'socket'), 198);
  assert.equal(syscallNumber(AARCH64, 'open'), undefined);
  assert.equal(syscallNumber(AARCH64, 'fork'), undefined);
  // Inherited Object properties are not syscalls.
  for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
    assert.equal(syscallNumber(X86_64, name), undefined, name);
  }
  assert.throws(() => syscallNumber('mips', 'read'), RangeError);
  assert.equal(syscallName(X86_64, 59), 'execve');
  assert.equal(syscallName('aarch64', 221), 'execve');
  assert.equal(syscallName(X86_64, 9999), undefined);
  assert.equal(syscallNames(X86_64)[435], 'clone3');
  assert.equal(syscallNames(X86_64), syscallNames('x86_64'));
});

test('index re-exports the whole bpf API', () => {
  for (const name of ['Asm', 'encode', 'decode', 'disassemble', 'retErrno', 'actionName', 'simulate', 'check',
    'decodeAction', 'ARCHES', 'archByName', 'nodeArchToArch', 'syscallNumber', 'X86_64_SYSCALLS',
    'AARCH64_SYSCALLS', 'SECCOMP_RET_ALLOW', 'BPF_MAXINSNS', 'AUDIT_ARCH_X86_64', 'EACCES']) {
    assert.ok(name in bpf, name);
  }
});

test('the same policy compiles per arch with that arch\'s numbers', () => {
  for (const arch of ARCHES) {
    const deny = ['socket', 'connect', 'execve', 'ptrace', 'open', 'fork'];
    const a = new bpf.Asm().ldArch().jeq(arch.auditArch, null, 'kill').ldNr();
    if (arch.x32) a.jge(C.X32_SYSCALL_BIT, 'enosys');
    for (const name of deny) {
      const nr = syscallNumber(arch, name);
      if (nr !== undefined) a.jeq(nr, 'deny');
    }
    a.ret(C.SECCOMP_RET_ALLOW)
      .label('deny').ret(bpf.retErrno(C.EACCES))
      .label('kill').ret(C.SECCOMP_RET_KILL_PROCESS);
    a.label('enosys').ret(bpf.retErrno(C.ENOSYS)); // only referenced where x32 exists
    const prog = a.assemble();
    bpf.check(prog);
    const run = (nr, auditArch = arch.auditArch) => bpf.simulate(prog, { nr, arch: auditArch });
    assert.equal(run(syscallNumber(arch, 'connect')), bpf.retErrno(C.EACCES), arch.name);
    assert.equal(run(syscallNumber(arch, 'read')), C.SECCOMP_RET_ALLOW, arch.name);
    const other = ARCHES.find((o) => o !== arch);
    assert.equal(run(syscallNumber(arch, 'read'), other.auditArch), C.SECCOMP_RET_KILL_PROCESS, arch.name);
    if (arch.x32) assert.equal(run(C.X32_SYSCALL_BIT | syscallNumber(arch, 'read')), bpf.retErrno(C.ENOSYS));
  }
});
