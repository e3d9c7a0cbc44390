// Cedar extension type `decimal`: fixed point with exactly four fractional
// digits, stored as a signed 64-bit count of 1/10000ths.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "cedar/result.h"

namespace ztgate::cedar {

struct Decimal {
  int64_t scaled = 0;  // value * 10^4

  friend auto operator<=>(const Decimal&, const Decimal&) = default;
  friend bool operator==(const Decimal&, const Decimal&) = default;
};

// "1.5", "-0.0001"; 1 to 4 fractional digits; overflow of int64 is an error.
Result<Decimal> parse_decimal(std::string_view text);
std::string to_string(const Decimal& d);

}  // namespace ztgate::cedar
