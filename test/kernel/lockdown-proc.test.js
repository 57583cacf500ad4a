'use strict';
// Child processes, addons and the always-on hardening, by raw syscalls.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { haveKernel, runChild, tempDir, TEST_ADDON } = require('../helpers/harness');

const skip = haveKernel();
const EACCES = -13;
const EPERM = -1;
const ENOSYS = -38;
// x86_64 numbers (the raw-syscall cases below are x86_64-specific)
const NR = { getpid: 39, ptrace: 101, bpf: 321, perf_event_open: 298, unshare: 272, mount: 165, keyctl: 250, userfaultfd: 323, io_uring_setup: 425, clone3: 435, openat2: 437, seccomp: 317, personality: 135, process_vm_writev: 311, kexec_load: 246 };
const x64 = process.arch === 'x64' ? false : 'x86_64 syscall numbers';

test('childProcess: false — raw fork, clone and execve are denied; threads still start', { skip }, async () => {
  const r = await runChild(`
    bb.lockdown();
    const { Worker } = require('node:worker_threads');
    const res = { fork: t.forkExit(), clone: t.cloneProcess(), exec: t.execve('/bin/true', ['true']) };
    const w = new Worker('require("node:worker_threads").parentPort.postMessage(6*7)', { eval: true });
    w.on('message', (m) => { res.worker = m; out(res); w.terminate(); });`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.result.fork, EACCES);
  assert.equal(r.result.clone, EACCES);
  assert.equal(r.result.exec, EACCES);
  assert.equal(r.result.worker, 42);
});

test('childProcess: true — fork works (the other side)', { skip }, async () => {
  const r = await runChild(`bb.lockdown({ childProcess: true }); out({ fork: t.forkExit() });`);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.result.fork > 0);
});

test('childProcess: [exe] — only listed executables run (Landlock EXECUTE)', { skip }, async () => {
  const r = await runChild(`
    const { spawnSync } = require('node:child_process');
    bb.lockdown({ childProcess: ['/usr/bin/true'] });
    const ok = spawnSync('/usr/bin/true');
    const no = spawnSync('/usr/bin/env', ['true']);
    out({ ok: ok.status, okErr: ok.error && ok.error.code, no: no.status, noErr: no.error && no.error.code });`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.result.ok, 0);
  assert.equal(r.result.okErr, undefined);
  // the JS guard answers first; the kernel side (Landlock EXECUTE) is shown in
  // guards-proc.test.js by a listed script whose unlisted interpreter Landlock refuses
  assert.equal(r.result.noErr, 'ERR_ACCESS_DENIED');
});

test('addons: false — dlopen of a new shared object fails, Workers and WebAssembly still work', { skip }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    // a fresh inode, so the loader cannot reuse the already-mapped test addon
    const copy = path.join(dir, 'copy.node');
    fs.copyFileSync(TEST_ADDON, copy);
    const r = await runChild(`
      // Node's loader, captured before the JS guards patch it: the kernel answers
      const dlopen = process.dlopen;
      const loadNode = (m, f) => dlopen(m, f);
      bb.lockdown({ fs: { write: [${JSON.stringify(dir)}] } });
      const res = { dlopen: t.dlopen(${JSON.stringify(copy)}) };
      try { loadNode({ exports: {} }, ${JSON.stringify(copy)}); res.require = 'loaded'; } catch (e) { res.require = e.code; }
      const wasm = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from('0061736d0100000001070160027f7f017f030201000707010361646400000a09010700200020016a0b', 'hex')));
      res.wasm = wasm.exports.add(20, 22);
      const { Worker } = require('node:worker_threads');
      const w = new Worker('require("node:worker_threads").parentPort.postMessage("alive")', { eval: true });
      w.on('message', (m) => { res.worker = m; out(res); w.terminate(); });`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(typeof r.result.dlopen, 'string', 'dlopen failed with a message');
    assert.match(r.result.dlopen, /failed to map segment|Permission denied|cannot/);
    assert.equal(r.result.require, 'ERR_DLOPEN_FAILED');
    assert.equal(r.result.wasm, 42);
    assert.equal(r.result.worker, 'alive');

    const granted = await runChild(`bb.lockdown({ addons: true }); out({ dlopen: t.dlopen(${JSON.stringify(copy)}) });`);
    assert.equal(granted.status, 0, granted.stderr);
    assert.equal(granted.result.dlopen, null);
  } finally {
    cleanup();
  }
});

test('always-on hardening: admin syscalls EPERM, newer interfaces ENOSYS, x32 ENOSYS', { skip: skip || x64 }, async () => {
  const r = await runChild(`
    bb.lockdown({ net: true, fs: true, childProcess: true, addons: true });
    const s = (nr, ...a) => t.syscall(nr, ...a);
    out({
      getpid: s(${NR.getpid}) === process.pid,
      ptrace: s(${NR.ptrace}, 0x4206 /* PTRACE_SEIZE */, process.ppid, 0, 0),
      vmw: s(${NR.process_vm_writev}, process.ppid, 0, 0, 0, 0, 0),
      bpf: s(${NR.bpf}, 0, 0, 0), perf: s(${NR.perf_event_open}, 0, 0, -1, -1, 0),
      unshare: s(${NR.unshare}, 0x10000000), mount: s(${NR.mount}, 0, 0, 0, 0, 0),
      keyctl: s(${NR.keyctl}, 0), uffd: s(${NR.userfaultfd}, 0), kexec: s(${NR.kexec_load}, 0, 0, 0, 0),
      uring: s(${NR.io_uring_setup}, 1, 0), clone3: s(${NR.clone3}, 0, 0), openat2: s(${NR.openat2}, -100, 0, 0, 0),
      x32: s(0x40000000 + ${NR.getpid}),
      strict: s(${NR.seccomp}, 0, 0, 0), listener: s(${NR.seccomp}, 1, 8, 0),
      persona: s(${NR.personality}, 0x0400000 /* READ_IMPLIES_EXEC */), personaQuery: s(${NR.personality}, 0xffffffff) >= 0,
    });`);
  assert.equal(r.status, 0, r.stderr);
  const o = r.result;
  assert.equal(o.getpid, true);
  for (const k of ['ptrace', 'vmw', 'bpf', 'perf', 'unshare', 'mount', 'keyctl', 'uffd', 'kexec', 'strict', 'listener', 'persona']) {
    assert.equal(o[k], EPERM, k);
  }
  for (const k of ['uring', 'clone3', 'openat2', 'x32']) assert.equal(o[k], ENOSYS, k);
  assert.equal(o.personaQuery, true);
});

test('always-on hardening: a 32-bit int 0x80 syscall kills the process (arch check)', { skip: skip || x64 }, async (tc) => {
  const before = await runChild(`out({ pid: t.int80Getpid() > 0 });`);
  if (before.status !== 0 || !before.result || !before.result.pid) {
    tc.skip('this kernel has no 32-bit syscall emulation (int 0x80 fails without any filter)');
    return;
  }
  const r = await runChild(`bb.lockdown(); t.int80Getpid(); out({ survived: true });`);
  assert.equal(r.result, undefined);
  assert.equal(r.signal, 'SIGSYS');
});
