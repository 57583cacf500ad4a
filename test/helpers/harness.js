'use strict';
// Kernel-test harness: every enforcement case runs in a FRESH child process
// (the test runner is never locked down) and is judged by evidence outside it:
// bytes a loopback server received, files on disk, the child's exit.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const TEST_ADDON = path.join(ROOT, 'test', 'fixtures', 'native', 'build', 'Release', 'bbtest.node');

function haveKernel() {
  if (process.platform !== 'linux') return 'not Linux';
  try {
    const b = require('node-gyp-build')(ROOT);
    if (b.landlockAbi() < 1) return 'no Landlock on this kernel';
  } catch (e) {
    return `addon not built: ${e.message}`;
  }
  if (!fs.existsSync(TEST_ADDON)) return 'test addon not built';
  return false; // node:test skips on any non-undefined value but false
}

/** A prelude for child scripts: the package, the test addon, and a JSON reporter. */
function prelude() {
  return [
    `const bb = require(${JSON.stringify(ROOT)});`,
    `const t = require(${JSON.stringify(TEST_ADDON)});`,
    `const out = (o) => process.stdout.write('\\n@@' + JSON.stringify(o) + '\\n');`,
  ].join('\n');
}

/**
 * Run `cmd args` to its end (bounded by `timeout`, then SIGKILL). Resolves with
 * { status, signal, stdout, stderr, result } where result is the last out({...}) line.
 * `onSpawn(child, stdout)` may drive the process while it runs (stdout() is what it printed).
 */
function runProcess(cmd, args, { timeout = 20000, env, cwd, uid, gid, onSpawn } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env },
      cwd: cwd ?? ROOT,
      uid,
      gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    if (onSpawn) onSpawn(child, () => stdout);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const lines = stdout.split('\n').filter((l) => l.startsWith('@@'));
      let result;
      if (lines.length) result = JSON.parse(lines[lines.length - 1].slice(2));
      resolve({ status, signal, stdout, stderr, result });
    });
  });
}

/**
 * Run `code` (after the prelude) in a fresh node. Async so the parent's
 * loopback servers can accept while the child runs.
 */
function runChild(code, { args = [], ...opts } = {}) {
  return runProcess(process.execPath, [...args, '-e', `${prelude()}\n${code}`], opts);
}

/** Calls fn(message) for each `@@{json}` line `stream` prints, as the lines arrive. */
function onMessages(stream, fn) {
  let buf = '';
  stream.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('@@')) fn(JSON.parse(line.slice(2)));
    }
  });
}

/** Why a private bind mount (unshare -m) is not possible here, or false. */
function cannotUnshare(what) {
  if (process.getuid?.() !== 0) return `needs root for a private ${what} (unshare -m + bind mount)`;
  if (!['/usr/bin/unshare', '/bin/unshare'].some((p) => fs.existsSync(p))) return 'unshare(1) not installed';
  return false;
}

/**
 * Run `code` in a fresh node that sees `content` at `target` (e.g. /etc/hosts): a bind mount
 * in a mount namespace of the child's own, so the machine's file is never touched. Root only.
 */
function runWithPrivateFile(target, content, code, opts = {}) {
  const tmp = tempDir('bb-private-');
  const file = path.join(tmp.dir, path.basename(target));
  fs.writeFileSync(file, content);
  const sh = `mount --bind "$0" ${target} && exec "$@"`;
  return runProcess('unshare', ['-m', '--propagation', 'private', 'sh', '-c', sh, file, process.execPath, '-e', `${prelude()}\n${code}`], opts)
    .finally(() => tmp.cleanup());
}

/**
 * A TCP server on loopback that records every byte it receives (and each
 * connection's local address); bounded lifetime. `onData(conn, socket)` may
 * answer (e.g. an HTTP reply). Listening errors reject.
 */
async function recordingServer({ host = '127.0.0.1', port = 0, lifetimeMs = 60000, onData } = {}) {
  const received = [];
  const sockets = new Set();
  const server = net.createServer((s) => {
    sockets.add(s);
    const conn = { bytes: '', local: s.localAddress };
    received.push(conn);
    s.on('data', (d) => {
      conn.bytes += d.toString('latin1');
      if (onData) onData(conn, s);
    });
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const timer = setTimeout(() => close(), lifetimeMs);
  timer.unref();
  function close() {
    clearTimeout(timer);
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(() => r()));
  }
  return {
    port: server.address().port,
    host,
    received,
    conns: received,
    /** Everything received so far, all connections (joined with `sep`). */
    text: (sep = '') => received.map((c) => c.bytes).join(sep),
    has: (tag) => received.some((c) => c.bytes.includes(tag)),
    connections: () => received.length,
    close,
  };
}

/** A temp directory removed by the returned cleanup. */
function tempDir(prefix = 'bb-test-') {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

module.exports = { ROOT, TEST_ADDON, haveKernel, runProcess, runChild, onMessages, cannotUnshare, runWithPrivateFile, recordingServer, tempDir, sleep, spawnSync };
