'use strict';
// native/hook/blackbox-hook.so: the LD_PRELOAD library that names kernel denials inside a
// non-Node program's own stderr. Real denials without the CLI: a fresh Node child locks
// itself down (childProcess granted to python3/bash only, net.connect to one loopback
// port, fs.write to one directory) and then runs python3/bash with the hook preloaded; the
// kernel limits are inherited across fork/exec. Judged outside the programs: their stderr
// lines, their exit status and errno text, what the loopback servers received, the disk.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { recordingServer, tempDir, sleep } = require('../helpers/harness');

const ROOT = path.join(__dirname, '..', '..');
const HOOK = path.join(ROOT, 'build', 'Release', 'blackbox-hook.so');
const CONFIG = 'net=--allow-net;listen=--allow-listen;fs.read=--allow-fs-read;fs.write=--allow-fs-write;child=--allow-child-process';

function real(p) {
  try { return fs.realpathSync(p); } catch { return null; }
}
const PYTHON = real('/usr/bin/python3');
const BASH = real('/bin/bash') ?? real('/usr/bin/bash');

function why() {
  if (process.platform !== 'linux') return 'not Linux';
  if (!fs.existsSync(HOOK)) return 'build/Release/blackbox-hook.so is not built';
  try {
    if (require('node-gyp-build')(ROOT).landlockAbi() < 4) return 'Landlock ABI < 4 (no TCP port rules)';
  } catch (e) {
    return `addon not built: ${e.message}`;
  }
  if (!PYTHON || !BASH) return 'needs /usr/bin/python3 and bash';
  return false; // node:test skips on any value but false/undefined
}
const skip = why();

/**
 * A fresh node that applies `policy` to itself and then runs each program in `runs`
 * ({ file, args, env?, cwd? }) with spawnSync; resolves with their { status, stdout, stderr }.
 */
function lockedRunner(policy, runs) {
  const code = `
    const bb = require(${JSON.stringify(ROOT)});
    const { spawnSync } = require('node:child_process');
    const report = bb.lockdown(${JSON.stringify(policy)});
    const runs = ${JSON.stringify(runs)};
    const results = runs.map((r) => {
      const p = spawnSync(r.file, r.args, { env: { ...process.env, ...r.env }, cwd: r.cwd, encoding: 'utf8', timeout: 15000 });
      return { status: p.status, signal: p.signal, stdout: p.stdout, stderr: p.stderr, error: p.error && p.error.message };
    });
    process.stdout.write('@@' + JSON.stringify({ layers: report.layers, results }) + '\\n');`;
  return new Promise((resolve) => {
    // no LD_PRELOAD for the runner itself: only the programs it starts get the hook
    const env = { ...process.env };
    delete env.LD_PRELOAD;
    delete env.BLACKBOX_HOOK;
    const child = spawn(process.execPath, ['-e', code], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('close', (status) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('@@'));
      resolve({ status, stderr, out: line ? JSON.parse(line.slice(2)) : null });
    });
  });
}

const hooked = (extra = {}) => ({ LD_PRELOAD: HOOK, BLACKBOX_HOOK: CONFIG, ...extra });
const lines = (s) => s.split('\n').filter((l) => l.startsWith('blackbox:'));
const py = (src, env = hooked(), cwd) => ({ file: PYTHON, args: ['-B', '-c', src], env, cwd });

test('hook: python3 and bash name a denied connect on stderr; errno stays EACCES; the allowed connect prints nothing', { skip }, async () => {
  const ok = await recordingServer();
  const denied = await recordingServer();
  const P = ok.port;
  const Q = denied.port;
  try {
    const r = await lockedRunner({ childProcess: [PYTHON, BASH], net: { connect: [`127.0.0.1:${P}`] } }, [
      py(`
import socket
s = socket.create_connection(("127.0.0.1", ${P})); s.sendall(b"allowed-py"); s.close()
print("allowed ok", flush=True)
try:
    socket.create_connection(("127.0.0.1", ${Q})).sendall(b"leak-py")
except OSError as e:
    print(type(e).__name__, e.errno, flush=True)
`),
      { file: BASH, args: ['-c', `echo leak-bash > /dev/tcp/127.0.0.1/${Q}; echo rc=$?`], env: hooked() },
      // the same denial without BLACKBOX_HOOK: the library is loaded but silent
      py(`
import socket
try: socket.create_connection(("127.0.0.1", ${Q}))
except OSError as e: print(type(e).__name__, e.errno)
`, { LD_PRELOAD: HOOK }),
      // the supervisor's lines are the CLI's: BLACKBOX_HOOK_SKIP=net keeps the hook quiet
      py(`
import socket
try: socket.create_connection(("127.0.0.1", ${Q}))
except OSError as e: print(type(e).__name__, e.errno)
`, hooked({ BLACKBOX_HOOK_SKIP: 'net' })),
    ]);
    assert.equal(r.status, 0, r.stderr);
    const [p, b, silent, skipped] = r.out.results;
    const want = `blackbox: denied net connect 127.0.0.1:${Q} (grant with --allow-net=127.0.0.1:${Q})`;

    assert.equal(p.status, 0, p.stderr);
    assert.equal(p.stdout, 'allowed ok\nPermissionError 13\n');
    assert.deepEqual(lines(p.stderr), [want], p.stderr);

    assert.equal(b.stdout, 'rc=1\n');
    assert.deepEqual(lines(b.stderr).filter((l) => l.includes('net ')), [want], b.stderr);
    assert.match(b.stderr, /connect: Permission denied/);

    assert.equal(silent.stdout, 'PermissionError 13\n');
    assert.equal(silent.stderr, '');
    assert.equal(skipped.stdout, 'PermissionError 13\n');
    assert.equal(skipped.stderr, '');

    await sleep(100);
    assert.equal(denied.connections(), 0, denied.text('|'));
    assert.ok(ok.has('allowed-py'), ok.text('|'));
    assert.equal(ok.has('leak'), false);
  } finally {
    await ok.close();
    await denied.close();
  }
});

test('hook: a denied write is named with its absolute path (relative, "..", append, mkdir, rename); a granted write prints nothing and lands', { skip }, async () => {
  const { dir, cleanup } = tempDir('bb-hook-');
  try {
    const allowed = path.join(dir, 'allowed');
    const locked = path.join(dir, 'locked');
    fs.mkdirSync(allowed);
    fs.mkdirSync(locked);
    const r = await lockedRunner({ childProcess: [PYTHON, BASH], fs: { write: [allowed] } }, [
      py(`
import os
open("${allowed}/ok.txt", "w").write("granted")
for f in (lambda: open("rel.txt", "w"), lambda: open("../locked/./dots.txt", "a"),
          lambda: os.mkdir("sub"), lambda: os.rename("${allowed}/ok.txt", "${locked}/moved.txt")):
    try:
        f()
    except OSError as e:
        print(type(e).__name__, e.errno)
`, hooked(), locked),
      { file: BASH, args: ['-c', `echo x > ${locked}/bash.txt; echo rc=$?`], env: hooked(), cwd: dir },
    ]);
    assert.equal(r.status, 0, r.stderr);
    const [p, b] = r.out.results;
    assert.equal(p.status, 0, p.stderr);
    assert.equal(p.stdout, 'PermissionError 13\n'.repeat(4));
    const w = (f) => `blackbox: denied fs write ${f} (grant with --allow-fs-write=${f})`;
    assert.deepEqual(lines(p.stderr), [
      w(`${locked}/rel.txt`),
      w(`${locked}/dots.txt`),
      w(`${locked}/sub`),
      w(`${locked}/moved.txt`),
      w(`${allowed}/ok.txt`), // rename across directories: both sides are named
    ], p.stderr);
    assert.ok(lines(b.stderr).includes(w(`${locked}/bash.txt`)), b.stderr);
    assert.equal(b.stdout, 'rc=1\n');
    assert.equal(fs.readFileSync(path.join(allowed, 'ok.txt'), 'utf8'), 'granted');
    assert.deepEqual(fs.readdirSync(locked), []);
  } finally {
    cleanup();
  }
});

test('hook: a denied exec is named as a child process; the listed program still runs', { skip }, async () => {
  const r = await lockedRunner({ childProcess: [PYTHON] }, [
    py(`
import subprocess
print(subprocess.run(["${PYTHON}", "-c", "print(6*7)"], capture_output=True, text=True).stdout.strip(), flush=True)
try:
    subprocess.run(["${BASH}", "-c", "true"])
except OSError as e:
    print(type(e).__name__, e.errno)
`),
  ]);
  assert.equal(r.status, 0, r.stderr);
  const [p] = r.out.results;
  assert.equal(p.stdout, '42\nPermissionError 13\n', p.stderr);
  assert.deepEqual(lines(p.stderr), [`blackbox: denied child process ${BASH} (grant with --allow-child-process=${BASH})`]);
});

test('hook: a retry loop cannot flood stderr (one line for repeats, at most 100 lines, then one notice); lines from threads stay whole', { skip }, async () => {
  const { dir, cleanup } = tempDir('bb-hook-');
  try {
    const r = await lockedRunner({ childProcess: [PYTHON], fs: { write: [] } }, [
      py(`
for i in range(50):
    try: open("${dir}/same.txt", "w")
    except PermissionError: pass
`),
      py(`
import threading
def run(t):
    for i in range(20):
        try: open(f"${dir}/t{t}-{i}.txt", "w")
        except PermissionError: pass
ts = [threading.Thread(target=run, args=(t,)) for t in range(4)]
for t in ts: t.start()
for t in ts: t.join()
`),
      py(`
for i in range(150):
    try: open(f"${dir}/f{i}.txt", "w")
    except PermissionError: pass
`),
    ]);
    assert.equal(r.status, 0, r.stderr);
    const [same, threads, many] = r.out.results;
    assert.deepEqual(lines(same.stderr), [`blackbox: denied fs write ${dir}/same.txt (grant with --allow-fs-write=${dir}/same.txt)`]);

    const tl = threads.stderr.split('\n').filter(Boolean);
    assert.equal(tl.length, 80, threads.stderr);
    for (const l of tl) assert.match(l, /^blackbox: denied fs write (\S+\/t\d-\d+\.txt) \(grant with --allow-fs-write=\1\)$/);
    assert.equal(new Set(tl).size, 80);

    const ml = many.stderr.split('\n').filter(Boolean);
    assert.equal(ml.length, 101, many.stderr.slice(-300));
    assert.equal(ml[99], `blackbox: denied fs write ${dir}/f99.txt (grant with --allow-fs-write=${dir}/f99.txt)`);
    assert.equal(ml[100], 'blackbox: further denials not shown');
    assert.equal(many.status, 0);
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    cleanup();
  }
});

test('hook: the library needs only libc (no C++ runtime) and exports only the wrapped libc names', { skip: skip || (spawnSync('readelf', ['--version']).status !== 0 && 'no readelf') }, () => {
  const d = spawnSync('readelf', ['-d', '-W', HOOK], { encoding: 'utf8' }).stdout;
  const needed = [...d.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  assert.deepEqual(needed.filter((n) => !/^lib(c|dl)\.so/.test(n)), [], d);
  const syms = spawnSync('readelf', ['--dyn-syms', '-W', HOOK], { encoding: 'utf8' }).stdout
    .split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f[6] && f[6] !== 'UND' && f[4] === 'GLOBAL').map((f) => f[7]);
  for (const s of ['connect', 'bind', 'open', 'openat', '__open_2', 'fopen', 'execve', 'posix_spawn', 'fork']) assert.ok(syms.includes(s), s);
  for (const s of ['vfork', 'clone', 'malloc', 'calloc', 'write']) assert.ok(!syms.includes(s), `${s} must not be wrapped`);
});
