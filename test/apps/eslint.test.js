'use strict';
// eslint (v9, flat config) on a project, read-only: reads limited to the
// project (plus the default grants: eslint's package is the main module's
// root), no writes at all, no network, no children. The lint result is the
// real one (the known violations are reported at their lines); `eslint --fix`
// cannot write its fix (the file on disk is unchanged and eslint says why);
// a write from the same process, through fs and through a raw open(2), is denied.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { haveKernel, tempDir } = require('../helpers/harness');
const { runApp, bin, plainStderr } = require('./fixtures/run-app');

const skip = haveKernel();
const ESLINT = bin('eslint', 'bin', 'eslint.js');
const POLICY = (dir) => ({ fs: { read: [dir], write: false }, net: false, childProcess: false });

function project() {
  const p = tempDir('bb-app-eslint-');
  fs.writeFileSync(path.join(p.dir, 'eslint.config.mjs'), [
    'export default [{',
    "  files: ['**/*.js'],",
    "  languageOptions: { sourceType: 'commonjs', ecmaVersion: 2022, globals: { console: 'readonly', module: 'writable' } },",
    "  rules: { 'no-unused-vars': 'error', 'no-undef': 'error', eqeqeq: 'error', 'prefer-const': 'error' },",
    '}];',
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(p.dir, 'bad.js'), 'const used = 1;\nconst unused = 2;\nif (used == 1) console.log(undefinedThing);\n');
  fs.writeFileSync(path.join(p.dir, 'good.js'), 'const x = 1;\nmodule.exports = x;\n');
  fs.writeFileSync(path.join(p.dir, 'fixable.js'), 'let z = 1;\nmodule.exports = z;\n');
  return p;
}

test('eslint on a read-only project reports the known violations; writes are denied', { skip, timeout: 60000 }, async () => {
  const p = project();
  try {
    const r = await runApp([ESLINT, '--format', 'json', '.'], { cwd: p.dir, policy: POLICY(p.dir), probeWrite: [path.join(p.dir, 'evil.js')] });
    assert.equal(r.status, 1, `eslint exits 1 when it finds problems: ${plainStderr(r)}`);
    assert.ok(r.lockdown.layers.seccomp && r.lockdown.layers.landlock >= 1, JSON.stringify(r.lockdown));
    const results = Object.fromEntries(JSON.parse(r.stdout).map((f) => [path.basename(f.filePath), f.messages.map((m) => `${m.ruleId}:${m.line}`)]));
    assert.deepEqual(results['bad.js'], ['no-unused-vars:2', 'eqeqeq:3', 'no-undef:3']);
    assert.deepEqual(results['good.js'], []);
    assert.deepEqual(results['fixable.js'], ['prefer-const:1']);
    assert.deepEqual(r.violations, [], 'denials eslint met while linting');
    assert.equal(r.probes.length, 1);
    assert.equal(r.probes[0].js, 'ERR_ACCESS_DENIED');
    assert.equal(r.probes[0].raw, -13);
    assert.ok(!fs.existsSync(path.join(p.dir, 'evil.js')));
  } finally {
    p.cleanup();
  }
});

test('eslint --fix under a read-only policy: the fix is not written, and eslint says the write was denied', { skip, timeout: 60000 }, async () => {
  const p = project();
  try {
    const before = fs.readFileSync(path.join(p.dir, 'fixable.js'), 'utf8');
    const r = await runApp([ESLINT, '--fix', 'fixable.js'], { cwd: p.dir, policy: POLICY(p.dir) });
    assert.equal(r.status, 2, `eslint exits 2 on an internal error: ${r.stdout}\n${plainStderr(r)}`);
    // eslint prints the error it caught (its name, then its message)…
    assert.match(plainStderr(r), /^PolicyViolation: /m);
    assert.equal(fs.readFileSync(path.join(p.dir, 'fixable.js'), 'utf8'), before, 'the file on disk is unchanged');
    // …and that error is exactly one denied write, of the file it tried to fix.
    assert.deepEqual(r.violations, [`FileSystemWrite ${path.join(p.dir, 'fixable.js')} (js)`]);
  } finally {
    p.cleanup();
  }
});
