// Native addons: process.dlopen (every addon load ends there) and
// Module._extensions['.node'] (require of a .node file; it calls
// process.dlopen by property lookup, Node 20.20 lib/internal/modules/cjs/loader.js).
// A denied load throws synchronously, as require and dlopen report a failed
// load (Node's --permission throws ERR_DLOPEN_DISABLED there; ours is the
// ERR_ACCESS_DENIED PolicyViolation, permission 'Addon').

import Module = require('node:module');
import { checkAddon } from './check';
import { fromKernel, violation } from './deny';
import { effective, getLockdownLayer, lockedDown, type Effective } from './state';

type Loader = (this: unknown, ...args: unknown[]) => unknown;

/** Set while Module._extensions['.node'] (which checked) calls process.dlopen. */
let inner = 0;

function refuse(e: Effective, file: string): void {
  const d = checkAddon(e, file);
  if (!d) return;
  if (!e.audit) throw violation(d);
  violation(d);
}

/** A dlopen the kernel refused: after a lockdown that denies addons, mmap of the code fails. */
function kernelRefused(err: unknown): boolean {
  const layer = getLockdownLayer();
  if (!lockedDown() || !layer || layer.policy.addons || layer.policy.mode === 'audit') return false;
  const e = err as { code?: unknown; message?: unknown } | null;
  return !!e && typeof e === 'object' && e.code === 'ERR_DLOPEN_FAILED' && /failed to map segment|Permission denied|Operation not permitted/i.test(String(e.message));
}

function guardedDlopen(orig: Loader): Loader {
  return function dlopen(this: unknown, ...args: unknown[]): unknown {
    const e = effective();
    if (!e || args.length < 2) return orig.apply(this, args);
    const file = String(args[1]);
    if (inner === 0) refuse(e, file);
    try {
      return orig.apply(this, args);
    } catch (err) {
      if (kernelRefused(err)) {
        const d = checkAddon({ ...e, policy: { ...e.policy, addons: false } }, file);
        if (d) throw fromKernel(d, err);
      }
      throw err;
    }
  };
}

function guardedNodeExtension(orig: Loader): Loader {
  return function (this: unknown, module: unknown, filename: unknown): unknown {
    const e = effective();
    if (e && typeof filename === 'string') refuse(e, filename);
    inner++;
    try {
      return orig.call(this, module, filename);
    } finally {
      inner--;
    }
  };
}

let done = false;
export function install(): void {
  if (done) return;
  done = true;
  const p = process as unknown as { dlopen: Loader };
  p.dlopen = guardedDlopen(p.dlopen);
  const ext = (Module as unknown as { _extensions: Record<string, Loader> })._extensions;
  if (typeof ext['.node'] === 'function') ext['.node'] = guardedNodeExtension(ext['.node']);
}
