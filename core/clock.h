// Clock: where the log gets recorded (transaction) time. Behind an interface
// so tests can fix or step time; the log borrows the clock it is given.
#ifndef TWINLINE_CORE_CLOCK_H_
#define TWINLINE_CORE_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace twinline {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch, UTC.
  virtual int64_t NowMicros() const = 0;
};

class SystemClock : public Clock {
 public:
  int64_t NowMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that returns what it is told; for tests.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t micros) : now_(micros) {}
  int64_t NowMicros() const override { return now_; }
  void Set(int64_t micros) { now_ = micros; }
  void Advance(int64_t micros) { now_ += micros; }

 private:
  int64_t now_;
};

}  // namespace twinline

#endif  // TWINLINE_CORE_CLOCK_H_
