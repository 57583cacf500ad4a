// blackbox-supervisor main: start-up hygiene, the handshake, the notification loop.
//
//   blackbox-supervisor launch     `blackbox run`: we are the parent of the command (launch.cc).
//   blackbox-supervisor attach     lockdown() in a running process. fd 3 is our end of a
//                                  socketpair with the target: it sends the rule table,
//                                  then "attach <tgid> <listener fd number>" once its filter
//                                  is installed; we pull the listener with pidfd_getfd
//                                  (never SCM_RIGHTS: the target's sendmsg is already trapped)
//                                  and answer "ok <selftest-allow-port> <selftest-deny-port>".
//                                  Afterwards fd 3 carries violation reports (JSON lines) to
//                                  the target and hints ("hint <name>") from it; "abort"
//                                  (a failed lockdown) makes us exit until the target has
//                                  sent "selftest-done".
//
// We exit when no filtered task is left (POLLHUP on the listener). If we die, every trapped
// call fails with ENOSYS (the kernel detaches the notifier): fail closed.
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <thread>

#include "notify.h"
#include "serve.h"

namespace sup {

// handle.cc
void InitHandler(int nfd, int ctl, Rules* rules);
void HandleOne(const SeccompNotif& n, std::list<Call>* deferred);
void Redecide(std::list<Call>* deferred, bool expireAll);
void ApplyResolution(int host, uint64_t gen, const std::vector<Addr>& addrs, bool ok);
void StartResolves(std::list<Call>* deferred);
void HandleCtlLine(const std::string& line);
void SetSelftest(int allowPort, int denyPort);

// ---- resolver: getaddrinfo on its own thread, so the loop never blocks on DNS -----------
struct ResolveReq { int host; uint64_t gen; std::string name; };
struct ResolveRes { int host; uint64_t gen; std::vector<Addr> addrs; bool ok; };
static std::mutex g_mu;
static std::condition_variable g_cv;
static std::deque<ResolveReq> g_reqs;
static std::deque<ResolveRes> g_res;
static int g_wake[2] = {-1, -1};

void QueueResolve(int host, uint64_t gen, const std::string& name) {
  std::lock_guard<std::mutex> l(g_mu);
  g_reqs.push_back({host, gen, name});
  g_cv.notify_one();
}

static void ResolverThread() {
  for (;;) {
    ResolveReq q;
    {
      std::unique_lock<std::mutex> l(g_mu);
      g_cv.wait(l, [] { return !g_reqs.empty(); });
      q = g_reqs.front();
      g_reqs.pop_front();
    }
    struct addrinfo hints = {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo* res = nullptr;
    ResolveRes out{q.host, q.gen, {}, false};
    if (getaddrinfo(q.name.c_str(), nullptr, &hints, &res) == 0) {
      out.ok = true;
      for (struct addrinfo* ai = res; ai; ai = ai->ai_next) {
        Addr a;
        if (ai->ai_family == AF_INET) {
          a.family = 4;
          memcpy(a.b, &reinterpret_cast<struct sockaddr_in*>(ai->ai_addr)->sin_addr, 4);
        } else if (ai->ai_family == AF_INET6) {
          a.family = 6;
          memcpy(a.b, &reinterpret_cast<struct sockaddr_in6*>(ai->ai_addr)->sin6_addr, 16);
        } else {
          continue;
        }
        out.addrs.push_back(a);
      }
      freeaddrinfo(res);
    }
    {
      std::lock_guard<std::mutex> l(g_mu);
      g_res.push_back(out);
    }
    char b = 1;
    (void)!write(g_wake[1], &b, 1);
  }
}

// ---- start-up ----------------------------------------------------------------------------
[[noreturn]] void Die(const char* what) {
  dprintf(2, "blackbox-supervisor: %s: %s\n", what, strerror(errno));
  _exit(70);
}

void Hygiene(int keepUpTo) {
  // Valid fds 0-2 BEFORE any target socket is duplicated here: a dup landing on fd 2 would
  // send our diagnostics into the target's connection (seen in the prototype).
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) < 0) {
      int n = open("/dev/null", O_RDWR);
      if (n >= 0 && n != fd) { dup2(n, fd); close(n); }
    }
  }
  // Only fds 0..keepUpTo are ours (3: ctl; launch: 4 the Landlock ruleset); anything else
  // leaked in (Node leaks one pipe) is closed.
  for (int fd = keepUpTo + 1; fd < 1024; fd++) close(fd);
  signal(SIGPIPE, SIG_IGN);  // an on-behalf send to a closed peer must not kill us
  // Not dumpable: the same-uid target may not ptrace us, read our memory or steal the
  // listener with pidfd_getfd.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

bool ReadLine(int fd, std::string* out, size_t max) {
  out->clear();
  char c;
  for (;;) {
    ssize_t r = read(fd, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    if (c == '\n') return true;
    if (out->size() > max) return false;
    out->push_back(c);
  }
}

void Reply(int ctl, const std::string& s) {
  std::string line = s + "\n";
  (void)!write(ctl, line.data(), line.size());
}

int SelftestSocket(bool listening, int* port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  struct sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || (listening && listen(s, 4) < 0) ||
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) < 0) {
    close(s);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return s;
}

bool ReadRuleTable(int ctl, Rules* rules, int* code) {
  std::string line, err;
  for (;;) {
    if (!ReadLine(ctl, &line)) { dprintf(2, "blackbox-supervisor: rule table cut short\n"); *code = 70; return false; }
    if (line == "end") break;
    if (!ParseRuleLine(line, rules, &err)) { Reply(ctl, "err 22 " + err); *code = 64; return false; }
  }
  if (rules->dns) {
    ReadNameservers(&rules->nameservers);
    rules->nameserversAtMs = NowMs();
  }
  return true;
}

bool BeginSession(Session* s, std::string* err) {
  fcntl(s->nfd, F_SETFD, FD_CLOEXEC);
  // The flags go BY VALUE (seccomp_notify_ioctl hands `arg` itself to set_flags; a pointer
  // reads as unknown flags: EINVAL). With SYNC_WAKE_UP the target's trap wakes us on its own
  // CPU and our reply wakes it on ours: ~6 µs a round trip here whatever the affinity, ~55 µs
  // when the two are woken across CPUs of this VM (measured, C, getppid trap). 6.6+; an older
  // kernel's EINVAL only costs that latency.
  ioctl(s->nfd, kNOTIF_SET_FLAGS, static_cast<unsigned long>(kSECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP));
  if (s->sa < 0) {
    s->sa = SelftestSocket(true, &s->allowPort);
    s->sd = SelftestSocket(false, &s->denyPort);
    if (s->sa < 0 || s->sd < 0) { *err = std::to_string(errno) + " selftest sockets"; return false; }
  }
  SetSelftest(s->allowPort, s->denyPort);
  if (pipe2(g_wake, O_CLOEXEC | O_NONBLOCK) < 0) Die("pipe2");
  std::thread(ResolverThread).detach();
  InitHandler(s->nfd, s->ctl, s->rules);
  return true;
}

void EndSelftest(Session* s) {
  if (s->sa >= 0) close(s->sa);
  if (s->sd >= 0) close(s->sd);
  s->sa = s->sd = -1;
  SetSelftest(0, 0);
}

int Serve(Session* s, std::vector<Extra>* extra) {
  const int nfd = s->nfd, ctl = s->ctl;
  std::list<Call> deferred;
  StartResolves(&deferred);
  fcntl(ctl, F_SETFL, fcntl(ctl, F_GETFL) | O_NONBLOCK);

  SeccompNotifSizes sizes = {};
  if (syscall(SYS_seccomp, kSECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) Die("GET_NOTIF_SIZES");
  // The kernel's struct may be longer than ours (it fills what it knows; RECV needs a zeroed
  // buffer of its size, EINVAL otherwise).
  size_t nsize = sizes.notif > sizeof(SeccompNotif) ? sizes.notif : sizeof(SeccompNotif);
  std::vector<uint8_t> buf(nsize);
  std::string ctlbuf;
  bool ctlOpen = true;
  uint64_t nextRefresh = NowMs() + 30000;
  const size_t nextra = extra ? extra->size() : 0;
  std::vector<struct pollfd> pf(3 + nextra);

  for (;;) {
    pf[0] = {nfd, POLLIN, 0};
    pf[1] = {g_wake[0], POLLIN, 0};
    pf[2] = {ctlOpen ? ctl : -1, POLLIN, 0};
    for (size_t i = 0; i < nextra; i++) pf[3 + i] = {(*extra)[i].fd, POLLIN, 0};
    uint64_t now = NowMs();
    int timeout = static_cast<int>(nextRefresh > now ? nextRefresh - now : 0);
    for (const Call& c : deferred) {
      int t = c.deadlineMs > now ? static_cast<int>(c.deadlineMs - now) : 0;
      if (t < timeout) timeout = t;
    }
    int r = poll(pf.data(), pf.size(), timeout);
    if (r < 0 && errno != EINTR) Die("poll");
    // Hints first: a hint the target wrote before its connect must be seen before that connect.
    if (pf[2].revents & (POLLIN | POLLHUP)) {
      char tmp[4096];
      for (;;) {
        ssize_t n = read(ctl, tmp, sizeof tmp);
        if (n > 0) { ctlbuf.append(tmp, n); continue; }
        if (n == 0) ctlOpen = false;
        break;
      }
      size_t nl;
      while ((nl = ctlbuf.find('\n')) != std::string::npos) {
        std::string l = ctlbuf.substr(0, nl);
        ctlbuf.erase(0, nl + 1);
        if (l == "selftest-done") EndSelftest(s);
        // The self-test failed: exit, so every trapped call fails (ENOSYS). Honoured only
        // before "selftest-done": afterwards code in the target cannot stop us this way.
        else if (l == "abort" && s->sa >= 0) _exit(75);
        else HandleCtlLine(l);
      }
      if (ctlbuf.size() > 65536) ctlbuf.clear();
      StartResolves(&deferred);
    }
    bool extraFired = false;
    for (size_t i = 0; i < nextra; i++) {
      if (pf[3 + i].revents) { (*extra)[i].on(pf[3 + i].revents); extraFired = true; }
    }
    if (extraFired) StartResolves(&deferred);  // a hint may have named a host to resolve
    if (pf[1].revents & POLLIN) {
      char drain[64];
      while (read(g_wake[0], drain, sizeof drain) > 0) {}
      std::deque<ResolveRes> got;
      {
        std::lock_guard<std::mutex> l(g_mu);
        got.swap(g_res);
      }
      for (const ResolveRes& res : got) ApplyResolution(res.host, res.gen, res.addrs, res.ok);
      Redecide(&deferred, false);
    }
    if (pf[0].revents & POLLIN) {
      memset(buf.data(), 0, buf.size());
      if (ioctl(nfd, kNOTIF_RECV, buf.data()) == 0) {
        SeccompNotif n;
        memcpy(&n, buf.data(), sizeof n);
        HandleOne(n, &deferred);
        StartResolves(&deferred);
      }
      // ENOENT: the caller was killed or interrupted between wake-up and RECV; the next poll
      // reports POLLHUP if no filtered task is left.
    } else if (pf[0].revents & (POLLHUP | POLLERR)) {
      return 0;  // no filtered task left
    }
    now = NowMs();
    if (now >= nextRefresh) {
      // getaddrinfo gives no TTL: addresses of named hosts are refreshed every 30 s.
      HandleCtlLine("refresh");
      StartResolves(&deferred);
      nextRefresh = now + 30000;
    }
    Redecide(&deferred, false);
  }
}

static int Attach() {
  const int ctl = 3;
  Rules* rules = new Rules();
  int code = 0;
  if (!ReadRuleTable(ctl, rules, &code)) return code;
  Reply(ctl, "ready");
  std::string line;
  // EOF or "abort": the target gave up (its Landlock or seccomp step failed); we exit.
  if (!ReadLine(ctl, &line) || line == "abort") return 0;
  unsigned tgid = 0;
  int lfd = -1;
  if (sscanf(line.c_str(), "attach %u %d", &tgid, &lfd) != 2) { Reply(ctl, "err 22 bad attach line"); return 64; }
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, tgid, 0));
  if (pidfd < 0) { Reply(ctl, "err " + std::to_string(errno) + " pidfd_open"); return 70; }
  int nfd = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, lfd, 0));
  if (nfd < 0) { Reply(ctl, "err " + std::to_string(errno) + " pidfd_getfd"); return 70; }
  close(pidfd);
  Session s;
  s.nfd = nfd;
  s.ctl = ctl;
  s.rules = rules;
  std::string err;
  if (!BeginSession(&s, &err)) { Reply(ctl, "err " + err); return 70; }
  Reply(ctl, "ok " + std::to_string(s.allowPort) + " " + std::to_string(s.denyPort));
  return Serve(&s, nullptr);
}

}  // namespace sup

int main(int argc, char** argv) {
  bool launch = argc >= 2 && strcmp(argv[1], "launch") == 0;
  sup::Hygiene(launch ? 4 : 3);
  // _exit, not return: exit() would run the destructors of the resolver's condition variable
  // while its detached thread waits on it, and pthread_cond_destroy waits for waiters forever.
  if (argc >= 2 && strcmp(argv[1], "attach") == 0) _exit(sup::Attach());
  if (launch) _exit(sup::Launch());
  dprintf(2, "usage: blackbox-supervisor attach|launch   (started by blackbox-native, not by hand)\n");
  return 64;
}
