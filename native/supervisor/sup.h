// blackbox-supervisor: the connect supervisor (seccomp user notification).
//
// The target process installs a seccomp filter whose connect/sendto/sendmsg/sendmmsg/bind
// verdict is SECCOMP_RET_USER_NOTIF; this helper holds the listener. For every trapped call
// it copies the address out of the target ONCE, checks the copy against the rule table the
// target's TypeScript compiled, and performs the call itself on a pidfd_getfd() duplicate of
// the target's socket, replying with the real result. It never replies CONTINUE on the
// enforce path: the kernel would re-read target memory a racing thread may have rewritten.
//
// The rule table is data (see rules.cc for the line format); every policy decision about
// what a name, a CIDR or `localhost` means was made in src/compile/supervisor.ts. What is
// left here is matching an address against the table, and the kernel's own address rules
// (v4-mapped IPv6, 0.0.0.0 as a destination, AF_UNSPEC in udp_sendmsg).
#pragma once

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <string>
#include <vector>

namespace sup {

enum Op : uint8_t { kConnect = 1, kBind = 2 };
enum Proto : uint8_t { kTcp = 1, kUdp = 2, kAnyProto = 3 };

struct Addr {
  int family = 0;  // 4 or 6
  uint8_t b[16] = {};
};

struct IpRule {
  uint8_t ops = 0, protos = 0;
  Addr net;
  int prefix = 0;
  uint16_t lo = 0, hi = 65535;
  int host = -1;        // index into Rules::hosts when a name produced it
  uint64_t gen = 0;     // the host's resolution generation it came from
};

struct HostRule {
  uint8_t ops = 0, protos = 0;
  std::string name;     // exact name, or the base of a *.base wildcard
  bool wildcard = false;
  uint16_t lo = 0, hi = 65535;
  // resolution state (main thread only)
  uint64_t gen = 0;
  bool inflight = false;
  uint64_t resolvedAtMs = 0, missResolveAtMs = 0;
};

struct UnixRule {
  std::string path;     // canonical absolute path (connect), or directory prefix (bind)
};

struct Rules {
  bool audit = false;
  int denyErrno = 13;   // EACCES, the errno Landlock uses
  bool inetConnectAll = false, inetBindAll = false;
  bool bindEphemeralUdp = false;  // bind(port 0) on UDP sockets: the client side of dgram
  bool unixConnectAll = false, unixBindAll = false, abstractAll = false;
  bool dns = false;     // the resolv.conf nameservers, port 53, TCP and UDP
  std::vector<UnixRule> unixConnect, unixBind;
  std::vector<IpRule> ips;
  std::vector<HostRule> hosts;
  std::vector<Addr> nameservers;
  uint64_t nameserversAtMs = 0;
};

// rules.cc
bool ParseRuleLine(const std::string& line, Rules* r, std::string* err);
bool ParseIp(const char* text, Addr* out);
std::string FormatIp(const Addr& a);
bool InPrefix(const Addr& a, const Addr& net, int prefix);

enum class Decision { kAllow, kDeny, kResolve };
// kResolve: no rule matched, but a host rule with this op/proto/port exists whose
// addresses may have changed: re-resolve and decide again.
Decision CheckInet(const Rules& r, Op op, Proto proto, const Addr& a, uint16_t port, std::vector<int>* hosts);
bool ReadNameservers(std::vector<Addr>* out);

uint64_t NowMs();

}  // namespace sup
