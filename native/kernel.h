// Kernel ABI definitions the addon needs, defined here rather than taken from <linux/*.h>:
// the build host's headers may be older than the running kernel (Debian 12 ships 6.1
// headers: no Landlock net/scoped fields), and a prebuilt binary must speak the newest ABI
// it knows to whatever kernel it meets. Values are from the kernel's UAPI headers.
#pragma once

#include <stdint.h>
#include <sys/syscall.h>

// ---- system call numbers ------------------------------------------------------------------
// Landlock (Linux 5.13) got the same number on every architecture (unified syscall table).
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif
#ifndef SYS_seccomp
#if defined(__x86_64__)
#define SYS_seccomp 317
#elif defined(__aarch64__)
#define SYS_seccomp 277
#else
#error "SYS_seccomp unknown for this architecture"
#endif
#endif

namespace bb {

// ---- prctl --------------------------------------------------------------------------------
constexpr int kPR_SET_NO_NEW_PRIVS = 38;  // Linux 3.5; per thread, irreversible, inherited
constexpr int kPR_GET_NO_NEW_PRIVS = 39;
constexpr int kPR_SET_PTRACER = 0x59616d61;  // "Yama"; EINVAL when Yama is not built in

// ---- seccomp (linux/seccomp.h) ------------------------------------------------------------
constexpr unsigned kSECCOMP_SET_MODE_FILTER = 1;   // Linux 3.17 (seccomp(2))
constexpr unsigned kSECCOMP_GET_ACTION_AVAIL = 2;  // Linux 4.14
// Filter flags (passed through from JS; listed here so the return value can be interpreted):
//   TSYNC=1 (3.17)  LOG=2 (4.14)  SPEC_ALLOW=4 (4.17)  NEW_LISTENER=8 (5.0)
//   TSYNC_ESRCH=16 (5.7)  WAIT_KILLABLE_RECV=32 (5.19)
constexpr unsigned kSECCOMP_FILTER_FLAG_TSYNC = 1u << 0;
constexpr unsigned kSECCOMP_FILTER_FLAG_NEW_LISTENER = 1u << 3;
constexpr unsigned kBPF_MAXINSNS = 4096;  // per filter program (linux/bpf_common.h)

// ---- Landlock (linux/landlock.h) ----------------------------------------------------------
// landlock_create_ruleset() flags (with attr == NULL, size == 0):
constexpr uint32_t kLANDLOCK_CREATE_RULESET_VERSION = 1u << 0;  // returns the ABI version
constexpr uint32_t kLANDLOCK_CREATE_RULESET_ERRATA = 1u << 1;   // ABI 7 backports: errata bitmask

// Rule types for landlock_add_rule():
constexpr int kLANDLOCK_RULE_PATH_BENEATH = 1;  // ABI 1
constexpr int kLANDLOCK_RULE_NET_PORT = 2;      // ABI 4

// Access rights (for reference only; the addon never interprets masks, the compiler does):
//   fs:  EXECUTE 1<<0 .. MAKE_SYM 1<<12 (ABI 1), REFER 1<<13 (ABI 2), TRUNCATE 1<<14 (ABI 3),
//        IOCTL_DEV 1<<15 (ABI 5)
//   net: BIND_TCP 1<<0, CONNECT_TCP 1<<1 (ABI 4)
//   scoped: ABSTRACT_UNIX_SOCKET 1<<0, SIGNAL 1<<1 (ABI 6)
// landlock_restrict_self() flags: LOG_SAME_EXEC_OFF 1<<0, LOG_NEW_EXEC_ON 1<<1,
//   LOG_SUBDOMAINS_OFF 1<<2 (ABI 7); TSYNC 1<<3 (ABI 8, Linux 7.0: all threads at once).

// struct landlock_ruleset_attr. The kernel accepts any size >= 8 (the first field) and
// requires bytes it does not know to be zero (E2BIG otherwise), so we pass the smallest
// size that covers the non-zero fields: 8 (ABI 1-3), 16 (net, ABI 4+), 24 (scoped, ABI 6+).
struct LandlockRulesetAttr {
  uint64_t handled_access_fs;   // offset 0
  uint64_t handled_access_net;  // offset 8  (ABI 4)
  uint64_t scoped;              // offset 16 (ABI 6)
};
static_assert(sizeof(LandlockRulesetAttr) == 24, "landlock_ruleset_attr is 24 bytes");

// struct landlock_path_beneath_attr: packed in the UAPI, 12 bytes.
struct __attribute__((packed)) LandlockPathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
};
static_assert(sizeof(LandlockPathBeneathAttr) == 12, "landlock_path_beneath_attr is 12 bytes");

// struct landlock_net_port_attr: packed in the UAPI, 16 bytes. port is host endianness.
struct __attribute__((packed)) LandlockNetPortAttr {
  uint64_t allowed_access;
  uint64_t port;
};
static_assert(sizeof(LandlockNetPortAttr) == 16, "landlock_net_port_attr is 16 bytes");

}  // namespace bb
