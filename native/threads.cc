// landlockRestrictAllThreads: apply one Landlock ruleset to EVERY thread of the process.
//
// Why: before Landlock ABI 8 (LANDLOCK_RESTRICT_SELF_TSYNC, Linux 7.0) a domain is per thread.
// Node's libuv threadpool, V8 platform workers and Node's SIGUSR1 watchdog exist before
// lockdown, and a ruleset applied only on the main thread leaves async fs (threadpool)
// unrestricted — measured: fs.promises.readFile of a secret succeeded.
//
// How (the Go AllThreadsSyscall / glibc setxid technique): make each thread run
// prctl(PR_SET_NO_NEW_PRIVS) + landlock_restrict_self() itself, from a signal handler.
//   * Signal 33 = glibc's internal SIGSETXID. It is the only signal no thread of a Node
//     process blocks: Node's watchdog thread blocks everything except 9, 19, 32, 33, so a
//     normal RT signal (>= SIGRTMIN = 34) never reaches it. glibc's sigaction() refuses 32/33
//     (EINVAL), hence raw rt_sigaction. glibc 2.34+ installs its own SIGSETXID handler on the
//     first pthread_create; we save it, hijack the signal for the duration of the call, pass
//     every instance that is not ours to it (e.g. a concurrent process.setuid(), whose
//     broadcast would otherwise deadlock), and restore it afterwards.
//   * Ours are recognised by si_code == SI_QUEUE (glibc's are SI_TKILL), si_pid == our pid
//     and a random 64-bit cookie in si_value.
//   * Each target tid gets a slot published BEFORE its signal is queued with
//     rt_tgsigqueueinfo. Threads that block the signal right now (pthread_create runs a new
//     thread with every signal blocked until start_thread restores the mask; exiting threads
//     block everything) are NOT skipped: the signal stays queued and is delivered on unblock,
//     or discarded if the thread dies (then it is 'exited'). Skipping them let 30 reads
//     escape in a race test; queueing gave 0.
//   * Barrier: poll slots until none is pending; a pending tid that no longer exists
//     (tgkill(pid, tid, 0) == ESRCH) is 'exited'; past the deadline it is 'timeout'.
//   * Rescan /proc/self/task and repeat until a scan finds no new tid. Soundness: a thread
//     runs the handler only on return to user space, i.e. after any clone() it was in has
//     returned, so a child it created unrestricted is already listed in /proc when its
//     parent acks; children created after the ack inherit the domain. So when a scan taken
//     after every known thread acked finds nothing new, every live thread is restricted.
//   * The calling thread is restricted last (it must stay able to signal the others even
//     with LANDLOCK_SCOPE_SIGNAL; erratum 2 also fixes that in the kernel).
//   * SA_RESTART: libuv does not retry EINTR for UV_FS_READ; a pool thread blocked in
//     read() on a pipe must not see its read fail because we interrupted it.
//   * Never twice on one thread: a thread applies only when it moves its own slot from
//     PENDING to RUNNING (domains stack; the 17th layer fails with E2BIG).
//
// Known limit: tid reuse. pid_max may be as low as 32768; if, during one call, an already
// restricted thread exits AND its tid is handed to a new thread created by a thread that is
// not yet restricted, the new thread would be taken for the old one. That needs a full pid
// wrap-around within the call (tens of thousands of clones in milliseconds) and only
// pre-lockdown (trusted) code creates threads then.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <unordered_set>
#include <vector>

#include "exports.h"
#include "kernel.h"
#include "procfs.h"
#include "util.h"

// x86_64 requires SA_RESTORER for rt signal frames (the kernel has no vDSO trampoline there).
// We reuse the restorer of the disposition we replace (glibc's __restore_rt); if that one
// had none (SIG_DFL/SIG_IGN never set by glibc) we use this copy of glibc's trampoline.
#if defined(__x86_64__)
extern "C" void bb_rt_sigreturn_trampoline(void) __attribute__((visibility("hidden")));
asm(".pushsection .text\n"
    ".globl bb_rt_sigreturn_trampoline\n"
    ".hidden bb_rt_sigreturn_trampoline\n"
    ".type bb_rt_sigreturn_trampoline,@function\n"
    ".align 16\n"
    "bb_rt_sigreturn_trampoline:\n"
    "  movq $15, %rax\n"  // __NR_rt_sigreturn (x86_64)
    "  syscall\n"
    "  hlt\n"
    ".size bb_rt_sigreturn_trampoline, .-bb_rt_sigreturn_trampoline\n"
    ".popsection\n");
#endif

namespace bb {
namespace {

constexpr int kSig = 33;                      // glibc SIGSETXID (SIGCANCEL is 32)
constexpr int kMaxSlots = 4096;               // threads per call; more -> ok:false
constexpr unsigned long kSA_RESTORER = 0x04000000UL;
constexpr int64_t kCheckExitNs = 1000000;     // re-check a pending tid's existence every 1 ms
constexpr int64_t kResendNs = 10000000;       // re-queue to a still-pending tid every 10 ms

// The kernel's struct sigaction for rt_sigaction(2) (x86_64 and the generic layout used by
// arm64): handler, flags, restorer, 64-bit mask; sigsetsize argument = 8.
struct KSigaction {
  void* handler;
  unsigned long flags;
  void (*restorer)(void);
  uint64_t mask;
};

enum : uint32_t {
  kEmpty = 0,
  kPending = 1,  // published; signal queued (or to be re-queued)
  kRunning = 2,  // the thread is inside the handler applying the domain
  kApplied = 3,
  kFailed = 4,   // prctl or landlock_restrict_self failed in that thread (errno stored)
  kExited = 5,   // the thread disappeared before handling the signal
  kTimeout = 6,  // still pending at the deadline
  kIoWorker = 7, // a kernel io_uring thread (PF_IO_WORKER): not signalled, see IsIoWorker
};

// io_uring's kernel threads (io-wq workers "iou-wrk-<tid>", SQPOLL "iou-sqp-<pid>") are
// threads of this process with PF_IO_WORKER (0x10) in the flags field (9th) of
// /proc/self/task/<tid>/stat. They never return to user space, so they would never run the
// handler (a timeout: lockdown would fail closed on every process that used a ring), and
// they make no system calls of their own: io-wq runs each request with the credentials of
// the thread that submitted it (io_prep_async_work copies current_cred() into req->creds),
// so a request submitted after lockdown carries the Landlock domain (measured in
// test/kernel/lockdown-iouring.test.js). An SQPOLL thread instead uses the credentials of
// the ring's creator: the io_uring preflight (src/lockdown/iouring.ts) refuses to lock down
// while one exists. A user thread cannot set PF_IO_WORKER, so this skips no user thread.
bool IsIoWorker(int dfd, int tid) {
  char buf[1024];
  std::string rel = std::to_string(tid) + "/stat";
  const char* failed = "read";
  long len = ReadSmallFileAt(dfd, rel.c_str(), buf, sizeof buf, &failed);
  if (len <= 0) return false;  // exited, or unreadable: signalled like any thread
  const char* p = strrchr(buf, ')');  // comm may hold spaces and ')': count from the last
  for (int field = 3; field <= 9 && p; field++) {
    p = strchr(p + 1, ' ');
  }
  if (!p) return false;
  return (strtoul(p + 1, nullptr, 10) & 0x10) != 0;
}

// Slot word: generation (32) | errno (24) | state (8). The generation makes a late handler
// of an earlier call (a thread that timed out, then ran) unable to touch the current table.
inline uint64_t Pack(uint32_t gen, uint32_t err, uint32_t st) {
  return (static_cast<uint64_t>(gen) << 32) | (static_cast<uint64_t>(err & 0xffffffu) << 8) | st;
}
inline uint32_t StateOf(uint64_t w) { return static_cast<uint32_t>(w & 0xff); }
inline uint32_t ErrOf(uint64_t w) { return static_cast<uint32_t>((w >> 8) & 0xffffff); }

struct Slot {
  std::atomic<int> tid;
  std::atomic<uint64_t> word;
};

// Async-signal-safe communication needs lock-free atomics.
static_assert(std::atomic<uint64_t>::is_always_lock_free, "need lock-free 64-bit atomics");
static_assert(std::atomic<int>::is_always_lock_free, "need lock-free int atomics");
static_assert(std::atomic<uintptr_t>::is_always_lock_free, "need lock-free pointer atomics");

Slot g_slots[kMaxSlots];
std::atomic<int> g_nslots{0};
std::atomic<uint32_t> g_gen{0};
std::atomic<uintptr_t> g_cookie{0};
std::atomic<int> g_pid{0};
std::atomic<int> g_rfd{-1};
std::atomic<uint32_t> g_rflags{0};
std::atomic<uint32_t> g_foreign{0};
std::atomic<bool> g_busy{false};
KSigaction g_old;  // written before our handler is installed, read-only while it is

long RawSigaction(int sig, const KSigaction* act, KSigaction* old) {
  return syscall(SYS_rt_sigaction, sig, act, old, sizeof(uint64_t));
}

// Pass an instance that is not ours to the disposition we replaced. If that was SIG_DFL or
// SIG_IGN there is no handler to run; the instance is dropped (SIG_DFL of an RT signal would
// kill the process, which nobody sending SIGSETXID can have wanted).
void Chain(int sig, siginfo_t* si, void* uc) {
  void* h = g_old.handler;
  if (h == reinterpret_cast<void*>(SIG_DFL) || h == reinterpret_cast<void*>(SIG_IGN)) return;
  if (g_old.flags & SA_SIGINFO)
    reinterpret_cast<void (*)(int, siginfo_t*, void*)>(h)(sig, si, uc);
  else
    reinterpret_cast<void (*)(int)>(h)(sig);
}

// Async-signal-safe: raw syscalls and lock-free atomics only; errno saved and restored.
void Handler(int sig, siginfo_t* si, void* uc) {
  int saved_errno = errno;
  uintptr_t cookie = g_cookie.load(std::memory_order_acquire);
  if (si != nullptr && cookie != 0 && si->si_code == SI_QUEUE &&
      si->si_pid == g_pid.load(std::memory_order_relaxed) &&
      reinterpret_cast<uintptr_t>(si->si_value.sival_ptr) == cookie) {
    int tid = static_cast<int>(syscall(SYS_gettid));
    uint32_t gen = g_gen.load(std::memory_order_acquire);
    int n = g_nslots.load(std::memory_order_acquire);
    for (int i = 0; i < n; i++) {
      if (g_slots[i].tid.load(std::memory_order_relaxed) != tid) continue;
      uint64_t expect = Pack(gen, 0, kPending);
      if (g_slots[i].word.compare_exchange_strong(expect, Pack(gen, 0, kRunning),
                                                  std::memory_order_acq_rel)) {
        uint32_t err = 0;
        if (syscall(SYS_prctl, kPR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0)
          err = static_cast<uint32_t>(errno);
        else if (syscall(SYS_landlock_restrict_self, g_rfd.load(std::memory_order_relaxed),
                         g_rflags.load(std::memory_order_relaxed)) != 0)
          err = static_cast<uint32_t>(errno);
        uint64_t running = Pack(gen, 0, kRunning);
        g_slots[i].word.compare_exchange_strong(running, Pack(gen, err, err ? kFailed : kApplied),
                                                std::memory_order_acq_rel);
      }
      break;  // duplicate instance (re-queued) or not pending any more: nothing to do
    }
  } else {
    g_foreign.fetch_add(1, std::memory_order_relaxed);
    Chain(sig, si, uc);
  }
  errno = saved_errno;
}

int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

uintptr_t RandomCookie() {
  uintptr_t c = 0;
  if (syscall(SYS_getrandom, &c, sizeof c, 0x0001 /* GRND_NONBLOCK */) != sizeof c || c == 0) {
    // No entropy source (ancient kernel or early boot): any value not guessable by another
    // process will do; mix clock, pid and an address.
    c = static_cast<uintptr_t>(NowNs()) ^ (static_cast<uintptr_t>(getpid()) << 40) ^
        reinterpret_cast<uintptr_t>(&c);
    if (c == 0) c = 1;
  }
  return c;
}

// Queue our signal to one thread. Returns 0 or errno (ESRCH: gone; EAGAIN: RLIMIT_SIGPENDING).
int Queue(int pid, int tid, uintptr_t cookie) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = kSig;
  // SI_QUEUE, never SI_TKILL: glibc's setxid handler acts on SI_TKILL instances only, so a
  // stray instance of ours that reaches it later (a timed-out thread) is ignored by it.
  si.si_code = SI_QUEUE;
  si.si_pid = pid;
  si.si_uid = getuid();
  si.si_value.sival_ptr = reinterpret_cast<void*>(cookie);
  if (syscall(SYS_rt_tgsigqueueinfo, pid, tid, kSig, &si) == 0) return 0;
  return errno;
}

struct ThreadResult {
  int tid;
  uint32_t state;
  uint32_t err;
  bool self;
};

struct Report {
  bool ok = false;
  bool stable = false;
  int rounds = 0;
  int overflow = 0;
  uint32_t foreign = 0;
  int64_t elapsed_ns = 0;
  int scan_err = 0;  // a rescan failed after threads were already restricted
  std::vector<ThreadResult> threads;
};

// Returns 0 and fills *rep, or an errno with *syscall_name set when nothing was changed.
int Broadcast(int rfd, uint32_t flags, int64_t timeout_ms, Report* rep, const char** syscall_name) {
  const int64_t t0 = NowNs();
  const int64_t deadline = t0 + timeout_ms * 1000000LL;
  const int self = static_cast<int>(syscall(SYS_gettid));
  const int pid = getpid();

  // Opened once and rewound for every rescan, so a later scan cannot fail on EMFILE.
  int dfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    *syscall_name = "open";
    return errno;
  }
  KSigaction old;
  memset(&old, 0, sizeof old);
  if (RawSigaction(kSig, nullptr, &old) != 0) {
    int err = errno;
    close(dfd);
    *syscall_name = "rt_sigaction";
    return err;
  }

  // Publish the call's parameters, then install the handler (the rt_sigaction syscall orders
  // these stores before any delivery of the new disposition).
  g_old = old;
  g_rfd.store(rfd, std::memory_order_relaxed);
  g_rflags.store(flags, std::memory_order_relaxed);
  g_pid.store(pid, std::memory_order_relaxed);
  g_foreign.store(0, std::memory_order_relaxed);
  g_nslots.store(0, std::memory_order_release);
  const uint32_t gen = g_gen.fetch_add(1, std::memory_order_acq_rel) + 1;
  const uintptr_t cookie = RandomCookie();
  g_cookie.store(cookie, std::memory_order_release);
  std::atomic_thread_fence(std::memory_order_seq_cst);

  KSigaction act;
  memset(&act, 0, sizeof act);
  act.handler = reinterpret_cast<void*>(&Handler);
  act.flags = SA_SIGINFO | SA_RESTART | kSA_RESTORER;
  act.restorer = old.restorer;
#if defined(__x86_64__)
  if (!(old.flags & kSA_RESTORER) || old.restorer == nullptr) act.restorer = bb_rt_sigreturn_trampoline;
#else
  if (!(old.flags & kSA_RESTORER) || old.restorer == nullptr) {
    act.flags &= ~kSA_RESTORER;  // arm64 & co. return through the vDSO
    act.restorer = nullptr;
  }
#endif
  act.mask = ~0ULL;  // nothing else interrupts the handler (the kernel drops KILL/STOP)
  if (RawSigaction(kSig, &act, nullptr) != 0) {
    int err = errno;
    g_cookie.store(0, std::memory_order_release);
    close(dfd);
    *syscall_name = "rt_sigaction";
    return err;
  }

  // Controller-side bookkeeping per slot.
  std::vector<int64_t> last_send(kMaxSlots, 0), last_check(kMaxSlots, 0);
  std::vector<char> need_send(kMaxSlots, 0);
  std::unordered_set<int> known, overflowed;
  std::vector<int> present;
  int nslots = 0;
  bool timed_out = false;

  for (;;) {
    rep->rounds++;
    present.clear();
    int err = ListNumericEntries(dfd, &present);
    if (err) {
      rep->scan_err = err;
      break;
    }
    int fresh = 0;
    for (int tid : present) {
      if (tid == self || known.count(tid)) continue;
      if (nslots == kMaxSlots) {
        overflowed.insert(tid);
        continue;
      }
      known.insert(tid);
      int i = nslots++;
      g_slots[i].tid.store(tid, std::memory_order_relaxed);
      g_slots[i].word.store(Pack(gen, 0, kPending), std::memory_order_relaxed);
      g_nslots.store(nslots, std::memory_order_release);  // publish before queueing
      fresh++;
      if (IsIoWorker(dfd, tid)) {
        g_slots[i].word.store(Pack(gen, 0, kIoWorker), std::memory_order_release);
        continue;
      }
      int64_t now = NowNs();
      last_send[i] = last_check[i] = now;
      int qerr = Queue(pid, tid, cookie);
      if (qerr == EAGAIN) {
        need_send[i] = 1;
      } else if (qerr) {
        uint64_t expect = Pack(gen, 0, kPending);
        g_slots[i].word.compare_exchange_strong(
            expect, qerr == ESRCH ? Pack(gen, 0, kExited) : Pack(gen, qerr, kFailed));
      }
    }

    // Barrier for this round.
    int64_t sleep_ns = 10000;
    int busy = 0;
    for (;;) {
      busy = 0;
      int64_t now = NowNs();
      for (int i = 0; i < nslots; i++) {
        uint64_t w = g_slots[i].word.load(std::memory_order_acquire);
        uint32_t st = StateOf(w);
        if (st == kRunning) {
          busy++;
          continue;
        }
        if (st != kPending) continue;
        int tid = g_slots[i].tid.load(std::memory_order_relaxed);
        if (need_send[i] || now - last_send[i] >= kResendNs) {
          // EAGAIN retry, or re-queue: cheap insurance against a lost race we did not
          // think of; the handler ignores duplicates.
          int qerr = Queue(pid, tid, cookie);
          last_send[i] = now;
          need_send[i] = qerr == EAGAIN;
          if (qerr && qerr != EAGAIN) {
            uint64_t expect = w;
            g_slots[i].word.compare_exchange_strong(
                expect, qerr == ESRCH ? Pack(gen, 0, kExited) : Pack(gen, qerr, kFailed));
            continue;
          }
        } else if (now - last_check[i] >= kCheckExitNs) {
          last_check[i] = now;
          if (syscall(SYS_tgkill, pid, tid, 0) != 0 && errno == ESRCH) {
            uint64_t expect = w;
            if (g_slots[i].word.compare_exchange_strong(expect, Pack(gen, 0, kExited))) continue;
          }
        }
        busy++;
      }
      if (busy == 0 || now >= deadline) break;
      struct timespec ts = {0, static_cast<long>(sleep_ns)};
      nanosleep(&ts, nullptr);
      if (sleep_ns < 200000) sleep_ns *= 2;
    }
    if (busy) {
      timed_out = true;
      break;
    }
    if (fresh == 0) {
      rep->stable = overflowed.empty();
      break;
    }
    if (NowNs() >= deadline) break;  // threads keep appearing: cannot confirm stability
  }

  if (timed_out) {
    for (int i = 0; i < nslots; i++) {
      uint64_t w = g_slots[i].word.load(std::memory_order_acquire);
      if (StateOf(w) == kPending) {
        uint64_t expect = w;
        g_slots[i].word.compare_exchange_strong(expect, Pack(gen, 0, kTimeout));
      }
    }
  }

  // The calling thread last.
  uint32_t self_err = 0;
  if (syscall(SYS_prctl, kPR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0)
    self_err = static_cast<uint32_t>(errno);
  else if (syscall(SYS_landlock_restrict_self, rfd, flags) != 0)
    self_err = static_cast<uint32_t>(errno);

  // Restore. Instances still queued to timed-out threads will later reach the restored
  // disposition: glibc's handler ignores them (not SI_TKILL). If the old disposition was
  // SIG_DFL, which would kill the process on such an instance, set SIG_IGN first: that
  // discards every queued instance of the signal in all threads (POSIX; the kernel flushes
  // the queues). Not done when glibc's handler was there: it could discard one of glibc's
  // own setxid signals in flight and hang that setuid().
  if (old.handler == reinterpret_cast<void*>(SIG_DFL)) {
    KSigaction ign = old;
    ign.handler = reinterpret_cast<void*>(SIG_IGN);
    RawSigaction(kSig, &ign, nullptr);
  }
  RawSigaction(kSig, &old, nullptr);
  g_cookie.store(0, std::memory_order_release);
  close(dfd);

  bool all = true;
  for (int i = 0; i < nslots; i++) {
    uint64_t w = g_slots[i].word.load(std::memory_order_acquire);
    uint32_t st = StateOf(w);
    if (st == kRunning || st == kPending) st = kTimeout;  // still inside the handler
    if (st != kApplied && st != kExited && st != kIoWorker) all = false;
    rep->threads.push_back({g_slots[i].tid.load(std::memory_order_relaxed), st, ErrOf(w), false});
  }
  rep->threads.push_back({self, self_err ? kFailed : kApplied, self_err, true});
  rep->overflow = static_cast<int>(overflowed.size());
  rep->foreign = g_foreign.load(std::memory_order_relaxed);
  rep->ok = all && self_err == 0 && rep->stable && rep->overflow == 0 && rep->scan_err == 0;
  rep->elapsed_ns = NowNs() - t0;
  return 0;
}

const char* StateName(uint32_t st) {
  switch (st) {
    case kApplied:
      return "applied";
    case kExited:
      return "exited";
    case kIoWorker:
      return "io-worker";
    case kFailed:
      return "failed";
    default:
      return "timeout";
  }
}

// landlockRestrictAllThreads(rulesetFd, flags, timeoutMs):
//   { ok, threads: [{tid, state, errno?, code?, self?}], rounds, foreign, elapsedUs,
//     stable, overflow }
// threads lists every other thread seen, then the calling thread (self: true) last.
// errno is negative (Node style). ok = every thread applied or exited, the caller applied,
// the last scan found no new thread, and the slot table did not overflow.
Napi::Value LandlockRestrictAllThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "landlockRestrictAllThreads";
  if (!ArgCount(info, 3, fn)) return env.Undefined();
  int64_t rfd, flags, timeout_ms;
  if (!ArgInt(info, 0, fn, "rulesetFd", INT32_MIN, INT32_MAX, &rfd) ||
      !ArgInt(info, 1, fn, "flags", 0, 0xFFFFFFFFLL, &flags) ||
      !ArgInt(info, 2, fn, "timeoutMs", 0, 3600000, &timeout_ms))
    return env.Undefined();

  bool expected = false;
  if (!g_busy.compare_exchange_strong(expected, true))  // e.g. two Workers at once
    return ThrowErrno(env, "landlock_restrict_self", EBUSY);
  Report rep;
  const char* sc = "";
  int err = Broadcast(static_cast<int>(rfd), static_cast<uint32_t>(flags), timeout_ms, &rep, &sc);
  g_busy.store(false);
  if (err) return ThrowErrno(env, sc, err, std::string(sc) == "open" ? "/proc/self/task" : nullptr);

  Napi::Object out = Napi::Object::New(env);
  Napi::Array threads = Napi::Array::New(env, rep.threads.size());
  for (size_t i = 0; i < rep.threads.size(); i++) {
    const ThreadResult& t = rep.threads[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("tid", Napi::Number::New(env, t.tid));
    o.Set("state", Napi::String::New(env, StateName(t.state)));
    if (t.state == kFailed) {
      o.Set("errno", Napi::Number::New(env, -static_cast<double>(t.err)));
      const char* name = ErrnoName(static_cast<int>(t.err));
      if (name) o.Set("code", Napi::String::New(env, name));
    }
    if (t.self) o.Set("self", Napi::Boolean::New(env, true));
    threads.Set(static_cast<uint32_t>(i), o);
  }
  out.Set("ok", Napi::Boolean::New(env, rep.ok));
  out.Set("threads", threads);
  out.Set("rounds", Napi::Number::New(env, rep.rounds));
  out.Set("foreign", Napi::Number::New(env, rep.foreign));
  out.Set("elapsedUs", Napi::Number::New(env, static_cast<double>(rep.elapsed_ns / 1000)));
  out.Set("stable", Napi::Boolean::New(env, rep.stable));
  out.Set("overflow", Napi::Number::New(env, rep.overflow));
  if (rep.scan_err) {
    const char* name = ErrnoName(rep.scan_err);
    out.Set("scanError", Napi::String::New(env, name ? name : "UNKNOWN"));
  }
  return out;
}

}  // namespace

void InitThreads(Napi::Env env, Napi::Object exports) {
  exports.Set("landlockRestrictAllThreads",
              Napi::Function::New(env, LandlockRestrictAllThreads, "landlockRestrictAllThreads"));
}

}  // namespace bb
