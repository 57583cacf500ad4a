// Architectures the filter compiler supports: audit token, x32 handling and syscall table.
// Pure: callers pass the Node-style arch string (process.arch) in; nothing here reads it.

import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_X86_64 } from './constants';
// The syscall tables load on first use: a lockdown compiles for one arch, so the other
// table is never read there (it is for tests and `blackbox check --arch`).
let x86_64: Record<string, number> | undefined;
let aarch64: Record<string, number> | undefined;
// eslint-disable-next-line @typescript-eslint/no-var-requires
const x86_64Table = (): Record<string, number> => (x86_64 ??= (require('./syscalls/x86_64') as typeof import('./syscalls/x86_64')).X86_64_SYSCALLS);
// eslint-disable-next-line @typescript-eslint/no-var-requires
const aarch64Table = (): Record<string, number> => (aarch64 ??= (require('./syscalls/aarch64') as typeof import('./syscalls/aarch64')).AARCH64_SYSCALLS);

export type ArchName = 'x86_64' | 'aarch64';

export interface Arch {
  name: ArchName;
  /** The value of seccomp_data.arch for native system calls (linux/audit.h). */
  auditArch: number;
  /** Whether the arch has the x32 ABI (nr | 0x40000000 under the same audit arch), which a filter must refuse. */
  x32: boolean;
  /** Syscall name -> number for the native ABI. */
  syscalls: Record<string, number>;
}

export const X86_64: Arch = Object.freeze({
  name: 'x86_64',
  auditArch: AUDIT_ARCH_X86_64,
  x32: true,
  get syscalls() { return x86_64Table(); },
});

export const AARCH64: Arch = Object.freeze({
  name: 'aarch64',
  auditArch: AUDIT_ARCH_AARCH64,
  x32: false,
  get syscalls() { return aarch64Table(); },
});

export const ARCHES: readonly Arch[] = Object.freeze([X86_64, AARCH64]);

/** The Arch called `name` ('x86_64' or 'aarch64'), or undefined. */
export function archByName(name: string): Arch | undefined {
  return ARCHES.find((a) => a.name === name);
}

/** Maps a Node process.arch value to an Arch: 'x64' -> x86_64, 'arm64' -> aarch64, anything else -> undefined. */
export function nodeArchToArch(nodeArch: string): Arch | undefined {
  if (nodeArch === 'x64') return X86_64;
  if (nodeArch === 'arm64') return AARCH64;
  return undefined;
}

function resolve(arch: Arch | ArchName): Arch {
  if (typeof arch !== 'string') return arch;
  const a = archByName(arch);
  if (!a) throw new RangeError(`unknown architecture "${arch}"`);
  return a;
}

/** The number of syscall `name` on `arch`, or undefined when the arch has no such syscall. */
export function syscallNumber(arch: Arch | ArchName, name: string): number | undefined {
  const table = resolve(arch).syscalls;
  return Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
}

const reverseCache = new WeakMap<Arch, Readonly<Record<number, string>>>();

/** number -> name for `arch` (e.g. for disassemble's syscallNames option). */
export function syscallNames(arch: Arch | ArchName): Readonly<Record<number, string>> {
  const a = resolve(arch);
  let r = reverseCache.get(a);
  if (!r) {
    const m: Record<number, string> = {};
    for (const [name, nr] of Object.entries(a.syscalls)) if (!(nr in m)) m[nr] = name;
    r = Object.freeze(m);
    reverseCache.set(a, r);
  }
  return r;
}

/** The name of syscall number `nr` on `arch`, or undefined. */
export function syscallName(arch: Arch | ArchName, nr: number): string | undefined {
  const names = syscallNames(arch);
  return Object.prototype.hasOwnProperty.call(names, nr) ? names[nr] : undefined;
}
