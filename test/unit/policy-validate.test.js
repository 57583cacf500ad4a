'use strict';
// Policy validation and normalization (SPEC §2): every field × every bad input
// throws TypeError ERR_BLACKBOX_POLICY naming the field; every grammar form is
// accepted and normalized; defaults are the strictest useful policy.
const test = require('node:test');
const assert = require('node:assert/strict');

const { validatePolicy, normalizePolicy, POLICY_KEYS } = require('../../dist/policy');
const { expandPath, isBeneath, minimalPaths } = require('../../dist/policy/paths');
const { policyError, PolicyViolation } = require('../../dist/errors');
const { compile } = require('../../dist/compile/plan');
const { check } = require('../../dist/compile/bpf/simulate');

const CTX = Object.freeze({ CWD: '/home/u/app', HOME: '/home/u', TMPDIR: '/tmp', NODE: '/usr/local', APP: '/srv/app' });

function policyErrorOf(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

function assertPolicyError(err, field, label) {
  assert.ok(err, `${label}: expected ERR_BLACKBOX_POLICY, nothing was thrown`);
  assert.ok(err instanceof TypeError, `${label}: expected a TypeError, got ${err && err.constructor && err.constructor.name}: ${err && err.message}`);
  assert.equal(err.code, 'ERR_BLACKBOX_POLICY', `${label}: code`);
  assert.equal(err.field, field, `${label}: field (message: ${err.message})`);
  assert.ok(err.message.includes(field === '' ? 'policy' : field), `${label}: the message names the field: ${err.message}`);
  assert.equal(typeof err.reason, 'string');
}

// ---------------------------------------------------------------------------
// Rejections. [label, policy, field, ctx?, phase]. phase 'validate': validatePolicy
// alone must refuse it; 'normalize': needs the path context (variables, $CWD).
// ---------------------------------------------------------------------------

class NetPolicy { constructor() { this.connect = true; } }
class PolicyClass { constructor() { this.net = false; } }
const withGetter = (obj, key, value) => Object.defineProperty(obj, key, { get: () => value, enumerable: true, configurable: true });
const withSetter = (obj, key) => Object.defineProperty(obj, key, { set: () => {}, enumerable: true, configurable: true });
const arrayWithGetter = (good) => {
  const a = [good, good];
  Object.defineProperty(a, 1, { get: () => good, enumerable: true });
  return a;
};
const sparse = (n, at, v) => { const a = new Array(n); if (at !== undefined) a[at] = v; return a; };
const long = (n) => 'a'.repeat(n);

const REJECT = [
  // the policy itself
  ['null policy', null, ''],
  ['number policy', 5, ''],
  ['string policy', 'strict', ''],
  ['boolean policy', true, ''],
  ['array policy', [], ''],
  ['class instance policy', new PolicyClass(), ''],
  ['Map policy', new Map(), ''],
  ['Date policy', new Date(0), ''],
  ['function policy', () => ({}), ''],
  ['symbol key', { [Symbol('net')]: true }, ''],
  // unknown keys at each level
  ['unknown top key', { network: true }, 'network'],
  ['unknown top key (case)', { Net: true }, 'Net'],
  ['__proto__ own key', JSON.parse('{"__proto__": {"net": true}}'), '__proto__'],
  ['constructor key', { constructor: {} }, 'constructor'],
  ['toString key', { toString: 'x' }, 'toString'],
  ['unknown net key', { net: { bogus: 1 } }, 'net.bogus'],
  ['unknown net key (udp)', { net: { udp: true } }, 'net.udp'],
  ['unknown fs key', { fs: { exec: true } }, 'fs.exec'],
  ['symbol key in net', { net: { [Symbol('x')]: 1 } }, 'net'],
  // getters / setters
  ['getter at top', withGetter({}, 'net', true), 'net'],
  ['setter at top', withSetter({}, 'addons'), 'addons'],
  ['getter inside net', { net: withGetter({}, 'connect', ['localhost']) }, 'net.connect'],
  ['getter in fs', { fs: withGetter({}, 'write', true) }, 'fs.write'],
  ['getter element', { fs: { write: arrayWithGetter('/tmp') } }, 'fs.write[1]'],
  // wrong types: net
  ['net null', { net: null }, 'net'],
  ['net number', { net: 1 }, 'net'],
  ['net string', { net: 'true' }, 'net'],
  ['net array', { net: ['localhost'] }, 'net'],
  ['net class instance', { net: new NetPolicy() }, 'net'],
  ['net.connect string', { net: { connect: 'localhost' } }, 'net.connect'],
  ['net.connect number', { net: { connect: 443 } }, 'net.connect'],
  ['net.connect null', { net: { connect: null } }, 'net.connect'],
  ['net.connect object', { net: { connect: { 0: 'localhost', length: 1 } } }, 'net.connect'],
  ['net.connect[0] number', { net: { connect: [80] } }, 'net.connect[0]'],
  ['net.connect[1] null', { net: { connect: ['localhost', null] } }, 'net.connect[1]'],
  ['net.connect[0] String object', { net: { connect: [new String('localhost')] } }, 'net.connect[0]'],
  ['net.connect hole', { net: { connect: sparse(2, 1, 'localhost') } }, 'net.connect[0]'],
  ['net.connect too long', { net: { connect: new Array(4097).fill('localhost') } }, 'net.connect'],
  ['net.listen string', { net: { listen: ':8080' } }, 'net.listen'],
  ['net.listen[0] number', { net: { listen: [8080] } }, 'net.listen[0]'],
  ['net.unix string', { net: { unix: '/run/x.sock' } }, 'net.unix'],
  ['net.unix[0] empty', { net: { unix: [''] } }, 'net.unix[0]'],
  ['net.unix[0] NUL', { net: { unix: ['/run/x\0.sock'] } }, 'net.unix[0]'],
  ['net.dns number', { net: { dns: 1 } }, 'net.dns'],
  ['net.dns string', { net: { dns: 'yes' } }, 'net.dns'],
  ['net.dns null', { net: { dns: null } }, 'net.dns'],
  ['net.dns array', { net: { dns: [] } }, 'net.dns'],
  // wrong types: fs
  ['fs null', { fs: null }, 'fs'],
  ['fs string', { fs: 'ro' }, 'fs'],
  ['fs array', { fs: ['/tmp'] }, 'fs'],
  ['fs number', { fs: 0 }, 'fs'],
  ['fs.read string', { fs: { read: '/etc' } }, 'fs.read'],
  ['fs.read null', { fs: { read: null } }, 'fs.read'],
  ['fs.read object', { fs: { read: {} } }, 'fs.read'],
  ['fs.write number', { fs: { write: 1 } }, 'fs.write'],
  ['fs.write[0] number', { fs: { write: [1] } }, 'fs.write[0]'],
  ['fs.write[0] empty', { fs: { write: [''] } }, 'fs.write[0]'],
  ['fs.write[0] NUL', { fs: { write: ['/tmp/a\0b'] } }, 'fs.write[0]'],
  ['fs.write[2] NUL only', { fs: { write: ['/a', '/b', '\0'] } }, 'fs.write[2]'],
  ['fs.write[0] array', { fs: { write: [['/tmp']] } }, 'fs.write[0]'],
  ['fs.write hole', { fs: { write: sparse(3) } }, 'fs.write[0]'],
  ['fs.read hole after good', { fs: { read: sparse(2, 0, '/etc') } }, 'fs.read[1]'],
  ['fs.write[0] > PATH_MAX', { fs: { write: ['/' + long(4096)] } }, 'fs.write[0]'],
  // wrong types: childProcess
  ['childProcess string', { childProcess: '/bin/ls' }, 'childProcess'],
  ['childProcess number', { childProcess: 1 }, 'childProcess'],
  ['childProcess null', { childProcess: null }, 'childProcess'],
  ['childProcess object', { childProcess: {} }, 'childProcess'],
  ['childProcess[1] directory', { childProcess: ['/bin/ls', '/usr/bin/'] }, 'childProcess[1]'],
  // An executable entry must name a file: a last component "." or "..", or a
  // bare path variable, can only name a directory (which would grant
  // execution of everything beneath it).
  ['childProcess[0] /.', { childProcess: ['/.'] }, 'childProcess[0]'],
  ['childProcess[1] /usr/bin/..', { childProcess: ['/bin/ls', '/usr/bin/..'] }, 'childProcess[1]'],
  ['childProcess[0] .', { childProcess: ['.'] }, 'childProcess[0]'],
  ['childProcess[0] ..', { childProcess: ['..'] }, 'childProcess[0]'],
  ['childProcess[0] file/.', { childProcess: ['/usr/bin/git/.'] }, 'childProcess[0]'],
  ['childProcess[0] $HOME/..', { childProcess: ['$HOME/..'] }, 'childProcess[0]'],
  ['childProcess[0] $NODE', { childProcess: ['$NODE'] }, 'childProcess[0]'],
  ['childProcess[0] ${CWD}', { childProcess: ['${CWD}'] }, 'childProcess[0]'],
  ['childProcess[0] number', { childProcess: [0] }, 'childProcess[0]'],
  ['childProcess[0] empty', { childProcess: [''] }, 'childProcess[0]'],
  // booleans
  ['addons number', { addons: 1 }, 'addons'],
  ['addons string', { addons: 'true' }, 'addons'],
  ['addons null', { addons: null }, 'addons'],
  ['addons Boolean object', { addons: new Boolean(true) }, 'addons'],
  ['workers number', { workers: 0 }, 'workers'],
  ['workers array', { workers: [] }, 'workers'],
  // mode
  ['mode bogus', { mode: 'permissive' }, 'mode'],
  ['mode upper case', { mode: 'AUDIT' }, 'mode'],
  ['mode boolean', { mode: true }, 'mode'],
  ['mode null', { mode: null }, 'mode'],
  ['mode number', { mode: 0 }, 'mode'],
  ['mode symbol', { mode: Symbol('audit') }, 'mode'],
  ['mode bigint', { mode: 1n }, 'mode'],
];

// Bad network entries: every one in connect and in listen, at index 2 (after two good ones).
const BAD_NET = [
  'exa mple.com', '-a.com', 'a-.com', 'a..b', '.a.com', long(64) + '.com', `${'a.'.repeat(127)}com`, '*', '*.com', 'foo*.com',
  '*.*.com', 'a.*.com', '**.a.com', '*.', 'a_b.com', 'ex!ample.com', 'ex/ample.com', 'münchen.de', 'a.123', '1.2.3.4.5', '256.1.1.1',
  '1.2.3.256', '08.1.1.1', '1.2.3.4.', 'fe80::1%eth0', '[fe80::1%eth0]:80', ':::1', '1:2:3:4:5:6:7:8:9', '[1.2.3.4]', '[]', '[::1', '[::1]x',
  '[::1]:', '[::1]:65536', '[localhost]:80', '10.0.0.0/33', '::/129', '10.0.0.0/x', '10.0.0.0/', '/8', 'a.com/8', '10.0.0.0/8/8',
  '[::/0/1]', '10.0.0.0/-1', '10.0.0.0/ 8', ':65536', ':-1', ':99999', ':abc', ':', 'host:', 'host:abc', 'host:80x', 'host:+80',
  'host: 80', 'host:-1', 'a.com:65536', '80', '2130706433', '0x7f000001', '017700000001', ' localhost', 'localhost ', '\tlocalhost',
  'local host', '0x', '1.2.3.4:80:90', 'a.com:80:90', '::1]:80', 'exa\nmple.com', '0x7f.', '0x7f000001.', 'cafe.0x10', '127.0.0.1.',
];

for (const bad of BAD_NET) {
  REJECT.push([`net.connect entry ${JSON.stringify(bad)}`, { net: { connect: ['localhost', '127.0.0.1:5432', bad] } }, 'net.connect[2]']);
  REJECT.push([`net.listen entry ${JSON.stringify(bad)}`, { net: { listen: [':8080', 'localhost:3000', bad] } }, 'net.listen[2]']);
}

// Path trickery: needs the context (normalize only).
const REJECT_PATHS = [
  ['~/x', '~/x'],
  ['~ alone', '~'],
  ['~user', '~root/.ssh'],
  ['$UNKNOWN', '$UNKNOWN/x'],
  ['$PATH', '$PATH'],
  ['${UNKNOWN}', '${UNKNOWN}/x'],
  ['$HOMEX', '$HOMEX/a'],
  ['lower-case $home', '$home/x'],
  ['$ in the middle', '/a/$HOME/b'],
  ['${HOME}x', '${HOME}x'],
  ['$ alone', '$'],
  ['$ then slash', '$/x'],
  // A "$" after a leading variable is as stray as one without it.
  ['$ after a leading variable', '$HOME/x/$HOME'],
  ['${VAR} then a stray $', '${TMPDIR}/a$b'],
];
const PATH_FIELDS = [
  ['fs.read', (p) => ({ fs: { read: ['/ok', p] } }), 'fs.read[1]'],
  ['fs.write', (p) => ({ fs: { write: [p] } }), 'fs.write[0]'],
  ['childProcess', (p) => ({ childProcess: ['/bin/ls', p] }), 'childProcess[1]'],
  ['net.unix', (p) => ({ net: { unix: [p] } }), 'net.unix[0]'],
];
const REJECT_CTX = [];
for (const [label, p] of REJECT_PATHS) {
  for (const [where, make, field] of PATH_FIELDS) REJECT_CTX.push([`${where} ${label}`, make(p), field, CTX]);
}
for (const [where, make, field] of PATH_FIELDS) {
  REJECT_CTX.push([`${where} $HOME unset`, make('$HOME/.cache'), field, { ...CTX, HOME: undefined }]);
  REJECT_CTX.push([`${where} $HOME empty`, make('$HOME'), field, { ...CTX, HOME: '' }]);
  REJECT_CTX.push([`${where} $HOME relative`, make('$HOME/x'), field, { ...CTX, HOME: 'home/u' }]);
  REJECT_CTX.push([`${where} $TMPDIR unset`, make('${TMPDIR}/x'), field, { CWD: '/w' }]);
  REJECT_CTX.push([`${where} $APP unset`, make('$APP'), field, { CWD: '/w' }]);
  REJECT_CTX.push([`${where} relative with relative $CWD`, make('x/y'), field, { ...CTX, CWD: 'rel' }]);
  REJECT_CTX.push([`${where} $CWD relative`, make('$CWD/x'), field, { ...CTX, CWD: './here' }]);
}

test('validatePolicy and normalizePolicy refuse every bad field with ERR_BLACKBOX_POLICY naming it', () => {
  assert.ok(REJECT.length > 150);
  for (const [label, policy, field] of REJECT) {
    assertPolicyError(policyErrorOf(() => validatePolicy(policy)), field, `validate: ${label}`);
    assertPolicyError(policyErrorOf(() => normalizePolicy(policy, CTX)), field, `normalize: ${label}`);
  }
});

test('path trickery is refused by normalizePolicy with the field of the entry', () => {
  assert.ok(REJECT_CTX.length > 50);
  for (const [label, policy, field, ctx] of REJECT_CTX) {
    assertPolicyError(policyErrorOf(() => normalizePolicy(policy, ctx)), field, label);
  }
});

test('the error is data: code, field, value, reason; the policy-level field is ""', () => {
  const e = policyErrorOf(() => normalizePolicy({ net: { connect: ['ok.example', 'exa mple.com'] } }, CTX));
  assert.equal(e.value, 'exa mple.com');
  assert.match(e.message, /^blackbox-native: invalid policy: net\.connect\[1\]: /);
  assert.match(e.message, /"exa mple\.com"/);
  const top = policyErrorOf(() => validatePolicy(null));
  assert.equal(top.field, '');
  assert.match(top.message, /invalid policy: policy: must be a plain object \(got null\)/);
  // policyError itself
  const made = policyError('fs.write[3]', 7n, 'is odd');
  assert.ok(made instanceof TypeError);
  assert.deepEqual([made.code, made.field, made.value, made.reason], ['ERR_BLACKBOX_POLICY', 'fs.write[3]', 7n, 'is odd']);
  assert.equal(made.message, 'blackbox-native: invalid policy: fs.write[3]: is odd (got 7n)');
  for (const [v, shown] of [['s', '"s"'], [null, 'null'], [[1], 'an array'], [{}, 'an object'], [() => 1, 'a function'], [undefined, 'undefined'], [Symbol('q'), 'Symbol(q)']]) {
    assert.ok(policyError('f', v, 'r').message.endsWith(`(got ${shown})`), shown);
  }
});

test('PolicyViolation is shaped like Node\'s ERR_ACCESS_DENIED', () => {
  const cause = Object.assign(new Error('EACCES'), { code: 'EACCES' });
  const v = new PolicyViolation({ permission: 'Net', resource: 'example.com:443', layer: 'kernel', operation: 'connect', hint: 'grant it', cause });
  assert.ok(v instanceof Error);
  assert.equal(v.name, 'PolicyViolation');
  assert.equal(v.code, 'ERR_ACCESS_DENIED');
  assert.deepEqual([v.permission, v.resource, v.layer, v.operation], ['Net', 'example.com:443', 'kernel', 'connect']);
  assert.equal(v.cause, cause);
  assert.equal(v.message, 'blackbox-native: Net connect example.com:443 denied — grant it');
  const plain = new PolicyViolation({ permission: 'Addon', resource: '/x.node', layer: 'js' });
  assert.equal(plain.message, 'blackbox-native: Addon /x.node denied');
  assert.equal('cause' in plain, false);
});

// ---------------------------------------------------------------------------
// Accepted side
// ---------------------------------------------------------------------------

/** The rule without keys whose value is undefined (port: undefined = any port). */
const defined = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const DEFAULTS = {
  net: { connect: false, listen: false, unix: false, dns: false },
  fs: { read: true, write: false },
  childProcess: false,
  addons: false,
  workers: true,
  mode: 'enforce',
};

test('no policy = no network, no child processes, no addons, read-only fs (SPEC §2)', () => {
  for (const p of [undefined, {}, { net: undefined, fs: undefined, mode: undefined }, Object.create(null)]) {
    assert.deepEqual(normalizePolicy(p, CTX), DEFAULTS);
  }
  assert.deepEqual(validatePolicy(undefined), {});
  assert.deepEqual(POLICY_KEYS.policy, ['net', 'fs', 'childProcess', 'addons', 'workers', 'mode']);
  assert.deepEqual(POLICY_KEYS.net, ['connect', 'listen', 'unix', 'dns']);
  assert.deepEqual(POLICY_KEYS.fs, ['read', 'write']);
});

test('defaults are filled field by field', () => {
  const cases = [
    [{ net: true }, { net: { connect: true, listen: true, unix: true, dns: true } }],
    [{ net: false }, {}],
    [{ net: {} }, {}],
    [{ net: { connect: true } }, { net: { connect: true, listen: false, unix: false, dns: true } }],
    [{ net: { connect: true, dns: false } }, { net: { connect: true, listen: false, unix: false, dns: false } }],
    [{ net: { listen: true } }, { net: { connect: false, listen: true, unix: false, dns: false } }],
    [{ net: { unix: true } }, { net: { connect: false, listen: false, unix: true, dns: false } }],
    [{ net: { dns: true } }, { net: { connect: false, listen: false, unix: false, dns: true } }],
    [{ net: { connect: [] } }, {}],
    [{ net: { connect: [], listen: [], unix: [] } }, {}],
    [{ fs: true }, { fs: { read: true, write: true } }],
    [{ fs: false }, { fs: { read: [], write: false } }],
    [{ fs: {} }, {}],
    [{ fs: { read: false } }, { fs: { read: [], write: false } }],
    [{ fs: { write: true } }, { fs: { read: true, write: true } }],
    [{ fs: { write: [] } }, {}],
    [{ fs: { read: [] } }, { fs: { read: [], write: false } }],
    [{ childProcess: true }, { childProcess: true }],
    [{ childProcess: [] }, {}],
    [{ addons: true }, { addons: true }],
    [{ workers: false }, { workers: false }],
    [{ mode: 'audit' }, { mode: 'audit' }],
    [{ mode: 'enforce' }, {}],
  ];
  for (const [input, diff] of cases) {
    const want = { ...DEFAULTS, ...diff, net: { ...DEFAULTS.net, ...(diff.net || {}) }, fs: { ...DEFAULTS.fs, ...(diff.fs || {}) } };
    assert.deepEqual(normalizePolicy(input, CTX), want, JSON.stringify(input));
  }
});

test('dns defaults to true exactly when connect names a host name', () => {
  const dns = (connect, extra = {}) => normalizePolicy({ net: { connect, ...extra } }, CTX).net.dns;
  assert.equal(dns(['example.com']), true);
  assert.equal(dns(['*.example.com:443']), true);
  assert.equal(dns(['db.internal', '10.0.0.1']), true);
  assert.equal(dns(['10.0.0.0/8']), false);
  assert.equal(dns(['127.0.0.1:6379']), false);
  assert.equal(dns(['[::1]:5432']), false);
  assert.equal(dns([':443']), false);
  assert.equal(dns(['localhost']), false);
  assert.equal(dns(['example.com'], { dns: false }), false);
  assert.equal(dns(['10.0.0.1'], { dns: true }), true);
  assert.equal(normalizePolicy({ net: { listen: ['example.com:80'] } }, CTX).net.dns, false);
});

// Every grammar form of SPEC §2, and the rule it becomes.
const GRAMMAR = [
  ['localhost', { kind: 'localhost', value: 'localhost' }],
  ['localhost:3000', { kind: 'localhost', value: 'localhost', port: 3000 }],
  ['LocalHost', { kind: 'localhost', value: 'localhost' }],
  ['db.internal', { kind: 'host', value: 'db.internal' }],
  ['DB.Internal.', { kind: 'host', value: 'db.internal' }],
  ['*.example.com', { kind: 'wildcard', value: 'example.com' }],
  ['*.a.b', { kind: 'wildcard', value: 'a.b' }],
  ['*.example.com:8443', { kind: 'wildcard', value: 'example.com', port: 8443 }],
  ['example.com:443', { kind: 'host', value: 'example.com', port: 443 }],
  ['xn--bcher-kva.example', { kind: 'host', value: 'xn--bcher-kva.example' }],
  ['a-b.c-d.example:1', { kind: 'host', value: 'a-b.c-d.example', port: 1 }],
  [long(63) + '.com', { kind: 'host', value: long(63) + '.com' }],
  ['10.0.0.0/8', { kind: 'cidr', value: '10.0.0.0', family: 4, prefix: 8 }],
  ['10.1.2.3/8', { kind: 'cidr', value: '10.0.0.0', family: 4, prefix: 8 }],
  ['0.0.0.0/0', { kind: 'cidr', value: '0.0.0.0', family: 4, prefix: 0 }],
  ['192.168.1.7/32:22', { kind: 'cidr', value: '192.168.1.7', family: 4, prefix: 32, port: 22 }],
  ['fd00::/8', { kind: 'cidr', value: 'fd00::', family: 6, prefix: 8 }],
  ['[fd00::1/64]:80', { kind: 'cidr', value: 'fd00::', family: 6, prefix: 64, port: 80 }],
  ['::/0', { kind: 'cidr', value: '::', family: 6, prefix: 0 }],
  ['::ffff:10.0.0.0/104', { kind: 'cidr', value: '10.0.0.0', family: 4, prefix: 8 }],
  ['::10.0.0.0/120', { kind: 'cidr', value: '::a00:0', family: 6, prefix: 120 }],
  ['[::1]:5432', { kind: 'ip', value: '::1', family: 6, port: 5432 }],
  ['[::1]', { kind: 'ip', value: '::1', family: 6 }],
  ['::1', { kind: 'ip', value: '::1', family: 6 }],
  ['0:0:0:0:0:0:0:1', { kind: 'ip', value: '::1', family: 6 }],
  ['[2001:DB8::0001]:443', { kind: 'ip', value: '2001:db8::1', family: 6, port: 443 }],
  ['::1:80', { kind: 'ip', value: '::1:80', family: 6 }], // bare IPv6 takes no port
  ['[::]:443', { kind: 'ip', value: '::', family: 6, port: 443 }],
  ['127.0.0.1:6379', { kind: 'ip', value: '127.0.0.1', family: 4, port: 6379 }],
  ['0.0.0.0:443', { kind: 'ip', value: '0.0.0.0', family: 4, port: 443 }],
  [':8080', { kind: 'any', port: 8080 }],
  [':0', { kind: 'any', port: 0 }],
  [':65535', { kind: 'any', port: 65535 }],
  ['example.com:00080', { kind: 'host', value: 'example.com', port: 80 }],
  // inet_aton spellings and IPv4-mapped IPv6 become canonical IPv4
  ['0x7f.1', { kind: 'ip', value: '127.0.0.1', family: 4 }],
  ['0x7F.0.0.1:80', { kind: 'ip', value: '127.0.0.1', family: 4, port: 80 }],
  ['0177.0.0.1', { kind: 'ip', value: '127.0.0.1', family: 4 }],
  ['127.1', { kind: 'ip', value: '127.0.0.1', family: 4 }],
  ['127.0.1', { kind: 'ip', value: '127.0.0.1', family: 4 }],
  ['1.2.3', { kind: 'ip', value: '1.2.0.3', family: 4 }],
  ['10.0.0.010', { kind: 'ip', value: '10.0.0.8', family: 4 }],
  ['::ffff:127.0.0.2', { kind: 'ip', value: '127.0.0.2', family: 4 }],
  ['[::ffff:7f00:2]:22', { kind: 'ip', value: '127.0.0.2', family: 4, port: 22 }],
  // ::a.b.c.d is IPv4-*compatible* IPv6 (inet_pton: ::7f00:1), not the IPv4 host
  ['::127.0.0.1', { kind: 'ip', value: '::7f00:1', family: 6 }],
];

test('every grammar form is accepted in connect and listen and parsed to its rule', () => {
  for (const [entry, want] of GRAMMAR) {
    for (const key of ['connect', 'listen']) {
      const p = normalizePolicy({ net: { [key]: [entry] } }, CTX);
      assert.ok(Array.isArray(p.net[key]) && p.net[key].length === 1, `${key} ${entry}`);
      assert.deepEqual(defined(p.net[key][0]), { ...want, source: entry }, `${key} ${entry}`);
    }
  }
});

test('network lists are deduplicated by canonical form and sorted', () => {
  const p = normalizePolicy({ net: { connect: ['b.example', '127.1:80', 'a.example', '127.0.0.1:80', '0x7f.1:80', 'B.EXAMPLE'] } }, CTX);
  assert.deepEqual(p.net.connect.map((r) => [r.kind, r.value, r.port]), [
    ['ip', '127.0.0.1', 80], ['host', 'a.example', undefined], ['host', 'b.example', undefined],
  ]);
});

test('paths: relative against $CWD, variables expanded, normalized, minimal', () => {
  const read = (list, ctx = CTX) => normalizePolicy({ fs: { read: list } }, ctx).fs.read;
  const table = [
    [['rel/x'], ['/home/u/app/rel/x']],
    [['.'], ['/home/u/app']],
    [['./a/../b/'], ['/home/u/app/b']],
    [['..'], ['/home/u']],
    [['$CWD'], ['/home/u/app']],
    [['$CWD/../z'], ['/home/u/z']],
    [['$HOME/.cache'], ['/home/u/.cache']],
    [['${HOME}/.npm'], ['/home/u/.npm']],
    [['$TMPDIR'], ['/tmp']],
    [['${TMPDIR}/y'], ['/tmp/y']],
    [['$NODE/lib'], ['/usr/local/lib']],
    [['$APP/node_modules'], ['/srv/app/node_modules']],
    [['/a/./b/'], ['/a/b']],
    [['//c//d'], ['/c/d']],
    [['/'], ['/']],
    [['/a/../../..'], ['/']],
    [['/etc', '/etc/ssl', '/etcetera'], ['/etc', '/etcetera']],
    [['/x', '/', '/y'], ['/']],
    [['/b', '/a', '/b'], ['/a', '/b']],
    [['/dir with space/file'], ['/dir with space/file']],
    [['/a$'], null], // '$' anywhere but a leading variable is refused
  ];
  for (const [input, want] of table) {
    if (want === null) {
      assert.equal(policyErrorOf(() => read(input)).code, 'ERR_BLACKBOX_POLICY');
      continue;
    }
    assert.deepEqual(read(input), want, JSON.stringify(input));
  }
  assert.deepEqual(read(['$HOME'], { ...CTX, HOME: '/' }), ['/']);
  assert.deepEqual(read(['$CWD/x'], { ...CTX, CWD: '/' }), ['/x']);
  const w = normalizePolicy({ fs: { write: ['tmp/', '$TMPDIR/a', '/tmp'] }, childProcess: ['bin/tool', '/usr/bin/git', '/usr/bin/git'], net: { unix: ['$HOME/run/s.sock', 'rel.sock'] } }, CTX);
  assert.deepEqual(w.fs.write, ['/home/u/app/tmp', '/tmp']);
  // executables are exact: no subtree minimisation, only dedup
  assert.deepEqual(w.childProcess, ['/home/u/app/bin/tool', '/usr/bin/git']);
  assert.deepEqual(w.net.unix, ['/home/u/app/rel.sock', '/home/u/run/s.sock']);
});

test('expandPath, isBeneath, minimalPaths', () => {
  assert.equal(expandPath('$HOME/a', 'f', CTX), '/home/u/a');
  assertPolicyError(policyErrorOf(() => expandPath(5, 'x.y[0]', CTX)), 'x.y[0]', 'non-string');
  assertPolicyError(policyErrorOf(() => expandPath('', 'f', CTX)), 'f', 'empty');
  const beneath = [
    ['/a', '/a', true], ['/a/b', '/a', true], ['/a/b/c', '/a', true], ['/ab', '/a', false], ['/a', '/a/b', false],
    ['/', '/', true], ['/x', '/', true], ['/a', '/b', false], ['/a/', '/a', true],
  ];
  for (const [p, dir, want] of beneath) assert.equal(isBeneath(p, dir), want, `${p} beneath ${dir}`);
  assert.deepEqual(minimalPaths([]), []);
  assert.deepEqual(minimalPaths(['/a/b', '/a', '/ab', '/a/b/c']), ['/a', '/ab']);
  // Characters that sort before "/" ('-', '.', ' ') between a directory and its
  // descendants: the tree-order scan must still see /a covers /a/c.
  assert.deepEqual(minimalPaths(['/a/c', '/a-b', '/a', '/a.b/c', '/a b', '/a-b/x', '/a/c/d']), ['/a', '/a b', '/a-b', '/a.b/c']);
  assert.deepEqual(minimalPaths(['/x', '/', '/a/b']), ['/']);
  assert.deepEqual(minimalPaths(['/a', '/a', '/b/c', '/b/c']), ['/a', '/b/c']);
});

test('minimalPaths agrees with the pairwise definition on random path sets', () => {
  const { mulberry32 } = require('../helpers/random');
  const rnd = mulberry32(0x5eed);
  const SEG = ['a', 'b', 'a-b', 'a.b', 'a b', 'ab', 'b0', '~', 'ü', '-'];
  const pick = () => SEG[Math.floor(rnd() * SEG.length)];
  const pairwise = (l) => { const u = [...new Set(l)].sort(); return u.filter((p) => !u.some((q) => q !== p && isBeneath(p, q))); };
  for (let round = 0; round < 400; round++) {
    const list = Array.from({ length: Math.floor(rnd() * 12) }, () => (rnd() < 0.03 ? '/' : '/' + Array.from({ length: 1 + Math.floor(rnd() * 3) }, pick).join('/')));
    assert.deepEqual(minimalPaths(list), pairwise(list), JSON.stringify(list));
  }
});

test('minimalPaths is near-linear: 4096 paths sharing a 4000-character prefix, and 2048 nested ones', () => {
  // Pairwise, the first took ~35 s. Bounds ~20x above an idle machine's time.
  const wide = Array.from({ length: 4096 }, (_, i) => `/${'x'.repeat(4000)}/${i}`);
  const deep = Array.from({ length: 2048 }, (_, i) => '/a'.repeat(i + 1));
  let t0 = performance.now();
  assert.equal(minimalPaths(wide).length, 4096);
  const wideMs = performance.now() - t0;
  t0 = performance.now();
  assert.deepEqual(minimalPaths(deep), ['/a']);
  const deepMs = performance.now() - t0;
  assert.ok(wideMs < 2000 && deepMs < 2000, `wide ${wideMs.toFixed(0)} ms, deep ${deepMs.toFixed(0)} ms`);
});

test('exotic objects: throwing traps, revoked Proxies, keys without properties and getters are refused naming the field; nothing is read twice', () => {
  const boom = () => { throw new Error('trap'); };
  const revoked = (target) => { const r = Proxy.revocable(target, {}); r.revoke(); return r.proxy; };
  const cases = [
    ['ownKeys throws', new Proxy({ net: false }, { ownKeys: boom }), ''],
    ['getPrototypeOf throws', new Proxy({}, { getPrototypeOf: boom }), ''],
    ['getOwnPropertyDescriptor throws', new Proxy({ net: false }, { getOwnPropertyDescriptor: boom }), 'net'],
    ['throws a revoked Proxy', new Proxy({ net: false }, { ownKeys() { throw revoked({}); } }), ''],
    ['throws an Error whose message getter throws', new Proxy({ net: false }, { ownKeys() { const e = new Error(); Object.defineProperty(e, 'message', { get: boom }); throw e; } }), ''],
    ['revoked policy', revoked({}), ''],
    ['revoked net', { net: revoked({}) }, 'net'],
    ['revoked fs.write', { fs: { write: revoked([]) } }, 'fs.write'],
    ['revoked childProcess', { childProcess: revoked([]) }, 'childProcess'],
    ['revoked addons', { addons: revoked({}) }, 'addons'],
    ['revoked mode', { mode: revoked({}) }, 'mode'],
    ['ownKeys lists a key with no property', new Proxy({ net: false }, { ownKeys: () => ['net', 'fs'] }), 'fs'],
    ['ownKeys lists an unknown key with no property', new Proxy({}, { ownKeys: () => ['bogus'] }), 'bogus'],
    ['array index descriptor throws', { net: { connect: new Proxy(['localhost'], { getOwnPropertyDescriptor: (t, k) => (k === '0' ? boom() : Reflect.getOwnPropertyDescriptor(t, k)) }) } }, 'net.connect[0]'],
    ['a getter that throws', Object.defineProperty({}, 'net', { get: boom, enumerable: true }), 'net'],
    ['a getter on an unknown key', Object.defineProperty({}, 'bogus', { get: boom, enumerable: true }), 'bogus'],
  ];
  for (const [label, policy, field] of cases) {
    assertPolicyError(policyErrorOf(() => validatePolicy(policy)), field, `validate: ${label}`);
    assertPolicyError(policyErrorOf(() => normalizePolicy(policy, CTX)), field, `normalize: ${label}`);
  }

  // A get trap that throws is never reached: properties are read by descriptor.
  const noGet = new Proxy({ net: { connect: ['localhost:80'] }, fs: { write: ['/tmp'] } }, { get: boom });
  assert.deepEqual(validatePolicy(noGet), { net: { connect: ['localhost:80'] }, fs: { write: ['/tmp'] } });

  // Each property is read once; a Proxy that answers differently the second
  // time cannot make normalize see another value than validate checked.
  const reads = new Map();
  const count = (tag) => (t, k) => {
    const key = `${tag}.${String(k)}`;
    reads.set(key, (reads.get(key) ?? 0) + 1);
    if (reads.get(key) > 1 && k === '0') return { value: '/', writable: true, enumerable: true, configurable: true };
    if (reads.get(key) > 1 && k === 'addons') return { value: true, writable: true, enumerable: true, configurable: true };
    return Reflect.getOwnPropertyDescriptor(t, k);
  };
  const fickle = new Proxy({ addons: false, fs: { write: new Proxy(['/tmp/a'], { getOwnPropertyDescriptor: count('write') }) } }, { getOwnPropertyDescriptor: count('policy') });
  const n = normalizePolicy(fickle, CTX);
  assert.equal(n.addons, false);
  assert.deepEqual(n.fs.write, ['/tmp/a']);
  for (const [k, c] of reads) assert.equal(c, 1, `${k} read ${c} times`);
  assert.ok(reads.has('policy.addons') && reads.has('write.0') && reads.has('write.length'), [...reads.keys()].join(' '));

  // A getter is refused without being called.
  let called = 0;
  const withGetter = { fs: Object.defineProperty({}, 'write', { get() { called++; return ['/tmp']; }, enumerable: true }) };
  assertPolicyError(policyErrorOf(() => normalizePolicy(withGetter, CTX)), 'fs.write', 'getter');
  assert.equal(called, 0, 'the getter was not called');
});

test('childProcess entries name files: "." and ".." on the way are normalized away, not at the end', () => {
  const n = normalizePolicy({ childProcess: ['/usr/bin/../bin/git', '$NODE/bin/node', './bin/../tool'] }, CTX);
  assert.deepEqual(n.childProcess, ['/home/u/app/tool', '/usr/bin/git', '/usr/local/bin/node']);
});

test('validatePolicy returns a snapshot of the data it checked', () => {
  // A Proxy whose get trap disagrees with its property descriptors: what is
  // enforced must be what was validated.
  const lying = new Proxy({ addons: false, net: false }, {
    get(t, k) { return k === 'addons' ? 'yes' : k === 'net' ? true : t[k]; },
  });
  const n = normalizePolicy(lying, CTX);
  assert.equal(n.addons, false);
  assert.equal(n.net.connect, false);
  const input = { fs: { write: ['/tmp'] }, net: { connect: ['localhost'] } };
  const v = validatePolicy(input);
  assert.deepEqual(v, input);
  assert.notEqual(v.fs.write, input.fs.write);
  input.fs.write.push('/'); // later mutation of the caller's object does not reach the snapshot
  assert.deepEqual(v.fs.write, ['/tmp']);
  // an array Proxy whose get trap disagrees with its descriptors
  const arr = new Proxy(['/tmp/a'], { get(t, k) { return k === '0' ? '/' : t[k]; } });
  assert.deepEqual(normalizePolicy({ fs: { write: arr } }, CTX).fs.write, ['/tmp/a']);
});

test('JSON round trip: a policy file parses to the same normalized policy', () => {
  const p = { net: { connect: ['*.example.com:443', '[::1]:5432'], listen: [':8080'], dns: true }, fs: { read: ['$APP', '/etc/ssl'], write: ['$TMPDIR'] }, childProcess: ['/usr/bin/git'], addons: false, workers: false, mode: 'audit' };
  assert.deepEqual(normalizePolicy(JSON.parse(JSON.stringify(p)), CTX), normalizePolicy(p, CTX));
});

// ---------------------------------------------------------------------------
// Deterministic fuzz: accepted, or rejected with ERR_BLACKBOX_POLICY; never anything else.
// ---------------------------------------------------------------------------

const { mulberry32 } = require('../helpers/random');

const GOOD_NET = GRAMMAR.map(([e]) => e);
const PATHS = ['/tmp', '$HOME/x', '${TMPDIR}', 'rel', '.', '..', '/', '$CWD/a/../b', '$APP', '$NODE/bin/node', '/usr/bin/git', '/a//b/'];
const NASTY_STRINGS = ['', '\0', 'a\0', '~', '$', '$X', '${', '${}', '*', '[', ']', ':', '::', '/', '//', '..', ' ', '\u2028', '\ud800', 'İ', 'ǅ', '%', '0x', '1e3', '-1', 'NaN', 'null', 'true', '__proto__', 'constructor', long(300), '/' + long(5000)];
const KEYS = ['net', 'fs', 'childProcess', 'addons', 'workers', 'mode', 'connect', 'listen', 'unix', 'dns', 'read', 'write', '__proto__', 'constructor', 'Net', ''];

function fuzzPolicy(rnd) {
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const chance = (p) => rnd() < p;
  const mutateString = (s) => {
    const ops = [
      () => s,
      () => s + pick(NASTY_STRINGS),
      () => pick(NASTY_STRINGS) + s,
      () => s.slice(0, Math.floor(rnd() * (s.length + 1))),
      () => { const i = Math.floor(rnd() * (s.length + 1)); return s.slice(0, i) + String.fromCharCode(Math.floor(rnd() * 128)) + s.slice(i); },
      () => s.toUpperCase(),
      () => s.split('').reverse().join(''),
      () => s.replace(/[0-9]/g, () => String(Math.floor(rnd() * 1000))),
      () => s.replace(/\./g, pick(['..', ':', '', '. ', '.*.'])),
    ];
    return pick(ops)();
  };
  const atom = () => pick([
    () => true, () => false, () => null, () => undefined, () => 0, () => 1, () => -1, () => NaN, () => 1n,
    () => pick(NASTY_STRINGS), () => 'enforce', () => 'audit', () => [], () => ({}), () => [pick(NASTY_STRINGS)],
    () => Symbol('s'), () => () => 1, () => new Date(0), () => new (class X {})(), () => Object.create(null),
    () => new Array(2), () => [1, 'a'], () => new String('x'), () => new Proxy({}, {}),
  ])();
  const list = (pool) => {
    if (chance(0.15)) return pick([true, false]);
    if (chance(0.1)) return atom();
    const n = Math.floor(rnd() * 5);
    const out = [];
    for (let i = 0; i < n; i++) out.push(chance(0.7) ? mutateString(pick(pool)) : chance(0.5) ? pick(pool) : atom());
    return out;
  };
  const obj = (shape) => {
    const o = {};
    for (const [k, gen] of Object.entries(shape)) if (chance(0.6)) o[k] = gen();
    if (chance(0.08)) o[pick(KEYS)] = atom();
    if (chance(0.03)) Object.defineProperty(o, pick(Object.keys(shape)), { get: () => true, enumerable: true });
    return o;
  };
  const net = () => (chance(0.2) ? atom() : obj({
    connect: () => list(GOOD_NET), listen: () => list(GOOD_NET), unix: () => list(PATHS), dns: () => (chance(0.8) ? pick([true, false]) : atom()),
  }));
  const fs = () => (chance(0.2) ? atom() : obj({ read: () => list(PATHS), write: () => list(PATHS) }));
  if (chance(0.03)) return atom();
  return obj({
    net, fs, childProcess: () => list(PATHS),
    addons: () => (chance(0.8) ? pick([true, false]) : atom()),
    workers: () => (chance(0.8) ? pick([true, false]) : atom()),
    mode: () => (chance(0.8) ? pick(['enforce', 'audit']) : chance(0.5) ? mutateString('audit') : atom()),
  });
}

function assertNormalizedShape(n, label) {
  const grant = (g, item) => g === true || g === false || (Array.isArray(g) && g.length > 0 && g.every(item));
  const absPath = (p) => typeof p === 'string' && p.startsWith('/') && !p.includes('\0') && (p === '/' || !p.endsWith('/')) && !/(^|\/)\.\.?(\/|$)/.test(p);
  const rule = (r) => ['any', 'ip', 'cidr', 'host', 'wildcard', 'localhost'].includes(r.kind) && (r.port === undefined || (Number.isInteger(r.port) && r.port >= 0 && r.port <= 65535));
  assert.ok(grant(n.net.connect, rule), `${label}: connect`);
  assert.ok(grant(n.net.listen, rule), `${label}: listen`);
  assert.ok(grant(n.net.unix, absPath), `${label}: unix`);
  assert.equal(typeof n.net.dns, 'boolean', `${label}: dns`);
  assert.ok(n.fs.read === true || (Array.isArray(n.fs.read) && n.fs.read.every(absPath)), `${label}: fs.read`);
  assert.ok(grant(n.fs.write, absPath), `${label}: fs.write`);
  assert.ok(grant(n.childProcess, absPath), `${label}: childProcess`);
  assert.equal(typeof n.addons, 'boolean', `${label}: addons`);
  assert.equal(typeof n.workers, 'boolean', `${label}: workers`);
  assert.ok(n.mode === 'enforce' || n.mode === 'audit', `${label}: mode`);
}

test('fuzz: 2,000 random and mutated policies are accepted or refused with ERR_BLACKBOX_POLICY, never anything else', () => {
  const rnd = mulberry32(0xb1ac4b0c);
  let accepted = 0;
  let refused = 0;
  const target = (arch, abi) => ({ platform: 'linux', arch, landlockAbi: abi, landlockErrata: 7, kernel: true, defaults: [] });
  for (let i = 0; i < 2000; i++) {
    const p = fuzzPolicy(rnd);
    let n;
    try {
      n = normalizePolicy(p, CTX);
    } catch (e) {
      assert.ok(e instanceof TypeError && e.code === 'ERR_BLACKBOX_POLICY' && typeof e.field === 'string',
        `case ${i}: unexpected ${e && e.constructor && e.constructor.name}: ${e && e.stack}`);
      assert.ok(e.message.includes(e.field === '' ? 'policy' : e.field), `case ${i}: message names the field`);
      refused++;
      continue;
    }
    accepted++;
    assertNormalizedShape(n, `case ${i}`);
    // normalizing is idempotent on the same input, and the plan compiles to a loadable program
    assert.deepEqual(normalizePolicy(p, CTX), n, `case ${i}: stable`);
    if (i % 4 === 0) {
      for (const arch of ['x86_64', 'aarch64']) {
        const plan = compile(n, target(arch, i % 8));
        check(plan.seccomp.insns);
      }
    }
  }
  // The generator must exercise both sides.
  assert.ok(accepted > 300, `accepted ${accepted}`);
  assert.ok(refused > 300, `refused ${refused}`);
});
