'use strict';
// Workload 6: the syscall floor, in C (bench/floor.c, compiled here with cc -O2 into
// bench/results/). One fresh process per variant and round, rotated:
//   none       no filter
//   allow-all  the 1-instruction `ret ALLOW` program
//   full       the program lockdown() compiles for the full policy (preview(policy).seccomp)
// Two timed calls: getppid (number-only verdict: the kernel's action cache answers, the
// program does not run) and prctl(PR_GET_DUMPABLE) (argument-checked: the program runs).
// Reports ns/syscall and the deltas (per round, then median) — as information; the ratio
// targets are in the Node workloads.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT, RESULTS, fullPolicy, rotate, stats, row } = require('./lib');

function build() {
  const cc = spawnSync('sh', ['-c', 'command -v cc'], { encoding: 'utf8' });
  if (cc.status !== 0) return { skipped: 'no cc on PATH' };
  fs.mkdirSync(RESULTS, { recursive: true });
  const exe = path.join(RESULTS, 'floor');
  const r = spawnSync('cc', ['-O2', '-o', exe, path.join(__dirname, 'floor.c')], { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) return { skipped: `cc failed: ${(r.stderr || '').trim().slice(0, 500)}` };
  const { Asm, encode, SECCOMP_RET_ALLOW } = require(path.join(ROOT, 'dist', 'compile', 'bpf'));
  const allow = path.join(RESULTS, 'allow-all.bpf');
  fs.writeFileSync(allow, encode(new Asm().ret(SECCOMP_RET_ALLOW).assemble()));
  const plan = require(path.join(ROOT, 'dist', 'lockdown', 'lockdown.js')).preview(fullPolicy());
  if (!plan.seccomp) return { skipped: 'no seccomp program for this machine' };
  const full = path.join(RESULTS, 'full-policy.bpf');
  fs.writeFileSync(full, encode(plan.seccomp.insns));
  return { exe, files: { none: null, 'allow-all': allow, full } };
}

function run({ quick }) {
  if (process.platform !== 'linux') return { rows: [{ workload: 'floor', variant: '', skipped: 'not Linux' }] };
  const b = build();
  if (b.skipped) return { rows: [{ workload: 'floor (C, getppid)', variant: '', skipped: b.skipped }] };
  const rounds = quick ? 3 : 5;
  const passes = quick ? 1 : 3;
  const iters = 2000000;
  const variants = ['none', 'allow-all', 'full'];
  const ns = {};
  for (const call of ['getppid', 'prctl']) { ns[call] = {}; for (const v of variants) ns[call][v] = []; }
  let insns = 0;
  for (let i = 0; i < rounds; i++) {
    for (const v of rotate(variants, i)) {
      const args = [String(iters), String(passes)];
      if (b.files[v]) args.push(b.files[v]);
      const r = spawnSync(b.exe, args, { encoding: 'utf8', timeout: 60000 });
      if (r.status !== 0) throw new Error(`floor ${v}: ${r.status ?? r.signal} ${r.stderr}`);
      const o = JSON.parse(r.stdout);
      if (v === 'full') insns = o.insns;
      for (const call of ['getppid', 'prctl']) ns[call][v].push(o[call]);
    }
  }
  const rows = [];
  const label = { getppid: 'floor getppid (cached verdict)', prctl: 'floor prctl (arg-checked)' };
  for (const call of ['getppid', 'prctl']) {
    const x = ns[call];
    const d = (a, b) => x[a].map((v, k) => v - x[b][k]);
    rows.push({ ...row(label[call], 'no filter', 'ns/syscall', stats(x.none), null), unit: 'ns' });
    rows.push({ ...row(label[call], 'allow-all', 'ns/syscall', stats(x['allow-all']), null), unit: 'ns' });
    rows.push({ ...row(label[call], `full policy (${insns} insns)`, 'ns/syscall', stats(x.full), null), unit: 'ns' });
    rows.push({ ...row(label[call], 'Δ allow-all − none', 'ns/syscall', stats(d('allow-all', 'none')), null), unit: 'ns' });
    rows.push({ ...row(label[call], 'Δ full − allow-all', 'ns/syscall', stats(d('full', 'allow-all')), null), unit: 'ns' });
    rows.push({ ...row(label[call], 'none / full', 'time ratio', stats(x.none.map((v, k) => v / x.full[k])), null) });
  }
  return { rows, extra: { rounds, passes, iters, insns } };
}

module.exports = { run, name: 'floor' };
