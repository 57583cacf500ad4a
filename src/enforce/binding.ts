// The addon loader and its type: the only TypeScript that knows the native
// exports. Everything else goes through enforce.ts.

import * as path from 'node:path';

export interface ThreadResult { tid: number; state: 'applied' | 'exited' | 'failed' | 'timeout' | 'io-worker'; errno?: number }
export interface BroadcastResult { ok: boolean; threads: ThreadResult[]; rounds: number; foreign: number; elapsedUs: number }
export interface ThreadStatus { tid: number; seccomp: number; seccompFilters: number; noNewPrivs: number }

/** The native exports (native/addon.cc). Each throws an Error with code, errno (negative) and syscall. */
export interface Binding {
  setNoNewPrivs(): void;
  getNoNewPrivs(): number;
  seccompInstall(prog: Buffer, flags: number): number;
  seccompActionAvailable(action: number): boolean;
  landlockAbi(): number;
  landlockErrata(): number;
  landlockCreateRuleset(handledFs: number, handledNet: number, scoped: number): number;
  landlockAddPathRule(fd: number, path: string, allowed: number): void;
  landlockAddNetRule(fd: number, port: number, allowed: number): void;
  landlockRestrictSelf(fd: number, flags: number): void;
  landlockRestrictAllThreads(fd: number, flags: number, timeoutMs: number): BroadcastResult;
  close(fd: number): void;
  threadStatus(): ThreadStatus[];
  ioUringFds(): number[];
  /** Registers and unregisters a personality on ring fd: the id the kernel gave, or -errno. */
  ioUringPersonalityProbe(fd: number): number;
  ioUringState(): { rings: { fd: number; fdinfo: string }[]; ioThreads: { tid: number; comm: string }[] };
  gettid(): number;
  setPtracer(pid: number): boolean;
  spawnSupervisor(path: string): { pid: number; fd: number };
  probeConnect(ip: string, port: number): number;
  writeFd(fd: number, data: string): void;
  readLine(fd: number): string | null;
}

export const PACKAGE_ROOT = path.join(__dirname, '..', '..');
const SUPERVISOR = 'blackbox-supervisor';

let cached: { binding: Binding | null; error: unknown } | undefined;
let addon: string | undefined;

/**
 * The addon file node-gyp-build would pick. Its first choice, when neither of its overrides
 * (BLACKBOX_NATIVE_PREBUILD, PREBUILDS_ONLY) is set, is the .node file in build/Release —
 * our binding.gyp builds exactly one there — and that case is answered with one stat instead
 * of loading node-gyp-build and our package.json (~2 ms of every start-up); every other case
 * (prebuilds, tags, overrides) is node-gyp-build's own search. Throws where there is none.
 */
function addonFile(): string {
  if (addon !== undefined) return addon;
  const fs = require('node:fs') as typeof import('node:fs');
  const local = path.join(PACKAGE_ROOT, 'build', 'Release', 'blackbox.node');
  if (!process.env.BLACKBOX_NATIVE_PREBUILD && !process.env.PREBUILDS_ONLY && fs.statSync(local, { throwIfNoEntry: false })?.isFile()) {
    addon = local;
  } else {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    addon = (require('node-gyp-build') as { resolve(dir: string): string }).resolve(PACKAGE_ROOT);
  }
  return addon;
}

/**
 * Load the addon once: a prebuild matching this platform/ABI, else the local
 * build/Release. Returns null (with the reason in loadError()) where there is
 * none, e.g. on macOS/Windows: the package still works, JS layer only.
 */
export function loadBinding(): Binding | null {
  if (cached) return cached.binding;
  if (process.platform !== 'linux') {
    cached = { binding: null, error: new Error(`no kernel layer for ${process.platform}`) };
    return null;
  }
  try {
    cached = { binding: require(addonFile()) as Binding, error: undefined };
  } catch (error) {
    cached = { binding: null, error };
  }
  return cached.binding;
}

/**
 * The connect supervisor executable. It ships beside the addon node-gyp-build picks: in
 * prebuilds/<platform>-<arch>/ (scripts/prebuild.js copies it there, stripped) for a prebuilt
 * install, in build/Release/ for a source build. The one beside the addon comes first (same
 * build, same arch); then build/Release (a checkout after `npm run prebuild`, whose addon was
 * moved into prebuilds/ while the helper stayed), then this platform's prebuild directory.
 * All three are this package's own files, built for this machine's arch. undefined when
 * there is none: lockdown() then reports netSupervisor: false and says why.
 */
export function supervisorPath(): string | undefined {
  return shippedFile(SUPERVISOR, true);
}

/** The libc hook library (native/hook) `blackbox run` preloads into non-Node commands; found like the supervisor. */
export function hookPath(): string | undefined {
  return shippedFile('blackbox-hook.so', false);
}

function shippedFile(name: string, executable: boolean): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const fs = require('node:fs') as typeof import('node:fs');
  const candidates: string[] = [];
  try {
    candidates.push(path.join(path.dirname(addonFile()), name));
  } catch {
    // no addon found: the fallbacks below still say whether a helper exists
  }
  candidates.push(
    path.join(PACKAGE_ROOT, 'build', 'Release', name),
    path.join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`, name),
  );
  for (const p of candidates) {
    try {
      // A regular file we may execute (a directory or a non-executable copy would only fail later).
      if (fs.statSync(p).isFile()) { fs.accessSync(p, executable ? fs.constants.X_OK : fs.constants.R_OK); return p; }
    } catch {
      // next candidate
    }
  }
  return undefined;
}

export function loadError(): unknown {
  loadBinding();
  return cached?.error;
}
