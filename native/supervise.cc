// Exports for the connect supervisor's handshake (native/supervisor/main.cc). One kernel
// operation each; the order and the protocol are src/enforce/supervisor.ts's.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exports.h"
#include "util.h"

namespace bb {
namespace {

// spawnSupervisor(path: string): { pid, fd }
//   socketpair(AF_UNIX, SOCK_STREAM) + posix_spawn(path, ["blackbox-supervisor", "attach"])
//   with an EMPTY environment (no LD_PRELOAD from a process.env that code in this process
//   may have changed), the child's end on fd 3, our stderr on its fd 2 (Node marks fds 0-2
//   O_CLOEXEC, so without an explicit dup2 the helper would start without them), and an
//   empty signal mask. posix_spawn is clone(CLONE_VM|CLONE_VFORK)+exec: safe in a
//   multithreaded process, unlike fork(). Must run BEFORE the filter is installed: a
//   helper that inherited it would trap its own on-behalf connects to itself.
//   Returns our end (O_CLOEXEC, blocking) and the pid.
Napi::Value SpawnSupervisor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "spawnSupervisor";
  std::string path;
  if (!ArgCount(info, 1, fn) || !ArgString(info, 0, fn, "path", true, &path)) return env.Undefined();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return ThrowErrno(env, "socketpair", errno);
  // The child end goes to fd >= 10 first, so dup2(x, 3) is never the x == 3 no-op that
  // would leave O_CLOEXEC set on it.
  int child = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
  int err2 = fcntl(2, F_DUPFD_CLOEXEC, 10);
  close(sv[1]);
  if (child < 0 || err2 < 0) {
    int e = errno;
    close(sv[0]);
    if (child >= 0) close(child);
    if (err2 >= 0) close(err2);
    return ThrowErrno(env, "fcntl", e);
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, child, 3);
  posix_spawn_file_actions_adddup2(&fa, err2, 2);
  posix_spawnattr_init(&at);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&at, &none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char arg0[] = "blackbox-supervisor", arg1[] = "attach";
  char* argv[] = {arg0, arg1, nullptr};
  char* envp[] = {nullptr};
  pid_t pid = -1;
  int r = posix_spawn(&pid, path.c_str(), &fa, &at, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(child);
  close(err2);
  if (r != 0) {
    close(sv[0]);
    return ThrowErrno(env, "posix_spawn", r, path.c_str());
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, pid));
  out.Set("fd", Napi::Number::New(env, sv[0]));
  return out;
}

// probeConnect(ip: string, port: number): number — socket(AF_INET, SOCK_STREAM|NONBLOCK),
// connect(ip:port), close. Returns 0 or -errno (-EINPROGRESS for a connect under way). The
// self-test of a live supervisor: a raw syscall no JS guard sees.
Napi::Value ProbeConnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "probeConnect";
  std::string ip;
  int64_t port;
  if (!ArgCount(info, 2, fn) || !ArgString(info, 0, fn, "ip", true, &ip) || !ArgInt(info, 1, fn, "port", 0, 65535, &port))
    return env.Undefined();
  struct sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) return ThrowType(env, fn, "ip must be an IPv4 address");
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) return Napi::Number::New(env, -errno);
  int r = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  int e = r == 0 ? 0 : -errno;
  close(s);
  return Napi::Number::New(env, e);
}

// writeFd(fd, string) / readLine(fd): the handshake on the control socket, blocking. write()
// and read() are never trapped (only connect/bind/send* are), so they work with the filter in.
Napi::Value WriteFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "writeFd";
  int64_t fd;
  std::string s;
  if (!ArgCount(info, 2, fn) || !ArgInt(info, 0, fn, "fd", 0, 0x7fffffff, &fd) || !ArgString(info, 1, fn, "data", false, &s))
    return env.Undefined();
  size_t off = 0;
  while (off < s.size()) {
    ssize_t r = write(static_cast<int>(fd), s.data() + off, s.size() - off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ThrowErrno(env, "write", errno);
    off += static_cast<size_t>(r);
  }
  return env.Undefined();
}

Napi::Value ReadLine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "readLine";
  int64_t fd;
  if (!ArgCount(info, 1, fn) || !ArgInt(info, 0, fn, "fd", 0, 0x7fffffff, &fd)) return env.Undefined();
  std::string line;
  char c;
  for (;;) {
    ssize_t r = read(static_cast<int>(fd), &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ThrowErrno(env, "read", errno);
    if (r == 0) return env.Null();  // the other end closed
    if (c == '\n') break;
    if (line.size() >= 4096) return ThrowType(env, fn, "line longer than 4096 bytes");
    line.push_back(c);
  }
  return Napi::String::New(env, line);
}

}  // namespace

void InitSupervise(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnSupervisor", Napi::Function::New(env, SpawnSupervisor, "spawnSupervisor"));
  exports.Set("probeConnect", Napi::Function::New(env, ProbeConnect, "probeConnect"));
  exports.Set("writeFd", Napi::Function::New(env, WriteFd, "writeFd"));
  exports.Set("readLine", Napi::Function::New(env, ReadLine, "readLine"));
}

}  // namespace bb
