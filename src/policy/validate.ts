// Validation: every field, every bad input, before anything is enforced. Each
// error is a TypeError with code ERR_BLACKBOX_POLICY naming the field.

import { policyError } from '../errors';
import { parseNetRule } from './netrules';
import type { Policy } from './types';

// Each checker returns the checked value, copied: validatePolicy returns a
// snapshot of plain data, so what later layers read is what was checked (a
// Proxy or a getter cannot answer differently the second time).
type Shape = Record<string, (value: unknown, field: string) => unknown>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function checkObject(value: unknown, field: string, shape: Shape): Record<string, unknown> {
  if (!isPlainObject(value)) throw policyError(field, value, 'must be a plain object');
  const out: Record<string, unknown> = {};
  for (const key of Reflect.ownKeys(value)) {
    if (typeof key === 'symbol') throw policyError(field, value, 'must not have symbol keys');
    const sub = field === '' ? key : `${field}.${key}`;
    if (!Object.prototype.hasOwnProperty.call(shape, key)) {
      throw policyError(sub, value[key], `is not a known key (known: ${Object.keys(shape).join(', ')})`);
    }
    const desc = Object.getOwnPropertyDescriptor(value, key)!;
    if (desc.get || desc.set) throw policyError(sub, undefined, 'must be a data property, not a getter');
    if (desc.value === undefined) continue;
    out[key] = shape[key](desc.value, sub);
  }
  return out;
}

function checkBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw policyError(field, value, 'must be true or false');
  return value;
}

function checkList(value: unknown, field: string, item: (v: string, f: string) => void, what: string): boolean | string[] {
  if (typeof value === 'boolean') return value;
  if (!Array.isArray(value)) throw policyError(field, value, `must be true, false or an array of ${what}`);
  const length = value.length;
  if (length > 4096) throw policyError(field, value, 'has more than 4096 entries');
  const out: string[] = [];
  // Every index, holes included (forEach would skip them), each read once.
  for (let i = 0; i < length; i++) {
    const f = `${field}[${i}]`;
    const desc = Object.getOwnPropertyDescriptor(value, i);
    if (desc && (desc.get || desc.set)) throw policyError(f, undefined, 'must be a data property, not a getter');
    const v: unknown = desc?.value;
    if (typeof v !== 'string') throw policyError(f, v, `must be a string (${what})`);
    if (v === '') throw policyError(f, v, 'must not be empty');
    if (v.includes('\0')) throw policyError(f, v, 'must not contain a NUL byte');
    item(v, f);
    out.push(v);
  }
  return out;
}

function netEntry(v: string, f: string): void {
  const r = parseNetRule(v);
  if (typeof r === 'string') throw policyError(f, v, r);
}

/** Shape and grammar of paths are checked here; expansion happens in normalize. */
function pathEntry(v: string, f: string): void {
  if (v.length > 4096) throw policyError(f, v, 'is longer than PATH_MAX (4096)');
}

function execEntry(v: string, f: string): void {
  pathEntry(v, f);
  if (v.endsWith('/')) throw policyError(f, v, 'names a directory: list executables');
}

const NET_SHAPE: Shape = {
  connect: (v, f) => checkList(v, f, netEntry, 'host[:port], *.domain, IP, CIDR or :port entries'),
  listen: (v, f) => checkList(v, f, netEntry, 'address[:port] or :port entries'),
  unix: (v, f) => checkList(v, f, pathEntry, 'socket paths'),
  dns: checkBoolean,
};

const FS_SHAPE: Shape = {
  read: (v, f) => checkList(v, f, pathEntry, 'paths'),
  write: (v, f) => checkList(v, f, pathEntry, 'paths'),
};

const POLICY_SHAPE: Shape = {
  net: (v, f) => (typeof v === 'boolean' ? v : checkObject(v, f, NET_SHAPE)),
  fs: (v, f) => (typeof v === 'boolean' ? v : checkObject(v, f, FS_SHAPE)),
  childProcess: (v, f) => checkList(v, f, execEntry, 'absolute executable paths'),
  addons: checkBoolean,
  workers: checkBoolean,
  mode: (v, f) => {
    if (v !== 'enforce' && v !== 'audit') throw policyError(f, v, 'must be "enforce" or "audit"');
    return v;
  },
};

/**
 * Throws ERR_BLACKBOX_POLICY for anything that is not a well-formed Policy.
 * Returns a copy made of plain data: the values that were checked.
 */
export function validatePolicy(input: unknown): Policy {
  if (input === undefined) return {};
  return checkObject(input, '', POLICY_SHAPE) as Policy;
}

export const POLICY_KEYS = Object.freeze({
  policy: Object.keys(POLICY_SHAPE),
  net: Object.keys(NET_SHAPE),
  fs: Object.keys(FS_SHAPE),
});
