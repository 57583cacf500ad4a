'use strict';
// Network: raw syscalls from the test addon (no JS on the path) against
// loopback servers in THIS process; the child is the one locked down.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { haveKernel, runChild, recordingServer, sleep } = require('../helpers/harness');

const skip = haveKernel();
const EACCES = -13;

test('net: false — raw TCP, UDP and MPTCP sockets are denied; the server receives nothing', { skip }, async () => {
  const srv = await recordingServer();
  try {
    const r = await runChild(`
      const before = t.tcpConnect('127.0.0.1', ${srv.port}, 0, 'before');
      const report = bb.lockdown();
      out({
        before,
        tcp: t.tcpConnect('127.0.0.1', ${srv.port}, 0, 'after'),
        tcp6: t.tcpConnect('::1', ${srv.port}, 0, 'after6'),
        mptcp: t.tcpConnect('127.0.0.1', ${srv.port}, 262, 'mptcp'),
        udp: t.udpSend('127.0.0.1', ${srv.port}, 'udp'),
        unix: t.socket(1, 1, 0),
        packet: t.socket(17, 3, 0),
        layers: report.layers,
      });`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.before, 0);
    assert.equal(o.tcp, EACCES);
    assert.equal(o.tcp6, EACCES);
    assert.equal(o.mptcp, EACCES);
    assert.equal(o.udp, EACCES);
    assert.equal(o.unix, EACCES);
    assert.equal(o.packet, EACCES);
    assert.equal(o.layers.seccomp, true);
    assert.ok(o.layers.landlock >= 1);
    await sleep(50);
    assert.equal(srv.text(), 'before', 'only the pre-lockdown connection arrived');
  } finally {
    await srv.close();
  }
});

test('net.connect [":P"] — port P is reachable, another port is denied by Landlock, MPTCP and TFO cannot bypass it', { skip }, async () => {
  const ok = await recordingServer();
  const other = await recordingServer();
  try {
    const r = await runChild(`
      const report = bb.lockdown({ net: { connect: [':${ok.port}'] } });
      out({
        granted: t.tcpConnect('127.0.0.1', ${ok.port}, 0, 'granted'),
        grantedOtherHost: t.tcpConnect('127.0.0.2', ${ok.port}, 0, 'granted2'),
        denied: t.tcpConnect('127.0.0.1', ${other.port}, 0, 'denied'),
        denied6: t.tcpConnect('::ffff:127.0.0.1', ${other.port}, 0, 'denied6'),
        mptcp: t.tcpConnect('127.0.0.1', ${other.port}, 262, 'mptcp'),
        tfo: t.tfoSend('127.0.0.1', ${other.port}, 'tfo'),
        udp: t.udpSend('127.0.0.1', ${other.port}, 'udp'),
        warnings: report.warnings,
      });`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.granted, 0);
    assert.equal(o.denied, EACCES);
    assert.equal(o.denied6, EACCES);
    assert.equal(o.mptcp, EACCES);
    assert.equal(o.tfo, EACCES);
    assert.equal(o.udp, EACCES);
    // 127.0.0.2 listens nowhere: the connect is refused by the network, not by us
    assert.notEqual(o.grantedOtherHost, EACCES);
    await sleep(50);
    assert.equal(ok.text(), 'granted');
    assert.equal(other.text(), '', 'the denied server received nothing');
  } finally {
    await ok.close();
    await other.close();
  }
});

test('net.connect with a host part: the connect supervisor enforces it, the report says so', { skip }, async () => {
  const r = await runChild(`
    const report = bb.lockdown({ net: { connect: ['127.0.0.1:5432', 'db.internal:443'] } });
    out({ warnings: report.warnings, netSupervisor: report.layers.netSupervisor, coverage: require(${JSON.stringify(require.resolve('../../dist/lockdown/lockdown.js'))}).lastPlan().coverage.filter((c) => c.capability === 'net') });`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.result.netSupervisor, true);
  const w = r.result.warnings.join('\n');
  assert.doesNotMatch(w, /net\.connect/);
  for (const rule of ['net.connect 127.0.0.1:5432', 'net.connect db.internal:443']) {
    const c = r.result.coverage.find((x) => x.rule === rule);
    assert.ok(c, rule);
    assert.equal(c.status, 'kernel');
    assert.ok(c.layers.includes('supervisor'));
  }
});

test('net.connect with a host part, no supervisor helper: the report says the host part is not kernel-enforced', { skip }, async () => {
  const r = await runChild(`
    require(${JSON.stringify(require.resolve('../../dist/enforce/binding.js'))});
    const probe = require(${JSON.stringify(require.resolve('../../dist/lockdown/probe.js'))});
    const real = probe.probe;
    probe.probe = (b) => ({ ...real(b), supervisor: { unavailable: 'disabled by the test' } });
    const report = bb.lockdown({ net: { connect: ['127.0.0.1:5432', 'db.internal:443'] } });
    out({ warnings: report.warnings, netSupervisor: report.layers.netSupervisor });`);
  assert.equal(r.status, 0, r.stderr);
  const w = r.result.warnings.join('\n');
  assert.match(w, /net\.connect 127\.0\.0\.1:5432/);
  assert.match(w, /net\.connect db\.internal:443/);
  assert.match(w, /JS layer/);
  assert.match(w, /disabled by the test/);
  assert.equal(r.result.netSupervisor, false);
});

test('children inherit net: false — a spawned node and python3 cannot connect', { skip }, async () => {
  const srv = await recordingServer();
  try {
    const r = await runChild(`
      const { spawnSync } = require('node:child_process');
      bb.lockdown({ childProcess: true });
      const n = spawnSync(process.execPath, ['-e', \`
        const s = require('net').connect(${srv.port}, '127.0.0.1', () => { s.end('from-node'); process.exit(0); });
        s.on('error', (e) => { console.log(e.code); process.exit(3); });\`], { encoding: 'utf8', timeout: 10000 });
      const py = spawnSync('python3', ['-c', \`
import socket, sys
try:
    s = socket.create_connection(('127.0.0.1', ${srv.port}), timeout=5); s.sendall(b'from-python'); sys.exit(0)
except OSError as e:
    print(e.errno); sys.exit(3)\`], { encoding: 'utf8', timeout: 10000 });
      out({ node: n.status, nodeOut: n.stdout.trim(), py: py.status, pyOut: (py.stdout || '').trim(), pyErr: py.error && py.error.code });`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.result.node, 3, 'node child could not connect');
    assert.equal(r.result.nodeOut, 'EACCES');
    if (r.result.pyErr !== 'ENOENT') {
      assert.equal(r.result.py, 3, 'python child could not connect');
      assert.equal(r.result.pyOut, '13');
    }
    await sleep(50);
    assert.equal(srv.text(), '');
  } finally {
    await srv.close();
  }
});

test('net.listen [":0"] — an ephemeral-port server listens; a fixed port is denied', { skip }, async () => {
  const r = await runChild(`
    const net = require('node:net');
    // the original, captured before the JS guards patch it: the kernel answers
    const rawListen = net.Server.prototype.listen;
    bb.lockdown({ net: { listen: [':0'] } });
    const s = net.createServer((c) => c.end('hi')).listen(0, '127.0.0.1', () => {
      const s2 = rawListen.call(net.createServer(), ${40000 + (process.pid % 20000)}, '127.0.0.1');
      s2.on('error', (e) => { out({ port: s.address().port, fixed: e.code }); });
      s2.on('listening', () => { out({ port: s.address().port, fixed: 'listening' }); });
    });
    setTimeout(() => process.exit(0), 3000);`);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.result.port > 0);
  assert.equal(r.result.fixed, 'EACCES');
});

test('net: a filter from elsewhere that holds the seccomp listener — lockdown() still installs its own filter without the supervisor and says so; per-port rules stay the kernel\'s', { skip }, async () => {
  const a = await recordingServer();
  const other = await recordingServer();
  try {
    const r = await runChild(`
      // what a container runtime or another sandbox may have done first: an allow-all filter
      // with a user-notification listener (SECCOMP_FILTER_FLAG_NEW_LISTENER | TSYNC | TSYNC_ESRCH)
      const k = require('node-gyp-build')(${JSON.stringify(require('node:path').join(__dirname, '..', '..'))});
      const prog = Buffer.alloc(8);
      prog.writeUInt16LE(0x06, 0);          // BPF_RET | BPF_K
      prog.writeUInt32LE(0x7fff0000, 4);    // SECCOMP_RET_ALLOW
      k.setNoNewPrivs();
      const foreign = k.seccompInstall(prog, 8 | 1 | 16);
      const report = bb.lockdown({ net: { connect: ['127.0.0.1:${a.port}'] } });
      out({
        foreign: foreign > 2,
        layers: report.layers,
        busy: report.warnings.some((w) => /EBUSY/.test(w)),
        granted: t.tcpConnect('127.0.0.1', ${a.port}, 0, 'granted'),
        otherPort: t.tcpConnect('127.0.0.1', ${other.port}, 0, 'other'),
      });`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.foreign, true);
    assert.equal(o.layers.seccomp, true);
    assert.equal(o.layers.netSupervisor, false);
    assert.equal(o.busy, true);
    assert.equal(o.granted, 0);
    assert.equal(o.otherPort, EACCES);
    await sleep(100);
    assert.ok(a.has('granted'));
    assert.equal(other.connections(), 0);
  } finally {
    await Promise.all([a.close(), other.close()]);
  }
});

// For the two cases below, where a node started by the test's child reports: the code that
// node ends with (its layers, raw connects to 127.0.0.1:P and 127.0.0.2:P through the addon
// already loaded), and the child-side code that runs it and passes its line on.
const BINDING_JS = require.resolve('../../dist/enforce/binding.js');
const innerReport = (port, layers) => `
  const k = require(${JSON.stringify(BINDING_JS)}).loadBinding();
  console.log('##' + JSON.stringify({ ...${layers}, granted: k.probeConnect('127.0.0.1', ${port}), other: k.probeConnect('127.0.0.2', ${port}) }));`;
const runInner = (args, opts) => `
  const c = require('node:child_process').spawnSync(process.execPath, ${args}, { encoding: 'utf8', timeout: 15000, ${opts} });
  const line = (c.stdout || '').split('\\n').find((l) => l.startsWith('##'));
  out({ status: c.status, stderr: c.stderr, got: line ? JSON.parse(line.slice(2)) : null });`;

test('net: a copied BLACKBOX_LAUNCHED=supervised is not believed — register repeats the launcher\'s self-test, and without a launcher locks down with its own supervisor (127.0.0.2:P stays denied)', { skip }, async () => {
  const a = await recordingServer();
  const b = await recordingServer({ host: '127.0.0.2', port: a.port }); // same port: only a supervisor tells them apart
  try {
    const ROOT = require('node:path').join(__dirname, '..', '..');
    const app = `const bb = require(${JSON.stringify(ROOT)}); ${innerReport(a.port, '{ layers: bb.status().layers }')}`;
    const env = { BLACKBOX_LAUNCHED: 'supervised', BLACKBOX_SELFTEST: '1:2', BLACKBOX_POLICY: JSON.stringify({ net: { connect: [`127.0.0.1:${a.port}`] } }) };
    const r = await runChild(`
      // A process with a seccomp filter and no_new_privs, as a launched command has, but no
      // launcher: what the environment claims must not stand in for the supervisor.
      const k = require('node-gyp-build')(${JSON.stringify(ROOT)});
      const prog = Buffer.alloc(8);
      prog.writeUInt16LE(0x06, 0);          // BPF_RET | BPF_K
      prog.writeUInt32LE(0x7fff0000, 4);    // SECCOMP_RET_ALLOW
      k.setNoNewPrivs();
      k.seccompInstall(prog, 1);            // TSYNC, no listener
      ${runInner(`['--require', ${JSON.stringify(require.resolve('../../dist/register.js'))}, '-e', ${JSON.stringify(app)}]`, `env: { ...process.env, ...${JSON.stringify(env)} }`)}`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.result.status, 0, r.result.stderr);
    const o = r.result.got;
    assert.equal(o.layers.netSupervisor, true); // its own, after its own self-test
    assert.ok(o.granted === 0 || o.granted === -115, `granted: ${o.granted}`);
    assert.equal(o.other, EACCES);
    await sleep(100);
    assert.equal(b.connections(), 0);
    assert.ok(a.connections() >= 1);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('net: a node started by a locked-down process locks down too — its filter cannot have a listener (EPERM from ours), so it goes on without its own supervisor and says so; the parent\'s still answers', { skip }, async () => {
  const a = await recordingServer();
  const b = await recordingServer({ host: '127.0.0.2', port: a.port });
  try {
    const ROOT = require('node:path').join(__dirname, '..', '..');
    const inner = `
      const rep = require(${JSON.stringify(ROOT)}).lockdown({ net: { connect: ['127.0.0.1:${a.port}'] } });
      ${innerReport(a.port, '{ layers: rep.layers, eperm: rep.warnings.some((w) => /EPERM/.test(w)) }')}`;
    const r = await runChild(`
      const sup = require(${JSON.stringify(BINDING_JS)}).supervisorPath();
      bb.lockdown({ net: { connect: ['127.0.0.1:${a.port}'] }, childProcess: [process.execPath, sup] });
      ${runInner(`['-e', ${JSON.stringify(inner)}]`, '')}`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.result.status, 0, r.result.stderr);
    const o = r.result.got;
    assert.equal(o.layers.seccomp, true);
    assert.equal(o.layers.netSupervisor, false);
    assert.equal(o.eperm, true);
    assert.ok(o.granted === 0 || o.granted === -115, `granted: ${o.granted}`);
    assert.equal(o.other, EACCES); // the parent's supervisor
    await sleep(100);
    assert.equal(b.connections(), 0);
    assert.ok(a.connections() >= 1);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('net: a connect supervisor that cannot start (e.g. a prebuilt helper on an older glibc) — the lockdown goes on without it and says so; per-port rules stay the kernel\'s', { skip }, async () => {
  const a = await recordingServer();
  const other = await recordingServer();
  try {
    const r = await runChild(`
      // the seam: the helper that starts is /bin/false, which exits before answering
      const b = require(${JSON.stringify(require('node:path').join(__dirname, '..', '..', 'dist', 'enforce', 'binding'))}).loadBinding();
      const real = b.spawnSupervisor;
      b.spawnSupervisor = () => real.call(b, '/bin/false');
      const report = bb.lockdown({ net: { connect: ['127.0.0.1:${a.port}'] } });
      out({
        layers: report.layers,
        why: report.warnings.filter((w) => /did not start/.test(w)).length,
        granted: t.tcpConnect('127.0.0.1', ${a.port}, 0, 'granted'),
        otherPort: t.tcpConnect('127.0.0.1', ${other.port}, 0, 'other'),
      });`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.layers.seccomp, true);
    assert.ok(o.layers.landlock >= 4, 'Landlock with TCP ports (ABI 4)');
    assert.equal(o.layers.netSupervisor, false);
    assert.equal(o.why, 1);
    assert.equal(o.granted, 0);
    assert.equal(o.otherPort, EACCES);
    await sleep(100);
    assert.ok(a.has('granted'));
    assert.equal(other.connections(), 0);
  } finally {
    await Promise.all([a.close(), other.close()]);
  }
});
