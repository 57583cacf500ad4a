// seccomp rules -> classic BPF for one arch.
//
// Layout:
//   ld [4] (arch); jeq AUDIT_ARCH -> else KILL_PROCESS  (i386 int 0x80 and other
//                                                        compat ABIs number syscalls differently)
//   ld [0] (nr)
//   x86_64: jge 0x40000000 -> ENOSYS                    (x32 ABI: same audit arch, nr | X32_SYSCALL_BIT)
//   jeq nr -> block          for each argument-checked rule, hottest first
//   jeq nr -> ret <verdict>  for each number-only rule, sharing one ret per verdict
//   ret ALLOW
// Number-only paths never load an argument, so the kernel's action cache
// (5.11+) learns them and they cost nothing after the first call.

import { Asm, retErrno, type Insn } from '../bpf/assembler';
import type { Arch } from '../bpf/arch';
import { syscallNumber } from '../bpf/arch';
import {
  SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_LOG, SECCOMP_RET_USER_NOTIF, X32_SYSCALL_BIT, ENOSYS,
} from '../bpf/constants';
import type { Case, SyscallRule, Verdict } from './rules';

export function verdictValue(v: Verdict): number {
  switch (v.kind) {
    case 'allow': return SECCOMP_RET_ALLOW;
    case 'errno': return retErrno(v.errno);
    case 'log': return SECCOMP_RET_LOG;
    case 'notify': return SECCOMP_RET_USER_NOTIF;
    case 'kill': return SECCOMP_RET_KILL_PROCESS;
  }
}

function same(a: Verdict, b: Verdict): boolean {
  return verdictValue(a) === verdictValue(b);
}

/** Trailing cases that decide what `otherwise` decides anyway are dropped. */
function trimCases(r: SyscallRule): Case[] {
  const cases = [...r.cases];
  while (cases.length && same(cases[cases.length - 1].then, r.otherwise)) cases.pop();
  return cases;
}

export interface Generated {
  insns: Insn[];
  /** Rule syscalls this arch does not have (skipped). */
  absent: string[];
}

export function generate(rules: readonly SyscallRule[], arch: Arch): Generated {
  const a = new Asm();
  const absent: string[] = [];
  a.ldArch().jeq(arch.auditArch, null, 'kill');
  a.ldNr();
  if (arch.x32) a.jge(X32_SYSCALL_BIT, `ret_${verdictValue({ kind: 'errno', errno: ENOSYS })}`, null);

  const blocks: Array<{ label: string; rule: SyscallRule; cases: Case[] }> = [];
  const rets = new Map<number, string>();
  const retLabel = (v: Verdict) => {
    const value = verdictValue(v);
    if (!rets.has(value)) rets.set(value, `ret_${value}`);
    return rets.get(value)!;
  };
  retLabel({ kind: 'errno', errno: ENOSYS });

  for (const rule of rules) {
    const nr = syscallNumber(arch, rule.syscall);
    if (nr === undefined) {
      absent.push(rule.syscall);
      continue;
    }
    const cases = trimCases(rule);
    if (cases.length === 0) {
      if (rule.otherwise.kind === 'allow') continue;
      a.jeq(nr, retLabel(rule.otherwise), null);
    } else {
      const label = `sys_${rule.syscall}`;
      blocks.push({ label, rule, cases });
      a.jeq(nr, label, null);
    }
  }
  a.ret(SECCOMP_RET_ALLOW);

  for (const { label, rule, cases } of blocks) {
    a.label(label);
    cases.forEach((c, i) => {
      const next = `${label}_c${i + 1}`;
      let loaded: string | undefined;
      for (const cond of c.when) {
        const word = `${cond.arg}${cond.hi ? 'h' : 'l'}`;
        // reload unless the previous test left this word, unmasked, in A
        if (loaded !== word || cond.mask !== undefined) {
          if (cond.hi) a.ldArgHi(cond.arg); else a.ldArgLo(cond.arg);
        }
        loaded = cond.mask !== undefined ? undefined : word;
        switch (cond.op) {
          case 'eq':
            if (cond.mask !== undefined) a.and(cond.mask);
            a.jeq(cond.value >>> 0, null, next);
            break;
          case 'ne':
            if (cond.mask !== undefined) a.and(cond.mask);
            a.jeq(cond.value >>> 0, next, null);
            break;
          case 'any':
            a.jset(cond.value >>> 0, null, next);
            break;
          case 'none':
            a.jset(cond.value >>> 0, next, null);
            break;
        }
      }
      a.ret(verdictValue(c.then));
      a.label(next);
    });
    a.ret(verdictValue(rule.otherwise));
  }

  a.label('kill').ret(SECCOMP_RET_KILL_PROCESS);
  for (const [value, label] of rets) a.label(label).ret(value);
  return { insns: a.assemble(), absent };
}
