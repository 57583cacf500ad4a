// The read/write/execute grants a Node app needs after lockdown, each with its
// reason. Pure: the caller passes facts about this process (lockdown/probe.ts
// gathers them) and drops paths that do not exist.

import type { NormalizedPolicy } from '../policy/types';
import type { DefaultGrant } from './landlock/plan';
import { FS, READ_RIGHTS } from './landlock/rights';

export interface HostFacts {
  /** undefined: the process is not started yet (`blackbox run`: the launcher grants /proc/self). */
  pid?: number;
  /** process.execPath */
  nodeExecPath: string;
  /** Root of the main module's package (or its directory), when there is a main module. */
  appRoot?: string;
  /** Root of this package (its own lazily required files). */
  selfRoot: string;
  /** ELF interpreters children need (PT_INTERP of common binaries). */
  elfInterpreters: readonly string[];
}

const R = READ_RIGHTS;
const RW = READ_RIGHTS | FS.WRITE_FILE;

export function defaultGrants(p: NormalizedPolicy, h: HostFacts): DefaultGrant[] {
  const out: DefaultGrant[] = [];
  const add = (path: string, access: number, why: string) => out.push({ path, access, why });
  // /dev/null: Node opens it for Worker and child stdio and when fds 0-2 are closed.
  if (p.fs.write !== true) add('/dev/null', FS.WRITE_FILE | FS.READ_FILE, 'Node opens /dev/null for stdio of Workers and children');
  if (Array.isArray(p.childProcess)) {
    // execve of a dynamic executable also opens its interpreter for execution
    for (const i of h.elfInterpreters) add(i, FS.EXECUTE | FS.READ_FILE, 'the ELF interpreter the kernel opens to start a dynamic executable');
  }
  if (p.fs.read === true) return out;

  add(h.nodeExecPath, FS.READ_FILE, 'V8 re-maps its embedded builtins from the node binary for each new isolate');
  if (h.appRoot) add(h.appRoot, R, "the app's own code, for lazy require()");
  add(h.selfRoot, R, "blackbox-native's own code, required lazily by its guards");
  add('/dev/urandom', FS.READ_FILE, 'entropy');
  add('/dev/random', FS.READ_FILE, 'entropy');
  if (h.pid !== undefined) add(`/proc/${h.pid}`, R, '/proc/self: memoryUsage (stat), maps, fd, task status');
  for (const f of ['/proc/meminfo', '/proc/stat', '/proc/cpuinfo', '/proc/loadavg']) add(f, FS.READ_FILE, 'os.cpus, os.freemem and V8 heap sizing');
  add('/sys/fs/cgroup', R, 'libuv reads the cgroup memory limit');
  add('/sys/devices/system/cpu', R, 'CPU topology for os.cpus and thread pools');
  for (const f of ['/etc/passwd', '/etc/group']) add(f, FS.READ_FILE, 'os.userInfo() and getpwuid');
  add('/etc/localtime', FS.READ_FILE, 'local time zone');
  add('/usr/share/zoneinfo', R, 'time zone data');
  add('/etc/ssl', R, 'OpenSSL configuration and CA certificates, read lazily by tls');
  add('/usr/lib/ssl', R, 'OpenSSL configuration, read lazily');
  if (p.net.dns) {
    for (const f of ['/etc/hosts', '/etc/resolv.conf', '/etc/nsswitch.conf', '/etc/host.conf', '/etc/gai.conf']) add(f, FS.READ_FILE, 'name resolution (net.dns)');
  }
  if (p.childProcess !== false) {
    for (const d of ['/lib', '/lib64', '/usr/lib', '/usr/lib64']) add(d, R, 'shared libraries of child programs (children inherit fs.read)');
    add('/etc/ld.so.cache', FS.READ_FILE, 'the dynamic loader of child programs');
  }
  return out;
}

export interface LaunchFacts {
  /** The command's executable, its ELF interpreter and any #! interpreters, as real paths. */
  exec: readonly string[];
  /** Libraries preloaded into the command (the libc hook). */
  preload?: readonly string[];
  /** Present when the command is Node: the grants a Node app needs (defaultGrants). */
  node?: HostFacts;
}

/**
 * `blackbox run`: what the command needs to start and run under the policy. The command's
 * own process does not exist yet, so /proc/self is granted by the launcher in the child
 * (`procSelf`, the rights for its /proc/<pid>), not here by number.
 */
export function launchGrants(p: NormalizedPolicy, l: LaunchFacts): { grants: DefaultGrant[]; procSelf: number } {
  const out: DefaultGrant[] = l.node ? defaultGrants(p, { ...l.node, pid: undefined }) : [];
  const add = (path: string, access: number, why: string) => out.push({ path, access, why });
  if (!l.node && p.fs.write !== true) add('/dev/null', FS.WRITE_FILE | FS.READ_FILE, 'programs open /dev/null for their own children and daemons');
  // the controlling terminal, as stdout already is (no ioctl right: no TIOCSTI input injection)
  if (p.fs.write !== true) add('/dev/tty', FS.WRITE_FILE | FS.READ_FILE, 'shells and prompts open the controlling terminal');
  // execve opens the file with FMODE_READ | FMODE_EXEC, the interpreter too.
  for (const f of l.exec) add(f, FS.EXECUTE | FS.READ_FILE, 'the command blackbox run starts (its executable and interpreters)');
  for (const f of l.preload ?? []) add(f, FS.READ_FILE, 'the library blackbox run preloads (LD_PRELOAD) to name denials');
  if (p.fs.read === true) return { grants: out, procSelf: 0 };
  if (!l.node || p.childProcess === false) {
    // defaultGrants adds these for Node only when it may start children
    for (const d of ['/lib', '/lib64', '/usr/lib', '/usr/lib64']) add(d, R, 'shared libraries of the command');
    add('/etc/ld.so.cache', FS.READ_FILE, 'the dynamic loader of the command');
  }
  if (!l.node) {
    add('/dev/urandom', FS.READ_FILE, 'entropy');
    add('/dev/random', FS.READ_FILE, 'entropy');
  }
  return { grants: out, procSelf: R };
}
