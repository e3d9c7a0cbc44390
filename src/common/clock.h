// Wall-clock seconds since the epoch: what token lifetimes, assertions and
// audit timestamps are compared against.
#pragma once

#include <chrono>
#include <cstdint>

namespace ztgate {

inline int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace ztgate
