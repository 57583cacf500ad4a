'use strict';
// The io_uring preflight (pure): which rings made before lockdown are libuv's epoll rings and
// stay usable, which refuse the lockdown; and the seccomp rule that allows io_uring_enter
// only on the accepted fds (run in the BPF simulator on both arches).
const test = require('node:test');
const assert = require('node:assert/strict');

const { parseRingFdinfo, ringProblem, ioUringVerdict, ringInode } = require('../../dist/lockdown/iouring');
const { normalizePolicy } = require('../../dist/policy');
const { compile } = require('../../dist/compile/plan');
const { simulate, actionName, syscallNumber, AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64 } = require('../../dist/compile/bpf');

// /proc/self/fdinfo of a libuv epoll ring, as Linux 6.18 prints it (Node 22.23.5).
const fdinfo = ({ sq = '0xff', cq = '0x1ff', thread = -1, files = 0, bufs = 0, pers = '' } = {}) => `pos:\t0
flags:\t02000002
mnt_id:\t17
ino:\t10034056
SqMask:\t${sq}
SqHead:\t2
SqTail:\t2
CachedSqHead:\t2
CqMask:\t${cq}
CqHead:\t2
CqTail:\t2
CachedCqTail:\t2
SQEs:\t0
CQEs:\t0
SqThread:\t${thread}
SqThreadCpu:\t-1
SqTotalTime:\t0
SqWorkTime:\t0
UserFiles:\t${files}
UserBufs:\t${bufs}
${pers}PollList:
CqOverflowList:
NAPI:\tdisabled
`;
const ring = (fd, o = {}, probe = 1, expected = 1) => ({ fd, fdinfo: fdinfo(o), personalityProbe: probe, expectedProbe: expected });

test('parseRingFdinfo reads the fields the preflight judges', () => {
  assert.deepEqual(parseRingFdinfo(fdinfo()), { sqMask: 0xff, cqMask: 0x1ff, sqThread: -1, userFiles: 0, userBufs: 0, personalities: false });
  assert.equal(parseRingFdinfo(fdinfo({ thread: 4242 })).sqThread, 4242);
  assert.equal(parseRingFdinfo(fdinfo({ pers: 'Personalities:\n    1\n\tUid:\t0\n' })).personalities, true);
  assert.equal(ringInode(fdinfo()), 10034056);
  assert.equal(parseRingFdinfo('').sqMask, undefined);
});

test('libuv epoll rings are accepted; the verdict lists their fds sorted', () => {
  assert.deepEqual(ioUringVerdict({ rings: [ring(17), ring(4), ring(12)], ioThreads: [] }), { ok: true, fds: [4, 12, 17] });
  assert.deepEqual(ioUringVerdict({ rings: [], ioThreads: [] }), { ok: true, fds: [] });
  // io-wq workers run requests with the submitter's credentials: not a reason to refuse
  assert.deepEqual(ioUringVerdict({ rings: [ring(4)], ioThreads: [{ tid: 9, comm: 'iou-wrk-8' }] }), { ok: true, fds: [4] });
  // a ring probed before by this process: one past that probe's id is expected
  assert.deepEqual(ioUringVerdict({ rings: [ring(4, {}, 3, 3)], ioThreads: [] }), { ok: true, fds: [4] });
  // closed or reused since the listing: not a ring any more, left out
  assert.deepEqual(ioUringVerdict({ rings: [ring(4), ring(5, {}, -9), ring(6, {}, -95)], ioThreads: [] }), { ok: true, fds: [4] });
});

test('rings that are not libuv\'s refuse the lockdown, naming the fd and the reason', () => {
  const refuse = (facts, re) => {
    const v = ioUringVerdict(facts);
    assert.equal(v.ok, false, JSON.stringify(facts));
    assert.match(v.reason, re);
  };
  refuse({ rings: [ring(4), ring(9, { thread: 777 })], ioThreads: [] }, /fd 9 .*SQPOLL/);
  // the SQPOLL thread is found even when fdinfo could not take the ring lock (SqThread -1)
  refuse({ rings: [ring(4)], ioThreads: [{ tid: 777, comm: 'iou-sqp-700' }] }, /SQPOLL.*iou-sqp-700 \[777\]/);
  // not yet named (a thread is named when it first runs): taken for SQPOLL
  refuse({ rings: [ring(4)], ioThreads: [{ tid: 778, comm: 'node' }] }, /SQPOLL.*node \[778\]/);
  refuse({ rings: [ring(4, { sq: '0x7', cq: '0xf' })], ioThreads: [] }, /size \(8 SQ \/ 16 CQ/);
  refuse({ rings: [ring(4, { files: 2 })], ioThreads: [] }, /registered files/);
  refuse({ rings: [ring(4, { bufs: 1 })], ioThreads: [] }, /registered files or buffers/);
  refuse({ rings: [ring(4, { pers: 'Personalities:\n    1\n' })], ioThreads: [] }, /personalities/);
  refuse({ rings: [ring(4, {}, 2)], ioThreads: [] }, /personality has been registered.*2, not 1/);
  refuse({ rings: [ring(4, {}, -1)], ioThreads: [] }, /cannot be checked.*errno 1/);
  refuse({ rings: [{ fd: 4, fdinfo: '', personalityProbe: 1, expectedProbe: 1 }], ioThreads: [] }, /fdinfo could not be read/);
});

test('a later lockdown: io_uring_register is denied (ENOSYS), the first verdict holds for the same fds only', () => {
  assert.deepEqual(ioUringVerdict({ rings: [ring(4, {}, -38)], ioThreads: [] }, [4, 12]), { ok: true, fds: [4] });
  const v = ioUringVerdict({ rings: [ring(5, {}, -38)], ioThreads: [] }, [4]);
  assert.equal(v.ok, false);
  assert.match(v.reason, /errno 38/);
});

test('ringProblem: undefined only for libuv\'s shape', () => {
  assert.equal(ringProblem(parseRingFdinfo(fdinfo())), undefined);
  assert.notEqual(ringProblem(parseRingFdinfo(fdinfo({ cq: '0x3ff' }))), undefined);
});

const CTX = { CWD: '/w', HOME: '/home/u', TMPDIR: '/tmp', NODE: '/usr/local', APP: '/w' };
const AUDIT = { x86_64: AUDIT_ARCH_X86_64, aarch64: AUDIT_ARCH_AARCH64 };
for (const arch of ['x86_64', 'aarch64']) {
  test(`seccomp (${arch}): io_uring_enter only on the accepted ring fds; setup and register stay ENOSYS; the report says so`, () => {
    const target = (fds) => ({ platform: 'linux', arch, landlockAbi: 7, landlockErrata: 7, kernel: true, defaults: [], ioUringFds: fds });
    const policy = normalizePolicy({}, CTX);
    const run = (p, name, args) => actionName(simulate(p.seccomp.insns, { nr: syscallNumber(arch, name), arch: AUDIT[arch], args }));
    const p = compile(policy, target([12, 4, 17]));
    for (const fd of [4, 12, 17]) assert.equal(run(p, 'io_uring_enter', [fd, 1, 1, 1, 0, 0]), 'ALLOW', `fd ${fd}`);
    for (const fd of [0, 3, 5, 13, 16, 18, 0x100000004]) assert.equal(run(p, 'io_uring_enter', [fd, 1, 1, 1, 0, 0]), fd === 0x100000004 ? 'ALLOW' : 'ERRNO(38)', `fd ${fd}`);
    assert.equal(run(p, 'io_uring_setup', [256, 0]), 'ERRNO(38)');
    for (const fd of [4, 5]) assert.equal(run(p, 'io_uring_register', [fd, 9, 0, 0]), 'ERRNO(38)');
    const w = p.warnings.filter((x) => x.startsWith('io_uring'));
    assert.equal(w.length, 1);
    assert.match(w[0], /fd 4, 12, 17/);
    assert.match(w[0], /not seen by seccomp/);
    assert.match(w[0], /Landlock still applies/);
    // no rings: no warning, io_uring_enter denied for every fd
    const q = compile(policy, target([]));
    assert.equal(q.warnings.filter((x) => x.startsWith('io_uring')).length, 0);
    for (const fd of [0, 4, 12]) assert.equal(run(q, 'io_uring_enter', [fd, 1, 1, 1, 0, 0]), 'ERRNO(38)');
  });
}
