// net, and through it tls, http, https and undici: every TCP or unix client
// ends in Socket.prototype.connect and every server in Server.prototype.listen,
// whatever entry point (net.connect, http.request, tls.connect, an Agent's
// createConnection captured at load time) reached them.

// `import x = require()`: the module objects themselves (live, like a namespace
// import, without its per-property getter on every connect).
import dns = require('node:dns');
import net = require('node:net');
import { canonicalIp } from '../policy/netrules';
import { checkConnect, checkListen, checkResolved, checkUnix, netDenial, type Denial } from './check';
import { emitLater, fromKernel, KERNEL_CODES, violation } from './deny';
import { effective, lockedDown, type Effective } from './state';

type NormalizedArgs = [Record<string, unknown>, unknown];
type LookupFn = (host: string, opts: Record<string, unknown>, cb: (err: Error | null, addr?: unknown, family?: number) => void) => void;

const normalizeArgs = (net as unknown as { _normalizeArgs(args: unknown[]): NormalizedArgs })._normalizeArgs;
const kKernelDenial = Symbol('blackbox-native.kernelDenial');

interface KernelContext { syscalls: readonly string[]; denial: () => Denial }

let emitHooked = false;
/**
 * One hook on the prototypes' emit (not a closure per socket, which would
 * give every socket its own shape): an 'error' on an object marked with a
 * KernelContext is checked, every other event passes straight through.
 */
function hookEmit(): void {
  if (emitHooked) return;
  emitHooked = true;
  for (const proto of [net.Socket.prototype, net.Server.prototype] as unknown as Array<{ emit: (...a: unknown[]) => boolean }>) {
    const orig = proto.emit;
    proto.emit = function emit(this: Record<symbol, KernelContext | undefined>, event: unknown): boolean {
      const ctx = event === 'error' ? this[kKernelDenial] : undefined;
      if (ctx !== undefined) {
        const err = arguments[1] as { code?: string; syscall?: string } | undefined;
        if (err && typeof err === 'object' && KERNEL_CODES.has(err.code ?? '') && ctx.syscalls.includes(err.syscall ?? '')) {
          const args = Array.prototype.slice.call(arguments);
          args[1] = fromKernel(ctx.denial(), err);
          return orig.apply(this, args);
        }
      }
      // eslint-disable-next-line prefer-rest-params
      return orig.apply(this, arguments as unknown as unknown[]);
    };
  }
}

/**
 * After a lockdown, an EACCES/EPERM/ENOSYS from connect() (or listen/bind)
 * on an object the JS check let through is the kernel's answer: surface it as
 * a PolicyViolation (layer 'kernel', the errno error as cause).
 */
function convertKernelErrors(target: net.Socket | net.Server, syscalls: readonly string[], denial: () => Denial): void {
  if (!lockedDown()) return;
  hookEmit();
  (target as unknown as Record<symbol, KernelContext>)[kKernelDenial] = { syscalls, denial };
}

const CONNECT_SYSCALLS = ['connect', 'write'] as const;
const LISTEN_SYSCALLS = ['listen', 'bind'] as const;

/** A lookup that checks every address the name resolves to and pins the connection to them. */
function checkingLookup(host: string, port: number, inner: LookupFn): LookupFn {
  return (hostname, opts, cb) => {
    inner(hostname, { ...opts, all: true }, (err, addrs, fam) => {
      if (err) return cb(err);
      // a custom lookup may ignore `all` and answer with one address
      const list = typeof addrs === 'string' ? [{ address: addrs, family: fam ?? net.isIP(addrs) }] : Array.isArray(addrs) ? (addrs as Array<{ address: string; family: number }>) : [];
      const e = effective();
      const d = e ? checkResolved(e, host, list.map((a) => a.address), port) : null;
      if (d && e && !e.audit) return cb(violation(d));
      if (d) violation(d);
      if (opts.all) return cb(null, list);
      const first = list[0];
      return cb(null, first?.address, first?.family);
    });
  };
}

/** validatePort() of lib/internal/validators.js (allowZero), as a predicate: Node throws for the rest. */
function validPort(port: unknown): boolean {
  if (typeof port !== 'number' && typeof port !== 'string') return false;
  if (typeof port === 'string' && port.trim().length === 0) return false;
  const n = +port;
  return n === n >>> 0 && n <= 0xffff;
}

/** [options, cb] with Node's "already normalized" marker kept, so connect() does not re-parse. */
function renormalized(normalized: NormalizedArgs, options: Record<string, unknown>): NormalizedArgs {
  const next = [options, normalized[1]] as unknown as NormalizedArgs;
  for (const sym of Object.getOwnPropertySymbols(normalized)) (next as unknown as Record<symbol, unknown>)[sym] = (normalized as unknown as Record<symbol, unknown>)[sym];
  return next;
}

/** After a lockdown, EACCES/EPERM/ENOSYS from listen/bind is the kernel's answer (Landlock BIND_TCP, seccomp). */
/**
 * A denied TCP connect fails inside Node's own connect: the socket gets its
 * (unconnected, fd-less) handle and `connecting` as usual, then a lookup that
 * answers with the PolicyViolation makes Node destroy it with that error on a
 * later tick, as a failed DNS lookup would. Callers that look at the socket
 * right after connect() (http2's session setup checks `connecting` and
 * `_handle`) see what they would see in Node. No socket is created: libuv
 * creates the fd only when it connects. For an IP, Node skips the lookup, so
 * it is handed the address in brackets (not an IP to Node).
 */
function denyInNode(socket: net.Socket, orig: (...a: unknown[]) => net.Socket, normalized: NormalizedArgs, options: Record<string, unknown>, host: string, err: Error): net.Socket {
  const fail: LookupFn = (_h, _o, cb) => process.nextTick(cb, err);
  const shown = net.isIP(host) ? `[${host}]` : host;
  return orig.call(socket, renormalized(normalized, { ...options, host: shown, lookup: fail }));
}

/** Hosts remembered per policy in Effective.connectPass; past it the map starts over. */
const PASS_HOSTS_MAX = 64;
const PASS_PORTS_MAX = 64;

/**
 * Remembers that a connect to `host` (a literal IP, as Node spells it) and `port` (the value
 * as given) passed unchanged. Only an allow is stored, under the Effective it was computed
 * for (a new policy starts empty), so the cache can skip a check but never decide one.
 */
function rememberPass(e: Effective, host: string, port: unknown): void {
  let ports = e.connectPass.get(host);
  if (ports === undefined) {
    if (e.connectPass.size >= PASS_HOSTS_MAX) e.connectPass.clear();
    e.connectPass.set(host, (ports = new Set()));
  } else if (ports.size >= PASS_PORTS_MAX) ports.clear();
  ports.add(port);
}

function guardedConnect(orig: (...a: unknown[]) => net.Socket) {
  // The hot path reads `arguments` and hands it on (no rest array, no copy), and stays small
  // enough to inline: Node's own net.connect() calls socket.connect(normalized), and the same
  // granted literal IP and port again is a Map lookup (≈ 2 µs of cold checking code per
  // connect otherwise, measured in bench/paired.js). The full check is apart.
  const full = function (this: net.Socket, e: Effective, args: unknown[]): net.Socket {
    const normalized = (args.length === 1 && Array.isArray(args[0]) ? args[0] : normalizeArgs(args)) as NormalizedArgs;
    const options = normalized[0];
    // host and port are read once; the check, the cache and Node's connect see these values
    const h0 = options.host;
    const p0 = options.port;
    if (typeof options.path === 'string') {
      const d = checkUnix(e, options.path, 'connect');
      if (d && !e.audit) {
        emitLater(this, violation(d));
        return this;
      }
      if (d) violation(d);
      return orig.apply(this, args);
    }
    if (!validPort(p0)) return orig.apply(this, args); // Node throws its own error
    const host = typeof h0 === 'string' && h0 !== '' ? h0 : 'localhost';
    const port = Number(p0);
    const v = checkConnect(e, host, port);
    const ip = canonicalIp(host);
    if (v.ok === false) {
      if (!e.audit) return denyInNode(this, orig, normalized, options, host, violation(v.denial));
      violation(v.denial);
    } else if (ip && net.isIP(host) === 0) {
      // An inet_aton spelling (0x7f.1, 2130706433) is not an IP to Node, which
      // would hand it to a lookup (possibly the caller's): connect to the
      // address that was checked instead.
      convertKernelErrors(this, CONNECT_SYSCALLS, () => netDenial(ip.ip, port, 'connect'));
      return orig.call(this, renormalized(normalized, { ...options, host: ip.ip }));
    } else if (v.ok === 'resolve' || (e.policy.net.connect !== true && !ip && host.toLowerCase().replace(/\.$/, '') === 'localhost')) {
      // A name allowed only through its addresses, or 'localhost' (granted as
      // loopback, whatever a custom lookup says): check every address and pin.
      const inner = (typeof options.lookup === 'function' ? options.lookup : dns.lookup) as LookupFn;
      const copy = { ...options, lookup: checkingLookup(host, port, inner) };
      convertKernelErrors(this, CONNECT_SYSCALLS, () => netDenial(host, port, 'connect'));
      return orig.call(this, renormalized(normalized, copy));
    }
    convertKernelErrors(this, CONNECT_SYSCALLS, () => netDenial(host, port, 'connect'));
    // what was checked is what Node will read (a getter on a caller's options could differ)
    if (v.ok === true && ip && host === h0 && options.host === h0 && options.port === p0) rememberPass(e, h0, p0);
    // already normalized (and marked so by Node): connect() does not parse again
    return orig.call(this, normalized);
  };
  return function connect(this: net.Socket): net.Socket {
    const e = effective();
    // eslint-disable-next-line prefer-rest-params
    if (e === null) return orig.apply(this, arguments as unknown as unknown[]);
    // eslint-disable-next-line prefer-rest-params
    const a0 = arguments[0] as NormalizedArgs | undefined;
    if (arguments.length === 1 && Array.isArray(a0)) {
      const o = a0[0];
      const h = o.host;
      const p = o.port;
      if (typeof h === 'string' && o.path === undefined && e.connectPass.get(h)?.has(p) === true) {
        if (lockedDown()) convertKernelErrors(this, CONNECT_SYSCALLS, () => netDenial(h, Number(p), 'connect'));
        return orig.call(this, a0);
      }
    }
    // eslint-disable-next-line prefer-rest-params
    return full.call(this, e, Array.prototype.slice.call(arguments) as unknown[]);
  };
}

function guardedListen(orig: (...a: unknown[]) => net.Server) {
  return function listen(this: net.Server, ...args: unknown[]): net.Server {
    const e = effective();
    if (!e) return orig.apply(this, args);
    const first = args[0];
    // a handle or fd inherited from before: nothing new is bound (Node reads
    // options._handle || options.handle, then a numeric options.fd)
    if (first && typeof first === 'object') {
      const o = first as Record<string, unknown>;
      const h = (o._handle || o.handle || o) as Record<string, unknown>;
      if (h !== o || (typeof h.fd === 'number' && h.fd >= 0)) return orig.apply(this, args);
    }
    let d: Denial | null = null;
    let opts: Record<string, unknown>;
    if (first !== null && typeof first === 'object') opts = first as Record<string, unknown>;
    else if (typeof first === 'string' && !/^\d+$/.test(first)) opts = { path: first };
    else opts = { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
    if (typeof opts.path === 'string') d = checkUnix(e, opts.path, 'listen');
    else d = checkListen(e, typeof opts.host === 'string' ? opts.host : undefined, opts.port === undefined || opts.port === null ? 0 : Number(opts.port));
    if (d && !e.audit) {
      const err = violation(d);
      process.nextTick(() => this.emit('error', err));
      return this;
    }
    if (d) violation(d);
    if (typeof opts.path === 'string') return orig.apply(this, args);
    const lhost = typeof opts.host === 'string' && opts.host !== '' ? opts.host : '0.0.0.0';
    const lport = opts.port === undefined || opts.port === null ? 0 : Number(opts.port);
    convertKernelErrors(this, LISTEN_SYSCALLS, () => netDenial(canonicalIp(lhost)?.ip ?? lhost, lport, 'listen'));
    return orig.apply(this, args);
  };
}

let done = false;
export function install(): void {
  if (done) return;
  done = true;
  const S = net.Socket.prototype as unknown as { connect: (...a: unknown[]) => net.Socket };
  S.connect = guardedConnect(S.connect);
  const V = net.Server.prototype as unknown as { listen: (...a: unknown[]) => net.Server };
  V.listen = guardedListen(V.listen);
}
