// dgram: send (and sendto, which calls it), connect and bind. Checked against
// Node 20.20's lib/dgram.js and lib/internal/dgram.js:
//  - every destination or local address goes through the socket's
//    `state.handle.lookup(address, cb)` (lookup4/lookup6 bound to the
//    createSocket `lookup` option or dns.lookup). We wrap that function on the
//    socket's handle so that (a) IP literals never reach a custom lookup (as
//    net.Socket skips the lookup for them), (b) the address a name resolved to
//    is checked before Node uses it — the datagram goes exactly where the check
//    said — and (c) a denied bind fails inside Node's own flow (bindState
//    reset, queued sends dropped, 'error' emitted) as a real bind error would.
//  - the handle lives under the socket's 'state symbol' (kStateSymbol), an
//    internal; we find it by its description.
// Errors reach the caller as Node reports these operations' errors: send and
// connect through their callback if one was given, else as 'error' on the
// socket; bind as 'error'. All on a later tick.

import * as dgram from 'node:dgram';
import * as nodeNet from 'node:net';
import { canonicalIp } from '../policy/netrules';
import { checkConnect, checkListen, checkResolved, netDenial, type Denial } from './check';
import { fromKernel, KERNEL_CODES, violation } from './deny';
import { effective, lockedDown } from './state';

type LookupCb = (err: Error | null, address?: string, family?: number) => void;
interface Handle {
  lookup: (address: string, cb: LookupCb) => unknown;
}
interface State {
  handle: Handle | null;
  bindState: number;
  connectState: number;
}
type Sock = dgram.Socket & Record<symbol, unknown>;
type Fn = (...a: unknown[]) => unknown;

const BIND_STATE_UNBOUND = 0;
const CONNECT_STATE_DISCONNECTED = 0;
const CONNECT_STATE_CONNECTING = 1;
const CONNECT_STATE_CONNECTED = 2;

/** What the next handle lookup must do: deliver `deny`, or `check` the address it resolved to. */
interface Ctx {
  deny?: Error;
  check?: (ip: string) => Error | null;
}

const kWrapped = Symbol('blackbox-native.dgramLookup');
const kConnectCtx = Symbol('blackbox-native.dgramConnect');
const kLast = Symbol('blackbox-native.dgramLast');
const kConverting = Symbol('blackbox-native.dgramKernel');

let kState: symbol | undefined;
/** The context of the guarded call in progress (set around the original call; lookups run synchronously inside it). */
let pending: Ctx | null | undefined;
/** True while a guarded send/connect runs: its implicit bind({ port: 0, exclusive: true }, null) is not a listen. */
let inSendOrConnect = false;

function stateOf(sock: Sock): State | undefined {
  if (kState === undefined) kState = Object.getOwnPropertySymbols(sock).find((s) => s.description === 'state symbol');
  const st = kState === undefined ? undefined : (sock[kState] as State | undefined);
  return st && typeof st === 'object' && 'handle' in st ? st : undefined;
}

function withCtx<T>(ctx: Ctx | null, fn: () => T): T {
  const saved = pending;
  pending = ctx;
  try {
    return fn();
  } finally {
    pending = saved;
  }
}

function wrapHandle(state: State): void {
  const h = state.handle as (Handle & Record<symbol, unknown>) | null;
  if (!h || h[kWrapped]) return;
  h[kWrapped] = true;
  const inner = h.lookup;
  h.lookup = function lookup(this: unknown, address: string, cb: LookupCb) {
    let ctx = pending;
    pending = undefined;
    // connect() on an unbound socket queues its lookup until the implicit bind is done
    if (ctx === undefined && h[kConnectCtx] && state.connectState === CONNECT_STATE_CONNECTING) ctx = h[kConnectCtx] as Ctx;
    if (ctx && h[kConnectCtx] === ctx) h[kConnectCtx] = undefined;
    if (ctx?.deny) {
      process.nextTick(cb, ctx.deny);
      return {};
    }
    const family = nodeNet.isIP(address);
    if (family) {
      const err = ctx?.check?.(address) ?? null;
      if (err) process.nextTick(cb, err);
      else process.nextTick(cb, null, address, family);
      return {};
    }
    return inner.call(this, address, (err, ip, fam) => {
      if (!err && ctx?.check && typeof ip === 'string') {
        const denied = ctx.check(ip);
        if (denied) return cb(denied);
      }
      return cb(err, ip, fam);
    });
  };
}

/** validatePort(port, name, allowZero) of lib/internal/validators.js, as a predicate. */
function validPort(port: unknown, allowZero: boolean): boolean {
  if (typeof port !== 'number' && typeof port !== 'string') return false;
  if (typeof port === 'string' && port.trim().length === 0) return false;
  const n = +port;
  return n === n >>> 0 && n <= 0xffff && (allowZero || n !== 0);
}

function defaultHost(sock: Sock, bind: boolean): string {
  const v6 = (sock as unknown as { type?: string }).type === 'udp6';
  return bind ? (v6 ? '::' : '0.0.0.0') : v6 ? '::1' : '127.0.0.1';
}

/** After a lockdown, an EACCES/EPERM/ENOSYS from bind/send/connect is the kernel's answer. */
function isKernel(err: unknown): boolean {
  const x = err as { code?: string; syscall?: string } | null;
  return !!x && typeof x === 'object' && !(err instanceof Error && err.name === 'PolicyViolation') && KERNEL_CODES.has(x.code ?? '')
    && ['bind', 'send', 'connect', 'sendto', 'sendmsg'].includes(x.syscall ?? '');
}

function convertKernelErrors(sock: Sock): void {
  if (!lockedDown() || sock[kConverting]) return;
  sock[kConverting] = true;
  const emit = sock.emit;
  sock.emit = function (this: Sock, event: string | symbol, ...rest: unknown[]): boolean {
    if (event === 'error' && isKernel(rest[0]) && typeof this[kLast] === 'function') rest[0] = fromKernel((this[kLast] as () => Denial)(), rest[0]);
    return (emit as (...a: unknown[]) => boolean).call(this, event, ...rest);
  } as typeof sock.emit;
}

/**
 * The check of a destination: null = denied now (the Denial is returned in
 * `denial`), or the lookup context that checks the address actually used.
 */
function destination(host: string, port: number): { denial: Denial } | { ctx: Ctx | null } {
  const e = effective()!;
  const ip = canonicalIp(host);
  const isLocalhostName = !ip && host.toLowerCase().replace(/\.$/, '') === 'localhost';
  const v = checkConnect(e, host, port);
  if (v.ok === false) {
    if (!e.audit) return { denial: v.denial };
    violation(v.denial);
    return { ctx: null };
  }
  if (e.policy.net.connect === true) return { ctx: null };
  // a name granted by a host or wildcard rule goes wherever it resolves; an IP
  // (any spelling), 'localhost' or a name allowed only through its addresses is
  // checked again on the address the lookup returned
  if (v.ok === true && !ip && !isLocalhostName) return { ctx: null };
  const shown = ip ? ip.ip : host;
  return {
    ctx: {
      check(addr: string): Error | null {
        const now = effective();
        if (!now) return null;
        const d = checkResolved(now, shown, [addr], port);
        if (!d) return null;
        if (now.audit) {
          violation(d);
          return null;
        }
        return violation(d);
      },
    },
  };
}

function deliver(sock: Sock, callback: unknown, err: Error): void {
  if (typeof callback === 'function') process.nextTick(callback as (e: Error) => void, err);
  else process.nextTick(() => sock.emit('error', err));
}

function wrapCallback(callback: unknown, denialFor: () => Denial): unknown {
  if (typeof callback !== 'function' || !lockedDown()) return callback;
  return function (this: unknown, err: unknown, ...rest: unknown[]) {
    return (callback as Fn).call(this, isKernel(err) ? fromKernel(denialFor(), err) : err, ...rest);
  };
}

function guardedSend(orig: Fn): Fn {
  return function send(this: Sock, ...args: unknown[]) {
    const e = effective();
    if (!e) return orig.apply(this, args);
    const state = stateOf(this);
    if (!state || !state.handle) return orig.apply(this, args); // Node throws ERR_SOCKET_DGRAM_NOT_RUNNING
    wrapHandle(state);
    convertKernelErrors(this);
    const run = (ctx: Ctx | null) => {
      const saved = inSendOrConnect;
      inSendOrConnect = true;
      try {
        return withCtx(ctx, () => orig.apply(this, args));
      } finally {
        inSendOrConnect = saved;
      }
    };
    if (state.connectState === CONNECT_STATE_CONNECTED) return run(null); // the destination was checked by connect()

    // Node's argument forms for an unconnected socket
    let port: unknown;
    let address: unknown;
    let callback: unknown;
    let cbIndex: number;
    if (args[4] || (args[3] && typeof args[3] !== 'function')) {
      port = args[3];
      address = args[4];
      callback = args[5];
      cbIndex = 5;
    } else {
      port = args[1];
      address = args[2];
      callback = args[3];
      cbIndex = 3;
    }
    if (typeof callback !== 'function') callback = undefined;
    if (typeof address === 'function') {
      callback = address;
      cbIndex--;
      address = undefined;
    }
    if (!validPort(port, false) || (address != null && typeof address !== 'string')) return orig.apply(this, args); // Node throws
    const host = (address as string | undefined) || defaultHost(this, false);
    const p = +(port as number);
    const dest = destination(host, p);
    const denialFor = () => netDenial(canonicalIp(host)?.ip ?? host, p, 'connect');
    if ('denial' in dest) {
      deliver(this, callback, violation(dest.denial));
      return undefined;
    }
    this[kLast] = denialFor;
    if (callback && lockedDown()) {
      args = [...args];
      args[cbIndex] = wrapCallback(callback, denialFor);
    }
    return run(dest.ctx);
  };
}

function guardedConnect(orig: Fn): Fn {
  return function connect(this: Sock, ...args: unknown[]) {
    const e = effective();
    if (!e) return orig.apply(this, args);
    const state = stateOf(this);
    // already connected, closed or a bad port: Node throws its own error
    if (!state || !state.handle || state.connectState !== CONNECT_STATE_DISCONNECTED || !validPort(args[0], false)) return orig.apply(this, args);
    let address = args[1];
    let callback = args[2];
    if (typeof address === 'function') {
      callback = address;
      address = '';
    } else if (address === undefined) address = '';
    if (typeof address !== 'string') return orig.apply(this, args);
    wrapHandle(state);
    convertKernelErrors(this);
    const host = address || defaultHost(this, false);
    const p = +(args[0] as number);
    const dest = destination(host, p);
    if ('denial' in dest) {
      deliver(this, callback, violation(dest.denial));
      return undefined;
    }
    this[kLast] = () => netDenial(canonicalIp(host)?.ip ?? host, p, 'connect');
    (state.handle as unknown as Record<symbol, unknown>)[kConnectCtx] = dest.ctx ?? undefined;
    const saved = inSendOrConnect;
    inSendOrConnect = true;
    try {
      return withCtx(dest.ctx, () => orig.apply(this, args));
    } finally {
      inSendOrConnect = saved;
    }
  };
}

function guardedBind(orig: Fn): Fn {
  return function bind(this: Sock, ...args: unknown[]) {
    const e = effective();
    if (!e) return orig.apply(this, args);
    const state = stateOf(this);
    // already bound or closed: Node throws its own error
    if (!state || !state.handle || state.bindState !== BIND_STATE_UNBOUND) return orig.apply(this, args);
    wrapHandle(state);
    convertKernelErrors(this);
    const first = args[0] as Record<string, unknown> | null | undefined;
    // send()/connect() binding an ephemeral port for themselves
    if (inSendOrConnect && first && typeof first === 'object' && first.port === 0 && first.exclusive === true && args[1] === null) {
      return withCtx(null, () => orig.apply(this, args));
    }
    // an existing handle or fd: nothing new is bound
    if (first !== null && typeof first === 'object' && (typeof first.recvStart === 'function' || (Number.isInteger(first.fd) && (first.fd as number) > 0))) {
      return orig.apply(this, args);
    }
    let address: unknown;
    let port: unknown;
    if (first !== null && typeof first === 'object') {
      address = first.address || '';
      port = first.port;
    } else {
      address = typeof args[1] === 'function' ? '' : args[1];
      port = first;
    }
    const host = address || defaultHost(this, true);
    if (typeof host !== 'string') return orig.apply(this, args); // Node throws ERR_INVALID_ARG_TYPE
    const p = Number(port) || 0;
    const d = checkListen(e, host, p);
    this[kLast] = () => netDenial(canonicalIp(host)?.ip ?? host, p, 'listen');
    if (d && !e.audit) return withCtx({ deny: violation(d) }, () => orig.apply(this, args));
    if (d) violation(d);
    return withCtx(null, () => orig.apply(this, args));
  };
}

let done = false;
export function install(): void {
  if (done) return;
  done = true;
  const P = dgram.Socket.prototype as unknown as Record<string, Fn>;
  const patch = (key: string, make: (f: Fn) => Fn) => {
    const orig = P[key];
    const g = make(orig);
    Object.defineProperty(g, 'name', { value: orig.name, configurable: true });
    Object.defineProperty(g, 'length', { value: orig.length, configurable: true });
    P[key] = g;
  };
  patch('send', guardedSend);
  patch('connect', guardedConnect);
  patch('bind', guardedBind);
}


