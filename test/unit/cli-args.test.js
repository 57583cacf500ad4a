'use strict';
// The CLI's pure parts: flags (from the capability table) → Policy, profiles, usage errors;
// and the launch plan (`blackbox run`): execve passes, fork does not, no addon mmap rule,
// the command and its interpreters get EXECUTE.
const test = require('node:test');
const assert = require('node:assert/strict');

const { parseArgs, UsageError } = require('../../dist/cli/args');
const { applyFlags, cliGrants } = require('../../dist/policy/flags');
const { PROFILES } = require('../../dist/policy/presets');
const { CAPABILITIES } = require('../../dist/policy/capabilities');
const { normalizePolicy } = require('../../dist/policy');
const { compile } = require('../../dist/compile/plan');
const { launchGrants } = require('../../dist/compile/defaults');
const { FS } = require('../../dist/compile/landlock/rights');
const { simulate, actionName, syscallNumber, AUDIT_ARCH_X86_64 } = require('../../dist/compile/bpf');

const exe = (n) => (n.startsWith('/') ? n : `/usr/bin/${n}`);
const parse = (args, cmd = 'run') => parseArgs(cmd, args, exe);
const CTX = { CWD: '/w', HOME: '/home/u', TMPDIR: '/tmp', NODE: '/usr/local' };

test('flags: every grant flag comes from the capability table, and each deny flag too', () => {
  const flags = cliGrants().map((g) => g.flag);
  for (const c of CAPABILITIES) {
    assert.ok(flags.includes(c.allowFlag), c.allowFlag);
    assert.equal(c.cliGrants[0].flag, c.allowFlag);
  }
  assert.ok(flags.includes('--allow-listen'));
  for (const c of CAPABILITIES.filter((x) => x.denyFlag)) {
    const o = parse([c.denyFlag, '--', 'x']);
    assert.ok(o.policy !== undefined, c.denyFlag);
  }
});

test('flags: values, whole keys, -A, and deny wins over allow whatever the order', () => {
  assert.deepEqual(parse(['--allow-net=db:5432,10.0.0.0/8', '--', 'x']).policy, { net: { connect: ['db:5432', '10.0.0.0/8'] } });
  assert.deepEqual(parse(['--allow-net', '--', 'x']).policy, { net: { connect: true, unix: true, dns: true } });
  assert.deepEqual(parse(['--allow-listen=:8080', '--allow-fs-write=/var/tmp/app', '--', 'x']).policy, { net: { listen: [':8080'] }, fs: { write: ['/var/tmp/app'] } });
  assert.deepEqual(parse(['--allow-child-process=git,/bin/sh', '--', 'x']).policy, { childProcess: ['/usr/bin/git', '/bin/sh'] });
  assert.deepEqual(parse(['--deny-net', '--allow-net=a.example:1', '--', 'x']).policy.net, { connect: false, listen: false, unix: false, dns: false });
  const all = parse(['-A', '--deny-child-process', '--', 'x']).policy;
  assert.equal(all.childProcess, false);
  assert.equal(all.addons, true);
  assert.deepEqual(all.fs, { read: true, write: true });
  assert.equal(parse(['--audit', '--', 'x']).policy.mode, 'audit');
  // the command starts at the first non-flag, or after --
  assert.deepEqual(parse(['--allow-net', 'curl', '-s', 'x']).command, ['curl', '-s', 'x']);
  assert.deepEqual(parse(['--', '--weird', 'a']).command, ['--weird', 'a']);
});

test('flags: a list replaces a default but adds to what a policy or profile set', () => {
  // fs.read defaults to everything: --allow-fs-read=/app means only /app
  assert.deepEqual(applyFlags({}, { grants: [{ grant: cliGrants().find((g) => g.key === 'fs.read'), values: ['/app'] }], denies: [], all: false, audit: false }), { fs: { read: ['/app'] } });
  const base = { fs: { write: ['/a'] }, net: { connect: ['x.example:443'] } };
  const o = applyFlags(base, { grants: [
    { grant: cliGrants().find((g) => g.key === 'fs.write'), values: ['/b', '/a'] },
    { grant: cliGrants().find((g) => g.key === 'net.connect'), values: ['y.example:443'] },
  ], denies: [], all: false, audit: false });
  assert.deepEqual(o, { fs: { write: ['/a', '/b'] }, net: { connect: ['x.example:443', 'y.example:443'] } });
  // true stays true
  assert.deepEqual(applyFlags({ fs: { write: true } }, { grants: [{ grant: cliGrants().find((g) => g.key === 'fs.write'), values: ['/b'] }], denies: [], all: false, audit: false }).fs, { write: true });
});

test('flags: every mistake is a UsageError naming the flag, before anything runs', () => {
  const bad = [
    [['--allow-network', '--', 'x'], /unknown option --allow-network/],
    [['--allow-net=300.1.1.1', '--', 'x'], /--allow-net=300\.1\.1\.1/],
    [['--allow-net=a:99999', '--', 'x'], /--allow-net=a:99999/],
    [['--allow-net=a,,b', '--', 'x'], /--allow-net: empty value/],
    [['--allow-addons=1', '--', 'x'], /--allow-addons takes no value/],
    [['--deny-net=1', '--', 'x'], /--deny-net takes no value/],
    [['--profile', 'nope', '--', 'x'], /unknown profile/],
    [['--profile'], /--profile needs a value/],
    [['--policy', '/nonexistent/p.json', '--', 'x'], /cannot read \/nonexistent\/p\.json/],
    [['--json', '--', 'x'], /run: unknown option --json/],
  ];
  for (const [args, re] of bad) {
    assert.throws(() => parse(args), (e) => e instanceof UsageError && e.exitCode === 2 && re.test(e.message), args.join(' '));
  }
  assert.throws(() => parseArgs('run', ['--allow-child-process=nosuchprog', '--', 'x'], () => undefined), /--allow-child-process=nosuchprog: no such executable on PATH/);
  assert.throws(() => parse(['--log', 'x.jsonl'], 'check'), /belong to run/);
});

test('profiles: each is a valid policy, and flags add to it', () => {
  for (const p of PROFILES) assert.doesNotThrow(() => normalizePolicy(p.policy, CTX), p.name);
  const o = parse(['--profile', 'web-service', '--allow-listen=127.0.0.1:8080', '--allow-net=db.internal:5432', '--', 'node', 'app.js']);
  assert.equal(o.source, '--profile web-service');
  assert.deepEqual(o.policy.net, { dns: true, listen: ['127.0.0.1:8080'], connect: ['db.internal:5432'] });
  assert.equal(o.policy.childProcess, false);
  assert.deepEqual(normalizePolicy(parse(['--profile', 'offline-build', '--', 'x']).policy, CTX).fs.write, ['/tmp', '/w']);
});

const X = 'x86_64';
const sys = (n) => syscallNumber(X, n);
const launchPlan = (policy, launch = true) => {
  const p = normalizePolicy(policy, CTX);
  const { grants } = launchGrants(p, { exec: ['/usr/bin/python3.11', '/lib64/ld-linux-x86-64.so.2'] });
  return compile(p, { platform: 'linux', arch: X, landlockAbi: 7, landlockErrata: 7, kernel: true, defaults: grants, launch });
};
const verdict = (plan, name, args = []) => actionName(simulate(plan.seccomp.insns, { nr: sys(name), arch: AUDIT_ARCH_X86_64, args }));

test('launch plan: childProcess false lets execve pass (Landlock EXECUTE names only the command) and denies fork/clone', () => {
  const l = launchPlan({});
  const inproc = launchPlan({}, false);
  assert.equal(verdict(l, 'execve'), 'ALLOW');
  assert.equal(verdict(inproc, 'execve'), 'ERRNO(13)');
  for (const p of [l, inproc]) {
    assert.equal(verdict(p, 'fork'), 'ERRNO(13)');
    assert.equal(verdict(p, 'vfork'), 'ERRNO(13)');
    assert.equal(verdict(p, 'clone', [17]), 'ERRNO(13)');       // SIGCHLD: a process
    assert.equal(verdict(p, 'clone', [0x3d0f00]), 'ALLOW'); // a thread
  }
  assert.ok(l.landlock.handledFs & FS.EXECUTE);
  const exec = l.landlock.paths.filter((r) => r.access & FS.EXECUTE).map((r) => r.path).sort();
  assert.deepEqual(exec, ['/lib64/ld-linux-x86-64.so.2', '/usr/bin/python3.11']);
  assert.equal(l.coverage.find((c) => c.capability === 'childProcess').status, 'kernel');
});

test('launch plan: no addon mmap rule (the command maps its own libraries), and coverage says so', () => {
  const l = launchPlan({});
  const inproc = launchPlan({}, false);
  const mmap = [0, 4096, 5 /* READ|EXEC */, 0x802 /* PRIVATE|DENYWRITE */, 3, 0];
  assert.equal(verdict(inproc, 'mmap', mmap), 'ERRNO(13)');
  assert.equal(verdict(l, 'mmap', mmap), 'ALLOW');
  const c = l.coverage.find((x) => x.capability === 'addons');
  assert.equal(c.status, 'js');
  assert.match(c.note, /loader/);
});

test('launchGrants: a read list gets the libraries and /proc/self (granted by the launcher, not by pid)', () => {
  const p = normalizePolicy({ fs: { read: ['/w'] } }, CTX);
  const { grants, procSelf } = launchGrants(p, { exec: ['/usr/bin/true'] });
  const paths = grants.map((g) => g.path);
  for (const d of ['/usr/lib', '/etc/ld.so.cache', '/usr/bin/true']) assert.ok(paths.includes(d), d);
  assert.ok(!paths.some((x) => x.startsWith('/proc/')));
  assert.ok(procSelf & FS.READ_FILE);
  const open = launchGrants(normalizePolicy({}, CTX), { exec: ['/usr/bin/true'] });
  assert.equal(open.procSelf, 0);
});
