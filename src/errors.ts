// Errors are data first: code, permission, resource, layer, cause. Tests match
// these fields, never the prose.

/** Node's permission names (process.permission / ERR_ACCESS_DENIED). */
export type Permission =
  | 'Net'
  | 'FileSystemRead'
  | 'FileSystemWrite'
  | 'ChildProcess'
  | 'Addon'
  | 'WorkerThreads';

export type Layer = 'js' | 'kernel';

export interface PolicyViolationInit {
  permission: Permission;
  resource: string;
  layer: Layer;
  /** Extra words after the resource: how to grant it. */
  hint?: string;
  cause?: unknown;
  /** The operation, e.g. 'connect', 'open', 'spawn'. */
  operation?: string;
  /** The words before "denied", e.g. "net connect to 10.1.2.3:443"; derived when absent. */
  what?: string;
}

/**
 * A denied operation, shaped like Node's own permission errors so that code
 * handling `ERR_ACCESS_DENIED` from `--permission` handles ours.
 */
export class PolicyViolation extends Error {
  readonly code = 'ERR_ACCESS_DENIED' as const;
  readonly permission: Permission;
  readonly resource: string;
  readonly layer: Layer;
  readonly operation: string | undefined;

  constructor(init: PolicyViolationInit) {
    const what = init.what ?? `${init.permission} ${init.operation ? `${init.operation} ` : ''}${init.resource}`;
    super(
      `blackbox-native: ${what} denied` + (init.hint ? ` — ${init.hint}` : ''),
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = 'PolicyViolation';
    this.permission = init.permission;
    this.resource = init.resource;
    this.layer = init.layer;
    this.operation = init.operation;
  }
}

/** The shape of every policy error: a TypeError with code ERR_BLACKBOX_POLICY naming the field. */
export interface PolicyError extends TypeError {
  code: 'ERR_BLACKBOX_POLICY';
  /** Dotted path of the offending field, e.g. `net.connect[2]`; '' for the policy itself. */
  field: string;
  value: unknown;
  reason: string;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

export function policyError(field: string, value: unknown, reason: string): PolicyError {
  const where = field === '' ? 'policy' : field;
  const err = new TypeError(`blackbox-native: invalid policy: ${where}: ${reason} (got ${show(value)})`) as PolicyError;
  err.code = 'ERR_BLACKBOX_POLICY';
  err.field = field;
  err.value = value;
  err.reason = reason;
  return err;
}

/** A lockdown that could not be completed; carries what was done so far. */
export interface LockdownError extends Error {
  code: 'ERR_BLACKBOX_LOCKDOWN';
  step: string;
  cause?: unknown;
}

export function lockdownError(step: string, message: string, cause?: unknown): LockdownError {
  const err = new Error(`blackbox-native: lockdown failed at ${step}: ${message}`, cause === undefined ? undefined : { cause }) as LockdownError;
  err.code = 'ERR_BLACKBOX_LOCKDOWN';
  err.step = step;
  return err;
}
