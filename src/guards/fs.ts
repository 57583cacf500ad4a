// fs and fs/promises, and through fs.open every ReadStream/WriteStream
// (createReadStream/createWriteStream open on a later tick through
// `stream[kFs].open`, i.e. the patched fs.open, so a denied stream emits
// 'error' like any failed open — checked on Node 20.20).
//
// What is guarded (all three forms: fooSync, foo(cb), promises.foo):
//   writes  writeFile appendFile open(write flags) readFile({ flag: 'w+' }…) copyFile(dest) cp(dest)
//           rename(both) link(both) symlink(path) unlink rm rmdir mkdir mkdtemp
//           chmod lchmod chown lchown utimes lutimes truncate
//           (createWriteStream through open)
//   reads   readFile open(read flags) readdir opendir copyFile(src) cp(src)
//           openAsBlob (createReadStream through open) — only when fs.read is a list
// What is NOT guarded, on purpose: stat/lstat/access/exists/realpath/readlink/
// statfs/watch — Landlock does not restrict them either (they reveal metadata,
// not content), so guarding them would make the JS layer stricter than the
// kernel and break module resolution. Calls on file descriptors and
// FileHandles (fchmod, ftruncate, write, filehandle.*) pass: the check was at
// open time.
//
// Paths are resolved the way the kernel walks them, with the functions
// captured at load (a later `fs.realpathSync.native = …` cannot fool the
// check): symlinks anywhere, `..` after a symlink, dangling symlinks that an
// O_CREAT would follow. Calls that act on a directory entry rather than what
// it points to (unlink, rename, rm, rmdir, mkdir, link, symlink, lchown,
// lutimes, lchmod) resolve the parent and keep the last name. The argument the
// original receives is the value that was checked (URLs converted once,
// Buffers copied), so getters cannot swap the path between check and use.
// What remains is the window between the check and the syscall (another
// thread, or the threadpool for async calls, swapping a symlink): the kernel
// layer answers there.
//
// Kernel errors → PolicyViolation (layer 'kernel'): only after a lockdown, only
// for EACCES/EPERM, and only when a path of the call is restricted (its list
// is not `true`). Ordinary Unix permission errors on a granted path must stay
// plain EACCES, so the rule is: convert when (a) the JS check, re-run after the
// error, now denies a path of the call (it changed under us), or (b) the error
// is EACCES and access(2) — which neither Landlock nor our seccomp filter
// restricts, so it answers for DAC alone — says the permission bits would have
// allowed the operation. (b) is the case of a grant that did not exist at
// lockdown time: Landlock grants only existing inodes, the JS layer grants the
// path. EPERM is converted only under (a): it is also what sticky directories
// and chown/chmod by a non-owner return, which access(2) cannot see.

// `import x = require()`: the module objects themselves (a namespace import would be a copy).
import fs = require('node:fs');
import fsp = require('node:fs/promises');
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { types } from 'node:util';
import { capability, grantHint } from '../policy/capabilities';
import { isBeneath } from '../policy/paths';
import { PolicyViolation } from '../errors';
import type { Denial } from './check';
import { fromKernel, violation } from './deny';
import { effective, lockedDown, type Effective } from './state';
import { absolute, NOT_A_PATH, resolveAbs } from './paths';
import { beginNamespaceChange } from './cache';

// Captured at load, before any user code after lockdown could replace them.
const lstatSync = fs.lstatSync;
const isProxy = types.isProxy;
const accessSync = fs.accessSync;
const { O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_TRUNC = 0o1000, O_APPEND = 0o2000 } = fs.constants;
const { R_OK, W_OK, X_OK } = fs.constants;

type Kind = 'read' | 'write';
// The same two kinds as bits, for the per-call fast path (no arrays made).
const READ = 1;
const WRITE = 2;
const BOTH = READ | WRITE;
/** How the kernel would judge permission bits for the operation (for the EACCES rule). */
type Dac = 'data' | 'entry' | 'meta' | 'read';

interface ArgSpec {
  index: number;
  /** 'open': read and/or write, from the flags (see `flags`) */
  kind: Kind | 'open';
  /** where the flags are: positional at index + 1 (open), or `options.flag` at index + 1 with a default (readFile) */
  flags?: { option: string; default: string; /** openMask(default), for the hot path */ defaultMask: number };
  /** resolve the last component too (false: the call acts on the directory entry) */
  follow: boolean;
  dac: Dac;
  /** mkdtemp: the path is a prefix of the directory to be created */
  template?: boolean;
}

const W = (index: number, follow: boolean, dac: Dac): ArgSpec => ({ index, kind: 'write', follow, dac });
const R = (index: number): ArgSpec => ({ index, kind: 'read', follow: true, dac: 'read' });

/** name → the path arguments it uses. Writes are listed before reads: a call denied both ways reports the write. */
const APIS: Record<string, ArgSpec[]> = {
  writeFile: [W(0, true, 'data')],
  appendFile: [W(0, true, 'data')],
  open: [{ index: 0, kind: 'open', follow: true, dac: 'data' }],
  copyFile: [W(1, true, 'data'), R(0)],
  cp: [W(1, true, 'data'), R(0)],
  rename: [W(0, false, 'entry'), W(1, false, 'entry')],
  link: [W(1, false, 'entry'), W(0, false, 'entry')],
  symlink: [W(1, false, 'entry')],
  unlink: [W(0, false, 'entry')],
  rm: [W(0, false, 'entry')],
  rmdir: [W(0, false, 'entry')],
  mkdir: [W(0, false, 'entry')],
  mkdtemp: [{ index: 0, kind: 'write', follow: false, dac: 'entry', template: true }],
  chmod: [W(0, true, 'meta')],
  lchmod: [W(0, false, 'meta')],
  chown: [W(0, true, 'meta')],
  lchown: [W(0, false, 'meta')],
  utimes: [W(0, true, 'meta')],
  lutimes: [W(0, false, 'meta')],
  truncate: [W(0, true, 'data')],
  // readFile takes options.flag too: readFile(p, { flag: 'w+' }) truncates
  readFile: [{ index: 0, kind: 'open', follow: true, dac: 'data', flags: { option: 'flag', default: 'r', defaultMask: READ } }],
  readdir: [R(0)],
  opendir: [R(0)],
  openAsBlob: [R(0)],
};

// The calls that change what a path resolves to (directory entries appear,
// vanish or move; cp copies symlinks as symlinks): they empty and pause the
// allowed-decision cache while they run (cache.ts).
const NAMESPACE = new Set(['rename', 'link', 'symlink', 'unlink', 'rm', 'rmdir', 'mkdir', 'mkdtemp', 'cp']);


/** A path argument, as checked and as handed to the original. */
interface PathArg {
  /** what the check resolves ('' when the original will reject it anyway) */
  str: string;
  /** the value passed on to Node (a converted URL, a copied Buffer) */
  pass: unknown;
  /** a Buffer whose bytes are not UTF-8: it cannot be resolved faithfully, so it is denied when restricted */
  lossy?: boolean;
}

/** null: not a path we check (an fd, a FileHandle, a value Node rejects itself). An Error: thrown by the URL conversion, as Node would. */
function toPathArg(v: unknown): PathArg | null | Error {
  if (typeof v === 'string') return v === '' || v.includes('\0') ? null : { str: v, pass: v };
  if (v instanceof Uint8Array) {
    const copy = Buffer.from(v); // the original sees the bytes we checked
    const str = copy.toString('utf8');
    if (str === '' || str.includes('\0')) return { str: '', pass: copy };
    return { str, pass: copy, lossy: !Buffer.from(str, 'utf8').equals(copy) };
  }
  if (v === null || typeof v !== 'object') return null; // fds and wrong types: Node's business
  // URL or URL-like (Node's isURL): read once, converted once, and Node gets the string.
  const o = v as Record<string, unknown>;
  const href = o.href;
  const protocol = o.protocol;
  const auth = o.auth;
  const p = o.path;
  if (href && protocol && auth === undefined && p === undefined) {
    try {
      const str = fileURLToPath(new URL(String(href)));
      return str.includes('\0') ? null : { str, pass: str };
    } catch (err) {
      return err as Error;
    }
  }
  // FileHandle (promises readFile/writeFile/appendFile take one): an open file.
  if (typeof o.fd === 'number') return null;
  // Anything else Node rejects; give it what we read, so a getter cannot turn into a URL later.
  return { str: '', pass: { href, protocol, auth, path: p } };
}

function listFor(e: Effective, kind: Kind): true | false | string[] {
  return kind === 'read' ? e.read : e.write;
}

function fsDenial(kind: Kind, resource: string, op: string): Denial {
  const id = kind === 'read' ? 'fs.read' : 'fs.write';
  return {
    capability: id,
    permission: capability(id).permission,
    resource,
    operation: op,
    what: `fs ${kind === 'read' ? 'read of' : 'write to'} ${resource}`,
    hint: grantHint(id, resource),
  };
}

interface Target {
  kind: Kind;
  arg: PathArg;
  follow: boolean;
  dac: Dac;
  template: boolean;
}

function resolveTarget(t: Target, abs: string | null = absolute(t.arg.str)): string | null {
  if (abs === null) return null;
  return resolveAbs(t.template ? abs + 'XXXXXX' : abs, t.follow);
}

/** The cache slot of a check: each (kind, follow, template) has its own bit. */
function slotBit(t: Target): number {
  return 1 << ((t.kind === 'write' ? 1 : 0) | (t.follow ? 2 : 0) | (t.template ? 4 : 0));
}

/**
 * Worth remembering? Not under /proc or /dev: /proc/self/fd/N and /dev/fd/N
 * (and /dev/stdin…) are links that change with the fd table, not with a call
 * cache.ts hears of.
 */
function cacheable(abs: string, real: string): boolean {
  return !abs.startsWith('/proc/') && !abs.startsWith('/dev/') && !real.startsWith('/proc/') && !real.startsWith('/dev/');
}

/**
 * The JS decision for one path of a call. `cached`: an allow remembered for
 * the same absolute path and check is taken as is, and a new allow is
 * remembered (cache.ts); denials are always worked out afresh. The kernel-error
 * re-check (convert) passes false: it asks whether the path changed under us.
 */
function decide(e: Effective, t: Target, op: string, cached: boolean): Denial | null {
  const list = listFor(e, t.kind);
  if (list === true || t.arg.str === '') return null;
  const abs = absolute(t.arg.str);
  const bit = slotBit(t);
  const remember = cached && abs !== null && list !== false && !t.arg.lossy;
  if (remember && e.fsAllowed.has(abs, bit)) return null;
  const real = resolveTarget(t, abs);
  if (real === NOT_A_PATH) return null;
  if (real === null || t.arg.lossy || list === false || !list.some((d) => isBeneath(real, d))) {
    return fsDenial(t.kind, real ?? t.arg.str, op);
  }
  if (remember && cacheable(abs, real)) e.fsAllowed.add(abs, bit);
  return null;
}

// ---------------------------------------------------------------- calls

/** What an open with these flags needs, as READ | WRITE bits. */
function openMask(flags: unknown): number {
  if (flags === undefined || flags === null) return READ;
  if (typeof flags === 'number') {
    const acc = flags & 3;
    let m = 0;
    if (acc === O_WRONLY || acc === O_RDWR || (flags & (O_CREAT | O_TRUNC | O_APPEND)) !== 0) m |= WRITE;
    if (acc !== O_WRONLY) m |= READ;
    return m;
  }
  switch (flags) {
    case 'r': case 'rs': case 'sr':
      return READ;
    case 'w': case 'wx': case 'xw': case 'a': case 'ax': case 'xa': case 'as': case 'sa':
      return WRITE;
    default: // r+ w+ a+ and their variants; an unknown string (Node rejects it) counts as both
      return BOTH;
  }
}

/** The same as kinds, a write first (a call denied both ways reports the write). */
function openKinds(flags: unknown): Kind[] {
  const m = openMask(flags);
  return m === READ ? ['read'] : m === WRITE ? ['write'] : ['write', 'read'];
}

interface Prepared {
  args: unknown[];
  targets: Target[];
  denial: Denial | null;
  error?: Error;
}

function prepare(e: Effective, specs: ArgSpec[], args: unknown[], op: string): Prepared {
  const out = args.slice();
  const targets: Target[] = [];
  for (const s of specs) {
    if (s.index >= args.length) continue;
    const a = toPathArg(args[s.index]);
    if (a instanceof Error) return { args: out, targets, denial: null, error: a };
    if (a === null) continue;
    out[s.index] = a.pass;
    let kinds: Kind[] = [s.kind as Kind];
    if (s.kind === 'open') {
      const f = args[s.index + 1];
      if (!s.flags) kinds = openKinds(typeof f === 'function' ? undefined : f);
      else if (f !== null && typeof f === 'object') {
        // read once; Node gets the copy, so a getter cannot answer differently later
        const copy = { ...(f as Record<string, unknown>) };
        out[s.index + 1] = copy;
        kinds = openKinds(copy[s.flags.option] ?? s.flags.default);
      } else kinds = openKinds(s.flags.default);
    }
    for (const kind of kinds) targets.push({ kind, arg: a, follow: s.follow, dac: kind === 'read' ? 'read' : s.dac, template: !!s.template });
  }
  targets.sort((x, y) => (x.kind === y.kind ? 0 : x.kind === 'write' ? -1 : 1));
  let denial: Denial | null = null;
  for (const t of targets) {
    denial = decide(e, t, op, true);
    if (denial) break;
  }
  return { args: out, targets, denial };
}

/** A spec with the cache bits (slotBit) of its read and write checks. */
interface SpecBits {
  spec: ArgSpec;
  read: number;
  write: number;
}

/** What a call needs regardless of its arguments, the spec (open, readFile) whose flags decide the rest, and every spec's cache bits. */
interface Fast {
  fixed: number;
  open: ArgSpec | undefined;
  bits: SpecBits[];
}

function fastOf(specs: ArgSpec[]): Fast {
  let fixed = 0;
  let open: ArgSpec | undefined;
  const bits: SpecBits[] = [];
  for (const s of specs) {
    // the hit path (cachedAllow) takes the first three arguments only
    if (s.index > 1) throw new Error(`fs guard: a path argument at ${s.index} needs cachedAllow to take more arguments`);
    if (s.kind === 'open') open = s;
    else fixed |= s.kind === 'read' ? READ : WRITE;
    const t = (kind: Kind): Target => ({ kind, arg: { str: '', pass: '' }, follow: s.follow, dac: s.dac, template: !!s.template });
    bits.push({ spec: s, read: slotBit(t('read')), write: slotBit(t('write')) });
  }
  return { fixed, open, bits };
}

/** What fs restricts, as READ | WRITE bits: 0 when every read and write is granted. */
function restricts(e: Effective): number {
  return (e.read === true ? 0 : READ) | (e.write === true ? 0 : WRITE);
}

/**
 * The hot path: what this call could need (READ | WRITE), from plain data
 * only, with `flagArg` the argument after the open spec's path. When nothing
 * of it is restricted (e.g. readFileSync with fs.read: true) the original runs
 * untouched — no copies, no path walk. An options object whose flag is an
 * accessor (or inherited) counts as both, so the full path reads it exactly once.
 * A path argument that is missing only makes the answer wider (the full path
 * skips it, as Node rejects the call).
 */
function needs(fast: Fast, flagArg: unknown): number {
  const s = fast.open;
  return s === undefined ? fast.fixed : fast.fixed | openBits(s, flagArg);
}

/**
 * What the open spec `s` needs for this flags argument, or BOTH when only
 * reading it through Node could tell: an accessor, an inherited flag, or a
 * Proxy (whose descriptor trap need not agree with what Node's read gets).
 */
function openBits(s: ArgSpec, flagArg: unknown): number {
  if (!s.flags) return openMask(typeof flagArg === 'function' ? undefined : flagArg);
  if (flagArg === undefined) return s.flags.defaultMask; // readFileSync(path): the common call
  if (flagArg === null || typeof flagArg !== 'object') return s.flags.defaultMask;
  if (isProxy(flagArg)) return BOTH;
  const d = Object.getOwnPropertyDescriptor(flagArg, s.flags.option);
  if (d ? d.get !== undefined || d.set !== undefined : s.flags.option in flagArg) return BOTH;
  return openMask(d?.value ?? s.flags.default);
}

/**
 * The second hot path, under path lists: every path of the call is a string
 * whose checks of each restricted kind it needs are remembered allows
 * (cache.ts), so the call may pass as given — the same values the full path
 * would have checked and passed on (it hands strings on unchanged). Anything
 * else (a Buffer, a URL, a missing argument, a miss) takes the full path.
 * The arguments come one by one so the caller makes no arguments object.
 */
function cachedAllow(e: Effective, fast: Fast, n: number, a0: unknown, a1: unknown, a2: unknown): boolean {
  for (const b of fast.bits) {
    const s = b.spec;
    if (s.index >= n) return false;
    const v = s.index === 0 ? a0 : a1;
    if (typeof v !== 'string' || v === '') return false;
    const m = s.kind === 'open' ? openBits(s, s.index === 0 ? a1 : a2) : s.kind === 'read' ? READ : WRITE;
    let abs: string | null | undefined;
    if ((m & WRITE) !== 0 && e.write !== true) {
      abs = absolute(v);
      if (abs === null || !e.fsAllowed.has(abs, b.write)) return false;
    }
    if ((m & READ) !== 0 && e.read !== true) {
      abs ??= absolute(v);
      if (abs === null || !e.fsAllowed.has(abs, b.read)) return false;
    }
  }
  return true;
}

/** Would the permission bits alone have allowed this? access(2) is restricted by neither Landlock nor our seccomp filter. */
function dacAllows(t: Target): boolean {
  const real = resolveTarget(t);
  if (real === null || real === NOT_A_PATH) return false;
  const can = (p: string, mode: number): boolean => {
    try {
      accessSync(p, mode);
      return true;
    } catch {
      return false;
    }
  };
  let exists: boolean;
  try {
    exists = lstatSync(real, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
  switch (t.dac) {
    case 'read':
      return exists ? can(real, R_OK) : can(path.dirname(real), X_OK);
    case 'data':
      return exists ? can(real, W_OK) : can(path.dirname(real), W_OK | X_OK);
    case 'entry':
      return can(path.dirname(real), W_OK | X_OK);
    case 'meta':
      return can(path.dirname(real), X_OK);
  }
}

/** Did the kernel answer for the policy? Then the errno error becomes a PolicyViolation (layer 'kernel'). */
function convert(err: unknown, targets: Target[], op: string): unknown {
  if (!err || typeof err !== 'object' || err instanceof PolicyViolation) return err;
  const code = (err as { code?: unknown }).code;
  if (code !== 'EACCES' && code !== 'EPERM') return err;
  if (!lockedDown()) return err;
  const e = effective();
  if (!e) return err;
  const restricted = targets.filter((t) => listFor(e, t.kind) !== true);
  if (restricted.length === 0) return err;
  for (const t of restricted) {
    const d = decide(e, t, op, false);
    if (d) return fromKernel(d, err);
  }
  if (code !== 'EACCES' || !targets.every(dacAllows)) return err;
  const t = restricted[0];
  const real = resolveTarget(t);
  return fromKernel(fsDenial(t.kind, real ?? t.arg.str, op), err);
}

function needsConvert(e: Effective, targets: Target[]): boolean {
  return lockedDown() && targets.some((t) => listFor(e, t.kind) !== true);
}

// Audit mode publishes a denial once per call: a guarded call that calls
// another guarded one synchronously (writeFile → fs.open) does not publish
// again. Only publishing depends on this; every call is still checked.
let depth = 0;

function audit(d: Denial): void {
  if (depth === 0) violation(d);
}

function run<T>(fn: () => T): T {
  depth++;
  try {
    return fn();
  } finally {
    depth--;
  }
}

type Fn = (this: unknown, ...a: unknown[]) => unknown;
type Style = 'sync' | 'callback' | 'promise';

function finish(wrapper: Fn, orig: Fn): Fn {
  try {
    Object.defineProperty(wrapper, 'length', { value: orig.length, configurable: true });
  } catch { /* cosmetic */ }
  return wrapper;
}

/** A sync call; one that changes the namespace runs with the decision cache emptied and paused (cache.ts). */
function callSync(orig: Fn, self: unknown, args: ArrayLike<unknown>, tracks: boolean): unknown {
  if (!tracks) return orig.apply(self, args as unknown[]);
  const end = beginNamespaceChange();
  try {
    return orig.apply(self, args as unknown[]);
  } finally {
    end();
  }
}

/** A call nothing of which is restricted: no path to check, the arguments pass as given. */
function unchecked(args: unknown[]): Prepared {
  return { args, targets: [], denial: null };
}

function wrap(name: string, orig: Fn, specs: ArgSpec[], style: Style, op: string): Fn {
  let wrapper: Fn;
  const lastPathIndex = Math.max(...specs.map((s) => s.index));
  const fast = fastOf(specs);
  // the argument after the open spec's path (flags or options); unused when there is none
  const flagIndex = fast.open ? fast.open.index + 1 : 0;
  const tracks = NAMESPACE.has(op);
  // The hot path of each style reads `arguments` and hands it on: V8 then makes
  // no arguments object and no array; only a call that must be checked (or
  // tracked) copies its arguments.
  if (style === 'sync') {
    // The full path, apart: the wrapper itself stays small enough for V8 to
    // inline it (and the original into it) where it is called.
    const full = function (this: unknown, e: Effective, args: unknown[], hit: boolean): unknown {
      if (hit) {
        // a remembered allow after a lockdown: the kernel may still answer; work the targets
        // out again (the same strings) only to judge that answer
        try {
          return orig.apply(this, args);
        } catch (err) {
          throw convert(err, prepare(e, specs, args.slice(), op).targets, op);
        }
      }
      const p = prepare(e, specs, args, op);
      if (p.error) throw p.error;
      if (p.denial) {
        if (!e.audit) throw violation(p.denial);
        audit(p.denial);
      }
      if (!needsConvert(e, p.targets)) return run(() => callSync(orig, this, p.args, tracks));
      try {
        return run(() => callSync(orig, this, p.args, tracks));
      } catch (err) {
        throw convert(err, p.targets, op);
      }
    };
    wrapper = {
      [name](this: unknown): unknown {
        const e = effective();
        // eslint-disable-next-line prefer-rest-params
        if (e === null) return orig.apply(this, arguments as unknown as unknown[]);
        const r = restricts(e);
        // eslint-disable-next-line prefer-rest-params
        if (r === 0 || (r !== BOTH && (r & needs(fast, arguments[flagIndex])) === 0)) {
          // eslint-disable-next-line prefer-rest-params
          return tracks ? callSync(orig, this, arguments, true) : orig.apply(this, arguments as unknown as unknown[]);
        }
        // A remembered allow for every path: audit mode takes the full path (run() keeps
        // nested calls from publishing twice), and so do namespace changes (they pause the cache).
        // eslint-disable-next-line prefer-rest-params
        const hit = !e.audit && !tracks && cachedAllow(e, fast, arguments.length, arguments[0], arguments[1], arguments[2]);
        // eslint-disable-next-line prefer-rest-params
        if (hit && !lockedDown()) return orig.apply(this, arguments as unknown as unknown[]);
        // eslint-disable-next-line prefer-rest-params
        return full.call(this, e, Array.prototype.slice.call(arguments) as unknown[], hit);
      },
    }[name] as Fn;
  } else if (style === 'callback') {
    wrapper = {
      [name](this: unknown): unknown {
        const e = effective();
        // eslint-disable-next-line prefer-rest-params
        if (e === null) return orig.apply(this, arguments as unknown as unknown[]);
        const r = restricts(e);
        // eslint-disable-next-line prefer-rest-params
        const free = r === 0 || (r !== BOTH && (r & needs(fast, arguments[flagIndex])) === 0);
        // eslint-disable-next-line prefer-rest-params
        if (free && !tracks) return orig.apply(this, arguments as unknown as unknown[]);
        // eslint-disable-next-line prefer-rest-params
        const args = Array.prototype.slice.call(arguments) as unknown[];
        const p = free ? unchecked(args) : prepare(e, specs, args, op);
        if (p.error) throw p.error; // Node throws argument errors synchronously here too
        let cbIndex = args.length - 1;
        while (cbIndex >= 0 && typeof args[cbIndex] !== 'function') cbIndex--;
        const cb = cbIndex >= 0 ? (args[cbIndex] as (err: unknown, ...r: unknown[]) => unknown) : undefined;
        if (p.denial) {
          if (!e.audit) {
            const v = violation(p.denial);
            if (!cb) throw v; // Node throws for a missing callback; nothing was done
            process.nextTick(cb, v);
            return undefined;
          }
          audit(p.denial);
        }
        // a namespace change ends when Node calls back (or throws: then nothing started)
        const end = tracks ? beginNamespaceChange() : undefined;
        let endsInCallback = false;
        if (cb && cbIndex > lastPathIndex && needsConvert(e, p.targets)) {
          const targets = p.targets;
          endsInCallback = true;
          p.args[cbIndex] = function (this: unknown, err: unknown, ...rest: unknown[]) {
            end?.();
            return cb.call(this, err ? convert(err, targets, op) : err, ...rest);
          };
        } else if (end && cb && cbIndex > lastPathIndex) {
          endsInCallback = true;
          p.args[cbIndex] = function (this: unknown) {
            end();
            // eslint-disable-next-line prefer-rest-params
            return (cb as Fn).apply(this, arguments as unknown as unknown[]);
          };
        }
        let result: unknown;
        try {
          result = run(() => orig.apply(this, p.args));
        } catch (err) {
          end?.();
          throw err;
        }
        if (end && !endsInCallback) end();
        return result;
      },
    }[name] as Fn;
  } else {
    wrapper = {
      [name](this: unknown): unknown {
        const e = effective();
        // eslint-disable-next-line prefer-rest-params
        if (e === null) return orig.apply(this, arguments as unknown as unknown[]);
        const r = restricts(e);
        // eslint-disable-next-line prefer-rest-params
        const free = r === 0 || (r !== BOTH && (r & needs(fast, arguments[flagIndex])) === 0);
        // eslint-disable-next-line prefer-rest-params
        if (free && !tracks) return orig.apply(this, arguments as unknown as unknown[]);
        // eslint-disable-next-line prefer-rest-params
        const args = Array.prototype.slice.call(arguments) as unknown[];
        const p = free ? unchecked(args) : prepare(e, specs, args, op);
        if (p.error) return Promise.reject(p.error);
        if (p.denial) {
          if (!e.audit) return Promise.reject(violation(p.denial));
          audit(p.denial);
        }
        const end = tracks ? beginNamespaceChange() : undefined;
        let result: unknown;
        try {
          result = run(() => orig.apply(this, p.args));
        } catch (err) {
          end?.();
          throw err;
        }
        if (!(result instanceof Promise)) {
          end?.();
          return result;
        }
        let settled: Promise<unknown> = result;
        if (end) {
          settled = settled.then((v) => {
            end();
            return v;
          }, (err: unknown) => {
            end();
            throw err;
          });
        }
        if (!needsConvert(e, p.targets)) return settled;
        const targets = p.targets;
        return settled.then(undefined, (err: unknown) => {
          throw convert(err, targets, op);
        });
      },
    }[name] as Fn;
  }
  return finish(wrapper, orig);
}

function patch(obj: Record<string, unknown>, key: string, specs: ArgSpec[], style: Style, op: string): void {
  const orig = obj[key];
  if (typeof orig !== 'function') return; // lchmod exists only on macOS (fs) / throws (fs/promises)
  obj[key] = wrap(key, orig as Fn, specs, style, op);
}

let done = false;
export function install(): void {
  if (done) return;
  done = true;
  const F = fs as unknown as Record<string, unknown>;
  const P = fsp as unknown as Record<string, unknown>;
  for (const [name, specs] of Object.entries(APIS)) {
    if (name === 'openAsBlob') {
      patch(F, name, specs, 'promise', name);
      continue;
    }
    patch(F, `${name}Sync`, specs, 'sync', name);
    patch(F, name, specs, 'callback', name);
    patch(P, name, specs, 'promise', name);
  }
}
