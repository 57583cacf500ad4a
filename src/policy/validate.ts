// Validation: every field, every bad input, before anything is enforced. Each
// error is a TypeError with code ERR_BLACKBOX_POLICY naming the field.

import { policyError } from '../errors';
import { parseNetRule } from './netrules';
import { PATH_VARIABLES } from './paths';
import type { Policy } from './types';

// Each checker returns the checked value, copied: validatePolicy returns a
// snapshot of plain data, so what later layers read is what was checked (a
// Proxy or a getter cannot answer differently the second time).
type Shape = Record<string, (value: unknown, field: string) => unknown>;

// Inputs may be exotic: a Proxy whose traps throw or lie (ownKeys naming a key
// it has no property for), a revoked Proxy (every operation on it throws),
// getters with side effects. So the validator never calls a getter and never
// reads a property with [[Get]]: it reads each own property once, by its
// descriptor, and every reflective call that can reach a trap is made through
// reflect(), which turns a throw into ERR_BLACKBOX_POLICY naming the field.

/** policyError, safe for any value (describing a revoked Proxy would throw). */
function refuse(field: string, value: unknown, reason: string): TypeError {
  try {
    return policyError(field, value, reason);
  } catch {
    return policyError(field, undefined, reason);
  }
}

function reflect<T>(field: string, what: string, op: () => T): T {
  try {
    return op();
  } catch (e) {
    let why: string;
    try {
      why = e instanceof Error ? String(e.message) : String(e);
    } catch {
      why = 'a value that cannot be printed';
    }
    throw refuse(field, undefined, `could not be read (${what} threw: ${why})`);
  }
}

function isPlainObject(v: unknown, field: string): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  if (reflect(field, 'Array.isArray', () => Array.isArray(v))) return false;
  const proto = reflect(field, 'getPrototypeOf', () => Object.getPrototypeOf(v));
  return proto === Object.prototype || proto === null;
}

/** One own property, read once by its descriptor; undefined when there is none. */
function ownDescriptor(obj: object, key: string | number, field: string): PropertyDescriptor | undefined {
  return reflect(field, 'getOwnPropertyDescriptor', () => Reflect.getOwnPropertyDescriptor(obj, key));
}

function checkObject(value: unknown, field: string, shape: Shape): Record<string, unknown> {
  if (!isPlainObject(value, field)) throw refuse(field, value, 'must be a plain object');
  const out: Record<string, unknown> = {};
  const keys = reflect(field, 'ownKeys', () => Reflect.ownKeys(value));
  for (const key of keys) {
    if (typeof key === 'symbol') throw refuse(field, value, 'must not have symbol keys');
    const sub = field === '' ? key : `${field}.${key}`;
    const desc = ownDescriptor(value, key, sub);
    // Only a Proxy can list a key it has no property for: refuse rather than guess.
    if (desc === undefined) throw refuse(sub, undefined, 'is listed as a key but has no property (an exotic object)');
    const data = desc.get === undefined && desc.set === undefined;
    if (!Object.prototype.hasOwnProperty.call(shape, key)) {
      throw refuse(sub, data ? desc.value : undefined, `is not a known key (known: ${Object.keys(shape).join(', ')})`);
    }
    if (!data) throw refuse(sub, undefined, 'must be a data property, not a getter');
    if (desc.value === undefined) continue;
    out[key] = shape[key](desc.value, sub);
  }
  return out;
}

function checkBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw refuse(field, value, 'must be true or false');
  return value;
}

function checkList(value: unknown, field: string, item: (v: string, f: string) => void, what: string): boolean | string[] {
  if (typeof value === 'boolean') return value;
  const isArray = typeof value === 'object' && value !== null && reflect(field, 'Array.isArray', () => Array.isArray(value));
  if (!isArray) throw refuse(field, value, `must be true, false or an array of ${what}`);
  const arr = value as unknown[];
  // An array's length is an own data property (a Proxy must report it truthfully).
  const lengthDesc = ownDescriptor(arr, 'length', field);
  const length: unknown = lengthDesc?.value;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) throw refuse(field, undefined, 'has no valid length');
  if (length > 4096) throw refuse(field, value, 'has more than 4096 entries');
  const out: string[] = [];
  // Every index, holes included (forEach would skip them), each read once.
  for (let i = 0; i < length; i++) {
    const f = `${field}[${i}]`;
    const desc = ownDescriptor(arr, i, f);
    if (desc && (desc.get || desc.set)) throw refuse(f, undefined, 'must be a data property, not a getter');
    const v: unknown = desc?.value;
    if (typeof v !== 'string') throw refuse(f, v, `must be a string (${what})`);
    if (v === '') throw refuse(f, v, 'must not be empty');
    if (v.includes('\0')) throw refuse(f, v, 'must not contain a NUL byte');
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

// An executable entry must name a file. Its last component decides that
// lexically: "dir/", "/.", "/usr/bin/.." and "x/." can only ever resolve to a
// directory (normalizing "/usr/bin/.." to "/usr" would turn an entry meant as
// one program into a directory, and a directory in childProcess grants
// execution of everything beneath it), so they are refused, not normalized.
// Entries that name a file through "." or ".." on the way ("/usr/bin/../bin/git")
// are fine: normalization gives the file's path. A bare path variable names a
// directory too ($NODE is Node's install prefix, not the node binary).
const BARE_VARIABLE = new RegExp(`^\\$(${PATH_VARIABLES.join('|')}|\\{(${PATH_VARIABLES.join('|')})\\})$`);
function execEntry(v: string, f: string): void {
  pathEntry(v, f);
  if (v.endsWith('/') || /(^|\/)\.\.?$/.test(v)) throw policyError(f, v, 'names a directory: list executables');
  if (BARE_VARIABLE.test(v)) throw policyError(f, v, 'is a path variable, which names a directory: list executables (e.g. $NODE/bin/node)');
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
    if (v !== 'enforce' && v !== 'audit') throw refuse(f, v, 'must be "enforce" or "audit"');
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
