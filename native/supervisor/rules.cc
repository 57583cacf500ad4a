// The rule table: parsing the lines src/compile/supervisor.ts writes, and matching.
//
//   mode enforce|audit          errno <n>
//   connect-all                 bind-all            bind-ephemeral-udp     dns
//   ip   <ops> <protos> <addr>/<prefix> <lo>-<hi>   ops: c | b | cb; protos: tcp | udp | any
//   host <ops> <protos> <name> <lo>-<hi>            an exact name, resolved here
//   wild <ops> <protos> <base> <lo>-<hi>            *.base: names the target hints at
//   unix-connect <canonical path>   unix-bind <canonical directory>
//   unix-connect-all   unix-bind-all   abstract-all
//   end
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sstream>

#include "sup.h"

namespace sup {

uint64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

bool ParseIp(const char* text, Addr* out) {
  Addr a;
  if (inet_pton(AF_INET, text, a.b) == 1) {
    a.family = 4;
  } else if (inet_pton(AF_INET6, text, a.b) == 1) {
    a.family = 6;
  } else {
    return false;
  }
  *out = a;
  return true;
}

std::string FormatIp(const Addr& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.family == 4 ? AF_INET : AF_INET6, a.b, buf, sizeof buf);
  return buf;
}

bool InPrefix(const Addr& a, const Addr& net, int prefix) {
  if (a.family != net.family) return false;
  int full = prefix / 8, rest = prefix % 8;
  if (memcmp(a.b, net.b, full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.b[full] & mask) == (net.b[full] & mask);
}

static bool ParseOps(const std::string& s, uint8_t* ops) {
  if (s == "c") *ops = kConnect;
  else if (s == "b") *ops = kBind;
  else if (s == "cb") *ops = kConnect | kBind;
  else return false;
  return true;
}

static bool ParseProtos(const std::string& s, uint8_t* p) {
  if (s == "tcp") *p = kTcp;
  else if (s == "udp") *p = kUdp;
  else if (s == "any") *p = kAnyProto;
  else return false;
  return true;
}

static bool ParsePorts(const std::string& s, uint16_t* lo, uint16_t* hi) {
  unsigned a, b;
  char tail;
  if (sscanf(s.c_str(), "%u-%u%c", &a, &b, &tail) != 2 || a > b || b > 65535) return false;
  *lo = static_cast<uint16_t>(a);
  *hi = static_cast<uint16_t>(b);
  return true;
}

bool ParseRuleLine(const std::string& line, Rules* r, std::string* err) {
  std::istringstream in(line);
  std::string kw;
  in >> kw;
  auto bad = [&](const char* why) { *err = std::string(why) + ": " + line; return false; };
  if (kw == "mode") {
    std::string m;
    in >> m;
    if (m != "enforce" && m != "audit") return bad("mode must be enforce or audit");
    r->audit = m == "audit";
  } else if (kw == "errno") {
    int e = 0;
    if (!(in >> e) || e <= 0 || e > 4095) return bad("bad errno");
    r->denyErrno = e;
  } else if (kw == "connect-all") {
    r->inetConnectAll = true;
  } else if (kw == "bind-all") {
    r->inetBindAll = true;
  } else if (kw == "bind-ephemeral-udp") {
    r->bindEphemeralUdp = true;
  } else if (kw == "dns") {
    r->dns = true;
  } else if (kw == "unix-connect-all") {
    r->unixConnectAll = true;
  } else if (kw == "unix-bind-all") {
    r->unixBindAll = true;
  } else if (kw == "abstract-all") {
    r->abstractAll = true;
  } else if (kw == "unix-connect" || kw == "unix-bind") {
    std::string p;
    std::getline(in, p);
    if (p.size() < 2 || p[0] != ' ' || p[1] != '/') return bad("unix rules need one absolute path");
    (kw == "unix-connect" ? r->unixConnect : r->unixBind).push_back({p.substr(1)});
  } else if (kw == "ip" || kw == "host" || kw == "wild") {
    std::string ops, protos, what, ports, extra;
    if (!(in >> ops >> protos >> what >> ports) || (in >> extra)) return bad("expected 4 fields");
    uint8_t o, p;
    uint16_t lo, hi;
    if (!ParseOps(ops, &o)) return bad("bad ops");
    if (!ParseProtos(protos, &p)) return bad("bad protocol");
    if (!ParsePorts(ports, &lo, &hi)) return bad("bad port range");
    if (kw == "ip") {
      IpRule ip;
      ip.ops = o;
      ip.protos = p;
      ip.lo = lo;
      ip.hi = hi;
      size_t slash = what.find('/');
      if (slash == std::string::npos) return bad("ip rules are addr/prefix");
      std::string addr = what.substr(0, slash);
      int plen = atoi(what.c_str() + slash + 1);
      if (!ParseIp(addr.c_str(), &ip.net)) return bad("bad address");
      if (plen < 0 || plen > (ip.net.family == 4 ? 32 : 128)) return bad("bad prefix length");
      ip.prefix = plen;
      r->ips.push_back(ip);
    } else {
      if (what.empty() || what.size() > 253) return bad("bad name");
      HostRule h;
      h.ops = o;
      h.protos = p;
      h.lo = lo;
      h.hi = hi;
      h.name = what;
      h.wildcard = kw == "wild";
      r->hosts.push_back(h);
    }
  } else {
    return bad("unknown rule");
  }
  return true;
}

static bool IpMatches(const IpRule& ip, Op op, Proto proto, const Addr& a, uint16_t port) {
  return (ip.ops & op) && (ip.protos & proto) && port >= ip.lo && port <= ip.hi &&
         InPrefix(a, ip.net, ip.prefix);
}

Decision CheckInet(const Rules& r, Op op, Proto proto, const Addr& a, uint16_t port, std::vector<int>* hosts) {
  if (op == kConnect && r.inetConnectAll) return Decision::kAllow;
  if (op == kBind && r.inetBindAll) return Decision::kAllow;
  if (op == kBind && port == 0 && proto == kUdp && r.bindEphemeralUdp) return Decision::kAllow;
  for (const IpRule& ip : r.ips) {
    if (IpMatches(ip, op, proto, a, port)) return Decision::kAllow;
  }
  if (r.dns && op == kConnect && port == 53) {
    for (const Addr& ns : r.nameservers) {
      if (ns.family == a.family && memcmp(ns.b, a.b, a.family == 4 ? 4 : 16) == 0) return Decision::kAllow;
    }
  }
  // A miss. Names whose rule would cover this op/proto/port might map here now.
  bool any = false;
  for (size_t i = 0; i < r.hosts.size(); i++) {
    const HostRule& h = r.hosts[i];
    if (h.wildcard || !(h.ops & op) || !(h.protos & proto) || port < h.lo || port > h.hi) continue;
    any = true;
    if (hosts) hosts->push_back(static_cast<int>(i));
  }
  if (r.dns && op == kConnect && port == 53) any = true;  // resolv.conf may have changed
  return any ? Decision::kResolve : Decision::kDeny;
}

bool ReadNameservers(std::vector<Addr>* out) {
  FILE* f = fopen("/etc/resolv.conf", "re");
  out->clear();
  if (!f) return false;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    char kw[32], addr[256];
    if (sscanf(line, " %31s %255s", kw, addr) != 2 || strcmp(kw, "nameserver") != 0) continue;
    char* pct = strchr(addr, '%');  // fe80::1%eth0: the zone does not change the address
    if (pct) *pct = 0;
    Addr a;
    if (ParseIp(addr, &a)) {
      // glibc reads 0.0.0.0 / :: as "this host", as connect() does
      static const uint8_t zero[16] = {};
      if (memcmp(a.b, zero, a.family == 4 ? 4 : 16) == 0) {
        if (a.family == 4) { a.b[0] = 127; a.b[3] = 1; } else { a.b[15] = 1; }
      }
      out->push_back(a);
    }
  }
  fclose(f);
  if (out->empty()) {
    // resolv(5): no nameserver line means the local name server
    Addr lo;
    ParseIp("127.0.0.1", &lo);
    out->push_back(lo);
    ParseIp("::1", &lo);
    out->push_back(lo);
  }
  return true;
}

}  // namespace sup
