// child_process. Two common points (checked against Node 20.20's
// lib/child_process.js and lib/internal/child_process.js):
//  - async: spawn, exec, execFile, fork (and cluster through fork) all build a
//    `new ChildProcess()` and call ChildProcess.prototype.spawn(options), which
//    hands the normalized options (file, args, envPairs, cwd) to its process
//    handle's spawn(). We guard the prototype method and, per call, that
//    handle's spawn(): a denied spawn is turned into one that fails with
//    EACCES before anything of the caller's runs (see failingSpawn), so Node
//    runs its own failed-spawn path (stdio set up and ended, 'error' then
//    'close' on a later tick, exec/execFile callbacks and promisified forms
//    get the error) and we swap Node's errno error for the PolicyViolation
//    as it is emitted.
//  - sync: spawnSync, execSync and execFileSync call the internal spawnSync
//    through local references; it calls the spawn_sync binding's spawn(), the
//    one point every sync form (even one captured before lockdown) passes. A
//    denied call answers `{ error: UV_EACCES }` there without forking, and
//    Node's own code turns it into spawnSync's `{ error }` result (execSync and
//    execFileSync throw it, with status/stdout/… assigned as Node does); the
//    `error` slot hands out the PolicyViolation.
// Node's --permission throws ERR_ACCESS_DENIED synchronously from spawn(); we
// deliver the way Node reports a failed spawn instead (SPEC: 'error' on child
// processes, `.error` from spawnSync), so code that survives EACCES survives us.

import cp = require('node:child_process');
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as util from 'node:util';
import { checkSpawn, type Denial } from './check';
import { fromKernel, KERNEL_CODES, violation } from './deny';
import { effective, getLockdownLayer, lockedDown, type Effective } from './state';

// Captured at load (before any guard patches fs): finding the executable on
// PATH must not itself be a guarded read.
const statSync = fs.statSync;
const accessSync = fs.accessSync;
const X_OK = fs.constants.X_OK;

const UV_EACCES = -os.constants.errno.EACCES;
/** libuv's search path when the child's environment has no PATH (_PATH_DEFPATH). */
const DEFAULT_PATH = '/usr/bin:/bin';

/** The options Node hands to a process handle / the spawn_sync binding (normalizeSpawnArguments). */
interface NormalizedSpawn {
  file?: unknown;
  args?: unknown;
  envPairs?: unknown;
  cwd?: unknown;
  uid?: unknown;
  gid?: unknown;
}

interface SpawnResult {
  error?: unknown;
  status: unknown;
  signal: unknown;
  output: unknown;
  pid: unknown;
}

type ErrorMaker = (errnoErr: Error) => Error;

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, X_OK);
    return true;
  } catch {
    return false;
  }
}

function envPath(envPairs: unknown): string {
  if (!Array.isArray(envPairs)) return process.env.PATH ?? DEFAULT_PATH;
  // libuv takes the first PATH= entry of the child's environment
  for (const p of envPairs) if (typeof p === 'string' && p.startsWith('PATH=')) return p.slice(5);
  return DEFAULT_PATH;
}

/** What execve will run: a name with a slash as is (against the child's cwd), else the first executable on the child's PATH. */
function resolveExecutable(o: NormalizedSpawn): string | null {
  const file = typeof o.file === 'string' ? o.file : '';
  if (file === '') return null;
  const base = typeof o.cwd === 'string' && o.cwd !== '' ? path.resolve(o.cwd) : process.cwd();
  if (file.includes('/')) return path.resolve(base, file);
  for (const dir of envPath(o.envPairs).split(':')) {
    const candidate = path.resolve(base, dir === '' ? '.' : dir, file);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

function commandLine(o: NormalizedSpawn): string {
  const file = typeof o.file === 'string' ? o.file : String(o.file);
  const args = Array.isArray(o.args) ? o.args.slice(1).map(String) : [];
  return [file, ...args].join(' ');
}

function check(e: Effective, o: NormalizedSpawn): Denial | null {
  if (e.exec === true) return null; // no PATH search when everything is allowed
  const cmd = commandLine(o);
  return checkSpawn(e, resolveExecutable(o) ?? (typeof o.file === 'string' ? o.file : cmd), cmd);
}

/**
 * After a lockdown whose kernel layer restricts execution, an EACCES (or a
 * EPERM/ENOSYS) from a spawn the JS check let through is the kernel's answer
 * (e.g. Landlock refused a script's interpreter): the Denial to report, or
 * null for an ordinary failure (a file that is not executable, a uid change).
 */
function kernelDenial(errno: number, o: NormalizedSpawn): Denial | null {
  const layer = getLockdownLayer();
  if (!lockedDown() || !layer || layer.policy.mode === 'audit' || layer.policy.childProcess === true) return null;
  let code: string;
  try {
    code = util.getSystemErrorName(errno);
  } catch {
    return null;
  }
  if (!KERNEL_CODES.has(code)) return null;
  const file = resolveExecutable(o);
  if (code === 'EACCES' && (file === null || !isExecutableFile(file))) return null;
  if (code === 'EPERM' && (o.uid != null || o.gid != null)) return null;
  const e = effective();
  if (!e) return null;
  const cmd = commandLine(o);
  return checkSpawn({ ...e, exec: false }, file ?? cmd, cmd);
}

/** Carry over what Node puts on its spawn errors (path, spawnargs). */
function likeNode(v: Error, errnoErr: unknown): Error {
  if (errnoErr && typeof errnoErr === 'object') {
    const src = errnoErr as { path?: unknown; spawnargs?: unknown };
    const dst = v as unknown as Record<string, unknown>;
    if (src.path !== undefined) dst.path = src.path;
    if (src.spawnargs !== undefined) dst.spawnargs = src.spawnargs;
  }
  return v;
}

// ---- async: ChildProcess.prototype.spawn -------------------------------------

interface ProcessHandle {
  spawn(...args: unknown[]): number;
}

/**
 * Node <= 24.x (early) calls handle.spawn(options); later Node 24 and 26 pass the parts
 * positionally: spawn(file, args, cwd, envPairs, stdio, flags, uid, gid). Both are read
 * into one shape for the check, and the failing replacement is written back in the form
 * the caller used.
 */
function spawnOptions(args: unknown[]): { opts: NormalizedSpawn; positional: boolean } {
  if (typeof args[0] === 'string') {
    const [file, argv, cwd, envPairs, stdio, flags, uid, gid] = args;
    return { positional: true, opts: { file, args: argv, cwd, envPairs, stdio, flags, uid, gid } as unknown as NormalizedSpawn };
  }
  return { positional: false, opts: args[0] as NormalizedSpawn };
}

function failingSpawnArgs(args: unknown[], positional: boolean, opts: NormalizedSpawn): unknown[] {
  // flags 0: not detached (kProcessFlagDetached), nothing else applies on Linux.
  return positional ? ['/', ['/'], undefined, [], args[4], 0, undefined, undefined] : [failingSpawn(opts)];
}
interface ChildLike {
  _handle?: ProcessHandle | null;
  emit(event: string | symbol, ...args: unknown[]): boolean;
}

function isSpawnErrno(err: unknown): err is Error & { syscall: string } {
  const e = err as { syscall?: unknown; errno?: unknown } | null;
  return !!e && typeof e === 'object' && typeof e.syscall === 'string' && e.syscall.startsWith('spawn') && typeof e.errno === 'number';
}

/** Swap the errno error Node emits for a failed spawn for ours (once). */
function replaceSpawnError(child: ChildLike, make: ErrorMaker): void {
  const own = Object.prototype.hasOwnProperty.call(child, 'emit');
  const prev = child.emit;
  child.emit = function (this: ChildLike, event: string | symbol, ...rest: unknown[]): boolean {
    if (event === 'error' && isSpawnErrno(rest[0])) {
      if (own) child.emit = prev;
      else delete (child as Partial<ChildLike>).emit;
      rest[0] = make(rest[0]);
    }
    return prev.call(this, event, ...rest);
  };
}

/**
 * A denied async spawn still goes through the handle, with every user-chosen
 * part replaced by an execve that cannot succeed (a directory: EACCES), so
 * Node runs its real failed-spawn path — stdio pipes opened and then ended,
 * the IPC channel closed, 'error' then 'close' on later ticks — and only the
 * error object is ours. Nothing the caller named runs: after a lockdown with
 * childProcess: false the fork itself is refused by the kernel; otherwise a
 * copy of this process fails to exec and exits (libuv reaps it). No cwd,
 * uid/gid, detach or environment of the caller's is applied.
 */
function failingSpawn(opts: NormalizedSpawn): NormalizedSpawn {
  return { ...opts, file: '/', args: ['/'], envPairs: [], cwd: undefined, uid: undefined, gid: undefined, detached: false } as NormalizedSpawn;
}

function guardedSpawn(orig: (this: ChildLike, options: NormalizedSpawn) => unknown) {
  return function spawn(this: ChildLike, options: NormalizedSpawn): unknown {
    const e = effective();
    const handle = this ? this._handle : null;
    if (!e || !handle || typeof handle.spawn !== 'function') return orig.call(this, options);
    const ownSpawn = Object.prototype.hasOwnProperty.call(handle, 'spawn');
    const realSpawn = handle.spawn;
    const restore = () => {
      if (ownSpawn) handle.spawn = realSpawn;
      else delete (handle as Partial<ProcessHandle>).spawn;
    };
    let make: ErrorMaker | null = null;
    // Node calls this with the final options (after stdio/IPC set-up and validation).
    handle.spawn = function (this: ProcessHandle, ...args: unknown[]): number {
      restore();
      const { opts, positional } = spawnOptions(args);
      const d = check(e, opts);
      if (d && !e.audit) {
        const v = violation(d);
        make = (errnoErr) => likeNode(v, errnoErr);
        return realSpawn.apply(this, failingSpawnArgs(args, positional, opts));
      }
      if (d) violation(d);
      const err = realSpawn.apply(this, args);
      if (typeof err === 'number' && err < 0) {
        const kd = kernelDenial(err, opts);
        if (kd) make = (errnoErr) => likeNode(fromKernel(kd, errnoErr), errnoErr);
      }
      return err;
    };
    let ret: unknown;
    try {
      ret = orig.call(this, options);
    } catch (err) {
      // EPERM/ENOSYS are thrown by Node (only EACCES/EAGAIN/EMFILE/ENFILE/ENOENT are emitted)
      const m = make as ErrorMaker | null;
      if (m && isSpawnErrno(err)) throw m(err);
      throw err;
    } finally {
      if (handle.spawn !== realSpawn) restore(); // validation threw before Node reached the handle
    }
    const m = make as ErrorMaker | null;
    if (m) replaceSpawnError(this, m);
    return ret;
  };
}

// ---- sync: the spawn_sync binding -------------------------------------------

interface SpawnSyncBinding {
  spawn(options: NormalizedSpawn): SpawnResult;
}

/**
 * Make `result.error` read as the errno number Node expects (it builds its
 * errno error from it) and, once Node stores that error, become `make(err)`:
 * Node then sets .path/.spawnargs on ours, spawnSync returns it as `.error`,
 * execSync/execFileSync Object.assign the result onto it and throw it.
 */
function deliverSync(result: SpawnResult, errno: number, make: ErrorMaker): SpawnResult {
  Object.defineProperty(result, 'error', {
    configurable: true,
    enumerable: true,
    get: () => errno,
    set(errnoErr: Error) {
      Object.defineProperty(result, 'error', { value: make(errnoErr), writable: true, enumerable: true, configurable: true });
    },
  });
  return result;
}

function guardedSpawnSync(binding: SpawnSyncBinding, orig: SpawnSyncBinding['spawn']) {
  return function spawn(options: NormalizedSpawn): SpawnResult {
    const e = effective();
    if (!e || !options || typeof options !== 'object') return orig.call(binding, options);
    const d = check(e, options);
    if (d && !e.audit) {
      const v = violation(d);
      // the shape the binding returns for a spawn that failed before the child ran
      const result = {} as SpawnResult;
      deliverSync(result, UV_EACCES, () => v);
      result.status = null;
      result.signal = null;
      result.output = null;
      result.pid = 0;
      return result;
    }
    if (d) violation(d);
    const result = orig.call(binding, options);
    if (result && typeof result.error === 'number' && result.error < 0) {
      const kd = kernelDenial(result.error, options);
      if (kd) deliverSync(result, result.error, (errnoErr) => fromKernel(kd, errnoErr));
    }
    return result;
  };
}

function spawnSyncBinding(): SpawnSyncBinding | null {
  const p = process as unknown as { binding?: (name: string) => unknown; noDeprecation?: boolean };
  if (typeof p.binding !== 'function') return null;
  // process.binding is deprecated (DEP0111, a warning only under
  // --pending-deprecation); this internal use should not warn.
  const quiet = p.noDeprecation;
  p.noDeprecation = true;
  try {
    const b = p.binding('spawn_sync') as SpawnSyncBinding;
    return b && typeof b.spawn === 'function' ? b : null;
  } catch {
    return null;
  } finally {
    p.noDeprecation = quiet;
  }
}

let done = false;
export function install(): void {
  if (done) return;
  done = true;
  const P = cp.ChildProcess.prototype as unknown as { spawn: (this: ChildLike, o: NormalizedSpawn) => unknown };
  P.spawn = guardedSpawn(P.spawn);
  const b = spawnSyncBinding();
  if (b) b.spawn = guardedSpawnSync(b, b.spawn);
}
