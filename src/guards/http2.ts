// http2 and fetch: the HTTP clients that are not just "a net.Socket".
//
// http2.connect (Node 20.20, lib/internal/http2/core.js connect()) opens its
// socket with net.connect / tls.connect at call time (or the caller's
// createConnection), so it ends in net.Socket.prototype.connect and the net
// guard; the socket's 'error' (a PolicyViolation, or the kernel's errno
// converted to one) destroys the ClientHttp2Session with that error, which is
// what its 'error' listeners receive. Nothing to patch here.
//
// fetch (undici inside Node) also connects through net.connect, but undici
// wraps every connection error as `TypeError: fetch failed` with the real
// error as `cause`. The guard checks the destination before undici runs and
// rejects with the PolicyViolation itself; a denial undici hits later (a
// redirect to a denied host, the kernel answering) is unwrapped the same way.

import * as dns from 'node:dns';
import { PolicyViolation } from '../errors';
import { checkConnect, checkResolved } from './check';
import { violation } from './deny';
import { effective } from './state';

type Fetch = (input: unknown, init?: unknown) => Promise<unknown>;

function unwrap(err: unknown): never {
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (cause instanceof PolicyViolation) throw cause;
  throw err;
}

function target(input: unknown): URL | undefined {
  try {
    if (input instanceof URL) return new URL(input.href);
    if (input !== null && typeof input === 'object' && typeof (input as { url?: unknown }).url === 'string') return new URL((input as { url: string }).url);
    if (typeof input === 'string') return new URL(input);
  } catch { /* undici rejects an invalid URL with its own TypeError */ }
  return undefined;
}

function lookupAll(host: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    dns.lookup(host, { all: true }, (err, addrs) => (err ? reject(err) : resolve((addrs as dns.LookupAddress[]).map((a) => a.address))));
  });
}

function guardFetch(orig: Fetch): Fetch {
  const fetch = function fetch(this: unknown, input: unknown, init: unknown = undefined): Promise<unknown> {
    const call = () => orig.call(this, input, init).then(undefined, unwrap);
    const e = effective();
    if (!e) return orig.call(this, input, init);
    const url = target(input);
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return call();
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    const v = checkConnect(e, host, port);
    if (v.ok === true) return call();
    if (v.ok === false) {
      if (!e.audit) return Promise.reject(violation(v.denial));
      violation(v.denial);
      return call();
    }
    // a name allowed only through its addresses: every address must be allowed
    // (the connect itself is checked and pinned again by the net guard)
    return lookupAll(host).then(
      (addrs) => {
        const now = effective();
        const d = now ? checkResolved(now, host, addrs, port) : null;
        if (d && now && !now.audit) throw violation(d);
        if (d) violation(d);
        return call();
      },
      (err) => {
        if (err instanceof PolicyViolation) throw err;
        return call(); // let undici report the resolution failure its way
      },
    );
  };
  Object.defineProperty(fetch, 'length', { value: orig.length, configurable: true });
  return fetch as Fetch;
}

let done = false;
export function install(): void {
  if (done) return;
  done = true;
  const g = globalThis as unknown as { fetch?: Fetch };
  if (typeof g.fetch === 'function') g.fetch = guardFetch(g.fetch);
}
