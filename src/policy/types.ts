// The public policy shape (SPEC.md §2) and its normalized form.

export interface NetPolicy {
  connect?: boolean | string[];
  listen?: boolean | string[];
  unix?: boolean | string[];
  dns?: boolean;
}

export interface FsPolicy {
  read?: boolean | string[];
  write?: boolean | string[];
}

export interface Policy {
  net?: boolean | NetPolicy;
  fs?: boolean | FsPolicy;
  childProcess?: boolean | string[];
  addons?: boolean;
  workers?: boolean;
  mode?: 'enforce' | 'audit';
}

/**
 * One network endpoint rule after parsing. `port` undefined = any port.
 * kind:
 *  - 'any'      ':443' (every address)
 *  - 'ip'       one address (v4 or v6, canonical text; v4-mapped v6 folded to v4)
 *  - 'cidr'     a network
 *  - 'host'     an exact DNS name (lower case, no trailing dot)
 *  - 'wildcard' '*.example.com' (any name strictly below example.com)
 *  - 'localhost' the name localhost, 127.0.0.0/8 and ::1
 */
export interface NetRule {
  kind: 'any' | 'ip' | 'cidr' | 'host' | 'wildcard' | 'localhost';
  /** ip: the address; cidr: the network address; host/wildcard: the name (wildcard without '*.'). */
  value?: string;
  family?: 4 | 6;
  prefix?: number;
  port?: number;
  /** The entry as the user wrote it, for messages. */
  source: string;
}

/** true = everything, false = nothing, list = exactly these. */
export type Grant<T> = boolean | T[];

export interface NormalizedPolicy {
  net: {
    connect: Grant<NetRule>;
    listen: Grant<NetRule>;
    unix: Grant<string>;
    dns: boolean;
  };
  fs: {
    read: Grant<string>;
    write: Grant<string>;
  };
  childProcess: Grant<string>;
  addons: boolean;
  workers: boolean;
  mode: 'enforce' | 'audit';
}

/** Values of the path variables, supplied by the caller (policy/ does no I/O). */
export interface PathContext {
  CWD: string;
  HOME?: string;
  TMPDIR?: string;
  /** Node's install prefix (dirname(dirname(process.execPath))). */
  NODE?: string;
  /** The main module's package root. */
  APP?: string;
}
