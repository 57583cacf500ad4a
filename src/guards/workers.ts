// worker_threads.Worker. Two jobs:
//  1. `workers: false`: `new Worker(...)` throws the PolicyViolation
//     synchronously, as Node's --permission throws ERR_ACCESS_DENIED from the
//     constructor (Node 20.20: permission 'WorkerThreads').
//  2. After a lockdown, every Worker gets the JS guards before its first line:
//     the kernel layer already covers its thread, but patches live per
//     isolate. The exported constructor is wrapped to pass the lockdown layer
//     through worker_threads environment data and to add
//     `--require <worker-preload.js>` (first) to the worker's execArgv;
//     worker-preload installs the guards with that layer (no kernel calls) and
//     hides its --require from the worker's process.execArgv. `--require` in
//     a Worker's execArgv runs for file, ESM and eval workers alike (Node 20).
// The check of (1) also sits in the Worker class's super constructor (Node's
// `class Worker extends EventEmitter` calls it first thing), so a Worker class
// captured before lockdown (`const { Worker } = require(...)`, a subclass
// defined earlier, Node's internal hooks worker) is refused too. Such a
// worker's options are out of reach there, but the script is not: the
// constructor hands it to the new thread in one message on the worker's
// internal port (`{ type: 'loadScript', doEval, filename, environmentData }`,
// the same shape in Node 18 to 26), posted with MessagePort#postMessage before
// the thread starts. That one message, and only while a captured class
// constructs, is rewritten to run worker-preload first (see preloaded()).
// Workers the wrapper makes (1) are left alone: their --require does it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import wt = require('node:worker_threads');
import { checkWorker, type Denial } from './check';
import { violation } from './deny';
import { effective, getLockdownLayer, type Effective, type GuardLayer } from './state';

/** worker_threads environment data key carrying the GuardLayer to new workers. */
export const LAYER_KEY = 'blackbox-native:lockdown-layer';
/** Compiled next to this file (dist/guards/worker-preload.js). */
export const PRELOAD = path.join(__dirname, 'worker-preload.js');

/** What a new worker's preload receives. */
export interface WorkerHandoff {
  layer: GuardLayer;
  /** What the worker's process.execArgv must show, when our --require was added to it. */
  execArgv?: string[];
}

// captured at load, before the fs guard patches anything
const existsSync = fs.existsSync;

type WorkerCtor = new (...args: unknown[]) => wt.Worker;

/** Set while the exported wrapper constructs (it has checked already). */
let checked = 0;

/** Enforce: throw synchronously, as Node's constructor does; audit: publish and go on. */
function refuse(e: Effective, d: Denial): void {
  if (!e.audit) throw violation(d);
  violation(d);
}

function workerResource(filename: unknown, options: unknown): string {
  if (options && typeof options === 'object' && (options as { eval?: unknown }).eval) return '[worker eval]';
  if (filename instanceof URL) {
    if (filename.protocol === 'data:') return '[worker data: URL]';
    try {
      return fileURLToPath(filename);
    } catch {
      return filename.href;
    }
  }
  if (typeof filename === 'string') return path.isAbsolute(filename) || /^\.\.?[\\/]/.test(filename) ? path.resolve(filename) : filename;
  return String(filename);
}

/** The options object with execArgv replaced; every other lookup goes to the caller's object. */
function withExecArgv(options: object, execArgv: string[]): object {
  return Object.create(options, { execArgv: { value: execArgv, writable: true, enumerable: true, configurable: true } });
}

/** The flags a ERR_WORKER_INVALID_EXEC_ARGV names ("... flags: --a, --b"). */
function invalidFlags(err: unknown): string[] {
  const m = /flags: (.*)$/s.exec(err instanceof Error ? err.message : '');
  return m ? m[1].split(', ') : [];
}

function isInvalidExecArgv(err: unknown): boolean {
  return !!err && typeof err === 'object' && (err as { code?: unknown }).code === 'ERR_WORKER_INVALID_EXEC_ARGV';
}

function constructWithPreload(Orig: WorkerCtor, args: unknown[], target: Function): wt.Worker {
  const options = args[1];
  // let Node report its own argument errors
  if (options === null || (options !== undefined && typeof options !== 'object')) return Reflect.construct(Orig, args, target) as wt.Worker;
  const opts = (options ?? {}) as { execArgv?: unknown };
  const user = opts.execArgv;
  if (user && !Array.isArray(user)) return Reflect.construct(Orig, args, target) as wt.Worker;
  const pre = ['--require', PRELOAD];
  const attempt = (execArgv: string[]): wt.Worker => {
    const next = [...args];
    next[1] = withExecArgv(opts, execArgv);
    return Reflect.construct(Orig, next, target) as wt.Worker;
  };
  if (Array.isArray(user)) return attempt([...pre, ...user]);
  // No execArgv: Node would inherit the parent's options. Passing a list makes
  // Node re-parse it, and a Worker refuses some flags the process was started
  // with (V8 and per-process options such as --max-old-space-size): drop those
  // (they already apply process-wide) and, failing that, keep only ours.
  try {
    return attempt([...pre, ...process.execArgv]);
  } catch (err) {
    if (!isInvalidExecArgv(err)) throw err;
    const bad = new Set(invalidFlags(err));
    const kept = process.execArgv.filter((a) => !bad.has(a));
    try {
      return attempt([...pre, ...kept]);
    } catch (err2) {
      if (!isInvalidExecArgv(err2)) throw err2;
      return attempt(pre);
    }
  }
}

function wrapWorker(Orig: WorkerCtor): WorkerCtor {
  const preloadExists = existsSync(PRELOAD);
  const Worker = function Worker(this: unknown, ...args: unknown[]): wt.Worker {
    if (!new.target) throw new TypeError("Class constructor Worker cannot be invoked without 'new'");
    const target = new.target === Worker ? Orig : new.target;
    const e = effective();
    if (!e) return Reflect.construct(Orig, args, target) as wt.Worker;
    const d = checkWorker(e, workerResource(args[0], args[1]));
    if (d) refuse(e, d);
    checked++;
    try {
      const layer = getLockdownLayer();
      if (!layer || !preloadExists) return Reflect.construct(Orig, args, target) as wt.Worker;
      const opts = args[1] as { execArgv?: unknown } | undefined;
      // what Node would show as the worker's process.execArgv: the option, else the parent's
      const shown = opts && typeof opts === 'object' && Array.isArray(opts.execArgv) ? opts.execArgv.map(String) : [...process.execArgv];
      // read by the constructor right away (environment data is copied into the new worker)
      wt.setEnvironmentData(LAYER_KEY, { layer, execArgv: shown } satisfies WorkerHandoff as unknown as wt.Serializable);
      return constructWithPreload(Orig, args, target);
    } finally {
      checked--;
    }
  } as unknown as WorkerCtor;
  Object.defineProperty(Worker, 'length', { value: Orig.length });
  (Worker as unknown as { prototype: unknown }).prototype = Orig.prototype;
  Object.setPrototypeOf(Worker, Orig); // statics
  return Worker;
}

/** Set between a captured class's super() and its 'loadScript' message (or the next microtask). */
let capturedHandoff: WorkerHandoff | null = null;

interface LoadScript { type: 'loadScript'; doEval: unknown; filename: unknown; isInternal?: unknown; environmentData?: unknown }

/**
 * The 'loadScript' message with worker-preload run before the script, or null for a shape
 * we do not know (the worker then runs with the kernel layer only, as before). Line 1 of
 * an eval script keeps its line number (the preload is prefixed on the same line).
 *   'classic' (eval: true)  → `require(preload);` + code
 *   'module' (ESM eval, data: URLs before Node 22) → `import preloadURL;` + code
 *   'data-url' (Node 22+)   → 'module': `import preloadURL; import dataURL;`
 *   false (a file)          → 'classic': argv[1] = file, require(preload), runMain(file) —
 *     what Node's worker does for a file (it even notes runMain may be patched by --require).
 */
function preloaded(m: LoadScript, handoff: WorkerHandoff): LoadScript | null {
  // isInternal: Node's own workers (the module-hooks thread) name an internal module, not a file
  // environmentData is Node's own SafeMap (a Map, but not `instanceof Map` here): iterable
  const env = m.environmentData as Iterable<[unknown, unknown]> | null | undefined;
  if (m.isInternal || typeof m.filename !== 'string' || !env || typeof env[Symbol.iterator] !== 'function') return null;
  const req = `require(${JSON.stringify(PRELOAD)});`;
  const imp = `import ${JSON.stringify(pathToFileURL(PRELOAD).href)};`;
  let doEval: unknown;
  let filename: string;
  if (m.doEval === 'classic' || m.doEval === true) { doEval = m.doEval; filename = req + m.filename; }
  else if (m.doEval === 'module') { doEval = 'module'; filename = imp + m.filename; }
  else if (m.doEval === 'data-url') { doEval = 'module'; filename = `${imp} import ${JSON.stringify(m.filename)};`; }
  else if (m.doEval === false) {
    const file = JSON.stringify(m.filename);
    doEval = 'classic';
    filename = `process.argv[1] = ${file}; try { delete process._eval; } catch {} ${req} require('node:module').runMain(${file});`;
  } else return null;
  // a copy: the message holds the parent's own environment data Map
  const environmentData = new Map(env).set(LAYER_KEY, handoff);
  return { ...m, doEval, filename, environmentData };
}

/** Rewrites the one 'loadScript' message a captured Worker class posts (see the header). */
function guardLoadScript(): void {
  const Port = wt.MessagePort as unknown as { prototype: { postMessage: (...a: unknown[]) => void } };
  const orig = Port.prototype.postMessage;
  if (typeof orig !== 'function') return;
  Port.prototype.postMessage = function postMessage(this: unknown, ...args: unknown[]): void {
    const h = capturedHandoff;
    const m = args[0] as LoadScript | null;
    if (h && m && typeof m === 'object' && m.type === 'loadScript') {
      capturedHandoff = null;
      const next = preloaded(m, h);
      if (next) args[0] = next;
    }
    return Reflect.apply(orig, this, args);
  };
}

/** Put the check into the Worker class's super constructor (see the header). */
function guardSuper(Orig: WorkerCtor): void {
  const Base = Object.getPrototypeOf(Orig) as new (...a: unknown[]) => object;
  if (typeof Base !== 'function') return;
  const EventEmitter = function EventEmitter(this: unknown, ...args: unknown[]): object {
    if (checked === 0) {
      const e = effective();
      const d = e ? checkWorker(e, '') : null;
      // the script is not known here (the constructor reads its arguments after super())
      if (e && d) refuse(e, { ...d, what: 'new Worker' });
      const layer = new.target && getLockdownLayer();
      if (layer && existsSync(PRELOAD)) {
        // no execArgv: nothing was added to the worker's, so there is nothing to hide
        capturedHandoff = { layer };
        queueMicrotask(() => { capturedHandoff = null; }); // a constructor that threw first
      }
    }
    if (!new.target) return (Base as unknown as (...a: unknown[]) => object).apply(this, args); // EventEmitter.call(obj)
    return Reflect.construct(Base, args, new.target);
  };
  Object.defineProperty(EventEmitter, 'length', { value: Base.length });
  EventEmitter.prototype = Base.prototype;
  Object.setPrototypeOf(EventEmitter, Base); // statics (defaultMaxListeners, …)
  Object.setPrototypeOf(Orig, EventEmitter);
}

let done = false;
export function install(): void {
  if (done) return;
  done = true;
  const W = wt as unknown as { Worker: WorkerCtor };
  const Orig = W.Worker;
  guardSuper(Orig);
  guardLoadScript();
  W.Worker = wrapWorker(Orig);
}
