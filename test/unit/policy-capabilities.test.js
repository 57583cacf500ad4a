'use strict';
// THE capability table: one row per capability, from which validation, the
// compiler, the guards, the CLI flags and the messages derive. Checked against
// SPEC (names, flags, defaults) and against what the compiler really emits.
const test = require('node:test');
const assert = require('node:assert/strict');

const { CAPABILITIES, capability, capabilityByScope, grantHint, POLICY_KEYS, normalizePolicy, validatePolicy } = require('../../dist/policy');
const { compile } = require('../../dist/compile/plan');
const { simulate, actionName, syscallNumber, AUDIT_ARCH_X86_64 } = require('../../dist/compile/bpf');

test('one row per capability, with SPEC\'s names, scopes, flags and defaults', () => {
  const rows = CAPABILITIES.map((c) => [c.id, c.policyKey, c.permission, c.scope, c.allowFlag, c.denyFlag, c.defaultGrant]);
  assert.deepEqual(rows, [
    ['net', 'net', 'Net', 'net', '--allow-net', '--deny-net', false],
    ['fs.read', 'fs.read', 'FileSystemRead', 'fs.read', '--allow-fs-read', undefined, true],
    ['fs.write', 'fs.write', 'FileSystemWrite', 'fs.write', '--allow-fs-write', '--deny-fs-write', false],
    ['childProcess', 'childProcess', 'ChildProcess', 'child', '--allow-child-process', '--deny-child-process', false],
    ['addons', 'addons', 'Addon', 'addon', '--allow-addons', '--deny-addons', false],
    ['workers', 'workers', 'WorkerThreads', 'worker', '--allow-worker', '--deny-worker', true],
  ]);
  for (const c of CAPABILITIES) {
    assert.equal(capability(c.id), c);
    assert.equal(capabilityByScope(c.scope), c);
    assert.ok(c.enforcedBy.includes('js'), `${c.id}: the JS layer covers every capability`);
    assert.equal(typeof c.summary, 'string');
    assert.ok(c.guards.length > 0);
    // every policy key is a real key of the policy shape
    const [top, sub] = c.policyKey.split('.');
    assert.ok(POLICY_KEYS.policy.includes(top), c.policyKey);
    if (sub) assert.ok(POLICY_KEYS[top].includes(sub), c.policyKey);
  }
  assert.throws(() => capability('nope'), /unknown capability nope/);
  assert.equal(capabilityByScope('nope'), undefined);
  // the defaults in the table are the ones normalize fills in
  const d = normalizePolicy({}, { CWD: '/' });
  assert.equal(d.fs.read === true, capability('fs.read').defaultGrant);
  assert.equal(d.fs.write, capability('fs.write').defaultGrant);
  assert.equal(d.childProcess, capability('childProcess').defaultGrant);
  assert.equal(d.addons, capability('addons').defaultGrant);
  assert.equal(d.workers, capability('workers').defaultGrant);
  assert.equal(d.net.connect, capability('net').defaultGrant);
});

test('the syscalls of each row exist and have seccomp rules; the default policy denies the number-only ones', () => {
  const p = compile(normalizePolicy({}, { CWD: '/' }), { platform: 'linux', arch: 'x86_64', landlockAbi: 7, landlockErrata: 7, kernel: true, defaults: [] });
  const insns = p.seccomp.insns;
  // with TCP allowed for a connect list, the send family gets its MSG_FASTOPEN rule
  const q = compile(normalizePolicy({ net: { connect: ['127.0.0.1:5432'] } }, { CWD: '/' }), { platform: 'linux', arch: 'x86_64', landlockAbi: 7, landlockErrata: 7, kernel: true, defaults: [] });
  for (const c of CAPABILITIES) {
    for (const s of c.syscalls) {
      const nr = syscallNumber('x86_64', s);
      assert.notEqual(nr, undefined, `${c.id}: ${s} is an x86_64 syscall`);
      // connect/bind/listen are Landlock's (ports) once socket() lets a socket exist;
      // socketpair makes only an unnamed connected pair. The rest have seccomp rules.
      if (['connect', 'bind', 'listen', 'socketpair'].includes(s)) continue;
      assert.ok([...p.seccomp.rules, ...q.seccomp.rules].some((r) => r.syscall === s), `${c.id}: ${s} has a seccomp rule`);
    }
  }
  // number-only ones deny outright
  for (const s of [...capability('fs.write').syscalls, 'execve', 'execveat', 'fork', 'vfork', 'memfd_create']) {
    assert.equal(actionName(simulate(insns, { nr: syscallNumber('x86_64', s), arch: AUDIT_ARCH_X86_64, args: [] })), 'ERRNO(13)', s);
  }
});

test('grantHint: the policy key or flag that grants the denied resource', () => {
  const table = [
    [['net'], 'grant it with net: true or --allow-net'],
    [['net', 'example.com:443'], "grant it with net.connect ['example.com:443'] or --allow-net=example.com:443"],
    [['net', 'localhost:3000', 'listen'], "grant it with net.listen ['localhost:3000'] or --allow-listen=localhost:3000"],
    [['net', '/run/x.sock', 'unix'], "grant it with net.unix ['/run/x.sock']"],
    [['fs.read', '/etc/shadow'], "grant it with fs.read ['/etc/shadow'] or --allow-fs-read=/etc/shadow"],
    [['fs.write', '/tmp/x'], "grant it with fs.write ['/tmp/x'] or --allow-fs-write=/tmp/x"],
    [['fs.write', ''], 'grant it with fs.write: true or --allow-fs-write'],
    [['childProcess', '/usr/bin/git'], "grant it with childProcess ['/usr/bin/git'] or --allow-child-process=/usr/bin/git"],
    [['childProcess'], 'grant it with childProcess: true or --allow-child-process'],
    [['addons', '/x/y.node'], 'grant it with addons: true or --allow-addons'],
    [['workers'], 'grant it with workers: true or --allow-worker'],
    // quotes and backslashes stay readable (and valid JS)
    [['fs.read', "/tmp/it's"], 'grant it with fs.read ["/tmp/it\'s"] or --allow-fs-read=/tmp/it\'s'],
    [['fs.read', '/tmp/a"b'], "grant it with fs.read ['/tmp/a\\\"b'] or --allow-fs-read=/tmp/a\"b"],
  ];
  for (const [args, want] of table) assert.equal(grantHint(...args), want, JSON.stringify(args));
});

test('a hint that names a policy key names one the validator accepts', () => {
  // The hint for a denied destination must be a policy that would grant it.
  for (const [key, resource] of [['connect', 'example.com:443'], ['listen', 'localhost:3000'], ['unix', '/run/x.sock']]) {
    const hint = grantHint('net', resource, key);
    const m = /^grant it with net\.(\w+) \[/.exec(hint);
    assert.ok(m && m[1] === key, hint);
    assert.doesNotThrow(() => validatePolicy({ net: { [m[1]]: [resource] } }));
  }
  for (const id of ['fs.read', 'fs.write']) {
    const [top, sub] = capability(id).policyKey.split('.');
    assert.doesNotThrow(() => validatePolicy({ [top]: { [sub]: ['/x'] } }));
  }
  assert.doesNotThrow(() => validatePolicy({ childProcess: ['/usr/bin/git'] }));
});
