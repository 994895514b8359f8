#include "core/clock.h"

#include <chrono>

namespace kiln {

int64_t SystemClock::NowMillis() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

const SystemClock& SystemClock::Get() {
  static SystemClock clock;
  return clock;
}

}  // namespace kiln
