// Raw /proc readers (open/getdents64/read/readlink; no stdio, no JS fs): used by the status
// exports and by the all-thread broadcast, which must not depend on libuv's threadpool.
#pragma once

#include <stddef.h>

#include <vector>

namespace bb {

// Rewinds dirfd and appends every all-digit entry name (tids in /proc/self/task, fds in
// /proc/self/fd) to out. One getdents64 call with a 64 KiB buffer returns ~2000 entries, and
// the kernel walks the thread list under RCU within a call, so a thread alive for the whole
// call is never missed for any realistic thread count. Returns 0 or an errno.
int ListNumericEntries(int dirfd, std::vector<int>* out);

// Reads up to cap-1 bytes of a (small, /proc) file relative to dirfd, NUL-terminates.
// Returns the length, or -errno with *failed set to "open" or "read".
long ReadSmallFileAt(int dirfd, const char* path, char* buf, size_t cap, const char** failed);

}  // namespace bb
