// Non-Linux builds: no kernel layer exists, so the module exports nothing. It is built only
// so that installing the package never fails on macOS/Windows (see binding.gyp).
#include <napi.h>

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) { return exports; }
}  // namespace

NODE_API_MODULE(blackbox, Init)
