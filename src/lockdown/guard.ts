// guard(policy): the reversible, JS-only mode for test suites (pytest-socket's
// use case). It is NOT a security boundary: native code, child processes and
// raw bindings pass straight through it. It can only narrow: the JS layer
// answers to the intersection of the lockdown (if any) and every active guard.

import { normalizePolicy } from '../policy/normalize';
import { installGuards } from '../guards/install';
import { popGuard, pushGuard } from '../guards/state';
import { pathContext } from './probe';

export interface Guard {
  /** Remove this guard (the lockdown, and other guards, stay). Idempotent. */
  dispose(): void;
  readonly active: boolean;
  [Symbol.dispose](): void;
}

const disposeSymbol: symbol = (Symbol as unknown as { dispose?: symbol }).dispose ?? Symbol.for('nodejs.dispose');

/**
 * A guard restricts only the capabilities it names (pytest-socket's "no
 * network" leaves files alone): unnamed top-level keys are granted here and
 * stay whatever the lockdown says.
 */
function openByDefault(input: unknown): unknown {
  if (input === undefined) input = {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input; // normalize reports it
  return { net: true, fs: true, childProcess: true, addons: true, workers: true, ...(input as object) };
}

export function guard(input?: unknown): Guard {
  const policy = normalizePolicy(openByDefault(input), pathContext());
  installGuards();
  const id = pushGuard(policy);
  let active = true;
  const g = {
    dispose() {
      if (!active) return;
      active = false;
      popGuard(id);
    },
    get active() {
      return active;
    },
  } as Guard;
  (g as unknown as Record<symbol, () => void>)[disposeSymbol] = g.dispose;
  return g;
}
