'use strict';
// paired workload child: node bench/child/paired.js <config-json>
// config: { file, writeDir, port, pairs, readN (calls per chunk), connectN (connects per side), control }
// The JS guards' own cost, measured in ONE process: the same loop alternates between Node's
// original functions and the guarded ones (readFileSync chunk by chunk, A B then B A; connects
// one by one, see pairedEach), so both sides of every ratio share the heap, the JIT state, the
// CPU and whatever else the machine is doing at that moment. Across processes the spread here is ±10 % (address-space layout, page
// cache, the other core's load); the guards' budget is 2 %, which only a paired design can
// resolve.
//
// How (readFileSync): every property of the objects the guards patch is snapshotted before
// guard() and after; `use('plain')` puts Node's originals back, `use('guard')` the wrappers. The
// guard stays active throughout (effective() is non-null): the guarded side pays the whole
// check, the plain side runs what plain node runs. Both states are proven before and after
// the loops: a write outside the grant fails as a PolicyViolation only when guarded, and the
// hot functions are (or are not) Node's own.
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { apply } = require('./variant');

const cfg = JSON.parse(process.argv[2]);

function targets() {
  const http = require('node:http');
  const dgram = require('node:dgram');
  const dns = require('node:dns');
  return [fs, fs.promises, net, net.Socket.prototype, net.Server.prototype, require('node:tls'), http, require('node:https'),
    http.Agent.prototype, dns, dns.promises, dgram, dgram.Socket.prototype, require('node:child_process'),
    require('node:worker_threads'), require('node:http2'), process, require('node:module')._extensions, globalThis];
}

function snapshot() {
  return targets().map((o) => new Map(Reflect.ownKeys(o).map((k) => [k, Object.getOwnPropertyDescriptor(o, k)])));
}

const origReadFileSync = fs.readFileSync;
const origConnect = net.Socket.prototype.connect;
const before = snapshot();
apply('guard', { fs: { write: [cfg.writeDir] }, net: { connect: [`127.0.0.1:${cfg.port}`] } });
const after = snapshot();
if (fs.readFileSync === origReadFileSync || net.Socket.prototype.connect === origConnect) throw new Error('guard() patched nothing');

// The properties the guards changed (or added), per object, with both descriptors.
const changed = targets().map((o, i) => {
  const out = [];
  for (const [k, d] of after[i]) {
    const b = before[i].get(k);
    if (!b || !Object.is(b.value, d.value) || b.get !== d.get || b.set !== d.set) out.push([k, b, d]);
  }
  return [o, out];
});

let state = 'guard';
function use(want) {
  // the A/A control (cfg.control): both sides of every pair run Node's originals, so the
  // ratio shows what the pairing itself resolves
  const s = cfg.control && !proving ? 'plain' : want;
  if (s === state) return;
  for (const [o, list] of changed) {
    for (const [k, b, d] of list) {
      const desc = s === 'plain' ? b : d;
      if (desc) Object.defineProperty(o, k, desc);
      else delete o[k];
    }
  }
  state = s;
}

let proving = false;
function prove(s) {
  proving = true;
  use(s);
  proving = false;
  const own = fs.readFileSync === origReadFileSync && net.Socket.prototype.connect === origConnect;
  if (own !== (s === 'plain')) throw new Error(`state ${s}: hot functions are ${own ? '' : 'not '}Node's own`);
  const probe = path.join(path.dirname(cfg.writeDir), `paired-probe-${process.pid}`);
  let got = 'allowed';
  try {
    fs.writeFileSync(probe, '');
    fs.unlinkSync(probe);
  } catch (e) {
    got = e.code === 'ERR_ACCESS_DENIED' && e.constructor.name === 'PolicyViolation' ? 'denied' : `error ${e.code}`;
  }
  if (got !== (s === 'plain' ? 'allowed' : 'denied')) throw new Error(`state ${s}: a write outside the grant was ${got}`);
}

function timeSync(n, fn) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Per pair: guarded rate / plain rate (a chunk each, order alternating). Median over pairs, and the totals' ratio. */
async function paired(n, time) {
  for (const s of ['plain', 'guard', 'plain', 'guard']) { use(s); await time(Math.ceil(n / 2)); } // warm-up: JIT, pool, sockets
  const ratios = [];
  const secs = { plain: 0, guard: 0 };
  for (let p = 0; p < cfg.pairs; p++) {
    const t = {};
    for (const s of p % 2 ? ['guard', 'plain'] : ['plain', 'guard']) {
      use(s);
      t[s] = await time(n);
      secs[s] += t[s];
    }
    ratios.push(t.plain / t.guard);
  }
  return { pairMedian: median(ratios), overall: secs.plain / secs.guard, plainUs: (secs.plain / (n * cfg.pairs)) * 1e6 };
}

/**
 * Connections are too noisy for chunks (a chunk of 100 connects here takes 45 to 180 µs per
 * connect, whatever runs), and swapping Socket.prototype.connect before each one would deopt
 * Node's net code on every swap. So nothing is swapped: each connect does what net.connect()
 * does (normalize, new Socket, socket.connect(normalized)) and calls either Node's original
 * connect (captured before guard()) or the guarded one, one by one, A B B A, each timed on its
 * own; the ratio is of the two medians (a 1 s SYN retransmission or a descheduled connect
 * moves a median by one rank, not a mean by a percent). The guard is active throughout.
 */
const normalizeArgs = net._normalizeArgs;
function connectWith(fn) {
  return new Promise((resolve, reject) => {
    const normalized = normalizeArgs([cfg.port, '127.0.0.1']);
    const s = new net.Socket(normalized[0]);
    fn.call(s, normalized);
    s.once('connect', () => { s.destroy(); resolve(); });
    s.once('error', reject);
  });
}

async function pairedEach(n) {
  const fn = { plain: origConnect, guard: cfg.control ? origConnect : net.Socket.prototype.connect };
  if (fn.guard === origConnect && !cfg.control) throw new Error('the guarded connect is Node\'s own');
  const t = { plain: [], guard: [] };
  const order = ['plain', 'guard', 'guard', 'plain'];
  for (let i = 0; i < n / 2; i++) await connectWith(fn[order[i % 4]]); // warm-up
  for (let i = 0; i < 2 * n; i++) {
    const s = order[i % 4];
    const t0 = process.hrtime.bigint();
    await connectWith(fn[s]);
    t[s].push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  return { pairMedian: median(t.plain) / median(t.guard), overall: sum(t.plain) / sum(t.guard), plainUs: median(t.plain) };
}

async function main() {
  prove('plain');
  prove('guard');
  const file = cfg.file;
  const out = { ops: {} };
  out.ops.readFileSync = await paired(cfg.readN, async (n) => timeSync(n, () => fs.readFileSync(file)));
  use('guard');
  out.ops.connect = await pairedEach(cfg.connectN);
  prove('plain');
  prove('guard');
  process.stdout.write(JSON.stringify(out) + '\n');
}
main().catch((e) => { console.error(e); process.exit(1); });
