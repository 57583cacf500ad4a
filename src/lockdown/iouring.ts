// io_uring rings that exist at lockdown: which may stay usable, and which make the
// lockdown refuse. Pure: the probe hands over /proc/self/fdinfo texts and the kernel's
// io_uring threads; nothing here touches the system.
//
// Why rings are allowed at all: libuv >= 1.45 (Node 22+: 1.51, 1.52) opens one io_uring
// ring per event loop (uv__platform_loop_init -> uv__iou_init(..., 256 entries, flags 0))
// to batch epoll_ctl, and only its SQPOLL ring is gated by UV_USE_IO_URING
// (uv__use_io_uring returns 1 at once for flags without SQPOLL). Node's main loop, the
// platform's delayed-task scheduler and every Worker each have one. Denying io_uring_enter
// on them makes libuv abort ("io_uring_enter(getevents)"), so the seccomp filter allows
// io_uring_enter on exactly the fds found here; io_uring_setup stays ENOSYS (no new ring:
// libuv then falls back to plain epoll_ctl, e.g. in a Worker started after lockdown) and
// io_uring_register stays ENOSYS (no personality, file, buffer or restriction registered
// later).
//
// What a ring is accepted as "libuv's epoll ring" (anything else refuses the lockdown):
//  * 256 SQ / 512 CQ entries (SqMask 0xff, CqMask 0x1ff): what uv__iou_init asks for the
//    ctl ring.
//  * no SQPOLL thread. An SQPOLL ring's submissions run in the kernel thread "iou-sqp-<pid>"
//    with the credentials captured at io_uring_setup (ctx->sq_creds): from before lockdown,
//    i.e. without the Landlock domain. fdinfo prints SqThread only when it gets the ring's
//    uring_lock (mutex_trylock), so the sqp thread itself (PF_IO_WORKER, found by flags in
//    /proc/self/task/<tid>/stat) is checked too, which does not depend on that lock.
//  * no registered personality: a personality is a credential captured when registered (so
//    before lockdown); an SQE naming it runs with it — measured: a file created in a denied
//    directory. fdinfo does not list personalities on 6.18 (older kernels did, under the
//    same trylock), so the probe asks the kernel: it registers one itself and unregisters it;
//    ids are allocated cyclically from 1, so any id but 1 (or, for a ring probed before, one
//    past the id that probe got) means this ring has had one
//    (native/status.cc, ioUringPersonalityProbe). libuv never registers one, and
//    io_uring_register is denied after lockdown (a later lockdown's probe gets ENOSYS and
//    relies on the first one's verdict for the same fds).
//  * no registered files or buffers (UserFiles/UserBufs 0): libuv registers none.
// Not counted: the number of such rings. Every ring of this shape grants the same thing
// (operations run with the submitting thread's credentials), and native code after lockdown
// can write SQEs into libuv's own mapped rings anyway, so a further one adds no capability;
// while the number of loops (hence rings) is not visible from outside libuv (Workers, addons'
// own loops). A careful user's question is "can a ring do what the lockdown forbids", and
// that is what the shape and credential checks answer.
//
// fd reuse: an allowed fd number closed later (a Worker's loop ends) can be taken by another
// file; io_uring_enter on a non-ring fd fails (EOPNOTSUPP). No new ring can be made in this
// process; one received over a unix socket from another process runs with that process's
// credentials, which is that process acting, as it could without a ring.

export interface IoUringRingFacts {
  fd: number;
  /** /proc/self/fdinfo/<fd>; "" when unreadable. */
  fdinfo: string;
  /** The id a personality registered now got (1: none was ever registered), or -errno. */
  personalityProbe: number;
  /**
   * The id expected when no one else registered one: 1, or one past the id an earlier probe
   * of this process got on the same ring (the allocator moves on; the probe is repeatable).
   */
  expectedProbe: number;
}

export interface IoUringFacts {
  rings: IoUringRingFacts[];
  /** Threads with PF_IO_WORKER: iou-sqp-* (SQPOLL) and iou-wrk-* (io-wq workers). */
  ioThreads: { tid: number; comm: string }[];
}

export interface RingInfo {
  sqMask: number | undefined;
  cqMask: number | undefined;
  sqThread: number | undefined;
  userFiles: number | undefined;
  userBufs: number | undefined;
  personalities: boolean;
}

/** The ring's inode (fdinfo "ino:"): which ring an fd is, across fd renumbering. */
export function ringInode(fdinfo: string): number | undefined {
  return field(fdinfo, 'ino');
}

export const LIBUV_SQ_MASK = 0xff;
export const LIBUV_CQ_MASK = 0x1ff;

function field(text: string, key: string): number | undefined {
  const m = new RegExp(`^${key}:\\s*(-?(?:0x[0-9a-fA-F]+|\\d+))\\s*$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

export function parseRingFdinfo(text: string): RingInfo {
  return {
    sqMask: field(text, 'SqMask'),
    cqMask: field(text, 'CqMask'),
    sqThread: field(text, 'SqThread'),
    userFiles: field(text, 'UserFiles'),
    userBufs: field(text, 'UserBufs'),
    personalities: /^Personalities:/m.test(text),
  };
}

/** Why this ring is not libuv's epoll ring, or undefined when it is. */
export function ringProblem(info: RingInfo): string | undefined {
  if (info.sqMask === undefined || info.cqMask === undefined || info.sqThread === undefined) return 'its fdinfo could not be read';
  if (info.sqThread !== -1) return `it is an SQPOLL ring (kernel thread ${info.sqThread}), whose operations run with the credentials of its creator from before lockdown, outside the Landlock domain`;
  if (info.personalities) return 'it has registered personalities (credentials from before lockdown that any submission can select)';
  if ((info.userFiles ?? 0) > 0 || (info.userBufs ?? 0) > 0) return `it has registered files or buffers (${info.userFiles ?? 0} files, ${info.userBufs ?? 0} buffers), which libuv never registers`;
  if (info.sqMask !== LIBUV_SQ_MASK || info.cqMask !== LIBUV_CQ_MASK) return `its size (${info.sqMask + 1} SQ / ${info.cqMask + 1} CQ entries) is not libuv's epoll ring (256 / 512)`;
  return undefined;
}

export type IoUringVerdict =
  | { ok: true; fds: number[] }
  | { ok: false; reason: string };

const ENOSYS = 38, EBADF = 9, EOPNOTSUPP = 95;

/**
 * `accepted`: the fds an earlier lockdown of this process accepted (its filter denies
 * io_uring_setup and io_uring_register, so no ring and no personality can have appeared since).
 */
export function ioUringVerdict(facts: IoUringFacts, accepted: readonly number[] = []): IoUringVerdict {
  // A new io thread carries its creator's name until it first runs and names itself
  // (iou-sqp-<pid> / iou-wrk-<tid>): only a named io-wq worker is known not to be SQPOLL.
  const sqp = facts.ioThreads.filter((t) => !t.comm.startsWith('iou-wrk'));
  if (sqp.length > 0) {
    return { ok: false, reason: `an SQPOLL io_uring ring is active (kernel thread${sqp.length > 1 ? 's' : ''} ${sqp.map((t) => `${t.comm} [${t.tid}]`).join(', ')}): its operations run with credentials from before lockdown, which neither seccomp nor Landlock restricts; with Node 20 unset UV_USE_IO_URING` };
  }
  const fds: number[] = [];
  for (const r of facts.rings) {
    const p = r.personalityProbe;
    // Closed (EBADF) or reused by another file (EOPNOTSUPP) since the listing: no ring there.
    if (p === -EBADF || p === -EOPNOTSUPP) continue;
    let why = ringProblem(parseRingFdinfo(r.fdinfo));
    if (!why && p !== r.expectedProbe) {
      if (p === -ENOSYS && accepted.includes(r.fd)) why = undefined;
      else if (p > 0) why = `a personality has been registered on it (the kernel's next personality id is ${p}, not ${r.expectedProbe}): a credential from before lockdown that any submission can select, outside the Landlock domain`;
      else why = `whether it has registered personalities cannot be checked (io_uring_register: errno ${-p})`;
    }
    if (why) return { ok: false, reason: `io_uring ring fd ${r.fd} is not libuv's epoll ring: ${why}${r.fdinfo === '' ? '' : '; with Node 20 unset UV_USE_IO_URING'}` };
    fds.push(r.fd);
  }
  return { ok: true, fds: fds.sort((a, b) => a - b) };
}
