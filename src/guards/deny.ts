// A Denial becomes a PolicyViolation, published on diagnostics_channel and
// delivered the way the guarded API reports its errors: thrown, passed to a
// callback, rejected, or emitted as 'error' — the last three on a later tick,
// as Node does. In audit mode the violation is published and the call allowed.

import * as dc from 'node:diagnostics_channel';
import { PolicyViolation, type Layer } from '../errors';
import type { Denial } from './check';

export const VIOLATION_CHANNEL = 'blackbox-native:violation';
const channel = dc.channel(VIOLATION_CHANNEL);

export function violation(d: Denial, layer: Layer = 'js', cause?: unknown): PolicyViolation {
  const v = new PolicyViolation({ permission: d.permission, resource: d.resource, layer, hint: d.hint, cause, operation: d.operation, what: d.what });
  // drop the guard frames so the stack starts at the caller
  Error.captureStackTrace?.(v, violation);
  if (channel.hasSubscribers) {
    channel.publish({ permission: v.permission, resource: v.resource, layer: v.layer, operation: d.operation, stack: v.stack });
  }
  return v;
}

/** A callback-style API: call back with the error on the next tick. */
export function callbackLater(cb: ((err: Error) => void) | undefined, err: Error): void {
  if (typeof cb === 'function') process.nextTick(cb, err);
}

/** An EventEmitter-style API: emit 'error' on the next tick (after the caller attached listeners). */
export function emitLater(emitter: { emit(event: string, ...a: unknown[]): boolean; destroy?: (e?: Error) => unknown }, err: Error): void {
  process.nextTick(() => {
    if (typeof emitter.destroy === 'function') emitter.destroy(err);
    else emitter.emit('error', err);
  });
}

/** errno codes the kernel layer answers with (EACCES capabilities, EPERM admin, ENOSYS fallback). */
export const KERNEL_CODES = new Set(['EACCES', 'EPERM', 'ENOSYS']);

/** Wrap a kernel-denied errno error as a PolicyViolation (layer 'kernel', the errno error as cause). */
export function fromKernel(d: Denial, err: unknown): PolicyViolation {
  return violation(d, 'kernel', err);
}
