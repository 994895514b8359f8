// Clock: wall time for commit timestamps, behind an interface so tests can fix it.
//
// Thread-safety: SystemClock is stateless and safe from any thread; a
// FakeClock is for single-threaded tests.
#pragma once

#include <cstdint>

namespace kiln {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMillis() const = 0;
};

class SystemClock : public Clock {
 public:
  int64_t NowMillis() const override;
  static const SystemClock& Get();
};

class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t start = 1'700'000'000'000) : now_(start) {}
  int64_t NowMillis() const override { return now_; }
  void Advance(int64_t ms) { now_ += ms; }

 private:
  int64_t now_;
};

}  // namespace kiln
