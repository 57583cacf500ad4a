// Per-notification work: copy once, validate, classify by the real socket, decide, perform
// on our duplicate of the target's socket, reply.
//
// Order (TOCTOU-free): pidfd_open(tid, PIDFD_THREAD) -> process_vm_readv copies of every
// pointer argument -> SECCOMP_IOCTL_NOTIF_ID_VALID (proves the tid still names the trapped
// thread: it cannot exit while its notification is pending) -> pidfd_getfd of the socket
// (a duplicate of the open file description, so a dup2() over the fd number afterwards
// changes nothing) -> decide on our private copy -> perform -> SEND.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <list>
#include <map>
#include <thread>

#include "notify.h"

#ifndef SOL_TCP
#define SOL_TCP 6
#endif

namespace sup {

void QueueResolve(int host, uint64_t gen, const std::string& name);

static int g_nfd = -1, g_ctl = -1;
static Rules* g_rules = nullptr;
// Later lockdown() calls narrow: each adds a layer every call must also pass (tighten-only;
// the target can add layers, never remove one). Their names use layer 0's resolutions.
static std::vector<Rules*> g_narrow;
static Rules* g_building = nullptr;
static int g_selftestAllow = 0, g_selftestDeny = 0;
// Calls that may block (a connect or send on a blocking socket) run on worker threads, at most
// kMaxWorkers at once (past that: EAGAIN). The threads are kept for reuse, idle ones end after
// kWorkerIdleMs: starting a thread per call cost ≈ 50 µs here, on every connection a blocking
// client (curl, python, most non-Node programs) makes. All under g_poolMu.
constexpr int kMaxWorkers = 256;
constexpr int kWorkerIdleMs = 30000;
static std::mutex g_poolMu;
static std::condition_variable g_poolCv;
static std::deque<Call*> g_poolQueue;
static int g_poolThreads = 0;  // alive
static int g_poolIdle = 0;     // waiting for a call
constexpr size_t kMaxData = 1 << 20;        // payload copied per call; a stream short write is legal
constexpr size_t kMaxControl = 64 * 1024;
constexpr size_t kUioMaxIov = 1024;         // UIO_MAXIOV
constexpr unsigned kMaxMmsg = 1024;         // UIO_MAXIOV caps sendmmsg's vlen in the kernel too
constexpr int kMsgZerocopy = 0x4000000;     // MSG_ZEROCOPY would pin our temporary buffer
constexpr int kMsgFastopen = 0x20000000;
constexpr uint64_t kDeferMs = 5000;         // a call waiting on DNS is decided by then
constexpr uint64_t kMissResolveMs = 1000;   // re-resolve a name on a miss at most once a second

void InitHandler(int nfd, int ctl, Rules* rules) {
  g_nfd = nfd;
  g_ctl = ctl;
  g_rules = rules;
}

void SetSelftest(int allowPort, int denyPort) {
  g_selftestAllow = allowPort;
  g_selftestDeny = denyPort;
}

const char* SyscallName(Kind k) {
  switch (k) {
    case Kind::kConnect: return "connect";
    case Kind::kBind: return "bind";
    case Kind::kSendto: return "sendto";
    case Kind::kSendmsg: return "sendmsg";
    case Kind::kSendmmsg: return "sendmmsg";
  }
  return "?";
}

static void Send(uint64_t id, int64_t val, int err, uint32_t flags = 0) {
  SeccompNotifResp r = {id, err ? 0 : val, err ? -err : 0, flags};
  // ENOENT: the target was killed or interrupted meanwhile; nothing to answer.
  ioctl(g_nfd, kNOTIF_SEND, &r);
}

// ---- pidfds, cached per tid ---------------------------------------------------------------
// A thread pidfd (PIDFD_THREAD, 6.9+) names exactly the notifying thread; once that thread is
// gone it answers ESRCH and is opened afresh. Before 6.9 the pidfd names the thread group, so
// a cached one is re-checked against the tid's current Tgid on every use: a tid freed and
// reused by a thread of ANOTHER filtered process must not find the first process's pidfd
// (its fds would be taken). The check is sound because the tid cannot be reused while its
// notification is pending.
struct CachedPidfd { int fd; int tgid; };  // tgid -1: a thread pidfd
static std::map<uint32_t, CachedPidfd> g_pidfds;

static int TgidOf(uint32_t tid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%u/status", tid);
  FILE* f = fopen(path, "re");
  if (!f) return -1;
  int tgid = -1;
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "Tgid: %d", &tgid) == 1) break;
  }
  fclose(f);
  return tgid;
}

static int PidfdFor(uint32_t tid, bool fresh) {
  auto it = g_pidfds.find(tid);
  if (it != g_pidfds.end()) {
    if (!fresh && (it->second.tgid < 0 || TgidOf(tid) == it->second.tgid)) return it->second.fd;
    close(it->second.fd);
    g_pidfds.erase(it);
  }
  int tgid = -1;
  int fd = static_cast<int>(syscall(SYS_pidfd_open, tid, kPIDFD_THREAD));
  if (fd < 0 && errno == EINVAL) {
    // before 6.9 a pidfd names a thread-group leader only
    tgid = TgidOf(tid);
    if (tgid > 0) fd = static_cast<int>(syscall(SYS_pidfd_open, tgid, 0));
    else errno = ESRCH;
  }
  if (fd < 0) return -errno;
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  if (g_pidfds.size() >= 256) {
    for (auto& kv : g_pidfds) close(kv.second.fd);
    g_pidfds.clear();
  }
  g_pidfds[tid] = {fd, tgid};
  return fd;
}

// ---- reading the target ---------------------------------------------------------------------
static int ReadMem(uint32_t tid, uint64_t addr, void* out, size_t len) {
  if (len == 0) return 0;
  struct iovec local = {out, len};
  struct iovec remote = {reinterpret_cast<void*>(addr), len};
  ssize_t r = process_vm_readv(tid, &local, 1, &remote, 1, 0);
  if (r < 0) return -errno;
  return static_cast<size_t>(r) == len ? 0 : -EFAULT;
}

// Several ranges in one process_vm_readv (one syscall, where the pieces do not depend on
// each other): a fault in any range is EFAULT, as the kernel's own copy would report.
struct Reads {
  struct iovec local[4], remote[4];
  size_t n = 0, total = 0;
  void Add(void* out, uint64_t addr, size_t len) {
    if (len == 0) return;
    local[n] = {out, len};
    remote[n] = {reinterpret_cast<void*>(addr), len};
    n++;
    total += len;
  }
  int Run(uint32_t tid) const {
    if (total == 0) return 0;
    ssize_t r = process_vm_readv(tid, local, n, remote, n, 0);
    if (r < 0) return -errno;
    return static_cast<size_t>(r) == total ? 0 : -EFAULT;
  }
};

// Sizes the name buffer for a later read; 0 or -EINVAL.
static int PrepareName(uint64_t addr, int64_t len, Msg* m) {
  if (addr == 0 || len == 0) return 0;
  // mirrors move_addr_to_kernel(): a length beyond sockaddr_storage is EINVAL
  if (len < 0 || len > static_cast<int64_t>(sizeof(struct sockaddr_storage))) return -EINVAL;
  m->name.resize(len);
  m->hasName = true;
  return 0;
}

static int ReadName(uint32_t tid, uint64_t addr, int64_t len, Msg* m) {
  int e = PrepareName(addr, len, m);
  if (e || !m->hasName) return e;
  return ReadMem(tid, addr, m->name.data(), m->name.size());
}

// The payload the iovecs (already copied) point at, flattened, in one read.
static int ReadIovData(uint32_t tid, const std::vector<struct iovec>& iov, bool stream, std::vector<uint8_t>* out) {
  size_t total = 0;
  for (const auto& v : iov) total += v.iov_len;
  if (total > kMaxData && !stream) return -EMSGSIZE;
  size_t want = total > kMaxData ? kMaxData : total;
  out->resize(want);
  if (want == 0) return 0;
  std::vector<struct iovec> remote;
  remote.reserve(iov.size());
  size_t off = 0;
  for (const auto& v : iov) {
    if (off >= want) break;
    size_t n = v.iov_len < want - off ? v.iov_len : want - off;
    if (n) remote.push_back({v.iov_base, n});
    off += n;
  }
  struct iovec local = {out->data(), want};
  ssize_t r = process_vm_readv(tid, &local, 1, remote.data(), remote.size(), 0);
  if (r < 0) return -errno;
  return static_cast<size_t>(r) == want ? 0 : -EFAULT;
}

// SCM_RIGHTS carries fd numbers of the TARGET: each becomes our own duplicate.
static int TranslateRights(int pidfd, Msg* m) {
  if (m->control.empty()) return 0;
  struct msghdr mh = {};
  mh.msg_control = m->control.data();
  mh.msg_controllen = m->control.size();
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int* fds = reinterpret_cast<int*>(CMSG_DATA(c));
    for (size_t i = 0; i < n; i++) {
      int mine = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, fds[i], 0));
      if (mine < 0) return -errno;
      m->fds.push_back(mine);
      fds[i] = mine;
    }
  }
  return 0;
}

// msghdr first; then its name, iovec array and control in one read; then the payload in one
// read. Error precedence follows ___sys_sendmsg: name (EFAULT), iovec count (EMSGSIZE),
// control size (ENOBUFS).
static int ReadMsghdr(uint32_t tid, uint64_t addr, bool stream, Msg* m) {
  struct msghdr mh;
  int e = ReadMem(tid, addr, &mh, sizeof mh);
  if (e) return e;
  // ___sys_sendmsg truncates an oversized namelen to sockaddr_storage rather than failing
  int64_t nl = mh.msg_namelen > sizeof(struct sockaddr_storage) ? sizeof(struct sockaddr_storage) : mh.msg_namelen;
  const uint64_t nameAddr = reinterpret_cast<uint64_t>(mh.msg_name);
  if ((e = PrepareName(nameAddr, nl, m))) return e;
  if (mh.msg_iovlen > kUioMaxIov) {
    if (m->hasName && (e = ReadMem(tid, nameAddr, m->name.data(), m->name.size()))) return e;
    return -EMSGSIZE;
  }
  const bool wantControl = mh.msg_control && mh.msg_controllen;
  const bool controlTooBig = wantControl && mh.msg_controllen > kMaxControl;
  std::vector<struct iovec> iov(mh.msg_iovlen);
  Reads rd;
  if (m->hasName) rd.Add(m->name.data(), nameAddr, m->name.size());
  rd.Add(iov.data(), reinterpret_cast<uint64_t>(mh.msg_iov), iov.size() * sizeof(struct iovec));
  if (wantControl && !controlTooBig) {
    m->control.resize(mh.msg_controllen);
    rd.Add(m->control.data(), reinterpret_cast<uint64_t>(mh.msg_control), mh.msg_controllen);
  }
  if ((e = rd.Run(tid))) return e;
  if ((e = ReadIovData(tid, iov, stream, &m->data))) return e;
  return controlTooBig ? -ENOBUFS : 0;
}

// ---- classification and the decision ---------------------------------------------------------
// The kernel's reading of a destination sockaddr for this socket (see the notes in sup.h).
static int ParseDest(const Call& c, const Msg& m, Dest* d) {
  if (!m.hasName) return 0;
  const uint8_t* p = m.name.data();
  size_t len = m.name.size();
  if (len < 2) return c.kind == Kind::kConnect || c.kind == Kind::kBind ? -EINVAL : 0;
  sa_family_t fam;
  memcpy(&fam, p, sizeof fam);
  if (c.domain == AF_UNIX) {
    if (fam != AF_UNIX) return -EINVAL;
    if (len == sizeof(sa_family_t)) { d->kind = Dest::kOther; return 0; }  // autobind / unnamed
    const char* sp = reinterpret_cast<const char*>(p) + offsetof(struct sockaddr_un, sun_path);
    size_t n = len - offsetof(struct sockaddr_un, sun_path);
    if (sp[0] == 0) {
      d->kind = Dest::kAbstract;
      d->path.assign("@").append(sp + 1, n - 1);
    } else {
      d->kind = Dest::kUnix;
      d->path.assign(sp, strnlen(sp, n));
    }
    return 0;
  }
  if (c.domain != AF_INET && c.domain != AF_INET6) { d->kind = Dest::kOther; return 0; }
  bool dgramSend = c.type == SOCK_DGRAM && c.kind != Kind::kConnect && c.kind != Kind::kBind;
  if (fam == AF_UNSPEC) {
    if (c.kind == Kind::kConnect) return 0;                 // disconnect: nothing reached
    if (dgramSend && c.domain == AF_INET6) return 0;        // udpv6_sendmsg: "no address"
    if (dgramSend && c.domain == AF_INET) fam = AF_INET;    // udp_sendmsg reads it as AF_INET
    else if (c.kind == Kind::kBind && c.domain == AF_INET) fam = AF_INET;  // inet_bind: AF_UNSPEC + INADDR_ANY
    else { d->kind = Dest::kOther; return 0; }
  }
  if (fam == AF_INET) {
    if (len < sizeof(struct sockaddr_in)) return -EINVAL;
    struct sockaddr_in sin;
    memcpy(&sin, p, sizeof sin);
    d->kind = Dest::kInet;
    d->addr.family = 4;
    memcpy(d->addr.b, &sin.sin_addr, 4);
    d->port = ntohs(sin.sin_port);
  } else if (fam == AF_INET6) {
    if (len < 24) return -EINVAL;  // SIN6_LEN_RFC2133: sockaddr_in6 without sin6_scope_id
    struct sockaddr_in6 s6 = {};
    memcpy(&s6, p, len < sizeof s6 ? len : sizeof s6);
    d->kind = Dest::kInet;
    d->addr.family = 6;
    memcpy(d->addr.b, &s6.sin6_addr, 16);
    d->port = ntohs(s6.sin6_port);
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(d->addr.b, mapped, 12) == 0) {  // ::ffff:a.b.c.d is the IPv4 host a.b.c.d
      d->addr.family = 4;
      memmove(d->addr.b, d->addr.b + 12, 4);
      memset(d->addr.b + 4, 0, 12);
    }
  } else {
    d->kind = Dest::kOther;
    return 0;
  }
  if (c.kind != Kind::kBind) {
    // As a destination, the unspecified address is this host (ip_route_output: 0.0.0.0 ->
    // loopback; ipv6 likewise for ::): checked as 127.0.0.1 / ::1.
    static const uint8_t zero[16] = {};
    if (memcmp(d->addr.b, zero, d->addr.family == 4 ? 4 : 16) == 0) {
      if (d->addr.family == 4) { d->addr.b[0] = 127; d->addr.b[3] = 1; } else { d->addr.b[15] = 1; }
    }
  }
  return 0;
}

static std::string FormatDest(const Dest& d) {
  if (d.kind == Dest::kInet) {
    std::string ip = FormatIp(d.addr);
    return (d.addr.family == 6 ? "[" + ip + "]" : ip) + ":" + std::to_string(d.port);
  }
  return d.path;
}

static std::string CwdOf(uint32_t tid) {
  char link[64], buf[PATH_MAX];
  snprintf(link, sizeof link, "/proc/%u/cwd", tid);
  ssize_t n = readlink(link, buf, sizeof buf - 1);
  if (n <= 0) return "";
  return std::string(buf, n);
}

static bool PathUnder(const std::string& p, const std::string& dir) {
  return p == dir || (p.size() > dir.size() && p.compare(0, dir.size(), dir) == 0 &&
                      (dir == "/" || p[dir.size()] == '/'));
}

static bool SetUnixName(Msg* m, const std::string& path) {
  struct sockaddr_un un = {};
  if (path.size() >= sizeof un.sun_path) return false;
  un.sun_family = AF_UNIX;
  memcpy(un.sun_path, path.data(), path.size());
  size_t len = offsetof(struct sockaddr_un, sun_path) + path.size() + 1;
  m->name.assign(reinterpret_cast<uint8_t*>(&un), reinterpret_cast<uint8_t*>(&un) + len);
  return true;
}

static bool NarrowInet(Op op, Proto proto, const Addr& a, uint16_t port) {
  for (const Rules* n : g_narrow) {
    if (CheckInet(*n, op, proto, a, port, nullptr) == Decision::kAllow) continue;
    bool ok = false;
    for (const HostRule& h : n->hosts) {
      if (ok || !(h.ops & op) || !(h.protos & proto) || port < h.lo || port > h.hi) continue;
      for (const IpRule& ip : g_rules->ips) {
        if (ip.host < 0 || !InPrefix(a, ip.net, ip.prefix)) continue;
        const HostRule& src = g_rules->hosts[ip.host];
        const std::string suffix = "." + h.name;
        ok = ok || (h.wildcard ? src.name.size() > suffix.size() && src.name.compare(src.name.size() - suffix.size(), suffix.size(), suffix) == 0
                               : src.name == h.name);
      }
    }
    if (!ok) return false;
  }
  return true;
}

// AF_UNIX: on-behalf calls resolve paths in OUR view, so the rules are checked on the
// canonical path and the call is made with a name that means exactly what was checked.
//   connect/send: realpath(target's path, relative to its cwd) must be a granted socket;
//                 the call then goes to that canonical path.
//   bind:         the parent directory is opened O_PATH and must lie under a granted
//                 directory; the call binds "/proc/self/fd/<dirfd>/<name>", which names
//                 that very directory however its path changes meanwhile.
static Decision DecideUnix(Call& c, Msg& m, const Dest& d, bool bind) {
  const Rules& r = *g_rules;
  if (d.kind == Dest::kAbstract) {
    bool g = r.abstractAll;
    for (const Rules* n : g_narrow) g = g && n->abstractAll;
    return g ? Decision::kAllow : Decision::kDeny;
  }
  std::string full = d.path[0] == '/' ? d.path : CwdOf(c.n.pid) + "/" + d.path;
  if (!bind) {
    char real[PATH_MAX];
    bool resolved = realpath(full.c_str(), real) != nullptr;
    for (const Rules* n : g_narrow) {
      bool g = n->unixConnectAll;
      for (const UnixRule& u : n->unixConnect) g = g || (resolved && u.path == real);
      if (!g) return Decision::kDeny;
    }
    if (r.unixConnectAll) {
      if (d.path[0] != '/' && !SetUnixName(&m, "/proc/" + std::to_string(c.n.pid) + "/cwd/" + d.path) &&
          !(resolved && SetUnixName(&m, real)))
        return Decision::kDeny;
      return Decision::kAllow;
    }
    if (!resolved) return Decision::kDeny;
    auto granted = [&](const Rules& x) {
      if (x.unixConnectAll) return true;
      for (const UnixRule& u : x.unixConnect) if (u.path == real) return true;
      return false;
    };
    for (const Rules* n : g_narrow) if (!granted(*n)) return Decision::kDeny;
    if (!r.unixConnectAll) return granted(r) && SetUnixName(&m, real) ? Decision::kAllow : Decision::kDeny;
    return Decision::kAllow;
  }
  size_t slash = full.rfind('/');
  std::string dir = slash == 0 ? "/" : full.substr(0, slash), base = full.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") return Decision::kDeny;
  int dfd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Decision::kDeny;
  char link[64], real[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", dfd);
  ssize_t n = readlink(link, real, sizeof real - 1);
  bool ok = n > 0;
  if (ok) {
    real[n] = 0;
    auto granted = [&](const Rules& x) {
      bool g = x.unixBindAll;
      for (const UnixRule& u : x.unixBind) g = g || PathUnder(real, u.path);
      return g;
    };
    ok = granted(r);
    for (const Rules* nr : g_narrow) ok = ok && granted(*nr);
  }
  if (!ok || !SetUnixName(&m, std::string(link) + "/" + base)) {
    close(dfd);
    return Decision::kDeny;
  }
  m.dirfd = dfd;
  return Decision::kAllow;
}

static Decision DecideOne(Call& c, Msg& m, std::vector<int>* hosts) {
  Dest d;
  int e = ParseDest(c, m, &d);
  if (e) return Decision::kAllow;  // malformed: performing it gives the kernel's own error
  bool bind = c.kind == Kind::kBind;
  c.dest = d;
  c.op = bind ? "bind" : "connect";
  switch (d.kind) {
    case Dest::kNone: return Decision::kAllow;   // the connected peer, checked at connect
    case Dest::kOther: return c.domain == AF_NETLINK || c.domain == AF_UNIX ? Decision::kAllow : Decision::kDeny;
    case Dest::kUnix:
    case Dest::kAbstract: c.proto = "unix"; return DecideUnix(c, m, d, bind);
    case Dest::kInet: break;
  }
  Proto proto = c.type == SOCK_STREAM ? kTcp : c.type == SOCK_DGRAM ? kUdp : static_cast<Proto>(0);
  c.proto = proto == kTcp ? "tcp" : proto == kUdp ? "udp" : "other";
  if (!proto) return Decision::kDeny;
  if (!bind && d.addr.family == 4 && d.addr.b[0] == 127 && d.addr.b[1] == 0 && d.addr.b[2] == 0 && d.addr.b[3] == 1) {
    // the self-test pair: one port we hold listening (allowed), one bound only (denied)
    if (g_selftestAllow && d.port == g_selftestAllow) return Decision::kAllow;
    if (g_selftestDeny && d.port == g_selftestDeny) { c.selftest = true; return Decision::kDeny; }
  }
  Decision v = CheckInet(*g_rules, bind ? kBind : kConnect, proto, d.addr, d.port, hosts);
  if (v == Decision::kAllow && !NarrowInet(bind ? kBind : kConnect, proto, d.addr, d.port)) return Decision::kDeny;
  return v;
}

// Overall: allow, deny (message 0 denied), or resolve. For sendmmsg a denial of message k>0
// sends 0..k-1 (c.upto = k), as the kernel stops at the first failing message.
static Decision Decide(Call& c) {
  c.wantHosts.clear();
  for (size_t i = 0; i < c.msgs.size(); i++) {
    Decision d = DecideOne(c, c.msgs[i], &c.wantHosts);
    if (d == Decision::kAllow) continue;
    if (d == Decision::kResolve) return d;
    if (i == 0) return Decision::kDeny;
    c.upto = static_cast<int>(i);
    return Decision::kAllow;
  }
  return Decision::kAllow;
}

// ---- reports ------------------------------------------------------------------------------
static void JsonEscape(const std::string& s, std::string* out) {
  for (unsigned char ch : s) {
    if (ch == '"' || ch == '\\') { out->push_back('\\'); out->push_back(ch); }
    else if (ch < 0x20 || ch >= 0x7f) { char b[8]; snprintf(b, sizeof b, "\\u%04x", ch); out->append(b); }
    else out->push_back(ch);
  }
}

static void Report(const Call& c, bool audit) {
  std::string line = "{\"type\":\"violation\",\"syscall\":\"";
  line += SyscallName(c.kind);
  line += "\",\"op\":\"";
  line += c.op;
  line += "\",\"proto\":\"";
  line += c.proto;
  line += "\",\"resource\":\"";
  JsonEscape(FormatDest(c.dest), &line);
  line += "\",\"pid\":" + std::to_string(TgidOf(c.n.pid)) + ",\"tid\":" + std::to_string(c.n.pid);
  line += ",\"errno\":" + std::to_string(g_rules->denyErrno) + ",\"audit\":" + (audit ? "true" : "false") + "}\n";
  // Never block on a target that does not read its reports: drop instead.
  send(g_ctl, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

// ---- performing -------------------------------------------------------------------------------
static void FillMsghdr(Msg& m, struct msghdr* mh, struct iovec* iov) {
  *mh = {};
  iov->iov_base = m.data.data();
  iov->iov_len = m.data.size();
  mh->msg_iov = iov;
  mh->msg_iovlen = 1;
  if (m.hasName) {
    mh->msg_name = m.name.data();
    mh->msg_namelen = static_cast<socklen_t>(m.name.size());
  }
  if (!m.control.empty()) {
    mh->msg_control = m.control.data();
    mh->msg_controllen = m.control.size();
  }
}

static long Perform(Call& c) {
  Msg& m0 = c.msgs[0];
  const sockaddr* name = m0.hasName ? reinterpret_cast<const sockaddr*>(m0.name.data()) : nullptr;
  socklen_t nlen = static_cast<socklen_t>(m0.name.size());
  long r = -1;
  switch (c.kind) {
    case Kind::kConnect: r = connect(c.sock, name, nlen); break;
    case Kind::kBind: r = bind(c.sock, name, nlen); break;
    case Kind::kSendto: r = sendto(c.sock, m0.data.data(), m0.data.size(), c.flags | MSG_NOSIGNAL, name, nlen); break;
    case Kind::kSendmsg: {
      struct msghdr mh;
      struct iovec iov;
      FillMsghdr(m0, &mh, &iov);
      r = sendmsg(c.sock, &mh, c.flags | MSG_NOSIGNAL);
      break;
    }
    case Kind::kSendmmsg: {
      size_t n = c.upto >= 0 ? static_cast<size_t>(c.upto) : c.msgs.size();
      std::vector<struct mmsghdr> v(n);
      std::vector<struct iovec> iov(n);
      for (size_t i = 0; i < n; i++) {
        FillMsghdr(c.msgs[i], &v[i].msg_hdr, &iov[i]);
        v[i].msg_len = 0;
      }
      r = sendmmsg(c.sock, v.data(), n, c.flags | MSG_NOSIGNAL);
      // glibc's resolver reads msg_len of each message (it falls back otherwise): write the
      // counts where the target's array has them, through the mem fd opened before ID_VALID.
      for (long i = 0; i < r; i++) {
        uint64_t at = c.mmsgvec + i * sizeof(struct mmsghdr) + offsetof(struct mmsghdr, msg_len);
        unsigned len = v[i].msg_len;
        if (pwrite(c.memfd, &len, sizeof len, static_cast<off_t>(at)) != sizeof len) break;
      }
      break;
    }
  }
  return r < 0 ? -errno : r;
}

static void Cleanup(Call& c) {
  if (c.sock >= 0) close(c.sock);
  if (c.memfd >= 0) close(c.memfd);
  for (Msg& m : c.msgs) {
    for (int fd : m.fds) close(fd);
    if (m.dirfd >= 0) close(m.dirfd);
  }
  c.sock = c.memfd = -1;
}

// Performs an allowed call and answers with its result. Our copies are closed BEFORE the reply
// (as every reply here): once replied, the target runs on with the same socket (libuv's
// epoll_ctl, getsockopt SO_ERROR) and a close of the copy racing with it cost ≈ 34 µs of system
// time per connect here (strace -c of the helper), ≈ 5 µs before.
static void PerformAndReply(Call& c) {
  long r = Perform(c);
  Cleanup(c);
  Send(c.n.id, r < 0 ? 0 : r, r < 0 ? static_cast<int>(-r) : 0);
}

static void Worker() {
  std::unique_lock<std::mutex> l(g_poolMu);
  for (;;) {
    g_poolIdle++;
    bool got = g_poolCv.wait_for(l, std::chrono::milliseconds(kWorkerIdleMs), [] { return !g_poolQueue.empty(); });
    g_poolIdle--;
    if (!got) {
      g_poolThreads--;
      return;
    }
    Call* c = g_poolQueue.front();
    g_poolQueue.pop_front();
    l.unlock();
    PerformAndReply(*c);
    delete c;
    l.lock();
  }
}

// Hands a call that may block to a worker (an idle one, else a new one). False at the cap.
static bool RunOnWorker(Call& c) {
  std::lock_guard<std::mutex> l(g_poolMu);
  int queued = static_cast<int>(g_poolQueue.size());
  if ((g_poolThreads - g_poolIdle) + queued >= kMaxWorkers) return false;  // in flight
  if (g_poolIdle <= queued) {
    try {
      std::thread(Worker).detach();
    } catch (...) {
      return false;
    }
    g_poolThreads++;
  }
  g_poolQueue.push_back(new Call(std::move(c)));
  g_poolCv.notify_one();
  return true;
}

// Decide and act on a prepared call. Returns false when it must wait for DNS.
static bool Finish(Call& c, bool final) {
  Decision d = Decide(c);
  if (d == Decision::kResolve && !final) return false;
  bool allow = d == Decision::kAllow;
  if (g_rules->audit) {
    // Audit only, never on the enforce path: CONTINUE lets the kernel run the call as the
    // target made it, re-reading its memory (a racing thread could change the address after
    // our check — acceptable where nothing is being denied anyway). The report names what
    // we read. The self-test's denial is ours, not the application's: not reported.
    if (!allow && !c.selftest) Report(c, true);
    Cleanup(c);
    Send(c.n.id, 0, 0, kSECCOMP_USER_NOTIF_FLAG_CONTINUE);
    return true;
  }
  if (!allow) {
    if (!c.selftest) Report(c, false);
    Cleanup(c);
    Send(c.n.id, 0, g_rules->denyErrno);
    return true;
  }
  // A deferred call: the thread might have been killed while we waited.
  if (final || c.deadlineMs) {
    if (ioctl(g_nfd, kNOTIF_ID_VALID, &c.n.id) != 0) { Cleanup(c); return true; }
  }
  if (c.blocking) {
    if (!RunOnWorker(c)) {
      Cleanup(c);
      Send(c.n.id, 0, EAGAIN);
    }
    return true;
  }
  PerformAndReply(c);
  return true;
}

// Copy everything the call needs out of the target. Returns 0 or -errno to answer with.
static int Prepare(Call& c, int* pidfdOut) {
  const SeccompNotif& n = c.n;
  const uint64_t* a = n.data.args;
  const long nr = n.data.nr;
  if (nr == SYS_connect) c.kind = Kind::kConnect;
  else if (nr == SYS_bind) c.kind = Kind::kBind;
  else if (nr == SYS_sendto) c.kind = Kind::kSendto;
  else if (nr == SYS_sendmsg) c.kind = Kind::kSendmsg;
  else if (nr == SYS_sendmmsg) c.kind = Kind::kSendmmsg;
  else return -ENOSYS;
  if (n.pid == 0) return -EPERM;  // a task outside our pid namespace: cannot act for it
  int pidfd = PidfdFor(n.pid, false);
  if (pidfd < 0) return pidfd;
  *pidfdOut = pidfd;
  // Socket type decides stream-vs-datagram copying, but we may only look at the socket after
  // ID_VALID; copy generously (as a stream) and let the datagram cap apply afterwards.
  int e = 0;
  int targetFd = static_cast<int>(a[0]);
  switch (c.kind) {
    case Kind::kConnect:
    case Kind::kBind: {
      c.msgs.resize(1);
      e = ReadName(n.pid, a[1], static_cast<int64_t>(static_cast<int32_t>(a[2])), &c.msgs[0]);
      break;
    }
    case Kind::kSendto: {
      c.msgs.resize(1);
      Msg& m = c.msgs[0];
      size_t len = a[2] > kMaxData ? kMaxData : a[2];
      c.flags = static_cast<int>(a[3]);
      m.data.resize(len);
      e = PrepareName(a[4], static_cast<int64_t>(static_cast<int32_t>(a[5])), &m);
      if (!e) {
        Reads rd;  // payload and name: one read
        rd.Add(m.data.data(), a[1], len);
        if (m.hasName) rd.Add(m.name.data(), a[4], m.name.size());
        e = rd.Run(n.pid);
      }
      if (a[2] > kMaxData) c.upto = -2;  // remember: the payload was cut (datagram -> EMSGSIZE)
      break;
    }
    case Kind::kSendmsg: {
      c.msgs.resize(1);
      c.flags = static_cast<int>(a[2]);
      e = ReadMsghdr(n.pid, a[1], true, &c.msgs[0]);
      break;
    }
    case Kind::kSendmmsg: {
      unsigned vlen = static_cast<unsigned>(a[2]);
      if (vlen > kMaxMmsg) vlen = kMaxMmsg;
      c.flags = static_cast<int>(a[3]);
      c.mmsgvec = a[1];
      if (vlen == 0) break;
      char mem[64];
      snprintf(mem, sizeof mem, "/proc/%u/mem", n.pid);
      c.memfd = open(mem, O_RDWR | O_CLOEXEC);
      if (c.memfd < 0) { e = -errno; break; }
      c.msgs.resize(vlen);
      for (unsigned i = 0; i < vlen && !e; i++) e = ReadMsghdr(n.pid, a[1] + i * sizeof(struct mmsghdr), true, &c.msgs[i]);
      break;
    }
  }
  if (e) return e;
  // Everything above was read from the thread the notification names only if it is still
  // that thread: a tid is recycled only after its task exited, which it cannot do while its
  // notification is pending.
  if (ioctl(g_nfd, kNOTIF_ID_VALID, &c.n.id) != 0) return -ENOENT;
  c.sock = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, targetFd, 0));
  if (c.sock < 0 && errno == ESRCH) {
    pidfd = PidfdFor(n.pid, true);
    if (pidfd < 0) return pidfd;
    *pidfdOut = pidfd;
    c.sock = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, targetFd, 0));
  }
  if (c.sock < 0) return -errno;
  socklen_t sl = sizeof(int);
  if (getsockopt(c.sock, SOL_SOCKET, SO_DOMAIN, &c.domain, &sl) < 0) return -errno;
  sl = sizeof(int);
  if (getsockopt(c.sock, SOL_SOCKET, SO_TYPE, &c.type, &sl) < 0) return -errno;
  bool stream = c.type == SOCK_STREAM;
  if (c.upto == -2) {
    if (!stream) return -EMSGSIZE;
    c.upto = -1;
  }
  for (Msg& m : c.msgs) {
    if (!stream && m.data.size() >= kMaxData && c.kind != Kind::kConnect && c.kind != Kind::kBind) return -EMSGSIZE;
    if ((e = TranslateRights(pidfd, &m))) return e;
  }
  c.flags &= ~kMsgZerocopy;
  int fl = fcntl(c.sock, F_GETFL);
  bool nonblock = (fl & O_NONBLOCK) || (c.kind != Kind::kConnect && (c.flags & MSG_DONTWAIT));
  // bind never blocks; a connect or send on a blocking socket may, for as long as the peer
  // likes: those run on a worker thread so this loop keeps serving everyone else.
  c.blocking = !nonblock && c.kind != Kind::kBind;
  (void)kMsgFastopen;
  return 0;
}

void HandleOne(const SeccompNotif& n, std::list<Call>* deferred) {
  Call c;
  c.n = n;
  int pidfd = -1;
  int e = Prepare(c, &pidfd);
  if (e) {
    // Audit denies nothing: a call we could not even read (a task outside our pid namespace,
    // a target that made itself non-dumpable) is left to the kernel as the target made it.
    Cleanup(c);
    if (e != -ENOENT && g_rules->audit) Send(n.id, 0, 0, kSECCOMP_USER_NOTIF_FLAG_CONTINUE);
    else if (e != -ENOENT) Send(n.id, 0, -e);
    return;
  }
  if (!Finish(c, false)) {
    c.deadlineMs = NowMs() + kDeferMs;
    deferred->push_back(std::move(c));
  }
}

void Redecide(std::list<Call>* deferred, bool expireAll) {
  uint64_t now = NowMs();
  for (auto it = deferred->begin(); it != deferred->end();) {
    bool waiting = false;
    Decision d = Decide(*it);
    if (d == Decision::kResolve) {
      for (int h : it->wantHosts) waiting = waiting || g_rules->hosts[h].inflight;
    }
    bool final = expireAll || now >= it->deadlineMs || (d == Decision::kResolve && !waiting);
    if (d != Decision::kResolve || final) {
      Finish(*it, true);
      it = deferred->erase(it);
    } else {
      ++it;
    }
  }
}

// Start re-resolving what the calls waiting in `deferred` need (at most once a second per
// name), and DNS rules' resolv.conf. Calls whose names were all resolved just now and still
// miss are decided (denied) by Redecide.
void StartResolves(std::list<Call>* deferred) {
  uint64_t now = NowMs();
  Rules& r = *g_rules;
  for (Call& c : *deferred) {
    for (int h : c.wantHosts) {
      HostRule& host = r.hosts[h];
      if (host.inflight || now - host.missResolveAtMs < kMissResolveMs) continue;
      host.inflight = true;
      host.missResolveAtMs = now;
      QueueResolve(h, ++host.gen, host.name);
    }
  }
  for (size_t i = 0; i < r.hosts.size(); i++) {
    HostRule& host = r.hosts[i];
    if (!host.wildcard && host.gen == 0 && !host.inflight) {  // never resolved yet
      host.inflight = true;
      QueueResolve(static_cast<int>(i), ++host.gen, host.name);
    }
  }
  if (r.dns && now - r.nameserversAtMs >= kMissResolveMs) {
    for (const Call& c : *deferred) {
      if (c.wantHosts.empty()) {  // a port-53 miss: resolv.conf may have changed
        ReadNameservers(&r.nameservers);
        r.nameserversAtMs = now;
        break;
      }
    }
  }
}

void ApplyResolution(int host, uint64_t gen, const std::vector<Addr>& addrs, bool ok) {
  Rules& r = *g_rules;
  if (host < 0 || static_cast<size_t>(host) >= r.hosts.size()) return;
  HostRule& h = r.hosts[host];
  if (gen != h.gen) return;  // a newer resolution is on its way
  h.inflight = false;
  h.resolvedAtMs = NowMs();
  if (!ok) return;  // keep the addresses we had: a failing resolver does not widen anything
  std::vector<IpRule> kept;
  for (const IpRule& ip : r.ips) if (ip.host != host) kept.push_back(ip);
  for (const Addr& a : addrs) {
    IpRule ip;
    ip.ops = h.ops;
    ip.protos = h.protos;
    ip.net = a;
    ip.prefix = a.family == 4 ? 32 : 128;
    ip.lo = h.lo;
    ip.hi = h.hi;
    ip.host = host;
    ip.gen = gen;
    kept.push_back(ip);
  }
  r.ips.swap(kept);
}

static bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char ch : s) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.')) return false;
  }
  return true;
}

// From the target, so untrusted: a hint can only make us resolve a name a *.domain rule
// covers and allow what that name maps to, which is what the rule grants anyway.
void HandleCtlLine(const std::string& line) {
  Rules& r = *g_rules;
  if (line == "refresh") {
    uint64_t now = NowMs();
    for (size_t i = 0; i < r.hosts.size(); i++) {
      HostRule& h = r.hosts[i];
      if (h.wildcard || h.inflight) continue;
      h.inflight = true;
      h.missResolveAtMs = now;
      QueueResolve(static_cast<int>(i), ++h.gen, h.name);
    }
    return;
  }
  if (line == "narrow-begin") {
    delete g_building;
    g_building = new Rules();
    return;
  }
  if (g_building) {
    if (line == "end") {
      if (g_narrow.size() < 64) g_narrow.push_back(g_building);
      g_building = nullptr;
      return;
    }
    std::string err;
    if (!ParseRuleLine(line, g_building, &err)) {
      // A malformed narrowing still narrows: nothing at all passes this layer.
      delete g_building;
      g_building = new Rules();
    }
    return;
  }
  if (line.compare(0, 5, "hint ") != 0) return;
  std::string name = line.substr(5);
  if (!ValidName(name) || r.hosts.size() > 4096) return;
  size_t count = r.hosts.size();
  for (size_t i = 0; i < count; i++) {
    const HostRule w = r.hosts[i];
    if (!w.wildcard) continue;
    const std::string suffix = "." + w.name;
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    bool known = false;
    for (const HostRule& h : r.hosts) {
      known = known || (!h.wildcard && h.name == name && h.ops == w.ops && h.protos == w.protos && h.lo == w.lo && h.hi == w.hi);
    }
    if (known) continue;
    HostRule h = w;
    h.wildcard = false;
    h.name = name;
    h.gen = 0;
    h.inflight = false;
    r.hosts.push_back(h);  // resolved by the next StartResolves
  }
}

}  // namespace sup
