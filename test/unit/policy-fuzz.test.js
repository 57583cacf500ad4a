'use strict';
// Fuzz of the policy validator and the compiler behind it (issue 7, part A).
//
// Thousands of seeded, reproducible inputs — generated from the policy grammar,
// mutated from a corpus of real policies, and plain junk — go through
// normalizePolicy() (which validates first). Each one must be either accepted
// (and then compile, for a random fake target, without throwing, into a
// loadable BPF program) or refused with a TypeError whose code is
// ERR_BLACKBOX_POLICY and whose `field` names a place that exists in the input.
// Nothing else may come out, and no call may take more than 1 s.
//
// The cases run in a Worker so a hang cannot hang the suite: this thread is a
// watchdog that terminates the worker when one case runs past the limit,
// records the case, and restarts the worker at the next one.
//
// Reproduce one case: BLACKBOX_FUZZ_SEED=<seed> BLACKBOX_FUZZ_ONLY=<index> node --test test/unit/policy-fuzz.test.js
// More cases:        BLACKBOX_FUZZ_N=200000 node --test test/unit/policy-fuzz.test.js

const path = require('node:path');
const { isMainThread, Worker, workerData, parentPort } = require('node:worker_threads');

const DIST = path.join(__dirname, '..', '..', 'dist');
const CASE_LIMIT_MS = 1000; // a call slower than this fails (measured in the worker)
const WATCHDOG_MS = 1500; // a case still running after this is a hang: the worker is terminated
// A boundary-size case makes five or more calls of ~100 ms each (4096 entries,
// near-linear code): its watchdog allows for that many calls on a loaded machine.
// Each call has BIG_CASE_LIMIT_MS: the 4096-entry IPv6 CIDR list takes ~500 ms on an idle
// machine and once took 1019 ms under CI load; the quadratic code it guards against took
// 1-35 s, and the dedicated timing cases below bound the near-linear growth.
const BIG_CASE_LIMIT_MS = 2500;
const BIG_WATCHDOG_MS = 10000;
const CTX = Object.freeze({ CWD: '/home/u/app', HOME: '/home/u', TMPDIR: '/tmp', NODE: '/usr/local', APP: '/srv/app' });

// ===========================================================================
// Generators (deterministic: every case i draws from its own PRNG seeded by
// (seed, i), so case i is the same whether or not cases before it ran).
// ===========================================================================

function caseRng(seed, i) {
  const { mulberry32 } = require('../helpers/random');
  return mulberry32((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
}

function makeGen(rnd) {
  const int = (n) => Math.floor(rnd() * n);
  const pick = (a) => a[int(a.length)];
  const chance = (p) => rnd() < p;
  const times = (n, f) => Array.from({ length: n }, f);
  const hex = (v) => v.toString(16);

  const LABEL_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-';
  const label = () => {
    const n = chance(0.05) ? pick([63, 64, 65]) : 1 + int(12);
    let s = '';
    for (let i = 0; i < n; i++) s += LABEL_CHARS[int(chance(0.9) ? 36 : LABEL_CHARS.length)];
    return s;
  };
  const hostName = () => {
    let h = times(1 + int(4), label).join('.');
    if (chance(0.05)) h = times(40 + int(30), label).join('.'); // near or past 253 characters
    if (chance(0.1)) h += '.';
    if (chance(0.1)) h = h.toUpperCase();
    return h;
  };
  const octet = () => (chance(0.95) ? int(256) : 256 + int(100));
  const ipv4 = () => {
    const form = int(10);
    const o = times(4, octet);
    if (form < 6) return o.join('.');
    if (form === 6) return o.map((x) => `0x${hex(x)}`).join('.');
    if (form === 7) return o.map((x) => `0${x.toString(8)}`).join('.');
    if (form === 8) return `${o[0]}.${(o[1] << 16) | (o[2] << 8) | o[3]}`; // inet_aton short form
    return `${o[0]}.${o[1]}.${(o[2] << 8) | o[3]}`;
  };
  const ipv6 = () => {
    const form = int(8);
    const groups = times(8, () => hex(int(chance(0.3) ? 16 : 65536)));
    if (form === 0) return '::1';
    if (form === 1) return `::ffff:${ipv4()}`;
    if (form === 2) return `::${ipv4()}`;
    if (form === 3) return `fe80::${groups[0]}%eth${int(3)}`;
    if (form === 4) return groups.join(':');
    if (form === 5) return `${groups.slice(0, int(4)).join(':')}::${groups.slice(0, int(4)).join(':')}`;
    if (form === 6) return groups.slice(0, 9 - int(3)).join(':'); // too few or too many groups
    return `2001:db8::${groups[7]}`;
  };
  const port = () => String(pick([0, 1, 22, 80, 443, 5432, 8080, 65535, 65536, 70000, int(65536), int(65536)]));
  const netEntry = () => {
    const p = chance(0.5) ? `:${chance(0.95) ? port() : pick(['', '-1', '+80', '80x', ' 80', '0x50', '٨٠'])}` : '';
    switch (int(9)) {
      case 0: return p || ':443';
      case 1: return `localhost${p}`;
      case 2: return `${hostName()}${p}`;
      case 3: return `*.${hostName()}${p}`;
      case 4: return `${ipv4()}${p}`;
      case 5: { const a = ipv6(); return p ? `[${a}]${p}` : a; }
      case 6: return `${ipv4()}/${int(40)}${p}`;
      case 7: { const c = `${ipv6()}/${int(140)}`; return p ? `[${c}]${p}` : c; }
      default: return pick(NET_JUNK);
    }
  };
  const NET_JUNK = ['*', '*.com', 'a.*.com', '[', '[]', '[::1', '[::1]:', '[::1]x', '::1]:80', ':', ':::', '/8', '10.0.0.0/8/8',
    'a_b.com', 'münchen.de', '80', '2130706433', '0x7f000001', ' localhost', 'localhost ', 'a.com:80:90', '1.2.3.4.5', '0x',
    'exa\nmple.com', '127.0.0.1.', 'cafe.0x10', '[localhost]:80', '[1.2.3.4]:80', 'fe80::1%25eth0', '::ffff:1.2.3.4/95'];
  const SEGMENTS = ['a', 'b', 'src', 'node_modules', '.cache', '..', '.', '', ' ', 'x y', 'ü', '$', '$HOME', '*', 'a\\b', '%2e%2e', 'λ'];
  const PREFIXES = ['', '', '/', '/', '/', '$HOME', '$HOME/', '${TMPDIR}', '$CWD', '$APP', '$NODE', '${NODE}', '$X', '$home', '${HOME',
    '~', '~/', '~root/', './', '../', '//', '$PATH'];
  const pathEntry = () => {
    let s = pick(PREFIXES);
    const n = int(6);
    for (let i = 0; i < n; i++) s += (s === '' || s.endsWith('/') ? '' : '/') + pick(SEGMENTS);
    if (chance(0.1)) s += '/';
    if (chance(0.02)) s += '\0';
    if (chance(0.02)) s = '/' + 'a'.repeat(4094 + int(4)); // both sides of PATH_MAX
    return s;
  };

  const atom = () => pick([
    () => true, () => false, () => null, () => undefined, () => 0, () => -0, () => 1, () => NaN, () => Infinity, () => 1n,
    () => '', () => 'true', () => 'enforce', () => 'audit', () => '__proto__', () => '\0', () => netEntry(), () => pathEntry(),
    () => [], () => ({}), () => [netEntry()], () => [pathEntry()], () => [1], () => [null], () => [[]], () => new Array(3),
    () => Symbol('s'), () => () => true, () => new Date(0), () => /re/, () => new Map(), () => new Set(), () => new (class P {})(),
    () => Object.create(null), () => new String('/tmp'), () => new Boolean(true), () => new Number(1), () => Buffer.from('a'),
    () => new Uint8Array(2), () => Object.freeze({}), () => Object.create({ net: true }), () => ({ length: 1, 0: 'localhost' }),
    () => new Proxy({}, {}), () => new Proxy(['/tmp'], {}), () => Promise.resolve(),
  ])();

  const list = (entry, max = 6) => {
    if (chance(0.15)) return pick([true, false]);
    if (chance(0.05)) return atom();
    const n = chance(0.03) ? 20 + int(300) : int(max);
    const out = [];
    for (let i = 0; i < n; i++) out.push(chance(0.94) ? entry() : atom());
    if (chance(0.03)) out.length += 1 + int(2); // holes at the end
    return out;
  };
  const bool = () => (chance(0.9) ? chance(0.5) : atom());
  const obj = (shape, p = 0.6) => {
    const o = chance(0.05) ? Object.create(null) : {};
    for (const [k, g] of Object.entries(shape)) if (chance(p)) o[k] = g();
    if (chance(0.05)) o[pick(['network', 'Net', 'udp', 'exec', 'constructor', 'toString', 'hasOwnProperty', '', 'net ', '0'])] = atom();
    if (chance(0.02)) o[Symbol('k')] = true;
    if (chance(0.02)) Object.defineProperty(o, pick(Object.keys(shape)), { get: () => false, enumerable: true, configurable: true });
    if (chance(0.01)) Object.defineProperty(o, pick(Object.keys(shape)), { value: true, enumerable: false });
    if (chance(0.03)) Object.freeze(o);
    return o;
  };
  const netPolicy = () => (chance(0.25) ? (chance(0.8) ? chance(0.5) : atom()) : obj({
    connect: () => list(netEntry), listen: () => list(netEntry), unix: () => list(pathEntry), dns: bool,
  }));
  const fsPolicy = () => (chance(0.2) ? (chance(0.8) ? chance(0.5) : atom()) : obj({ read: () => list(pathEntry), write: () => list(pathEntry) }));
  const policy = () => {
    if (chance(0.02)) return atom();
    return obj({
      net: netPolicy, fs: fsPolicy, childProcess: () => list(pathEntry),
      addons: bool, workers: bool,
      mode: () => (chance(0.85) ? pick(['enforce', 'audit']) : pick(['AUDIT', 'Enforce', 'audit ', 'permissive', '', null, 0])),
    });
  };

  // --- mutation of a corpus of real policies -------------------------------
  const mutateString = (s) => {
    const ops = [
      () => { const i = int(s.length + 1); return s.slice(0, i) + String.fromCharCode(int(chance(0.8) ? 128 : 0x10000)) + s.slice(i); },
      () => { const i = int(s.length); return s.slice(0, i) + s.slice(i + 1); },
      () => { const i = int(s.length); return s.slice(0, i) + String.fromCharCode(int(128)) + s.slice(i + 1); },
      () => { const i = int(s.length + 1); return s.slice(0, i) + pick(['$', '~', '..', '/', ':', '::', '[', ']', '*', '*.', '%', '\0', '/..', ' ', '0x', '.']) + s.slice(i); },
      () => s + s,
      () => s.slice(0, int(s.length + 1)),
      () => s.toUpperCase(),
      () => s.replace(/[0-9]+/g, () => String(int(chance(0.5) ? 70000 : 300))),
      () => s.replace(/\./g, pick(['..', ':', '', '.*.'])),
      () => netEntry(),
      () => pathEntry(),
    ];
    return pick(ops)();
  };
  /** Every (container, key) pair of a policy built from plain objects and arrays. */
  const slots = (root) => {
    const out = [];
    const walk = (v) => {
      if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return;
      const proto = Object.getPrototypeOf(v);
      if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return; // Date, Map, typed arrays…
      for (const k of Object.keys(v)) {
        const d = Object.getOwnPropertyDescriptor(v, k);
        if (!d || !('value' in d) || !d.writable) continue; // getters made by an earlier mutation
        out.push([v, k]);
        walk(d.value);
      }
    };
    walk(root);
    return out;
  };
  const clone = (v) => (Array.isArray(v) ? v.map(clone) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)])) : v);
  const mutate = (p0) => {
    const p = { root: clone(p0) };
    const n = 1 + int(4);
    for (let m = 0; m < n; m++) {
      const all = slots(p);
      if (all.length === 0) break;
      const [c, k] = pick(all);
      const v = c[k];
      try { mutateAt(c, k, v); } catch { /* a frozen or exotic container: this mutation is a no-op */ }
    }
    return p.root;
  };
  const mutateAt = (c, k, v) => {
    {
      switch (int(11)) {
        case 0: c[k] = atom(); break;
        case 1: if (Array.isArray(c)) c.splice(Number(k), 1); else delete c[k]; break;
        case 2: if (typeof v === 'string') c[k] = mutateString(v); else if (Array.isArray(v) && v.length) v[int(v.length)] = mutateString(String(v[0])); else c[k] = atom(); break;
        case 3: if (!Array.isArray(c)) c[pick(['bogus', k.toUpperCase(), `${k}s`, 'dns', 'read', 'net', 'connect'])] = clone(v); else c.push(clone(v)); break;
        case 4: c[k] = typeof v === 'boolean' ? !v : Array.isArray(v) ? !v.length : chance(0.5); break;
        case 5: if (Array.isArray(v)) { v.length = pick([v.length + 1, 4097, 0]); } else c[k] = [v]; break;
        case 6: Object.defineProperty(c, k, { get: () => v, enumerable: true, configurable: true }); break;
        case 7: if (v && typeof v === 'object' && !Array.isArray(v)) c[k] = Object.assign(Object.create(chance(0.5) ? null : { inherited: true }), v); else c[k] = v; break;
        case 8: if (Array.isArray(v)) c[k] = v.concat(v, v); else c[k] = v; break;
        case 9: if (typeof v === 'string') c[k] = chance(0.5) ? netEntry() : pathEntry(); else c[k] = atom(); break;
        default: if (v && typeof v === 'object') Object.freeze(v); break;
      }
    }
  };

  return { policy, mutate, atom, int, pick, chance };
}

const CORPUS = [
  {},
  { net: false },
  { net: true, fs: true, childProcess: true, addons: true, workers: true },
  { net: { connect: [':5432'], listen: ['127.0.0.1:8080'] }, fs: { write: ['$TMPDIR/app'] } },
  { net: { connect: ['localhost', 'db.internal:5432', '*.example.com:443', '10.0.0.0/8', '[::1]:6379', '127.0.0.1:6379'] } },
  { net: { listen: ['localhost:3000', ':8080', '0.0.0.0:443', '[::]:443'], connect: false, dns: false } },
  { net: { unix: ['/run/postgresql/.s.PGSQL.5432', '$TMPDIR/app.sock'] } },
  { fs: { read: ['$CWD', '$HOME/.config/app', '/etc/ssl'], write: ['$CWD/dist', './cache', '../shared/out'] } },
  { fs: { read: false, write: false } },
  { fs: false, net: false, childProcess: false, addons: false, workers: false },
  { childProcess: ['/usr/bin/git', '$NODE/bin/node', '/bin/sh'], fs: { read: ['/usr', '/lib', '/etc'] } },
  { mode: 'audit', net: { connect: ['api.example.com:443'] }, fs: { write: ['$TMPDIR'] } },
  { net: { connect: ['::ffff:127.0.0.1', '0x7f.1', '127.1:80', '2001:db8::/32', '[2001:db8::1/128]:443'] } },
  { net: { connect: true, listen: false, unix: false, dns: true }, workers: false },
  { fs: { read: ['$APP', '$APP/node_modules', '$APP/../lib'], write: [] }, childProcess: [] },
];

// ===========================================================================
// The checks, run inside the worker.
// ===========================================================================

function makeChecker() {
  const { isDeepStrictEqual } = require('node:util');
  const { normalizePolicy, validatePolicy, intersect, widenings } = require(path.join(DIST, 'policy'));
  const { formatRule } = require(path.join(DIST, 'policy', 'netrules'));
  const { compile } = require(path.join(DIST, 'compile', 'plan'));
  const { defaultGrants } = require(path.join(DIST, 'compile', 'defaults'));
  const { check, simulate, actionName, syscallNumber, AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_ARM } = require(path.join(DIST, 'compile', 'bpf'));
  const AUDIT = { x86_64: [AUDIT_ARCH_X86_64, AUDIT_ARCH_I386], aarch64: [AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM] };

  /** Every field name the validator could use for a place in `input`, in its spelling. */
  function locations(input) {
    const out = new Set(['']);
    const walk = (v, field, depth) => {
      if (v === null || typeof v !== 'object' || depth > 4) return;
      // A revoked Proxy throws at every reflective call: it is a place, with nothing beneath.
      try { Array.isArray(v); } catch { return; }
      if (Array.isArray(v)) {
        out.add(field);
        for (let i = 0; i < Math.min(v.length, 5000); i++) {
          out.add(`${field}[${i}]`);
          const d = Object.getOwnPropertyDescriptor(v, i);
          if (d && 'value' in d) walk(d.value, `${field}[${i}]`, depth + 1);
        }
        return;
      }
      for (const k of Reflect.ownKeys(v)) {
        if (typeof k === 'symbol') continue;
        const f = field === '' ? k : `${field}.${k}`;
        out.add(f);
        const d = Object.getOwnPropertyDescriptor(v, k);
        if (d && 'value' in d) walk(d.value, f, depth + 1);
      }
    };
    walk(input, '', 0);
    return out;
  }

  const absPath = (p) => typeof p === 'string' && p.startsWith('/') && !p.includes('\0') && (p === '/' || !p.endsWith('/')) && !/(^|\/)\.\.?(\/|$)/.test(p) && !p.includes('//');
  const isRule = (r) => ['any', 'ip', 'cidr', 'host', 'wildcard', 'localhost'].includes(r.kind) && (r.port === undefined || (Number.isInteger(r.port) && r.port >= 0 && r.port <= 65535)) && typeof r.source === 'string';
  const grant = (g, item) => g === true || g === false || (Array.isArray(g) && g.length > 0 && g.every(item));

  function shapeProblem(n) {
    if (!grant(n.net.connect, isRule)) return 'net.connect';
    if (!grant(n.net.listen, isRule)) return 'net.listen';
    if (!grant(n.net.unix, absPath)) return 'net.unix';
    if (typeof n.net.dns !== 'boolean') return 'net.dns';
    if (!(n.fs.read === true || (Array.isArray(n.fs.read) && n.fs.read.every(absPath)))) return 'fs.read';
    if (!grant(n.fs.write, absPath)) return 'fs.write';
    if (!grant(n.childProcess, absPath)) return 'childProcess';
    if (typeof n.addons !== 'boolean' || typeof n.workers !== 'boolean') return 'addons/workers';
    if (n.mode !== 'enforce' && n.mode !== 'audit') return 'mode';
    return null;
  }

  /** The normalized policy written back as a Policy: normalizing it again must give the same thing. */
  function denormalize(n) {
    const rules = (g) => (Array.isArray(g) ? g.map(formatRule) : g);
    return {
      net: { connect: rules(n.net.connect), listen: rules(n.net.listen), unix: n.net.unix, dns: n.net.dns },
      fs: { read: n.fs.read, write: n.fs.write },
      childProcess: n.childProcess, addons: n.addons, workers: n.workers, mode: n.mode,
    };
  }
  const stripSource = (n) => JSON.parse(JSON.stringify(n, (k, v) => (k === 'source' ? undefined : v)));

  function randomTarget(g) {
    return {
      platform: g.pick(['linux', 'linux', 'linux', 'linux', 'darwin', 'win32', 'freebsd']),
      arch: g.pick(['x86_64', 'x86_64', 'aarch64', 'aarch64', undefined]),
      landlockAbi: g.int(10), // 9: a kernel newer than the package knows
      landlockErrata: g.int(16),
      kernel: g.chance(0.85),
    };
  }
  function randomFacts(g) {
    return {
      pid: 1 + g.int(4194304),
      nodeExecPath: g.pick(['/usr/local/bin/node', '/usr/bin/node', '/home/u/.nvm/versions/node/v20.20.2/bin/node']),
      appRoot: g.pick([undefined, '/srv/app', '/home/u/app', '/']),
      selfRoot: g.pick(['/srv/app/node_modules/blackbox-native', '/work/main']),
      elfInterpreters: g.pick([[], ['/lib64/ld-linux-x86-64.so.2'], ['/lib/ld-linux-aarch64.so.1', '/lib64/ld-linux-x86-64.so.2']]),
    };
  }

  /** Problems with the plan for `n` (strings), or [] . */
  function checkPlan(n, plan, target) {
    const bad = [];
    JSON.stringify(plan);
    if (plan.seccomp) {
      try { check(plan.seccomp.insns); } catch (e) { bad.push(`BPF check: ${e.message}`); }
      const [native, foreign] = AUDIT[plan.seccomp.arch];
      if (actionName(simulate(plan.seccomp.insns, { nr: 0, arch: foreign, args: [] })) !== 'KILL_PROCESS') bad.push('a foreign-arch syscall is not killed');
      if (n.mode === 'enforce') {
        const verdict = (name) => actionName(simulate(plan.seccomp.insns, { nr: syscallNumber(plan.seccomp.arch, name), arch: native, args: [] }));
        if (verdict('ptrace') === 'ALLOW') bad.push('ptrace allowed');
        if (n.childProcess === false && verdict('execve') === 'ALLOW') bad.push('execve allowed with childProcess: false');
      }
    }
    if (plan.landlock) {
      if (plan.landlock.abi > target.landlockAbi) bad.push(`Landlock ABI ${plan.landlock.abi} above the target's ${target.landlockAbi}`);
      for (const r of plan.landlock.paths) if (!absPath(r.path)) bad.push(`Landlock rule for a non-absolute path ${JSON.stringify(r.path)}`);
    }
    if (target.platform !== 'linux' || !target.kernel || n.mode === 'audit') {
      if (plan.landlock) bad.push('a Landlock plan where there is no kernel layer (or in audit mode)');
    }
    return bad;
  }

  /** fn(), timed: a call slower than CASE_LIMIT_MS is a failure of its own. */
  function timed(name, fn, times) {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      const ms = performance.now() - t0;
      times[name] = Math.max(times[name] ?? 0, ms);
    }
  }
  const slow = (times, limit) => Object.entries(times).filter(([, ms]) => ms > limit).map(([f, ms]) => `${f} took ${ms.toFixed(0)} ms (limit ${limit} ms)`);

  /**
   * One input. Returns { outcome: 'accepted' | 'refused', times } or
   * { outcome: 'failure', why, times }. opts.lattice: also check
   * intersect(p, p) and widenings(p, p) (what a repeated lockdown(p) runs).
   */
  function runOne(input, g, opts = {}) {
    const times = {};
    const limit = opts.big ? BIG_CASE_LIMIT_MS : CASE_LIMIT_MS;
    let roundTrip;
    const fail = (why) => ({ outcome: 'failure', why, times, roundTrip });
    let n;
    try {
      n = timed('normalizePolicy', () => normalizePolicy(input, CTX), times);
    } catch (e) {
      if (!(e instanceof TypeError) || e.code !== 'ERR_BLACKBOX_POLICY' || typeof e.field !== 'string') {
        return fail(`threw something other than ERR_BLACKBOX_POLICY: ${e && e.constructor && e.constructor.name} code=${e && e.code}: ${e && e.stack}`);
      }
      if (typeof e.reason !== 'string' || !e.message.includes(e.field === '' ? 'policy' : e.field)) {
        return fail(`the message does not name the field ${JSON.stringify(e.field)}: ${e.message}`);
      }
      if (!locations(input).has(e.field)) return fail(`field ${JSON.stringify(e.field)} is not a place in the input (${e.message})`);
      if (slow(times, limit).length) return fail(slow(times, limit).join('; '));
      return { outcome: 'refused', field: e.field, times };
    }
    const shape = shapeProblem(n);
    if (shape) return fail(`accepted, but the normalized ${shape} is malformed: ${JSON.stringify(n)}`);
    if (!opts.latticeOnly) {
      // validatePolicy returns a snapshot of plain data: the same policy again.
      let again;
      try { again = timed('normalizePolicy(validatePolicy(p))', () => normalizePolicy(validatePolicy(input), CTX), times); } catch (e) { return fail(`its own snapshot is refused: ${e.message}`); }
      if (!isDeepStrictEqual(again, n)) return fail('normalizing the validated snapshot gives another policy');
      // Normalization should be a fixed point: the normalized policy written back is the same policy.
      // (Reported separately: see the 'fixed point' test.)
      try {
        const round = timed('normalizePolicy(normalized)', () => normalizePolicy(denormalize(n), CTX), times);
        if (!isDeepStrictEqual(stripSource(round), stripSource(n))) roundTrip = `normalizing twice gives another policy:\n  once:  ${JSON.stringify(stripSource(n))}\n  twice: ${JSON.stringify(stripSource(round))}`;
      } catch (e) {
        roundTrip = `the normalized policy, written back, is refused: ${e.message}`;
      }
      // The compiler never throws for a valid policy, whatever the target.
      for (let k = 0; k < 2; k++) {
        const target = randomTarget(g);
        let plan;
        try {
          target.defaults = defaultGrants(n, randomFacts(g));
          plan = timed('compile', () => compile(n, target), times);
        } catch (e) {
          return fail(`compile threw for a valid policy on ${JSON.stringify({ ...target, defaults: undefined })}: ${e && e.stack}`);
        }
        const bad = checkPlan(n, plan, target);
        if (bad.length) return fail(`plan for ${JSON.stringify({ ...target, defaults: undefined })}: ${bad.join('; ')}`);
      }
    }
    if (opts.lattice !== false) {
      // The same policy again never widens (a repeated lockdown(p) must not throw) and intersects to itself.
      const w = timed('widenings(p, p)', () => widenings(n, n), times);
      if (w.length) return fail(`widenings(p, p) is not empty: ${JSON.stringify(w)}`);
      // intersect() drops entries another entry covers, so p ∩ p may be shorter than p; it must still allow the same.
      const i = timed('intersect(p, p)', () => intersect(n, n), times);
      const lost = widenings(i, n);
      const more = widenings(n, i);
      if (lost.length || more.length) return fail(`intersect(p, p) allows other things than p: lost ${JSON.stringify(lost)}, added ${JSON.stringify(more)}`);
    }
    if (slow(times, limit).length) return fail(slow(times, limit).join('; '));
    return { outcome: 'accepted', times, roundTrip };
  }
  return { runOne };
}

/** A description of any input that cannot throw (getters are not called, holes shown). */
function describe(v, depth = 0) {
  try {
    if (typeof v === 'string') return JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}…(${v.length})` : v);
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'symbol' || typeof v === 'function') return String(v);
    if (v === null || typeof v !== 'object') return String(v);
    if (depth > 4) return '…';
    const proto = Object.getPrototypeOf(v);
    if (Array.isArray(v)) {
      const items = [];
      for (let i = 0; i < Math.min(v.length, 12); i++) {
        const d = Object.getOwnPropertyDescriptor(v, i);
        items.push(!d ? '<hole>' : d.get || d.set ? '<getter>' : describe(d.value, depth + 1));
      }
      if (v.length > 12) items.push(`…(${v.length} entries)`);
      return `[${items.join(', ')}]`;
    }
    const tag = proto === Object.prototype ? '' : proto === null ? '[null proto]' : `[${(proto.constructor && proto.constructor.name) || 'object'}]`;
    const parts = Reflect.ownKeys(v).map((k) => {
      const d = Object.getOwnPropertyDescriptor(v, k);
      return `${String(k)}: ${d.get || d.set ? '<getter>' : describe(d.value, depth + 1)}${d.enumerable ? '' : ' (non-enumerable)'}`;
    });
    return `${tag}{ ${parts.join(', ')} }`;
  } catch (e) {
    return `<undescribable: ${e.message}>`;
  }
}

/** Case i of the main fuzz: grammar-generated, mutated from the corpus, or junk. */
function fuzzCase(seed, i) {
  const g = makeGen(caseRng(seed, i));
  const kind = i % 10;
  let input;
  if (kind < 5) input = g.policy();
  else if (kind < 9) input = g.mutate(g.pick(CORPUS));
  else input = g.chance(0.5) ? g.atom() : g.mutate(g.policy());
  return { input, g };
}

// --- boundary sizes: the largest lists and strings the validator accepts ---
const BIG = {
  'net.connect: 4096 IPv4:port entries': () => ({ net: { connect: Array.from({ length: 4096 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1:${i + 1}`) } }),
  'net.listen: 4096 bracketed IPv6 CIDR:port entries': () => ({ net: { listen: Array.from({ length: 4096 }, (_, i) => `[2001:db8::${i.toString(16)}/${64 + (i % 64)}]:${i}`) } }),
  'net.connect: 4096 host names of 190 characters': () => ({ net: { connect: Array.from({ length: 4096 }, (_, i) => `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.h${i}.example`) } }),
  'net.connect: 4097 entries (refused)': () => ({ net: { connect: new Array(4097).fill('localhost') } }),
  'childProcess: 4096 paths of 4000 characters': () => ({ childProcess: Array.from({ length: 4096 }, (_, i) => `/${'x'.repeat(4000)}/${i}`) }),
  'fs.read: 4097 entries (refused)': () => ({ fs: { read: new Array(4097).fill('/tmp') } }),
  'fs.write: a hole at 4095 (refused)': () => ({ fs: { write: Object.assign(new Array(4096).fill('/tmp', 0, 4095)) } }),
  'fs.write: one path of 4096 characters': () => ({ fs: { write: ['/' + 'a'.repeat(4095)] } }),
  'fs.write: one path of 4097 characters (refused)': () => ({ fs: { write: ['/' + 'a'.repeat(4096)] } }),
  'fs.read: 2048 nested directories /a/a/a…': () => ({ fs: { read: Array.from({ length: 2048 }, (_, i) => '/a'.repeat(i + 1)) } }),
};
// Path lists of the maximum size: normalizePolicy's minimalPaths() compares
// every pair and builds `dir + '/'` for each comparison (src/policy/paths.ts),
// O(n² × length): 4096 paths sharing a long prefix take tens of seconds.
const BIG_PATHS = {
  'fs.read: 4096 paths sharing a 4000-character prefix': () => ({ fs: { read: Array.from({ length: 4096 }, (_, i) => `/${'x'.repeat(4000)}/${i}`) } }),
};
// What a second lockdown(p) with the same policy runs: intersect(p, p) and widenings(p, p).
const BIG_LATTICE = {
  'net.listen: 4096 bracketed IPv6 CIDR:port entries': BIG['net.listen: 4096 bracketed IPv6 CIDR:port entries'],
  'childProcess: 4096 paths of 4000 characters': BIG['childProcess: 4096 paths of 4000 characters'],
};

// --- inputs only exotic objects (Proxy) can produce -----------------------
const EXOTIC = {
  'a Proxy policy whose ownKeys lists a key it has no descriptor for': () => new Proxy({ net: false }, {
    ownKeys: () => ['net', 'fs'],
    getOwnPropertyDescriptor: (t, k) => (k === 'fs' ? undefined : Reflect.getOwnPropertyDescriptor(t, k)),
  }),
  'a revoked Proxy as the policy': () => { const r = Proxy.revocable({}, {}); r.revoke(); return r.proxy; },
  'a revoked Proxy as net': () => { const r = Proxy.revocable({}, {}); r.revoke(); return { net: r.proxy }; },
  'a revoked Proxy as fs.read': () => { const r = Proxy.revocable([], {}); r.revoke(); return { fs: { read: r.proxy } }; },
  'a transparent Proxy of an array as net.connect': () => ({ net: { connect: new Proxy(['localhost:80'], {}) } }),
  'a transparent Proxy of a plain object as fs': () => ({ fs: new Proxy({ write: ['/tmp'] }, {}) }),
};

function namedCase(table, name) {
  const g = makeGen(caseRng(7, name.length));
  return { input: table[name](), g };
}

// ===========================================================================
// Worker side
// ===========================================================================

// suite name -> [table of named inputs or null (the random fuzz), runOne options]
const SUITES = {
  fuzz: [null, {}, WATCHDOG_MS],
  big: [BIG, { lattice: false, big: true }, BIG_WATCHDOG_MS],
  bigPaths: [BIG_PATHS, { lattice: false, big: true }, BIG_WATCHDOG_MS],
  bigLattice: [BIG_LATTICE, { latticeOnly: true, big: true }, BIG_WATCHDOG_MS],
  exotic: [EXOTIC, {}, WATCHDOG_MS],
};

if (!isMainThread) {
  const { suite, seed, from, to, only, sab } = workerData;
  const ctl = new Int32Array(sab, 0, 2); // [case index, running]: the watchdog's view
  const [table, opts] = SUITES[suite];
  const names = table && Object.keys(table);
  const { runOne } = makeChecker();
  for (let i = from; i < to; i++) {
    if (only !== undefined && i !== only) continue;
    const { input, g } = names ? namedCase(table, names[i]) : fuzzCase(seed, i);
    Atomics.store(ctl, 0, i);
    Atomics.store(ctl, 1, 1);
    let r;
    try {
      r = runOne(input, g, opts);
    } catch (e) {
      r = { outcome: 'failure', why: `the check itself threw: ${e && e.stack}`, times: {} };
    }
    Atomics.store(ctl, 1, 0);
    if ((r.outcome === 'failure' || r.roundTrip) && i - from < 1000) r.input = describe(input);
    parentPort.postMessage({ i, r });
  }
  parentPort.postMessage({ done: true });
} else {
  // =========================================================================
  // Main side: the tests and the watchdog
  // =========================================================================
  const { test } = require('node:test');
  const assert = require('node:assert/strict');

  const SEED = Number(process.env.BLACKBOX_FUZZ_SEED ?? 0x0b1ac4b0);
  const N = Number(process.env.BLACKBOX_FUZZ_N ?? 12000);
  const ONLY = process.env.BLACKBOX_FUZZ_ONLY === undefined ? undefined : Number(process.env.BLACKBOX_FUZZ_ONLY);

  /**
   * Run cases [0, count) of `suite` in a worker, one result message per case.
   * A case still running after its suite's watchdog time is a hang: the worker is terminated,
   * the case recorded, and a new worker resumes at the first case without a result.
   */
  async function runSuite(suite, count, names) {
    const results = new Map();
    const t0 = performance.now();
    const first = () => { let i = 0; while (i < count && results.has(i)) i++; return i; };
    const only = suite === 'fuzz' ? ONLY : undefined;
    while (only === undefined ? first() < count : !results.has(only)) {
      const sab = new SharedArrayBuffer(8);
      const ctl = new Int32Array(sab, 0, 2);
      Atomics.store(ctl, 0, -1);
      const w = new Worker(__filename, { workerData: { suite, seed: SEED, from: only ?? first(), to: count, only, sab } });
      await new Promise((resolve, reject) => {
        let settled = false;
        const end = (f) => { if (!settled) { settled = true; clearInterval(timer); f(); } };
        // A hang: the same case index, still running, for the watchdog time of this thread's clock.
        const watchdogMs = SUITES[suite][2];
        let lastIndex = -2;
        let lastSeen = performance.now();
        const timer = setInterval(() => {
          const idx = Atomics.load(ctl, 0);
          const running = Atomics.load(ctl, 1) === 1;
          const now = performance.now();
          if (idx !== lastIndex || !running) { lastIndex = idx; lastSeen = now; return; }
          if (now - lastSeen > watchdogMs) {
            end(() => {
              results.set(idx, { outcome: 'failure', hang: true, why: `still running after ${watchdogMs} ms (terminated)`, times: {} });
              w.terminate().then(resolve, resolve);
            });
          }
        }, 50);
        w.on('message', (m) => {
          if (m.done) end(resolve);
          else results.set(m.i, m.r);
        });
        w.once('error', (e) => end(() => reject(e)));
        w.once('exit', (code) => end(() => reject(new Error(`fuzz worker exited with ${code}`))));
      });
    }
    const total = { accepted: 0, refused: 0, failures: [], roundTrip: [], slowest: {}, ran: 0, fields: Object.create(null), hangs: [], wallMs: performance.now() - t0 };
    for (const [i, r] of [...results].sort((a, b) => a[0] - b[0])) {
      const label = names ? names[i] : i;
      total.ran++;
      if (r.roundTrip) total.roundTrip.push({ case: label, why: r.roundTrip, input: r.input });
      for (const [f, ms] of Object.entries(r.times)) if (!total.slowest[f] || ms > total.slowest[f].ms) total.slowest[f] = { ms, case: label };
      if (r.outcome === 'failure') {
        total.failures.push({ case: label, why: r.why, input: r.input });
        if (r.hang) total.hangs.push(label);
        continue;
      }
      total[r.outcome]++;
      if (r.field !== undefined) {
        const top = r.field.replace(/\[\d+\]/g, '[]');
        total.fields[top] = (total.fields[top] || 0) + 1;
      }
    }
    return total;
  }

  function report(t, r, what) {
    t.diagnostic(`${what}: ${r.ran} inputs in ${(r.wallMs / 1000).toFixed(2)} s — ${r.accepted} accepted, ${r.refused} refused, ${r.failures.length} failures, ${r.hangs.length} hangs; seed 0x${SEED.toString(16)}`);
    t.diagnostic(`slowest call of each: ${Object.entries(r.slowest).map(([f, v]) => `${f} ${v.ms.toFixed(1)} ms (case ${JSON.stringify(v.case)})`).join(', ')}`);
  }
  function failText(r, list = r.failures) {
    return list.slice(0, Number(process.env.BLACKBOX_FUZZ_SHOW ?? 10)).map((f) => `case ${JSON.stringify(f.case)}: ${f.why ? f.why.split('\n    at ').slice(0, 3).join('\n    at ') : '(details: run it alone)'}${f.input ? `\n    input: ${f.input}` : ''}`).join('\n');
  }

  let fuzzRun;
  const fuzz = () => (fuzzRun ??= runSuite('fuzz', N));

  test(`fuzz: ${N} random and mutated policies — accepted and compiled, or refused with ERR_BLACKBOX_POLICY naming a real field; none over ${CASE_LIMIT_MS} ms`, { timeout: 300000 }, async (t) => {
    const r = await fuzz();
    report(t, r, 'policy fuzz');
    t.diagnostic(`refusals by field: ${Object.entries(r.fields).filter(([, c]) => c >= 20).map(([f, c]) => `${f || '(policy)'} ${c}`).join(', ')}, others ${Object.values(r.fields).filter((c) => c < 20).reduce((a, c) => a + c, 0)}`);
    assert.ok(r.failures.length === 0, `${r.failures.length} failing inputs (reproduce with BLACKBOX_FUZZ_SEED=${SEED} BLACKBOX_FUZZ_ONLY=<case>):\n${failText(r)}`);
    if (ONLY !== undefined) return;
    assert.equal(r.ran, N);
    // The generators exercise both sides and every part of the policy (else this test could not fail).
    assert.ok(r.accepted > N * 0.15, `only ${r.accepted} accepted`);
    assert.ok(r.refused > N * 0.3, `only ${r.refused} refused`);
    for (const f of ['', 'net', 'net.connect[]', 'net.listen[]', 'net.unix[]', 'net.dns', 'fs', 'fs.read[]', 'fs.write[]', 'childProcess[]', 'addons', 'workers', 'mode']) {
      assert.ok(r.fields[f] > 0, `no input was refused at ${f || 'the policy itself'}`);
    }
  });

  // Was todo until expandPath() refused a stray "$" after a leading variable
  // ("$HOME/x/$HOME") as it does without one, and execEntry() refused entries
  // that can only name a directory ("/.", "/usr/bin/..", a bare $NODE).
  test('fuzz: normalization is a fixed point (the normalized policy, written back as a policy, normalizes to itself)', {
    timeout: 300000,
  }, async (t) => {
    const r = await fuzz();
    t.diagnostic(`${r.roundTrip.length} of ${r.accepted} accepted policies are not a fixed point`);
    assert.ok(r.roundTrip.length === 0, failText(r, r.roundTrip));
  });

  // Was todo while minimalPaths() was O(n² × length) (the 4096 × 4000-character
  // case passed the limit on some runs and not on others under CI load).
  test('boundary sizes: the largest lists and longest strings are accepted or refused within the time limit', { timeout: 120000 }, async (t) => {
    const names = Object.keys(BIG);
    const r = await runSuite('big', names.length, names);
    report(t, r, 'boundary sizes');
    assert.ok(r.failures.length === 0, failText(r));
    assert.equal(r.refused, names.filter((n) => n.endsWith('(refused)')).length, 'exactly the over-limit inputs are refused');
  });

  test('boundary sizes: 4096-entry path lists are normalized within the time limit', { timeout: 120000 }, async (t) => {
    const names = Object.keys(BIG_PATHS);
    const r = await runSuite('bigPaths', names.length, names);
    report(t, r, 'big path lists');
    assert.ok(r.failures.length === 0, failText(r));
  });

  test('boundary sizes: intersect(p, p) and widenings(p, p) — a repeated lockdown(p) — stay within the time limit', { timeout: 120000 }, async (t) => {
    const names = Object.keys(BIG_LATTICE);
    const r = await runSuite('bigLattice', names.length, names);
    report(t, r, 'boundary sizes, lattice');
    assert.ok(r.failures.length === 0, failText(r));
  });

  test('exotic inputs: Proxies are accepted or refused with ERR_BLACKBOX_POLICY, never a bare TypeError', async (t) => {
    const names = Object.keys(EXOTIC);
    const r = await runSuite('exotic', names.length, names);
    report(t, r, 'exotic inputs');
    assert.ok(r.failures.length === 0, failText(r));
  });
}
