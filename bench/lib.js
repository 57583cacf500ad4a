'use strict';
// Shared helpers for the bench workloads. Nothing here locks anything down:
// the runner only spawns children, and each child applies its own variant.
const { spawnSync, spawn } = require('node:child_process');
const path = require('node:path');
const os = require('node:os');
const fs = require('node:fs');

const ROOT = path.join(__dirname, '..');
const RESULTS = path.join(__dirname, 'results');
const CHILD = path.join(__dirname, 'child');

/** The "full policy" of the lockdown-cost, start-up and floor workloads: every capability restricted, with lists. */
function fullPolicy() {
  return {
    net: { connect: [':5432', ':6379'], listen: ['127.0.0.1:0'] },
    fs: { read: ['$CWD', os.tmpdir()], write: [os.tmpdir()] },
    childProcess: ['/usr/bin/true'],
    addons: false,
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (!n) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function stats(xs) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length, samples: xs };
}

/** Rotates `list` by `i` so that no variant always runs first in a round (A B C, B C A, C A B, …). */
function rotate(list, i) {
  const k = i % list.length;
  return list.slice(k).concat(list.slice(0, k));
}

/** [command, argv] for node with `argv`, under `taskset -c <pin>` when a CPU is given. */
function command(argv, pin) {
  return pin === null || pin === undefined ? [process.execPath, argv] : ['taskset', ['-c', String(pin), process.execPath, ...argv]];
}

/**
 * Two distinct CPUs for a client and its server, or null (fewer than 2 CPUs, or no taskset):
 * pinned apart, a loopback client/server pair does not migrate or share a core, which
 * removes most of the run-to-run spread of connection set-up times.
 */
let pinCache;
function pinPair() {
  if (pinCache !== undefined) return pinCache;
  pinCache = null;
  if (process.platform === 'linux' && os.cpus().length >= 2) {
    const r = spawnSync('taskset', ['-c', '0', 'true'], { timeout: 5000 });
    if (r.status === 0) pinCache = { client: 0, server: 1 };
  }
  return pinCache;
}

/**
 * Runs `node [nodeArgs] bench/child/<script> <args>` synchronously and parses the last stdout
 * line as JSON. Bounded by `timeout` ms.
 */
function runChild(script, args, { nodeArgs = [], env = {}, timeout = 60000, cwd = ROOT, pin = null } = {}) {
  const [cmd, argv] = command([...nodeArgs, path.join(CHILD, script), ...args], pin);
  const r = spawnSync(cmd, argv, {
    encoding: 'utf8',
    cwd,
    timeout,
    env: { ...process.env, ...env },
    maxBuffer: 16 << 20,
  });
  if (r.error) throw new Error(`${script} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${script} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || '').trim().slice(-2000)}`);
  }
  const lines = r.stdout.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1]);
  } catch {
    throw new Error(`${script}: unparsable output: ${r.stdout.slice(-500)} ${r.stderr.slice(-500)}`);
  }
}

/**
 * Starts a long-running child (a server) and resolves with { proc, info } once it prints its
 * first JSON line. It is killed after `lifetime` ms whatever happens, and ends when its stdin
 * closes (stop()).
 */
function startServer(script, args, { nodeArgs = [], env = {}, lifetime = 120000, cwd = ROOT, pin = null } = {}) {
  return new Promise((resolve, reject) => {
    const [cmd, argv] = command([...nodeArgs, path.join(CHILD, script), ...args], pin);
    const proc = spawn(cmd, argv, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const killer = setTimeout(() => proc.kill('SIGKILL'), lifetime);
    killer.unref();
    let out = '';
    let err = '';
    let settled = false;
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0 && !settled) {
        settled = true;
        try {
          resolve({ proc, info: JSON.parse(out.slice(0, nl)), stop: () => stopServer(proc, killer) });
        } catch (e) {
          proc.kill('SIGKILL');
          reject(new Error(`${script}: bad first line ${out.slice(0, 200)}`));
        }
      }
    });
    proc.on('exit', (code, sig) => {
      clearTimeout(killer);
      if (!settled) {
        settled = true;
        reject(new Error(`${script} ${args.join(' ')} exited ${code ?? sig} before ready: ${err.trim().slice(-2000)}`));
      }
    });
  });
}

function stopServer(proc, killer) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => { clearTimeout(t); clearTimeout(killer); resolve(); });
    proc.stdin.end();
  });
}

/** Node's own permission model flags for this node, or null where it does not exist. */
let permFlagCache;
function nodePermissionFlag() {
  if (permFlagCache !== undefined) return permFlagCache;
  permFlagCache = null;
  for (const flag of ['--permission', '--experimental-permission']) {
    const r = spawnSync(process.execPath, [flag, '--allow-fs-read=*', '-e', 'process.exit(process.permission && process.permission.has("fs.read") ? 0 : 1)'], { timeout: 10000 });
    if (r.status === 0) { permFlagCache = flag; break; }
  }
  return permFlagCache;
}

/** A scratch directory for this run under the OS temp dir (removed by cleanup()). */
let scratch;
function scratchDir() {
  if (!scratch) scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-bench-'));
  return scratch;
}
function cleanup() {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

/**
 * A result row. kind 'ratio': value is a ratio (≥ 1 is "no slower") and `min` the threshold;
 * kind 'pp': percentage points, pass when ≥ `min`; kind 'ms' / 'ns': absolute, pass when ≤ `max`
 * (only where the brief sets an absolute target, e.g. lockdown() < 10 ms); no target → info.
 */
function row(workload, variant, metric, s, target) {
  let pass = null;
  let targetText = target ? target.text : '—';
  if (target && target.min !== undefined) pass = s.median >= target.min;
  if (target && target.max !== undefined) pass = s.median <= target.max;
  return { workload, variant, metric, median: s.median, min: s.min, max: s.max, n: s.n, samples: s.samples, target: targetText, pass, unit: target && target.unit };
}

module.exports = { ROOT, RESULTS, CHILD, pinPair, fullPolicy, median, stats, rotate, runChild, startServer, nodePermissionFlag, scratchDir, cleanup, row };
