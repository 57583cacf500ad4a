#include "util.h"

#include <errno.h>
#include <string.h>

#include <cmath>

namespace bb {

// Our own table instead of strerrorname_np(): that exists only since glibc 2.32 and not in
// musl, and a prebuilt binary must not require it.
const char* ErrnoName(int err) {
  switch (err) {
#define BB_E(name) \
  case name:       \
    return #name;
    BB_E(EPERM) BB_E(ENOENT) BB_E(ESRCH) BB_E(EINTR) BB_E(EIO) BB_E(ENXIO) BB_E(E2BIG)
    BB_E(ENOEXEC) BB_E(EBADF) BB_E(ECHILD) BB_E(EAGAIN) BB_E(ENOMEM) BB_E(EACCES)
    BB_E(EFAULT) BB_E(ENOTBLK) BB_E(EBUSY) BB_E(EEXIST) BB_E(EXDEV) BB_E(ENODEV)
    BB_E(ENOTDIR) BB_E(EISDIR) BB_E(EINVAL) BB_E(ENFILE) BB_E(EMFILE) BB_E(ENOTTY)
    BB_E(ETXTBSY) BB_E(EFBIG) BB_E(ENOSPC) BB_E(ESPIPE) BB_E(EROFS) BB_E(EMLINK)
    BB_E(EPIPE) BB_E(EDOM) BB_E(ERANGE) BB_E(EDEADLK) BB_E(ENAMETOOLONG) BB_E(ENOLCK)
    BB_E(ENOSYS) BB_E(ENOTEMPTY) BB_E(ELOOP) BB_E(ENOMSG) BB_E(EIDRM) BB_E(ENOSTR)
    BB_E(ENODATA) BB_E(ETIME) BB_E(ENOSR) BB_E(EOVERFLOW) BB_E(EBADFD) BB_E(EILSEQ)
    BB_E(EUSERS) BB_E(ENOTSOCK) BB_E(EDESTADDRREQ) BB_E(EMSGSIZE) BB_E(EPROTOTYPE)
    BB_E(ENOPROTOOPT) BB_E(EPROTONOSUPPORT) BB_E(ESOCKTNOSUPPORT) BB_E(EOPNOTSUPP)
    BB_E(EPFNOSUPPORT) BB_E(EAFNOSUPPORT) BB_E(EADDRINUSE) BB_E(EADDRNOTAVAIL)
    BB_E(ENETDOWN) BB_E(ENETUNREACH) BB_E(ENETRESET) BB_E(ECONNABORTED) BB_E(ECONNRESET)
    BB_E(ENOBUFS) BB_E(EISCONN) BB_E(ENOTCONN) BB_E(ESHUTDOWN) BB_E(ETOOMANYREFS)
    BB_E(ETIMEDOUT) BB_E(ECONNREFUSED) BB_E(EHOSTDOWN) BB_E(EHOSTUNREACH) BB_E(EALREADY)
    BB_E(EINPROGRESS) BB_E(ESTALE) BB_E(EDQUOT) BB_E(ECANCELED) BB_E(EOWNERDEAD)
    BB_E(ENOTRECOVERABLE) BB_E(ENOKEY) BB_E(EKEYEXPIRED) BB_E(EKEYREVOKED)
    BB_E(EKEYREJECTED) BB_E(ERFKILL) BB_E(EHWPOISON)
#undef BB_E
    default:
      return nullptr;
  }
}

Napi::Error ErrnoError(Napi::Env env, const char* syscall, int err, const char* path) {
  const char* name = ErrnoName(err);
  std::string code = name ? name : ("Unknown system error " + std::to_string(err));
  std::string msg = std::string(syscall) + " " + code + ": " + strerror(err);
  if (path) msg += ", '" + std::string(path) + "'";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, name ? name : "UNKNOWN"));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  if (path) e.Set("path", Napi::String::New(env, path));
  return e;
}

Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err, const char* path) {
  ErrnoError(env, syscall, err, path).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowType(Napi::Env env, const char* fn, const std::string& msg) {
  Napi::TypeError::New(env, std::string(fn) + ": " + msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

bool ArgCount(const Napi::CallbackInfo& info, size_t n, const char* fn) {
  if (info.Length() >= n) return true;
  ThrowType(info.Env(), fn,
            "expected " + std::to_string(n) + " argument(s), got " + std::to_string(info.Length()));
  return false;
}

bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name,
            int64_t min, int64_t max, int64_t* out) {
  Napi::Env env = info.Env();
  if (i >= info.Length() || !info[i].IsNumber()) {
    ThrowType(env, fn, std::string(name) + " must be a number");
    return false;
  }
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::trunc(d) != d) {
    ThrowType(env, fn, std::string(name) + " must be an integer");
    return false;
  }
  // Compare as doubles first: casting an out-of-range double to int64 is undefined behaviour.
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    ThrowType(env, fn,
              std::string(name) + " out of range [" + std::to_string(min) + ", " +
                  std::to_string(max) + "]");
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name,
               bool reject_nul, std::string* out) {
  Napi::Env env = info.Env();
  if (i >= info.Length() || !info[i].IsString()) {
    ThrowType(env, fn, std::string(name) + " must be a string");
    return false;
  }
  *out = info[i].As<Napi::String>().Utf8Value();
  if (reject_nul && out->find('\0') != std::string::npos) {
    ThrowType(env, fn, std::string(name) + " must not contain NUL bytes");
    return false;
  }
  return true;
}

}  // namespace bb
