'use strict';
// A real app keeps working after lockdown({ net: { listen }, fs: { write: [dir] } }).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { haveKernel, tempDir, ROOT } = require('../helpers/harness');

const skip = haveKernel();

function get(port, p) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

test('http server + async fs + workers + crypto + zlib + WebAssembly keep working after lockdown', { skip, timeout: 60000 }, async () => {
  const data = tempDir();
  const outside = tempDir();
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'fixtures', 'app.js'), ROOT, data.dir, outside.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  try {
    const first = await new Promise((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
      });
      child.on('exit', () => reject(new Error(`app exited early: ${stderr}`)));
    });
    assert.equal(first.layers.seccomp, true);
    assert.ok(first.layers.landlock >= 1);
    const port = first.port;
    for (let n = 0; n < 5; n++) {
      const w = await get(port, `/write?n=${n}`);
      assert.deepEqual(w, { status: 200, body: `hello ${n}` });
      assert.equal(fs.readFileSync(path.join(data.dir, `f${n}.txt`), 'utf8'), `hello ${n}`);
    }
    assert.equal((await get(port, '/outside')).body, 'ERR_ACCESS_DENIED:js:FileSystemWrite');
    assert.equal(fs.existsSync(path.join(outside.dir, 'planted')), false);
    const expect = require('node:crypto').createHash('sha256').update('7').digest('hex');
    assert.equal((await get(port, '/worker?n=7')).body, expect);
    assert.equal((await get(port, '/crypto')).body, require('node:crypto').pbkdf2Sync('pw', 'salt', 1000, 16, 'sha256').toString('hex'));
    assert.equal((await get(port, '/zlib')).body, '1000');
    assert.equal((await get(port, '/wasm')).body, '42');
    assert.equal((await get(port, '/stop')).body, 'bye');
    const end = await exited;
    assert.equal(end.code, 0, stderr);
  } finally {
    child.kill('SIGKILL');
    data.cleanup();
    outside.cleanup();
  }
});
