'use strict';
// npm run bench [-- --quick] [-- --only=fs,connect] [-- --from-json]
// Runs every workload — each variant in a fresh child, variants interleaved in rotated order
// over several rounds, verdicts as ratios against plain node from the same round — prints a
// table, writes bench/results/latest.json and bench/results/README-section.md.
// The runner itself is never locked down. Network: loopback only, every server bounded.
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { spawnSync } = require('node:child_process');
const { RESULTS, ROOT, cleanup } = require('./lib');

const quick = process.argv.includes('--quick');
const onlyArg = process.argv.find((a) => a.startsWith('--only='));
const only = onlyArg ? onlyArg.slice(7).split(',') : null;

const WORKLOADS = [
  ['lockdown', () => require('./lockdown')],
  ['floor', () => require('./floor')],
  ['fs', () => require('./fs')],
  ['connect', () => require('./connect')],
  ['paired', () => require('./paired')],
  ['udp', () => require('./udp')],
  ['spawn', () => require('./spawn')],
  ['http', () => require('./http')],
  ['startup', () => require('./startup')],
];

function fmt(r, x) {
  if (x === undefined || x === null || Number.isNaN(x)) return '';
  if (r.unit === 'ms') return x.toFixed(2);
  if (r.unit === 'ns') return x.toFixed(1);
  if (r.unit === 'pp') return (x >= 0 ? '+' : '') + x.toFixed(2);
  return x.toFixed(3);
}

function cells(r) {
  if (r.skipped) return [r.workload, r.variant || '', '', `skipped: ${r.skipped}`, '', '', ''];
  const value = `${fmt(r, r.median)} (${fmt(r, r.min)}–${fmt(r, r.max)})`;
  const result = r.pass === null ? 'info' : r.pass ? 'pass' : 'MISS';
  return [r.workload, r.variant, r.metric, value, String(r.n), r.target || '—', result];
}

const HEAD = ['workload', 'variant', 'metric', 'median (min–max)', 'n', 'target', 'result'];

function textTable(rows) {
  const all = [HEAD, ...rows.map(cells)];
  const w = HEAD.map((_, i) => Math.max(...all.map((c) => [...c[i]].length)));
  const line = (c) => c.map((x, i) => x + ' '.repeat(w[i] - [...x].length)).join('  ').trimEnd();
  return [line(all[0]), w.map((n) => '-'.repeat(n)).join('  '), ...all.slice(1).map(line)].join('\n');
}

function mdTable(rows) {
  const esc = (s) => s.replace(/\|/g, '\\|');
  return [
    `| ${HEAD.join(' | ')} |`,
    `| ${HEAD.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${cells(r).map(esc).join(' | ')} |`),
  ].join('\n');
}

/** Newest mtime (ms) of the built package: a rebuild during the run would mix two builds. */
function distStamp() {
  let newest = 0;
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  try {
    walk(path.join(ROOT, 'dist'));
    const addon = path.join(ROOT, 'build', 'Release', 'blackbox.node');
    if (fs.existsSync(addon)) newest = Math.max(newest, fs.statSync(addon).mtimeMs);
  } catch { /* no dist: the workloads fail with their own message */ }
  return newest;
}

function gitHead() {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) return null;
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src', 'native'], { cwd: ROOT, encoding: 'utf8' });
  return r.stdout.trim() + (dirty.stdout && dirty.stdout.trim() ? ' (src/native modified)' : '');
}

function machine() {
  const cpu = (os.cpus()[0] || {}).model || 'unknown CPU';
  let landlock = null;
  try {
    landlock = require('node-gyp-build')(ROOT).landlockAbi();
  } catch { /* no addon: reported as null */ }
  return {
    kernel: os.release(),
    unameR: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim() || os.release(),
    cpu,
    cpus: os.cpus().length,
    node: process.version,
    arch: process.arch,
    landlockAbi: landlock,
    date: new Date().toISOString(),
    loadavgStart: os.loadavg(),
  };
}

function bounds(results) {
  // Derived lines for the README: relate the ratios to the measured floor, and turn each
  // variant's ratio into the time it adds per call (t_plain × (1/ratio − 1), medians).
  const get = (w, v) => {
    for (const r of results) for (const x of r.rows) if (x.workload === w && x.variant === v && !x.skipped) return x;
    return null;
  };
  const res = (name) => results.find((r) => r.name === name);
  const lines = [];
  const d = get('floor getppid (cached verdict)', 'Δ allow-all − none');
  const dArg = get('floor prctl (arg-checked)', 'Δ full − allow-all');
  const fl = res('floor');
  if (d) lines.push(`- seccomp entry path (any filter; the verdict for that syscall number is cached, the program does not run): +${d.median.toFixed(1)} ns per syscall (${d.min.toFixed(1)}–${d.max.toFixed(1)}); the full policy's program costs the same on such calls.`);
  if (dArg && fl) lines.push(`- running the full-policy program (${fl.extra.insns} instructions) on an argument-checked call (prctl): +${dArg.median.toFixed(1)} ns more (${dArg.min.toFixed(1)}–${dArg.max.toFixed(1)}).`);
  const added = (us, r) => (r ? us * (1 / r.median - 1) * 1000 : null); // ns per call
  const show = (ns) => (ns === null ? 'n/a' : `${ns >= 0 ? '+' : ''}${Math.abs(ns) >= 1000 ? (ns / 1000).toFixed(1) + ' µs' : ns.toFixed(0) + ' ns'}`);
  const decompose = (label, us, w, variants, note) => {
    const parts = variants.map(([v, name]) => `${name} ${show(added(us, get(w, v)))}`);
    lines.push(`- ${label}: ${us >= 1000 ? (us / 1000).toFixed(2) + ' ms' : us.toFixed(2) + ' µs'} per call in plain node; added per call — ${parts.join(', ')}${note ? `. ${note}` : ''}.`);
  };
  const fsr = res('fs');
  if (fsr) {
    // syscalls per call, counted with strace -f -c on plain node 20 (difference of two loop
    // lengths): statSync = statx; readFileSync = openat+statx+read+close; promises.readFile ≈ 35
    // across the main thread and the pool (open, fstat, read, close, futex wake-ups, eventfd, epoll).
    const calls = { statSync: 1, readFileSync: 4, 'promises.readFile': 35 };
    for (const op of Object.keys(fsr.extra.plainUsPerOp)) {
      const us = fsr.extra.plainUsPerOp[op];
      const bound = d ? ` At ${calls[op]} syscall(s) per call the entry path alone predicts ${show(calls[op] * d.median)} (ratio ≈ ${(us / (us + (calls[op] * d.median) / 1000)).toFixed(3)})` : '';
      const parts = [['allow-all / plain', 'allow-all'], ['filter only / plain', 'compiled filter'], ['Landlock only / plain', 'Landlock'], ['guard only / plain', 'JS guard'], ['locked / plain', 'lockdown (all layers)']];
      decompose(`fs ${op}`, us, `fs ${op}`, parts.filter(([v]) => get(`fs ${op}`, v)), bound.trim());
    }
  }
  const c = res('connect');
  if (c) decompose('net.connect', c.extra.plainUsPerOp, 'net.connect ×2000', [['allow-all / plain', 'allow-all'], ['Landlock only / plain', 'Landlock'], ['locked (supervisor) / plain', 'lockdown with the connect supervisor (all layers)']]);
  const pr = res('paired');
  if (pr) {
    // the JS guards' own cost on the two hot paths, from the paired rows (one process, A/A-checked)
    const v = 'guard only, paired in one process / plain';
    const u = pr.extra.plainUsPerCall;
    lines.push(`- JS guards, paired in one process: fs readFileSync ${u.readFileSync.toFixed(2)} µs per call plain, guard ${show(added(u.readFileSync, get('fs readFileSync', v)))}; net.connect ${u.connect.toFixed(1)} µs per connect plain, guard ${show(added(u.connect, get('net.connect', v)))}.`);
  }
  const u = res('udp');
  if (u) decompose('dgram.send', u.extra.plainUsPerOp, u.rows[0].workload, [['locked (supervisor) / plain', 'lockdown with the connect supervisor (every send a round trip to it)']]);
  const sp = res('spawn');
  if (sp) decompose('spawnSync', sp.extra.plainUsPerOp, 'spawnSync true ×300', [['allow-all / plain', 'allow-all'], ['filter only / plain', 'compiled filter'], ['Landlock only / plain', 'Landlock'], ['guard only / plain', 'JS guard'], ['locked / plain', 'lockdown (all layers)']]);
  const st = res('startup');
  if (st) {
    const m = st.extra.msMedian;
    const f = (x) => x.toFixed(1);
    lines.push(`- start-up: \`node -e 0\` ${f(m.plain)} ms; loading the package adds ${f(m.require - m.plain)} ms, of which ${f(m.builtins - m.plain)} ms is loading the Node modules the JS layer patches (net, dns, dgram, fs/promises, child_process, worker_threads: a floor for any in-process JS layer, ${(m.builtins / m.plain).toFixed(2)}× alone); the full lockdown() ${f(m.locked - m.require)} ms more; \`blackbox run\` adds ${f(m.run - m.plain)} ms: a second node (the CLI, ${f(m.plain)} ms by itself) before the command's own start-up and preload (medians).`);
  }
  return lines;
}

function readme(doc) {
  const m = doc.machine;
  const rows = doc.results.flatMap((r) => r.rows);
  const missed = rows.filter((r) => r.pass === false);
  return [
    '## Performance',
    '',
    `Measured with \`npm run bench${doc.quick ? ' -- --quick' : ''}\` on Linux ${m.unameR}, ${m.cpu} (${m.cpus} CPUs), Node ${m.node}, ` +
      `Landlock ABI ${m.landlockAbi}, ${m.date.slice(0, 10)}, commit ${doc.commit || 'unknown'} ` +
      `(load average at start ${m.loadavgStart.map((x) => x.toFixed(2)).join(' ')}, at the end ${m.loadavgEnd.map((x) => x.toFixed(2)).join(' ')}).`,
    '',
    'Every workload runs plain node and the locked-down variant(s) side by side in one run, each in a fresh child process,',
    'interleaved in rotated order over several rounds; a verdict is the median over rounds of the per-round ratio',
    '(locked throughput / plain throughput, or plain time / locked time: ≥ 1 means "no slower"), with min–max.',
    'Variants: **plain** = node with the package and addon loaded but nothing applied; **locked** = `lockdown(policy)` (seccomp + Landlock on every thread + JS guards); **guard only** = `guard(policy)`',
    '(JS guards, no kernel layer); **allow-all** = a seccomp filter that is the single instruction `ret ALLOW`, installed on',
    'every thread — what seccomp\'s entry path costs by itself; **node --permission** = Node\'s own permission model, as an anchor.',
    '**filter only** / **Landlock only** = the seccomp program / the Landlock ruleset `lockdown()` compiles for that policy,',
    'installed alone through the addon (Landlock on the calling thread only, so it is shown for main-thread calls only).',
    'Throughput is all timed calls / their time, after a warm-up; each loop is also timed in 10 chunks, and the ratios of the',
    'fastest chunks are in `bench/results/latest.json`. Verdicts are ratios; absolute times appear only',
    'where the target is absolute (the cost of `lockdown()` itself), for the C floor (ns per syscall) and in the explanations below.',
    '',
    mdTable(rows),
    '',
    'What bounds the numbers (time added per call = plain time × (1/ratio − 1), from the medians; a negative value means no',
    'cost measurable above this machine\'s run-to-run noise):',
    '',
    ...bounds(doc.results),
    '',
    missed.length ? `Targets missed in this run: ${missed.map((r) => `${r.workload} — ${r.variant} (${fmt(r, r.median)}, target ${r.target})`).join('; ')}.` : 'All targets met in this run.',
    '',
  ].join('\n');
}

async function main() {
  const doc = { quick, only, commit: gitHead(), machine: machine(), results: [] };
  const stamp = distStamp();
  if (doc.machine.loadavgStart[0] > 1.5) {
    console.log(`note: load average ${doc.machine.loadavgStart[0].toFixed(2)} on ${doc.machine.cpus} CPUs — other work on this machine widens the min–max`);
  }
  const t0 = Date.now();
  for (const [name, load] of WORKLOADS) {
    if (only && !only.includes(name)) continue;
    const t = Date.now();
    process.stdout.write(`running ${name}… `);
    const w = load();
    const r = await w.run({ quick });
    const rows = r.rows;
    doc.results.push({ name, seconds: (Date.now() - t) / 1000, rows, extra: r.extra || {} });
    console.log(`${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  doc.machine.loadavgEnd = os.loadavg();
  doc.distChangedDuringRun = distStamp() !== stamp;
  if (doc.distChangedDuringRun) console.log('WARNING: dist/ or the addon was rebuilt during this run: the results mix two builds; run again');
  doc.seconds = (Date.now() - t0) / 1000;
  const rows = doc.results.flatMap((r) => r.rows);
  console.log('');
  console.log(textTable(rows));
  console.log('');
  for (const r of doc.results) {
    if (Object.keys(r.extra).length) console.log(`${r.name}: ${JSON.stringify(r.extra)}`);
  }
  const missed = rows.filter((r) => r.pass === false);
  console.log(missed.length ? `\nmissed: ${missed.map((r) => `${r.workload} [${r.variant}]`).join('; ')}` : '\nall targets met');
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, 'latest.json'), JSON.stringify(doc, null, 2) + '\n');
  fs.writeFileSync(path.join(RESULTS, 'README-section.md'), readme(doc));
  console.log(`wrote ${path.join(RESULTS, 'latest.json')} and README-section.md (${doc.seconds.toFixed(0)} s)`);
}

// --from-json: rewrite README-section.md from the last run's latest.json (after a change to
// how the section is worded), without measuring again.
const entry = process.argv.includes('--from-json')
  ? async () => {
    const doc = JSON.parse(fs.readFileSync(path.join(RESULTS, 'latest.json'), 'utf8'));
    fs.writeFileSync(path.join(RESULTS, 'README-section.md'), readme(doc));
    console.log(`wrote README-section.md from latest.json (commit ${doc.commit})`);
  }
  : main;

entry()
  .catch((e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exitCode = 1;
  })
  .finally(cleanup);
