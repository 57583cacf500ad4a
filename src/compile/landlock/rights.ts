// Landlock access rights and scopes (include/uapi/linux/landlock.h), with the
// ABI version that introduced each. Downgrading is a pure function of the ABI
// the kernel reports (like go-landlock's downgrade()).

/** LANDLOCK_ACCESS_FS_* */
export const FS = {
  EXECUTE: 1 << 0,      // ABI 1
  WRITE_FILE: 1 << 1,   // ABI 1
  READ_FILE: 1 << 2,    // ABI 1
  READ_DIR: 1 << 3,     // ABI 1
  REMOVE_DIR: 1 << 4,   // ABI 1
  REMOVE_FILE: 1 << 5,  // ABI 1
  MAKE_CHAR: 1 << 6,    // ABI 1
  MAKE_DIR: 1 << 7,     // ABI 1
  MAKE_REG: 1 << 8,     // ABI 1
  MAKE_SOCK: 1 << 9,    // ABI 1
  MAKE_FIFO: 1 << 10,   // ABI 1
  MAKE_BLOCK: 1 << 11,  // ABI 1
  MAKE_SYM: 1 << 12,    // ABI 1
  REFER: 1 << 13,       // ABI 2: rename/link across directories (without it: always EXDEV)
  TRUNCATE: 1 << 14,    // ABI 3: truncate(2), ftruncate, O_TRUNC
  IOCTL_DEV: 1 << 15,   // ABI 5: ioctl on character/block devices opened after restriction
} as const;

/** LANDLOCK_ACCESS_NET_* (ABI 4): TCP only; UDP, MPTCP and SCTP are not covered. */
export const NET = {
  BIND_TCP: 1 << 0,
  CONNECT_TCP: 1 << 1,
} as const;

/** LANDLOCK_SCOPE_* (ABI 6) */
export const SCOPE = {
  ABSTRACT_UNIX_SOCKET: 1 << 0,
  SIGNAL: 1 << 1,
} as const;

/** landlock_restrict_self() flags */
export const RESTRICT_SELF = {
  LOG_SAME_EXEC_OFF: 1 << 0,   // ABI 7
  LOG_NEW_EXEC_ON: 1 << 1,     // ABI 7
  LOG_SUBDOMAINS_OFF: 1 << 2,  // ABI 7
  TSYNC: 1 << 3,               // ABI 8 (Linux 7.0): apply to every thread of the process
} as const;

/** landlock_create_ruleset() errata bits (ABI 7 reports them). */
export const ERRATA = {
  /** erratum 1: TCP socket identification (MPTCP excluded from TCP rules) */
  TCP_SOCKET_IDENTIFICATION: 1 << 0,
  /** erratum 2: signals between threads of one process are always allowed with SCOPE_SIGNAL */
  SCOPED_SIGNAL_SAME_TGID: 1 << 1,
  /** erratum 3: disconnected directories */
  DISCONNECTED_DIRECTORY: 1 << 2,
} as const;

const ALL_V1 = (1 << 13) - 1;

/** Handled filesystem rights the kernel understands at each ABI. */
export function fsRightsForAbi(abi: number): number {
  if (abi < 1) return 0;
  let m = ALL_V1;
  if (abi >= 2) m |= FS.REFER;
  if (abi >= 3) m |= FS.TRUNCATE;
  if (abi >= 5) m |= FS.IOCTL_DEV;
  return m;
}

export function netRightsForAbi(abi: number): number {
  return abi >= 4 ? NET.BIND_TCP | NET.CONNECT_TCP : 0;
}

export function scopesForAbi(abi: number): number {
  return abi >= 6 ? SCOPE.ABSTRACT_UNIX_SOCKET | SCOPE.SIGNAL : 0;
}

/**
 * Flags for landlock_restrict_self(). Denials keep the kernel's default audit
 * logging (no LOG_* flag); TSYNC (ABI 8) replaces the signal broadcast.
 */
export function restrictFlagsForAbi(abi: number): number {
  return abi >= 8 ? RESTRICT_SELF.TSYNC : 0;
}

/** Rights valid on a rule for a non-directory (the kernel returns EINVAL for the others). */
export const FILE_RIGHTS = FS.EXECUTE | FS.WRITE_FILE | FS.READ_FILE | FS.TRUNCATE | FS.IOCTL_DEV;

export const READ_RIGHTS = FS.READ_FILE | FS.READ_DIR;

/** Everything that creates, modifies, removes or renames. */
export const WRITE_RIGHTS =
  FS.WRITE_FILE | FS.REMOVE_DIR | FS.REMOVE_FILE | FS.MAKE_CHAR | FS.MAKE_DIR | FS.MAKE_REG |
  FS.MAKE_SOCK | FS.MAKE_FIFO | FS.MAKE_BLOCK | FS.MAKE_SYM | FS.REFER | FS.TRUNCATE | FS.IOCTL_DEV;

/** The capability table names rights by their suffix; this maps them to bits. */
export function rightByName(name: string): { kind: 'fs' | 'net' | 'scope'; bit: number } | undefined {
  if (name in FS) return { kind: 'fs', bit: FS[name as keyof typeof FS] };
  if (name in NET) return { kind: 'net', bit: NET[name as keyof typeof NET] };
  if (name.startsWith('SCOPE_') && name.slice(6) in SCOPE) return { kind: 'scope', bit: SCOPE[name.slice(6) as keyof typeof SCOPE] };
  return undefined;
}

export function fsRightNames(mask: number): string[] {
  return Object.entries(FS).filter(([, bit]) => (mask & bit) !== 0).map(([n]) => n);
}

/** The bits a path rule may carry for this inode. */
export function maskForInode(access: number, isDirectory: boolean): number {
  return isDirectory ? access : access & FILE_RIGHTS;
}
