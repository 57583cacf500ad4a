'use strict';
// Pure tests of the labelled classic-BPF assembler: label resolution, long-jump trampolines,
// errors, encode/decode, disassembly.
const test = require('node:test');
const assert = require('node:assert/strict');

const {
  Asm, BpfError, encode, decode, disassemble, retErrno, actionName,
} = require('../../dist/compile/bpf/assembler');
const { simulate, check, decodeAction } = require('../../dist/compile/bpf/simulate');
const C = require('../../dist/compile/bpf/constants');

const X86 = C.AUDIT_ARCH_X86_64;
const ALLOW = C.SECCOMP_RET_ALLOW;

function verdict(prog, nr, args = [], arch = X86) {
  return simulate(prog, { nr, arch, args });
}

test('label resolution: jt/jf offsets are relative to the next instruction', () => {
  const prog = new Asm()
    .ldArch()                                   // 0
    .jeq(X86, null, 'kill')                     // 1 -> jt 0, jf to 6
    .ldNr()                                     // 2
    .jeq(1, 'deny', null)                       // 3 -> jt to 5
    .ret(ALLOW)                                 // 4
    .label('deny').ret(retErrno(C.EACCES))      // 5
    .label('kill').ret(C.SECCOMP_RET_KILL_PROCESS) // 6
    .assemble();
  assert.deepEqual(prog, [
    { code: 0x20, jt: 0, jf: 0, k: 4 },
    { code: 0x15, jt: 0, jf: 4, k: X86 },
    { code: 0x20, jt: 0, jf: 0, k: 0 },
    { code: 0x15, jt: 1, jf: 0, k: 1 },
    { code: 0x06, jt: 0, jf: 0, k: ALLOW },
    { code: 0x06, jt: 0, jf: 0, k: 0x0005000d },
    { code: 0x06, jt: 0, jf: 0, k: 0x80000000 },
  ]);
  check(prog);
  assert.equal(verdict(prog, 0), ALLOW);
  assert.equal(verdict(prog, 1), retErrno(13));
  assert.equal(verdict(prog, 0, [], C.AUDIT_ARCH_I386), C.SECCOMP_RET_KILL_PROCESS);
});

test('labels: ja, both sides to labels, jf defaulting to fall-through, label positions reported', () => {
  const a = new Asm()
    .ldNr()
    .jgt(10, 'big')              // jf defaults to null
    .jset(1, 'odd', 'even')
    .label('big').ja('allow')
    .label('odd').ret(retErrno(1))
    .label('even').ret(retErrno(2))
    .label('allow').ret(ALLOW);
  const { insns, labels, trampolines } = a.assembleWithLabels();
  assert.deepEqual(labels, { big: 3, odd: 4, even: 5, allow: 6 });
  assert.equal(trampolines, 0);
  assert.deepEqual(insns[1], { code: 0x25, jt: 1, jf: 0, k: 10 });
  assert.deepEqual(insns[2], { code: 0x45, jt: 1, jf: 2, k: 1 });
  assert.deepEqual(insns[3], { code: 0x05, jt: 0, jf: 0, k: 2 });
  check(insns);
  const cases = [[11, ALLOW], [1000, ALLOW], [3, retErrno(1)], [4, retErrno(2)], [10, retErrno(2)], [0, retErrno(2)]];
  for (const [nr, want] of cases) assert.equal(verdict(insns, nr), want, `nr ${nr}`);
  assert.equal(a.hasLabel('odd'), true);
  assert.equal(a.length, 7);
});

test('labels: a jump of exactly 255 is direct, 256 needs a trampoline', () => {
  for (const [pad, wantTramp] of [[254, 0], [255, 1]]) {
    const a = new Asm().ldNr().jeq(1, 't');
    for (let i = 0; i < pad; i++) a.add(0);
    a.ret(retErrno(1)).label('t').ret(ALLOW);
    const r = a.assembleWithLabels();
    assert.equal(r.trampolines, wantTramp, `pad ${pad}`);
    check(r.insns);
    assert.equal(verdict(r.insns, 1), ALLOW);
    assert.equal(verdict(r.insns, 2), retErrno(1));
  }
});

function farProgram({ jt, jf, pad }) {
  // ldNr; jeq 7 -> jt/jf; pad x nop; ret EPERM ; A: ret ALLOW ; pad x nop ; ret EACCES... see below
  const a = new Asm().ldNr().jeq(7, jt, jf);
  for (let i = 0; i < pad; i++) a.add(0);
  a.ret(retErrno(C.EPERM));
  a.label('A');
  for (let i = 0; i < pad; i++) a.or(0);
  a.ret(ALLOW);
  a.label('B').ret(retErrno(C.EACCES));
  return a;
}

test('trampolines: 300+ instructions between a branch and its targets, every side combination', () => {
  const variants = [
    { jt: 'A', jf: null, taken: ALLOW, notTaken: retErrno(C.EPERM), tramps: 1 },
    { jt: null, jf: 'A', taken: retErrno(C.EPERM), notTaken: ALLOW, tramps: 1 },
    { jt: 'A', jf: 'B', taken: ALLOW, notTaken: retErrno(C.EACCES), tramps: 2 },
    { jt: 'B', jf: 'A', taken: retErrno(C.EACCES), notTaken: ALLOW, tramps: 2 },
    { jt: 'B', jf: 'B', taken: retErrno(C.EACCES), notTaken: retErrno(C.EACCES), tramps: 1 },
  ];
  for (const v of variants) {
    const { insns, trampolines } = farProgram({ jt: v.jt, jf: v.jf, pad: 320 }).assembleWithLabels();
    assert.equal(trampolines, v.tramps, JSON.stringify(v));
    assert.ok(insns.length > 640);
    check(insns);
    for (const ins of insns) if (ins.code !== 0x05 && (ins.code & 7) === 5) assert.ok(ins.jt <= 255 && ins.jf <= 255);
    assert.equal(verdict(insns, 7), v.taken, `taken ${JSON.stringify(v)}`);
    assert.equal(verdict(insns, 8), v.notTaken, `not taken ${JSON.stringify(v)}`);
    // The long jump itself is an unconditional BPF_JA.
    assert.equal(insns[2].code, C.BPF_JMP | C.BPF_JA);
  }
});

test('trampolines: a long jeq chain to shared far targets (allow-list shape) gives the right verdict for every nr', () => {
  const allowed = [];
  for (let nr = 0; nr < 400; nr += 1) if (nr % 3 !== 0) allowed.push(nr);
  const a = new Asm().ldArch().jeq(X86, null, 'kill').ldNr();
  for (const nr of allowed) a.jeq(nr, 'allow');
  a.ret(retErrno(C.ENOSYS));
  a.label('allow').ret(ALLOW);
  a.label('kill').ret(C.SECCOMP_RET_KILL_PROCESS);
  const { insns, trampolines } = a.assembleWithLabels();
  assert.ok(trampolines > 0);
  assert.ok(insns.length <= C.BPF_MAXINSNS);
  check(insns);
  for (let nr = 0; nr < 420; nr++) {
    const want = nr < 400 && nr % 3 !== 0 ? ALLOW : retErrno(C.ENOSYS);
    assert.equal(verdict(insns, nr), want, `nr ${nr}`);
  }
  assert.equal(verdict(insns, 1, [], C.AUDIT_ARCH_AARCH64), C.SECCOMP_RET_KILL_PROCESS);
});

test('trampolines: layout iterates until stable (inserted trampolines push a near jump out of range)', () => {
  const a = new Asm().ldNr();
  a.jeq(1000, 'near');                 // ~250 away before trampolines, > 255 after
  for (let i = 0; i < 20; i++) a.jeq(2000 + i, 'far');   // each needs a trampoline
  for (let i = 0; i < 228; i++) a.add(0);
  a.ret(retErrno(C.EPERM));
  a.label('near').ret(retErrno(C.EACCES));
  for (let i = 0; i < 300; i++) a.add(0);
  a.ret(retErrno(C.EROFS));
  a.label('far').ret(ALLOW);
  const { insns, trampolines } = a.assembleWithLabels();
  assert.equal(trampolines, 21);
  check(insns);
  assert.equal(verdict(insns, 1000), retErrno(C.EACCES));
  for (let i = 0; i < 20; i++) assert.equal(verdict(insns, 2000 + i), ALLOW);
  assert.equal(verdict(insns, 5), retErrno(C.EPERM));
});

test('errors: duplicate, undefined and end-of-program labels, backward jumps, falling off the end, length', () => {
  assert.throws(() => new Asm().label('x').label('x'), BpfError);
  assert.throws(() => new Asm().ldNr().jeq(1, 'nowhere').ret(ALLOW).assemble(), /undefined label "nowhere"/);
  assert.throws(() => new Asm().ja('nowhere').ret(ALLOW).assemble(), /undefined label/);
  assert.throws(() => new Asm().label('top').ldNr().jeq(1, 'top').ret(ALLOW).assemble(), /backward jump/);
  assert.throws(() => new Asm().ldNr().label('self').jeq(1, null, 'self').ret(ALLOW).assemble(), /backward jump/);
  assert.throws(() => new Asm().ldNr().label('l').ja('l').ret(ALLOW).assemble(), /backward jump/);
  assert.throws(() => new Asm().ldNr().jeq(1, 'end').ret(ALLOW).label('end').assemble(), /end of the program/);
  assert.throws(() => new Asm().ldNr().assemble(), /fall off the end/);
  assert.throws(() => new Asm().ldNr().ret(ALLOW).ldNr().assemble(), /fall off the end/);
  assert.throws(() => new Asm().assemble(), /empty program/);
  const long = new Asm();
  for (let i = 0; i < 4097; i++) long.ret(ALLOW);
  assert.throws(() => long.assemble(), /too long/);
  const exact = new Asm();
  for (let i = 0; i < 4096; i++) exact.ret(ALLOW);
  assert.equal(exact.assemble().length, 4096);
  // Fits before trampolines, not after.
  const grows = new Asm().ldNr();
  for (let i = 0; i < 300; i++) grows.jeq(i, 'far');
  for (let i = 0; i < 3790; i++) grows.add(0);
  grows.ret(retErrno(1)).label('far').ret(ALLOW);
  assert.equal(grows.length, 4093);
  assert.throws(() => grows.assemble(), /too long.*trampolines/);
});

test('errors: operands are range-checked', () => {
  assert.throws(() => new Asm().ldAbs(2), RangeError);
  assert.throws(() => new Asm().ldAbs(64), RangeError);
  assert.throws(() => new Asm().ldArgLo(6), RangeError);
  assert.throws(() => new Asm().ldArgHi(-1), RangeError);
  assert.throws(() => new Asm().jeq(2 ** 32, null), RangeError);
  assert.throws(() => new Asm().jeq(1.5, null), RangeError);
  assert.throws(() => new Asm().div(0), RangeError);
  assert.throws(() => new Asm().lsh(32), RangeError);
  assert.throws(() => new Asm().st(16), RangeError);
  assert.throws(() => new Asm().ja(null), TypeError);
  assert.throws(() => new Asm().raw({ code: 0x15, jt: 0, jf: 0, k: 0 }), BpfError);
  assert.throws(() => retErrno(70000), RangeError);
  // Negative 32-bit values are taken as their u32 bit pattern.
  assert.equal(new Asm().jeq(-1, null).ret(0).assemble()[0].k, 0xffffffff);
  assert.deepEqual(new Asm().raw({ code: 0x00, jt: 0, jf: 0, k: 9 }).retA().assemble()[0], { code: 0, jt: 0, jf: 0, k: 9 });
});

test('argument loads use the seccomp_data offsets (low word 16+8i, high word 20+8i)', () => {
  const a = new Asm();
  for (let i = 0; i < 6; i++) a.ldArgLo(i).ldArgHi(i);
  const ks = a.ret(ALLOW).assemble().slice(0, 12).map((x) => x.k);
  assert.deepEqual(ks, [16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60]);
});

test('encode/decode: 8 little-endian bytes per instruction, round trip', () => {
  const prog = farProgram({ jt: 'A', jf: 'B', pad: 300 }).assemble();
  const buf = encode(prog);
  assert.ok(Buffer.isBuffer(buf));
  assert.equal(buf.length, prog.length * 8);
  assert.deepEqual(decode(buf), prog);
  assert.deepEqual(decode(new Uint8Array(buf)), prog);

  const one = encode([{ code: 0x15, jt: 1, jf: 2, k: 0xc000003e }, { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }]);
  assert.equal(one.toString('hex'), '150001023e0000c0' + '060000000000ff7f');
  // decode honours byteOffset of a view into a larger buffer
  const big = Buffer.concat([Buffer.alloc(3), one]);
  assert.deepEqual(decode(big.subarray(3)), [{ code: 0x15, jt: 1, jf: 2, k: 0xc000003e }, { code: 6, jt: 0, jf: 0, k: 0x7fff0000 }]);
  assert.throws(() => decode(new Uint8Array(7)), /multiple of 8/);
  assert.throws(() => encode([{ code: 0x10000, jt: 0, jf: 0, k: 0 }]), RangeError);
  assert.throws(() => encode([{ code: 0x15, jt: 256, jf: 0, k: 0 }]), RangeError);
});

test('retErrno and actionName', () => {
  assert.equal(retErrno(13), 0x0005000d);
  assert.equal(retErrno(0), 0x00050000);
  const names = [
    [C.SECCOMP_RET_ALLOW, 'ALLOW'], [C.SECCOMP_RET_KILL_PROCESS, 'KILL_PROCESS'], [0, 'KILL_THREAD'],
    [retErrno(38), 'ERRNO(38)'], [retErrno(0), 'ERRNO(0)'], [C.SECCOMP_RET_TRAP, 'TRAP'], [C.SECCOMP_RET_TRAP | 5, 'TRAP(5)'],
    [C.SECCOMP_RET_TRACE | 7, 'TRACE(7)'], [C.SECCOMP_RET_LOG, 'LOG'], [C.SECCOMP_RET_USER_NOTIF, 'USER_NOTIF'],
    [0x12340000, 'UNKNOWN(0x12340000)'],
  ];
  for (const [v, n] of names) assert.equal(actionName(v), n);
  assert.deepEqual(decodeAction(retErrno(13)), { action: 'ERRNO', data: 13 });
});

test('disassemble: stable text, absolute jump targets, syscall names where A holds nr', () => {
  const prog = new Asm()
    .ldArch()
    .jeq(X86, null, 'kill')
    .ldNr()
    .jeq(257, null, 'other')
    .ldArgLo(2)
    .jset(0x643, 'deny', 'allow')
    .label('other').jge(C.X32_SYSCALL_BIT, 'nosys')
    .and(0xf)
    .jeq(41, 'deny')                 // A no longer holds nr: no name
    .ja('allow')
    .label('nosys').ret(retErrno(C.ENOSYS))
    .label('deny').ret(retErrno(C.EACCES))
    .label('allow').ret(ALLOW)
    .label('kill').ret(C.SECCOMP_RET_KILL_PROCESS)
    .assemble();
  const text = disassemble(prog, { syscallNames: { 257: 'openat', 41: 'socket', [C.X32_SYSCALL_BIT]: 'x32?' } });
  assert.equal(text, [
    '0000: ld [4]',
    '0001: jeq #0xc000003e jt 0002 jf 0013',
    '0002: ld [0]',
    '0003: jeq #0x101 jt 0004 jf 0006  ; openat',
    '0004: ld [32]',
    '0005: jset #0x643 jt 0011 jf 0012',
    '0006: jge #0x40000000 jt 0010 jf 0007  ; x32?',
    '0007: and #0xf',
    '0008: jeq #0x29 jt 0011 jf 0009',
    '0009: ja 0012',
    '0010: ret ERRNO(38)',
    '0011: ret ERRNO(13)',
    '0012: ret ALLOW',
    '0013: ret KILL_PROCESS',
  ].join('\n'));
  assert.equal(disassemble(prog), text.replace(/ {2}; .*$/gm, ''));
});

test('disassemble: every instruction form', () => {
  const insns = [
    { code: 0x00, jt: 0, jf: 0, k: 0x40 },   // ld #imm
    { code: 0x01, jt: 0, jf: 0, k: 3 },      // ldx #imm
    { code: 0x60, jt: 0, jf: 0, k: 2 },      // ld M[2]
    { code: 0x61, jt: 0, jf: 0, k: 2 },      // ldx M[2]
    { code: 0x80, jt: 0, jf: 0, k: 0 },      // ld #len
    { code: 0x81, jt: 0, jf: 0, k: 0 },      // ldx #len
    { code: 0x28, jt: 0, jf: 0, k: 12 },     // ldh [12]
    { code: 0x30, jt: 0, jf: 0, k: 12 },     // ldb [12]
    { code: 0x40, jt: 0, jf: 0, k: 1 },      // ld [x+1]
    { code: 0xb1, jt: 0, jf: 0, k: 14 },     // ldxb 4*([14]&0xf)
    { code: 0x02, jt: 0, jf: 0, k: 1 },      // st
    { code: 0x03, jt: 0, jf: 0, k: 1 },      // stx
    { code: 0x04, jt: 0, jf: 0, k: 1 },      // add #
    { code: 0x0c, jt: 0, jf: 0, k: 0 },      // add x
    { code: 0x84, jt: 0, jf: 0, k: 0 },      // neg
    { code: 0x94, jt: 0, jf: 0, k: 3 },      // mod #
    { code: 0xac, jt: 0, jf: 0, k: 0 },      // xor x
    { code: 0x1d, jt: 0, jf: 1, k: 0 },      // jeq x
    { code: 0x07, jt: 0, jf: 0, k: 0 },      // tax
    { code: 0x87, jt: 0, jf: 0, k: 0 },      // txa
    { code: 0x16, jt: 0, jf: 0, k: 0 },      // ret a
    { code: 0xff, jt: 1, jf: 2, k: 3 },      // unknown
  ];
  assert.deepEqual(disassemble(insns).split('\n').map((l) => l.slice(6)), [
    'ld #0x40', 'ldx #0x3', 'ld M[2]', 'ldx M[2]', 'ld #len', 'ldx #len', 'ldh [12]', 'ldb [12]', 'ld [x+1]',
    'ldxb 4*([14]&0xf)', 'st M[1]', 'stx M[1]', 'add #0x1', 'add x', 'neg', 'mod #0x3', 'xor x',
    'jeq x jt 0018 jf 0019', 'tax', 'txa', 'ret a', '.insn code 0x00ff jt 1 jf 2 k 0x3',
  ]);
});

test('end to end: the §3.1 deny-list shape on x86_64', () => {
  const EACCES = retErrno(C.EACCES);
  const ENOSYS = retErrno(C.ENOSYS);
  const prog = new Asm()
    .ldArch().jeq(X86, null, 'kill')
    .ldNr().jge(C.X32_SYSCALL_BIT, 'enosys')
    .jeq(9, 'mmap').jeq(41, 'socket').jeq(56, 'clone').jeq(435, 'enosys')
    .jeq(57, 'eacces').jeq(58, 'eacces').jeq(59, 'eacces').jeq(101, 'eperm')
    .ret(ALLOW)
    .label('mmap').ldArgLo(2).jset(4, null, 'allow').ldArgLo(3).jset(0x20, 'allow', 'eacces')
    .label('socket').ldArgLo(0).jeq(1, 'allow').jeq(2, 'inet').jeq(10, 'inet').ja('eacces')
    .label('inet').ldArgLo(1).and(0xf).jeq(1, null, 'eacces').ldArgLo(2).jeq(0, 'allow').jeq(6, 'allow', 'eacces')
    .label('clone').ldArgLo(0).jset(0x10000, 'allow', 'eacces')
    .label('allow').ret(ALLOW)
    .label('eacces').ret(EACCES)
    .label('eperm').ret(retErrno(C.EPERM))
    .label('enosys').ret(ENOSYS)
    .label('kill').ret(C.SECCOMP_RET_KILL_PROCESS)
    .assemble();
  check(prog);
  const cases = [
    ['read', 0, [], ALLOW],
    ['i386 getpid', 20, [], C.SECCOMP_RET_KILL_PROCESS, C.AUDIT_ARCH_I386],
    ['x32 getpid', C.X32_SYSCALL_BIT | 39, [], ENOSYS],
    ['clone3', 435, [], ENOSYS],
    ['fork', 57, [], EACCES],
    ['execve', 59, [], EACCES],
    ['ptrace', 101, [], retErrno(C.EPERM)],
    ['mmap anon rwx', 9, [0, 4096, 7, 0x22, -1, 0], ALLOW],
    ['mmap file r-x', 9, [0, 4096, 5, 0x802, 3, 0], EACCES],
    ['mmap file r--', 9, [0, 4096, 1, 0x2, 3, 0], ALLOW],
    ['socket unix', 41, [1, 1, 0], ALLOW],
    ['socket tcp nonblock|cloexec', 41, [2, 0x80801, 0], ALLOW],
    ['socket tcp6 IPPROTO_TCP', 41, [10, 1, 6], ALLOW],
    ['socket udp', 41, [2, 2, 0], EACCES],
    ['socket mptcp', 41, [2, 1, 262], EACCES],
    ['socket packet', 41, [17, 3, 0], EACCES],
    ['socket: high bits of domain ignored', 41, [0x100000001n, 1, 0], ALLOW],
    ['clone thread', 56, [0x3d0f00], ALLOW],
    ['clone process', 56, [0x1200011], EACCES],
  ];
  for (const [name, nr, args, want, arch] of cases) {
    assert.equal(simulate(prog, { nr, arch: arch ?? X86, args }), want, name);
  }
});
