// blackbox-supervisor launch: the second home of the supervisor, `blackbox run`.
//
// The CLI (src/cli/run.ts) compiled the plan; we are started unfiltered with fd 3 = ctl and
// fd 4 = a Landlock ruleset the CLI built with the addon (or /dev/null when there is none).
// Protocol on fd 3, after the rule table (same lines as attach mode, "end"):
//   supervise                 the filter has USER_NOTIF verdicts: hold its listener
//   hint-fd                   give the command fd 3, a pipe for "hint <name>" lines
//   share-selftest            keep the self-test pair open while the command runs
//   landlock <flags>          landlock_restrict_self(4, flags)
//   seccomp <flags> <hex>     the BPF program (struct sock_filter[] bytes, hex)
//   path <hex> | arg <hex> | env <hex>   execve's arguments, in order
//   go
// We answer "child <pid>", "supervised" once the self-test passed, violation JSON lines,
// and last "exit <code>" or "signal <n>" (or "err <errno> <what>" when the command could
// not be started).
//
// The child is forked before any thread exists here, so between fork and execve it is a
// single-threaded copy of us: Landlock needs no broadcast and the filter no TSYNC. It applies
// Landlock, no_new_privs and seccomp, hands us the listener's fd NUMBER (we take it with
// pidfd_getfd: we are its parent, which Yama ptrace_scope 1 allows without PR_SET_PTRACER),
// self-tests one allowed and one denied connect through us, and execs. We stay its parent:
// when we die the kernel fails every trapped call (ENOSYS) and PDEATHSIG kills the child.
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../kernel.h"  // Landlock syscall numbers, shared with the addon
#include "kernel_notif.h"
#include "serve.h"

namespace sup {
void HandleCtlLine(const std::string& line);  // handle.cc
}


namespace sup {
namespace {

constexpr int kCtl = 3;
constexpr int kRuleset = 4;
constexpr size_t kMaxLine = 4 << 20;  // a seccomp program of 4096 insns is 64 KiB of hex

struct Spec {
  bool supervise = false;
  bool hintFd = false;    // give the command fd 3: a pipe for "hint <name>" lines (JS layer, libc hook)
  bool shareSelftest = false;  // keep the self-test pair open for the command's own test (Node)
  bool landlock = false;
  uint32_t landlockFlags = 0;
  uint64_t procSelf = 0;  // Landlock rights on the command's own /proc/<pid>
  bool seccomp = false;
  uint32_t seccompFlags = 0;
  std::string prog;  // struct sock_filter bytes
  std::string path;
  std::vector<std::string> argv, envv;
};

bool Unhex(const char* h, std::string* out) {
  out->clear();
  size_t n = strlen(h);
  if (n % 2) return false;
  auto v = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  for (size_t i = 0; i < n; i += 2) {
    int a = v(h[i]), b = v(h[i + 1]);
    if (a < 0 || b < 0) return false;
    out->push_back(static_cast<char>(a * 16 + b));
  }
  return true;
}

bool ReadSpec(Spec* sp, std::string* err) {
  std::string line, bytes;
  for (;;) {
    if (!ReadLine(kCtl, &line, kMaxLine)) { *err = "launch spec cut short"; return false; }
    if (line == "go") break;
    size_t sp1 = line.find(' ');
    std::string key = line.substr(0, sp1);
    const char* rest = sp1 == std::string::npos ? "" : line.c_str() + sp1 + 1;
    unsigned flags = 0;
    if (key == "supervise") sp->supervise = true;
    else if (key == "hint-fd") sp->hintFd = true;
    else if (key == "share-selftest") sp->shareSelftest = true;
    else if (key == "landlock" && sscanf(rest, "%u", &flags) == 1) { sp->landlock = true; sp->landlockFlags = flags; }
    else if (key == "proc-self" && sscanf(rest, "%u", &flags) == 1) sp->procSelf = flags;
    else if (key == "seccomp") {
      const char* h = strchr(rest, ' ');
      if (sscanf(rest, "%u", &flags) != 1 || !h || !Unhex(h + 1, &sp->prog) || sp->prog.empty() ||
          sp->prog.size() % sizeof(struct sock_filter) || sp->prog.size() / sizeof(struct sock_filter) > BPF_MAXINSNS) {
        *err = "bad seccomp line";
        return false;
      }
      sp->seccomp = true;
      sp->seccompFlags = flags;
    } else if (key == "path" || key == "arg" || key == "env") {
      // NUL bytes cannot travel in execve's strings: refuse rather than truncate.
      if (!Unhex(rest, &bytes) || bytes.find('\0') != std::string::npos) { *err = "bad " + key + " line"; return false; }
      if (key == "path") sp->path = bytes;
      else (key == "arg" ? sp->argv : sp->envv).push_back(bytes);
    } else {
      *err = "unknown launch line " + key;
      return false;
    }
  }
  if (sp->path.empty() || sp->argv.empty()) { *err = "no command"; return false; }
  if (sp->supervise && !sp->seccomp) { *err = "supervise without a filter"; return false; }
  return true;
}

// ---- the child, between fork and execve: syscalls only, no allocation -----------------------
void Say(int fd, const char* fmt, long a, long b) {
  char buf[64];
  int n = snprintf(buf, sizeof buf, fmt, a, b);
  if (n > 0) (void)!write(fd, buf, static_cast<size_t>(n));
}

[[noreturn]] void Fail(int st, int what) {
  // "F <step> <errno>": 1 landlock, 2 no_new_privs, 3 seccomp, 5 pdeathsig, 6 /proc/self rule
  Say(st, "F %ld %ld\n", what, errno);
  _exit(70);
}

long ProbeConnect(int port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -errno;
  struct sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  long r = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? 0 : -errno;
  close(s);
  return r;
}

[[noreturn]] void Child(const Spec& sp, char* const* argv, char* const* envp, pid_t parent, int st, int go,
                        int hint, const Session& s) {
  // Killed with us: a supervised command must not outlive the process that answers its calls
  // (it would fail closed anyway; this ends it instead of leaving it half-working).
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) Fail(st, 5);
  if (getppid() != parent) _exit(70);  // we died before the prctl took effect
  // We made ourselves non-dumpable (main.cc); the child inherited it, and a non-dumpable
  // task's fds are out of pidfd_getfd's reach for an unprivileged parent. execve resets it
  // for the command anyway.
  prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  // The command starts with default dispositions and an empty mask (we ignore SIGPIPE and the
  // terminal's signals; SIG_IGN would survive execve).
  for (int sig = 1; sig < 65; sig++) signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  close(kCtl);
  if (hint >= 0) {
    // fd 3 (the number the CLI put in BLACKBOX_HINT_FD), without O_CLOEXEC: the command keeps it
    if (dup2(hint, kCtl) != kCtl) Fail(st, 7);
    close(hint);
  }
  if (s.sa >= 0) close(s.sa);
  if (s.sd >= 0) close(s.sd);
  // no_new_privs first: without CAP_SYS_ADMIN, landlock_restrict_self and seccomp both
  // demand it (EPERM otherwise), and a setuid program exec'd later must not gain privileges.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Fail(st, 2);
  if (sp.landlock && sp.procSelf) {
    // /proc/self resolves to the pid that execs the command (execve keeps it): the CLI could
    // not name it, not knowing the pid; the ruleset fd is shared with the CLI's copy.
    bb::LandlockPathBeneathAttr pb;
    pb.allowed_access = sp.procSelf;
    pb.parent_fd = open("/proc/self", O_PATH | O_CLOEXEC);
    if (pb.parent_fd < 0 || syscall(SYS_landlock_add_rule, kRuleset, bb::kLANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0) Fail(st, 6);
    close(pb.parent_fd);
  }
  if (sp.landlock && syscall(SYS_landlock_restrict_self, kRuleset, sp.landlockFlags) != 0) Fail(st, 1);
  close(kRuleset);
  if (sp.seccomp) {
    struct sock_fprog prog;
    prog.len = static_cast<unsigned short>(sp.prog.size() / sizeof(struct sock_filter));
    prog.filter = reinterpret_cast<struct sock_filter*>(const_cast<char*>(sp.prog.data()));
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, sp.seccompFlags, &prog);
    if (r < 0) Fail(st, 3);
    if (sp.supervise) {
      Say(st, "L %ld %ld\n", r, 0);
      char c;
      if (read(go, &c, 1) != 1) _exit(70);  // the parent gave up
      long a = ProbeConnect(s.allowPort), d = ProbeConnect(s.denyPort);
      // audit mode lets the would-be-denied probe through: the bound-only port refuses it
      bool deniedOk = d == -EACCES || (s.rules->audit && (d == -ECONNREFUSED || d == -EINPROGRESS));
      if ((a != 0 && a != -EINPROGRESS) || !deniedOk) {
        Say(st, "S %ld %ld\n", a, d);
        _exit(70);
      }
      Say(st, "T %ld %ld\n", 0, 0);
      close(static_cast<int>(r));  // we keep no copy: our death must fail calls closed
    }
  }
  close(go);
  execve(sp.path.c_str(), argv, envp);
  Say(st, "E %ld %ld\n", errno, 0);
  _exit(127);
}

void ReportExit(int status) {
  if (WIFSIGNALED(status)) Reply(kCtl, "signal " + std::to_string(WTERMSIG(status)));
  else Reply(kCtl, "exit " + std::to_string(WEXITSTATUS(status)));
}

const char* StepName(long step) {
  switch (step) {
    case 1: return "landlock_restrict_self";
    case 2: return "no_new_privs";
    case 3: return "seccomp";
    case 5: return "pdeathsig";
    case 6: return "landlock_add_rule /proc/self";
    case 7: return "hint fd";
    default: return "launch";
  }
}

}  // namespace

int Launch() {
  // The terminal's signals reach the whole process group; the CLI forwards what the command
  // should see. We must survive them to keep answering its calls.
  for (int sig : {SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGTSTP, SIGUSR1, SIGUSR2}) signal(sig, SIG_IGN);
  Rules* rules = new Rules();
  int code = 0;
  if (!ReadRuleTable(kCtl, rules, &code)) return code;
  Reply(kCtl, "ready");
  Spec sp;
  std::string err;
  if (!ReadSpec(&sp, &err)) { Reply(kCtl, "err 22 " + err); return 64; }

  Session s;
  s.ctl = kCtl;
  s.rules = rules;
  // For a Node command (share-selftest: its JS layer locks down again in-process) the
  // self-test pair stays open while the command runs, its ports in BLACKBOX_SELFTEST: every
  // Node process of the command's tree (npm's lifecycle scripts, a child node) repeats the
  // test through us before it reports netSupervisor, instead of trusting BLACKBOX_LAUNCHED.
  // Connections to the listening half are accepted and closed at once (nothing is read).
  const bool sharedTest = sp.supervise && sp.hintFd && sp.shareSelftest;
  if (sp.supervise) {
    s.sa = SelftestSocket(true, &s.allowPort);
    s.sd = SelftestSocket(false, &s.denyPort);
    if (s.sa < 0 || s.sd < 0) { Reply(kCtl, "err " + std::to_string(errno) + " selftest sockets"); return 70; }
  }
  if (sharedTest) {
    const std::string key = "BLACKBOX_SELFTEST=";
    for (size_t i = sp.envv.size(); i-- > 0;) if (sp.envv[i].compare(0, key.size(), key) == 0) sp.envv.erase(sp.envv.begin() + static_cast<long>(i));
    sp.envv.push_back(key + std::to_string(s.allowPort) + ":" + std::to_string(s.denyPort));
  }

  std::vector<char*> argv, envp;
  for (std::string& a : sp.argv) argv.push_back(&a[0]);
  argv.push_back(nullptr);
  for (std::string& e : sp.envv) envp.push_back(&e[0]);
  envp.push_back(nullptr);
  int stp[2], gop[2], hp[2] = {-1, -1};
  if (pipe2(stp, O_CLOEXEC) != 0 || pipe2(gop, O_CLOEXEC) != 0 || (sp.hintFd && sp.supervise && pipe2(hp, O_CLOEXEC) != 0)) {
    Reply(kCtl, "err " + std::to_string(errno) + " pipe2");
    return 70;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) { Reply(kCtl, "err " + std::to_string(errno) + " fork"); return 70; }
  if (pid == 0) {
    close(stp[0]);
    close(gop[1]);
    if (hp[0] >= 0) close(hp[0]);
    Child(sp, argv.data(), envp.data(), parent, stp[1], gop[0], hp[1], s);
  }
  close(stp[1]);
  close(gop[0]);
  if (hp[1] >= 0) close(hp[1]);
  close(kRuleset);
  Reply(kCtl, "child " + std::to_string(pid));

  bool reaped = false;
  int status = 0;
  auto reap = [&](bool block) {
    if (reaped) return;
    if (waitpid(pid, &status, block ? 0 : WNOHANG) == pid) {
      reaped = true;
      ReportExit(status);
    }
  };
  // Status lines from the child until execve (EOF: exec succeeded, the pipe was O_CLOEXEC).
  std::string pending;
  auto statusLine = [&](std::string* line) -> int {  // 1 line, 0 EOF, -1 nothing yet
    for (;;) {
      size_t nl = pending.find('\n');
      if (nl != std::string::npos) { *line = pending.substr(0, nl); pending.erase(0, nl + 1); return 1; }
      char tmp[128];
      ssize_t n = read(stp[0], tmp, sizeof tmp);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return -1;
      if (n <= 0) return 0;
      pending.append(tmp, static_cast<size_t>(n));
    }
  };
  auto failed = [&](const std::string& line) {
    long a = 0, b = 0;
    char k = 0;
    if (sscanf(line.c_str(), "%c %ld %ld", &k, &a, &b) < 1) k = '?';
    if (k == 'E') Reply(kCtl, "err " + std::to_string(a) + " execve");
    else if (k == 'F') Reply(kCtl, "err " + std::to_string(b) + " " + StepName(a));
    else if (k == 'S') Reply(kCtl, "err 13 selftest " + std::to_string(a) + " " + std::to_string(b));
    else Reply(kCtl, "err 71 child: " + line);
  };

  std::string line;
  int got = statusLine(&line);
  if (!sp.supervise || got != 1 || line[0] != 'L') {
    if (got == 1) {
      failed(line);
      waitpid(pid, &status, 0);
      return 0;
    }
    reap(true);  // exec'd; nothing to supervise: wait for the command
    return 0;
  }
  int lfd = -1;
  sscanf(line.c_str(), "L %d", &lfd);
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  s.nfd = pidfd < 0 ? -1 : static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, lfd, 0));
  if (s.nfd < 0) {
    Reply(kCtl, "err " + std::to_string(errno) + " pidfd_getfd");
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return 70;
  }
  if (!BeginSession(&s, &err)) {
    Reply(kCtl, "err " + err);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return 70;
  }
  (void)!write(gop[1], "g", 1);
  close(gop[1]);
  fcntl(stp[0], F_SETFL, fcntl(stp[0], F_GETFL) | O_NONBLOCK);

  std::vector<Extra> extra;
  extra.push_back({stp[0], nullptr});
  extra.push_back({pidfd, nullptr});
  extra[0].on = [&](short) {
    std::string l;
    int r;
    while ((r = statusLine(&l)) == 1) {
      if (l[0] == 'T') {
        if (!sharedTest) EndSelftest(&s);
        Reply(kCtl, "supervised");
      }
      else failed(l);
    }
    if (r == 0) { close(stp[0]); extra[0].fd = -1; }
  };
  extra[1].on = [&](short) {
    reap(false);
    if (reaped) { close(pidfd); extra[1].fd = -1; }
  };
  // Lines from the command are untrusted: only "hint <name>" passes (it can only make us
  // resolve a name a *.domain rule covers); the rule table and narrowing stay the CLI's.
  std::string hintbuf;
  if (hp[0] >= 0) {
    fcntl(hp[0], F_SETFL, fcntl(hp[0], F_GETFL) | O_NONBLOCK);
    extra.push_back({hp[0], nullptr});
    const size_t hi = extra.size() - 1;
    extra[hi].on = [&, hi](short) {
      char tmp[4096];
      ssize_t n;
      while ((n = read(hp[0], tmp, sizeof tmp)) > 0) hintbuf.append(tmp, static_cast<size_t>(n));
      size_t nl;
      while ((nl = hintbuf.find('\n')) != std::string::npos) {
        std::string l = hintbuf.substr(0, nl);
        hintbuf.erase(0, nl + 1);
        if (l.compare(0, 5, "hint ") == 0) HandleCtlLine(l);
      }
      if (hintbuf.size() > 65536) hintbuf.clear();
      if (n == 0) { close(hp[0]); extra[hi].fd = -1; }
    };
  }
  if (sharedTest) {
    // The shared pair's listening half: drain its accept queue so the tests never stall.
    fcntl(s.sa, F_SETFL, fcntl(s.sa, F_GETFL) | O_NONBLOCK);
    extra.push_back({s.sa, nullptr});
    extra.back().on = [&](short) {
      int c;
      while ((c = accept4(s.sa, nullptr, nullptr, SOCK_CLOEXEC)) >= 0) close(c);
    };
  }
  int rc = Serve(&s, &extra);
  // No filtered task is left; the command itself may still need reaping (its status may
  // not have been polled yet).
  reap(true);
  return rc;
}

}  // namespace sup
