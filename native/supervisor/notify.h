// One trapped call, copied out of the target, and the code that decides and performs it.
#pragma once
#include <stdint.h>

#include <string>
#include <vector>

#include "kernel_notif.h"
#include "sup.h"

namespace sup {

enum class Kind { kConnect, kBind, kSendto, kSendmsg, kSendmmsg };

// A destination as the kernel would read it for this socket (handle.cc: ParseDest).
struct Dest {
  enum { kNone, kInet, kUnix, kAbstract, kOther } kind = kNone;
  Addr addr;
  uint16_t port = 0;
  std::string path;
};

struct Msg {
  std::vector<uint8_t> name;     // the sockaddr as copied (may be rewritten for AF_UNIX)
  std::vector<uint8_t> data;     // payload, iovecs flattened
  std::vector<uint8_t> control;  // ancillary data, SCM_RIGHTS fds translated
  std::vector<int> fds;          // our duplicates of passed fds (closed after the call)
  bool hasName = false;
  int dirfd = -1;                // AF_UNIX bind: the O_PATH parent the name goes through
};

struct Call {
  SeccompNotif n{};
  Kind kind = Kind::kConnect;
  int sock = -1;
  int domain = 0, type = 0;
  int flags = 0;                  // send flags (MSG_ZEROCOPY already stripped)
  uint64_t mmsgvec = 0;           // sendmmsg: the target's array, for msg_len write-back
  int memfd = -1;                 // /proc/<tid>/mem, opened before ID_VALID
  std::vector<Msg> msgs;
  bool blocking = false;
  bool selftest = false;          // the self-test's denied probe: answered, never reported
  int upto = -1;                  // sendmmsg: messages 0..upto-1 allowed (-1: all)
  uint64_t deadlineMs = 0;        // deferred: decide by then
  // What a report names: the destination last decided on (formatted only when a report is
  // written, never on the allow path).
  Dest dest;
  const char* op = "connect";
  const char* proto = "";
  std::vector<int> wantHosts;
};

const char* SyscallName(Kind k);

}  // namespace sup
