// blackbox.node — one export per kernel operation; all policy lives in TypeScript (src/).
//
// Exports (see each file for exact semantics):
//   seccomp.cc : setNoNewPrivs getNoNewPrivs seccompInstall seccompActionAvailable
//   landlock.cc: landlockAbi landlockErrata landlockCreateRuleset landlockAddPathRule
//                landlockAddNetRule landlockRestrictSelf
//   threads.cc : landlockRestrictAllThreads
//   status.cc  : close threadStatus ioUringFds ioUringState ioUringPersonalityProbe gettid setPtracer
#include <napi.h>

#include "exports.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  bb::InitSeccomp(env, exports);
  bb::InitLandlock(env, exports);
  bb::InitThreads(env, exports);
  bb::InitStatus(env, exports);
  bb::InitSupervise(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(blackbox, Init)
