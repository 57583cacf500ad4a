// Registration hooks, one per source file; addon.cc calls them all.
#pragma once

#include <napi.h>

namespace bb {
void InitSeccomp(Napi::Env env, Napi::Object exports);   // seccomp.cc
void InitLandlock(Napi::Env env, Napi::Object exports);  // landlock.cc
void InitThreads(Napi::Env env, Napi::Object exports);   // threads.cc
void InitStatus(Napi::Env env, Napi::Object exports);    // status.cc
void InitSupervise(Napi::Env env, Napi::Object exports); // supervise.cc
}  // namespace bb
