'use strict';
// Network rule matching: one implementation shared by the guards, the compiler
// and the supervisor's rule export. Tables of (rule, destination host, port) → allowed.
const test = require('node:test');
const assert = require('node:assert/strict');

const {
  parseNetRule, ruleMatches, anyRuleMatches, ruleCovers, canonicalIp, formatRule, formatEndpoint, needsDns, isHostName,
} = require('../../dist/policy/netrules');

const R = (entry) => {
  const r = parseNetRule(entry);
  assert.equal(typeof r, 'object', `${entry}: ${r}`);
  return r;
};

// Every spelling the kernel, inet_aton or inet_pton reads as 127.0.0.1.
const SPELLINGS_127_0_0_1 = [
  '127.0.0.1', '127.1', '127.0.1', '0x7f.1', '0x7F.0.0.1', '0x7f.0x0.0x0.0x1', '0177.0.0.1', '0177.1', '0177.0.0.01',
  '127.00.0.1', '2130706433', '0x7f000001', '017700000001', '::ffff:127.0.0.1', '::FFFF:127.0.0.1', '::ffff:7f00:1',
  '0:0:0:0:0:ffff:7f00:1', '0000:0000:0000:0000:0000:ffff:7f00:0001',
];

test('canonicalIp: every spelling of 127.0.0.1 is 127.0.0.1', () => {
  for (const s of SPELLINGS_127_0_0_1) assert.deepEqual(canonicalIp(s.toLowerCase()), { ip: '127.0.0.1', family: 4 }, s);
});

test('canonicalIp table', () => {
  const table = [
    ['::1', { ip: '::1', family: 6 }],
    ['0:0:0:0:0:0:0:1', { ip: '::1', family: 6 }],
    ['2001:db8:0:0:0:0:0:1', { ip: '2001:db8::1', family: 6 }],
    ['::ffff:10.1.2.3', { ip: '10.1.2.3', family: 4 }],
    ['0127.0.0.1', { ip: '87.0.0.1', family: 4 }], // octal, as inet_aton reads it
    ['0xffffffff', { ip: '255.255.255.255', family: 4 }],
    ['127.16777215', { ip: '127.255.255.255', family: 4 }],
    // IPv4-compatible (deprecated) is a different IPv6 address, not the IPv4 host
    ['::127.0.0.1', { ip: '::7f00:1', family: 6 }],
    ['::10.0.0.1', { ip: '::a00:1', family: 6 }],
    ['fe80::1%eth0', undefined],
    ['fe80::1%1', undefined],
    ['1.2.3.4.5', undefined],
    ['256.0.0.1', undefined],
    ['08.0.0.1', undefined],
    ['4294967296', undefined],
    ['example.com', undefined],
    ['', undefined],
    [' 127.0.0.1', undefined],
    ['::127.1', undefined],
  ];
  for (const [s, want] of table) assert.deepEqual(canonicalIp(s), want, s);
});

// [rule entry, destination host, port, allowed]
const MATCH = [
  // ip rules, v4: every spelling of the address matches
  ...SPELLINGS_127_0_0_1.map((h) => ['127.0.0.1', h.toLowerCase(), 80, true]),
  ...SPELLINGS_127_0_0_1.map((h) => ['127.0.0.1:6379', h.toLowerCase(), 6379, true]),
  ...SPELLINGS_127_0_0_1.map((h) => ['127.0.0.1:6379', h.toLowerCase(), 6380, false]),
  ...SPELLINGS_127_0_0_1.map((h) => ['0x7f.1', h.toLowerCase(), 1, true]),
  ...SPELLINGS_127_0_0_1.map((h) => ['::ffff:127.0.0.1', h.toLowerCase(), 1, true]),
  ['127.0.0.1', '127.0.0.2', 80, false],
  ['127.0.0.1', '::1', 80, false],
  ['127.0.0.1', '::127.0.0.1', 80, false],
  ['127.0.0.1', 'localhost', 80, false], // names are resolved by the caller, then checked per address
  ['127.0.0.1', '127.0.0.1.', 80, false],
  ['127.0.0.1', '0x7f000002', 80, false],
  ['::ffff:127.0.0.2', '127.0.0.2', 80, true],
  ['10.0.0.1', '::ffff:a00:1', 80, true],
  // ip rules, v6
  ['[::1]:5432', '::1', 5432, true],
  ['[::1]:5432', '0:0:0:0:0:0:0:1', 5432, true],
  ['[::1]:5432', '::1', 5433, false],
  ['[::1]:5432', '127.0.0.1', 5432, false],
  ['::1', '::0:1', 9, true],
  ['2001:db8::1', '2001:DB8:0::1'.toLowerCase(), 1, true],
  ['2001:db8::1', '2001:db8::2', 1, false],
  ['::7f00:1', '::127.0.0.1', 1, true],
  ['::7f00:1', '127.0.0.1', 1, false],
  // cidr
  ['10.0.0.0/8', '10.255.1.2', 1, true],
  ['10.0.0.0/8', '10.1', 1, true],
  ['10.0.0.0/8', '012.0.0.1', 1, true], // 012 octal = 10
  ['10.0.0.0/8', '11.0.0.1', 1, false],
  ['10.0.0.0/8', '::ffff:10.9.9.9', 1, true],
  ['10.0.0.0/8', '::a09:909', 1, false],
  ['10.0.0.0/8', 'ten.example', 1, false],
  ['10.0.0.0/8:443', '10.0.0.1', 443, true],
  ['10.0.0.0/8:443', '10.0.0.1', 80, false],
  ['0.0.0.0/0', '8.8.8.8', 53, true],
  ['0.0.0.0/0', '::1', 53, false],
  ['::/0', '::1', 53, true],
  ['::/0', '8.8.8.8', 53, false],
  ['::/0', '::ffff:8.8.8.8', 53, false], // v4-mapped is IPv4
  ['fd00::/8', 'fdff::1', 1, true],
  ['fd00::/8', 'fe00::1', 1, false],
  ['[fd00::/64]:80', 'fd00::9', 80, true],
  ['[fd00::/64]:80', 'fd00:0:0:1::9', 80, false],
  ['::ffff:10.0.0.0/104', '10.1.1.1', 1, true],
  ['192.168.1.7/32', '192.168.1.7', 1, true],
  ['192.168.1.7/32', '192.168.1.8', 1, false],
  // localhost: the name, 127.0.0.0/8 and ::1
  ['localhost', 'localhost', 80, true],
  ['localhost', 'LOCALHOST', 80, true],
  ['localhost', 'localhost.', 80, true],
  ['localhost', '127.0.0.1', 80, true],
  ['localhost', '127.0.0.5', 80, true],
  ['localhost', '127.255.255.254', 80, true],
  ['localhost', '0x7f.5', 80, true],
  ['localhost', '::ffff:127.0.0.5', 80, true],
  ['localhost', '::1', 80, true],
  ['localhost', '0:0:0:0:0:0:0:1', 80, true],
  ['localhost', '::2', 80, false],
  ['localhost', '::127.0.0.1', 80, false],
  ['localhost', '128.0.0.1', 80, false],
  ['localhost', '10.0.0.1', 80, false],
  ['localhost', '0.0.0.0', 80, false],
  ['localhost', 'localhost.localdomain', 80, false],
  ['localhost', 'a.localhost', 80, false],
  ['localhost:3000', '127.0.0.1', 3000, true],
  ['localhost:3000', '::1', 3001, false],
  ['localhost:3000', 'localhost', 3001, false],
  // host
  ['db.internal', 'db.internal', 5432, true],
  ['db.internal', 'DB.Internal.', 5432, true],
  ['db.internal', 'x.db.internal', 5432, false],
  ['db.internal', 'db.internal.evil', 5432, false],
  ['db.internal', 'dbxinternal', 5432, false],
  ['db.internal', '10.0.0.1', 5432, false],
  ['example.com:443', 'example.com', 443, true],
  ['example.com:443', 'example.com', 80, false],
  // wildcard: strictly below the base, never the base itself
  ['*.example.com', 'a.example.com', 1, true],
  ['*.example.com', 'a.b.example.com', 1, true],
  ['*.example.com', 'A.EXAMPLE.COM.', 1, true],
  ['*.example.com', 'example.com', 1, false],
  ['*.example.com', 'example.com.', 1, false],
  ['*.example.com', 'aexample.com', 1, false],
  ['*.example.com', 'a.example.com.evil', 1, false],
  ['*.example.com', 'example.co', 1, false],
  ['*.example.com:443', 'www.example.com', 443, true],
  ['*.example.com:443', 'www.example.com', 8443, false],
  // any host on a port
  [':8080', 'anything.example', 8080, true],
  [':8080', '10.0.0.1', 8080, true],
  [':8080', '::1', 8080, true],
  [':8080', '10.0.0.1', 8081, false],
  [':0', 'x.example', 0, true],
  [':0', 'x.example', 1, false],
  // port 0 in a rule is a real port, not "any"
  ['example.com:0', 'example.com', 80, false],
];

test('ruleMatches table', () => {
  assert.ok(MATCH.length > 150);
  for (const [entry, host, port, want] of MATCH) {
    assert.equal(ruleMatches(R(entry), host, port), want, `${entry} vs ${host}:${port}`);
  }
});

test('anyRuleMatches: a list allows what one of its rules allows', () => {
  const rules = ['127.0.0.1:5432', '*.example.com:443', '10.0.0.0/8:22'].map(R);
  assert.equal(anyRuleMatches(rules, '127.1', 5432), true);
  assert.equal(anyRuleMatches(rules, 'www.example.com', 443), true);
  assert.equal(anyRuleMatches(rules, '10.2.3.4', 22), true);
  assert.equal(anyRuleMatches(rules, '10.2.3.4', 443), false);
  assert.equal(anyRuleMatches(rules, 'example.com', 443), false);
  assert.equal(anyRuleMatches([], 'localhost', 1), false);
});

// [a, b, a covers b]
const COVERS = [
  [':443', 'example.com:443', true],
  [':443', '10.0.0.0/8:443', true],
  [':443', 'example.com', false],
  [':443', ':80', false],
  ['example.com', 'example.com:443', true],
  ['example.com:443', 'example.com', false],
  ['example.com', 'EXAMPLE.com', true],
  ['example.com', 'a.example.com', false],
  ['*.example.com', 'a.example.com', true],
  ['*.example.com', 'a.example.com:443', true],
  ['*.example.com', '*.a.example.com', true],
  ['*.example.com', '*.example.com:443', true],
  ['*.example.com', 'example.com', false],
  ['*.example.com', '*.example.org', false],
  ['*.a.example.com', '*.example.com', false],
  ['a.example.com', '*.example.com', false],
  ['10.0.0.0/8', '10.1.0.0/16', true],
  ['10.0.0.0/8', '10.1.2.3', true],
  ['10.0.0.0/8', '10.1.2.3:80', true],
  ['10.0.0.0/8', '10.0.0.0/8', true],
  ['10.0.0.0/8', '10.0.0.0/7', false],
  ['10.0.0.0/8', '11.0.0.0/16', false],
  ['10.0.0.0/16', '10.0.0.0/8', false],
  ['0.0.0.0/0', '::/0', false],
  ['::/0', 'fd00::/8', true],
  ['::/0', '10.0.0.1', false],
  ['10.1.2.3', '10.1.2.3/32', true],
  ['10.1.2.3', '10.1.2.0/24', false],
  ['::1', '::1/128', true],
  ['10.1.2.3', '10.1.2.3:80', true],
  ['10.1.2.3:80', '10.1.2.3', false],
  ['10.1.2.3', '10.1.2.4', false],
  ['localhost', '127.0.0.1', true],
  ['localhost', '127.0.0.9:80', true],
  ['localhost', '::1', true],
  ['localhost', '127.0.0.0/8', true],
  ['localhost', '127.1.0.0/16', true],
  ['localhost', '127.0.0.0/7', false],
  ['localhost', '::1/128', true],
  ['localhost', '::/127', false],
  ['localhost', 'localhost:80', true],
  ['localhost:80', 'localhost', false],
  ['127.0.0.0/8', 'localhost', false], // localhost also names the name
  ['127.0.0.1', 'localhost', false],
  ['localhost', '10.0.0.1', false],
  ['localhost', 'example.com', false],
  ['example.com', 'localhost', false],
  ['example.com', '93.184.216.34', false],
  ['93.184.216.34', 'example.com', false],
  ['10.0.0.0/8', ':443', false],
  ['example.com', ':443', false],
  ['*.example.com', ':443', false],
];

test('ruleCovers table', () => {
  for (const [a, b, want] of COVERS) assert.equal(ruleCovers(R(a), R(b)), want, `${a} covers ${b}`);
});

test('ruleCovers is sound: when a covers b, every sample b allows a allows too', () => {
  const hosts = ['localhost', '127.0.0.1', '127.0.0.9', '::1', '10.0.0.1', '10.1.2.3', '10.1.2.4', '11.0.0.1', 'fd00::1', 'fe00::1',
    'example.com', 'a.example.com', 'b.a.example.com', 'example.org', 'a.example.org', '8.8.8.8', '::ffff:10.1.2.3', '93.184.216.34'];
  const ports = [0, 22, 80, 443, 5432];
  const entries = [...new Set(COVERS.flatMap(([a, b]) => [a, b]))];
  let pairs = 0;
  for (const a of entries) {
    for (const b of entries) {
      if (!ruleCovers(R(a), R(b))) continue;
      pairs++;
      for (const h of hosts) for (const p of ports) {
        if (ruleMatches(R(b), h, p)) assert.ok(ruleMatches(R(a), h, p), `${a} covers ${b} but does not allow ${h}:${p}`);
      }
    }
  }
  assert.ok(pairs > 60, `${pairs} covering pairs`);
});

test('formatRule prints Deno\'s grammar and round-trips through parseNetRule', () => {
  const table = [
    ['localhost', 'localhost'], ['LOCALHOST:3000', 'localhost:3000'], ['db.internal.', 'db.internal'], ['*.Example.com:443', '*.example.com:443'],
    ['10.1.2.3/8', '10.0.0.0/8'], ['[::1]:5432', '[::1]:5432'], ['::1', '::1'], ['[::1]', '::1'], ['fd00::1/64', 'fd00::/64'],
    ['[fd00::1/64]:80', '[fd00::/64]:80'], ['0x7f.1:6379', '127.0.0.1:6379'], [':8080', ':8080'], ['::ffff:127.0.0.2', '127.0.0.2'],
    ['::127.0.0.1', '::7f00:1'],
  ];
  for (const [entry, text] of table) {
    const r = R(entry);
    assert.equal(formatRule(r), text, entry);
    const again = R(text);
    assert.equal(formatRule(again), text, `round trip ${entry}`);
    assert.deepEqual({ ...again, source: '' }, { ...r, source: '' }, `round trip ${entry}`);
  }
  assert.equal(formatEndpoint('::1', 80), '[::1]:80');
  assert.equal(formatEndpoint('example.com', 443), 'example.com:443');
  assert.equal(formatEndpoint('10.0.0.1', undefined), '10.0.0.1');
});

test('needsDns and isHostName', () => {
  assert.deepEqual(['example.com', '*.example.com', 'localhost', '10.0.0.1', '10.0.0.0/8', ':80', '::1'].map((e) => needsDns(R(e))),
    [true, true, false, false, false, false, false]);
  const names = [['a', true], ['a.b', true], ['a-b.c', true], ['1a.com', true], ['a.1b', true], ['a.123', false], ['123', false],
    ['-a', false], ['a-', false], ['', false], ['a..b', false], ['A.com', false] /* callers lower-case first */, ['a'.repeat(63), true], ['a'.repeat(64), false],
    ['0x1f.com', true], ['a.0x1f', false], ['0x7f', false], ['a.0x', false]];
  for (const [n, want] of names) assert.equal(isHostName(n), want, n);
});

test('fuzz: parseNetRule never throws; every accepted entry round-trips through formatRule', () => {
  let seed = 0x5eed;
  const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const seeds = ['localhost', 'db.internal', '*.example.com', 'example.com:443', '10.0.0.0/8', '[::1]:5432', '127.0.0.1:6379', ':8080',
    '0.0.0.0:443', '0x7f.1', '::ffff:127.0.0.2', 'fd00::/8', '[fd00::1/64]:80', '::127.0.0.1', '2001:db8::1', '1.2.3'];
  const alphabet = ['.', ':', '[', ']', '/', '*', '-', '0', '1', '9', 'x', 'f', 'a', 'z', '%', ' ', '', '::', '0x', '255', '256', '65535', '65536'];
  let accepted = 0;
  for (let i = 0; i < 5000; i++) {
    let s = pick(seeds);
    const edits = 1 + Math.floor(rnd() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rnd() * (s.length + 1));
      const op = rnd();
      if (op < 0.4) s = s.slice(0, at) + pick(alphabet) + s.slice(at);
      else if (op < 0.7) s = s.slice(0, at) + s.slice(at + 1);
      else s = s.slice(0, at) + pick(alphabet) + s.slice(at + 1);
    }
    let r;
    assert.doesNotThrow(() => { r = parseNetRule(s); }, s);
    if (typeof r === 'string') continue;
    accepted++;
    const text = formatRule(r);
    const again = parseNetRule(text);
    assert.equal(typeof again, 'object', `${JSON.stringify(s)} → ${text}: ${again}`);
    assert.equal(formatRule(again), text, JSON.stringify(s));
    assert.deepEqual({ ...again, source: '' }, { ...r, source: '' }, JSON.stringify(s));
    if (r.port !== undefined) assert.ok(Number.isInteger(r.port) && r.port >= 0 && r.port <= 65535);
    if (r.kind === 'ip' || r.kind === 'cidr') assert.ok(canonicalIp(r.value), `${s}: canonical value ${r.value}`);
    if (r.kind === 'cidr') assert.ok(r.prefix >= 0 && r.prefix <= (r.family === 4 ? 32 : 128));
    if (r.kind === 'host' || r.kind === 'wildcard') assert.ok(isHostName(r.value), `${s}: ${r.value}`);
  }
  assert.ok(accepted > 500, `${accepted} accepted`);
});
