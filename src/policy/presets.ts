// The profiles `blackbox run --profile <name>` ships: ordinary policies, so flags given
// with a profile add to it (and --deny-* takes away) exactly as they would to a policy file.

import type { Policy } from './types';

export interface Profile {
  name: string;
  summary: string;
  policy: Policy;
}

export const PROFILES: readonly Profile[] = [
  {
    name: 'strict',
    summary: 'the strictest useful policy (lockdown() with no argument): no network, read-only files, no child processes, no addons',
    policy: {},
  },
  {
    name: 'no-network',
    summary: 'everything but the network: files, child processes and addons as without blackbox',
    policy: { net: false, fs: { read: true, write: true }, childProcess: true, addons: true },
  },
  {
    name: 'offline-build',
    summary: 'compilers and bundlers: no network, read everything, write only the working directory and $TMPDIR, child processes allowed (they inherit every limit)',
    policy: { net: false, fs: { read: true, write: ['$CWD', '$TMPDIR'] }, childProcess: true, addons: true },
  },
  {
    name: 'web-service',
    summary: 'a server: DNS, writes only to $TMPDIR, no child processes, no addons; add --allow-listen=<addr:port> and --allow-net=<database:port>',
    policy: { net: { dns: true }, fs: { read: true, write: ['$TMPDIR'] }, childProcess: false, addons: false },
  },
];

export function profile(name: string): Profile | undefined {
  return PROFILES.find((p) => p.name === name);
}
