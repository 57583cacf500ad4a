'use strict';
// Landlock: the ideal plan, its downgrade to each ABI 0..8, port and path
// rules, and compile()'s coverage/warnings ("never pretend to enforce what it does not").
const test = require('node:test');
const assert = require('node:assert/strict');

const { normalizePolicy, CAPABILITIES } = require('../../dist/policy');
const { compile } = require('../../dist/compile/plan');
const { defaultGrants } = require('../../dist/compile/defaults');
const { idealLandlockPlan, downgradeLandlock, landlockPorts, LANDLOCK_MAX_ABI } = require('../../dist/compile/landlock/plan');
const {
  FS, NET, SCOPE, RESTRICT_SELF, ERRATA, READ_RIGHTS, WRITE_RIGHTS, FILE_RIGHTS,
  fsRightsForAbi, netRightsForAbi, scopesForAbi, restrictFlagsForAbi, rightByName, fsRightNames, maskForInode,
} = require('../../dist/compile/landlock/rights');
const { simulate, actionName, syscallNumber, AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64 } = require('../../dist/compile/bpf');

const CTX = { CWD: '/w', HOME: '/home/u', TMPDIR: '/tmp', NODE: '/usr/local', APP: '/w' };
const N = (p) => normalizePolicy(p, CTX);
const ALL_ERRATA = ERRATA.TCP_SOCKET_IDENTIFICATION | ERRATA.SCOPED_SIGNAL_SAME_TGID | ERRATA.DISCONNECTED_DIRECTORY;
const target = (extra = {}) => ({ platform: 'linux', arch: 'x86_64', landlockAbi: 7, landlockErrata: ALL_ERRATA, kernel: true, defaults: [], ...extra });

// ---------------------------------------------------------------------------
// Rights per ABI
// ---------------------------------------------------------------------------

test('rights per ABI: ABI 1 bits 0-12, +REFER v2, +TRUNCATE v3, NET v4, +IOCTL_DEV v5, scopes v6, TSYNC v8', () => {
  const table = [
    // abi, fs, net, scopes, restrict flags
    [0, 0, 0, 0, 0],
    [1, 0x1fff, 0, 0, 0],
    [2, 0x3fff, 0, 0, 0],
    [3, 0x7fff, 0, 0, 0],
    [4, 0x7fff, 3, 0, 0],
    [5, 0xffff, 3, 0, 0],
    [6, 0xffff, 3, 3, 0],
    [7, 0xffff, 3, 3, 0],
    [8, 0xffff, 3, 3, 8],
  ];
  for (const [abi, fs, net, scopes, flags] of table) {
    assert.equal(fsRightsForAbi(abi), fs, `fs abi ${abi}`);
    assert.equal(netRightsForAbi(abi), net, `net abi ${abi}`);
    assert.equal(scopesForAbi(abi), scopes, `scopes abi ${abi}`);
    assert.equal(restrictFlagsForAbi(abi), flags, `restrict flags abi ${abi}`);
  }
  assert.equal(LANDLOCK_MAX_ABI, 8);
  // uapi values
  assert.deepEqual([FS.EXECUTE, FS.MAKE_SYM, FS.REFER, FS.TRUNCATE, FS.IOCTL_DEV], [1, 1 << 12, 1 << 13, 1 << 14, 1 << 15]);
  assert.deepEqual([NET.BIND_TCP, NET.CONNECT_TCP, SCOPE.ABSTRACT_UNIX_SOCKET, SCOPE.SIGNAL, RESTRICT_SELF.TSYNC], [1, 2, 1, 2, 8]);
  assert.equal(READ_RIGHTS, FS.READ_FILE | FS.READ_DIR);
  assert.equal(WRITE_RIGHTS | READ_RIGHTS | FS.EXECUTE, 0xffff);
  assert.equal(FILE_RIGHTS, FS.EXECUTE | FS.WRITE_FILE | FS.READ_FILE | FS.TRUNCATE | FS.IOCTL_DEV);
  assert.equal(maskForInode(WRITE_RIGHTS | READ_RIGHTS, false), FS.WRITE_FILE | FS.READ_FILE | FS.TRUNCATE | FS.IOCTL_DEV);
  assert.equal(maskForInode(WRITE_RIGHTS, true), WRITE_RIGHTS);
  assert.deepEqual(fsRightNames(FS.EXECUTE | FS.REFER), ['EXECUTE', 'REFER']);
});

test('every Landlock right named in the capability table exists', () => {
  for (const c of CAPABILITIES) {
    for (const name of c.landlockRights) assert.ok(rightByName(name), `${c.id}: ${name}`);
  }
  assert.deepEqual(rightByName('CONNECT_TCP'), { kind: 'net', bit: 2 });
  assert.deepEqual(rightByName('SCOPE_SIGNAL'), { kind: 'scope', bit: 2 });
  assert.equal(rightByName('NOPE'), undefined);
});

// ---------------------------------------------------------------------------
// The ideal plan and its downgrade
// ---------------------------------------------------------------------------

// A policy that makes the ideal plan handle every right there is.
const EVERYTHING = N({ fs: { read: ['/etc'], write: ['/tmp'] }, net: { connect: ['127.0.0.1:5432'], listen: [':0'] } });

test('idealLandlockPlan handles everything the policy restricts, at ABI 8', () => {
  const ideal = idealLandlockPlan(EVERYTHING, []);
  assert.equal(ideal.abi, 8);
  assert.equal(ideal.handledFs, 0xffff);
  assert.equal(ideal.handledNet, NET.BIND_TCP | NET.CONNECT_TCP);
  assert.equal(ideal.scoped, SCOPE.SIGNAL | SCOPE.ABSTRACT_UNIX_SOCKET);
  assert.equal(ideal.restrictFlags, RESTRICT_SELF.TSYNC);
  assert.deepEqual(ideal.paths, [
    { path: '/etc', access: READ_RIGHTS, why: 'fs.read' },
    { path: '/tmp', access: WRITE_RIGHTS | READ_RIGHTS, why: 'fs.write' },
  ]);
  assert.deepEqual(ideal.ports, [
    { port: 0, access: NET.BIND_TCP, why: 'net.listen (ephemeral port)' },
    { port: 5432, access: NET.CONNECT_TCP, why: 'net.connect' },
  ]);
});

const NOTE = {
  refer: /Landlock ABI \d < 2: renaming or linking across directories is always denied \(EXDEV\)/,
  truncate: /Landlock ABI \d < 3: truncat/,
  ioctl: /Landlock ABI \d < 5: ioctl on devices/,
  net: /Landlock ABI \d < 4: TCP port rules are not enforced/,
  scopes: /Landlock ABI \d < 6: signals and abstract unix sockets/,
  erratum2: /erratum 2 is missing: signals to processes outside the sandbox are not restricted/,
};

test('downgradeLandlock per ABI 0..8: masks, ports, scopes, restrict flags, and notes naming what is lost', () => {
  const ideal = idealLandlockPlan(EVERYTHING, []);
  const table = [
    // abi, handledFs, handledNet, scoped, restrictFlags, notes
    [1, 0x1fff, 0, 0, 0, ['refer', 'truncate', 'ioctl', 'net', 'scopes']],
    [2, 0x3fff, 0, 0, 0, ['truncate', 'ioctl', 'net', 'scopes']],
    [3, 0x7fff, 0, 0, 0, ['ioctl', 'net', 'scopes']],
    [4, 0x7fff, 3, 0, 0, ['ioctl', 'scopes']],
    [5, 0xffff, 3, 0, 0, ['scopes']],
    [6, 0xffff, 3, 3, 0, []],
    [7, 0xffff, 3, 3, 0, []],
    [8, 0xffff, 3, 3, 8, []],
  ];
  for (const [abi, fs, net, scoped, flags, notes] of table) {
    const { plan, notes: got } = downgradeLandlock(ideal, abi, ALL_ERRATA);
    const label = `abi ${abi}`;
    assert.equal(plan.abi, abi, label);
    assert.equal(plan.handledFs, fs, label);
    assert.equal(plan.handledNet, net, label);
    assert.equal(plan.scoped, scoped, label);
    assert.equal(plan.restrictFlags, flags, label);
    assert.equal(got.length, notes.length, `${label}: ${JSON.stringify(got)}`);
    notes.forEach((n, i) => assert.match(got[i], NOTE[n], `${label} note ${i}`));
    for (const n of got) assert.ok(n.includes(`ABI ${abi}`), `${label}: the note names the ABI: ${n}`);
    // path rules keep only what this ABI handles; never an empty access
    assert.deepEqual(plan.paths, [
      { path: '/etc', access: READ_RIGHTS, why: 'fs.read' },
      { path: '/tmp', access: (WRITE_RIGHTS | READ_RIGHTS) & fs, why: 'fs.write' },
    ], label);
    assert.deepEqual(plan.ports.map((p) => [p.port, p.access]), net ? [[0, NET.BIND_TCP], [5432, NET.CONNECT_TCP]] : [], label);
    for (const p of plan.paths) assert.equal(p.access & ~plan.handledFs, 0, `${label}: ${p.path} within handled`);
  }
  const none = downgradeLandlock(ideal, 0, ALL_ERRATA);
  assert.equal(none.plan, null);
  assert.deepEqual(none.notes, ['Landlock is not available on this kernel']);
  // the ideal plan is not modified by downgrading
  assert.equal(ideal.handledFs, 0xffff);
  assert.equal(ideal.abi, 8);
});

test('SCOPE_SIGNAL is dropped without erratum 2 before ABI 8 (per-thread domains would block our own signals)', () => {
  const ideal = idealLandlockPlan(EVERYTHING, []);
  for (const abi of [6, 7]) {
    for (const errata of [0, ERRATA.TCP_SOCKET_IDENTIFICATION, ERRATA.DISCONNECTED_DIRECTORY]) {
      const d = downgradeLandlock(ideal, abi, errata);
      assert.equal(d.plan.scoped, SCOPE.ABSTRACT_UNIX_SOCKET, `abi ${abi} errata ${errata}`);
      assert.equal(d.notes.length, 1);
      assert.match(d.notes[0], NOTE.erratum2);
    }
    const ok = downgradeLandlock(ideal, abi, ERRATA.SCOPED_SIGNAL_SAME_TGID);
    assert.equal(ok.plan.scoped, SCOPE.ABSTRACT_UNIX_SOCKET | SCOPE.SIGNAL);
    assert.deepEqual(ok.notes, []);
  }
  // ABI 8 applies one domain to every thread (TSYNC): SIGNAL stays, whatever the errata
  const eight = downgradeLandlock(ideal, 8, 0);
  assert.equal(eight.plan.scoped, SCOPE.ABSTRACT_UNIX_SOCKET | SCOPE.SIGNAL);
  assert.deepEqual(eight.notes, []);
  // before ABI 6 there are no scopes at all, so no erratum note
  assert.ok(!downgradeLandlock(ideal, 5, 0).notes.some((n) => NOTE.erratum2.test(n)));
});

test('an empty ruleset becomes the MAKE_BLOCK-on-/ domain (ptrace scoping only)', () => {
  const open = N({ fs: true, childProcess: true, net: true }); // nothing to handle but SCOPE_SIGNAL
  const ideal = idealLandlockPlan(open, []);
  assert.deepEqual([ideal.handledFs, ideal.handledNet, ideal.scoped], [0, 0, SCOPE.SIGNAL]);
  const blockOnly = { handledFs: FS.MAKE_BLOCK, handledNet: 0, scoped: 0, paths: [{ path: '/', access: FS.MAKE_BLOCK, why: 'a domain for ptrace scoping only' }], ports: [] };
  for (const [abi, errata] of [[1, 0], [3, 0], [5, 0], [6, 0], [7, 0], [7, ERRATA.TCP_SOCKET_IDENTIFICATION]]) {
    const { plan } = downgradeLandlock(ideal, abi, errata);
    assert.deepEqual({ handledFs: plan.handledFs, handledNet: plan.handledNet, scoped: plan.scoped, paths: plan.paths, ports: plan.ports }, blockOnly, `abi ${abi} errata ${errata}`);
    assert.equal(plan.abi, abi);
  }
  for (const [abi, errata] of [[6, ERRATA.SCOPED_SIGNAL_SAME_TGID], [7, ALL_ERRATA], [8, 0]]) {
    const { plan } = downgradeLandlock(ideal, abi, errata);
    assert.deepEqual([plan.handledFs, plan.handledNet, plan.scoped, plan.paths], [0, 0, SCOPE.SIGNAL, []], `abi ${abi}`);
  }
  // unix sockets restricted: the abstract-socket scope is there too
  assert.equal(idealLandlockPlan(N({ fs: true, childProcess: true, net: { connect: true, listen: true } }), []).scoped, SCOPE.SIGNAL | SCOPE.ABSTRACT_UNIX_SOCKET);
  // compile(): a MAKE_BLOCK-only domain is not a filesystem domain
  const p = compile(open, target({ landlockAbi: 5 }));
  assert.equal(p.landlock.handledFs, FS.MAKE_BLOCK);
});

// ---------------------------------------------------------------------------
// Port rules
// ---------------------------------------------------------------------------

test('port rules from connect/listen lists', () => {
  const table = [
    // policy, handledNet, [port, access, why] rules
    [{}, NET.BIND_TCP | NET.CONNECT_TCP, []],
    [{ net: true }, 0, []],
    [{ net: { listen: [':0'] } }, NET.BIND_TCP | NET.CONNECT_TCP, [[0, NET.BIND_TCP, 'net.listen (ephemeral port)']]],
    [{ net: { listen: ['localhost:3000', ':3000', '0.0.0.0:8080'] } }, 3, [[3000, NET.BIND_TCP, 'net.listen'], [8080, NET.BIND_TCP, 'net.listen']]],
    [{ net: { listen: true } }, NET.CONNECT_TCP, []],
    [{ net: { listen: ['localhost'] } }, NET.CONNECT_TCP, []], // a listen rule without a port: no BIND_TCP handling
    [{ net: { connect: ['127.0.0.1:5432'] } }, 3, [[5432, NET.CONNECT_TCP, 'net.connect']]],
    [{ net: { connect: ['127.0.0.1:5432', ':5432', '[::1]:6379'] } }, 3, [[5432, NET.CONNECT_TCP, 'net.connect'], [6379, NET.CONNECT_TCP, 'net.connect']]],
    // dns adds connect 53 (the TCP fallback for truncated answers)
    [{ net: { connect: ['example.com:443'] } }, 3, [[53, NET.CONNECT_TCP, 'net.dns (TCP fallback)'], [443, NET.CONNECT_TCP, 'net.connect']]],
    [{ net: { connect: ['example.com:443'], dns: false } }, 3, [[443, NET.CONNECT_TCP, 'net.connect']]],
    [{ net: { connect: ['10.0.0.1:53'], dns: true } }, 3, [[53, NET.CONNECT_TCP, 'net.dns (TCP fallback)']]],
    [{ net: { dns: true } }, 3, [[53, NET.CONNECT_TCP, 'net.dns (TCP fallback)']]],
    // a connect rule without a port: Landlock cannot express it, so no CONNECT_TCP handling
    [{ net: { connect: ['example.com'] } }, NET.BIND_TCP, []],
    [{ net: { connect: ['10.0.0.0/8', '127.0.0.1:5432'] } }, NET.BIND_TCP, []],
    [{ net: { connect: true } }, NET.BIND_TCP, []],
    [{ net: { connect: true, listen: [':8080'] } }, NET.BIND_TCP, [[8080, NET.BIND_TCP, 'net.listen']]],
    // the same port for connect and listen: one rule, both rights
    [{ net: { connect: [':8080'], listen: [':8080'] } }, 3, [[8080, NET.BIND_TCP | NET.CONNECT_TCP, 'net.connect, net.listen']]],
  ];
  for (const [policy, handledNet, ports] of table) {
    const ideal = idealLandlockPlan(N(policy), []);
    assert.equal(ideal.handledNet, handledNet, JSON.stringify(policy));
    assert.deepEqual(ideal.ports.map((p) => [p.port, p.access, p.why]), ports, JSON.stringify(policy));
  }
  assert.deepEqual(landlockPorts(N({ net: { connect: ['a.example:443', 'b.example:80'] } })), { connect: [53, 80, 443], bind: [] });
  assert.deepEqual(landlockPorts(N({ net: { connect: ['a.example'] } })), { connect: undefined, bind: [] });
  assert.deepEqual(landlockPorts(N({ net: true })), { connect: undefined, bind: undefined });
});

// ---------------------------------------------------------------------------
// Path rules
// ---------------------------------------------------------------------------

const HOST = {
  pid: 4242,
  nodeExecPath: '/usr/local/bin/node',
  appRoot: '/w',
  selfRoot: '/w/node_modules/blackbox-native',
  elfInterpreters: ['/lib64/ld-linux-x86-64.so.2'],
};

test('path rules for fs.read / fs.write / childProcess lists', () => {
  const table = [
    // policy, handledFs, [path, access] rules
    [{}, WRITE_RIGHTS | FS.EXECUTE, []],
    [{ fs: { read: ['/etc', '/w'] } }, 0xffff, [['/etc', READ_RIGHTS], ['/w', READ_RIGHTS]]],
    [{ fs: { read: [] } }, 0xffff, []],
    [{ fs: false }, 0xffff, []],
    [{ fs: { read: ['/etc'], write: ['/tmp'] } }, 0xffff, [['/etc', READ_RIGHTS], ['/tmp', WRITE_RIGHTS | READ_RIGHTS]]],
    [{ fs: { write: ['/tmp', '$HOME/.cache'] } }, WRITE_RIGHTS | FS.EXECUTE, [['/home/u/.cache', WRITE_RIGHTS], ['/tmp', WRITE_RIGHTS]]], // read: true, so no read bits
    [{ childProcess: ['/usr/bin/git'] }, WRITE_RIGHTS | FS.EXECUTE, [['/usr/bin/git', FS.EXECUTE]]],
    [{ childProcess: ['/usr/bin/git'], fs: { read: ['/w'] } }, 0xffff, [['/usr/bin/git', FS.EXECUTE | FS.READ_FILE], ['/w', READ_RIGHTS]]],
    [{ childProcess: true }, WRITE_RIGHTS, []],
    [{ childProcess: true, fs: { read: ['/etc'] } }, WRITE_RIGHTS | READ_RIGHTS, [['/etc', READ_RIGHTS]]],
    [{ fs: { read: ['/data'], write: ['/data'] } }, 0xffff, [['/data', WRITE_RIGHTS | READ_RIGHTS]]],
  ];
  for (const [policy, handled, paths] of table) {
    const ideal = idealLandlockPlan(N(policy), []);
    assert.equal(ideal.handledFs, handled, `${JSON.stringify(policy)}: 0x${ideal.handledFs.toString(16)}`);
    assert.deepEqual(ideal.paths.map((p) => [p.path, p.access]), paths, JSON.stringify(policy));
    for (const p of ideal.paths) assert.equal(p.access & ~ideal.handledFs, 0);
  }
  const both = idealLandlockPlan(N({ fs: { read: ['/data'], write: ['/data'] } }), []);
  assert.equal(both.paths[0].why, 'fs.read, fs.write');
});

test('fs.write: true under a filesystem domain grants REFER everywhere (REFER is denied by any ruleset that does not grant it)', () => {
  // {fs: {write: true}} still handles EXECUTE (no child processes): without a REFER
  // grant every cross-directory rename/link would fail with EXDEV on ABI >= 2.
  for (const policy of [{ fs: { write: true } }, { fs: { read: ['/etc'], write: true } }]) {
    const ideal = idealLandlockPlan(N(policy), []);
    assert.ok(ideal.handledFs & FS.REFER, JSON.stringify(policy));
    const root = ideal.paths.find((p) => p.path === '/');
    assert.ok(root && root.access === FS.REFER, JSON.stringify(ideal.paths));
    for (const abi of [2, 3, 5, 7, 8]) {
      const { plan } = downgradeLandlock(ideal, abi, ALL_ERRATA);
      assert.ok(plan.paths.some((p) => p.path === '/' && (p.access & FS.REFER)), `abi ${abi}`);
    }
    // ABI 1 has no REFER: renames across directories are always EXDEV, and the note says so
    const one = downgradeLandlock(ideal, 1, ALL_ERRATA);
    assert.ok(!one.plan.paths.some((p) => p.path === '/'));
    assert.ok(one.notes.some((n) => NOTE.refer.test(n)));
  }
  // no filesystem domain at all: nothing to grant
  const open = idealLandlockPlan(N({ fs: true, childProcess: true }), []);
  assert.equal(open.handledFs, 0);
  assert.deepEqual(open.paths, []);
  // a write list grants REFER only beneath its entries
  const list = idealLandlockPlan(N({ fs: { write: ['/tmp'] } }), []);
  assert.deepEqual(list.paths.map((p) => p.path), ['/tmp']);
});

test('default grants: /dev/null, what Node reads, DNS files, child libraries, ELF interpreters', () => {
  const grants = (policy) => defaultGrants(N(policy), HOST);
  const paths = (policy) => grants(policy).map((g) => g.path);
  // read: true: only /dev/null (writable) is needed
  assert.deepEqual(grants({}), [{ path: '/dev/null', access: FS.WRITE_FILE | FS.READ_FILE, why: 'Node opens /dev/null for stdio of Workers and children' }]);
  assert.deepEqual(grants({ fs: true }), []);
  // a read list: Node's own needs come back
  const ro = paths({ fs: { read: [] } });
  for (const p of ['/dev/null', '/usr/local/bin/node', '/w', '/w/node_modules/blackbox-native', '/dev/urandom', '/proc/4242', '/etc/passwd', '/etc/ssl']) {
    assert.ok(ro.includes(p), p);
  }
  assert.ok(!ro.includes('/etc/resolv.conf'));
  assert.ok(!ro.includes('/usr/lib'));
  assert.ok(paths({ fs: { read: [] }, net: { connect: ['example.com:443'] } }).includes('/etc/resolv.conf'));
  assert.ok(paths({ fs: { read: [] }, childProcess: true }).includes('/usr/lib'));
  // an executable list needs the ELF interpreter executable
  const g = grants({ childProcess: ['/usr/bin/git'] });
  assert.ok(g.some((x) => x.path === '/lib64/ld-linux-x86-64.so.2' && (x.access & FS.EXECUTE)));
  for (const x of grants({ fs: { read: [] }, childProcess: ['/usr/bin/git'], net: { dns: true } })) assert.equal(typeof x.why, 'string');

  // through the plan: defaults are masked by what is handled, merged with the policy's own rules
  const ideal = idealLandlockPlan(N({ fs: { read: ['/etc'] } }), defaultGrants(N({ fs: { read: ['/etc'] } }), HOST));
  const byPath = Object.fromEntries(ideal.paths.map((p) => [p.path, p]));
  assert.equal(byPath['/dev/null'].access, FS.WRITE_FILE | FS.READ_FILE);
  assert.equal(byPath['/usr/local/bin/node'].access, FS.READ_FILE);
  assert.equal(byPath['/etc/ssl'].access, READ_RIGHTS);
  assert.equal(byPath['/etc'].access, READ_RIGHTS);
  const readAll = idealLandlockPlan(N({}), defaultGrants(N({}), HOST));
  assert.deepEqual(readAll.paths, [{ path: '/dev/null', access: FS.WRITE_FILE, why: 'Node opens /dev/null for stdio of Workers and children' }]);
  // paths are sorted and unique
  const list = ideal.paths.map((p) => p.path);
  assert.deepEqual(list, [...new Set(list)].sort());
});

// ---------------------------------------------------------------------------
// compile(): coverage and warnings
// ---------------------------------------------------------------------------

test('a fully kernel-enforced policy ({} on ABI 7, x86_64 and aarch64) has no warnings', () => {
  for (const arch of ['x86_64', 'aarch64']) {
    for (const abi of [7, 8]) {
      const p = compile(N({}), target({ arch, landlockAbi: abi }));
      assert.deepEqual(p.warnings, [], `${arch} abi ${abi}`);
      assert.ok(p.coverage.length > 0);
      for (const c of p.coverage) assert.equal(c.status, 'kernel', `${arch} ${c.rule}`);
      assert.deepEqual(p.coverage.map((c) => c.rule), ['net.connect: none', 'net.listen: none', 'net.unix: none', 'fs.write: none', 'childProcess: none', 'addons: none']);
    }
  }
  // an executable list on ABI 7 stays kernel-enforced; a read list is partial:
  // Landlock checks opens, so stat/access/readlink outside the grants succeed
  const q = compile(N({ fs: { read: ['/etc'] }, childProcess: ['/usr/bin/git'] }), target());
  assert.deepEqual(q.warnings.filter((w) => /^(net|fs|childProcess)/.test(w)).map((w) => w.split(':')[0]), ['fs.read'], JSON.stringify(q.warnings));
  assert.match(q.warnings.find((w) => w.startsWith('fs.read')), /stat, access and readlink/);
  assert.equal(q.coverage.find((c) => c.capability === 'childProcess').status, 'kernel');
});

test('no kernel layer: darwin, or kernel: false — the warning says so, seccomp and landlock are null', () => {
  for (const t of [target({ platform: 'darwin', arch: undefined }), target({ platform: 'darwin' }), target({ platform: 'win32' }), target({ kernel: false })]) {
    const p = compile(N({}), t);
    assert.equal(p.seccomp, null);
    assert.equal(p.landlock, null);
    assert.match(p.warnings[0], new RegExp(`^no kernel layer on ${t.platform}`));
    assert.match(p.warnings[0], /enforced only by the JS layer/);
    if (t.platform === 'linux') assert.match(p.warnings[0], /the native addon is not available/);
    for (const c of p.coverage) assert.equal(c.status, 'js', c.rule);
    for (const c of p.coverage) assert.deepEqual(c.layers, ['js']);
  }
  const noArch = compile(N({}), target({ arch: undefined }));
  assert.equal(noArch.seccomp, null);
  assert.notEqual(noArch.landlock, null);
  assert.match(noArch.warnings[0], /no seccomp compiler for this architecture/);
});

test('audit mode: no Landlock, a warning, and nothing claimed as kernel-enforced', () => {
  const p = compile(N({ mode: 'audit' }), target());
  assert.equal(p.landlock, null);
  assert.notEqual(p.seccomp, null);
  assert.ok(p.warnings.some((w) => /^audit mode:/.test(w)));
  for (const c of p.coverage) assert.notEqual(c.status, 'kernel', c.rule);
});

test('warnings name the rules: connect/listen lists, UDP, dns, unix paths, write lists, workers, Landlock losses', () => {
  const w = (policy, t = {}) => compile(N(policy), target(t)).warnings;
  const has = (list, re) => assert.ok(list.some((x) => re.test(x)), `${re} in ${JSON.stringify(list, null, 1)}`);
  has(w({ net: { connect: ['127.0.0.1:5432'] } }), /^net\.connect 127\.0\.0\.1:5432: the kernel \(Landlock\) allows TCP port 5432 to any host/);
  has(w({ net: { connect: ['127.0.0.1:5432'] } }, { landlockAbi: 3 }), /^net\.connect 127\.0\.0\.1:5432 is enforced only by the JS layer/);
  has(w({ net: { connect: ['example.com'] } }), /^net\.connect example\.com is enforced only by the JS layer.*every TCP port open/);
  has(w({ net: { connect: ['example.com'] } }), /^net\.connect: UDP datagrams/);
  has(w({ net: { connect: ['example.com'] } }), /^net\.dns:/);
  has(w({ net: { listen: ['localhost:3000'] } }), /^net\.listen localhost:3000: the kernel \(Landlock\) allows binding TCP port 3000/);
  has(w({ net: { unix: ['/run/x.sock'] } }), /^net\.unix: connecting to a path-named unix socket/);
  has(w({ fs: { write: ['/tmp'] } }), /^fs\.write: chmod, chown/);
  has(w({ fs: { write: ['/tmp'] } }, { landlockAbi: 0 }), /^fs\.write: the write list is enforced only by the JS layer/);
  has(w({ fs: { read: ['/etc'] } }, { landlockAbi: 0 }), /^fs\.read: the read list is enforced only by the JS layer/);
  has(w({ childProcess: ['/usr/bin/git'] }, { landlockAbi: 0 }), /^childProcess: the executable list/);
  has(w({ workers: false }), /^workers:/);
  has(w({ childProcess: true }), /^addons:/);
  has(w({}, { landlockAbi: 3 }), NOTE.ioctl);
  has(w({}, { landlockAbi: 7, landlockErrata: 0 }), NOTE.erratum2);
  has(w({}, { landlockAbi: 0 }), /^Landlock is not available/);
  // connect: [] is "no connections", not an empty list that opens TCP sockets without a rule
  assert.deepEqual(compile(N({ net: { connect: [] } }), target({ landlockAbi: 0 })).warnings, compile(N({}), target({ landlockAbi: 0 })).warnings);
});

// The claims of coverage, checked against the compiled plan itself.
const POLICIES = [
  {}, { net: true }, { net: { connect: true } }, { net: { listen: true } }, { net: { connect: ['127.0.0.1:5432'] } }, { net: { connect: [':443'] } },
  { net: { connect: ['example.com:443'] } }, { net: { connect: ['example.com'] } }, { net: { listen: [':8080'] } }, { net: { listen: ['localhost:3000'] } },
  { net: { connect: ['example.com:443'], listen: [':8080'] } }, { net: { connect: [':443'], listen: [':0'], dns: false } }, { net: { dns: true } },
  { net: { unix: ['/run/x.sock'] } }, { net: { unix: true } }, { fs: { read: ['/etc'] } }, { fs: { write: ['/tmp'] } }, { fs: true }, { fs: false },
  { fs: { read: [], write: ['/tmp'] } }, { childProcess: true }, { childProcess: ['/usr/bin/git'] }, { addons: true }, { workers: false }, { mode: 'audit' },
  { net: true, fs: true, childProcess: true, addons: true },
];
const TARGETS = [];
for (const arch of ['x86_64', 'aarch64', undefined]) {
  for (const abi of [0, 1, 2, 3, 4, 5, 6, 7, 8]) for (const errata of [0, ALL_ERRATA]) TARGETS.push(target({ arch, landlockAbi: abi, landlockErrata: errata }));
}
TARGETS.push(target({ platform: 'darwin', arch: undefined }), target({ kernel: false }));

function seccompVerdict(plan, name, args) {
  if (!plan.seccomp) return 'ALLOW';
  const arch = plan.seccomp.arch;
  const nr = syscallNumber(arch, name);
  if (nr === undefined) return 'ALLOW';
  return actionName(simulate(plan.seccomp.insns, { nr, arch: arch === 'x86_64' ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_AARCH64, args }));
}
const denied = (plan, name, args) => seccompVerdict(plan, name, args) !== 'ALLOW';

test('coverage: every js-only or partial rule has a warning naming it; every kernel claim is backed by the plan', () => {
  let claims = 0;
  for (const policy of POLICIES) {
    const n = N(policy);
    for (const t of TARGETS) {
      const p = compile(n, t);
      const label = `${JSON.stringify(policy)} on ${t.platform}/${t.arch}/abi ${t.landlockAbi}/errata ${t.landlockErrata}/kernel ${t.kernel}`;
      assert.equal(new Set(p.warnings).size, p.warnings.length, `${label}: warnings are unique`);
      for (const c of p.coverage) {
        assert.equal(c.layers[c.layers.length - 1], 'js', `${label}: ${c.rule}: the JS layer is always there`);
        if (!p.seccomp) assert.ok(!c.layers.includes('seccomp'), `${label}: ${c.rule} claims seccomp`);
        if (!p.landlock) assert.ok(!c.layers.includes('landlock'), `${label}: ${c.rule} claims landlock`);
        if (c.status !== 'kernel') {
          assert.equal(typeof c.note, 'string', `${label}: ${c.rule} (${c.status}) has a note`);
          assert.ok(p.warnings.includes(c.note), `${label}: ${c.rule}: its note is a warning`);
          const key = c.rule.split(/[: ]/)[0];
          assert.ok(c.note.startsWith(key), `${label}: the warning names ${key}: ${c.note}`);
          continue;
        }
        claims++;
        assert.ok(c.layers.length > 1, `${label}: ${c.rule} is kernel-enforced by some kernel layer`);
        const ll = p.landlock;
        const udpDenied = denied(p, 'socket', [2, 2, 0]) && denied(p, 'socket', [10, 2, 17]);
        const tcpSocketDenied = denied(p, 'socket', [2, 1, 0]) && denied(p, 'socket', [10, 1, 6]);
        const claim = (ok, what) => assert.ok(ok, `${label}: "${c.rule}" is claimed kernel-enforced but ${what}`);
        switch (true) {
          case c.rule === 'net.connect: none':
            claim(udpDenied, 'UDP sockets are allowed');
            claim(tcpSocketDenied || (ll && ll.handledNet & NET.CONNECT_TCP && !ll.ports.some((r) => r.access & NET.CONNECT_TCP)), 'TCP connects are not denied');
            claim(denied(p, 'socket', [2, 1, 262]), 'MPTCP sockets are allowed');
            break;
          case c.rule === 'net.listen: none':
            claim(udpDenied, 'UDP sockets (bind) are allowed');
            claim(tcpSocketDenied || (ll && ll.handledNet & NET.BIND_TCP && !ll.ports.some((r) => r.access & NET.BIND_TCP)), 'TCP binds are not denied');
            claim(denied(p, 'socket', [2, 1, 262]), 'MPTCP sockets are allowed');
            break;
          case c.rule.startsWith('net.connect '): {
            const r = n.net.connect.find((x) => c.rule === `net.connect ${require('../../dist/policy').formatRule(x)}`);
            claim(r && r.kind === 'any', 'it names hosts the kernel cannot see');
            claim(udpDenied, 'UDP sockets are allowed');
            claim(ll && ll.handledNet & NET.CONNECT_TCP, 'Landlock does not handle CONNECT_TCP');
            claim(denied(p, 'socket', [2, 1, 262]), 'MPTCP sockets are allowed');
            break;
          }
          case c.rule.startsWith('net.listen '): {
            claim(/^net\.listen :\d+$/.test(c.rule), 'it names addresses the kernel cannot see');
            claim(udpDenied, 'UDP sockets (bind) are allowed');
            claim(ll && ll.handledNet & NET.BIND_TCP, 'Landlock does not handle BIND_TCP');
            claim(denied(p, 'socket', [2, 1, 262]), 'MPTCP sockets are allowed');
            break;
          }
          case c.rule === 'net.unix: none':
            claim(denied(p, 'socket', [1, 1, 0]), 'AF_UNIX sockets are allowed');
            break;
          case c.rule.startsWith('fs.read'):
            claim(ll && (ll.handledFs & FS.READ_FILE), 'Landlock does not handle READ_FILE');
            break;
          case c.rule === 'fs.write: none':
            claim(denied(p, 'fchmodat', [0, 0, 0]), 'chmod is allowed');
            claim((ll && (ll.handledFs & FS.WRITE_FILE)) || denied(p, 'openat', [-100, 0, 1, 0]), 'writes are not denied');
            break;
          case c.rule.startsWith('childProcess '):
            claim(ll && (ll.handledFs & FS.EXECUTE), 'Landlock does not handle EXECUTE');
            break;
          case c.rule === 'childProcess: none':
            claim(denied(p, 'execve', [0, 0, 0]) && denied(p, 'clone', [17]), 'execve/fork are allowed');
            break;
          case c.rule === 'addons: none':
            claim(denied(p, 'mmap', [0, 4096, 5, 0x802, 3, 0]), 'the loader can map code');
            break;
          default:
            assert.fail(`${label}: unexpected kernel claim ${c.rule}`);
        }
      }
    }
  }
  assert.ok(claims > 500, `${claims} kernel claims checked`);
});
