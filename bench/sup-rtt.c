// The connect supervisor's round trip, without Node: connect() and sendto() latency on
// loopback, first plain, then in the same process under a filter that traps connect and
// sendto, answered by the real helper (blackbox-supervisor attach, driven here by hand:
// rule table, "attach <pid> <listener fd>", "selftest-done").
//   cc -O2 -o bench/results/sup-rtt bench/sup-rtt.c
//   bench/results/sup-rtt build/Release/blackbox-supervisor [iters]
// Client (and so the helper, which inherits its affinity) on CPU 0, the accept/drain server on
// CPU 1. Non-blocking sockets, as libuv's (a blocking call runs on a helper thread); TCP
// closed with SO_LINGER 0 so no TIME_WAIT piles up. Prints percentiles in microseconds and
// the p50 deltas. Root is not needed.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3; }
static int cmpd(const void* a, const void* b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static void pin(int cpu) { cpu_set_t s; CPU_ZERO(&s); CPU_SET(cpu, &s); sched_setaffinity(0, sizeof s, &s); }
static int readline(int fd, char* buf, int max) { int n = 0; char c; while (n < max - 1 && read(fd, &c, 1) == 1) { if (c == '\n') break; buf[n++] = c; } buf[n] = 0; return n; }

static struct sockaddr_in tcpa, udpa;
static double q[3];
static void measure(int iters, const char* tag) {
  double* t = malloc(sizeof(double) * iters);
  for (int i = 0; i < iters + 200; i++) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    double t0 = now_us();
    int r = connect(s, (struct sockaddr*)&tcpa, sizeof tcpa);
    double t1 = now_us();
    if (r != 0 && errno != EINPROGRESS) { perror("connect"); exit(1); }
    struct linger l = {1, 0};
    setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(s);
    if (i >= 200) t[i - 200] = t1 - t0;
  }
  qsort(t, iters, sizeof(double), cmpd);
  double c50 = t[iters / 2], c10 = t[iters / 10], c25 = t[iters/4], c75 = t[iters*3/4], c90 = t[iters*9/10];
  int u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  char msg[64] = {0};
  for (int i = 0; i < iters + 200; i++) {
    double t0 = now_us();
    ssize_t r = sendto(u, msg, sizeof msg, 0, (struct sockaddr*)&udpa, sizeof udpa);
    double t1 = now_us();
    if (r < 0 && errno != ENOBUFS && errno != EAGAIN) { perror("sendto"); exit(1); }
    if (i >= 200) t[i - 200] = t1 - t0;
  }
  close(u);
  qsort(t, iters, sizeof(double), cmpd);
  printf("%-8s connect p10 %6.2f p25 %6.2f p50 %6.2f p75 %6.2f p90 %6.2f\n         sendto p10 %6.2f p25 %6.2f p50 %6.2f p75 %6.2f p90 %6.2f us\n", tag, c10, c25, c50, c75, c90, t[iters / 10], t[iters/4], t[iters / 2], t[iters*3/4], t[iters*9/10]);
  q[0] = c50; q[1] = t[iters / 2];
  free(t);
}

int main(int argc, char** argv) {
  const char* sup = argv[1];
  int iters = argc > 2 ? atoi(argv[2]) : 5000;
  // server: accept+close, drain udp
  int ls = socket(AF_INET, SOCK_STREAM, 0), us = socket(AF_INET, SOCK_DGRAM, 0);
  memset(&tcpa, 0, sizeof tcpa); tcpa.sin_family = AF_INET; tcpa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  udpa = tcpa;
  socklen_t len = sizeof tcpa;
  bind(ls, (struct sockaddr*)&tcpa, sizeof tcpa); listen(ls, 4096); getsockname(ls, (struct sockaddr*)&tcpa, &len);
  bind(us, (struct sockaddr*)&udpa, sizeof udpa); len = sizeof udpa; getsockname(us, (struct sockaddr*)&udpa, &len);
  int rcv = 1 << 20; setsockopt(us, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  pid_t srv = fork();
  if (srv == 0) {
    pin(1);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    fcntl(us, F_SETFL, O_NONBLOCK);
    if (fork() == 0) { prctl(PR_SET_PDEATHSIG, SIGKILL); char b[2048]; for (;;) { if (recv(us, b, sizeof b, 0) < 0) usleep(100); } }
    for (;;) { int c = accept(ls, 0, 0); if (c >= 0) close(c); }
  }
  close(ls); close(us);
  pin(0);
  measure(iters, "plain");
  double p0 = q[0], p1 = q[1];
  int sp[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
  pid_t sv = fork();
  if (sv == 0) { dup2(sp[1], 3); execl(sup, sup, "attach", (char*)0); _exit(127); }
  close(sp[1]);
  char buf[256];
  int n = snprintf(buf, sizeof buf, "mode enforce\nerrno 13\nip c tcp 127.0.0.1/32 %d-%d\nip c udp 127.0.0.1/32 %d-%d\nend\n",
                   ntohs(tcpa.sin_port), ntohs(tcpa.sin_port), ntohs(udpa.sin_port), ntohs(udpa.sin_port));
  write(sp[0], buf, n);
  readline(sp[0], buf, sizeof buf);
  if (strcmp(buf, "ready")) { fprintf(stderr, "no ready: %s\n", buf); return 1; }
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_connect, 2, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sendto, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
  };
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  int lfd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (lfd < 0) { perror("seccomp"); return 1; }
  n = snprintf(buf, sizeof buf, "attach %d %d\n", getpid(), lfd);
  write(sp[0], buf, n);
  readline(sp[0], buf, sizeof buf);
  if (strncmp(buf, "ok", 2)) { fprintf(stderr, "no ok: %s\n", buf); return 1; }
  write(sp[0], "selftest-done\n", 14);
  close(lfd);
  measure(iters, "locked");
  printf("delta connect %.2f us, sendto %.2f us\n", q[0] - p0, q[1] - p1);
  kill(srv, SIGKILL);
  return 0;
}
