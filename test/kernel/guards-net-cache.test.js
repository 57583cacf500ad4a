'use strict';
// The net guard remembers connects that passed unchanged (a literal IP and port, per policy:
// Effective.connectPass, src/guards/net.ts). What must hold, in fresh children, judged by the
// bytes loopback servers in THIS process received:
// - a remembered allow serves only its own policy: a nested guard() that narrows, and a
//   lockdown() made after it, deny the same address again; disposing the narrowing grants it
//   again;
// - it serves only its own address and port: another port of the same host, and the same port
//   of another loopback address, are still checked (and denied);
// - the port as a string and as a number both connect;
// - after a real lockdown the cached path still turns a kernel answer into a PolicyViolation
//   (layer 'kernel'): checked with a destination the JS layer allows and the kernel does not.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { haveKernel, runChild, recordingServer } = require('../helpers/harness');

const skip = haveKernel();

const HELPERS = `
  const net = require('net');
  const shape = (e) => ({ pv: e instanceof bb.PolicyViolation, code: e.code, resource: e.resource, layer: e.layer, cause: e.cause && e.cause.code });
  // connect, send a tag, wait for the server to have it (it closes after the tag), report
  const talk = (host, port, tag) => new Promise((resolve) => {
    const s = net.connect(port, host, () => { s.end(tag + '\\n'); });
    s.on('close', () => resolve({ ok: !s.errored }));
    s.on('error', (e) => resolve(shape(e)));
  });
`;

/** Runs `fn(servers)` with `n` loopback servers that close after a tagged line, then closes them. */
async function withServers(n, fn) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await recordingServer({ onData: (c, s) => { if (c.bytes.endsWith('\n')) s.end(); } }));
    return await fn(servers);
  } finally {
    for (const s of servers) await s.close();
  }
}

/** The tags a server received, in order of arrival. */
const tags = (srv) => srv.text().trim().split('\n').filter(Boolean);

function assertDenied(got, resource, layer = 'js') {
  assert.equal(got.pv, true, JSON.stringify(got));
  assert.equal(got.code, 'ERR_ACCESS_DENIED');
  assert.equal(got.resource, resource);
  assert.equal(got.layer, layer);
}

test('net guard pass cache: a remembered allow never outlives its policy, its host or its port', () => withServers(2, async ([a, b]) => {
  const r = await runChild(`${HELPERS}
    (async () => {
      const res = {};
      const g = bb.guard({ net: { connect: ['127.0.0.1:${a.port}'] } });
      res.first = await talk('127.0.0.1', ${a.port}, 'first');
      res.again = await talk('127.0.0.1', ${a.port}, 'again'); // remembered
      res.asString = await talk('127.0.0.1', '${a.port}', 'as-string');
      res.otherPort = await talk('127.0.0.1', ${b.port}, 'other-port');
      res.otherHost = await talk('127.0.0.2', ${a.port}, 'other-host');
      const narrow = bb.guard({ net: false });
      res.narrowed = await talk('127.0.0.1', ${a.port}, 'narrowed');
      narrow.dispose();
      res.widenedBack = await talk('127.0.0.1', ${a.port}, 'widened-back');
      g.dispose();
      out(res);
    })();`);
  assert.equal(r.status, 0, r.stderr);
  const o = r.result;
  for (const k of ['first', 'again', 'asString', 'widenedBack']) assert.deepEqual(o[k], { ok: true }, k);
  assertDenied(o.otherPort, `127.0.0.1:${b.port}`);
  assertDenied(o.otherHost, `127.0.0.2:${a.port}`);
  assertDenied(o.narrowed, `127.0.0.1:${a.port}`);
  assert.deepEqual(tags(a).sort(), ['again', 'as-string', 'first', 'widened-back']);
  assert.equal(b.connections(), 0);
}));

test('net guard pass cache: a lockdown after a guard starts afresh', { skip }, () => withServers(2, async ([a, b]) => {
  const r = await runChild(`${HELPERS}
    (async () => {
      const res = {};
      // the guard allows both ports, and both get remembered
      const g = bb.guard({ net: { connect: ['127.0.0.1:${a.port}', '127.0.0.1:${b.port}'] } });
      res.aBefore = await talk('127.0.0.1', ${a.port}, 'a-before');
      res.bBefore = await talk('127.0.0.1', ${b.port}, 'b-before');
      g.dispose();
      bb.lockdown({ net: { connect: ['127.0.0.1:${a.port}'] } });
      res.aAfter = await talk('127.0.0.1', ${a.port}, 'a-after');
      res.aAgain = await talk('127.0.0.1', ${a.port}, 'a-again');
      res.bAfter = await talk('127.0.0.1', ${b.port}, 'b-after');
      out(res);
    })();`);
  assert.equal(r.status, 0, r.stderr);
  const o = r.result;
  for (const k of ['aBefore', 'bBefore', 'aAfter', 'aAgain']) assert.deepEqual(o[k], { ok: true }, k);
  assertDenied(o.bAfter, `127.0.0.1:${b.port}`);
  assert.deepEqual(tags(a).sort(), ['a-after', 'a-again', 'a-before']);
  assert.deepEqual(tags(b), ['b-before']);
}));

test('net guard pass cache: under lockdown a remembered allow the kernel refuses is a PolicyViolation with layer kernel', { skip: skip || (process.arch !== 'x64' && 'the raw filter here is x86_64') }, async () => {
  // A guard cannot widen a lockdown, so the JS layer and the kernel agree on every address a
  // policy lists. To have the kernel refuse an address the JS cache allows, the child remembers
  // it under lockdown's own policy and then narrows the kernel alone with one more seccomp
  // filter (through the package's loaded addon; the JS layer does not change): connect (x86_64
  // nr 42) → ERRNO EPERM, which takes precedence over the supervisor's USER_NOTIF verdict.
  return withServers(1, async ([a]) => {
    const r = await runChild(`${HELPERS}
      (async () => {
        const res = {};
        bb.lockdown({ net: { connect: ['127.0.0.1:${a.port}'] } });
        res.first = await talk('127.0.0.1', ${a.port}, 'first');
        res.again = await talk('127.0.0.1', ${a.port}, 'again');
        const f = Buffer.alloc(32);
        const insn = (i, code, jt, jf, k) => { f.writeUInt16LE(code, i * 8); f.writeUInt8(jt, i * 8 + 2); f.writeUInt8(jf, i * 8 + 3); f.writeUInt32LE(k >>> 0, i * 8 + 4); };
        insn(0, 0x20, 0, 0, 0);                 // ld [nr]
        insn(1, 0x15, 0, 1, 42);                // jeq connect
        insn(2, 0x06, 0, 0, 0x00050000 | 1);    // ret ERRNO(EPERM)
        insn(3, 0x06, 0, 0, 0x7fff0000);        // ret ALLOW
        require(${JSON.stringify(require('node:path').join(__dirname, '..', '..', 'dist', 'enforce', 'binding.js'))}).loadBinding().seccompInstall(f, 1);
        res.refused = await talk('127.0.0.1', ${a.port}, 'refused');
        out(res);
      })();`);
    assert.equal(r.status, 0, r.stderr);
    const o = r.result;
    assert.deepEqual(o.first, { ok: true });
    assert.deepEqual(o.again, { ok: true });
    assertDenied(o.refused, `127.0.0.1:${a.port}`, 'kernel');
    assert.ok(['EPERM', 'EACCES'].includes(o.refused.cause), o.refused.cause);
    assert.deepEqual(tags(a).sort(), ['again', 'first']);
  });
});
