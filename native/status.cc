// Inspection and small utility exports: close, threadStatus, ioUringFds, gettid, setPtracer.
#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "exports.h"
#include "kernel.h"
#include "procfs.h"
#include "util.h"

namespace bb {
namespace {

// close(fd): void — for ruleset and listener fds returned by this addon.
Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t fd;
  if (!ArgInt(info, 0, "close", "fd", 0, INT32_MAX, &fd)) return env.Undefined();
  // No EINTR retry: on Linux the fd is released even when close() reports EINTR.
  if (close(static_cast<int>(fd)) != 0 && errno != EINTR) return ThrowErrno(env, "close", errno);
  return env.Undefined();
}

// Value of "<key>:\t<number>" in a /proc status text, or -1 when the line is absent
// (Seccomp_filters appeared in Linux 5.9).
long StatusField(const char* text, const char* key) {
  size_t klen = strlen(key);
  for (const char* line = text; line && *line;) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ':') return strtol(line + klen + 1, nullptr, 10);
    line = strchr(line, '\n');
    if (line) line++;
  }
  return -1;
}

// threadStatus(): Array<{tid, seccomp, seccompFilters, noNewPrivs}> from
// /proc/self/task/<tid>/status. Seccomp: 0 disabled, 1 strict, 2 filter. Threads that exit
// between the listing and the read are left out.
Napi::Value ThreadStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ThrowErrno(env, "open", errno, "/proc/self/task");
  std::vector<int> tids;
  int err = ListNumericEntries(dfd, &tids);
  if (err) {
    close(dfd);
    return ThrowErrno(env, "getdents64", err, "/proc/self/task");
  }
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  std::vector<char> buf(16384);
  for (int tid : tids) {
    std::string rel = std::to_string(tid) + "/status";
    const char* failed = "read";
    long len = ReadSmallFileAt(dfd, rel.c_str(), buf.data(), buf.size(), &failed);
    if (len == -ENOENT || len == -ESRCH) continue;  // thread exited meanwhile
    if (len < 0) {
      close(dfd);
      std::string path = "/proc/self/task/" + rel;
      return ThrowErrno(env, failed, static_cast<int>(-len), path.c_str());
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("tid", Napi::Number::New(env, tid));
    o.Set("seccomp", Napi::Number::New(env, static_cast<double>(StatusField(buf.data(), "Seccomp"))));
    o.Set("seccompFilters",
          Napi::Number::New(env, static_cast<double>(StatusField(buf.data(), "Seccomp_filters"))));
    o.Set("noNewPrivs",
          Napi::Number::New(env, static_cast<double>(StatusField(buf.data(), "NoNewPrivs"))));
    out.Set(n++, o);
  }
  close(dfd);
  return out;
}

// ioUringFds(): number[] — fds whose /proc/self/fd link is "anon_inode:[io_uring]". A ring
// created before lockdown keeps doing I/O (SQPOLL kernel thread) that neither seccomp nor a
// Landlock domain applied later sees, so the caller refuses to lock down while one exists.
Napi::Value IoUringFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ThrowErrno(env, "open", errno, "/proc/self/fd");
  std::vector<int> fds;
  int err = ListNumericEntries(dfd, &fds);
  if (err) {
    close(dfd);
    return ThrowErrno(env, "getdents64", err, "/proc/self/fd");
  }
  static const char kRing[] = "anon_inode:[io_uring]";
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  char link[64];
  for (int fd : fds) {
    if (fd == dfd) continue;
    std::string name = std::to_string(fd);
    ssize_t len = readlinkat(dfd, name.c_str(), link, sizeof link - 1);
    if (len < 0) continue;  // closed meanwhile
    link[len] = '\0';
    if (strcmp(link, kRing) == 0) out.Set(n++, Napi::Number::New(env, fd));
  }
  close(dfd);
  return out;
}

// gettid(): number — kernel thread id of the calling thread.
Napi::Value Gettid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(syscall(SYS_gettid)));
}

// setPtracer(pid): boolean — PR_SET_PTRACER (Yama): lets `pid` ptrace/pidfd_getfd us under
// ptrace_scope=1. pid -1 = PR_SET_PTRACER_ANY, 0 = clear. Returns false when Yama is not
// present (the prctl answers EINVAL and no restriction exists to relax). With Yama present,
// EINVAL means the pid does not exist: that is thrown.
Napi::Value SetPtracer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t pid;
  if (!ArgInt(info, 0, "setPtracer", "pid", -1, INT32_MAX, &pid)) return env.Undefined();
  unsigned long arg = pid == -1 ? static_cast<unsigned long>(-1) : static_cast<unsigned long>(pid);
  if (prctl(kPR_SET_PTRACER, arg, 0, 0, 0) == 0) return Napi::Boolean::New(env, true);
  int err = errno;
  if (err == EINVAL && access("/proc/sys/kernel/yama/ptrace_scope", F_OK) != 0)
    return Napi::Boolean::New(env, false);
  return ThrowErrno(env, "prctl", err);
}

}  // namespace

void InitStatus(Napi::Env env, Napi::Object exports) {
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("threadStatus", Napi::Function::New(env, ThreadStatus, "threadStatus"));
  exports.Set("ioUringFds", Napi::Function::New(env, IoUringFds, "ioUringFds"));
  exports.Set("gettid", Napi::Function::New(env, Gettid, "gettid"));
  exports.Set("setPtracer", Napi::Function::New(env, SetPtracer, "setPtracer"));
}

}  // namespace bb
