// Landlock exports: probe, ruleset construction, calling-thread restriction.
// The all-thread restriction (signal broadcast) is in threads.cc.
#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstring>

#include "exports.h"
#include "kernel.h"
#include "util.h"

namespace bb {
namespace {

constexpr int64_t kFdMin = INT32_MIN;  // fds are C ints; the kernel says EBADF for bad ones
constexpr int64_t kFdMax = INT32_MAX;

long LandlockCreateRuleset(const LandlockRulesetAttr* attr, size_t size, uint32_t flags) {
  return syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

// landlockAbi(): number — highest supported ABI version (1..), 0 when Landlock is absent:
// ENOSYS = kernel without CONFIG_SECURITY_LANDLOCK, EOPNOTSUPP = built in but not enabled
// at boot (not in the lsm= list).
Napi::Value LandlockAbi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  long r = LandlockCreateRuleset(nullptr, 0, kLANDLOCK_CREATE_RULESET_VERSION);
  if (r >= 0) return Napi::Number::New(env, static_cast<double>(r));
  int err = errno;
  if (err == ENOSYS || err == EOPNOTSUPP) return Napi::Number::New(env, 0);
  return ThrowErrno(env, "landlock_create_ruleset", err);
}

// landlockErrata(): number — bitmask of fixed Landlock errata (flag 1<<1, added with ABI 7 and
// backported); 0 when the kernel does not know the flag (EINVAL) or has no Landlock.
Napi::Value LandlockErrata(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  long r = LandlockCreateRuleset(nullptr, 0, kLANDLOCK_CREATE_RULESET_ERRATA);
  if (r >= 0) return Napi::Number::New(env, static_cast<double>(r));
  int err = errno;
  if (err == EINVAL || err == ENOSYS || err == EOPNOTSUPP) return Napi::Number::New(env, 0);
  return ThrowErrno(env, "landlock_create_ruleset", err);
}

// landlockCreateRuleset(handledFs, handledNet, scoped): number — the ruleset fd. The kernel
// always creates it O_CLOEXEC (anon inode "[landlock-ruleset]"), so it does not leak into
// children. The attr size is the smallest covering the non-zero fields (see kernel.h): an
// ABI 1-3 kernel knows only the first 8 bytes and answers E2BIG for a larger struct unless
// the extra bytes are zero, and a kernel older than the size check itself (none exist with
// Landlock, but cheap to be safe) could reject the larger size outright. A net mask on an
// ABI < 4 kernel, or scopes on ABI < 6, therefore fail with E2BIG: the caller masks by ABI.
Napi::Value LandlockCreateRulesetExport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "landlockCreateRuleset";
  if (!ArgCount(info, 3, fn)) return env.Undefined();
  int64_t fs, net, scoped;
  if (!ArgInt(info, 0, fn, "handledFs", 0, kMaxSafeInt, &fs) ||
      !ArgInt(info, 1, fn, "handledNet", 0, kMaxSafeInt, &net) ||
      !ArgInt(info, 2, fn, "scoped", 0, kMaxSafeInt, &scoped))
    return env.Undefined();
  LandlockRulesetAttr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.handled_access_fs = static_cast<uint64_t>(fs);
  attr.handled_access_net = static_cast<uint64_t>(net);
  attr.scoped = static_cast<uint64_t>(scoped);
  size_t size = scoped ? 24 : net ? 16 : 8;
  long r = LandlockCreateRuleset(&attr, size, 0);
  if (r < 0) return ThrowErrno(env, "landlock_create_ruleset", errno);
  return Napi::Number::New(env, static_cast<double>(r));
}

// landlockAddPathRule(rulesetFd, path, allowed): void — LANDLOCK_RULE_PATH_BENEATH.
// The path is opened O_PATH (no read permission needed, no side effects on FIFOs/devices),
// added, and closed: the ruleset keeps its own reference to the inode.
Napi::Value LandlockAddPathRule(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "landlockAddPathRule";
  if (!ArgCount(info, 3, fn)) return env.Undefined();
  int64_t rfd, allowed;
  std::string path;
  if (!ArgInt(info, 0, fn, "rulesetFd", kFdMin, kFdMax, &rfd) ||
      !ArgString(info, 1, fn, "path", true, &path) ||
      !ArgInt(info, 2, fn, "allowed", 0, kMaxSafeInt, &allowed))
    return env.Undefined();
  if (path.empty()) return ThrowType(env, fn, "path must not be empty");

  int pfd = open(path.c_str(), O_PATH | O_CLOEXEC);
  if (pfd < 0) return ThrowErrno(env, "open", errno, path.c_str());
  LandlockPathBeneathAttr attr;
  attr.allowed_access = static_cast<uint64_t>(allowed);
  attr.parent_fd = pfd;
  long r = syscall(SYS_landlock_add_rule, static_cast<int>(rfd), kLANDLOCK_RULE_PATH_BENEATH, &attr,
                   0u);
  int err = errno;
  close(pfd);
  if (r < 0) return ThrowErrno(env, "landlock_add_rule", err, path.c_str());
  return env.Undefined();
}

// landlockAddNetRule(rulesetFd, port, allowed): void — LANDLOCK_RULE_NET_PORT (ABI 4).
// Port 0 is meaningful for BIND_TCP (ephemeral ports, Linux 6.8+ semantics).
Napi::Value LandlockAddNetRule(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "landlockAddNetRule";
  if (!ArgCount(info, 3, fn)) return env.Undefined();
  int64_t rfd, port, allowed;
  if (!ArgInt(info, 0, fn, "rulesetFd", kFdMin, kFdMax, &rfd) ||
      !ArgInt(info, 1, fn, "port", 0, 65535, &port) ||
      !ArgInt(info, 2, fn, "allowed", 0, kMaxSafeInt, &allowed))
    return env.Undefined();
  LandlockNetPortAttr attr;
  attr.allowed_access = static_cast<uint64_t>(allowed);
  attr.port = static_cast<uint64_t>(port);
  long r = syscall(SYS_landlock_add_rule, static_cast<int>(rfd), kLANDLOCK_RULE_NET_PORT, &attr, 0u);
  if (r < 0) return ThrowErrno(env, "landlock_add_rule", errno);
  return env.Undefined();
}

// landlockRestrictSelf(rulesetFd, flags): void — NNP + landlock_restrict_self on the CALLING
// THREAD only (Landlock domains are per thread before ABI 8). Used by the CLI child before
// execve, and with flags including TSYNC (1<<3) on ABI >= 8, where one call covers all threads.
Napi::Value LandlockRestrictSelf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "landlockRestrictSelf";
  if (!ArgCount(info, 2, fn)) return env.Undefined();
  int64_t rfd, flags;
  if (!ArgInt(info, 0, fn, "rulesetFd", kFdMin, kFdMax, &rfd) ||
      !ArgInt(info, 1, fn, "flags", 0, 0xFFFFFFFFLL, &flags))
    return env.Undefined();
  if (prctl(kPR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return ThrowErrno(env, "prctl", errno);
  if (syscall(SYS_landlock_restrict_self, static_cast<int>(rfd), static_cast<uint32_t>(flags)) != 0)
    return ThrowErrno(env, "landlock_restrict_self", errno);
  return env.Undefined();
}

}  // namespace

void InitLandlock(Napi::Env env, Napi::Object exports) {
  exports.Set("landlockAbi", Napi::Function::New(env, LandlockAbi, "landlockAbi"));
  exports.Set("landlockErrata", Napi::Function::New(env, LandlockErrata, "landlockErrata"));
  exports.Set("landlockCreateRuleset",
              Napi::Function::New(env, LandlockCreateRulesetExport, "landlockCreateRuleset"));
  exports.Set("landlockAddPathRule",
              Napi::Function::New(env, LandlockAddPathRule, "landlockAddPathRule"));
  exports.Set("landlockAddNetRule",
              Napi::Function::New(env, LandlockAddNetRule, "landlockAddNetRule"));
  exports.Set("landlockRestrictSelf",
              Napi::Function::New(env, LandlockRestrictSelf, "landlockRestrictSelf"));
}

}  // namespace bb
