'use strict';
// Applies one bench variant to THIS (child) process:
//   plain      nothing applied (the same code loaded, see below)
//   locked     require(ROOT).lockdown(policy) — kernel layers + JS guards
//   guard      require(ROOT).guard(policy) — the JS guards alone (no kernel layer): what the
//              patches of fs/net/child_process cost on their own
//   allow-all  a seccomp filter that is the single instruction `ret ALLOW`, on every thread
//              (TSYNC), through the addon: the cost of seccomp's entry path alone
//   filter     the seccomp program lockdown() compiles for the same policy
//              (preview(policy).seccomp), installed alone with the addon: no Landlock, no guards
//   landlock   the Landlock ruleset lockdown() compiles for the same policy
//              (preview(policy).landlock), on the CALLING THREAD only (what a single
//              landlock_restrict_self does before ABI 8): no seccomp, no guards — meaningful for
//              synchronous calls on the main thread
//   node-perm  Node's own permission model (the flags are on the command line; checked here)
// Every variant, plain included, first loads the same code (the package, its compiler and
// the addon; under node-perm the JS only, as Node's permission model refuses addons), so
// module loading and heap size are alike on both sides of a ratio. Loading must apply
// nothing: preload() checks that the hot functions are still Node's own afterwards.
// Throws when the variant could not be applied as asked (so a bench never measures the
// wrong thing silently).
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');

function hot() {
  const fs = require('node:fs');
  return [fs.statSync, fs.readFileSync, fs.promises.readFile, require('node:net').Socket.prototype.connect,
    require('node:net').Server.prototype.listen, require('node:child_process').spawnSync];
}

function preload(variant) {
  const before = hot();
  require(ROOT);
  require(path.join(ROOT, 'dist', 'compile', 'bpf'));
  require(path.join(ROOT, 'dist', 'lockdown', 'lockdown.js'));
  if (variant !== 'node-perm') require('node-gyp-build')(ROOT);
  if (hot().some((f, i) => f !== before[i])) throw new Error('loading the package patched a hot function');
}

function apply(variant, policy) {
  preload(variant);
  switch (variant) {
    case 'plain':
      return {};
    case 'locked': {
      const report = require(ROOT).lockdown(policy);
      if (process.platform === 'linux' && (!report.layers.seccomp || !report.layers.landlock)) {
        throw new Error(`lockdown did not install both kernel layers: ${JSON.stringify(report.layers)}`);
      }
      return { layers: report.layers };
    }
    case 'guard': {
      const g = require(ROOT).guard(policy);
      if (!g.active) throw new Error('guard() is not active');
      return {};
    }
    case 'allow-all': {
      const addon = require('node-gyp-build')(ROOT);
      const { Asm, encode, SECCOMP_RET_ALLOW } = require(path.join(ROOT, 'dist', 'compile', 'bpf'));
      const buf = encode(new Asm().ret(SECCOMP_RET_ALLOW).assemble());
      addon.setNoNewPrivs();
      addon.seccompInstall(buf, 1 | 16); // TSYNC | TSYNC_ESRCH
      return { insns: buf.length / 8 };
    }
    case 'filter': {
      const addon = require('node-gyp-build')(ROOT);
      const { encode } = require(path.join(ROOT, 'dist', 'compile', 'bpf'));
      const plan = require(path.join(ROOT, 'dist', 'lockdown', 'lockdown.js')).preview(policy);
      if (!plan.seccomp) throw new Error('no seccomp program on this machine');
      addon.setNoNewPrivs();
      addon.seccompInstall(encode(plan.seccomp.insns), plan.seccomp.flags);
      return { insns: plan.seccomp.insns.length };
    }
    case 'landlock': {
      const addon = require('node-gyp-build')(ROOT);
      const plan = require(path.join(ROOT, 'dist', 'lockdown', 'lockdown.js')).preview(policy).landlock;
      if (!plan) throw new Error('no Landlock plan on this machine');
      const fd = addon.landlockCreateRuleset(plan.handledFs, plan.handledNet, plan.scoped);
      for (const r of plan.paths) addon.landlockAddPathRule(fd, r.path, r.access);
      for (const r of plan.ports) addon.landlockAddNetRule(fd, r.port, r.access);
      addon.landlockRestrictSelf(fd, plan.restrictFlags);
      return { landlockAbi: plan.abi, rules: plan.paths.length + plan.ports.length };
    }
    case 'node-perm':
      if (!process.permission) throw new Error('node-perm variant without --permission flags');
      return {};
    default:
      throw new Error(`unknown variant ${variant}`);
  }
}

/** Seccomp mode of this thread from /proc/self/status (0 none, 2 filter): read after apply(), to check the variant. */
function seccompMode() {
  try {
    const m = /^Seccomp:\s+(\d+)/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Time `loop(per)` over `chunks` chunks of n calls: the best chunk's and the overall rate.
 * `loop` returns seconds (a number, or a promise of one for async workloads).
 */
async function chunked(loop, n, chunks) {
  const per = Math.ceil(n / chunks);
  let total = 0;
  let best = 0;
  for (let k = 0; k < chunks; k++) {
    const s = await loop(per);
    total += s;
    best = Math.max(best, per / s);
  }
  return { bestPerSec: best, overallPerSec: (per * chunks) / total };
}

module.exports = { chunked, apply, seccompMode, ROOT };
