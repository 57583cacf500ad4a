'use strict';
// The connect supervisor: raw syscalls from the test addon (no JS on the path), judged by
// what loopback servers in THIS process received; the child is the one locked down.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const { ROOT, TEST_ADDON, haveKernel, runChild, recordingServer, sleep } = require('../helpers/harness');

function prelude() {
  return [
    `const bb = require(${JSON.stringify(ROOT)});`,
    `const t = require(${JSON.stringify(TEST_ADDON)});`,
  ].join('\n');
}

const skip = haveKernel();
const EACCES = -13;

function udpServer() {
  return new Promise((resolve) => {
    const got = [];
    const s = dgram.createSocket('udp4');
    s.on('message', (m) => got.push(String(m)));
    s.bind(0, '127.0.0.1', () => resolve({ port: s.address().port, got, close: () => new Promise((r) => s.close(r)) }));
  });
}

test('supervisor: per-address rules for raw TCP and UDP — 127.0.0.1:P works, 127.0.0.2:P, ::ffff:127.0.0.2, TFO and MPTCP are denied', { skip }, async () => {
  const srv = await recordingServer();
  const other = await recordingServer();
  const udp = await udpServer();
  try {
    const r = await runChild(`
      const report = bb.lockdown({ net: { connect: ['127.0.0.1:${srv.port}', '127.0.0.1:${udp.port}'] } });
      out({
        layers: report.layers,
        ok: t.tcpConnect('127.0.0.1', ${srv.port}, 0, 'ok-v4'),
        ok0: t.tcpConnect('0.0.0.0', ${srv.port}, 0, 'ok-zero'),
        otherHost: t.tcpConnect('127.0.0.2', ${srv.port}, 0, 'leak-127.0.0.2'),
        mapped: t.tcpConnect('::ffff:127.0.0.2', ${srv.port}, 0, 'leak-mapped'),
        mappedOk: t.tcpConnect('::ffff:127.0.0.1', ${srv.port}, 0, 'ok-mapped'),
        v6: t.tcpConnect('::1', ${srv.port}, 0, 'leak-v6'),
        otherPort: t.tcpConnect('127.0.0.1', ${other.port}, 0, 'leak-port'),
        tfo: t.tfoSend('127.0.0.1', ${other.port}, 'leak-tfo'),
        mptcp: t.tcpConnect('127.0.0.1', ${srv.port}, 262, 'leak-mptcp'),
        udpOk: t.udpSend('127.0.0.1', ${udp.port}, 'udp-ok'),
        udpDenied: t.udpSend('127.0.0.2', ${udp.port}, 'udp-leak'),
        udpMapped: t.udpSend('::ffff:127.0.0.2', ${udp.port}, 'udp-leak-mapped'),
      });`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.layers.netSupervisor, true);
    assert.equal(o.ok, 0);
    assert.equal(o.ok0, 0, '0.0.0.0 as a destination is this host');
    assert.equal(o.mappedOk, 0);
    for (const k of ['otherHost', 'mapped', 'v6', 'otherPort', 'tfo', 'mptcp', 'udpDenied']) assert.equal(o[k], EACCES, k);
    assert.equal(o.udpOk, 0);
    await sleep(100);
    assert.equal(srv.has('leak'), false, srv.text('|'));
    assert.equal(other.connections(), 0, other.text('|'));
    assert.ok(srv.has('ok-v4') && srv.has('ok-zero') && srv.has('ok-mapped'), srv.text('|'));
    assert.deepEqual(udp.got.filter((m) => m.includes('leak')), []);
    assert.ok(udp.got.includes('udp-ok'), udp.got.join('|'));
  } finally {
    await srv.close();
    await other.close();
    await udp.close();
  }
});

test('supervisor: a denial is reported to the process as { resource, syscall, pid } on blackbox-native:violation', { skip }, async () => {
  const srv = await recordingServer();
  try {
    const r = await runChild(`
      const dc = require('node:diagnostics_channel');
      const seen = [];
      dc.subscribe('blackbox-native:violation', (m) => { if (m.layer === 'kernel') seen.push(m); });
      bb.lockdown({ net: { connect: ['127.0.0.1:${srv.port}'] } });
      const res = t.tcpConnect('127.0.0.2', ${srv.port}, 0, 'leak');
      setTimeout(() => out({ res, seen, pid: process.pid }), 200);`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.res, EACCES);
    const v = o.seen.find((m) => m.resource === `127.0.0.2:${srv.port}`);
    assert.ok(v, JSON.stringify(o.seen));
    assert.equal(v.syscall, 'connect');
    assert.equal(v.permission, 'Net');
    assert.equal(v.pid, o.pid);
    assert.equal(v.audit, false);
    assert.equal(o.seen.length, 1, `only the denial is reported (not the self-test's probe): ${JSON.stringify(o.seen)}`);
    assert.equal(srv.connections(), 0);
  } finally {
    await srv.close();
  }
});

test('supervisor: audit mode goes through it — the would-be-denied connect and datagram arrive, and each is reported (layer kernel, audit true); allowed ones are not', { skip }, async () => {
  const srv = await recordingServer();
  const other = await recordingServer({ host: '127.0.0.2' });
  const udp = await udpServer();
  try {
    const r = await runChild(`
      const dc = require('node:diagnostics_channel');
      const seen = [];
      dc.subscribe('blackbox-native:violation', (m) => { if (m.layer === 'kernel') seen.push(m); });
      const report = bb.lockdown({ mode: 'audit', net: { connect: ['127.0.0.1:${srv.port}'] } });
      const res = {
        allowed: t.tcpConnect('127.0.0.1', ${srv.port}, 0, 'audit-allowed'),
        audited: t.tcpConnect('127.0.0.2', ${other.port}, 0, 'audit-would-deny'),
        udp: t.udpSend('127.0.0.1', ${udp.port}, 'audit-udp-would-deny'),
      };
      setTimeout(() => out({ layers: report.layers, warnings: report.warnings, res, seen, pid: process.pid }), 300);`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.layers.netSupervisor, true, 'audit runs the supervisor (its self-test passed)');
    assert.ok(o.warnings.some((w) => /audit mode/.test(w) && /supervisor/.test(w)), o.warnings.join('\n'));
    assert.deepEqual(o.res, { allowed: 0, audited: 0, udp: 0 });
    await sleep(100);
    assert.ok(srv.has('audit-allowed'), srv.text('|'));
    assert.ok(other.has('audit-would-deny'), 'audit lets the kernel carry out the would-be-denied connect');
    assert.ok(udp.got.includes('audit-udp-would-deny'));
    const tcp = o.seen.filter((m) => m.resource === `127.0.0.2:${other.port}`);
    assert.equal(tcp.length, 1, JSON.stringify(o.seen));
    assert.equal(tcp[0].audit, true);
    assert.equal(tcp[0].syscall, 'connect');
    assert.equal(tcp[0].proto, 'tcp');
    assert.equal(tcp[0].permission, 'Net');
    assert.equal(tcp[0].pid, o.pid);
    const d = o.seen.filter((m) => m.resource === `127.0.0.1:${udp.port}`);
    assert.equal(d.length, 1, JSON.stringify(o.seen));
    assert.equal(d[0].syscall, 'sendto');
    assert.equal(d[0].proto, 'udp');
    assert.equal(d[0].audit, true);
    assert.equal(o.seen.length, 2, `nothing else is reported (not the allowed connect, not the self-test): ${JSON.stringify(o.seen)}`);
  } finally {
    await srv.close();
    await other.close();
    await udp.close();
  }
});

// A child that talks: it prints '@@<tag> <json>' lines and waits for lines on stdin, so the
// test can act on it from OUTSIDE between steps (the child cannot signal its supervisor:
// Landlock SCOPE_SIGNAL). Bounded: killed after `timeout`.
function interactiveChild(code, { timeout = 20000 } = {}) {
  const child = spawn(process.execPath, ['-e', `${prelude()}\n${code}`], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = '';
  let stderr = '';
  const msgs = [];
  const waiters = [];
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /^@@(\w+) (.*)$/.exec(line);
      if (!m) continue;
      msgs.push({ tag: m[1], value: JSON.parse(m[2]) });
      for (const w of waiters.splice(0)) w();
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
  const exited = new Promise((resolve) => child.on('close', (status, signal) => { clearTimeout(timer); for (const w of waiters.splice(0)) w(); resolve({ status, signal }); }));
  let closed = false;
  exited.then(() => { closed = true; });
  return {
    pid: child.pid,
    async next(tag) {
      for (;;) {
        const i = msgs.findIndex((m) => m.tag === tag);
        if (i >= 0) return msgs.splice(i, 1)[0].value;
        if (closed) throw new Error(`child exited before '${tag}': ${stderr}`);
        await new Promise((r) => waiters.push(r));
      }
    },
    send(line) { child.stdin.write(line + '\n'); },
    exited,
    stderr: () => stderr,
  };
}

function procStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], ppid: Number(rest[1]) };
  } catch {
    return null; // gone (reaped)
  }
}

async function until(what, fn, ms = 3000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

// The supervisor is the locked process's CHILD (posix_spawn), and the locked process cannot
// signal it (Landlock SCOPE_SIGNAL: EPERM), so the test runner, outside the sandbox, kills it.
// Once killed it stays a zombie (Node reaps only children libuv spawned): /proc/<pid> and
// kill(pid, 0) still succeed, so "alive" is judged by its state, not its existence. The kernel
// releases the listener in do_exit, before the zombie: in-flight and later trapped calls get
// ENOSYS (seccomp_notify_detach / a filter without a notifier).
test('supervisor: killed from outside (even with a connect in flight), every trapped call fails with ENOSYS and nothing arrives', { skip }, async () => {
  const srv = await recordingServer();
  const udp = await udpServer();
  let c;
  try {
    c = interactiveChild(`
      const fs = require('node:fs');
      const net = require('node:net');
      const say = (tag, v) => process.stdout.write('\\n@@' + tag + ' ' + JSON.stringify(v) + '\\n');
      bb.lockdown({ net: { connect: ['127.0.0.1:${srv.port}', '127.0.0.1:${udp.port}'] } });
      const before = t.tcpConnect('127.0.0.1', ${srv.port}, 0, 'before-kill');
      const kids = fs.readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8').trim().split(/\\s+/).filter(Boolean);
      const sup = kids.map(Number).find((k) => { try { return fs.readFileSync('/proc/' + k + '/comm', 'utf8').startsWith('blackbox-superv'); } catch { return false; } });
      let selfKill;
      try { process.kill(sup, 'SIGKILL'); selfKill = 'killed'; } catch (e) { selfKill = e.code; }
      say('sup', { sup, before, selfKill, udpBefore: t.udpSend('127.0.0.1', ${udp.port}, 'udp-before') });
      const lines = [];
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', (d) => {
        for (const l of d.split('\\n').filter(Boolean)) {
          if (l === 'inflight') say('inflight', t.tcpConnect('127.0.0.1', ${srv.port}, 0, 'inflight'));
          if (l === 'after') {
            const after = t.tcpConnect('127.0.0.1', ${srv.port}, 0, 'after-kill');
            const udpAfter = t.udpSend('127.0.0.1', ${udp.port}, 'udp-after-kill');
            const s = net.connect(${srv.port}, '127.0.0.1', () => { s.end('node-after-kill'); say('after', { after, udpAfter, node: 'connected' }); process.exit(0); });
            s.on('error', (e) => { say('after', { after, udpAfter, node: e.code, cause: e.cause && e.cause.code }); process.exit(0); });
          }
        }
      });`);
    const first = await c.next('sup');
    assert.equal(first.before, 0, c.stderr());
    assert.equal(first.udpBefore, 0);
    assert.equal(first.selfKill, 'EPERM', 'Landlock SCOPE_SIGNAL keeps the locked process from killing its supervisor');
    const sup = first.sup;
    assert.ok(Number.isInteger(sup) && sup > 0, 'the supervisor is a child of the locked process');
    assert.equal(procStat(sup).ppid, c.pid);
    assert.equal(procStat(sup).state === 'Z', false);

    // In flight: stop the supervisor, let the child's connect wait in the kernel for an
    // answer (its /proc syscall file shows connect, nr 42 on x86_64), then kill it.
    process.kill(sup, 'SIGSTOP');
    await until('the supervisor to stop', () => procStat(sup)?.state === 'T');
    c.send('inflight');
    const connectNr = process.arch === 'x64' ? '42' : process.arch === 'arm64' ? '203' : null;
    if (connectNr) await until('the child to wait in connect', () => fs.readFileSync(`/proc/${c.pid}/syscall`, 'utf8').split(' ')[0] === connectNr);
    else await sleep(200);
    process.kill(sup, 'SIGKILL');
    await until('the supervisor to die', () => { const st = procStat(sup); return st === null || st.state === 'Z'; });
    assert.equal(await c.next('inflight'), -38, 'a connect in flight when the supervisor died: ENOSYS');

    c.send('after');
    const o = await c.next('after');
    assert.equal(o.after, -38, 'later connects: ENOSYS');
    assert.equal(o.udpAfter, -38, 'later addressed UDP sends: ENOSYS');
    assert.notEqual(o.node, 'connected');
    assert.equal(o.node, 'ERR_ACCESS_DENIED', 'net.connect: a kernel-layer PolicyViolation');
    assert.equal(o.cause, 'ENOSYS');
    assert.equal((await c.exited).status, 0, c.stderr());
    await sleep(100);
    assert.ok(srv.has('before-kill'), srv.text('|'));
    assert.equal(srv.connections(), 1, `only the connect before the kill arrived: ${srv.text('|')}`);
    assert.deepEqual(udp.got, ['udp-before']);
  } finally {
    if (c) c.send('');
    await srv.close();
    await udp.close();
  }
});

// enforce() may fail after the helper was started (Landlock, seccomp, the attach, the
// self-test). The seam: the addon's exports object is the one lockdown() uses, so the child
// replaces one kernel step with a throwing one. Judged from outside: the helper's state in
// /proc (a zombie once it exited: nothing reaps it) and the child's fd table.
for (const [step, policy, expectErrno] of [
  ['landlockRestrictAllThreads', '{ net: { connect: [`127.0.0.1:${SRV}`] } }', false],
  ['seccompInstall', '{ net: { connect: [`127.0.0.1:${SRV}`] } }', false],
  ['probeConnect', '{ net: { connect: [`127.0.0.1:${SRV}`] } }', true],
]) {
  test(`supervisor: when ${step} fails after the helper started, the helper exits and its control socket is closed`, { skip }, async () => {
    const srv = await recordingServer();
    try {
      const r = await runChild(`
        const fs = require('node:fs');
        const SRV = ${srv.port};
        const b = require('node-gyp-build')(${JSON.stringify(ROOT)});
        const fds = () => fs.readdirSync('/proc/self/fd').length;
        const sockets = () => fs.readdirSync('/proc/self/fd').filter((f) => { try { return fs.readlinkSync('/proc/self/fd/' + f).startsWith('socket:'); } catch { return false; } }).length;
        const spawn = b.spawnSupervisor;
        let helper = 0;
        b.spawnSupervisor = (p) => { const s = spawn(p); helper = s.pid; return s; };
        const orig = b['${step}'];
        // probeConnect: the self-test's allowed probe "fails" (the supervisor is attached by then)
        b['${step}'] = (...a) => { if ('${step}' === 'probeConnect') return -111; throw Object.assign(new Error('forced failure'), { code: 'EFORCED' }); };
        const before = { fds: fds(), sockets: sockets() };
        let err;
        try { bb.lockdown(${policy}); } catch (e) { err = { code: e.code, message: e.message }; }
        b['${step}'] = orig;
        const state = () => { try { const s = fs.readFileSync('/proc/' + helper + '/stat', 'utf8'); return s.slice(s.lastIndexOf(')') + 2).split(' ')[0]; } catch { return 'gone'; } };
        const end = Date.now() + 3000;
        const wait = () => {
          const st = state();
          if (st !== 'Z' && st !== 'gone' && Date.now() < end) return setTimeout(wait, 10);
          out({ err, helper, state: st, before, after: { fds: fds(), sockets: sockets() }, connect: t.tcpConnect('127.0.0.1', SRV, 0, 'after-failure') });
        };
        wait();`);
      assert.equal(r.status, 0, r.stderr);
      const o = r.result;
      assert.ok(o.err, 'lockdown threw');
      assert.ok(o.helper > 0, 'the helper had been started');
      assert.ok(o.state === 'Z' || o.state === 'gone', `the helper exited (state ${o.state})`);
      assert.equal(o.after.sockets, o.before.sockets, 'no control socket left open');
      assert.equal(o.after.fds, o.before.fds, 'no fd left open');
      if (expectErrno) {
        // the filter is in and its supervisor gone: trapped calls fail closed
        assert.equal(o.connect, -38);
        assert.equal(srv.connections(), 0);
      }
    } finally {
      await srv.close();
    }
  });
}

// Unprivileged, a target that made itself non-dumpable cannot be read by its supervisor
// (process_vm_readv and pidfd_getfd need ptrace access): enforce mode fails closed (EPERM),
// audit mode leaves the call to the kernel (it denies nothing).
test('supervisor: a non-dumpable target (nobody) — enforce fails closed with EPERM, audit lets the call through', { skip: skip || (process.getuid() !== 0 ? 'needs root to drop to nobody' : false) }, async () => {
  const srv = await recordingServer();
  try {
    const prctl = process.arch === 'x64' ? 157 : 167;
    const code = (mode) => `
      bb.lockdown({ mode: '${mode}', net: { connect: ['127.0.0.1:${srv.port}'] } });
      const before = t.tcpConnect('127.0.0.1', ${srv.port}, 0, '${mode}-dumpable');
      const nodump = t.syscall(${prctl}, 4, 0, 0, 0, 0); // PR_SET_DUMPABLE 0
      out({ before, nodump, after: t.tcpConnect('127.0.0.1', ${srv.port}, 0, '${mode}-nodump') });`;
    const e = await runChild(code('enforce'), { uid: 65534, gid: 65534, cwd: '/' });
    assert.equal(e.status, 0, e.stderr);
    assert.deepEqual(e.result, { before: 0, nodump: 0, after: -1 });
    const a = await runChild(code('audit'), { uid: 65534, gid: 65534, cwd: '/' });
    assert.equal(a.status, 0, a.stderr);
    assert.deepEqual(a.result, { before: 0, nodump: 0, after: 0 });
    await sleep(50);
    assert.ok(srv.has('enforce-dumpable') && srv.has('audit-dumpable') && srv.has('audit-nodump'), srv.text('|'));
    assert.equal(srv.has('enforce-nodump'), false, srv.text('|'));
  } finally {
    await srv.close();
  }
});

test('supervisor: works as an unprivileged user (nobody)', { skip: skip || (process.getuid() !== 0 ? 'needs root to drop to nobody' : false) }, async () => {
  const srv = await recordingServer();
  try {
    const r = await runChild(`
      const report = bb.lockdown({ net: { connect: ['127.0.0.1:${srv.port}'] } });
      out({ uid: process.getuid(), sup: report.layers.netSupervisor, ok: t.tcpConnect('127.0.0.1', ${srv.port}, 0, 'nobody-ok'), denied: t.tcpConnect('127.0.0.2', ${srv.port}, 0, 'nobody-leak') });`,
    { uid: 65534, gid: 65534, cwd: '/' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.result.uid, 65534);
    assert.equal(r.result.sup, true);
    assert.equal(r.result.ok, 0);
    assert.equal(r.result.denied, EACCES);
    await sleep(50);
    assert.ok(srv.has('nobody-ok'));
    assert.equal(srv.has('nobody-leak'), false);
  } finally {
    await srv.close();
  }
});

// SECCOMP_IOCTL_NOTIF_SET_FLAGS takes the flags as the ioctl argument itself; a pointer to them
// reads as unknown flags and fails with EINVAL, silently (older kernels fail the same way, so
// the helper cannot treat it as fatal). Judged from outside by strace: the call the helper makes
// on its listener, and its result. Needs strace and Linux ≥ 6.6.
function straceMissing() {
  const r = require('node:child_process').spawnSync('strace', ['-V'], { timeout: 5000 });
  return r.status === 0 ? false : 'strace not installed';
}
function kernelBefore(major, minor) {
  const [a, b] = require('node:os').release().split('.').map(Number);
  return a < major || (a === major && b < minor) ? `kernel ${require('node:os').release()} < ${major}.${minor}` : false;
}

test('supervisor: SYNC_WAKE_UP is set on its listener (SECCOMP_IOCTL_NOTIF_SET_FLAGS with the flag as the argument, answered 0)', { skip: skip || straceMissing() || kernelBefore(6, 6) }, async () => {
  const log = `${require('node:os').tmpdir()}/bb-strace-${process.pid}.txt`;
  try {
    const code = `${prelude()}\nconst r = bb.lockdown({ net: { connect: ['127.0.0.1:1'] } }); process.stdout.write(String(r.layers.netSupervisor));`;
    const r = require('node:child_process').spawnSync('strace', ['-f', '-e', 'trace=ioctl', '-o', log, process.execPath, '-e', code], { encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'true');
    // _IOW('!', 4, u64) = 0x40082104; strace prints it as _IOC(_IOC_WRITE, 0x21, 0x4, 0x8) or by name
    const lines = fs.readFileSync(log, 'utf8').split('\n').filter((l) => /SECCOMP_IOCTL_NOTIF_SET_FLAGS|_IOC\(_IOC_WRITE, 0x21, 0x4, 0x8\)/.test(l));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /, (0x1|1|SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)\) = 0$/);
  } finally {
    fs.rmSync(log, { force: true });
  }
});
