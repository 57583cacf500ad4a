// A classic-BPF interpreter for seccomp programs, and the kernel's load-time checks.
// Pure: no I/O. Semantics follow the kernel (net/core/filter.c, kernel/seccomp.c).

import type { Insn } from './assembler';
import { BpfError } from './assembler';
import {
  BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_DIV, BPF_IMM, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT,
  BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MAXINSNS, BPF_MEM, BPF_MEMWORDS,
  BPF_MISC, BPF_MOD, BPF_MUL, BPF_NEG, BPF_OR, BPF_RET, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TAX,
  BPF_TXA, BPF_W, BPF_X, BPF_XOR, SECCOMP_DATA_ARG_COUNT, SECCOMP_DATA_SIZE, SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_ALLOW, SECCOMP_RET_DATA, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, SECCOMP_RET_TRACE, SECCOMP_RET_TRAP, SECCOMP_RET_USER_NOTIF,
} from './constants';

/** The input of a seccomp filter (struct seccomp_data). args are u64; numbers may be negative (sign-extended). */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  args?: Array<number | bigint>;
}

export type SeccompAction =
  | 'KILL_PROCESS' | 'KILL_THREAD' | 'TRAP' | 'ERRNO' | 'USER_NOTIF' | 'TRACE' | 'LOG' | 'ALLOW';

const U64 = (1n << 64n) - 1n;

function toU64(v: number | bigint, what: string): bigint {
  if (typeof v === 'bigint') {
    if (v < -(1n << 63n) || v > U64) throw new RangeError(`${what}: out of the 64-bit range`);
    return BigInt.asUintN(64, v);
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new RangeError(`${what}: expected an integer (use a bigint beyond 2^53), got ${String(v)}`);
  }
  return BigInt.asUintN(64, BigInt(v));
}

/** Lays out struct seccomp_data as the kernel does on a little-endian machine: 64 bytes. */
export function seccompDataBytes(data: SeccompData): Uint8Array {
  const bytes = new Uint8Array(SECCOMP_DATA_SIZE);
  const view = new DataView(bytes.buffer);
  if (!Number.isInteger(data.nr)) throw new RangeError('seccomp_data.nr must be an integer');
  if (!Number.isInteger(data.arch)) throw new RangeError('seccomp_data.arch must be an integer');
  view.setUint32(0, data.nr >>> 0, true);
  view.setUint32(4, data.arch >>> 0, true);
  view.setBigUint64(8, toU64(data.instructionPointer ?? 0n, 'instruction_pointer'), true);
  const args = data.args ?? [];
  if (args.length > SECCOMP_DATA_ARG_COUNT) throw new RangeError('seccomp_data has 6 arguments at most');
  args.forEach((a, i) => view.setBigUint64(16 + 8 * i, toU64(a, `args[${i}]`), true));
  return bytes;
}

/** Result of simulateTrace(): the return value and the indices of the instructions executed. */
export interface Trace {
  ret: number;
  path: number[];
}

/** Runs a program on the given seccomp_data and returns the 32-bit return value. */
export function simulate(prog: Insn[], data: SeccompData): number {
  return run(prog, data, null);
}

/** Like simulate(), also returning the instructions executed (e.g. to measure a path's length). */
export function simulateTrace(prog: Insn[], data: SeccompData): Trace {
  const path: number[] = [];
  const ret = run(prog, data, path);
  return { ret, path };
}

function run(prog: Insn[], data: SeccompData, path: number[] | null): number {
  const bytes = seccompDataBytes(data);
  const view = new DataView(bytes.buffer);
  const M = new Uint32Array(BPF_MEMWORDS);
  let A = 0;
  let X = 0;
  let pc = 0;
  const n = prog.length;
  // Every jump goes forward, so pc strictly increases: at most n steps. Bound it anyway.
  for (let steps = 0; steps <= n; steps++) {
    if (pc < 0 || pc >= n) throw new BpfError(`execution fell off the program at instruction ${pc} (length ${n})`);
    if (path) path.push(pc);
    const ins = prog[pc];
    const code = ins.code;
    const k = ins.k >>> 0;
    const cls = code & 0x07;
    switch (cls) {
      case BPF_LD:
      case BPF_LDX: {
        let v: number;
        if (code === (BPF_LD | BPF_W | BPF_ABS)) {
          if (k >= SECCOMP_DATA_SIZE || (k & 3) !== 0) throw new BpfError(`instruction ${pc}: load at offset ${k} outside seccomp_data or misaligned`);
          v = view.getUint32(k, true);
        } else if ((code & ~0x01) === (BPF_LD | BPF_W | BPF_IMM)) v = k;
        else if ((code & ~0x01) === (BPF_LD | BPF_W | BPF_MEM)) {
          if (k >= BPF_MEMWORDS) throw new BpfError(`instruction ${pc}: M[${k}] out of range`);
          v = M[k];
        } else if ((code & ~0x01) === (BPF_LD | BPF_W | BPF_LEN)) v = SECCOMP_DATA_SIZE;
        else throw new BpfError(`instruction ${pc}: unsupported load code 0x${code.toString(16)}`);
        if (cls === BPF_LD) A = v; else X = v;
        pc++;
        break;
      }
      case BPF_ST:
      case BPF_STX: {
        if (code !== cls) throw new BpfError(`instruction ${pc}: unsupported store code 0x${code.toString(16)}`);
        if (k >= BPF_MEMWORDS) throw new BpfError(`instruction ${pc}: M[${k}] out of range`);
        M[k] = cls === BPF_ST ? A : X;
        pc++;
        break;
      }
      case BPF_ALU: {
        const op = code & 0xf0;
        const src = code & 0x08;
        const b = src === BPF_X ? X : k;
        if ((code & ~0xf8) !== BPF_ALU) throw new BpfError(`instruction ${pc}: bad ALU code 0x${code.toString(16)}`);
        switch (op) {
          case BPF_ADD: A = (A + b) >>> 0; break;
          case BPF_SUB: A = (A - b) >>> 0; break;
          case BPF_MUL: A = Math.imul(A, b) >>> 0; break;
          case BPF_DIV:
            // A run-time division by X == 0 makes a classic program return 0 (= KILL_THREAD for seccomp).
            if (b === 0) return 0;
            A = Math.floor(A / b) >>> 0;
            break;
          case BPF_MOD:
            if (b === 0) return 0;
            A = (A % b) >>> 0;
            break;
          case BPF_OR: A = (A | b) >>> 0; break;
          case BPF_AND: A = (A & b) >>> 0; break;
          case BPF_XOR: A = (A ^ b) >>> 0; break;
          // The kernel masks a register shift amount to 5 bits (32-bit ALU), like JS does.
          case BPF_LSH: A = (A << (b & 31)) >>> 0; break;
          case BPF_RSH: A = A >>> (b & 31); break;
          case BPF_NEG:
            if (src !== 0) throw new BpfError(`instruction ${pc}: bad NEG code 0x${code.toString(16)}`);
            A = (-A) >>> 0;
            break;
          default: throw new BpfError(`instruction ${pc}: unknown ALU op 0x${op.toString(16)}`);
        }
        pc++;
        break;
      }
      case BPF_JMP: {
        const op = code & 0xf0;
        const src = code & 0x08;
        if ((code & ~0xf8) !== BPF_JMP) throw new BpfError(`instruction ${pc}: bad jump code 0x${code.toString(16)}`);
        if (op === BPF_JA) {
          if (src !== 0) throw new BpfError(`instruction ${pc}: bad ja code 0x${code.toString(16)}`);
          pc = pc + 1 + k;
          break;
        }
        const b = src === BPF_X ? X : k;
        let taken: boolean;
        switch (op) {
          case BPF_JEQ: taken = A === b; break;
          case BPF_JGT: taken = A > b; break;
          case BPF_JGE: taken = A >= b; break;
          case BPF_JSET: taken = (A & b) !== 0; break;
          default: throw new BpfError(`instruction ${pc}: unknown jump op 0x${op.toString(16)}`);
        }
        pc = pc + 1 + (taken ? ins.jt : ins.jf);
        break;
      }
      case BPF_RET: {
        if (code === (BPF_RET | BPF_K)) return k;
        if (code === (BPF_RET | BPF_A)) return A >>> 0;
        throw new BpfError(`instruction ${pc}: bad ret code 0x${code.toString(16)}`);
      }
      case BPF_MISC: {
        if (code === (BPF_MISC | BPF_TAX)) X = A;
        else if (code === (BPF_MISC | BPF_TXA)) A = X;
        else throw new BpfError(`instruction ${pc}: bad misc code 0x${code.toString(16)}`);
        pc++;
        break;
      }
      default:
        throw new BpfError(`instruction ${pc}: unknown code 0x${code.toString(16)}`);
    }
  }
  throw new BpfError('execution did not terminate within the program length (a backward jump?)');
}

const ACTIONS: ReadonlyArray<readonly [number, SeccompAction]> = [
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
 * Splits a return value into its action and its 16 data bits. An action value the kernel does not
 * know is treated as KILL_PROCESS, as the kernel does. (The kernel also caps ERRNO data at
 * MAX_ERRNO = 4095 when it sets the return value; data here is the raw 16 bits.)
 */
export function decodeAction(ret: number): { action: SeccompAction; data: number } {
  const r = ret >>> 0;
  const action = (r & SECCOMP_RET_ACTION_FULL) >>> 0;
  const data = r & SECCOMP_RET_DATA;
  for (const [value, name] of ACTIONS) if (value === action) return { action: name, data };
  return { action: 'KILL_PROCESS', data };
}

// ---------------------------------------------------------------------------------------------
// Load-time checks: bpf_check_basics_ok + bpf_check_classic (net/core/filter.c) and
// seccomp_check_filter (kernel/seccomp.c).
// ---------------------------------------------------------------------------------------------

/** The opcodes seccomp_check_filter accepts (after bpf_check_classic). */
const SECCOMP_ALLOWED = new Set<number>([
  BPF_LD | BPF_W | BPF_ABS,
  BPF_LD | BPF_W | BPF_LEN,
  BPF_LDX | BPF_W | BPF_LEN,
  BPF_RET | BPF_K,
  BPF_RET | BPF_A,
  BPF_ALU | BPF_ADD | BPF_K, BPF_ALU | BPF_ADD | BPF_X,
  BPF_ALU | BPF_SUB | BPF_K, BPF_ALU | BPF_SUB | BPF_X,
  BPF_ALU | BPF_MUL | BPF_K, BPF_ALU | BPF_MUL | BPF_X,
  BPF_ALU | BPF_DIV | BPF_K, BPF_ALU | BPF_DIV | BPF_X,
  BPF_ALU | BPF_AND | BPF_K, BPF_ALU | BPF_AND | BPF_X,
  BPF_ALU | BPF_OR | BPF_K, BPF_ALU | BPF_OR | BPF_X,
  BPF_ALU | BPF_XOR | BPF_K, BPF_ALU | BPF_XOR | BPF_X,
  BPF_ALU | BPF_LSH | BPF_K, BPF_ALU | BPF_LSH | BPF_X,
  BPF_ALU | BPF_RSH | BPF_K, BPF_ALU | BPF_RSH | BPF_X,
  BPF_ALU | BPF_NEG,
  BPF_LD | BPF_IMM,
  BPF_LDX | BPF_IMM,
  BPF_MISC | BPF_TAX,
  BPF_MISC | BPF_TXA,
  BPF_LD | BPF_MEM,
  BPF_LDX | BPF_MEM,
  BPF_ST,
  BPF_STX,
  BPF_JMP | BPF_JA,
  BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_JEQ | BPF_X,
  BPF_JMP | BPF_JGE | BPF_K, BPF_JMP | BPF_JGE | BPF_X,
  BPF_JMP | BPF_JGT | BPF_K, BPF_JMP | BPF_JGT | BPF_X,
  BPF_JMP | BPF_JSET | BPF_K, BPF_JMP | BPF_JSET | BPF_X,
]);

function isCond(code: number): boolean {
  return (code & 0x07) === BPF_JMP && (code & 0xf0) !== BPF_JA;
}

/**
 * Applies the kernel's load-time rules for a seccomp filter and throws a BpfError naming the first
 * violation: length 1..4096; only the opcodes seccomp allows (32-bit absolute loads at aligned
 * offsets < 64, no packet loads, no MOD); division by the constant 0 and constant shifts >= 32
 * rejected; scratch memory indices < 16 and no M[] read before a store on some path; every jump
 * inside the program; the last instruction a ret.
 */
export function check(prog: Insn[]): void {
  const flen = prog.length;
  if (flen === 0) throw new BpfError('check: empty program');
  if (flen > BPF_MAXINSNS) throw new BpfError(`check: ${flen} instructions > BPF_MAXINSNS (${BPF_MAXINSNS})`);
  for (let pc = 0; pc < flen; pc++) {
    const ins = prog[pc];
    const { code, jt, jf } = ins;
    if (!Number.isInteger(code) || code < 0 || code > 0xffff) throw new BpfError(`check: instruction ${pc}: code is not a u16`);
    if (!Number.isInteger(jt) || jt < 0 || jt > 0xff || !Number.isInteger(jf) || jf < 0 || jf > 0xff) {
      throw new BpfError(`check: instruction ${pc}: jt/jf are not u8`);
    }
    if (!Number.isInteger(ins.k) || ins.k < -0x80000000 || ins.k > 0xffffffff) throw new BpfError(`check: instruction ${pc}: k is not a u32`);
    const k = ins.k >>> 0;
    if (!SECCOMP_ALLOWED.has(code)) {
      throw new BpfError(`check: instruction ${pc}: opcode 0x${code.toString(16).padStart(2, '0')} not allowed in a seccomp filter`);
    }
    switch (code) {
      case BPF_ALU | BPF_DIV | BPF_K:
        if (k === 0) throw new BpfError(`check: instruction ${pc}: division by the constant 0`);
        break;
      case BPF_ALU | BPF_LSH | BPF_K:
      case BPF_ALU | BPF_RSH | BPF_K:
        if (k >= 32) throw new BpfError(`check: instruction ${pc}: shift by ${k} >= 32`);
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
      case BPF_ST:
      case BPF_STX:
        if (k >= BPF_MEMWORDS) throw new BpfError(`check: instruction ${pc}: scratch memory M[${k}] out of range`);
        break;
      case BPF_JMP | BPF_JA:
        if (k >= flen - pc - 1) throw new BpfError(`check: instruction ${pc}: ja +${k} jumps out of the program`);
        break;
      case BPF_LD | BPF_W | BPF_ABS:
        if (k >= SECCOMP_DATA_SIZE || (k & 3) !== 0) {
          throw new BpfError(`check: instruction ${pc}: load at offset ${k}: must be 32-bit aligned and < ${SECCOMP_DATA_SIZE}`);
        }
        break;
      default:
        if (isCond(code) && (pc + jt + 1 >= flen || pc + jf + 1 >= flen)) {
          throw new BpfError(`check: instruction ${pc}: conditional jump out of the program`);
        }
    }
  }
  const lastCode = prog[flen - 1].code;
  if (lastCode !== (BPF_RET | BPF_K) && lastCode !== (BPF_RET | BPF_A)) {
    throw new BpfError('check: the last instruction is not a ret');
  }
  checkLoadsAndStores(prog);
}

/** check_load_and_stores (net/core/filter.c): every M[k] read must follow a store on every path. */
function checkLoadsAndStores(prog: Insn[]): void {
  const flen = prog.length;
  const masks = new Uint16Array(flen).fill(0xffff);
  let memvalid = 0;
  for (let pc = 0; pc < flen; pc++) {
    memvalid &= masks[pc];
    const { code } = prog[pc];
    const k = prog[pc].k >>> 0;
    switch (code) {
      case BPF_ST:
      case BPF_STX:
        memvalid |= 1 << k;
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
        if (!(memvalid & (1 << k))) throw new BpfError(`check: instruction ${pc}: M[${k}] read before it is written`);
        break;
      case BPF_JMP | BPF_JA:
        masks[pc + 1 + k] &= memvalid;
        memvalid = 0xffff;
        break;
      default:
        if (isCond(code)) {
          masks[pc + 1 + prog[pc].jt] &= memvalid;
          masks[pc + 1 + prog[pc].jf] &= memvalid;
          memvalid = 0xffff;
        }
    }
  }
}
