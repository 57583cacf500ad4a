// The pieces main.cc's two modes share: the rule table handshake, a supervision session
// (listener + self-test sockets + resolver + handler) and its poll loop.
#pragma once
#include <stddef.h>

#include <functional>
#include <string>
#include <vector>

#include "sup.h"

namespace sup {

struct Session {
  int nfd = -1;                 // the seccomp listener (our copy)
  int ctl = 3;                  // the JS side: rule table in, reports out
  int sa = -1, sd = -1;         // self-test sockets: listening (allowed) and bound-only (denied)
  int allowPort = 0, denyPort = 0;
  Rules* rules = nullptr;
};

// One more fd for the loop to watch (launch: the child's status pipe and its pidfd).
// A handler may set `fd` to -1 to stop watching it.
struct Extra {
  int fd;
  std::function<void(short revents)> on;
};

[[noreturn]] void Die(const char* what);
void Hygiene(int keepUpTo);
bool ReadLine(int fd, std::string* out, size_t max = 4096);
void Reply(int ctl, const std::string& s);
int SelftestSocket(bool listening, int* port);
bool ReadRuleTable(int ctl, Rules* rules, int* code);
// Takes the listener in s->nfd; creates the self-test sockets unless s->sa is already open.
bool BeginSession(Session* s, std::string* err);
void EndSelftest(Session* s);
// Until no filtered task is left (POLLHUP on the listener).
int Serve(Session* s, std::vector<Extra>* extra);

int Launch();  // launch.cc

}  // namespace sup
