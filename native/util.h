// Shared helpers for the blackbox addon: Node-style errno errors and strict argument checks.
//
// The addon is deliberately thin: every export is one kernel operation plus argument checks.
// Failing kernel calls throw an Error shaped like Node's own system errors:
//   message  "<syscall> <CODE>: <strerror>"      e.g. "landlock_add_rule EINVAL: Invalid argument"
//   .code    errno name ("EINVAL")
//   .errno   NEGATIVE errno (-22), as libuv/Node report it
//   .syscall the kernel call that failed ("landlock_add_rule")
//   .path    when the call was about a path
// Bad JS arguments throw TypeError (before any kernel call is made).
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace bb {

// "EACCES" for 13, or nullptr when the number has no name in our table.
const char* ErrnoName(int err);

// Builds the Error described above (does not throw it).
Napi::Error ErrnoError(Napi::Env env, const char* syscall, int err, const char* path = nullptr);

// Throws ErrnoError(...) and returns undefined, for `return ThrowErrno(...)` in exports
// (the addon is built with NAPI_DISABLE_CPP_EXCEPTIONS: a pending JS exception + return).
Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err, const char* path = nullptr);

// Throws a TypeError "<fn>: <msg>" and returns undefined.
Napi::Value ThrowType(Napi::Env env, const char* fn, const std::string& msg);

// Reads argument i as an integral JS number in [min, max]. On failure throws TypeError and
// returns false. Masks and fds arrive as JS numbers; anything fractional, NaN, non-number,
// or out of range is rejected rather than truncated (a truncated access mask would silently
// grant or drop rights).
bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name,
            int64_t min, int64_t max, int64_t* out);

// Largest integer a JS number holds exactly (2^53 - 1). Used as the upper bound of masks.
constexpr int64_t kMaxSafeInt = 9007199254740991LL;

// Reads argument i as a string. If reject_nul, a string containing U+0000 is a TypeError
// (the kernel would see only the part before the NUL: "/tmp/ok\0/../secret" must not
// become "/tmp/ok").
bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name,
               bool reject_nul, std::string* out);

// Checks that at least n arguments were passed (TypeError otherwise).
bool ArgCount(const Napi::CallbackInfo& info, size_t n, const char* fn);

}  // namespace bb
