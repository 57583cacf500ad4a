// Classic BPF for seccomp: constants, assembler, simulator/checker, per-arch syscall tables.
export * from './constants';
export * from './assembler';
export * from './simulate';
export * from './arch';
export { X86_64_SYSCALLS } from './syscalls/x86_64';
export { AARCH64_SYSCALLS } from './syscalls/aarch64';
