// blackbox-native/test: block the network in a test suite in one line.
//   node --test --import blackbox-native/test/register
//   vitest: setupFiles: ['blackbox-native/test/register']
//   jest:   setupFiles: ['blackbox-native/test/register']
// or, scoped:  const g = blockNetwork(); ... g.dispose();
// This is guard(): JS only and reversible, NOT a security boundary.

import { guard, type Guard } from './lockdown/guard';

export interface BlockNetworkOptions {
  /** Also allow these destinations (Deno grammar: host[:port], *.domain, IP, CIDR, :port). */
  allow?: string[];
  /** Allow loopback destinations (default true): localhost, 127.0.0.0/8, ::1. */
  allowLocalhost?: boolean;
  /** Allow servers to listen (default true: tests start their own servers). */
  allowListen?: boolean;
}

export const LOOPBACK = ['localhost', '127.0.0.0/8', '::1'];

export function blockNetwork(opts: BlockNetworkOptions = {}): Guard {
  const connect = [...(opts.allowLocalhost === false ? [] : LOOPBACK), ...(opts.allow ?? [])];
  return guard({ net: { connect: connect.length ? connect : false, listen: opts.allowListen !== false, dns: true } });
}

export { guard };
