#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace bb {

namespace {
// struct linux_dirent64 layout (getdents64(2)).
struct Dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};
}  // namespace

int ListNumericEntries(int dirfd, std::vector<int>* out) {
  if (lseek(dirfd, 0, SEEK_SET) < 0) return errno;
  // Heap buffer: callers may run on Worker threads with small stacks.
  std::vector<char> storage(64 * 1024 + 8);
  char* buf = storage.data();
  for (;;) {
    long n = syscall(SYS_getdents64, dirfd, buf, storage.size() - 8);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    for (long off = 0; off < n;) {
      const Dirent64* d = reinterpret_cast<const Dirent64*>(buf + off);
      off += d->d_reclen;
      const char* s = d->d_name;
      if (*s < '0' || *s > '9') continue;
      long v = 0;
      bool ok = true;
      for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 0x7fffffff / 10) {
          ok = false;
          break;
        }
        v = v * 10 + (*s - '0');
      }
      if (ok) out->push_back(static_cast<int>(v));
    }
  }
}

long ReadSmallFileAt(int dirfd, const char* path, char* buf, size_t cap, const char** failed) {
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *failed = "open";
    return -errno;
  }
  size_t len = 0;
  while (len + 1 < cap) {
    ssize_t r = read(fd, buf + len, cap - 1 - len);
    if (r < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      *failed = "read";
      return -err;
    }
    if (r == 0) break;
    len += static_cast<size_t>(r);
  }
  close(fd);
  buf[len] = '\0';
  return static_cast<long>(len);
}

}  // namespace bb
