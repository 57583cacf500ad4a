'use strict';
// scripts/prebuild.js without a cross toolchain: the linux-arm64 step must skip with a message
// and exit 0 (CI has no aarch64-linux-gnu-g++), building nothing. Its output goes to a temp
// --out, so it never touches this checkout's prebuilds/ (install.test.js runs beside it).
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const script = path.join(root, 'scripts', 'prebuild.js');

test('prebuild: --arch=arm64 with no cross compiler on PATH skips with a message, exit 0', { skip: process.platform === 'linux' && process.arch === 'x64' ? false : 'needs an x86_64 Linux host' }, (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-prebuild-skip-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  const out = path.join(tmp, 'out');
  const r = spawnSync(process.execPath, [script, '--arch=arm64', `--out=${out}`], { encoding: 'utf8', env: { PATH: bin, HOME: os.homedir() }, timeout: 30_000 });
  assert.strictEqual(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /linux-arm64 skipped: no aarch64-linux-gnu-gcc, aarch64-linux-gnu-g\+\+, .* on PATH/);
  assert.ok(!fs.existsSync(path.join(out, 'prebuilds', 'linux-arm64')), 'an arm64 prebuild directory was made');
});

test('prebuild: an unknown argument is refused (exit 1), nothing built', (t) => {
  const r = spawnSync(process.execPath, [script, '--arhc=arm64'], { encoding: 'utf8', timeout: 10_000 });
  assert.strictEqual(r.status, 1, r.stdout);
  assert.match(r.stderr, /unknown argument --arhc=arm64/);
});
