// seccomp-bpf and no_new_privs exports.
#include <errno.h>
#include <linux/filter.h>  // struct sock_filter / sock_fprog (stable since 2.6)
#include <sys/prctl.h>
#include <unistd.h>

#include <vector>

#include "exports.h"
#include "kernel.h"
#include "util.h"

namespace bb {
namespace {

// setNoNewPrivs(): void — PR_SET_NO_NEW_PRIVS on the CALLING THREAD only (the bit lives in the
// task, not the process). seccomp TSYNC copies it to the synced threads; Landlock needs it on
// every thread that calls landlock_restrict_self without CAP_SYS_ADMIN.
Napi::Value SetNoNewPrivs(const Napi::CallbackInfo& info) {
  if (prctl(kPR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return ThrowErrno(info.Env(), "prctl", errno);
  return info.Env().Undefined();
}

// getNoNewPrivs(): number — 0 or 1 for the calling thread.
Napi::Value GetNoNewPrivs(const Napi::CallbackInfo& info) {
  int r = prctl(kPR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  if (r < 0) return ThrowErrno(info.Env(), "prctl", errno);
  return Napi::Number::New(info.Env(), r);
}

// seccompInstall(prog: Buffer, flags: number): number
//   prog: packed struct sock_filter[] — 8 bytes each, little-endian {u16 code, u8 jt, u8 jf,
//   u32 k}; 1..4096 instructions (BPF_MAXINSNS). The kernel verifies the program itself.
//   Returns 0, or the listener fd when flags include NEW_LISTENER (8).
//   seccomp() return value: 0 ok; -1 errno; > 0 only with TSYNC and without TSYNC_ESRCH:
//   the TID of a thread that could not be synchronized (nothing was installed). That case
//   is thrown as ESRCH with .tid. NNP is NOT set here (the caller orders NNP first; without
//   NNP or CAP_SYS_ADMIN the kernel answers EACCES).
Napi::Value SeccompInstall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "seccompInstall";
  if (!ArgCount(info, 2, fn)) return env.Undefined();
  if (!info[0].IsBuffer()) return ThrowType(env, fn, "prog must be a Buffer");
  Napi::Buffer<uint8_t> buf = info[0].As<Napi::Buffer<uint8_t>>();
  size_t len = buf.Length();
  if (len == 0 || len % 8 != 0)
    return ThrowType(env, fn, "prog length must be a non-zero multiple of 8 bytes");
  if (len / 8 > kBPF_MAXINSNS) return ThrowType(env, fn, "prog has more than 4096 instructions");
  int64_t flags;
  if (!ArgInt(info, 1, fn, "flags", 0, 0xFFFFFFFFLL, &flags)) return env.Undefined();

  // Decode explicitly (not memcpy) so the byte order of the JS-built program is the same on
  // every host; this also gives the kernel an aligned array.
  const uint8_t* p = buf.Data();
  std::vector<struct sock_filter> insns(len / 8);
  for (size_t i = 0; i < insns.size(); i++, p += 8) {
    insns[i].code = static_cast<uint16_t>(p[0] | (p[1] << 8));
    insns[i].jt = p[2];
    insns[i].jf = p[3];
    insns[i].k = static_cast<uint32_t>(p[4]) | (static_cast<uint32_t>(p[5]) << 8) |
                 (static_cast<uint32_t>(p[6]) << 16) | (static_cast<uint32_t>(p[7]) << 24);
  }
  struct sock_fprog fprog;
  fprog.len = static_cast<unsigned short>(insns.size());
  fprog.filter = insns.data();

  long r = syscall(SYS_seccomp, kSECCOMP_SET_MODE_FILTER, static_cast<unsigned>(flags), &fprog);
  if (r < 0) return ThrowErrno(env, "seccomp", errno);
  if (r > 0 && !(flags & kSECCOMP_FILTER_FLAG_NEW_LISTENER)) {
    // TSYNC failure without TSYNC_ESRCH: r is the TID of the thread whose filter tree diverged.
    Napi::Error e = ErrnoError(env, "seccomp", ESRCH);
    e.Set("message", Napi::String::New(env, "seccomp ESRCH: TSYNC failed: thread " +
                                                std::to_string(r) +
                                                " could not be synchronized; nothing installed"));
    e.Set("tid", Napi::Number::New(env, static_cast<double>(r)));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, static_cast<double>(r));
}

// seccompActionAvailable(action: number): boolean — SECCOMP_GET_ACTION_AVAIL (Linux 4.14).
// EOPNOTSUPP = action unknown to this kernel; EINVAL = operation itself unknown (< 4.14);
// ENOSYS = no seccomp at all. All three mean "not available".
Napi::Value SeccompActionAvailable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t action;
  if (!ArgInt(info, 0, "seccompActionAvailable", "action", 0, 0xFFFFFFFFLL, &action))
    return env.Undefined();
  uint32_t a = static_cast<uint32_t>(action);
  long r = syscall(SYS_seccomp, kSECCOMP_GET_ACTION_AVAIL, 0u, &a);
  if (r == 0) return Napi::Boolean::New(env, true);
  int err = errno;
  if (err == EOPNOTSUPP || err == EINVAL || err == ENOSYS) return Napi::Boolean::New(env, false);
  return ThrowErrno(env, "seccomp", err);
}

}  // namespace

void InitSeccomp(Napi::Env env, Napi::Object exports) {
  exports.Set("setNoNewPrivs", Napi::Function::New(env, SetNoNewPrivs, "setNoNewPrivs"));
  exports.Set("getNoNewPrivs", Napi::Function::New(env, GetNoNewPrivs, "getNoNewPrivs"));
  exports.Set("seccompInstall", Napi::Function::New(env, SeccompInstall, "seccompInstall"));
  exports.Set("seccompActionAvailable",
              Napi::Function::New(env, SeccompActionAvailable, "seccompActionAvailable"));
}

}  // namespace bb
