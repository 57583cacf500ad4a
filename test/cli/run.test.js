'use strict';
// blackbox run, end to end: the real bin/blackbox.js starts real programs (python3, bash,
// curl, sh, node) under a policy; the evidence is what loopback servers received, files on
// disk, exit codes and the one-line reports on stderr. Nothing here locks down the runner.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, haveKernel, runProcess, cannotUnshare, runWithPrivateFile, recordingServer, tempDir, sleep } = require('../helpers/harness');

const BIN = path.join(ROOT, 'bin', 'blackbox.js');
const skip = haveKernel();
const which = (name) => ['/usr/bin', '/bin'].map((d) => path.join(d, name)).find((p) => fs.existsSync(p));
const PYTHON = which('python3');
const CURL = which('curl');
const BASH = which('bash');

/** Run `blackbox <args>`; resolves { status, signal, stdout, stderr }. Bounded. */
function blackbox(args, opts = {}) {
  return runProcess(process.execPath, [BIN, ...args], opts);
}

const deniedLines = (stderr) => stderr.split('\n').filter((l) => l.startsWith('blackbox: denied'));

/** python3 connecting to each host:port, printing ok/fail lines (errno name). */
const pyConnect = (targets) => [
  '-c',
  `import socket, errno\nfor h, p in ${JSON.stringify(targets)}:\n  try:\n    s = socket.create_connection((h, p), timeout=3); s.sendall(b'PY'); s.close(); print('ok', h, p)\n  except OSError as e:\n    print('fail', h, p, errno.errorcode.get(e.errno, e.errno))`,
];

test('run: python3 under the default policy cannot reach a loopback server; the server receives nothing', { skip: skip || (!PYTHON && 'no python3') }, async () => {
  const srv = await recordingServer();
  try {
    const r = await blackbox(['run', '--allow-fs-read', '--', PYTHON, ...pyConnect([['127.0.0.1', srv.port]])]);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^fail 127\\.0\\.0\\.1 ${srv.port} (EACCES|EPERM)$`, 'm'), r.stdout + r.stderr);
    // the libc hook names it where libc got the errno (no supervisor runs under net: false)
    assert.deepEqual(deniedLines(r.stderr), ['blackbox: denied net socket AF_INET/SOCK_STREAM (grant with --allow-net)']);
    await sleep(100);
    assert.strictEqual(srv.connections(), 0);
  } finally {
    await srv.close();
  }
});

test('run: bash /dev/tcp and curl are denied the same way; with -A they get through (the test can fail)', { skip: skip || (!BASH && 'no bash') }, async () => {
  const srv = await recordingServer({ onData: (c, s) => { if (c.bytes.includes('\r\n\r\n')) s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi'); } });
  try {
    const b = await blackbox(['run', '--', BASH, '-c', `echo BASHTAG > /dev/tcp/127.0.0.1/${srv.port}; echo rc=$?`]);
    assert.match(b.stdout, /rc=1/);
    assert.match(b.stderr, /Permission denied/);
    if (CURL) {
      const c = await blackbox(['run', '--', CURL, '-s', '-m', '3', `http://127.0.0.1:${srv.port}/CURLTAG`]);
      assert.notStrictEqual(c.status, 0);
    }
    await sleep(100);
    assert.strictEqual(srv.connections(), 0);
    const ok = await blackbox(['run', '-A', '--', BASH, '-c', `echo BASHTAG > /dev/tcp/127.0.0.1/${srv.port}; echo rc=$?`]);
    assert.match(ok.stdout, /rc=0/, ok.stderr);
    await sleep(100);
    assert.ok(srv.has('BASHTAG'));
  } finally {
    await srv.close();
  }
});

test('run: --allow-net=127.0.0.1:P lets exactly that through (the supervisor): 127.0.0.2:P and 127.0.0.1:Q are denied, each with one report line', { skip: skip || (!PYTHON && 'no python3') }, async () => {
  const a = await recordingServer();
  const b = await recordingServer({ host: '127.0.0.2', port: a.port });
  const c = await recordingServer();
  try {
    const r = await blackbox(['run', `--allow-net=127.0.0.1:${a.port}`, '--', PYTHON, ...pyConnect([['127.0.0.1', a.port], ['127.0.0.2', a.port], ['127.0.0.1', c.port]])]);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^ok 127\\.0\\.0\\.1 ${a.port}$`, 'm'), r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^fail 127\\.0\\.0\\.2 ${a.port} EACCES$`, 'm'));
    assert.match(r.stdout, new RegExp(`^fail 127\\.0\\.0\\.1 ${c.port} EACCES$`, 'm'));
    assert.deepStrictEqual(deniedLines(r.stderr), [
      `blackbox: denied net connect 127.0.0.2:${a.port} (grant with --allow-net=127.0.0.2:${a.port})`,
      `blackbox: denied net connect 127.0.0.1:${c.port} (grant with --allow-net=127.0.0.1:${c.port})`,
    ]);
    await sleep(100);
    assert.ok(a.has('PY'));
    assert.strictEqual(b.connections(), 0);
    assert.strictEqual(c.connections(), 0);
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});

test('run: --deny-child-process lets the command start and nothing after it; --allow-child-process lets sh spawn', { skip }, async () => {
  const t = tempDir();
  try {
    const marker = path.join(t.dir, 'spawned');
    const script = `/usr/bin/touch ${marker}; echo touch=$?`;
    const denied = await blackbox(['run', `--allow-fs-write=${t.dir}`, '--deny-child-process', '--', '/bin/sh', '-c', script]);
    assert.doesNotMatch(denied.stdout, /touch=0/);
    assert.strictEqual(fs.existsSync(marker), false);
    // exec into another program (no fork) is refused too: Landlock EXECUTE names only sh
    const exec = await blackbox(['run', `--allow-fs-write=${t.dir}`, '--', '/bin/sh', '-c', `exec /usr/bin/touch ${marker}`]);
    assert.notStrictEqual(exec.status, 0);
    assert.strictEqual(fs.existsSync(marker), false);
    const allowed = await blackbox(['run', `--allow-fs-write=${t.dir}`, '--allow-child-process', '--', '/bin/sh', '-c', script]);
    assert.match(allowed.stdout, /touch=0/, allowed.stderr);
    assert.strictEqual(fs.existsSync(marker), true);
  } finally {
    t.cleanup();
  }
});

test('run: fs writes outside --allow-fs-write are denied by the kernel, inside they land', { skip: skip || (!PYTHON && 'no python3') }, async () => {
  const a = tempDir();
  const b = tempDir();
  try {
    const code = `import os\nfor d in ${JSON.stringify([a.dir, b.dir])}:\n  try:\n    open(os.path.join(d, 'f'), 'w').write('x'); print('wrote', d)\n  except OSError as e:\n    print('denied', d, e.errno)`;
    const r = await blackbox(['run', `--allow-fs-write=${a.dir}`, '--', PYTHON, '-c', code]);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(a.dir, 'f')));
    assert.strictEqual(fs.existsSync(path.join(b.dir, 'f')), false);
    assert.match(r.stdout, new RegExp(`denied ${b.dir} 13`));
    const f = path.join(b.dir, 'f');
    assert.deepEqual(deniedLines(r.stderr), [`blackbox: denied fs write ${f} (grant with --allow-fs-write=${f})`]);
  } finally {
    a.cleanup();
    b.cleanup();
  }
});

test('run: a Node server with --allow-listen=127.0.0.1:P serves requests; a handler reaching another port gets ERR_ACCESS_DENIED (the JS layer is there)', { skip }, async () => {
  const other = await recordingServer();
  const t = tempDir();
  try {
    // find a free port for the server: bind, read, close (the child binds it right after)
    const port = await new Promise((res) => { const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
    const app = path.join(t.dir, 'server.js');
    fs.writeFileSync(app, `
      const http = require('node:http'), net = require('node:net');
      let n = 0;
      const srv = http.createServer((req, res) => {
        if (req.url === '/out') {
          const s = net.connect(${other.port}, '127.0.0.1');
          s.on('connect', () => res.end('connected'));
          s.on('error', (e) => res.end(JSON.stringify({ code: e.code, permission: e.permission, resource: e.resource, layer: e.layer })));
          return;
        }
        res.end('hello ' + (++n));
        if (n === 20) setTimeout(() => srv.close(), 50);
      }).listen(${port}, '127.0.0.1', () => console.log('listening'));
      srv.on('close', () => console.log('served', n));
    `);
    let bodies = [];
    let out = '';
    const r = await blackbox(['run', `--allow-listen=127.0.0.1:${port}`, '--', process.execPath, app], {
      onSpawn: (child, stdout) => {
        const go = async () => {
          const http = require('node:http');
          const get = (p) => new Promise((res, rej) => http.get({ host: '127.0.0.1', port, path: p, agent: false }, (m) => { let b = ''; m.on('data', (d) => { b += d; }); m.on('end', () => res(b)); }).on('error', rej));
          for (let i = 0; i < 100 && !stdout().includes('listening'); i++) await sleep(50);
          out = await get('/out');
          for (let i = 0; i < 20; i++) bodies.push(await get('/'));
        };
        go().catch((e) => { bodies = [String(e)]; child.kill(); });
      },
    });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /served 20/);
    assert.deepStrictEqual(bodies, Array.from({ length: 20 }, (_, i) => `hello ${i + 1}`));
    assert.deepStrictEqual(JSON.parse(out), { code: 'ERR_ACCESS_DENIED', permission: 'Net', resource: `127.0.0.1:${other.port}`, layer: 'js' });
    assert.strictEqual(other.connections(), 0);
  } finally {
    await other.close();
    t.cleanup();
  }
});

test('run: exit codes and signals pass through (128+signal), and SIGTERM sent to blackbox reaches the command', { skip }, async () => {
  assert.strictEqual((await blackbox(['run', '--', '/bin/sh', '-c', 'exit 7'])).status, 7);
  assert.strictEqual((await blackbox(['run', '--', '/bin/sh', '-c', 'kill -KILL $$'])).status, 137);
  const r = await blackbox(['run', '--', process.execPath, '-e', "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(5); }); console.log('up'); setTimeout(() => {}, 15000);"], {
    onSpawn: (child, stdout) => {
      const poll = setInterval(() => { if (stdout().includes('up')) { clearInterval(poll); child.kill('SIGTERM'); } }, 20);
      setTimeout(() => clearInterval(poll), 10000).unref();
    },
  });
  assert.strictEqual(r.status, 5, r.stderr);
  assert.match(r.stdout, /got SIGTERM/);
});

test('run: --exit-on-violation ends the command with 78 at the first kernel report; --log writes one JSON line per violation', { skip: skip || (!PYTHON && 'no python3') }, async () => {
  const a = await recordingServer();
  const t = tempDir();
  try {
    const log = path.join(t.dir, 'v.jsonl');
    const t0 = Date.now();
    const r = await blackbox(['run', `--allow-net=127.0.0.1:${a.port}`, '--exit-on-violation', '--log', log, '--', PYTHON, '-c',
      `import socket, time\ntry:\n  socket.create_connection(('127.0.0.2', ${a.port}), timeout=2)\nexcept OSError:\n  pass\ntime.sleep(15)\nprint('still here')`]);
    assert.strictEqual(r.status, 78, r.stderr);
    assert.ok(Date.now() - t0 < 10000);
    assert.doesNotMatch(r.stdout, /still here/);
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.strictEqual(lines.length, 1);
    assert.strictEqual(lines[0].resource, `127.0.0.2:${a.port}`);
    assert.strictEqual(lines[0].permission, 'Net');
    assert.strictEqual(lines[0].layer, 'kernel');
  } finally {
    await a.close();
    t.cleanup();
  }
});

test('run: a malformed policy file, an unknown flag and a bad value exit 2 before anything runs, naming file, field and flag', { skip: process.platform !== 'linux' && 'Linux' }, async () => {
  const t = tempDir();
  try {
    const marker = path.join(t.dir, 'ran');
    const pf = path.join(t.dir, 'policy.json');
    fs.writeFileSync(pf, JSON.stringify({ net: { connect: ['127.0.0.1:80', 'bad host!'] } }));
    const cmd = ['--', '/bin/sh', '-c', `echo > ${marker}`];
    const bad = await blackbox(['run', '--policy', pf, ...cmd]);
    assert.strictEqual(bad.status, 2);
    assert.ok(bad.stderr.includes(pf) && bad.stderr.includes('net.connect[1]'), bad.stderr);
    const unknown = await blackbox(['run', '--allow-network', ...cmd]);
    assert.strictEqual(unknown.status, 2);
    assert.match(unknown.stderr, /unknown option --allow-network/);
    const value = await blackbox(['run', '--allow-net=300.1.1.1:99999', ...cmd]);
    assert.strictEqual(value.status, 2);
    assert.match(value.stderr, /--allow-net=300\.1\.1\.1:99999/);
    const novalue = await blackbox(['run', '--allow-addons=yes', ...cmd]);
    assert.strictEqual(novalue.status, 2);
    assert.strictEqual(fs.existsSync(marker), false);
    const help = await blackbox(['run', '--help']);
    assert.strictEqual(help.status, 0);
    assert.match(help.stdout, /--allow-listen/);
    assert.match(help.stdout, /offline-build/);
  } finally {
    t.cleanup();
  }
});

test('run: a Node child that re-runs the preload with a wider BLACKBOX_POLICY changes nothing the kernel enforces', { skip }, async () => {
  const srv = await recordingServer();
  try {
    const inner = `require('node:net').connect(${srv.port}, '127.0.0.1').on('connect', () => console.log('INNER connected')).on('error', (e) => console.log('INNER', e.code, e.layer));`;
    const outer = `const r = require('node:child_process').spawnSync(process.execPath, ['-e', ${JSON.stringify(inner)}], { env: { ...process.env, BLACKBOX_POLICY: JSON.stringify({ net: true, childProcess: true }) }, encoding: 'utf8' }); process.stdout.write(r.stdout + r.stderr);`;
    const r = await blackbox(['run', `--allow-child-process=${process.execPath}`, '--', process.execPath, '-e', outer]);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /INNER (ERR_ACCESS_DENIED kernel|EACCES|EPERM)/, r.stdout);
    await sleep(100);
    assert.strictEqual(srv.connections(), 0);
  } finally {
    await srv.close();
  }
});

test('run: a supervised Node command, and a node it starts, each report netSupervisor after its own self-test through the launcher', { skip }, async () => {
  const srv = await recordingServer();
  try {
    const report = `const k = require(${JSON.stringify(path.join(ROOT, 'dist', 'enforce', 'binding.js'))}).loadBinding();
      const o = { layers: require(${JSON.stringify(ROOT)}).status().layers, selftest: process.env.BLACKBOX_SELFTEST, granted: k.probeConnect('127.0.0.1', ${srv.port}), other: k.probeConnect('127.0.0.2', ${srv.port}) };`;
    // the inner node is a child process (npm's lifecycle scripts are the everyday case)
    const inner = `${report} console.log('##inner' + JSON.stringify(o));`;
    const app = `${report} console.log('##outer' + JSON.stringify(o));
      const r = require('node:child_process').spawnSync(process.execPath, ['-e', ${JSON.stringify(inner)}], { encoding: 'utf8' });
      process.stdout.write(r.stdout + r.stderr);`;
    const r = await blackbox(['run', `--allow-net=127.0.0.1:${srv.port}`, `--allow-child-process=${process.execPath}`, '--', process.execPath, '-e', app]);
    assert.strictEqual(r.status, 0, r.stderr);
    for (const who of ['outer', 'inner']) {
      const line = r.stdout.split('\n').find((l) => l.startsWith(`##${who}`)); // not @@: the harness parses those
      assert.ok(line, `${who}: ${r.stdout}${r.stderr}`);
      const o = JSON.parse(line.slice(2 + who.length));
      assert.strictEqual(o.layers.netSupervisor, true, `${who}: ${line}`);
      assert.match(o.selftest, /^\d+:\d+$/);
      assert.ok(o.granted === 0 || o.granted === -115, `${who} granted: ${o.granted}`);
      assert.strictEqual(o.other, -13, `${who}: 127.0.0.2 denied`);
    }
    // the self-tests are not violations: the only report lines are the two 127.0.0.2 probes
    assert.deepStrictEqual(deniedLines(r.stderr).map((l) => l.split(' ')[4]), [`127.0.0.2:${srv.port}`, `127.0.0.2:${srv.port}`], r.stderr);
    await sleep(100);
    assert.ok(srv.connections() >= 2);
  } finally {
    await srv.close();
  }
});

test('run: lines a Node command writes on its hint pipe other than "hint <name>" change nothing — no narrowing, no abort, no rules; the granted connect still arrives', { skip }, async () => {
  const srv = await recordingServer();
  try {
    const app = `
      const fs = require('node:fs');
      const junk = ['narrow-begin', 'end', 'abort', 'selftest-done', 'refresh', 'attach 1 1', 'connect tcp 0.0.0.0/0 any', 'hint ', 'hint ../../etc', 'x'.repeat(70000)];
      fs.writeSync(3, junk.join('\\n') + '\\n');
      setTimeout(() => {
        const s = require('node:net').connect(${srv.port}, '127.0.0.1', () => s.end('AFTER-JUNK'));
        s.on('close', () => console.log('done'));
        s.on('error', (e) => console.log('error', e.code, e.layer));
      }, 300);`;
    const r = await blackbox(['run', `--allow-net=127.0.0.1:${srv.port}`, '--', process.execPath, '-e', app]);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /done/);
    await sleep(100);
    assert.ok(srv.has('AFTER-JUNK'), r.stdout + r.stderr);
  } finally {
    await srv.close();
  }
});

test('run: works as an unprivileged user (nobody): the granted connect arrives, another is denied', { skip: skip || (process.getuid?.() !== 0 ? 'needs root to drop to nobody' : !PYTHON && 'no python3') }, async () => {
  const a = await recordingServer();
  const b = await recordingServer({ host: '127.0.0.2', port: a.port });
  try {
    const r = await blackbox(['run', `--allow-net=127.0.0.1:${a.port}`, '--', PYTHON, ...pyConnect([['127.0.0.1', a.port], ['127.0.0.2', a.port]])], { uid: 65534, gid: 65534, cwd: '/' , env: { HOME: '/' } });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ok 127\.0\.0\.1/m, r.stdout + r.stderr);
    assert.match(r.stdout, /^fail 127\.0\.0\.2 \d+ EACCES$/m);
    await sleep(100);
    assert.ok(a.has('PY'));
    assert.strictEqual(b.connections(), 0);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('check: flags compile like run (--json plan with the supervisor for a per-host rule)', { skip }, async () => {
  const r = await blackbox(['check', '--allow-net=127.0.0.1:5432', '--allow-fs-write=/tmp', '--json']);
  assert.strictEqual(r.status, 0, r.stderr);
  const plan = JSON.parse(r.stdout);
  assert.strictEqual(plan.policy.net.connect[0].value, '127.0.0.1');
  assert.deepStrictEqual(plan.policy.fs.write, ['/tmp']);
  assert.ok(plan.supervisor, 'a per-host rule is the supervisor\'s');
});

test('run: a *.domain rule works for a Node command — its JS layer names the host to the launcher\'s supervisor, which resolves it itself; other names are denied', { skip: skip || cannotUnshare('/etc/hosts') }, async () => {
  const a = await recordingServer();
  try {
    const inner = `const net = require('node:net');
      const go = (h) => new Promise((res) => { const s = net.connect(${a.port}, h, () => { s.end('TAG-' + h); res('ok'); }); s.on('error', (e) => res(e.code + ':' + e.layer)); });
      (async () => { console.log(JSON.stringify({ api: await go('api.bb.test'), other: await go('api.other.test') })); })();`;
    const r = await runWithPrivateFile('/etc/hosts', '127.0.0.1 localhost\n127.0.0.1 api.bb.test\n127.0.0.1 api.other.test\n', `
      const r = require('node:child_process').spawnSync(process.execPath, [${JSON.stringify(BIN)}, 'run', '--allow-net=*.bb.test:${a.port}', '--', process.execPath, '-e', ${JSON.stringify(inner)}], { encoding: 'utf8', timeout: 20000 });
      out({ status: r.status, stdout: r.stdout, stderr: r.stderr });`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.status, 0, o.stderr);
    assert.deepEqual(JSON.parse(o.stdout.trim().split('\n').pop()), { api: 'ok', other: 'ERR_ACCESS_DENIED:js' });
    await sleep(100);
    assert.ok(a.has('TAG-api.bb.test'));
    assert.ok(!a.has('TAG-api.other.test'));
  } finally {
    await a.close();
  }
});

test('run: a *.domain rule works for a non-Node command — the libc hook names what getaddrinfo resolves to the supervisor, which admits the addresses it resolves itself; nothing before the name, and no other name, gets through', { skip: skip || cannotUnshare('/etc/hosts') || (!PYTHON && 'no python3') }, async () => {
  const a = await recordingServer();
  const b = await recordingServer({ host: '127.0.0.3', port: a.port });
  try {
    // The supervisor sees addresses: before the name is named, 127.0.0.1 is no grant; after
    // it, 127.0.0.1 is (the name maps there); a name outside the domain (127.0.0.3) is not.
    const py = pyConnect([['127.0.0.1', a.port], ['api.bb.test', a.port], ['api.other.test', a.port]]);
    const r = await runWithPrivateFile('/etc/hosts', '127.0.0.1 localhost\n127.0.0.1 api.bb.test\n127.0.0.3 api.other.test\n', `
      const r = require('node:child_process').spawnSync(process.execPath, [${JSON.stringify(BIN)}, 'run', '--allow-net=*.bb.test:${a.port}', '--', ${JSON.stringify(PYTHON)}, ...${JSON.stringify(py)}], { encoding: 'utf8', timeout: 20000 });
      out({ status: r.status, stdout: r.stdout, stderr: r.stderr });`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.equal(o.status, 0, o.stderr);
    const lines = o.stdout.trim().split('\n');
    assert.deepEqual(lines, [`fail 127.0.0.1 ${a.port} EACCES`, `ok api.bb.test ${a.port}`, `fail api.other.test ${a.port} EACCES`], o.stdout + o.stderr);
    await sleep(100);
    assert.equal(a.connections(), 1);
    assert.ok(a.has('PY'));
    assert.equal(b.connections(), 0);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('run and preload: a Worker in a Node command gets the JS layer once (the inherited preload does not lock down again) and its denied connect is ERR_ACCESS_DENIED', { skip }, async () => {
  const srv = await recordingServer();
  try {
    const code = `const { Worker } = require('node:worker_threads');
      const w = new Worker("require('node:net').connect(${srv.port}, '127.0.0.1').on('error', (e) => console.log('WORKER', e.code, e.layer))", { eval: true });
      w.on('exit', (c) => console.log('EXIT', c));`;
    const viaRun = await blackbox(['run', '--', process.execPath, '-e', code]);
    // and the preload on its own (node --require blackbox-native/register)
    const viaPreload = await runProcess(process.execPath, ['--require', path.join(ROOT, 'dist', 'register.js'), '-e', code], { env: { BLACKBOX_POLICY: '{"net":false}' } });
    for (const r of [viaRun, viaPreload]) {
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /WORKER ERR_ACCESS_DENIED js/);
    assert.match(r.stdout, /EXIT 0/);
    assert.doesNotMatch(r.stderr, /Warning|no kernel layer/, r.stderr);
    }
    await sleep(100);
    assert.equal(srv.connections(), 0);
  } finally {
    await srv.close();
  }
});

test('run: --allow-fs-read=<dir> — the command reads its grant and its own /proc/self, not other files; the preloaded hook still loads and names the denial', { skip: skip || (!PYTHON && 'no python3') }, async () => {
  const t = tempDir();
  try {
    fs.writeFileSync(path.join(t.dir, 'granted'), 'GRANTED-CONTENT');
    const code = `import sys\nfor f in ${JSON.stringify([path.join(t.dir, 'granted'), '/proc/self/status', '/etc/hostname'])}:\n  try:\n    print('read', f, open(f).read().split('\\n')[0])\n  except OSError as e:\n    print('denied', f, e.errno)`;
    const r = await blackbox(['run', `--allow-fs-read=${t.dir}`, '--', PYTHON, '-c', code]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^read \S+granted GRANTED-CONTENT$/m, r.stdout + r.stderr);
    assert.match(r.stdout, /^read \/proc\/self\/status Name:\s+python3/m); // its own /proc/<pid>, granted by the launcher
    assert.match(r.stdout, /^denied \/etc\/hostname 13$/m);
    assert.doesNotMatch(r.stderr, /cannot be preloaded/);
    assert.ok(deniedLines(r.stderr).includes('blackbox: denied fs read /etc/hostname (grant with --allow-fs-read=/etc/hostname)'), r.stderr);
  } finally {
    t.cleanup();
  }
});
