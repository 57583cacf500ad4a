'use strict';
// A platform with no kernel layer (macOS/Windows, or Linux where the addon failed to build or
// load), simulated in a FRESH child through the two seams src/enforce/binding.ts has:
// process.platform !== 'linux', and node-gyp-build finding no addon. lockdown() must still
// load, apply the JS layer (denials as PolicyViolation, layer 'js'), and say in the report, in
// words, that no kernel layer is active — and the words must be true: a raw binding that skips
// the JS layer does get through. Judged by what loopback servers here received and by files on
// disk. Runs on any OS: the child never loads the addon.
const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const dist = path.join(root, 'dist') + path.sep;

function listen() {
  const conns = [];
  const server = net.createServer((s) => {
    const c = { bytes: '' };
    conns.push(c);
    s.on('data', (d) => { c.bytes += d.toString('latin1'); });
    s.on('error', () => {});
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, conns, close: () => new Promise((r) => server.close(r)) }));
  });
}

function runChild(code, timeout = 20_000) {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['-e', code], { cwd: root, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => { stdout += d; });
    c.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => c.kill('SIGKILL'), timeout);
    c.on('close', (status, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').filter((l) => l.startsWith('@@')).pop();
      resolve({ status, signal, stderr, result: line ? JSON.parse(line.slice(2)) : undefined });
    });
  });
}

// The seams, installed before the package is first required.
const SEAMS = {
  darwin: `Object.defineProperty(process, 'platform', { value: 'darwin', configurable: true });`,
  'no addon': `
    // node-gyp-build's own override, pointed at a directory with no build: the loader's
    // search then finds nothing (the build/Release fast path steps aside for the override).
    process.env.BLACKBOX_NATIVE_PREBUILD = '/nonexistent-blackbox-prebuild';
    const Module = require('node:module');
    const real = Module._load;
    Module._load = function (req, ...rest) {
      if (req === 'node-gyp-build') {
        const f = () => { throw new Error('No native build was found for platform=test'); };
        f.resolve = f;
        return f;
      }
      return real.call(this, req, ...rest);
    };`,
};

for (const [name, seam] of Object.entries(SEAMS)) {
  test(`no kernel layer (${name}): lockdown() applies the JS layer and the report says no kernel layer is active`, async (t) => {
    const granted = await listen();
    const other = await listen();
    t.after(() => Promise.all([granted.close(), other.close()]));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-nokernel-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'written');

    const r = await runChild(`
      ${seam}
      for (const k of Object.keys(require.cache)) if (k.startsWith(${JSON.stringify(dist)})) delete require.cache[k];
      const bb = require(${JSON.stringify(root)});
      const net = require('node:net');
      const fs = require('node:fs');
      const cp = require('node:child_process');
      const out = (o) => process.stdout.write('\\n@@' + JSON.stringify(o) + '\\n');
      const shape = (e) => ({ pv: e instanceof bb.PolicyViolation, code: e.code, layer: e.layer, permission: e.permission });
      let warned = null;
      process.on('warning', (w) => { if (w.code === 'BLACKBOX_NO_KERNEL') warned = w.message; });
      const report = bb.lockdown({ net: { connect: ['127.0.0.1:${granted.port}'] } });
      const o = { platform: process.platform, report, status: bb.status() && bb.status().layers };
      try { fs.writeFileSync(${JSON.stringify(file)}, 'leak'); o.write = 'written'; } catch (e) { o.write = shape(e); }
      try { cp.execFileSync(process.execPath, ['-e', '0']); o.spawn = 'ran'; } catch (e) { o.spawn = shape(e); }
      const viaNet = (port, tag) => new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => s.end(tag, () => resolve('sent')));
        s.on('error', (e) => resolve(shape(e)));
      });
      // Below the JS layer: only a kernel layer could stop this one.
      const raw = (port) => new Promise((resolve) => {
        const { TCP, TCPConnectWrap, constants } = process.binding('tcp_wrap');
        const h = new TCP(constants.SOCKET);
        const req = new TCPConnectWrap();
        req.oncomplete = (status) => { h.close(); resolve(status); };
        const rc = h.connect(req, '127.0.0.1', port);
        if (rc !== 0) { h.close(); resolve(rc); }
      });
      (async () => {
        o.granted = await viaNet(${granted.port}, 'nk-granted');
        o.denied = await viaNet(${other.port}, 'nk-leak');
        o.raw = await raw(${other.port});
        setImmediate(() => out({ ...o, warned }));
      })();`);
    assert.strictEqual(r.status, 0, r.stderr);
    const o = r.result;
    t.diagnostic(`report: ${JSON.stringify(o.report.layers)} ${o.report.platform}; warnings: ${o.report.warnings.join(' | ')}`);

    // the report: no kernel layer, in fields and in words
    assert.deepStrictEqual(o.report.layers, { seccomp: false, landlock: false, netSupervisor: false, jsGuards: true });
    assert.deepStrictEqual(o.status, o.report.layers);
    const words = o.report.warnings.join('\n');
    assert.match(words, /no kernel layer/);
    assert.match(words, /only by the JS layer/);
    if (name === 'darwin') {
      assert.strictEqual(o.platform, 'darwin');
      assert.match(o.report.platform, /^darwin/);
      assert.match(words, /no kernel layer on darwin/);
    } else {
      assert.match(words, /native addon could not be loaded|the native addon is not available/);
    }
    assert.match(o.warned || '', /no kernel layer is active/, 'no BLACKBOX_NO_KERNEL process warning');

    // the JS layer: each denial a PolicyViolation from layer 'js'; the grant works
    assert.deepStrictEqual(o.write, { pv: true, code: 'ERR_ACCESS_DENIED', layer: 'js', permission: 'FileSystemWrite' });
    assert.deepStrictEqual(o.spawn, { pv: true, code: 'ERR_ACCESS_DENIED', layer: 'js', permission: 'ChildProcess' });
    assert.deepStrictEqual(o.denied, { pv: true, code: 'ERR_ACCESS_DENIED', layer: 'js', permission: 'Net' });
    assert.strictEqual(o.granted, 'sent');

    // evidence outside the child
    assert.ok(!fs.existsSync(file), 'the denied write reached the disk');
    for (let i = 0; i < 50 && !granted.conns.some((c) => c.bytes === 'nk-granted'); i++) await new Promise((res) => setTimeout(res, 20));
    assert.ok(granted.conns.some((c) => c.bytes === 'nk-granted'), 'granted server got nothing');
    assert.ok(!other.conns.some((c) => c.bytes.includes('nk-leak')), 'the JS-denied connect sent bytes');
    // ...and the report's words are true: nothing below JS stops a raw binding here
    assert.strictEqual(o.raw, 0, 'raw connect failed although no kernel layer is active');
    for (let i = 0; i < 50 && other.conns.length === 0; i++) await new Promise((res) => setTimeout(res, 20));
    assert.strictEqual(other.conns.length, 1, 'the raw connect did not arrive');
  });
}
