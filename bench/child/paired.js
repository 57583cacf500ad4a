'use strict';
// paired workload child: node bench/child/paired.js <config-json>
// config: { file, writeDir, port, pairs, readN (calls per chunk), connectN (connects per side), control }
// The JS guards' own cost, measured in ONE process: Node's original function (captured before
// guard()) and the guarded one are called from the same loop, alternating (A B B A …), so both
// sides of every ratio share the heap, the CPU and whatever else the machine is doing at that
// moment. Across processes the spread here is ±10 % (address-space layout, page cache, the
// other core's load); the guards' budget is 2 %, which only a paired design can resolve.
//
// Nothing is swapped in and out: putting Node's originals back on the module objects between
// chunks deopts the code that calls them and makes every call site polymorphic, which charges
// the guarded side for the measurement itself. Each side has its own call site instead, and
// the guard stays active throughout.
//   readFileSync: Node's readFileSync calls fs.openSync, which is guarded too, so the original
//     cannot be run without that inner guard. Measured: R0 = original readFileSync (inner open
//     guarded), R1 = guarded readFileSync, O0/O1 = original/guarded openSync+closeSync. Plain
//     = R0 − (O1 − O0); the ratio is plain / R1.
//   connect: see pairedEach.
// cfg.control: an A/A run, both sides Node's originals (R1 = R0, O1 = O0): what the pairing
// resolves. The guard is proven active before and after (a write outside the grant is a
// PolicyViolation; the functions measured are, or are not, Node's own).
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { apply } = require('./variant');

const cfg = JSON.parse(process.argv[2]);

const orig = { readFileSync: fs.readFileSync, openSync: fs.openSync, connect: net.Socket.prototype.connect };
apply('guard', { fs: { write: [cfg.writeDir] }, net: { connect: [`127.0.0.1:${cfg.port}`] } });
const guarded = { readFileSync: fs.readFileSync, openSync: fs.openSync, connect: net.Socket.prototype.connect };
for (const k of Object.keys(orig)) if (orig[k] === guarded[k]) throw new Error(`guard() did not patch ${k}`);
const side = cfg.control ? orig : guarded;

function prove() {
  const probe = path.join(path.dirname(cfg.writeDir), `paired-probe-${process.pid}`);
  let got = 'allowed';
  try {
    fs.writeFileSync(probe, '');
    fs.unlinkSync(probe);
  } catch (e) {
    got = e.code === 'ERR_ACCESS_DENIED' && e.constructor.name === 'PolicyViolation' ? 'denied' : `error ${e.code}`;
  }
  if (got !== 'denied') throw new Error(`the guard is not active: a write outside the grant was ${got}`);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function timeSync(n, fn) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e3 / n; // µs per call
}

/** Per pair of chunks (order alternating): µs per call of `a` and of `b`. */
function pairs(n, a, b) {
  for (let w = 0; w < 4; w++) { timeSync(n, a); timeSync(n, b); } // warm-up: JIT
  const out = [];
  for (let p = 0; p < cfg.pairs; p++) {
    let ta;
    let tb;
    if (p % 2) { tb = timeSync(n, b); ta = timeSync(n, a); } else { ta = timeSync(n, a); tb = timeSync(n, b); }
    out.push([ta, tb]);
  }
  return out;
}

function readFileSyncPaired(n) {
  const file = cfg.file;
  const { closeSync } = fs;
  // distinct closures, so each side keeps a call site of its own
  const r0 = orig.readFileSync;
  const r1 = side.readFileSync;
  const o0 = orig.openSync;
  const o1 = side.openSync;
  const reads = pairs(n, () => r0(file), () => r1(file));
  const opens = pairs(n, () => closeSync(o0(file, 'r')), () => closeSync(o1(file, 'r')));
  const inner = median(opens.map(([a, b]) => b - a)); // µs the inner open guard adds
  const ratios = reads.map(([a, b]) => (a - inner) / b);
  return { pairMedian: median(ratios), innerOpenUs: inner, plainUs: median(reads.map(([a]) => a)) - inner };
}

/**
 * Connections are too noisy for chunks (a chunk of 100 connects here takes 45 to 180 µs per
 * connect, whatever runs): each connect does what net.connect() does (normalize, new Socket,
 * socket.connect(normalized)) with Node's original connect or the guarded one, one by one,
 * A B B A, each timed on its own; the ratio is of the two medians (a 1 s SYN retransmission or
 * a descheduled connect moves a median by one rank, not a mean by a percent).
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
  const fn = { plain: orig.connect, guard: side.connect };
  const t = { plain: [], guard: [] };
  const order = ['plain', 'guard', 'guard', 'plain'];
  for (let i = 0; i < n / 2; i++) await connectWith(fn[order[i % 4]]); // warm-up
  for (let i = 0; i < 2 * n; i++) {
    const s = order[i % 4];
    const t0 = process.hrtime.bigint();
    await connectWith(fn[s]);
    t[s].push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  return { pairMedian: median(t.plain) / median(t.guard), plainUs: median(t.plain) };
}

async function main() {
  prove();
  const out = { ops: {} };
  out.ops.readFileSync = readFileSyncPaired(cfg.readN);
  out.ops.connect = await pairedEach(cfg.connectN);
  prove();
  process.stdout.write(JSON.stringify(out) + '\n');
}
main().catch((e) => { console.error(e); process.exit(1); });
