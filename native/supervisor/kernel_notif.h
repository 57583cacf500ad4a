// seccomp user-notification ABI, defined here: Debian 12's 6.1 headers lack
// SECCOMP_IOCTL_NOTIF_SET_FLAGS (6.6) and PIDFD_THREAD (6.9), and a prebuilt
// supervisor must speak what the running kernel offers. Values from the kernel's UAPI
// (include/uapi/linux/seccomp.h, pidfd.h); structs checked with sizeof on x86_64.
#pragma once
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

namespace sup {

struct SeccompData {      // struct seccomp_data: 64 bytes
  int32_t nr;
  uint32_t arch;
  uint64_t instruction_pointer;
  uint64_t args[6];
};
struct SeccompNotif {     // struct seccomp_notif: 80 bytes (the kernel may know a longer one)
  uint64_t id;
  uint32_t pid;           // TID of the trapped thread, in our pid namespace (0: not visible)
  uint32_t flags;
  SeccompData data;
};
struct SeccompNotifResp { // struct seccomp_notif_resp: 24 bytes
  uint64_t id;
  int64_t val;
  int32_t error;          // -errno; the kernel returns it when non-zero, else val
  uint32_t flags;
};
struct SeccompNotifSizes { uint16_t notif, resp, data; };
static_assert(sizeof(SeccompNotif) == 80, "seccomp_notif");
static_assert(sizeof(SeccompNotifResp) == 24, "seccomp_notif_resp");

constexpr unsigned kSECCOMP_GET_NOTIF_SIZES = 3;                    // 5.0
constexpr uint32_t kSECCOMP_USER_NOTIF_FLAG_CONTINUE = 1;           // 5.5; audit mode only
constexpr unsigned long kNOTIF_RECV = 0xc0502100;                    // _IOWR('!', 0, seccomp_notif)
constexpr unsigned long kNOTIF_SEND = 0xc0182101;                    // _IOWR('!', 1, seccomp_notif_resp)
constexpr unsigned long kNOTIF_ID_VALID = 0x40082102;                // _IOW('!', 2, u64)
constexpr unsigned long kNOTIF_SET_FLAGS = 0x40082104;               // _IOW('!', 4, u64), 6.6; the flags are the arg itself
constexpr uint64_t kSECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP = 1;         // wake the target on our CPU
constexpr unsigned kPIDFD_THREAD = 0x80;                             // O_EXCL, 6.9: a pidfd for one thread

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

}  // namespace sup
