// What this machine and process can do, gathered once per lockdown: the only
// I/O before enforce. Results are plain data handed to the pure compiler.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Binding } from '../enforce/binding';
import { PACKAGE_ROOT, supervisorPath } from '../enforce/binding';
import type { NormalizedPolicy, PathContext } from '../policy/types';
import type { HostFacts } from '../compile/defaults';
import type { CompileTarget } from '../compile/plan';
import { nodeArchToArch, type ArchName } from '../compile/bpf/arch';
import { ringInode, type IoUringFacts } from './iouring';

/** Ring inode -> the personality id the next probe should get (see ioUringPersonalityProbe). */
const probedRings = new Map<number, number>();

export interface Probe {
  platform: string;
  arch: ArchName | undefined;
  kernel: boolean;
  landlockAbi: number;
  landlockErrata: number;
  /** Seccomp mode of this thread before lockdown (0 none, 2 filter). */
  seccompMode: number;
  /** The connect supervisor helper, when it can run here; else why not. */
  supervisor: { path: string } | { unavailable: string };
}

function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return !!m && (Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor));
}

function probeSupervisor(linux: boolean): Probe['supervisor'] {
  if (!linux) return { unavailable: 'no kernel layer' };
  // WAIT_KILLABLE_RECV (5.19): without it a signal during a supervised call restarts it and
  // an on-behalf send would be repeated.
  if (!kernelAtLeast(os.release(), 5, 19)) return { unavailable: `kernel ${os.release()} < 5.19` };
  try {
    // Yama 2 (admin-only attach) and 3 (none) forbid pidfd_getfd and process_vm_readv on us.
    const yama = Number(fs.readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'latin1').trim());
    if (yama >= 2) return { unavailable: `Yama ptrace_scope is ${yama}: the supervisor may not read this process` };
  } catch { /* no Yama */ }
  const p = supervisorPath();
  return p ? { path: p } : { unavailable: 'the blackbox-supervisor helper is not built beside the addon' };
}

export function probe(binding: Binding | null): Probe {
  const linux = process.platform === 'linux' && binding !== null;
  let seccompMode = 0;
  if (process.platform === 'linux') {
    try {
      const m = /^Seccomp:\s*(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
      if (m) seccompMode = Number(m[1]);
    } catch { /* /proc not readable: treated as no filter; TSYNC reports conflicts anyway */ }
  }
  return {
    platform: process.platform,
    arch: nodeArchToArch(process.arch)?.name,
    kernel: linux,
    landlockAbi: linux ? binding!.landlockAbi() : 0,
    landlockErrata: linux ? binding!.landlockErrata() : 0,
    seccompMode,
    supervisor: probeSupervisor(linux),
  };
}

/**
 * The io_uring rings of this process and the kernel's io_uring threads (raw facts; judged by
 * ioUringVerdict). Taken after the warm-up: libuv creates its rings lazily (Node 20 with
 * UV_USE_IO_URING=1 makes its SQPOLL ring on the first fs request), so a ring the warm-up
 * makes is seen too.
 */
export function probeIoUring(binding: Binding | null): IoUringFacts {
  if (process.platform !== 'linux' || binding === null) return { rings: [], ioThreads: [] };
  let st = binding.ioUringState();
  // A just-created io thread may not have named itself yet (see ioUringVerdict): wait for it,
  // briefly (it renames itself when it first runs).
  for (let i = 0; i < 50 && st.ioThreads.some((t) => !t.comm.startsWith('iou-')); i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
    st = binding.ioUringState();
  }
  return {
    ioThreads: st.ioThreads,
    rings: st.rings.map((r) => {
      const ino = ringInode(r.fdinfo);
      const expectedProbe = (ino !== undefined && probedRings.get(ino)) || 1;
      const personalityProbe = binding.ioUringPersonalityProbe(r.fd);
      if (ino !== undefined && personalityProbe > 0) probedRings.set(ino, personalityProbe + 1);
      return { ...r, personalityProbe, expectedProbe };
    }),
  };
}

/** The package root of `file`: the nearest directory above it with a package.json, else its directory. */
export function packageRoot(file: string): string {
  let dir = path.dirname(file);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.dirname(file);
    dir = up;
  }
}

function mainFile(): string | undefined {
  const main = require.main?.filename ?? process.argv[1];
  if (!main || !path.isAbsolute(main)) return undefined;
  try { return fs.realpathSync.native(main); } catch { return undefined; }
}

export function pathContext(): PathContext {
  const main = mainFile();
  return {
    CWD: process.cwd(),
    HOME: os.homedir() || process.env.HOME,
    TMPDIR: os.tmpdir(),
    NODE: path.dirname(path.dirname(process.execPath)),
    APP: main ? packageRoot(main) : undefined,
  };
}

const INTERPRETERS = ['/lib64/ld-linux-x86-64.so.2', '/lib/ld-linux-aarch64.so.1', '/lib/ld-linux-x86-64.so.2'];

export function hostFacts(ctx: PathContext): HostFacts {
  return {
    pid: process.pid,
    nodeExecPath: process.execPath,
    appRoot: ctx.APP,
    selfRoot: PACKAGE_ROOT,
    elfInterpreters: INTERPRETERS.filter((p) => fs.existsSync(p)),
  };
}

/** Does `p` exist, and is it a directory? undefined when it does not exist. */
export function inode(p: string): { dir: boolean } | undefined {
  try {
    // throwIfNoEntry: a missing path is common here (grants for files not made yet), and
    // an ENOENT exception costs more than the stat.
    const st = fs.statSync(p, { throwIfNoEntry: false });
    return st ? { dir: st.isDirectory() } : undefined;
  } catch {
    return undefined;
  }
}

function realpathOrUndefined(p: string): string | undefined {
  try { return fs.realpathSync.native(p); } catch { return undefined; }
}

/** What the supervisor's table needs from the file system (realpaths), gathered here: compile stays pure. */
export function supervisorInputs(policy: NormalizedPolicy, p: Probe) {
  if (!('path' in p.supervisor)) return { supervisorUnavailable: p.supervisor.unavailable };
  const w = policy.fs.write;
  const writeDirs = w === true ? true as const : w === false ? [] : w.map(realpathOrUndefined).filter((x): x is string => x !== undefined);
  return { supervisor: { realpath: realpathOrUndefined, writeDirs } };
}


/** The machine half of a compile target, from the probe. */
export function kernelTarget(p: Probe): Pick<CompileTarget, 'platform' | 'arch' | 'landlockAbi' | 'landlockErrata' | 'kernel'> {
  return { platform: p.platform, arch: p.arch, landlockAbi: p.landlockAbi, landlockErrata: p.landlockErrata, kernel: p.kernel };
}
