// THE capability table. One row per capability: validation, the compiler, the
// guards, the CLI's flags, the error messages and the docs all read it, so a
// capability is one row here, not six edits elsewhere (like Node's PERMISSIONS
// macro or Cosmopolitan's pledge promise table).

import type { Permission } from '../errors';

export type CapabilityId = 'net' | 'fs.read' | 'fs.write' | 'childProcess' | 'addons' | 'workers';

/** Which layer can enforce a capability, and how (for `blackbox check` and README). */
export type Enforcer = 'seccomp' | 'landlock' | 'supervisor' | 'js';

export interface Capability {
  id: CapabilityId;
  /** Dotted policy key that grants it. */
  policyKey: string;
  /** Node's permission name, used in PolicyViolation.permission. */
  permission: Permission;
  /** Scope string of process.permission.has / our has(). */
  scope: 'net' | 'fs.read' | 'fs.write' | 'child' | 'addon' | 'worker';
  /** CLI flag that grants it (SPEC §4) and the one that takes it away. */
  allowFlag: string;
  denyFlag?: string;
  /**
   * Every CLI flag that grants part of it (SPEC §4), the policy key it adds to, and what its
   * `=a,b` values are. The first is `allowFlag`.
   */
  cliGrants: readonly CliGrant[];
  /** Default when the policy does not mention it. */
  defaultGrant: boolean;
  /** Words for messages: "<noun> <resource> denied". */
  noun: string;
  /** Syscalls whose use depends on this capability (x86_64 names; the compiler maps per arch). */
  syscalls: readonly string[];
  /** Landlock rights (names from landlock/rights.ts) that carry it. */
  landlockRights: readonly string[];
  /** Node modules/functions the JS guard wraps. */
  guards: readonly string[];
  /** The layers that enforce it on a kernel with everything (Landlock ABI >= 4). */
  enforcedBy: readonly Enforcer[];
  /** One line for the docs. */
  summary: string;
}

export interface CliGrant {
  flag: string;
  key: 'net.connect' | 'net.listen' | 'fs.read' | 'fs.write' | 'childProcess' | 'addons' | 'workers';
  /** endpoints: Deno's host[:port] grammar; paths; executables (absolute or found on PATH); none: no value. */
  values: 'endpoints' | 'paths' | 'executables' | 'none';
}

export const CAPABILITIES: readonly Capability[] = [
  {
    id: 'net',
    policyKey: 'net',
    permission: 'Net',
    scope: 'net',
    allowFlag: '--allow-net',
    denyFlag: '--deny-net',
    cliGrants: [
      { flag: '--allow-net', key: 'net.connect', values: 'endpoints' },
      { flag: '--allow-listen', key: 'net.listen', values: 'endpoints' },
    ],
    defaultGrant: false,
    noun: 'net',
    // socket() families/types are argument-checked; MSG_FASTOPEN in the send
    // family is an implicit connect that Landlock does not see (landlock #41).
    // connect/bind destinations are pointers: Landlock ports (and the supervisor).
    syscalls: ['socket', 'sendto', 'sendmsg', 'sendmmsg'],
    landlockRights: ['CONNECT_TCP', 'BIND_TCP', 'SCOPE_ABSTRACT_UNIX_SOCKET'],
    guards: ['net', 'tls', 'http', 'https', 'http2', 'dgram', 'dns', 'fetch'],
    enforcedBy: ['seccomp', 'landlock', 'js'],
    summary: 'sockets: families and types by seccomp, TCP ports by Landlock (ABI 4), hosts/IPs by the JS layer until the connect supervisor exists',
  },
  {
    id: 'fs.read',
    policyKey: 'fs.read',
    permission: 'FileSystemRead',
    scope: 'fs.read',
    allowFlag: '--allow-fs-read',
    cliGrants: [{ flag: '--allow-fs-read', key: 'fs.read', values: 'paths' }],
    defaultGrant: true,
    noun: 'fs read',
    syscalls: [],
    landlockRights: ['READ_FILE', 'READ_DIR'],
    guards: ['fs', 'fs/promises'],
    enforcedBy: ['landlock', 'js'],
    summary: 'path lists by Landlock (ABI 1); stat/access/readlink are not restricted by the kernel',
  },
  {
    id: 'fs.write',
    policyKey: 'fs.write',
    permission: 'FileSystemWrite',
    scope: 'fs.write',
    allowFlag: '--allow-fs-write',
    denyFlag: '--deny-fs-write',
    cliGrants: [{ flag: '--allow-fs-write', key: 'fs.write', values: 'paths' }],
    defaultGrant: false,
    noun: 'fs write',
    // Metadata changes Landlock (ABI <= 7) does not restrict; with `write: false`
    // seccomp denies them outright. The coarse read-only mode (no Landlock) also
    // denies the path-changing calls and write-flag opens.
    syscalls: [
      'chmod', 'fchmod', 'fchmodat', 'fchmodat2', 'chown', 'fchown', 'lchown', 'fchownat',
      'utime', 'utimes', 'futimesat', 'utimensat',
      'setxattr', 'lsetxattr', 'fsetxattr', 'setxattrat', 'removexattr', 'lremovexattr', 'fremovexattr', 'removexattrat',
    ],
    landlockRights: [
      'WRITE_FILE', 'REMOVE_DIR', 'REMOVE_FILE', 'MAKE_CHAR', 'MAKE_DIR', 'MAKE_REG', 'MAKE_SOCK',
      'MAKE_FIFO', 'MAKE_BLOCK', 'MAKE_SYM', 'REFER', 'TRUNCATE', 'IOCTL_DEV',
    ],
    guards: ['fs', 'fs/promises'],
    enforcedBy: ['landlock', 'seccomp', 'js'],
    summary: 'path lists by Landlock (ABI 1, truncate ABI 3); without Landlock a coarse seccomp read-only mode',
  },
  {
    id: 'childProcess',
    policyKey: 'childProcess',
    permission: 'ChildProcess',
    scope: 'child',
    allowFlag: '--allow-child-process',
    denyFlag: '--deny-child-process',
    cliGrants: [{ flag: '--allow-child-process', key: 'childProcess', values: 'executables' }],
    defaultGrant: false,
    noun: 'child process',
    // clone is allowed only with CLONE_THREAD (threads); clone3 gets ENOSYS
    // everywhere so glibc falls back to clone, whose flags seccomp can read.
    syscalls: ['execve', 'execveat', 'fork', 'vfork', 'clone'],
    landlockRights: ['EXECUTE'],
    guards: ['child_process'],
    enforcedBy: ['seccomp', 'landlock', 'js'],
    summary: 'on/off by seccomp (execve, fork, clone without CLONE_THREAD); executable lists by Landlock EXECUTE',
  },
  {
    id: 'addons',
    policyKey: 'addons',
    permission: 'Addon',
    scope: 'addon',
    allowFlag: '--allow-addons',
    denyFlag: '--deny-addons',
    cliGrants: [{ flag: '--allow-addons', key: 'addons', values: 'none' }],
    defaultGrant: false,
    noun: 'addon',
    // File-backed PROT_EXEC mmap with MAP_DENYWRITE (the dynamic loader's
    // MAP_COPY) is denied; V8's builtin remap does not pass MAP_DENYWRITE, the
    // JIT uses anonymous memory, so Workers and WebAssembly keep working.
    syscalls: ['mmap', 'memfd_create'],
    landlockRights: [],
    guards: ['process.dlopen', "Module._extensions['.node']"],
    enforcedBy: ['seccomp', 'js'],
    summary: 'no new shared object mapped after lockdown (seccomp on mmap flags); executable mprotect stays (the JIT needs it)',
  },
  {
    id: 'workers',
    policyKey: 'workers',
    permission: 'WorkerThreads',
    scope: 'worker',
    allowFlag: '--allow-worker',
    denyFlag: '--deny-worker',
    cliGrants: [{ flag: '--allow-worker', key: 'workers', values: 'none' }],
    defaultGrant: true,
    noun: 'worker',
    syscalls: [],
    landlockRights: [],
    guards: ['worker_threads.Worker'],
    enforcedBy: ['js'],
    summary: 'JS only: a Worker is a thread like V8\'s own, the kernel cannot tell them apart (every limit still holds inside it)',
  },
];

export function capability(id: CapabilityId): Capability {
  const c = CAPABILITIES.find((row) => row.id === id);
  if (!c) throw new Error(`unknown capability ${id}`);
  return c;
}

export function capabilityByScope(scope: string): Capability | undefined {
  return CAPABILITIES.find((row) => row.scope === scope);
}

/**
 * "grant it with <policy key> ['x'] or <flag>=x": the hint every denial message ends with.
 * For `net`, a resource is granted by one of its lists (`net` itself takes only
 * true/false): `netKey` says which, connect by default.
 */
export function grantHint(id: CapabilityId, resource?: string, netKey: 'connect' | 'listen' | 'unix' = 'connect'): string {
  const c = capability(id);
  if (id === 'addons') return `grant it with ${c.policyKey}: true or ${c.allowFlag}`;
  if (id === 'workers') return `grant it with ${c.policyKey}: true or ${c.allowFlag}`;
  if (resource === undefined || resource === '') return `grant it with ${c.policyKey}: true or ${c.allowFlag}`;
  let key = c.policyKey;
  let flag: string | undefined = c.allowFlag;
  if (id === 'net') {
    key = `net.${netKey}`;
    flag = c.cliGrants.find((g) => g.key === `net.${netKey}`)?.flag;
  }
  const json = JSON.stringify(resource);
  const quoted = resource.includes("'") ? json : `'${json.slice(1, -1)}'`;
  return `grant it with ${key} [${quoted}]` + (flag ? ` or ${flag}=${resource}` : '');
}
