// A labelled assembler for classic BPF seccomp programs, plus encode/decode/disassemble.
// Pure: no I/O. Programs are forward-only (the kernel's checker rejects backward jumps).

import {
  BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_B, BPF_DIV, BPF_H, BPF_IMM, BPF_IND, BPF_JA, BPF_JEQ,
  BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MAXINSNS,
  BPF_MAX_COND_JUMP, BPF_MEM, BPF_MEMWORDS, BPF_MISC, BPF_MOD, BPF_MSH, BPF_MUL, BPF_NEG, BPF_OR,
  BPF_RET, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TAX, BPF_TXA, BPF_W, BPF_X, BPF_XOR,
  SECCOMP_DATA_ARCH_OFFSET, SECCOMP_DATA_NR_OFFSET, SECCOMP_DATA_SIZE, SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_ALLOW, SECCOMP_RET_DATA, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, SECCOMP_RET_TRACE, SECCOMP_RET_TRAP,
  SECCOMP_RET_USER_NOTIF, seccompArgHiOffset, seccompArgLoOffset,
} from './constants';

/** One classic BPF instruction (struct sock_filter). code u16, jt/jf u8, k u32. */
export interface Insn { code: number; jt: number; jf: number; k: number }

/** A branch target: a label name, or null to fall through to the next instruction. */
export type Target = string | null;

/** Errors from the assembler and from check(). */
export class BpfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BpfError';
  }
}

/** SECCOMP_RET_ERRNO with the errno in the data bits. */
export function retErrno(errno: number): number {
  if (!Number.isInteger(errno) || errno < 0 || errno > SECCOMP_RET_DATA) {
    throw new RangeError(`errno must be an integer 0..65535, got ${String(errno)}`);
  }
  return (SECCOMP_RET_ERRNO | (errno & SECCOMP_RET_DATA)) >>> 0;
}

const ACTION_NAMES: ReadonlyArray<readonly [number, string]> = [
  [SECCOMP_RET_KILL_PROCESS, 'KILL_PROCESS'],
  [SECCOMP_RET_KILL_THREAD, 'KILL_THREAD'],
  [SECCOMP_RET_TRAP, 'TRAP'],
  [SECCOMP_RET_ERRNO, 'ERRNO'],
  [SECCOMP_RET_USER_NOTIF, 'USER_NOTIF'],
  [SECCOMP_RET_TRACE, 'TRACE'],
  [SECCOMP_RET_LOG, 'LOG'],
  [SECCOMP_RET_ALLOW, 'ALLOW'],
];

/**
 * A stable name for a seccomp return value: "ALLOW", "KILL_PROCESS", "ERRNO(13)", "TRACE(7)", ...
 * ERRNO always shows its data; other actions show it only when non-zero. An action the kernel
 * does not know (it treats those as KILL_PROCESS) prints as "UNKNOWN(0x12340000)".
 */
export function actionName(ret: number): string {
  const r = ret >>> 0;
  const action = (r & SECCOMP_RET_ACTION_FULL) >>> 0;
  const data = r & SECCOMP_RET_DATA;
  for (const [value, name] of ACTION_NAMES) {
    if (value === action) {
      if (name === 'ERRNO' || data !== 0) return `${name}(${data})`;
      return name;
    }
  }
  return `UNKNOWN(0x${hex8(r)})`;
}

// ---------------------------------------------------------------------------------------------
// The assembler
// ---------------------------------------------------------------------------------------------

type Node =
  | { kind: 'insn'; insn: Insn }
  | { kind: 'cond'; code: number; k: number; jt: Target; jf: Target }
  | { kind: 'ja'; target: string };

/** The result of assembleWithLabels(): the program and the final index of every label. */
export interface Assembled {
  insns: Insn[];
  labels: Record<string, number>;
  /** How many long-jump trampolines (BPF_JA) were inserted. */
  trampolines: number;
}

function u32(k: number, what: string): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < -0x80000000 || k > 0xffffffff) {
    throw new RangeError(`${what}: expected a 32-bit integer, got ${String(k)}`);
  }
  return k >>> 0;
}

function checkTarget(t: Target, what: string): Target {
  if (t === null) return null;
  if (typeof t !== 'string' || t.length === 0) {
    throw new TypeError(`${what}: a branch target is a label name or null, got ${String(t)}`);
  }
  return t;
}

/**
 * Labelled classic-BPF assembler. Methods append instructions and return `this`.
 *
 * Conditional jumps reach at most 255 instructions forward. When a target is farther, assemble()
 * routes that side through a long-jump trampoline (BPF_JA, 32-bit offset) placed right after the
 * branch, and repeats the layout until it is stable. Jumps are forward-only.
 */
export class Asm {
  private readonly nodes: Node[] = [];
  private readonly labels = new Map<string, number>();

  /** Binds a label to the next instruction appended. Throws on a duplicate. */
  label(name: string): this {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('label: a label name is a non-empty string');
    if (this.labels.has(name)) throw new BpfError(`duplicate label "${name}"`);
    this.labels.set(name, this.nodes.length);
    return this;
  }

  /** Whether a label has been defined. */
  hasLabel(name: string): boolean {
    return this.labels.has(name);
  }

  /** Number of instructions appended so far (before trampolines). */
  get length(): number {
    return this.nodes.length;
  }

  // -- loads ------------------------------------------------------------------------------

  /** A = seccomp_data[off] (32-bit word; off aligned and < 64). */
  ldAbs(off: number): this {
    const k = u32(off, 'ldAbs');
    if (k >= SECCOMP_DATA_SIZE || (k & 3) !== 0) {
      throw new RangeError(`ldAbs: seccomp loads are 32-bit words at an aligned offset < 64, got ${k}`);
    }
    return this.push(BPF_LD | BPF_W | BPF_ABS, k);
  }
  /** A = seccomp_data.nr */
  ldNr(): this { return this.ldAbs(SECCOMP_DATA_NR_OFFSET); }
  /** A = seccomp_data.arch */
  ldArch(): this { return this.ldAbs(SECCOMP_DATA_ARCH_OFFSET); }
  /** A = low 32 bits of seccomp_data.args[i] */
  ldArgLo(i: number): this { return this.ldAbs(seccompArgLoOffset(i)); }
  /** A = high 32 bits of seccomp_data.args[i] */
  ldArgHi(i: number): this { return this.ldAbs(seccompArgHiOffset(i)); }
  /** A = k */
  ldImm(k: number): this { return this.push(BPF_LD | BPF_IMM, u32(k, 'ldImm')); }
  /** X = k */
  ldxImm(k: number): this { return this.push(BPF_LDX | BPF_IMM, u32(k, 'ldxImm')); }
  /** A = sizeof(struct seccomp_data) */
  ldLen(): this { return this.push(BPF_LD | BPF_W | BPF_LEN, 0); }
  /** A = M[m] */
  ldMem(m: number): this { return this.push(BPF_LD | BPF_MEM, mem(m)); }
  /** X = M[m] */
  ldxMem(m: number): this { return this.push(BPF_LDX | BPF_MEM, mem(m)); }
  /** M[m] = A */
  st(m: number): this { return this.push(BPF_ST, mem(m)); }
  /** M[m] = X */
  stx(m: number): this { return this.push(BPF_STX, mem(m)); }

  // -- ALU (A op= k, or A op= X with the *X variants) ------------------------------------------

  add(k: number): this { return this.push(BPF_ALU | BPF_ADD | BPF_K, u32(k, 'add')); }
  sub(k: number): this { return this.push(BPF_ALU | BPF_SUB | BPF_K, u32(k, 'sub')); }
  mul(k: number): this { return this.push(BPF_ALU | BPF_MUL | BPF_K, u32(k, 'mul')); }
  div(k: number): this {
    const v = u32(k, 'div');
    if (v === 0) throw new RangeError('div: division by the constant 0');
    return this.push(BPF_ALU | BPF_DIV | BPF_K, v);
  }
  and(k: number): this { return this.push(BPF_ALU | BPF_AND | BPF_K, u32(k, 'and')); }
  or(k: number): this { return this.push(BPF_ALU | BPF_OR | BPF_K, u32(k, 'or')); }
  xor(k: number): this { return this.push(BPF_ALU | BPF_XOR | BPF_K, u32(k, 'xor')); }
  lsh(k: number): this { return this.push(BPF_ALU | BPF_LSH | BPF_K, shift(k, 'lsh')); }
  rsh(k: number): this { return this.push(BPF_ALU | BPF_RSH | BPF_K, shift(k, 'rsh')); }
  neg(): this { return this.push(BPF_ALU | BPF_NEG, 0); }
  addX(): this { return this.push(BPF_ALU | BPF_ADD | BPF_X, 0); }
  subX(): this { return this.push(BPF_ALU | BPF_SUB | BPF_X, 0); }
  mulX(): this { return this.push(BPF_ALU | BPF_MUL | BPF_X, 0); }
  divX(): this { return this.push(BPF_ALU | BPF_DIV | BPF_X, 0); }
  andX(): this { return this.push(BPF_ALU | BPF_AND | BPF_X, 0); }
  orX(): this { return this.push(BPF_ALU | BPF_OR | BPF_X, 0); }
  xorX(): this { return this.push(BPF_ALU | BPF_XOR | BPF_X, 0); }
  lshX(): this { return this.push(BPF_ALU | BPF_LSH | BPF_X, 0); }
  rshX(): this { return this.push(BPF_ALU | BPF_RSH | BPF_X, 0); }

  /** X = A */
  tax(): this { return this.push(BPF_MISC | BPF_TAX, 0); }
  /** A = X */
  txa(): this { return this.push(BPF_MISC | BPF_TXA, 0); }

  // -- jumps ------------------------------------------------------------------------------------

  /** if (A == k) goto jt else goto jf */
  jeq(k: number, jt: Target, jf: Target = null): this { return this.cond(BPF_JEQ | BPF_K, u32(k, 'jeq'), jt, jf); }
  /** if (A & k) goto jt else goto jf */
  jset(k: number, jt: Target, jf: Target = null): this { return this.cond(BPF_JSET | BPF_K, u32(k, 'jset'), jt, jf); }
  /** if (A >= k) (unsigned) goto jt else goto jf */
  jge(k: number, jt: Target, jf: Target = null): this { return this.cond(BPF_JGE | BPF_K, u32(k, 'jge'), jt, jf); }
  /** if (A > k) (unsigned) goto jt else goto jf */
  jgt(k: number, jt: Target, jf: Target = null): this { return this.cond(BPF_JGT | BPF_K, u32(k, 'jgt'), jt, jf); }
  /** Compare A with X. */
  jeqX(jt: Target, jf: Target = null): this { return this.cond(BPF_JEQ | BPF_X, 0, jt, jf); }
  jsetX(jt: Target, jf: Target = null): this { return this.cond(BPF_JSET | BPF_X, 0, jt, jf); }
  jgeX(jt: Target, jf: Target = null): this { return this.cond(BPF_JGE | BPF_X, 0, jt, jf); }
  jgtX(jt: Target, jf: Target = null): this { return this.cond(BPF_JGT | BPF_X, 0, jt, jf); }

  /** goto target (32-bit forward offset). */
  ja(target: string): this {
    const t = checkTarget(target, 'ja');
    if (t === null) throw new TypeError('ja: needs a label');
    this.nodes.push({ kind: 'ja', target: t });
    return this;
  }

  // -- return -----------------------------------------------------------------------------------

  /** return value (a SECCOMP_RET_* value, possibly with data). */
  ret(value: number): this { return this.push(BPF_RET | BPF_K, u32(value, 'ret')); }
  /** return A */
  retA(): this { return this.push(BPF_RET | BPF_A, 0); }

  /** Appends a raw non-jump instruction (jumps must go through the label methods). */
  raw(insn: Insn): this {
    const code = insn.code;
    if (!Number.isInteger(code) || code < 0 || code > 0xffff) throw new RangeError('raw: code must be a u16');
    if ((code & 0x07) === BPF_JMP) throw new BpfError('raw: jumps must use the labelled jump methods');
    if (insn.jt !== 0 || insn.jf !== 0) throw new BpfError('raw: jt/jf must be 0 for a non-jump instruction');
    return this.push(code, u32(insn.k, 'raw'));
  }

  private push(code: number, k: number): this {
    this.nodes.push({ kind: 'insn', insn: { code, jt: 0, jf: 0, k } });
    return this;
  }

  private cond(code: number, k: number, jt: Target, jf: Target): this {
    this.nodes.push({ kind: 'cond', code: BPF_JMP | code, k, jt: checkTarget(jt, 'jump'), jf: checkTarget(jf, 'jump') });
    return this;
  }

  /** Resolves labels and returns the program. */
  assemble(): Insn[] {
    return this.assembleWithLabels().insns;
  }

  /** Like assemble(), also returning where each label ended up and how many trampolines were added. */
  assembleWithLabels(): Assembled {
    const nodes = this.nodes;
    const n = nodes.length;
    if (n === 0) throw new BpfError('empty program');
    if (n > BPF_MAXINSNS) throw new BpfError(`program too long: ${n} instructions > ${BPF_MAXINSNS}`);

    // Every referenced label must exist and lie strictly after the jump.
    const targetIndex = (name: string, from: number): number => {
      const at = this.labels.get(name);
      if (at === undefined) throw new BpfError(`undefined label "${name}" (instruction ${from})`);
      if (at <= from) throw new BpfError(`backward jump to "${name}" from instruction ${from}: seccomp programs are forward-only`);
      if (at >= n) throw new BpfError(`label "${name}" marks the end of the program: no instruction follows it`);
      return at;
    };
    for (let i = 0; i < n; i++) {
      const node = nodes[i];
      if (node.kind === 'ja') targetIndex(node.target, i);
      else if (node.kind === 'cond') {
        if (node.jt !== null) targetIndex(node.jt, i);
        if (node.jf !== null) targetIndex(node.jf, i);
      }
    }
    const last = nodes[n - 1];
    if (last.kind !== 'insn' || (last.insn.code & 0x07) !== BPF_RET) {
      throw new BpfError('the program can fall off the end: the last instruction must be a ret');
    }

    // Layout: which sides of which conditional jumps go through a trampoline. Monotone (a side only
    // ever switches from direct to trampoline), so it terminates.
    const farT = new Uint8Array(n);
    const farF = new Uint8Array(n);
    const tramps = (i: number): string[] => {
      const node = nodes[i];
      if (node.kind !== 'cond') return [];
      const list: string[] = [];
      if (farT[i] && node.jt !== null) list.push(node.jt);
      if (farF[i] && node.jf !== null && !list.includes(node.jf)) list.push(node.jf);
      return list;
    };
    const pos = new Array<number>(n + 1);
    const layout = (): void => {
      let p = 0;
      for (let i = 0; i < n; i++) {
        pos[i] = p;
        p += 1 + tramps(i).length;
      }
      pos[n] = p;
    };
    const labelPos = (name: string): number => pos[this.labels.get(name) as number];
    for (;;) {
      layout();
      if (pos[n] > BPF_MAXINSNS) {
        throw new BpfError(`program too long: ${pos[n]} instructions (with long-jump trampolines) > ${BPF_MAXINSNS}`);
      }
      let changed = false;
      for (let i = 0; i < n; i++) {
        const node = nodes[i];
        if (node.kind !== 'cond') continue;
        if (!farT[i] && node.jt !== null && labelPos(node.jt) - pos[i] - 1 > BPF_MAX_COND_JUMP) { farT[i] = 1; changed = true; }
        if (!farF[i] && node.jf !== null && labelPos(node.jf) - pos[i] - 1 > BPF_MAX_COND_JUMP) { farF[i] = 1; changed = true; }
      }
      if (!changed) break;
    }

    const out: Insn[] = [];
    let trampolines = 0;
    for (let i = 0; i < n; i++) {
      const node = nodes[i];
      const here = pos[i];
      if (node.kind === 'insn') {
        out.push({ ...node.insn });
      } else if (node.kind === 'ja') {
        out.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: labelPos(node.target) - here - 1 });
      } else {
        const list = tramps(i);
        const side = (t: Target, far: number): number => {
          if (t === null) return list.length; // fall through: skip this branch's trampolines
          if (far) return list.indexOf(t);
          return labelPos(t) - here - 1;
        };
        out.push({ code: node.code, jt: side(node.jt, farT[i]), jf: side(node.jf, farF[i]), k: node.k });
        list.forEach((t, j) => {
          out.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: labelPos(t) - (here + 1 + j) - 1 });
          trampolines++;
        });
      }
    }
    const labels: Record<string, number> = {};
    for (const [name, at] of this.labels) if (at < n) labels[name] = pos[at];
    return { insns: out, labels, trampolines };
  }
}

function mem(m: number): number {
  if (!Number.isInteger(m) || m < 0 || m >= BPF_MEMWORDS) throw new RangeError(`scratch memory index must be 0..15, got ${String(m)}`);
  return m;
}

function shift(k: number, what: string): number {
  if (!Number.isInteger(k) || k < 0 || k >= 32) throw new RangeError(`${what}: shift must be 0..31, got ${String(k)}`);
  return k;
}

// ---------------------------------------------------------------------------------------------
// Binary form: struct sock_filter[] — 8 bytes each, little-endian u16 code, u8 jt, u8 jf, u32 k.
// ---------------------------------------------------------------------------------------------

/** Encodes instructions as the kernel's struct sock_filter array (little-endian). */
export function encode(insns: Insn[]): Buffer {
  const bytes = new Uint8Array(insns.length * 8);
  const view = new DataView(bytes.buffer);
  insns.forEach((ins, i) => {
    const { code, jt, jf, k } = ins;
    if (!Number.isInteger(code) || code < 0 || code > 0xffff) throw new RangeError(`encode: instruction ${i}: code must be a u16`);
    if (!Number.isInteger(jt) || jt < 0 || jt > 0xff) throw new RangeError(`encode: instruction ${i}: jt must be a u8`);
    if (!Number.isInteger(jf) || jf < 0 || jf > 0xff) throw new RangeError(`encode: instruction ${i}: jf must be a u8`);
    if (!Number.isInteger(k) || k < -0x80000000 || k > 0xffffffff) throw new RangeError(`encode: instruction ${i}: k must be a u32`);
    const o = i * 8;
    view.setUint16(o, code, true);
    view.setUint8(o + 2, jt);
    view.setUint8(o + 3, jf);
    view.setUint32(o + 4, k >>> 0, true);
  });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes a struct sock_filter array (little-endian). */
export function decode(buf: Uint8Array): Insn[] {
  if (buf.byteLength % 8 !== 0) throw new BpfError(`decode: length ${buf.byteLength} is not a multiple of 8`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Insn[] = [];
  for (let o = 0; o < buf.byteLength; o += 8) {
    out.push({ code: view.getUint16(o, true), jt: view.getUint8(o + 2), jf: view.getUint8(o + 3), k: view.getUint32(o + 4, true) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Disassembly: one line per instruction, "NNNN: mnemonic operands". Jump targets are absolute
// instruction numbers. With opts.syscallNames, comparisons of A against a constant while A is
// known to hold seccomp_data.nr get a "  ; name" comment.
// ---------------------------------------------------------------------------------------------

export interface DisassembleOptions {
  syscallNames?: Record<number, string>;
}

function hex8(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}
function hexk(v: number): string {
  return '#0x' + (v >>> 0).toString(16);
}
function idx(v: number): string {
  return String(v).padStart(4, '0');
}

const ALU_NAMES: Record<number, string> = {
  [BPF_ADD]: 'add', [BPF_SUB]: 'sub', [BPF_MUL]: 'mul', [BPF_DIV]: 'div', [BPF_OR]: 'or', [BPF_AND]: 'and',
  [BPF_LSH]: 'lsh', [BPF_RSH]: 'rsh', [BPF_NEG]: 'neg', [BPF_MOD]: 'mod', [BPF_XOR]: 'xor',
};
const JMP_NAMES: Record<number, string> = { [BPF_JEQ]: 'jeq', [BPF_JGT]: 'jgt', [BPF_JGE]: 'jge', [BPF_JSET]: 'jset' };
const SIZE_SUFFIX: Record<number, string> = { [BPF_W]: '', [BPF_H]: 'h', [BPF_B]: 'b' };

/** The text of one instruction at index pc (without the "NNNN: " prefix). */
export function formatInsn(ins: Insn, pc: number): string {
  const { code, jt, jf } = ins;
  const k = ins.k >>> 0;
  const cls = code & 0x07;
  const unknown = `.insn code 0x${code.toString(16).padStart(4, '0')} jt ${jt} jf ${jf} k 0x${k.toString(16)}`;
  switch (cls) {
    case BPF_LD:
    case BPF_LDX: {
      const x = cls === BPF_LDX ? 'x' : '';
      const size = code & 0x18;
      const mode = code & 0xe0;
      const sfx = SIZE_SUFFIX[size];
      if (sfx === undefined) return unknown;
      switch (mode) {
        case BPF_ABS: return cls === BPF_LD ? `ld${sfx} [${k}]` : unknown;
        case BPF_IND: return cls === BPF_LD ? `ld${sfx} [x+${k}]` : unknown;
        case BPF_IMM: return size === BPF_W ? `ld${x} ${hexk(k)}` : unknown;
        case BPF_MEM: return size === BPF_W ? `ld${x} M[${k}]` : unknown;
        case BPF_LEN: return size === BPF_W ? `ld${x} #len` : unknown;
        case BPF_MSH: return cls === BPF_LDX && size === BPF_B ? `ldxb 4*([${k}]&0xf)` : unknown;
        default: return unknown;
      }
    }
    case BPF_ST: return code === BPF_ST ? `st M[${k}]` : unknown;
    case BPF_STX: return code === BPF_STX ? `stx M[${k}]` : unknown;
    case BPF_ALU: {
      const op = code & 0xf0;
      const name = ALU_NAMES[op];
      if (name === undefined) return unknown;
      if (op === BPF_NEG) return (code & 0x08) === 0 ? 'neg' : unknown;
      return (code & 0x08) === BPF_X ? `${name} x` : `${name} ${hexk(k)}`;
    }
    case BPF_JMP: {
      const op = code & 0xf0;
      if (op === BPF_JA) return (code & 0x08) === 0 ? `ja ${idx(pc + 1 + k)}` : unknown;
      const name = JMP_NAMES[op];
      if (name === undefined) return unknown;
      const operand = (code & 0x08) === BPF_X ? 'x' : hexk(k);
      return `${name} ${operand} jt ${idx(pc + 1 + jt)} jf ${idx(pc + 1 + jf)}`;
    }
    case BPF_RET: {
      const rval = code & 0x18;
      if ((code & ~0x18) !== BPF_RET) return unknown;
      if (rval === BPF_K) return `ret ${actionName(k)}`;
      if (rval === BPF_A) return 'ret a';
      if (rval === BPF_X) return 'ret x';
      return unknown;
    }
    case BPF_MISC: {
      if (code === (BPF_MISC | BPF_TAX)) return 'tax';
      if (code === (BPF_MISC | BPF_TXA)) return 'txa';
      return unknown;
    }
    default:
      return unknown;
  }
}

/** Disassembles a program: one line per instruction, joined with "\n" (no trailing newline). */
export function disassemble(insns: Insn[], opts: DisassembleOptions = {}): string {
  const names = opts.syscallNames;
  // Forward data flow: is A known to hold seccomp_data.nr at each instruction?
  const n = insns.length;
  const aIsNr = new Uint8Array(n + 1); // 1 = yes on every path seen so far
  const reached = new Uint8Array(n + 1);
  const flow = (to: number, v: number): void => {
    if (to > n || to < 0) return;
    if (!reached[to]) { reached[to] = 1; aIsNr[to] = v; } else aIsNr[to] &= v;
  };
  if (n > 0) reached[0] = 1;
  const lines: string[] = [];
  for (let pc = 0; pc < n; pc++) {
    const ins = insns[pc];
    const code = ins.code;
    const inNr = reached[pc] ? aIsNr[pc] : 0;
    let text = formatInsn(ins, pc);
    const cls = code & 0x07;
    if (names && cls === BPF_JMP && (code & 0xf0) !== BPF_JA && (code & 0x08) === BPF_K && inNr) {
      const nm = names[ins.k >>> 0];
      if (nm !== undefined) text += `  ; ${nm}`;
    }
    lines.push(`${idx(pc)}: ${text}`);
    // Successor state.
    let out = inNr;
    if (code === (BPF_LD | BPF_W | BPF_ABS)) out = (ins.k >>> 0) === SECCOMP_DATA_NR_OFFSET ? 1 : 0;
    else if (cls === BPF_LD || cls === BPF_ALU || code === (BPF_MISC | BPF_TXA)) out = 0;
    if (cls === BPF_RET) continue;
    if (cls === BPF_JMP) {
      if ((code & 0xf0) === BPF_JA) flow(pc + 1 + (ins.k >>> 0), out);
      else { flow(pc + 1 + ins.jt, out); flow(pc + 1 + ins.jf, out); }
      continue;
    }
    flow(pc + 1, out);
  }
  return lines.join('\n');
}
