// The preload: `node --require blackbox-native/register app.js` (or `--import`) locks the
// process down before the app's first line. The policy comes from BLACKBOX_POLICY (JSON) or
// from the file BLACKBOX_CONFIG names (same shape, path variables allowed); neither: the
// strictest default. A bad policy ends the process (exit 2) before the app runs: running it
// unprotected instead would be the silent failure a security tool must not have.
//
// Under `blackbox run` (BLACKBOX_LAUNCHED, which the launcher sets, AND a seccomp filter
// with no_new_privs actually in force here, AND — when it says a supervisor is there — a
// self-test through that supervisor passed) the kernel layers are already in place; this
// lockdown adds the JS layer and the in-process rules on top (narrowing only: a wider
// BLACKBOX_POLICY in a child changes nothing the kernel enforces).

import * as fs from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { lockdownWith, type LockdownOptions } from './lockdown/lockdown';
import { setNameHinter } from './guards/state';
import { loadBinding } from './enforce/binding';
import { selfTest } from './enforce/enforce';

function fail(msg: string): never {
  process.stderr.write(`blackbox-native/register: ${msg}\n`);
  process.exit(2);
}

function readPolicy(): unknown {
  const inline = process.env.BLACKBOX_POLICY;
  const file = process.env.BLACKBOX_CONFIG;
  if (inline !== undefined && inline !== '') {
    try { return JSON.parse(inline); } catch (e) { fail(`BLACKBOX_POLICY is not JSON: ${(e as Error).message}`); }
  }
  if (file !== undefined && file !== '') {
    let text: string;
    try { text = fs.readFileSync(file, 'utf8'); } catch (e) { fail(`BLACKBOX_CONFIG ${file}: ${(e as Error).message}`); }
    try { return JSON.parse(text); } catch (e) { fail(`BLACKBOX_CONFIG ${file}: not JSON: ${(e as Error).message}`); }
  }
  return undefined;
}

function launched(policy: unknown): LockdownOptions['launched'] {
  const mark = process.env.BLACKBOX_LAUNCHED;
  if (mark !== 'supervised' && mark !== '1') return undefined;
  try {
    const st = fs.readFileSync('/proc/self/status', 'latin1');
    if (!/^Seccomp:\s*2$/m.test(st) || !/^NoNewPrivs:\s*1$/m.test(st)) return undefined;
  } catch {
    return undefined;
  }
  if (mark === '1') return { supervised: false };
  // The environment only says a supervisor is there; netSupervisor is reported after a test
  // made from here: the launcher keeps its self-test pair open while the command runs
  // (BLACKBOX_SELFTEST). A failed test (a copied environment, a launcher gone) is a lockdown
  // of our own: its supervisor, or its fallback.
  const m = /^(\d+):(\d+)$/.exec(process.env.BLACKBOX_SELFTEST ?? '');
  const b = loadBinding();
  const audit = typeof policy === 'object' && policy !== null && (policy as { mode?: unknown }).mode === 'audit';
  const failed = m && b ? selfTest(b, Number(m[1]), Number(m[2]), audit) : 'no self-test ports';
  return failed ? undefined : { supervised: true };
}

function hintFdFromEnv(): number | undefined {
  const fd = Number(process.env.BLACKBOX_HINT_FD);
  return Number.isInteger(fd) && fd > 2 ? fd : undefined;
}

if (!isMainThread) {
  // A Worker inherits the main thread's --require (NODE_OPTIONS), so this file runs there too:
  // the thread already has the kernel layer, and a second lockdown from a Worker would only
  // trip over its own guards. It gets the main thread's JS layer instead (a no-op when the
  // worker preload ran already, or when the main thread never locked down).
  require('./guards/worker-preload');
} else {
  const policy = readPolicy();
  const hintFd = hintFdFromEnv();
  const how = launched(policy);
  try {
    lockdownWith(policy, { launched: how });
    if (how?.supervised && hintFd !== undefined) {
      // `*.domain` rules: the launcher's supervisor admits a name below the domain once the JS
      // layer names it (it resolves the name itself). Written before the connect it precedes.
      setNameHinter((name) => { try { fs.writeSync(hintFd, `hint ${name}\n`); } catch { /* launcher gone: calls fail closed */ } });
    }
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === 'ERR_BLACKBOX_POLICY') fail(`${process.env.BLACKBOX_POLICY ? 'BLACKBOX_POLICY' : process.env.BLACKBOX_CONFIG ?? 'policy'}: ${err.message.replace(/^blackbox-native: /, '')}`);
    throw e;
  }
}
