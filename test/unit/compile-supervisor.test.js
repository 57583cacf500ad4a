'use strict';
// policy -> the connect supervisor's rule table and traps (src/compile/supervisor.ts), and
// what compile() does with it: pure, no kernel.
const test = require('node:test');
const assert = require('node:assert/strict');

const { normalizePolicy } = require('../../dist/policy');
const { compile, SUPERVISED_FLAGS } = require('../../dist/compile/plan');
const { supervisorNeeded, supervisorPlan } = require('../../dist/compile/supervisor');
const { simulate, actionName, syscallNumber, AUDIT_ARCH_X86_64 } = require('../../dist/compile/bpf');

const CTX = { CWD: '/w', HOME: '/home/u', TMPDIR: '/tmp', NODE: '/usr/local', APP: '/w' };
const norm = (p) => normalizePolicy(p, CTX);
const INPUTS = { realpath: (p) => p, writeDirs: [], denyErrno: 13 };
const target = { platform: 'linux', arch: 'x86_64', landlockAbi: 7, landlockErrata: 7, kernel: true, defaults: [], supervisor: { realpath: (p) => p, writeDirs: [] } };
const verdict = (insns, name, args = []) => actionName(simulate(insns, { nr: syscallNumber('x86_64', name), arch: AUDIT_ARCH_X86_64, args }));

test('supervisorNeeded: per-destination rules need it, in enforce and audit mode alike; all-or-nothing grants do not', () => {
  const cases = [
    [{ net: { connect: ['127.0.0.1:80'] } }, true],
    [{ mode: 'audit', net: { connect: ['127.0.0.1:80'] } }, true],
    [{ mode: 'audit', net: { listen: ['localhost:3000'] } }, true],
    [{ net: { connect: ['db.internal:5432'] } }, true],
    [{ net: true }, false],
    [{ mode: 'audit', net: true }, false],
    [{}, false],
    [{ mode: 'audit' }, false],
  ];
  for (const [p, want] of cases) assert.equal(supervisorNeeded(norm(p)), want, JSON.stringify(p));
});

test('supervisorPlan: the table starts with the mode; rules, names and traps follow the policy', () => {
  const e = supervisorPlan(norm({ net: { connect: ['127.0.0.1:80', 'db.internal:5432', '*.example.com', 'localhost'] } }), INPUTS);
  assert.equal(e.lines[0], 'mode enforce');
  assert.equal(e.lines[1], 'errno 13');
  assert.equal(e.lines.at(-1), 'end');
  for (const l of ['ip c any 127.0.0.1/32 80-80', 'host c any db.internal 5432-5432', 'wild c any example.com 0-65535', 'ip c any 127.0.0.0/8 0-65535', 'ip c any ::1/128 0-65535', 'dns']) {
    assert.ok(e.lines.includes(l), `${l} in ${e.lines.join(' | ')}`);
  }
  assert.deepEqual(e.names, ['db.internal']);
  assert.deepEqual(e.wildcards, ['example.com']);
  assert.deepEqual(e.trap, { connect: true, bind: true, send: true });

  const a = supervisorPlan(norm({ mode: 'audit', net: { connect: ['127.0.0.1:80'] } }), INPUTS);
  assert.equal(a.lines[0], 'mode audit');
  assert.deepEqual(a.lines.slice(1), e.lines.slice(1).filter((l) => !/host|wild|::1|127\.0\.0\.0|dns/.test(l)));
  assert.equal(supervisorPlan(norm({ net: true }), INPUTS), null);
});

test('compile: audit mode with a connect list traps connect/send* to the supervisor (never LOG for those), and claims no kernel enforcement', () => {
  const p = compile(norm({ mode: 'audit', net: { connect: ['127.0.0.1:80'] } }), target);
  assert.ok(p.supervisor);
  assert.equal(p.supervisor.lines[0], 'mode audit');
  assert.equal(p.seccomp.flags, SUPERVISED_FLAGS);
  for (const s of ['connect', 'sendmsg', 'sendmmsg']) assert.equal(verdict(p.seccomp.insns, s, [3, 0, 16]), 'USER_NOTIF', s);
  assert.equal(verdict(p.seccomp.insns, 'sendto', [3, 0, 1, 0, 0x1000, 16]), 'USER_NOTIF', 'sendto with an address');
  assert.equal(verdict(p.seccomp.insns, 'sendto', [3, 0, 1, 0, 0, 0]), 'ALLOW', 'send(): no address, no trap');
  assert.ok(p.warnings.some((w) => /audit mode/.test(w) && /supervisor reports/.test(w)), p.warnings.join('\n'));
  for (const c of p.coverage.filter((c) => c.capability === 'net')) assert.notEqual(c.status, 'kernel', `${c.rule}: audit enforces nothing`);

  const e = compile(norm({ net: { connect: ['127.0.0.1:80'] } }), target);
  assert.equal(e.supervisor.lines[0], 'mode enforce');
  assert.ok(e.coverage.some((c) => c.capability === 'net' && c.status === 'kernel'));
  assert.equal(e.warnings.some((w) => /audit mode/.test(w)), false);
});
