'use strict';
// Intersection of normalized policies (a later lockdown may only narrow) and
// widenings (what a requested policy asks beyond the one in force).
const test = require('node:test');
const assert = require('node:assert/strict');

const { normalizePolicy, intersect, widenings } = require('../../dist/policy');
const { ruleMatches, formatRule } = require('../../dist/policy/netrules');
const { isBeneath } = require('../../dist/policy/paths');

const CTX = { CWD: '/w', HOME: '/home/u', TMPDIR: '/tmp', NODE: '/usr/local', APP: '/w' };
const N = (p) => normalizePolicy(p, CTX);
const rules = (g) => (Array.isArray(g) ? g.map(formatRule) : g);

// ---------------------------------------------------------------------------
// Field tables: [a, b, expected value of the field in intersect(a, b)]
// ---------------------------------------------------------------------------

const NET_CONNECT = [
  [true, true, true],
  [true, false, false],
  [false, true, false],
  [true, ['example.com'], ['example.com']],
  [['example.com'], true, ['example.com']],
  [['example.com'], false, false],
  [['example.com'], ['example.com'], ['example.com']],
  [['example.com'], ['example.org'], false],
  [['*.example.com'], ['api.example.com'], ['api.example.com']],
  [['api.example.com'], ['*.example.com'], ['api.example.com']],
  [['*.example.com'], ['example.com'], false], // the wildcard does not include its base
  [['*.example.com'], ['*.a.example.com'], ['*.a.example.com']],
  [['example.com'], ['example.com:443'], ['example.com:443']],
  [['example.com:443'], ['example.com:80'], false],
  [[':443'], ['example.com:443', '10.0.0.1:443'], ['10.0.0.1:443', 'example.com:443']],
  [[':443'], ['example.com'], false], // overlap without cover: dropped (errs towards denying)
  [['10.0.0.0/8'], ['10.1.0.0/16'], ['10.1.0.0/16']],
  [['10.0.0.0/8'], ['10.1.2.3:5432'], ['10.1.2.3:5432']],
  [['10.0.0.0/8'], ['11.0.0.0/8'], false],
  [['10.0.0.0/8'], ['0.0.0.0/0'], ['10.0.0.0/8']],
  [['localhost'], ['127.0.0.1:6379', '::1', '10.0.0.1'], ['127.0.0.1:6379', '::1']],
  [['127.0.0.0/8'], ['localhost'], ['127.0.0.0/8']], // localhost includes 127/8; the name itself is dropped
  [['localhost', '*.example.com'], ['a.example.com', 'localhost:3000'], ['a.example.com', 'localhost:3000']],
  // the survivor set is minimal: an entry covered by another survivor is dropped
  [['*.example.com', 'a.example.com'], ['*.example.com'], ['*.example.com']],
  [['10.0.0.0/8', '10.1.0.0/16'], ['10.0.0.0/8', '10.1.2.3'], ['10.0.0.0/8']],
];

test('intersect: net.connect table', () => {
  for (const [a, b, want] of NET_CONNECT) {
    const got = intersect(N({ net: { connect: a } }), N({ net: { connect: b } })).net.connect;
    assert.deepEqual(rules(got), want, `${JSON.stringify(a)} ∩ ${JSON.stringify(b)}`);
    // commutative on the set of rules
    const rev = intersect(N({ net: { connect: b } }), N({ net: { connect: a } })).net.connect;
    assert.deepEqual(rules(rev), want, `${JSON.stringify(b)} ∩ ${JSON.stringify(a)}`);
  }
});

test('intersect: net.listen, net.unix, net.dns', () => {
  const t = (a, b) => intersect(N({ net: a }), N({ net: b })).net;
  assert.deepEqual(rules(t({ listen: [':8080', 'localhost:3000'] }, { listen: ['127.0.0.1:3000', ':9090'] }).listen), ['127.0.0.1:3000']);
  assert.deepEqual(rules(t({ listen: true }, { listen: [':0'] }).listen), [':0']);
  assert.equal(t({ listen: [':0'] }, { listen: [':1'] }).listen, false);
  assert.deepEqual(t({ unix: ['/run'] }, { unix: ['/run/a.sock', '/var/b.sock'] }).unix, ['/run/a.sock']);
  assert.deepEqual(t({ unix: true }, { unix: ['/x.sock'] }).unix, ['/x.sock']);
  assert.equal(t({ unix: ['/a'] }, { unix: ['/b'] }).unix, false);
  assert.equal(t({ dns: true }, { dns: false }).dns, false);
  assert.equal(t({ dns: true }, { dns: true }).dns, true);
  assert.equal(intersect(N({ net: true }), N({})).net.dns, false);
  assert.deepEqual(intersect(N({ net: true }), N({ net: false })).net, { connect: false, listen: false, unix: false, dns: false });
  assert.deepEqual(intersect(N({ net: true }), N({ net: true })).net, { connect: true, listen: true, unix: true, dns: true });
});

const PATHS = [
  [true, true, true],
  [true, false, false],
  [true, ['/tmp'], ['/tmp']],
  [['/tmp'], true, ['/tmp']],
  [['/tmp'], false, false],
  [['/tmp'], ['/tmp/a'], ['/tmp/a']],
  [['/tmp/a'], ['/tmp'], ['/tmp/a']],
  [['/tmp'], ['/tmpx'], false],
  [['/'], ['/a', '/b/c'], ['/a', '/b/c']],
  [['/a', '/b'], ['/b/c', '/a/d', '/z'], ['/a/d', '/b/c']],
  [['/a'], ['/a'], ['/a']],
];

test('intersect: fs.write path subtrees', () => {
  for (const [a, b, want] of PATHS) {
    assert.deepEqual(intersect(N({ fs: { write: a } }), N({ fs: { write: b } })).fs.write, want, `${JSON.stringify(a)} ∩ ${JSON.stringify(b)}`);
  }
});

test('intersect: fs.read subtrees; nothing left is [] (defaults only), never false', () => {
  const r = (a, b) => intersect(N({ fs: { read: a } }), N({ fs: { read: b } })).fs.read;
  for (const [a, b, want] of PATHS) assert.deepEqual(r(a, b), want === false ? [] : want, `${JSON.stringify(a)} ∩ ${JSON.stringify(b)}`);
  assert.deepEqual(r([], true), []);
  assert.deepEqual(r(['/etc'], []), []);
  assert.deepEqual(intersect(N({ fs: false }), N({ fs: true })).fs, { read: [], write: false });
});

test('intersect: childProcess lists are exact executables, not subtrees', () => {
  const c = (a, b) => intersect(N({ childProcess: a }), N({ childProcess: b })).childProcess;
  assert.equal(c(true, true), true);
  assert.equal(c(true, false), false);
  assert.deepEqual(c(true, ['/usr/bin/git']), ['/usr/bin/git']);
  assert.deepEqual(c(['/usr/bin/git', '/bin/ls'], ['/bin/ls', '/bin/sh']), ['/bin/ls']);
  assert.equal(c(['/usr/bin'], ['/usr/bin/git']), false);
  assert.equal(c(['/usr/bin/git'], ['/usr/bin/gitk']), false);
});

test('intersect: booleans and mode', () => {
  const B = [[true, true, true], [true, false, false], [false, true, false], [false, false, false]];
  for (const [a, b, want] of B) {
    assert.equal(intersect(N({ addons: a }), N({ addons: b })).addons, want);
    assert.equal(intersect(N({ workers: a }), N({ workers: b })).workers, want);
  }
  const M = [['enforce', 'enforce', 'enforce'], ['enforce', 'audit', 'enforce'], ['audit', 'enforce', 'enforce'], ['audit', 'audit', 'audit']];
  for (const [a, b, want] of M) assert.equal(intersect(N({ mode: a }), N({ mode: b })).mode, want, `${a} ∩ ${b}`);
});

test('intersect with itself, with everything and with nothing', () => {
  const all = N({ net: true, fs: true, childProcess: true, addons: true, workers: true, mode: 'audit' });
  const none = N({ net: false, fs: false, childProcess: false, addons: false, workers: false });
  const samples = [
    N({}),
    N({ net: { connect: ['*.example.com:443', '10.0.0.0/8'], listen: [':8080'], unix: ['/run/x.sock'] }, fs: { read: ['/etc', '/w'], write: ['/tmp'] }, childProcess: ['/usr/bin/git'] }),
    all,
    none,
  ];
  for (const p of samples) {
    assert.deepEqual(intersect(p, p), p);
    assert.deepEqual(intersect(p, all), { ...p, mode: p.mode });
    assert.deepEqual(intersect(all, p), p);
    assert.deepEqual(intersect(p, none), { ...none, mode: 'enforce' });
  }
});

// ---------------------------------------------------------------------------
// widenings
// ---------------------------------------------------------------------------

const WIDEN = [
  // [current, requested, [field, value] of each widening]. A widening names the
  // list and the entry as the caller wrote it: indices of a normalized list
  // (deduplicated, sorted) are not the caller's.
  [{}, {}, []],
  [{}, { net: true }, [['net.connect', true], ['net.listen', true], ['net.unix', true], ['net.dns', true]]],
  [{ net: true }, {}, []],
  [{ net: true }, { net: { connect: ['example.com'] } }, []],
  [{ net: { connect: ['example.com'] } }, { net: { connect: true } }, [['net.connect', true]]],
  [{ net: { connect: ['*.example.com'] } }, { net: { connect: ['a.example.com', 'Example.com', 'b.example.com:443'] } }, [['net.connect', 'Example.com']]],
  [{ net: { connect: ['10.0.0.0/8'] } }, { net: { connect: ['10.1.2.3:80', '0xb.1'], dns: false } }, [['net.connect', '0xb.1']]],
  [{ net: { connect: ['localhost'] } }, { net: { connect: ['127.0.0.5', '::1', '::2'] } }, [['net.connect', '::2']]],
  [{ net: { connect: ['example.com:443'] } }, { net: { connect: ['example.com'] } }, [['net.connect', 'example.com']]],
  [{ net: { connect: ['example.com'], dns: false } }, { net: { connect: ['example.com'] } }, [['net.dns', true]]],
  [{ net: false }, { net: { connect: ['a.example', 'b.example'], dns: false } }, [['net.connect', 'a.example'], ['net.connect', 'b.example']]],
  [{ net: { listen: [':8080'] } }, { net: { listen: ['localhost:8080', ':9090'] } }, [['net.listen', ':9090']]],
  [{ net: { unix: ['/run'] } }, { net: { unix: ['/run/a.sock', '/var/b.sock'] } }, [['net.unix', '/var/b.sock']]],
  [{ fs: { read: ['/etc'] } }, { fs: { read: true } }, [['fs.read', true]]],
  [{ fs: { read: ['/etc'] } }, { fs: { read: ['/etc/ssl', '/home'] } }, [['fs.read', '/home']]],
  [{ fs: { read: [] } }, { fs: { read: [] } }, []],
  [{ fs: { read: [] } }, { fs: { read: ['x'] } }, [['fs.read', '/w/x']]],
  [{ fs: false }, { fs: { read: [] } }, []],
  [{ fs: { write: ['/tmp'] } }, { fs: { write: ['/tmp/a', '/tmpx'] } }, [['fs.write', '/tmpx']]],
  [{ fs: { write: ['/tmp'] } }, { fs: { write: true } }, [['fs.write', true]]],
  [{ fs: { write: false } }, { fs: { write: ['$TMPDIR'] } }, [['fs.write', '/tmp']]],
  [{ fs: true }, { fs: { write: ['/tmp'] } }, []],
  [{ childProcess: ['/bin/ls'] }, { childProcess: ['/bin/ls'] }, []],
  [{ childProcess: ['/bin'] }, { childProcess: ['/bin/ls'] }, [['childProcess', '/bin/ls']]],
  [{ childProcess: ['/bin/ls'] }, { childProcess: true }, [['childProcess', true]]],
  [{}, { addons: true }, [['addons', true]]],
  [{ addons: true }, { addons: false }, []],
  [{ workers: false }, { workers: true }, [['workers', true]]],
  [{}, { workers: true }, []],
  [{}, { mode: 'audit' }, [['mode', 'audit']]],
  [{ mode: 'audit' }, { mode: 'enforce' }, []],
  [{ mode: 'audit' }, { mode: 'audit' }, []],
];

test('widenings table', () => {
  for (const [cur, req, want] of WIDEN) {
    const w = widenings(N(cur), N(req));
    assert.deepEqual(w.map((x) => [x.field, x.value]), want, `${JSON.stringify(cur)} → ${JSON.stringify(req)}`);
  }
});

test('widenings(cur, req) is empty exactly when intersect(cur, req) equals req (a pure narrowing)', () => {
  const policies = [
    {}, { net: true }, { net: { connect: ['*.example.com:443'] } }, { net: { connect: ['a.example.com:443'], dns: true } },
    { net: { connect: ['10.0.0.0/8'] } }, { net: { connect: ['10.1.2.3:22'] } }, { net: { connect: ['localhost'] } }, { net: { connect: ['127.0.0.1:5432'] } },
    { net: { listen: [':8080'] } }, { fs: { read: ['/etc'] } }, { fs: { read: ['/etc/ssl'] } }, { fs: { read: [] } }, { fs: { write: ['/tmp'] } },
    { fs: { write: ['/tmp/a'] } }, { fs: true }, { childProcess: ['/bin/ls'] }, { childProcess: true }, { addons: true }, { workers: false }, { mode: 'audit' },
  ].map(N);
  for (const cur of policies) {
    for (const req of policies) {
      const none = widenings(cur, req).length === 0;
      assert.equal(none, JSON.stringify(intersect(cur, req)) === JSON.stringify(req), `${JSON.stringify(cur)} / ${JSON.stringify(req)}`);
    }
  }
});

// ---------------------------------------------------------------------------
// Soundness on sample resources: intersect(a, b) never allows what a or b denies.
// ---------------------------------------------------------------------------

function netAllows(grant, host, port) {
  if (grant === true) return true;
  if (grant === false) return false;
  return grant.some((r) => ruleMatches(r, host, port));
}
function pathAllows(grant, p) {
  if (grant === true) return true;
  if (grant === false) return false;
  return grant.some((d) => isBeneath(p, d));
}
function exeAllows(grant, p) {
  return grant === true || (Array.isArray(grant) && grant.includes(p));
}

const NET_ENTRIES = ['localhost', 'localhost:3000', '127.0.0.1', '127.0.0.1:6379', '127.0.0.0/8', '::1', '[::1]:5432', '10.0.0.0/8', '10.1.0.0/16:22',
  '10.1.2.3', '0.0.0.0/0', '::/0', 'fd00::/8', 'example.com', 'example.com:443', '*.example.com', '*.example.com:443', 'api.example.com', '*.api.example.com',
  ':443', ':3000', ':0', 'db.internal:5432'];
const HOSTS = ['localhost', '127.0.0.1', '127.0.0.9', '::1', '::ffff:127.0.0.1', '10.0.0.1', '10.1.2.3', '10.1.9.9', '11.1.1.1', 'fd00::5', '8.8.8.8',
  'example.com', 'api.example.com', 'x.api.example.com', 'www.example.com', 'example.org', 'db.internal'];
const PORTS = [0, 22, 443, 3000, 5432, 6379];
const FS_PATHS = ['/', '/tmp', '/tmp/a', '/tmp/a/b', '/tmpx', '/etc', '/etc/ssl/cert.pem', '/home/u', '/home/u/.ssh/id', '/w', '/w/src/x.js', '/usr/bin/git', '/bin/ls'];
const DIRS = ['/', '/tmp', '/tmp/a', '/etc', '/etc/ssl', '/home/u', '/w', '/w/src', '/usr', '/usr/bin/git', '/bin/ls', '/tmpx'];

const { mulberry32 } = require('../helpers/random');

function randomPolicy(rnd) {
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const some = (pool, max) => {
    const r = rnd();
    if (r < 0.15) return true;
    if (r < 0.3) return false;
    const n = 1 + Math.floor(rnd() * max);
    return Array.from({ length: n }, () => pick(pool));
  };
  const p = {
    net: { connect: some(NET_ENTRIES, 4), listen: some(NET_ENTRIES, 3), unix: some(DIRS, 2) },
    fs: { read: some(DIRS, 3), write: some(DIRS, 3) },
    childProcess: some(['/usr/bin/git', '/bin/ls', '/bin/sh', '/usr/bin'], 2),
    addons: rnd() < 0.5,
    workers: rnd() < 0.5,
    mode: rnd() < 0.3 ? 'audit' : 'enforce',
  };
  if (rnd() < 0.5) p.net.dns = rnd() < 0.5;
  return N(p);
}

test('intersect(a, b) never allows something that a or b denies (400 random pairs × sample resources)', () => {
  const rnd = mulberry32(20240607);
  let allowedSomewhere = 0;
  for (let i = 0; i < 400; i++) {
    const a = randomPolicy(rnd);
    const b = randomPolicy(rnd);
    const c = intersect(a, b);
    const label = () => `pair ${i}:\n a=${JSON.stringify(a)}\n b=${JSON.stringify(b)}\n c=${JSON.stringify(c)}`;
    for (const key of ['connect', 'listen']) {
      for (const h of HOSTS) for (const port of PORTS) {
        const inC = netAllows(c.net[key], h, port);
        if (inC) {
          allowedSomewhere++;
          assert.ok(netAllows(a.net[key], h, port) && netAllows(b.net[key], h, port), `${key} ${h}:${port} ${label()}`);
        }
      }
    }
    for (const p of FS_PATHS) {
      for (const [name, g] of [['fs.read', (x) => x.fs.read], ['fs.write', (x) => x.fs.write], ['net.unix', (x) => x.net.unix]]) {
        if (pathAllows(g(c), p)) assert.ok(pathAllows(g(a), p) && pathAllows(g(b), p), `${name} ${p} ${label()}`);
      }
      if (exeAllows(c.childProcess, p)) assert.ok(exeAllows(a.childProcess, p) && exeAllows(b.childProcess, p), `childProcess ${p} ${label()}`);
    }
    for (const k of ['addons', 'workers']) if (c[k]) assert.ok(a[k] && b[k], `${k} ${label()}`);
    if (c.net.dns) assert.ok(a.net.dns && b.net.dns, `dns ${label()}`);
    if (c.mode === 'audit') assert.ok(a.mode === 'audit' && b.mode === 'audit', `mode ${label()}`);
    // and the intersection is itself a narrowing of both
    assert.deepEqual(widenings(a, c), [], `c widens a: ${label()}`);
    assert.deepEqual(widenings(b, c), [], `c widens b: ${label()}`);
  }
  assert.ok(allowedSomewhere > 1000, `the samples exercise the allowed side (${allowedSomewhere})`);
});

// ---------------------------------------------------------------------------
// The indexed intersection gives exactly the pairwise one (the definition:
// an entry survives when the other side has an entry that covers it; then the
// survivors another survivor covers are dropped), and is near-linear.
// ---------------------------------------------------------------------------

const { ruleCovers } = require('../../dist/policy/netrules');

function pairwise(a, b, covers, key) {
  if (a === false || b === false) return false;
  if (a === true) return b;
  if (b === true) return a;
  const kept = new Map();
  for (const x of a) for (const y of b) {
    if (covers(x, y)) kept.set(key(y), y);
    else if (covers(y, x)) kept.set(key(x), x);
  }
  const list = [...kept.values()];
  // Of two entries that cover each other (1.2.3.4 and 1.2.3.4/32) the smaller key stays.
  const minimal = list.filter((x) => !list.some((y) => key(y) !== key(x) && covers(y, x) && (key(y) < key(x) || !covers(x, y))));
  minimal.sort((p, q) => (key(p) < key(q) ? -1 : key(p) > key(q) ? 1 : 0));
  return minimal.length === 0 ? false : minimal;
}

test('intersect: rules that cover each other both ways keep one of them (the grant is not lost)', () => {
  const i = intersect(N({ net: { connect: ['1.2.3.4', '1.2.3.4/32'] } }), N({ net: { connect: ['1.2.3.4', '1.2.3.4/32'] } }));
  assert.deepEqual(rules(i.net.connect), ['1.2.3.4']);
  assert.deepEqual(widenings(i, N({ net: { connect: ['1.2.3.4/32'] } })), []);
});

test('intersect and widenings agree with the pairwise definition on random rule and path lists', () => {
  const { mulberry32 } = require('../helpers/random');
  const rnd = mulberry32(0x1a77);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const port = () => pick(['', '', ':80', ':443']);
  const RULES = [
    () => `10.${pick([0, 1])}.${pick([0, 2])}.${pick([1, 3])}${port()}`,
    () => `10.${pick([0, 1])}.0.0/${pick([8, 15, 16, 24, 32])}${port()}`,
    () => `${pick(['0.0.0.0/0', '127.0.0.0/8', '127.0.0.1'])}${port()}`,
    () => `localhost${port()}`,
    () => pick(['::1', '[::1]:80', '2001:db8::/32', '[2001:db8::1/128]:443', '2001:db8::1', '[2001:db8::/48]:80', '::ffff:10.0.0.1']),
    () => `${pick(['', 'api.', 'x.api.'])}${pick(['example.com', 'example.org'])}${port()}`,
    () => `*.${pick(['example.com', 'api.example.com', 'com.example.com'])}${port()}`,
    () => pick([':80', ':443']),
  ];
  const SEG = ['a', 'b', 'a-b', 'a.b', 'ab'];
  const pathOf = () => '/' + Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(SEG)).join('/');
  const list = (f) => (rnd() < 0.1 ? pick([true, false]) : Array.from({ length: Math.floor(rnd() * 8) }, f));
  const pathCovers = (o, i) => isBeneath(i, o);
  for (let round = 0; round < 400; round++) {
    const a = N({ net: { connect: list(() => pick(RULES)()) }, fs: { write: list(pathOf) } });
    const b = N({ net: { connect: list(() => pick(RULES)()) }, fs: { write: list(pathOf) } });
    const i = intersect(a, b);
    const label = JSON.stringify({ a: rules(a.net.connect), b: rules(b.net.connect), aw: a.fs.write, bw: b.fs.write });
    assert.deepEqual(rules(i.net.connect), rules(pairwise(a.net.connect, b.net.connect, ruleCovers, formatRule)), label);
    assert.deepEqual(i.fs.write, pairwise(a.fs.write, b.fs.write, pathCovers, (p) => p), label);
    const wantWide = Array.isArray(b.net.connect) && Array.isArray(a.net.connect)
      ? b.net.connect.filter((x) => !a.net.connect.some((y) => ruleCovers(y, x))).map((r) => r.source) : null;
    if (wantWide) assert.deepEqual(widenings(a, b).filter((w) => w.field === 'net.connect').map((w) => w.value), wantWide, label);
  }
});

test('intersect(p, p) and widenings(p, p) of 4096-entry lists are near-linear', () => {
  // Pairwise they took 1-7 s. Bounds ~20x above an idle machine's time.
  const p = N({
    net: { listen: Array.from({ length: 4096 }, (_, i) => `[2001:db8::${i.toString(16)}/${64 + (i % 64)}]:${i}`), connect: Array.from({ length: 4096 }, (_, i) => `h${i}.example.com:${i}`) },
    fs: { write: Array.from({ length: 4096 }, (_, i) => `/${'x'.repeat(2000)}/${i}`) },
    childProcess: Array.from({ length: 4096 }, (_, i) => `/bin/${i}`),
  });
  const t0 = performance.now();
  const i = intersect(p, p);
  assert.deepEqual(widenings(p, p), []);
  assert.deepEqual(widenings(i, p), []);
  const ms = performance.now() - t0;
  assert.equal(i.fs.write.length, 4096);
  assert.equal(i.childProcess.length, 4096);
  assert.ok(ms < 5000, `${ms.toFixed(0)} ms`);
});
