#include "core/lmdb_guard.h"

#include <signal.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace twinline::lmdb {
namespace {

// LMDB reads at most a node offset and a key size (16 bits each) beyond a
// page it found in the map.
constexpr size_t kReachPastMap = size_t{2} << 16;

// What the signal handler or the assertion callback saw, for NoteCaught.
struct Fault {
  int signal = 0;  // 0: an LMDB assertion
  const void* address = nullptr;
  char assertion[320] = {};
};

thread_local internal::Frame* t_frame = nullptr;
thread_local Fault t_fault;
thread_local std::string t_last;

struct sigaction g_previous_segv, g_previous_bus;

// A fault inside a guarded call is LMDB's reading of damaged pages: only
// LMDB runs there (and the C library it calls: a key compared with memcmp
// over a damaged size faults in libc). A SIGSEGV or SIGBUS another process
// or thread sent (kill, tgkill: si_code <= 0) is not.
bool CausedByDamage(const siginfo_t& info) { return info.si_code > 0; }

void PassOn(int sig, siginfo_t* info, void* context) {
  const struct sigaction& previous = sig == SIGBUS ? g_previous_bus : g_previous_segv;
  if ((previous.sa_flags & SA_SIGINFO) != 0 && previous.sa_sigaction != nullptr) {
    previous.sa_sigaction(sig, info, context);
    return;
  }
  if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN &&
      previous.sa_handler != nullptr) {
    previous.sa_handler(sig);
    return;
  }
  // The default action: returning re-runs the faulting access, which now
  // ends the process as it would have without this module.
  signal(sig, SIG_DFL);
}

void OnFault(int sig, siginfo_t* info, void* context) {
  internal::Frame* frame = t_frame;
  if (frame != nullptr && info != nullptr && CausedByDamage(*info)) {
    t_fault.signal = sig;
    t_fault.address = info->si_addr;
    siglongjmp(frame->jump, 1);
  }
  PassOn(sig, info, context);
}

void OnAssert(MDB_env* /*env*/, const char* message) {
  internal::Frame* frame = t_frame;
  if (frame == nullptr) return;  // not in a guarded call: LMDB aborts, as always
  t_fault.signal = 0;
  t_fault.address = nullptr;
  std::snprintf(t_fault.assertion, sizeof t_fault.assertion, "%s", message);
  siglongjmp(frame->jump, 1);
}

void Install() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_sigaction = OnFault;
  // SA_NODEFER: the jump out of the handler leaves no signal blocked, so
  // the guard need not save and restore the signal mask (a system call).
  action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  sigaction(SIGSEGV, &action, &g_previous_segv);
  sigaction(SIGBUS, &action, &g_previous_bus);
}

}  // namespace

namespace internal {

Frame*& CurrentFrame() { return t_frame; }

void NoteCaught(const Frame& frame) {
  char text[512];
  if (t_fault.signal != 0) {
    const uintptr_t offset = static_cast<uintptr_t>(static_cast<const char*>(t_fault.address) -
                                                    frame.range.base);
    const char* a = static_cast<const char*>(t_fault.address);
    if (frame.range.base != nullptr && a >= frame.range.base &&
        a < frame.range.base + frame.range.size + kReachPastMap) {
      std::snprintf(text, sizeof text,
                    "LMDB read beyond the %s (%s at byte %" PRIuPTR
                    " of the map): a page holds an impossible offset or size",
                    offset < frame.range.size ? "end of the data file" : "map",
                    t_fault.signal == SIGBUS ? "SIGBUS" : "SIGSEGV", offset);
    } else {
      std::snprintf(text, sizeof text,
                    "LMDB followed a damaged page to address %p (%s): a node holds impossible "
                    "flags, sizes or page numbers",
                    t_fault.address, t_fault.signal == SIGBUS ? "SIGBUS" : "SIGSEGV");
    }
  } else {
    std::snprintf(text, sizeof text, "LMDB stopped on a page that breaks its rules (%s)",
                  t_fault.assertion);
  }
  t_last = text;
}

}  // namespace internal

void Watch(MDB_env* env) {
  static std::once_flag installed;
  std::call_once(installed, Install);
  mdb_env_set_assert(env, OnAssert);
}

std::string LastFault() { return t_last; }

}  // namespace twinline::lmdb
