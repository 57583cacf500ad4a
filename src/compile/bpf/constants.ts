// Constants for classic BPF as used by seccomp. Pure data: no I/O, no imports.
//
// Every value is the kernel's UAPI value; the header it comes from is named on each group.

// ---------------------------------------------------------------------------------------------
// Classic BPF instruction encoding: linux/bpf_common.h (included by linux/filter.h).
// An instruction is struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; }.
// ---------------------------------------------------------------------------------------------

/** Instruction classes: BPF_CLASS(code) = code & 0x07. */
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;

/** Load sizes: BPF_SIZE(code) = code & 0x18. */
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;

/** Load modes: BPF_MODE(code) = code & 0xe0. */
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_LEN = 0x80;
export const BPF_MSH = 0xa0;

/** ALU operations: BPF_OP(code) = code & 0xf0 (class BPF_ALU). */
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90; // classic BPF knows it; seccomp's checker does not allow it
export const BPF_XOR = 0xa0;

/** Jump operations: BPF_OP(code) = code & 0xf0 (class BPF_JMP). */
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

/** Operand source: BPF_SRC(code) = code & 0x08. */
export const BPF_K = 0x00;
export const BPF_X = 0x08;

/** BPF_RET operand: BPF_RVAL(code) = code & 0x18 — BPF_K (constant) or BPF_A (the accumulator). linux/filter.h */
export const BPF_A = 0x10;

/** BPF_MISC operations: BPF_MISCOP(code) = code & 0xf8. linux/filter.h */
export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;

/** Maximum program length (linux/bpf_common.h) and scratch memory words M[0..15] (linux/filter.h). */
export const BPF_MAXINSNS = 4096;
export const BPF_MEMWORDS = 16;

/** Largest conditional jump offset (jt/jf are u8, relative to the next instruction). */
export const BPF_MAX_COND_JUMP = 255;

// ---------------------------------------------------------------------------------------------
// seccomp filter return values, flags and operations: linux/seccomp.h.
// The action is the upper 16 bits (SECCOMP_RET_ACTION_FULL); the lower 16 are data (errno, ...).
// When several filters are stacked the kernel applies the action with the lowest value
// compared as a signed 32-bit number (so KILL_PROCESS, 0x80000000, wins over everything).
// ---------------------------------------------------------------------------------------------

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_KILL = SECCOMP_RET_KILL_THREAD;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;

/** Masks for the action and data parts of a return value. */
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_ACTION = 0x7fff0000; // legacy mask, without the KILL_PROCESS bit
export const SECCOMP_RET_DATA = 0x0000ffff;

/** seccomp(2) operations. */
export const SECCOMP_SET_MODE_STRICT = 0;
export const SECCOMP_SET_MODE_FILTER = 1;
export const SECCOMP_GET_ACTION_AVAIL = 2;
export const SECCOMP_GET_NOTIF_SIZES = 3;

/** Flags for SECCOMP_SET_MODE_FILTER. */
export const SECCOMP_FILTER_FLAG_TSYNC = 1 << 0;
export const SECCOMP_FILTER_FLAG_LOG = 1 << 1;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 1 << 2;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3;
export const SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 1 << 4;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 5;

/**
 * struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; } (linux/seccomp.h).
 * Loads read 32-bit words in the kernel's byte order; on little-endian machines (x86_64, aarch64)
 * the low word of a 64-bit field comes first.
 */
export const SECCOMP_DATA_SIZE = 64;
export const SECCOMP_DATA_NR_OFFSET = 0;
export const SECCOMP_DATA_ARCH_OFFSET = 4;
export const SECCOMP_DATA_IP_OFFSET = 8; // low word; high word at 12
export const SECCOMP_DATA_ARGS_OFFSET = 16;
export const SECCOMP_DATA_ARG_COUNT = 6;

/** Offset of the low 32 bits of args[i] (little-endian). */
export function seccompArgLoOffset(i: number): number {
  checkArgIndex(i);
  return SECCOMP_DATA_ARGS_OFFSET + 8 * i;
}

/** Offset of the high 32 bits of args[i] (little-endian). */
export function seccompArgHiOffset(i: number): number {
  checkArgIndex(i);
  return SECCOMP_DATA_ARGS_OFFSET + 8 * i + 4;
}

function checkArgIndex(i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= SECCOMP_DATA_ARG_COUNT) {
    throw new RangeError(`seccomp argument index must be an integer 0..5, got ${String(i)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Audit architecture tokens for seccomp_data.arch: linux/audit.h
// (AUDIT_ARCH_* = EM_* machine number | __AUDIT_ARCH_64BIT 0x80000000 | __AUDIT_ARCH_LE 0x40000000).
// ---------------------------------------------------------------------------------------------

export const AUDIT_ARCH_X86_64 = 0xc000003e; // EM_X86_64 (62)
export const AUDIT_ARCH_AARCH64 = 0xc00000b7; // EM_AARCH64 (183)
export const AUDIT_ARCH_I386 = 0x40000003; // EM_386 (3): int 0x80 / 32-bit compat on x86_64
export const AUDIT_ARCH_ARM = 0x40000028; // EM_ARM (40): 32-bit compat on aarch64

/** x32 ABI syscalls on x86_64 have this bit set in nr (asm/unistd.h, __X32_SYSCALL_BIT). */
export const X32_SYSCALL_BIT = 0x40000000;

// ---------------------------------------------------------------------------------------------
// errno values used by the filters: asm-generic/errno-base.h (1..34) and asm-generic/errno.h
// (the same numbers on x86_64 and aarch64).
// ---------------------------------------------------------------------------------------------

export const EPERM = 1;
export const ESRCH = 3;
export const EACCES = 13;
export const EINVAL = 22;
export const EROFS = 30;
export const ENOSYS = 38;
export const EPROTONOSUPPORT = 93;
export const EAFNOSUPPORT = 97;

/** The kernel clamps SECCOMP_RET_ERRNO data to MAX_ERRNO (linux/err.h). */
export const MAX_ERRNO = 4095;
