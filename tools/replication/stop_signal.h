// StopSignal: SIGINT/SIGTERM as a flag, for the verbs that run until told
// to stop (`replicate`, `follow`). While one lives, the two signals are
// blocked in every thread started after it (cnats's threads included) and
// taken by one thread of its own: the first sets stopped(), so the work
// ends cleanly (publishes in flight answered, a batch committed); a second
// ends the process at once with exit code 5 (LMDB commits are atomic:
// nothing is left half-written). Create it before any other thread.
#ifndef TWINLINE_TOOLS_REPLICATION_STOP_SIGNAL_H_
#define TWINLINE_TOOLS_REPLICATION_STOP_SIGNAL_H_

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <thread>

namespace twinline::replication {

class StopSignal {
 public:
  StopSignal() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::thread([this] {
      int signo = 0;
      sigwait(&set_, &signo);
      if (closing_.load()) return;
      stop_.store(true);
      sigwait(&set_, &signo);
      if (closing_.load()) return;
      std::_Exit(5);
    });
  }
  ~StopSignal() {
    closing_.store(true);
    pthread_kill(thread_.native_handle(), SIGTERM);  // wakes its sigwait
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  const std::atomic<bool>& flag() const { return stop_; }

 private:
  sigset_t set_, old_;
  std::atomic<bool> stop_{false}, closing_{false};
  std::thread thread_;
};

}  // namespace twinline::replication

#endif  // TWINLINE_TOOLS_REPLICATION_STOP_SIGNAL_H_
