// Validation: every field, every bad input, before anything is enforced. Each
// error is a TypeError with code ERR_BLACKBOX_POLICY naming the field.

import { policyError } from '../errors';
import { parseNetRule } from './netrules';
import type { Policy } from './types';

type Shape = Record<string, (value: unknown, field: string) => void>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function checkObject(value: unknown, field: string, shape: Shape): void {
  if (!isPlainObject(value)) throw policyError(field, value, 'must be a plain object');
  for (const key of Reflect.ownKeys(value)) {
    if (typeof key === 'symbol') throw policyError(field, value, 'must not have symbol keys');
    const sub = field === '' ? key : `${field}.${key}`;
    if (!Object.prototype.hasOwnProperty.call(shape, key)) {
      throw policyError(sub, value[key], `is not a known key (known: ${Object.keys(shape).join(', ')})`);
    }
    const desc = Object.getOwnPropertyDescriptor(value, key)!;
    if (desc.get || desc.set) throw policyError(sub, undefined, 'must be a data property, not a getter');
    if (desc.value === undefined) continue;
    shape[key](desc.value, sub);
  }
}

function checkBoolean(value: unknown, field: string): void {
  if (typeof value !== 'boolean') throw policyError(field, value, 'must be true or false');
}

function checkList(value: unknown, field: string, item: (v: string, f: string) => void, what: string): void {
  if (typeof value === 'boolean') return;
  if (!Array.isArray(value)) throw policyError(field, value, `must be true, false or an array of ${what}`);
  if (value.length > 4096) throw policyError(field, value, 'has more than 4096 entries');
  value.forEach((v, i) => {
    const f = `${field}[${i}]`;
    if (typeof v !== 'string') throw policyError(f, v, `must be a string (${what})`);
    if (v === '') throw policyError(f, v, 'must not be empty');
    if (v.includes('\0')) throw policyError(f, v, 'must not contain a NUL byte');
    item(v, f);
  });
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
  net: (v, f) => (typeof v === 'boolean' ? undefined : checkObject(v, f, NET_SHAPE)),
  fs: (v, f) => (typeof v === 'boolean' ? undefined : checkObject(v, f, FS_SHAPE)),
  childProcess: (v, f) => checkList(v, f, execEntry, 'absolute executable paths'),
  addons: checkBoolean,
  workers: checkBoolean,
  mode: (v, f) => {
    if (v !== 'enforce' && v !== 'audit') throw policyError(f, v, 'must be "enforce" or "audit"');
  },
};

/** Throws ERR_BLACKBOX_POLICY for anything that is not a well-formed Policy. */
export function validatePolicy(input: unknown): Policy {
  if (input === undefined) return {};
  checkObject(input, '', POLICY_SHAPE);
  return input as Policy;
}

export const POLICY_KEYS = Object.freeze({
  policy: Object.keys(POLICY_SHAPE),
  net: Object.keys(NET_SHAPE),
  fs: Object.keys(FS_SHAPE),
});
