'use strict';
// prettier --write on a temp directory, under lockdown: reads limited to that
// directory (plus the default grants, which include prettier's own package as
// the main module's root), writes limited to it, no network, no children.
// The files are really reformatted (compared with prettier's own output,
// computed here, outside the sandbox); a write outside — from a prettier
// plugin loaded by the CLI, and from the same process through fs and through
// a raw open(2) — is denied, and nothing appears on disk.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { haveKernel, tempDir } = require('../helpers/harness');
const { runApp, bin, plainStderr } = require('./fixtures/run-app');

const skip = haveKernel();

const FILES = {
  'a.js': 'const  a = {b:1,\n  c:2}\nfunction f ( x ){return x*2}\nmodule.exports = {a,f}\n',
  'b.json': '{"a":1,\n"b":[1,2,\n3],   "c": {"d":null}}',
  'c.md': '# Title\n\n* one\n* two\n\nSome   *text*  here.\n',
  'd.css': 'a{color:red;background:blue}\n.b  >  .c{margin:0 0 0 0}\n',
  'e.ts': 'interface P {x:number}\nexport const g=(p:P):number=>p.x*2\n',
};

test('prettier --write: files in the granted directory are reformatted; writes elsewhere are denied', { skip, timeout: 60000 }, async () => {
  const work = tempDir('bb-app-prettier-');
  const other = tempDir('bb-app-prettier-other-');
  const plugins = tempDir('bb-app-prettier-plugin-');
  try {
    for (const [f, text] of Object.entries(FILES)) fs.writeFileSync(path.join(work.dir, f), text);
    // A plugin that, when prettier loads it, tries to write outside the grants.
    const pluginLeak = path.join(other.dir, 'from-plugin');
    fs.writeFileSync(path.join(plugins.dir, 'evil-plugin.mjs'), [
      "import fs from 'node:fs';",
      'let r;',
      `try { fs.writeFileSync(${JSON.stringify(pluginLeak)}, 'LEAK'); r = 'written'; } catch (e) { r = e.code; }`,
      "process.stderr.write('\\n@@plugin ' + JSON.stringify(r) + '\\n');",
      'export const languages = [];',
      'export const parsers = {};',
      'export const printers = {};',
      '',
    ].join('\n'));
    const prettier = require('prettier');
    const want = {};
    for (const [f, text] of Object.entries(FILES)) want[f] = await prettier.format(text, { filepath: path.join(work.dir, f) });

    const probeLeak = path.join(other.dir, 'from-process');
    const r = await runApp([bin('prettier', 'bin', 'prettier.cjs'), '--write', '--plugin', path.join(plugins.dir, 'evil-plugin.mjs'), '.'], {
      cwd: work.dir,
      policy: { fs: { read: [work.dir, plugins.dir], write: [work.dir] }, net: false, childProcess: false },
      probeWrite: [probeLeak],
    });
    assert.equal(r.status, 0, `prettier failed: ${plainStderr(r)}\n${r.stdout}`);
    assert.ok(r.lockdown.layers.seccomp && r.lockdown.layers.landlock >= 1, JSON.stringify(r.lockdown));
    for (const f of Object.keys(FILES)) {
      const got = fs.readFileSync(path.join(work.dir, f), 'utf8');
      assert.notEqual(got, FILES[f], `${f} was rewritten`);
      assert.equal(got, want[f], `${f} is prettier's output`);
    }
    // What prettier met besides the plugin's write: its config search looks for
    // .editorconfig in every directory above the work dir (outside the grant,
    // and absent); the guard answers ERR_ACCESS_DENIED where the file system
    // would say ENOENT, and prettier treats both as "no such config".
    const ancestors = [];
    for (let d = path.dirname(work.dir); ; d = path.dirname(d)) { ancestors.push(d); if (d === '/') break; }
    const unexpected = r.violations.filter((v) => v !== `FileSystemWrite ${pluginLeak} (js)` &&
      !ancestors.some((d) => v === `FileSystemRead ${path.join(d, '.editorconfig')} (js)`));
    assert.deepEqual(unexpected, [], 'denials prettier met while formatting');
    // The denials.
    assert.match(r.stderr, /@@plugin "ERR_ACCESS_DENIED"/, `the plugin's write: ${plainStderr(r)}`);
    assert.equal(r.probes.length, 1);
    assert.equal(r.probes[0].js, 'ERR_ACCESS_DENIED');
    assert.equal(r.probes[0].raw, -13, 'raw open(O_WRONLY|O_CREAT) outside the grant: EACCES from Landlock');
    assert.deepEqual(fs.readdirSync(other.dir), [], 'nothing was written outside the granted directory');
  } finally {
    work.cleanup();
    other.cleanup();
    plugins.cleanup();
  }
});
