'use strict';
// Pure tests of the classic-BPF seccomp interpreter and of check() (the kernel's load-time rules).
// Programs are written as raw instructions so the simulator is tested independently of the assembler.
const test = require('node:test');
const assert = require('node:assert/strict');

const {
  simulate, simulateTrace, decodeAction, check, seccompDataBytes,
} = require('../../dist/compile/bpf/simulate');
const { BpfError } = require('../../dist/compile/bpf/assembler');
const C = require('../../dist/compile/bpf/constants');

const I = (code, k = 0, jt = 0, jf = 0) => ({ code, jt, jf, k });
// opcodes
const LD_ABS = 0x20, LD_IMM = 0x00, LDX_IMM = 0x01, LD_MEM = 0x60, LDX_MEM = 0x61, LD_LEN = 0x80, LDX_LEN = 0x81;
const ST = 0x02, STX = 0x03, TAX = 0x07, TXA = 0x87, RET_K = 0x06, RET_A = 0x16, JA = 0x05;
const ALU = (op, x = false) => 0x04 | op | (x ? 0x08 : 0);
const JMP = (op, x = false) => 0x05 | op | (x ? 0x08 : 0);
const RETA = I(RET_A);

const D = { nr: 0, arch: C.AUDIT_ARCH_X86_64 };
const run = (prog, data = D) => simulate(prog, data);

test('opcode constants have the kernel values', () => {
  assert.equal(C.BPF_LD | C.BPF_W | C.BPF_ABS, 0x20);
  assert.equal(C.BPF_JMP | C.BPF_JEQ | C.BPF_K, 0x15);
  assert.equal(C.BPF_JMP | C.BPF_JSET | C.BPF_X, 0x4d);
  assert.equal(C.BPF_RET | C.BPF_K, 0x06);
  assert.equal(C.BPF_RET | C.BPF_A, 0x16);
  assert.equal(C.BPF_MISC | C.BPF_TXA, 0x87);
  assert.equal(C.BPF_ALU | C.BPF_NEG, 0x84);
  assert.equal(C.BPF_LDX | C.BPF_MEM, 0x61);
  assert.equal(C.SECCOMP_RET_ERRNO | 13, 0x0005000d);
  assert.equal(C.SECCOMP_FILTER_FLAG_TSYNC | C.SECCOMP_FILTER_FLAG_TSYNC_ESRCH | C.SECCOMP_FILTER_FLAG_SPEC_ALLOW, 21);
  assert.equal(C.SECCOMP_FILTER_FLAG_NEW_LISTENER, 8);
  assert.equal(C.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, 32);
  assert.equal(C.seccompArgLoOffset(5), 56);
  assert.equal(C.seccompArgHiOffset(5), 60);
});

test('loads: seccomp_data words in little-endian order, 64-bit fields split low/high', () => {
  const data = {
    nr: 257,
    arch: C.AUDIT_ARCH_AARCH64,
    instructionPointer: 0x00007fff12345678n,
    args: [0x1122334455667788n, -100, 0xffffffff, 2 ** 40 + 5, -1n, 0],
  };
  const cases = [
    [0, 257], [4, 0xc00000b7], [8, 0x12345678], [12, 0x00007fff],
    [16, 0x55667788], [20, 0x11223344],
    [24, 0xffffff9c], [28, 0xffffffff],          // -100 is sign-extended to 64 bits
    [32, 0xffffffff], [36, 0],
    [40, 5], [44, 0x100],
    [48, 0xffffffff], [52, 0xffffffff],
    [56, 0], [60, 0],
  ];
  for (const [off, want] of cases) assert.equal(run([I(LD_ABS, off), RETA], data), want, `offset ${off}`);
  const bytes = seccompDataBytes(data);
  assert.equal(bytes.length, 64);
  assert.deepEqual([...bytes.subarray(0, 8)], [1, 1, 0, 0, 0xb7, 0, 0, 0xc0]);
  // Missing args and instruction pointer read as 0; a negative nr is its u32 pattern.
  assert.equal(run([I(LD_ABS, 60), RETA], { nr: -1, arch: 0 }), 0);
  assert.equal(run([I(LD_ABS, 0), RETA], { nr: -1, arch: 0 }), 0xffffffff);
  assert.throws(() => run([RETA], { nr: 0, arch: 0, args: [1.5] }), RangeError);
  assert.throws(() => run([RETA], { nr: 0, arch: 0, args: [2 ** 60] }), RangeError);
  assert.throws(() => run([RETA], { nr: 0, arch: 0, args: [1n << 64n] }), RangeError);
  assert.throws(() => run([RETA], { nr: 0, arch: 0, args: [0, 0, 0, 0, 0, 0, 0] }), RangeError);
});

test('loads: immediate, length, scratch memory, X transfers', () => {
  const cases = [
    ['ld #k', [I(LD_IMM, 0xdeadbeef), RETA], 0xdeadbeef],
    ['ld #len', [I(LD_LEN), RETA], 64],
    ['ldx #len; txa', [I(LDX_LEN), I(TXA), RETA], 64],
    ['ldx #k; txa', [I(LDX_IMM, 7), I(TXA), RETA], 7],
    ['st; ld M', [I(LD_IMM, 42), I(ST, 3), I(LD_IMM, 0), I(LD_MEM, 3), RETA], 42],
    ['stx; ldx M; txa', [I(LDX_IMM, 9), I(STX, 15), I(LDX_IMM, 0), I(LDX_MEM, 15), I(TXA), RETA], 9],
    ['tax keeps A', [I(LD_IMM, 5), I(TAX), RETA], 5],
    ['tax; ld; txa', [I(LD_IMM, 5), I(TAX), I(LD_IMM, 6), I(TXA), RETA], 5],
    ['A and X start at 0', [I(TXA), RETA], 0],
    ['ret #k ignores A', [I(LD_IMM, 5), I(RET_K, C.SECCOMP_RET_ALLOW)], C.SECCOMP_RET_ALLOW],
  ];
  for (const [name, prog, want] of cases) {
    check(prog);
    assert.equal(run(prog), want, name);
  }
});

test('ALU: every operation, K and X forms, 32-bit wraparound', () => {
  // [op, a, b, expected]
  const cases = [
    [C.BPF_ADD, 3, 4, 7],
    [C.BPF_ADD, 0xffffffff, 2, 1],
    [C.BPF_ADD, 0x80000000, 0x80000000, 0],
    [C.BPF_SUB, 10, 3, 7],
    [C.BPF_SUB, 0, 1, 0xffffffff],
    [C.BPF_MUL, 6, 7, 42],
    [C.BPF_MUL, 0x10000, 0x10000, 0],
    [C.BPF_MUL, 0xffffffff, 0xffffffff, 1],
    [C.BPF_MUL, 0x12345678, 0x9abcdef, Number((0x12345678n * 0x9abcdefn) & 0xffffffffn)],
    [C.BPF_DIV, 7, 2, 3],
    [C.BPF_DIV, 0xffffffff, 1, 0xffffffff],
    [C.BPF_DIV, 0xffffffff, 0x10, 0x0fffffff],
    [C.BPF_MOD, 17, 5, 2],
    [C.BPF_MOD, 0xffffffff, 10, 5],
    [C.BPF_AND, 0xf0f0, 0x0ff0, 0x00f0],
    [C.BPF_AND, 0x80080801, 0xf, 1],
    [C.BPF_OR, 0xf000, 0x000f, 0xf00f],
    [C.BPF_OR, 0x80000000, 1, 0x80000001],
    [C.BPF_XOR, 0xffffffff, 0x0f0f0f0f, 0xf0f0f0f0],
    [C.BPF_LSH, 1, 31, 0x80000000],
    [C.BPF_LSH, 0x80000001, 1, 2],
    [C.BPF_RSH, 0x80000000, 31, 1],        // logical, not arithmetic
    [C.BPF_RSH, 0xffffffff, 4, 0x0fffffff],
  ];
  for (const [op, a, b, want] of cases) {
    const k = [I(LD_IMM, a), I(ALU(op), b), RETA];
    const x = [I(LD_IMM, a), I(LDX_IMM, b), I(ALU(op, true)), RETA];
    assert.equal(run(k), want, `op 0x${op.toString(16)} #${b} on ${a}`);
    assert.equal(run(x), want, `op 0x${op.toString(16)} x=${b} on ${a}`);
  }
  assert.equal(run([I(LD_IMM, 1), I(ALU(C.BPF_NEG)), RETA]), 0xffffffff);
  assert.equal(run([I(LD_IMM, 0), I(ALU(C.BPF_NEG)), RETA]), 0);
  assert.equal(run([I(LD_IMM, 0x80000000), I(ALU(C.BPF_NEG)), RETA]), 0x80000000);
  // A register shift amount is masked to 5 bits.
  assert.equal(run([I(LD_IMM, 1), I(LDX_IMM, 33), I(ALU(C.BPF_LSH, true)), RETA]), 2);
  // Division by X == 0 at run time ends the program with 0 (SECCOMP_RET_KILL_THREAD).
  assert.equal(run([I(LD_IMM, 5), I(LDX_IMM, 0), I(ALU(C.BPF_DIV, true)), I(RET_K, C.SECCOMP_RET_ALLOW)]), 0);
  assert.equal(run([I(LD_IMM, 5), I(LDX_IMM, 0), I(ALU(C.BPF_MOD, true)), I(RET_K, C.SECCOMP_RET_ALLOW)]), 0);
});

test('jumps: JEQ/JGT/JGE/JSET (K and X) both ways, unsigned, offsets relative to the next instruction', () => {
  const T = 0x7fff0001, F = 0x7fff0002;
  // [op, A, operand, taken]
  const cases = [
    [C.BPF_JEQ, 5, 5, true], [C.BPF_JEQ, 5, 6, false],
    [C.BPF_JEQ, 0xffffffff, 0xffffffff, true],
    [C.BPF_JGT, 6, 5, true], [C.BPF_JGT, 5, 5, false], [C.BPF_JGT, 4, 5, false],
    [C.BPF_JGT, 0xffffffff, 1, true],       // unsigned: 0xffffffff is not -1
    [C.BPF_JGT, 1, 0x80000000, false],
    [C.BPF_JGE, 5, 5, true], [C.BPF_JGE, 4, 5, false], [C.BPF_JGE, 0x40000027, 0x40000000, true],
    [C.BPF_JSET, 0x643, 0x40, true], [C.BPF_JSET, 0x600, 0x43, false], [C.BPF_JSET, 0x80000000, 0x80000000, true],
    [C.BPF_JSET, 0, 0xffffffff, false],
  ];
  for (const [op, a, b, taken] of cases) {
    // 0: ld #a ; 1: jmp jt 1 jf 2 ; 2: ret 0 (never) ; 3: ret T ; 4: ret F
    const k = [I(LD_IMM, a), I(JMP(op), b, 1, 2), I(RET_K, 0), I(RET_K, T), I(RET_K, F)];
    const x = [I(LD_IMM, a), I(LDX_IMM, b), I(JMP(op, true), 0, 1, 2), I(RET_K, 0), I(RET_K, T), I(RET_K, F)];
    check(k); check(x);
    assert.equal(run(k), taken ? T : F, `op 0x${op.toString(16)} ${a} ? #${b}`);
    assert.equal(run(x), taken ? T : F, `op 0x${op.toString(16)} ${a} ? x=${b}`);
  }
  // jt 0 / jf 0 mean "the next instruction".
  assert.equal(run([I(JMP(C.BPF_JEQ), 0, 0, 1), I(RET_K, T), I(RET_K, F)]), T);
  assert.equal(run([I(JMP(C.BPF_JEQ), 1, 0, 1), I(RET_K, T), I(RET_K, F)]), F);
  // ja k skips k instructions.
  const ja = [I(JA, 2), I(RET_K, 1), I(RET_K, 2), I(RET_K, 3)];
  check(ja);
  assert.equal(run(ja), 3);
  assert.equal(run([I(JA, 0), I(RET_K, 1)]), 1);
  const t = simulateTrace(ja, D);
  assert.deepEqual(t, { ret: 3, path: [0, 3] });
});

test('a 64-bit argument check needs both halves', () => {
  // allow iff args[0] == 0x100000002 (low 2, high 1)
  const prog = [
    I(LD_ABS, 16), I(JMP(C.BPF_JEQ), 2, 0, 3),
    I(LD_ABS, 20), I(JMP(C.BPF_JEQ), 1, 0, 1),
    I(RET_K, C.SECCOMP_RET_ALLOW),
    I(RET_K, C.SECCOMP_RET_ERRNO | C.EPERM),
  ];
  check(prog);
  const ALLOW = C.SECCOMP_RET_ALLOW, DENY = C.SECCOMP_RET_ERRNO | C.EPERM;
  for (const [arg, want] of [[0x100000002n, ALLOW], [2, DENY], [0x200000002n, DENY], [0x100000003n, DENY], [2 ** 32 + 2, ALLOW]]) {
    assert.equal(run(prog, { ...D, args: [arg] }), want, String(arg));
  }
});

test('simulate refuses to run off the end or execute unknown opcodes', () => {
  assert.throws(() => run([I(LD_IMM, 1)]), /fell off/);
  assert.throws(() => run([I(JA, 5), I(RET_K, 0)]), /fell off/);
  assert.throws(() => run([I(JMP(C.BPF_JEQ), 0, 9, 9), I(RET_K, 0)]), /fell off/);
  assert.throws(() => run([]), /fell off/);
  assert.throws(() => run([I(0x28, 0), RETA]), BpfError);       // ldh [0]: not seccomp
  assert.throws(() => run([I(LD_ABS, 64), RETA]), BpfError);
  assert.throws(() => run([I(LD_ABS, 2), RETA]), BpfError);
  assert.throws(() => run([I(0xff), RETA]), BpfError);
});

test('decodeAction: every action, data bits, unknown actions are KILL_PROCESS', () => {
  const cases = [
    [0x80000000, 'KILL_PROCESS', 0],
    [0x00000000, 'KILL_THREAD', 0],
    [0x00030005, 'TRAP', 5],
    [0x0005000d, 'ERRNO', 13],
    [0x0005ffff, 'ERRNO', 0xffff],
    [0x7fc00000, 'USER_NOTIF', 0],
    [0x7ff00007, 'TRACE', 7],
    [0x7ffc0000, 'LOG', 0],
    [0x7fff0000, 'ALLOW', 0],
    [0x00010000, 'KILL_PROCESS', 0],
    [-0x80000000, 'KILL_PROCESS', 0],
  ];
  for (const [ret, action, data] of cases) assert.deepEqual(decodeAction(ret), { action, data }, ret.toString(16));
});

test('check() accepts valid seccomp programs', () => {
  const ok = [
    [I(RET_K, C.SECCOMP_RET_ALLOW)],
    [I(LD_ABS, 60), RETA],
    [I(LD_IMM, 1), I(ST, 0), I(JMP(C.BPF_JEQ), 1, 0, 1), I(LD_MEM, 0), RETA],   // store dominates both paths
    [I(LD_IMM, 6), I(ALU(C.BPF_DIV), 3), I(LDX_IMM, 0), I(ALU(C.BPF_DIV, true)), RETA], // div by X allowed
    [I(ALU(C.BPF_LSH), 31), I(ALU(C.BPF_RSH), 0), RETA],
    [I(JA, 1), I(RET_K, 0), RETA],
  ];
  for (const p of ok) assert.doesNotThrow(() => check(p), JSON.stringify(p));
  const big = Array.from({ length: 4096 }, () => I(RET_K, 0));
  check(big);
});

test('check() rejects what the kernel rejects', () => {
  const bad = [
    ['empty', [], /empty/],
    ['too long', Array.from({ length: 4097 }, () => I(RET_K, 0)), /BPF_MAXINSNS/],
    ['ldh [0]', [I(0x28, 0), RETA], /not allowed/],
    ['ldb [0]', [I(0x30, 0), RETA], /not allowed/],
    ['ld [x+0]', [I(0x40, 0), RETA], /not allowed/],
    ['ldxb msh', [I(0xb1, 0), RETA], /not allowed/],
    ['mod', [I(ALU(C.BPF_MOD), 3), RETA], /not allowed/],
    ['unknown code', [I(0xff), RETA], /not allowed/],
    ['ret x', [I(0x0e)], /not allowed/],
    ['ld [64]', [I(LD_ABS, 64), RETA], /aligned/],
    ['ld [2]', [I(LD_ABS, 2), RETA], /aligned/],
    ['ld [SKF_AD_OFF]', [I(LD_ABS, 0xfffff000), RETA], /aligned/],
    ['div #0', [I(ALU(C.BPF_DIV), 0), RETA], /division by the constant 0/],
    ['lsh #32', [I(ALU(C.BPF_LSH), 32), RETA], /shift/],
    ['rsh #40', [I(ALU(C.BPF_RSH), 40), RETA], /shift/],
    ['st M[16]', [I(ST, 16), RETA], /M\[16\]/],
    ['ld M[16]', [I(LD_MEM, 16), RETA], /M\[16\]/],
    ['ja past the end', [I(JA, 1), RETA], /ja/],
    ['ja huge', [I(JA, 0xffffffff), RETA], /ja/],
    ['jeq jt past the end', [I(JMP(C.BPF_JEQ), 0, 1, 0), RETA], /out of the program/],
    ['jset jf past the end', [I(JMP(C.BPF_JSET), 0, 0, 1), RETA], /out of the program/],
    ['last is not ret', [I(RET_K, 0), I(LD_IMM, 0)], /last instruction/],
    ['ld M before st', [I(LD_MEM, 0), RETA], /read before/],
    ['st on one path only', [I(JMP(C.BPF_JEQ), 0, 0, 1), I(ST, 2), I(LD_MEM, 2), RETA], /read before/],
    ['ldx M after st of another word', [I(ST, 1), I(LDX_MEM, 2), RETA], /read before/],
    ['k not u32', [I(RET_K, 2 ** 32)], /u32/],
    ['jt not u8', [I(JMP(C.BPF_JEQ), 0, 256, 0), RETA], /u8/],
  ];
  for (const [name, prog, re] of bad) {
    assert.throws(() => check(prog), (e) => e instanceof BpfError && re.test(e.message), name);
  }
});
