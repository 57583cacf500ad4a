// The syscall floor: what a seccomp filter costs per system call, without Node.
//   floor <iters> <passes> [filter.bpf]
// Optionally installs the classic-BPF program in filter.bpf (packed little-endian
// struct sock_filter[], as dist/compile/bpf encode() writes it) with
// prctl(PR_SET_NO_NEW_PRIVS) + seccomp(SECCOMP_SET_MODE_FILTER), then times
//   getppid()                    — no arguments: the kernel's per-number action cache answers
//                                  ALLOW without running the program (when the program's verdict
//                                  for that number does not depend on arguments)
//   prctl(PR_GET_DUMPABLE)       — argument-checked by the full policy (prctl option), so the
//                                  program runs on every call
// each `iters` times, after a warm-up, `passes` passes; prints the fastest pass of each as
// JSON ns/syscall. Only these two harmless calls run in the timed loops.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int install(const char* file) {
  FILE* f = fopen(file, "rb");
  if (!f) { perror("fopen"); return -1; }
  static unsigned char buf[8 * 4096];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  if (n == 0 || n % 8) { fprintf(stderr, "bad program size %zu\n", n); return -1; }
  static struct sock_filter insns[4096];
  size_t count = n / 8;
  for (size_t i = 0; i < count; i++) {
    const unsigned char* p = buf + 8 * i;
    insns[i].code = (uint16_t)(p[0] | (p[1] << 8));
    insns[i].jt = p[2];
    insns[i].jf = p[3];
    insns[i].k = (uint32_t)p[4] | ((uint32_t)p[5] << 8) | ((uint32_t)p[6] << 16) | ((uint32_t)p[7] << 24);
  }
  struct sock_fprog prog = { .len = (unsigned short)count, .filter = insns };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("prctl"); return -1; }
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) { perror("seccomp"); return -1; }
  return (int)count;
}

static double loop_getppid(long iters) {
  double t0 = now_ns();
  for (long i = 0; i < iters; i++) syscall(SYS_getppid);
  return (now_ns() - t0) / (double)iters;
}

static double loop_prctl(long iters) {
  double t0 = now_ns();
  for (long i = 0; i < iters; i++) syscall(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0);
  return (now_ns() - t0) / (double)iters;
}

int main(int argc, char** argv) {
  if (argc < 3) { fprintf(stderr, "usage: floor <iters> <passes> [filter.bpf]\n"); return 2; }
  long iters = strtol(argv[1], NULL, 10);
  int passes = (int)strtol(argv[2], NULL, 10);
  if (iters <= 0 || iters > 100000000L || passes < 1 || passes > 20) { fprintf(stderr, "iters or passes out of range\n"); return 2; }
  int insns = 0;
  if (argc > 3 && (insns = install(argv[3])) < 0) return 1;
  // Check the filter did not change what these calls answer.
  if (syscall(SYS_getppid) != getppid() || syscall(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0) < 0) {
    fprintf(stderr, "a timed call failed under the filter: %s\n", strerror(errno));
    return 1;
  }
  loop_getppid(iters / 10);
  loop_prctl(iters / 10);
  double g = 1e18, p = 1e18;
  for (int k = 0; k < passes; k++) {
    double a = loop_getppid(iters), b = loop_prctl(iters);
    if (a < g) g = a;
    if (b < p) p = b;
  }
  printf("{\"insns\":%d,\"getppid\":%.3f,\"prctl\":%.3f}\n", insns, g, p);
  return 0;
}
