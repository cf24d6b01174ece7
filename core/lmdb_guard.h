// Guarded LMDB calls: a damaged page makes an LMDB call fail, never the
// process die.
//
// LMDB follows the page numbers and node offsets its pages hold without
// checking most of them. core/db_file_check.h refuses a data file whose
// meta pages or roots are damaged before it is mapped, but damage further
// down (a flipped bit in a leaf or branch page) is seen only when LMDB
// reads it, and LMDB then reads outside its page: past the end of the file
// (SIGBUS), past the end of the map (SIGSEGV), or it stops on one of its own
// assertions (abort()). The libFuzzer target tests/fuzz/db_file_fuzzer.cc
// and tests/reliability/damaged_file_test.cc find all three in a mutated
// data file (docs/RELIABILITY.md).
//
// Guarded(range, call) runs one LMDB call so that each of these returns
// kLmdbFault instead: a SIGSEGV or SIGBUS raised by the kernel while the
// call runs (only LMDB, and the C library functions it calls, run inside a
// guard: the damaged-file sweep found faults in the map, past it, through
// a null sub-cursor pointer that damaged node flags send LMDB to, and in
// libc's memcmp over a damaged key size), or a failed LMDB assertion
// (reported through mdb_env_set_assert, which Watch() sets). LastFault()
// then says what happened. The call is left half done: the caller must not
// use the cursor again, must end the transaction (aborting a write
// transaction), and should treat the environment as damaged (lmdb::Env
// stops taking write transactions after a fault in one). Anything else, a
// fault outside a guarded call or a signal sent by kill(2), goes to the
// handler that was installed before (the default: the process dies, or a
// sanitizer's report), as it would without this module.
//
// Only LMDB's own code runs inside a guard: jumping out of C++ frames would
// skip destructors. Values LMDB hands out are checked by the wrappers
// (lmdb_env.h) to lie inside the file before twinline reads them.
//
// Global state, by necessity: signal dispositions belong to the process.
// The handlers for SIGSEGV and SIGBUS are installed once, at the first
// Watch(), and keep the previous ones to pass other faults on; the guard
// frame is per thread. A guarded call costs one _setjmp (no system call:
// the handlers run with SA_NODEFER, so no signal mask needs restoring).
#ifndef TWINLINE_CORE_LMDB_GUARD_H_
#define TWINLINE_CORE_LMDB_GUARD_H_

#include <lmdb.h>
#include <setjmp.h>

#include <cstddef>
#include <string>

namespace twinline::lmdb {

// What a guarded call returns when LMDB faulted: outside LMDB's own codes.
inline constexpr int kLmdbFault = -30700;

// The bytes of an environment's map, where a fault means damage.
struct MapRange {
  const char* base = nullptr;
  size_t size = 0;
};

// Installs the signal handlers (once per process) and sets `env`'s LMDB
// assertion callback.
void Watch(MDB_env* env);

// "SIGBUS reading byte 0x... of the map (page 43)", "LMDB assertion
// 'IS_LEAF(mp)' failed ...": the last fault caught on this thread.
std::string LastFault();

namespace internal {

struct Frame {
  sigjmp_buf jump;
  MapRange range;
  Frame* outer = nullptr;
};
// This thread's innermost guard, or null.
Frame*& CurrentFrame();
// Records a fault caught by the guard whose jump just returned non-zero.
void NoteCaught(const Frame& frame);

}  // namespace internal

// Runs `call()` (returning an LMDB code) under a guard; see the top of this
// file. `call` must be a call into LMDB and nothing that owns resources.
template <class Call>
int Guarded(const MapRange& range, Call&& call) {
  internal::Frame frame;
  frame.range = range;
  frame.outer = internal::CurrentFrame();
  internal::CurrentFrame() = &frame;
  if (sigsetjmp(frame.jump, 0) != 0) {
    internal::CurrentFrame() = frame.outer;
    internal::NoteCaught(frame);
    return kLmdbFault;
  }
  const int rc = call();
  internal::CurrentFrame() = frame.outer;
  return rc;
}

}  // namespace twinline::lmdb

#endif  // TWINLINE_CORE_LMDB_GUARD_H_
