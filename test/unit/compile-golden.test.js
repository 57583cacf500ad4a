'use strict';
// Golden test: pins the exact disassembly of a small hand-made rule set, on
// x86_64 and aarch64. Any change to code generation (layout, prologue, x32
// check, argument loads, masks, shared returns, case trimming) shows up here as
// a diff to review. Update the literal only after checking the new program by hand.
const test = require('node:test');
const assert = require('node:assert/strict');

const { generate } = require('../../dist/compile/seccomp/codegen');
const { archByName, disassemble, syscallNames, simulate, actionName, check, encode } = require('../../dist/compile/bpf');

const allow = { kind: 'allow' };
const eacces = { kind: 'errno', errno: 13 };
const RULES = [
  // argument-checked, three conditions on two words: the loader's executable file mapping
  {
    syscall: 'mmap',
    cases: [{ when: [{ arg: 2, op: 'any', value: 4 }, { arg: 3, op: 'none', value: 0x20 }, { arg: 3, op: 'any', value: 0x800 }], then: eacces }],
    otherwise: allow, source: 'addons', why: 'golden',
  },
  // several cases: eq, masked eq, a high-word ne, and a trailing case equal to `otherwise` (trimmed)
  {
    syscall: 'socket',
    cases: [
      { when: [{ arg: 0, op: 'eq', value: 1 }], then: allow },
      { when: [{ arg: 0, op: 'eq', value: 2 }, { arg: 1, op: 'eq', value: 1, mask: 0xf }, { arg: 2, op: 'eq', value: 0 }], then: allow },
      { when: [{ arg: 0, op: 'eq', value: 10 }, { arg: 0, hi: true, op: 'ne', value: 0 }], then: { kind: 'log' } },
      { when: [{ arg: 0, op: 'eq', value: 16 }], then: eacces },
    ],
    otherwise: eacces, source: 'net', why: 'golden',
  },
  { syscall: 'ptrace', cases: [], otherwise: { kind: 'errno', errno: 1 }, source: 'hardening', why: 'golden' },
  { syscall: 'getpid', cases: [], otherwise: allow, source: 'hardening', why: 'golden' }, // allow-only: emits nothing
  { syscall: 'fork', cases: [], otherwise: eacces, source: 'childProcess', why: 'golden' }, // aarch64 has no fork
  { syscall: 'clone3', cases: [], otherwise: { kind: 'errno', errno: 38 }, source: 'hardening', why: 'golden' }, // shares the x32 ENOSYS ret
];

const GOLDEN_X86_64 = [
  '0000: ld [4]',
  '0001: jeq #0xc000003e jt 0002 jf 0034',
  '0002: ld [0]',
  '0003: jge #0x40000000 jt 0035 jf 0004',
  '0004: jeq #0x9 jt 0010 jf 0005  ; mmap',
  '0005: jeq #0x29 jt 0017 jf 0006  ; socket',
  '0006: jeq #0x65 jt 0036 jf 0007  ; ptrace',
  '0007: jeq #0x39 jt 0037 jf 0008  ; fork',
  '0008: jeq #0x1b3 jt 0035 jf 0009  ; clone3',
  '0009: ret ALLOW',
  '0010: ld [32]',
  '0011: jset #0x4 jt 0012 jf 0016',
  '0012: ld [40]',
  '0013: jset #0x20 jt 0016 jf 0014',
  '0014: jset #0x800 jt 0015 jf 0016',
  '0015: ret ERRNO(13)',
  '0016: ret ALLOW',
  '0017: ld [16]',
  '0018: jeq #0x1 jt 0019 jf 0020',
  '0019: ret ALLOW',
  '0020: ld [16]',
  '0021: jeq #0x2 jt 0022 jf 0028',
  '0022: ld [24]',
  '0023: and #0xf',
  '0024: jeq #0x1 jt 0025 jf 0028',
  '0025: ld [32]',
  '0026: jeq #0x0 jt 0027 jf 0028',
  '0027: ret ALLOW',
  '0028: ld [16]',
  '0029: jeq #0xa jt 0030 jf 0033',
  '0030: ld [20]',
  '0031: jeq #0x0 jt 0033 jf 0032',
  '0032: ret LOG',
  '0033: ret ERRNO(13)',
  '0034: ret KILL_PROCESS',
  '0035: ret ERRNO(38)',
  '0036: ret ERRNO(1)',
  '0037: ret ERRNO(13)',
].join('\n');

const GOLDEN_AARCH64 = [
  '0000: ld [4]',
  '0001: jeq #0xc00000b7 jt 0002 jf 0032',
  '0002: ld [0]',
  '0003: jeq #0xde jt 0008 jf 0004  ; mmap',
  '0004: jeq #0xc6 jt 0015 jf 0005  ; socket',
  '0005: jeq #0x75 jt 0034 jf 0006  ; ptrace',
  '0006: jeq #0x1b3 jt 0033 jf 0007  ; clone3',
  '0007: ret ALLOW',
  '0008: ld [32]',
  '0009: jset #0x4 jt 0010 jf 0014',
  '0010: ld [40]',
  '0011: jset #0x20 jt 0014 jf 0012',
  '0012: jset #0x800 jt 0013 jf 0014',
  '0013: ret ERRNO(13)',
  '0014: ret ALLOW',
  '0015: ld [16]',
  '0016: jeq #0x1 jt 0017 jf 0018',
  '0017: ret ALLOW',
  '0018: ld [16]',
  '0019: jeq #0x2 jt 0020 jf 0026',
  '0020: ld [24]',
  '0021: and #0xf',
  '0022: jeq #0x1 jt 0023 jf 0026',
  '0023: ld [32]',
  '0024: jeq #0x0 jt 0025 jf 0026',
  '0025: ret ALLOW',
  '0026: ld [16]',
  '0027: jeq #0xa jt 0028 jf 0031',
  '0028: ld [20]',
  '0029: jeq #0x0 jt 0031 jf 0030',
  '0030: ret LOG',
  '0031: ret ERRNO(13)',
  '0032: ret KILL_PROCESS',
  '0033: ret ERRNO(38)',
  '0034: ret ERRNO(1)',
].join('\n');

test('golden: generate() of a small rule set, x86_64', () => {
  const g = generate(RULES, archByName('x86_64'));
  assert.deepEqual(g.absent, []);
  assert.equal(disassemble(g.insns, { syscallNames: syscallNames('x86_64') }), GOLDEN_X86_64);
  check(g.insns);
  assert.equal(encode(g.insns).length, 38 * 8);
});

test('golden: generate() of a small rule set, aarch64', () => {
  const g = generate(RULES, archByName('aarch64'));
  assert.deepEqual(g.absent, ['fork']);
  assert.equal(disassemble(g.insns, { syscallNames: syscallNames('aarch64') }), GOLDEN_AARCH64);
  check(g.insns);
});

test('the pinned programs decide as their rules say', () => {
  for (const arch of ['x86_64', 'aarch64']) {
    const a = archByName(arch);
    const g = generate(RULES, a);
    const run = (name, args = []) => actionName(simulate(g.insns, { nr: a.syscalls[name], arch: a.auditArch, args }));
    assert.equal(run('mmap', [0, 1, 5, 0x802]), 'ERRNO(13)');
    assert.equal(run('mmap', [0, 1, 5, 0x822]), 'ALLOW');
    assert.equal(run('mmap', [0, 1, 1, 0x802]), 'ALLOW');
    assert.equal(run('socket', [1, 1, 0]), 'ALLOW');
    assert.equal(run('socket', [2, 0x80801, 0]), 'ALLOW');
    assert.equal(run('socket', [2, 1, 6]), 'ERRNO(13)');
    assert.equal(run('socket', [10, 1, 0]), 'ERRNO(13)');
    assert.equal(run('socket', [(1n << 32n) | 10n, 1, 0]), 'LOG');
    assert.equal(run('socket', [16, 3, 0]), 'ERRNO(13)');
    assert.equal(run('ptrace'), 'ERRNO(1)');
    assert.equal(run('getpid'), 'ALLOW');
    assert.equal(run('clone3'), 'ERRNO(38)');
    if (arch === 'x86_64') assert.equal(run('fork'), 'ERRNO(13)');
  }
});
