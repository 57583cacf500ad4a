'use strict';
// tsc -p on a small project, under lockdown: reads limited to the project
// (plus the default grants: typescript's own package, with its lib .d.ts
// files, is the main module's root), writes limited to its outDir, no network,
// no children. The emitted JS exists and runs; writing anywhere else — in the
// project's src/, or another temp dir — is denied; and a project whose outDir
// is not granted fails to emit (tsc's own error names the denial).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { haveKernel, tempDir } = require('../helpers/harness');
const { runApp, bin, plainStderr } = require('./fixtures/run-app');

const skip = haveKernel();
const TSC = bin('typescript', 'bin', 'tsc');

function project() {
  const p = tempDir('bb-app-tsc-');
  fs.mkdirSync(path.join(p.dir, 'src'));
  fs.writeFileSync(path.join(p.dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'es2020', module: 'commonjs', outDir: 'out', strict: true, types: [], declaration: true },
    include: ['src'],
  }));
  fs.writeFileSync(path.join(p.dir, 'src', 'a.ts'), 'export interface P { x: number }\nexport const double = (p: P): number => p.x * 2;\n');
  fs.writeFileSync(path.join(p.dir, 'src', 'main.ts'), 'import { double } from "./a";\nconsole.log(`answer ${double({ x: 21 })}`);\n');
  return p;
}

test('tsc -p: emits into the granted outDir; writes elsewhere are denied', { skip, timeout: 60000 }, async () => {
  const p = project();
  const other = tempDir('bb-app-tsc-other-');
  try {
    const out = path.join(p.dir, 'out');
    // Landlock grants only paths that exist at lockdown (the report warns about
    // a missing one): without this mkdir, tsc's mkdir(out) is denied (EACCES,
    // layer 'kernel') and nothing is emitted. A build dir made before the
    // lockdown is the way to grant it.
    fs.mkdirSync(out);
    const r = await runApp([TSC, '-p', '.'], {
      cwd: p.dir,
      policy: { fs: { read: [p.dir], write: [out] }, net: false, childProcess: false },
      probeWrite: [path.join(p.dir, 'src', 'evil.js'), path.join(other.dir, 'leak.js')],
    });
    assert.equal(r.status, 0, `tsc failed: ${r.stdout}\n${plainStderr(r)}`);
    assert.ok(r.lockdown.layers.seccomp && r.lockdown.layers.landlock >= 1, JSON.stringify(r.lockdown));
    assert.deepEqual(fs.readdirSync(out).sort(), ['a.d.ts', 'a.js', 'main.d.ts', 'main.js']);
    assert.equal(execFileSync(process.execPath, [path.join(out, 'main.js')], { encoding: 'utf8' }), 'answer 42\n', 'the emitted JS runs');
    assert.deepEqual(r.violations, [], 'denials tsc met while compiling');
    for (const pr of r.probes) {
      assert.equal(pr.js, 'ERR_ACCESS_DENIED', pr.path);
      assert.equal(pr.raw, -13, `${pr.path}: raw open for writing gets EACCES`);
    }
    assert.equal(r.probes.length, 2);
    assert.deepEqual(fs.readdirSync(path.join(p.dir, 'src')).sort(), ['a.ts', 'main.ts']);
    assert.deepEqual(fs.readdirSync(other.dir), []);
  } finally {
    p.cleanup();
    other.cleanup();
  }
});

test('tsc -p with the outDir not granted: nothing is emitted, tsc reports the denied writes', { skip, timeout: 60000 }, async () => {
  const p = project();
  try {
    fs.mkdirSync(path.join(p.dir, 'out'));
    const r = await runApp([TSC, '-p', '.'], { cwd: p.dir, policy: { fs: { read: [p.dir], write: false }, net: false, childProcess: false } });
    assert.notEqual(r.status, 0, 'tsc fails');
    const out = path.join(p.dir, 'out');
    // tsc's own diagnostic for each file it could not write (TS5033 is tsc's code for that)…
    const unwritten = [...r.stdout.matchAll(/error TS5033: Could not write file '([^']+)'/g)].map((m) => m[1]);
    assert.ok(unwritten.length > 0 && unwritten.every((f) => path.dirname(f) === out), r.stdout);
    // …each one a denied write, as the violation channel reports it (permission, resource, layer).
    assert.ok(r.violations.length > 0, 'tsc met denials');
    assert.deepEqual([...new Set(r.violations)].sort(), [...new Set(unwritten)].sort().map((f) => `FileSystemWrite ${f} (js)`));
    assert.deepEqual(fs.readdirSync(out), [], 'nothing emitted');
  } finally {
    p.cleanup();
  }
});
