'use strict';
// Smoke tests of the native addon (build/Release/blackbox.node) export by export.
//
// Rule: the test runner process never restricts itself. Every case that calls seccompInstall,
// setNoNewPrivs or a Landlock restriction runs in a FRESH child (`node -e`), and is judged by
// evidence outside it: its exit status/signal, the JSON it prints, bytes a loopback server in
// this process received. Only loopback addresses and a temp directory are used.
//
// The raw-syscall helper addon (test/fixtures/native, bbtest.node) is built by scripts/run-tests.js.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const dgram = require('node:dgram');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const ADDON = (() => {
  try {
    return require('node-gyp-build').path(ROOT);
  } catch {
    return path.join(ROOT, 'build', 'Release', 'blackbox.node');
  }
})();
const BBTEST = path.join(ROOT, 'test', 'fixtures', 'native', 'build', 'Release', 'bbtest.node');
const bb = require(ADDON); // only non-restricting exports are called in this process

// ---- kernel constants (UAPI values; the addon passes them through untouched) ----------------
const LL_ACCESS_FS_READ_FILE = 1 << 2; // LANDLOCK_ACCESS_FS_READ_FILE, ABI 1
const LL_ACCESS_NET_CONNECT_TCP = 1 << 1; // ABI 4
const SECCOMP_FILTER_FLAG_TSYNC = 1;
const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;
const SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 16;
const SECCOMP_RET_KILL_PROCESS = 0x80000000;
const SECCOMP_RET_ERRNO = 0x00050000;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const EACCES = 13;
// cBPF opcodes (linux/bpf_common.h)
const BPF_LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
const BPF_JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const BPF_RET_K = 0x06; // BPF_RET | BPF_K
// seccomp_data: nr at offset 0, arch at 4
const ARCH = {
  x64: { audit: 0xc000003e, getppid: 110, getpid: 39 }, // AUDIT_ARCH_X86_64
  arm64: { audit: 0xc00000b7, getppid: 173, getpid: 172 }, // AUDIT_ARCH_AARCH64
}[process.arch];

/** Packs [code, jt, jf, k] tuples as struct sock_filter[] (8 bytes each, little-endian). */
function bpf(insns) {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    b.writeUInt16LE(code, i * 8);
    b.writeUInt8(jt, i * 8 + 2);
    b.writeUInt8(jf, i * 8 + 3);
    b.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return b;
}

// getppid() -> ERRNO(EACCES); everything else (and any foreign arch) -> ALLOW.
const GETPPID_EACCES = ARCH && bpf([
  [BPF_LD_W_ABS, 0, 0, 4], //        0: A = arch
  [BPF_JEQ_K, 0, 3, ARCH.audit], //  1: native arch? else -> 5
  [BPF_LD_W_ABS, 0, 0, 0], //        2: A = nr
  [BPF_JEQ_K, 0, 1, ARCH.getppid], //3: getppid? else -> 5
  [BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EACCES], // 4
  [BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW], //          5
]);
const ALLOW_ALL = bpf([[BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW]]);

// ---- child runner ----------------------------------------------------------------------------
const PRELUDE = `'use strict';
const bb = require(${JSON.stringify(ADDON)});
const t = require(${JSON.stringify(BBTEST)});
const fs = require('node:fs');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hexBuf = (h) => Buffer.from(h, 'hex');
function out(o) { process.stdout.write('\\n@@RESULT ' + JSON.stringify(o) + '\\n'); }
process.on('unhandledRejection', (e) => { console.error(e); process.exit(70); });
`;

/** Runs `code` (after PRELUDE) in a fresh node; resolves {status, signal, stdout, stderr, result}. */
function runChild(code, { timeout = 20000, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', PRELUDE + code], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status, signal) => {
      const line = stdout.split('\n').reverse().find((l) => l.startsWith('@@RESULT '));
      const result = line ? JSON.parse(line.slice('@@RESULT '.length)) : undefined;
      resolve({ status, signal, stdout, stderr, result });
    });
  });
}

function expectClean(r) {
  assert.equal(r.signal, null, `child killed by ${r.signal}\n${r.stderr}`);
  assert.equal(r.status, 0, `child exit ${r.status}\n${r.stderr}`);
  assert.ok(r.result, `child printed no result\n${r.stdout}\n${r.stderr}`);
  return r.result;
}

let tmp;
let secret;
let granted;
before(() => {
  assert.ok(fs.existsSync(BBTEST), `test addon missing: ${BBTEST} (run: node scripts/run-tests.js kernel)`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-native-'));
  secret = path.join(tmp, 'secret.txt');
  granted = path.join(tmp, 'granted.txt');
  fs.writeFileSync(secret, 'TOP SECRET\n');
  fs.writeFileSync(granted, 'public\n');
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const linuxOnly = { skip: process.platform !== 'linux' && 'Linux only' };
const withArch = { skip: (process.platform !== 'linux' || !ARCH) && 'needs Linux x64/arm64' };

// ---- in-process (nothing here restricts anything) --------------------------------------------

test('export list is exactly the documented one', linuxOnly, () => {
  assert.deepEqual(Object.keys(bb).sort(), [
    'close', 'getNoNewPrivs', 'gettid', 'ioUringFds', 'ioUringPersonalityProbe', 'ioUringState', 'landlockAbi', 'landlockAddNetRule',
    'landlockAddPathRule', 'landlockCreateRuleset', 'landlockErrata', 'landlockRestrictAllThreads',
    'landlockRestrictSelf', 'probeConnect', 'readLine', 'seccompActionAvailable', 'seccompInstall',
    'setNoNewPrivs', 'setPtracer', 'spawnSupervisor', 'threadStatus', 'writeFd',
  ]);
});

test('probes: Landlock ABI, errata, seccomp actions', linuxOnly, () => {
  const abi = bb.landlockAbi();
  assert.ok(Number.isInteger(abi) && abi > 0, `landlockAbi() = ${abi}`);
  const errata = bb.landlockErrata();
  assert.ok(Number.isInteger(errata) && errata >= 0);
  assert.equal(bb.seccompActionAvailable(SECCOMP_RET_KILL_PROCESS), true);
  assert.equal(bb.seccompActionAvailable(SECCOMP_RET_ERRNO), true);
  assert.equal(bb.seccompActionAvailable(SECCOMP_RET_ALLOW), true);
  assert.equal(bb.seccompActionAvailable(0x12340000), false); // not an action
});

test('status exports: threadStatus, gettid, ioUringFds', linuxOnly, () => {
  const st = bb.threadStatus();
  assert.ok(st.length >= 2, 'a Node process has several threads');
  const me = bb.gettid();
  assert.equal(me, process.pid, 'the JS main thread is the thread group leader');
  assert.ok(st.some((s) => s.tid === me));
  for (const s of st) {
    for (const k of ['tid', 'seccomp', 'seccompFilters', 'noNewPrivs']) assert.equal(typeof s[k], 'number');
  }
  // libuv's epoll rings: none on Node 20 unless UV_USE_IO_URING=1, one per loop on Node 22+.
  const links = fs.readdirSync('/proc/self/fd').map((f) => { try { return fs.readlinkSync(`/proc/self/fd/${f}`); } catch { return ''; } });
  assert.equal(bb.ioUringFds().length, links.filter((l) => l === 'anon_inode:[io_uring]').length);
});

test('ruleset construction; failures are Node-style errno errors', linuxOnly, () => {
  const fd = bb.landlockCreateRuleset(LL_ACCESS_FS_READ_FILE, 0, 0);
  assert.ok(fd > 2);
  try {
    bb.landlockAddPathRule(fd, granted, LL_ACCESS_FS_READ_FILE);
    assert.throws(() => bb.landlockAddPathRule(fd, path.join(tmp, 'missing'), LL_ACCESS_FS_READ_FILE), {
      code: 'ENOENT', errno: -2, syscall: 'open', path: path.join(tmp, 'missing'),
      message: /^open ENOENT: /,
    });
    // A net rule on a ruleset that handles no net access: the kernel says EINVAL.
    assert.throws(() => bb.landlockAddNetRule(fd, 80, LL_ACCESS_NET_CONNECT_TCP), {
      code: 'EINVAL', errno: -22, syscall: 'landlock_add_rule',
      message: 'landlock_add_rule EINVAL: Invalid argument',
    });
  } finally {
    bb.close(fd);
  }
  assert.throws(() => bb.close(fd), { code: 'EBADF', errno: -9, syscall: 'close' });
  assert.throws(() => bb.landlockAddPathRule(fd, granted, LL_ACCESS_FS_READ_FILE), {
    code: 'EBADF', syscall: 'landlock_add_rule', path: granted,
  });
  // Nothing handled at all: ENOMSG.
  assert.throws(() => bb.landlockCreateRuleset(0, 0, 0), { code: 'ENOMSG', syscall: 'landlock_create_ruleset' });
  if (bb.landlockAbi() >= 4) {
    const nfd = bb.landlockCreateRuleset(0, LL_ACCESS_NET_CONNECT_TCP, 0); // 16-byte attr
    bb.landlockAddNetRule(nfd, 443, LL_ACCESS_NET_CONNECT_TCP);
    bb.close(nfd);
  }
  if (bb.landlockAbi() >= 6) bb.close(bb.landlockCreateRuleset(0, 0, 2 /* SCOPE_SIGNAL */)); // 24 bytes
});

// ---- children ---------------------------------------------------------------------------------

test('argument checks throw TypeError and change nothing', linuxOnly, async () => {
  const r = expectClean(await runChild(`
    const cases = {
      seccompString: () => bb.seccompInstall('abc', 0),
      seccompEmpty: () => bb.seccompInstall(Buffer.alloc(0), 0),
      seccompOdd: () => bb.seccompInstall(Buffer.alloc(12), 0),
      seccompTooLong: () => bb.seccompInstall(Buffer.alloc(8 * 4097), 0),
      seccompFlagsNeg: () => bb.seccompInstall(Buffer.alloc(8), -1),
      seccompFlagsFrac: () => bb.seccompInstall(Buffer.alloc(8), 1.5),
      seccompNoFlags: () => bb.seccompInstall(Buffer.alloc(8)),
      actionString: () => bb.seccompActionAvailable('x'),
      createString: () => bb.landlockCreateRuleset('4', 0, 0),
      createNeg: () => bb.landlockCreateRuleset(-1, 0, 0),
      createUnsafe: () => bb.landlockCreateRuleset(2 ** 53, 0, 0),
      createNaN: () => bb.landlockCreateRuleset(NaN, 0, 0),
      createMissing: () => bb.landlockCreateRuleset(4),
      pathNul: () => bb.landlockAddPathRule(3, '/tmp\\0/etc', 4),
      pathNumber: () => bb.landlockAddPathRule(3, 42, 4),
      pathEmpty: () => bb.landlockAddPathRule(3, '', 4),
      netPortBig: () => bb.landlockAddNetRule(3, 65536, 2),
      netPortNeg: () => bb.landlockAddNetRule(3, -1, 2),
      restrictSelfFd: () => bb.landlockRestrictSelf('3', 0),
      restrictSelfFlags: () => bb.landlockRestrictSelf(3, 0.5),
      allFd: () => bb.landlockRestrictAllThreads('3', 0, 100),
      allTimeout: () => bb.landlockRestrictAllThreads(3, 0, -1),
      allMissing: () => bb.landlockRestrictAllThreads(3, 0),
      closeNeg: () => bb.close(-1),
      closeString: () => bb.close('3'),
      ptracerBad: () => bb.setPtracer(-2),
    };
    const res = {};
    for (const [k, f] of Object.entries(cases)) {
      try { f(); res[k] = 'no throw'; } catch (e) { res[k] = e instanceof TypeError ? 'TypeError' : String(e); }
    }
    const st = bb.threadStatus();
    out({ res, nnp: bb.getNoNewPrivs(), seccomp: st.map((s) => s.seccomp) });
  `));
  for (const [k, v] of Object.entries(r.res)) assert.equal(v, 'TypeError', k);
  assert.equal(r.nnp, 0, 'no argument error may have set no_new_privs');
});

test('seccomp: handcrafted filter with TSYNC|TSYNC_ESRCH covers every thread', withArch, async () => {
  const r = expectClean(await runChild(`
    const { Worker } = require('node:worker_threads');
    const workerCode = (tag) => \`
      const t = require(\${JSON.stringify(${JSON.stringify(BBTEST)})});
      const { parentPort } = require('node:worker_threads');
      parentPort.postMessage({ tag: '\${tag}', ppid: t.syscall(${ARCH.getppid}), tid: t.gettid() });
      setInterval(() => {}, 1000);\`;
    const fromWorker = (w) => new Promise((res) => w.once('message', res));
    (async () => {
      await fs.promises.readFile(${JSON.stringify(__filename)}); // libuv pool exists before
      const w1 = new Worker(workerCode('before'), { eval: true });
      const m1 = await fromWorker(w1); // worker thread exists (and ran unfiltered) before install
      bb.setNoNewPrivs();
      const ret = bb.seccompInstall(hexBuf(${JSON.stringify(GETPPID_EACCES.toString('hex'))}),
                                    ${SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH});
      const st = bb.threadStatus();
      const ppidMain = t.syscall(${ARCH.getppid});
      const pidMain = t.syscall(${ARCH.getpid});
      w1.postMessage('x');
      const w2 = new Worker(workerCode('after'), { eval: true }); // created after: inherits
      const m2 = await fromWorker(w2);
      const st2 = bb.threadStatus();
      out({ ret, st, st2, ppidMain, pidMain, pid: process.pid, m1, m2 });
      process.exit(0);
    })();
  `));
  assert.equal(r.ret, 0);
  assert.ok(r.st.length >= 7, `threads: ${r.st.length}`); // main, V8 x5, watchdog, pool, worker
  for (const s of [...r.st, ...r.st2]) {
    assert.equal(s.seccomp, 2, `tid ${s.tid} Seccomp`);
    assert.equal(s.noNewPrivs, 1, `tid ${s.tid} NoNewPrivs (copied by TSYNC)`);
    assert.ok(s.seccompFilters >= 1, `tid ${s.tid} Seccomp_filters`);
  }
  // All threads share one filter tree: the same count everywhere.
  assert.equal(new Set([...r.st, ...r.st2].map((s) => s.seccompFilters)).size, 1);
  assert.ok(r.st.some((s) => s.tid === r.m1.tid), 'the pre-existing worker thread was synced');
  assert.equal(r.m1.ppid > 0, true, 'unfiltered getppid worked before');
  assert.equal(r.ppidMain, -EACCES, 'getppid on main -> -EACCES');
  assert.equal(r.m2.ppid, -EACCES, 'getppid in a Worker created afterwards -> -EACCES');
  assert.equal(r.pidMain, r.pid, 'getpid still allowed');
});

test('seccomp: TSYNC conflict -> ESRCH with .tid (and plain ESRCH with TSYNC_ESRCH)', withArch, async () => {
  const r = expectClean(await runChild(`
    const { Worker } = require('node:worker_threads');
    const w = new Worker(\`
      const bb = require(\${JSON.stringify(${JSON.stringify(ADDON)})});
      const { parentPort } = require('node:worker_threads');
      bb.setNoNewPrivs();
      bb.seccompInstall(Buffer.from('${ALLOW_ALL.toString('hex')}', 'hex'), 0); // this thread only
      parentPort.postMessage(bb.gettid());
      setInterval(() => {}, 1000);\`, { eval: true });
    w.once('message', (wtid) => {
      bb.setNoNewPrivs();
      const allow = hexBuf(${JSON.stringify(ALLOW_ALL.toString('hex'))});
      const grab = (f) => { try { f(); return null; } catch (e) { return { code: e.code, errno: e.errno, syscall: e.syscall, tid: e.tid, message: e.message }; } };
      const e1 = grab(() => bb.seccompInstall(allow, ${SECCOMP_FILTER_FLAG_TSYNC}));
      const e2 = grab(() => bb.seccompInstall(allow, ${SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH}));
      const mainSeccomp = bb.threadStatus().find((s) => s.tid === process.pid).seccomp;
      out({ wtid, e1, e2, mainSeccomp });
      process.exit(0);
    });
  `));
  assert.equal(r.e1.code, 'ESRCH');
  assert.equal(r.e1.errno, -3);
  assert.equal(r.e1.syscall, 'seccomp');
  assert.equal(r.e1.tid, r.wtid, 'the positive return value is the diverging thread');
  assert.equal(r.e2.code, 'ESRCH');
  assert.equal(r.e2.tid, undefined);
  assert.equal(r.mainSeccomp, 0, 'a failed TSYNC installs nothing');
});

test('seccomp: NEW_LISTENER returns the notification fd', withArch, async () => {
  const r = expectClean(await runChild(`
    bb.setNoNewPrivs();
    const fd = bb.seccompInstall(hexBuf(${JSON.stringify(ALLOW_ALL.toString('hex'))}), ${SECCOMP_FILTER_FLAG_NEW_LISTENER});
    out({ fd, link: fs.readlinkSync('/proc/self/fd/' + fd) });
  `));
  assert.ok(r.fd > 2);
  assert.equal(r.link, 'anon_inode:seccomp notify');
});

test('landlock control: a main-thread-only domain leaks through pre-existing pool threads', linuxOnly, async () => {
  // Proves the broadcast test below can fail: same setup, landlockRestrictSelf instead.
  const r = expectClean(await runChild(`
    (async () => {
      await fs.promises.readFile(${JSON.stringify(granted)}); // creates the libuv pool
      const fd = bb.landlockCreateRuleset(${LL_ACCESS_FS_READ_FILE}, 0, 0);
      bb.landlockAddPathRule(fd, ${JSON.stringify(granted)}, ${LL_ACCESS_FS_READ_FILE});
      bb.landlockRestrictSelf(fd, 0);
      bb.close(fd);
      let sync; try { fs.readFileSync(${JSON.stringify(secret)}); sync = 'read'; } catch (e) { sync = e.code; }
      let pooled; try { pooled = String(await fs.promises.readFile(${JSON.stringify(secret)})); } catch (e) { pooled = e.code; }
      out({ sync, pooled });
    })();
  `));
  assert.equal(r.sync, 'EACCES', 'main thread is restricted');
  assert.equal(r.pooled, 'TOP SECRET\n', 'pool thread is not: the leak the broadcast exists for');
});

test('landlock broadcast: pool threads started before are restricted; granted file still reads', linuxOnly, async (ctx) => {
  const r = expectClean(await runChild(`
    (async () => {
      const tidsBefore = bb.threadStatus().map((s) => s.tid);
      await fs.promises.readFile(${JSON.stringify(granted)}); // starts the libuv pool BEFORE
      const tidsPool = bb.threadStatus().map((s) => s.tid);
      const fd = bb.landlockCreateRuleset(${LL_ACCESS_FS_READ_FILE}, 0, 0);
      bb.landlockAddPathRule(fd, ${JSON.stringify(granted)}, ${LL_ACCESS_FS_READ_FILE});
      const res = bb.landlockRestrictAllThreads(fd, 0, 2000);
      bb.close(fd);
      const attempt = async (f) => { try { return String(await f()); } catch (e) { return e.code; } };
      const promises = await attempt(() => fs.promises.readFile(${JSON.stringify(secret)}));
      const callback = await attempt(() => new Promise((ok, ko) => fs.readFile(${JSON.stringify(secret)}, (e, d) => e ? ko(e) : ok(d))));
      const sync = await attempt(() => fs.readFileSync(${JSON.stringify(secret)}));
      const raw = t.open(${JSON.stringify(secret)}, t.O_RDONLY);
      const ok = await attempt(() => fs.promises.readFile(${JSON.stringify(granted)}));
      out({ res, tidsBefore, tidsPool, promises, callback, sync, raw, ok, pid: process.pid });
    })();
  `));
  const { res } = r;
  assert.ok(r.tidsPool.length > r.tidsBefore.length, 'the async read created pool threads first');
  assert.equal(res.ok, true, JSON.stringify(res));
  assert.equal(res.stable, true);
  assert.ok(res.rounds >= 2, 'at least one rescan confirmed the thread set');
  for (const th of res.threads) assert.ok(['applied', 'exited'].includes(th.state), JSON.stringify(th));
  const seen = new Set(res.threads.map((th) => th.tid));
  for (const tid of r.tidsPool) assert.ok(seen.has(tid), `thread ${tid} was covered`);
  const self = res.threads.filter((th) => th.self);
  assert.equal(self.length, 1);
  assert.equal(self[0].tid, r.pid, 'the caller (JS main thread) reports itself');
  assert.equal(res.threads.at(-1).self, true, 'the calling thread is restricted last');
  assert.equal(typeof res.elapsedUs, 'number');
  assert.equal(r.promises, 'EACCES', 'fs.promises.readFile (pool thread)');
  assert.equal(r.callback, 'EACCES', 'fs.readFile (pool thread)');
  assert.equal(r.sync, 'EACCES', 'fs.readFileSync (main thread)');
  assert.equal(r.raw, -EACCES, 'raw open(2)');
  assert.equal(r.ok, 'public\n', 'the granted file still reads');
  ctx.diagnostic(`broadcast: ${res.threads.length} threads, ${res.rounds} rounds, ${res.elapsedUs} us`);
});

test('landlock broadcast with an invalid ruleset fd: ok false, every thread failed, signal restored', linuxOnly, async () => {
  const r = expectClean(await runChild(`
    (async () => {
      await fs.promises.readFile(${JSON.stringify(granted)});
      const res = bb.landlockRestrictAllThreads(987654, 0, 2000);
      // glibc's SIGSETXID handler must be back: setuid() broadcasts it to every thread and
      // would hang (or die on SIG_DFL) otherwise.
      process.setuid(process.getuid());
      const readable = String(await fs.promises.readFile(${JSON.stringify(secret)}));
      out({ res, readable });
    })();
  `, { timeout: 10000 }));
  assert.equal(r.res.ok, false);
  assert.ok(r.res.threads.length >= 2);
  for (const th of r.res.threads) {
    assert.equal(th.state, 'failed');
    assert.equal(th.errno, -9);
    assert.equal(th.code, 'EBADF');
  }
  assert.equal(r.readable, 'TOP SECRET\n', 'nothing was restricted');
});

test('landlock broadcast waits for a thread that blocks every signal; past the deadline: timeout', linuxOnly, async () => {
  // A thread that blocks 33 is not skipped (new and exiting threads look like this); the
  // signal stays queued. Held 1.5 s against a 300 ms deadline -> 'timeout', ok false. When the
  // thread finally unblocks, our queued instance reaches glibc's restored handler, which must
  // ignore it (it is SI_QUEUE, not glibc's SI_TKILL): the process has to survive.
  const r = expectClean(await runChild(`
    (async () => {
      await fs.promises.readFile(${JSON.stringify(granted)});
      const blocked = t.sigblockThread(1500);
      const fd = bb.landlockCreateRuleset(${LL_ACCESS_FS_READ_FILE}, 0, 0);
      bb.landlockAddPathRule(fd, ${JSON.stringify(granted)}, ${LL_ACCESS_FS_READ_FILE});
      const res = bb.landlockRestrictAllThreads(fd, 0, 300);
      await sleep(1700); // the blocked thread unblocks and exits meanwhile
      process.setuid(process.getuid()); // glibc's setxid broadcast still works
      out({ res, blocked });
    })();
  `, { timeout: 10000 }));
  const { res } = r;
  assert.equal(res.ok, false);
  const b = res.threads.find((th) => th.tid === r.blocked);
  assert.ok(b, 'the blocked thread was targeted, not skipped');
  assert.equal(b.state, 'timeout');
  assert.ok(res.elapsedUs >= 300000 && res.elapsedUs < 1500000, `elapsed ${res.elapsedUs}`);
  for (const th of res.threads) if (th.tid !== r.blocked) assert.ok(['applied', 'exited'].includes(th.state), JSON.stringify(th));

  // Same, but the thread unblocks (200 ms) before the deadline (3 s): it is restricted.
  const r2 = expectClean(await runChild(`
    (async () => {
      await fs.promises.readFile(${JSON.stringify(granted)});
      const blocked = t.sigblockThread(200);
      const fd = bb.landlockCreateRuleset(${LL_ACCESS_FS_READ_FILE}, 0, 0);
      const res = bb.landlockRestrictAllThreads(fd, 0, 3000);
      out({ res, blocked });
    })();
  `, { timeout: 10000 }));
  assert.equal(r2.res.ok, true, JSON.stringify(r2.res));
  assert.ok(['applied', 'exited'].includes(r2.res.threads.find((th) => th.tid === r2.blocked).state));
  assert.ok(r2.res.elapsedUs >= 150000, 'the barrier waited for the blocked thread');
});

test('landlock broadcast from a Worker while main runs glibc setxid (process.setuid) in a loop', linuxOnly, async () => {
  // Foreign SIGSETXID instances (glibc's SI_TKILL) must be chained to glibc's handler, or
  // setuid() deadlocks. A thread blocking all signals for 300 ms holds both broadcasts open so
  // they overlap for sure; the main thread is itself a target of the Worker's broadcast.
  const r = expectClean(await runChild(`
    const { Worker } = require('node:worker_threads');
    (async () => {
      await fs.promises.readFile(${JSON.stringify(granted)});
      const sab = new Int32Array(new SharedArrayBuffer(8));
      const w = new Worker(\`
        const bb = require(\${JSON.stringify(${JSON.stringify(ADDON)})});
        const { parentPort, workerData } = require('node:worker_threads');
        const flag = new Int32Array(workerData);
        const fd = bb.landlockCreateRuleset(${LL_ACCESS_FS_READ_FILE}, 0, 0);
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0);
        // wait until main has started the signal-blocking thread, so the
        // broadcast is held open for its 300 ms whatever the machine's load
        while (Atomics.load(flag, 1) === 0) Atomics.wait(flag, 1, 0, 50);
        const res = bb.landlockRestrictAllThreads(fd, 0, 5000);
        Atomics.store(flag, 0, 2);
        parentPort.postMessage(res);\`, { eval: true, workerData: sab.buffer });
      await new Promise((ok) => w.once('online', ok));
      while (Atomics.load(sab, 0) === 0) Atomics.wait(sab, 0, 0, 1);
      const blocked = t.sigblockThread(300);
      Atomics.store(sab, 1, 1);
      Atomics.notify(sab, 1);
      Atomics.wait(sab, 0, 1, 20); // the handler is installed within microseconds of the go
      let n = 0;
      const until = Date.now() + 4000;
      while (Atomics.load(sab, 0) !== 2 && Date.now() < until) { process.setuid(process.getuid()); n++; }
      const res = await new Promise((ok) => w.once('message', ok));
      for (let i = 0; i < 20; i++) process.setuid(process.getuid()); // glibc handler restored
      let secretRead; try { fs.readFileSync(${JSON.stringify(secret)}); secretRead = 'read'; } catch (e) { secretRead = e.code; }
      out({ res, n, secretRead, blocked, pid: process.pid });
      process.exit(0);
    })();
  `, { timeout: 15000 }));
  assert.equal(r.res.ok, true, JSON.stringify(r.res));
  assert.ok(r.n > 0, 'setuid ran during the broadcast');
  assert.ok(r.res.foreign > 0, 'glibc instances were seen and chained');
  assert.equal(r.res.threads.find((th) => th.tid === r.pid).state, 'applied', 'main was a target');
  assert.equal(r.secretRead, 'EACCES', 'the main thread was restricted by the Worker\'s broadcast');
});

const RACE_CHILD = (withLandlock) => `
  (async () => {
    await fs.promises.readFile(${JSON.stringify(granted)});
    t.racersStart(${JSON.stringify(secret)});
    await sleep(20);
    let res = null;
    if (${withLandlock}) {
      const fd = bb.landlockCreateRuleset(${LL_ACCESS_FS_READ_FILE}, 0, 0); // nothing granted
      res = bb.landlockRestrictAllThreads(fd, 0, 8000); // generous: converging under churn
    }
    t.racersMark();
    await sleep(200);
    const s = t.racersStop();
    out({ s, res: res && { ok: res.ok, n: res.threads.length, rounds: res.rounds, elapsedUs: res.elapsedUs,
                           bad: res.threads.filter((x) => !['applied', 'exited'].includes(x.state)) } });
  })();
`;

test('racers: no open(2) that starts after the broadcast returns succeeds (>= 20 fresh runs)', linuxOnly, async (ctx) => {
  const RUNS = 20;
  const budget = Date.now() + 120000;
  const stats = [];
  for (let i = 0; i < RUNS && Date.now() < budget; i++) {
    const r = expectClean(await runChild(RACE_CHILD(true), { timeout: 30000 }));
    assert.equal(r.s.successesAfterMark, 0, `run ${i}: ${JSON.stringify(r)}`);
    assert.ok(r.s.successesBeforeMark > 0, `run ${i}: racers did open the file before lockdown`);
    assert.ok(r.s.attempts > 0 && r.s.threadsCreated > 0);
    assert.equal(r.res.ok, true, `run ${i}: ${JSON.stringify(r.res)}`);
    stats.push(r);
  }
  assert.equal(stats.length, RUNS, 'time budget exhausted before 20 runs');
  const us = stats.map((r) => r.res.elapsedUs).sort((a, b) => a - b);
  const created = stats.reduce((a, r) => a + r.s.threadsCreated, 0);
  ctx.diagnostic(`racers: ${RUNS} runs, ${created} threads created, broadcast us min/median/max ` +
    `${us[0]}/${us[us.length >> 1]}/${us.at(-1)}, rounds max ${Math.max(...stats.map((r) => r.res.rounds))}`);
});

test('racers control: without Landlock, opens after the mark succeed (the test can fail)', linuxOnly, async () => {
  const r = expectClean(await runChild(RACE_CHILD(false)));
  assert.ok(r.s.successesAfterMark > 0, JSON.stringify(r.s));
});

test('landlock broadcast rescans: a thread created by a not-yet-restricted thread is found', linuxOnly, async () => {
  // Deterministic version of the race: thread A blocks all signals, so round 1 queues to it and
  // waits; 50 ms later A creates C (unrestricted: A has no domain yet), then unblocks and acks.
  // Only a rescan finds C. Without it C would keep reading the secret after lockdown (checked
  // by hand with a build that skips the rescan: ~1500 successful opens after the mark).
  const r = expectClean(await runChild(`
    (async () => {
      await fs.promises.readFile(${JSON.stringify(granted)});
      const a = t.nestedRacer(${JSON.stringify(secret)}, 50, 300);
      const fd = bb.landlockCreateRuleset(${LL_ACCESS_FS_READ_FILE}, 0, 0);
      const res = bb.landlockRestrictAllThreads(fd, 0, 3000);
      t.racersMark();
      out({ res, a, n: t.nestedRacerResult() });
    })();
  `));
  assert.equal(r.res.ok, true, JSON.stringify(r.res));
  assert.ok(r.n.childTid > 0 && r.n.attempts > 0);
  const c = r.res.threads.find((th) => th.tid === r.n.childTid);
  assert.ok(c, 'C was found by a rescan');
  assert.equal(c.state, 'applied');
  assert.ok(r.res.rounds >= 3, `rounds ${r.res.rounds}`);
  assert.equal(r.n.successesAfterMark, 0);
});

test('bbtest raw helpers reach a loopback server in this process', linuxOnly, async () => {
  const got = [];
  const server = net.createServer((s) => {
    let buf = '';
    s.setEncoding('utf8').on('data', (d) => (buf += d)).on('end', () => got.push(buf));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const udp = dgram.createSocket('udp4');
  const udpGot = [];
  udp.on('message', (m) => udpGot.push(String(m)));
  await new Promise((ok) => udp.bind(0, '127.0.0.1', ok));
  try {
    const port = server.address().port;
    const r = expectClean(await runChild(`
      out({
        tcp: t.tcpConnect('127.0.0.1', ${port}),
        tcpPayload: t.tcpConnect('127.0.0.1', ${port}, 0, 'second'),
        refused: t.tcpConnect('127.0.0.1', 1),
        udp: t.udpSend('127.0.0.1', ${udp.address().port}, 'datagram'),
        tfo: t.tfoSend('127.0.0.1', ${port}, 'fastopen'),
        sockOk: t.socket(2, 1, 0),
        sockBad: t.socket(12345, 1, 0),
        fork: t.forkExit(),
        clone: t.cloneProcess(),
        openOk: t.open(${JSON.stringify(granted)}, t.O_RDONLY),
        openMissing: t.open(${JSON.stringify(path.join(tmp, 'nope'))}, t.O_RDONLY),
        openCreate: t.open(${JSON.stringify(path.join(tmp, 'created'))}, t.O_WRONLY | t.O_CREAT | t.O_TRUNC),
        dlBad: t.dlopen(${JSON.stringify(path.join(tmp, 'nope.so'))}),
        pid: t.syscall(${ARCH ? ARCH.getpid : 39}), realPid: process.pid,
        enosys: t.syscall(100000),
        bigint: t.syscall(${ARCH ? ARCH.getpid : 39}, 1n << 63n),
        tid: t.gettid(),
        exec: t.execve(${JSON.stringify(path.join(tmp, 'no-such-exe'))}, ['x']),
      });
    `));
    await new Promise((ok) => setTimeout(ok, 100)); // let this loop read what the kernel queued
    assert.equal(r.tcp, 0);
    assert.equal(r.tcpPayload, 0);
    assert.equal(r.refused, -111); // ECONNREFUSED
    assert.equal(r.udp, 0);
    assert.equal(r.tfo, 0);
    assert.equal(r.sockOk, 0);
    assert.equal(r.sockBad, -97); // EAFNOSUPPORT
    assert.ok(r.fork > 0 && r.clone > 0);
    assert.equal(r.openOk, 0);
    assert.equal(r.openMissing, -2);
    assert.equal(r.openCreate, 0);
    assert.ok(fs.existsSync(path.join(tmp, 'created')));
    assert.match(r.dlBad, /nope\.so/);
    assert.equal(r.pid, r.realPid);
    assert.equal(r.bigint, r.realPid);
    assert.equal(r.enosys, -38);
    assert.equal(r.tid, r.realPid);
    assert.equal(r.exec, -2);
    assert.deepEqual(got.sort(), ['fastopen', 'hello', 'second']);
    assert.deepEqual(udpGot, ['datagram']);
  } finally {
    server.close();
    udp.close();
  }
});

test('bbtest int80Getpid: the i386 entry works unfiltered', { skip: process.arch !== 'x64' && 'x86_64 only' }, async () => {
  const r = await runChild(`out({ v: t.int80Getpid(), pid: process.pid });`);
  // Kernels built without IA32 emulation raise SIGSEGV instead; say so rather than fail.
  if (r.signal === 'SIGSEGV') return;
  const res = expectClean(r);
  assert.equal(res.v, res.pid);
});

test('setPtracer returns whether Yama accepted it', linuxOnly, async () => {
  const r = expectClean(await runChild(`
    const yama = fs.existsSync('/proc/sys/kernel/yama/ptrace_scope');
    out({ v: bb.setPtracer(0), yama });
  `));
  assert.equal(r.v, r.yama);
});

test('ioUringFds finds libuv rings when UV_USE_IO_URING=1', linuxOnly, async () => {
  const r = expectClean(await runChild(`
    const links = fs.readdirSync('/proc/self/fd').map((f) => { try { return fs.readlinkSync('/proc/self/fd/' + f); } catch { return ''; } });
    out({ fds: bb.ioUringFds(), expected: links.filter((l) => l === 'anon_inode:[io_uring]').length });
  `, { env: { UV_USE_IO_URING: '1' } }));
  assert.equal(r.fds.length, r.expected);
  if (r.expected === 0) return; // kernel or libuv without io_uring: nothing more to check
  for (const fd of r.fds) assert.ok(Number.isInteger(fd) && fd > 2);
});

test('ioUringState: fdinfo of each ring, the kernel io_uring threads; the personality probe', linuxOnly, async () => {
  const r = expectClean(await runChild(`
    const ring = t.uringSetup(256, 0);
    const sq = t.uringSetup(8, t.IORING_SETUP_SQPOLL);
    let st = bb.ioUringState();
    // a new io thread names itself (iou-sqp-<pid>) when it first runs
    for (let i = 0; i < 100 && sq >= 0 && !st.ioThreads.some((x) => x.comm.startsWith('iou-sqp')); i++) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      st = bb.ioUringState();
    }
    const fresh = t.uringSetup(256, 0);
    const probe1 = fresh < 0 ? fresh : bb.ioUringPersonalityProbe(fresh);
    const probe2 = fresh < 0 ? fresh : bb.ioUringPersonalityProbe(fresh);
    const used = t.uringSetup(256, 0);
    if (used >= 0) t.uringRegisterPersonality(used);
    const probe3 = used < 0 ? used : bb.ioUringPersonalityProbe(used);
    let notRing; try { notRing = bb.ioUringPersonalityProbe(0); } catch (e) { notRing = e.message; }
    out({ ring, sq, st, probe1, probe2, probe3, notRing });
  `));
  if (r.ring < 0) return; // io_uring disabled on this kernel
  const mine = r.st.rings.find((x) => x.fd === r.ring);
  assert.ok(mine, 'the ring is listed');
  assert.match(mine.fdinfo, /^SqMask:\s*0xff$/m);
  assert.match(mine.fdinfo, /^SqThread:\s*-1$/m);
  if (r.sq >= 0) assert.ok(r.st.ioThreads.some((x) => x.comm.startsWith('iou-sqp')), JSON.stringify(r.st.ioThreads));
  assert.equal(r.probe1, 1, 'no personality was ever registered: the first id');
  assert.equal(r.probe2, 2, 'ids are cyclic: the unregistered one is not handed out again at once');
  assert.equal(r.probe3, 2, 'one registered before: the next id');
  assert.equal(r.notRing, -95, 'EOPNOTSUPP on a non-ring fd');
});
