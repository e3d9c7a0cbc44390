// Cedar `decimal` extension. Grammar: -?[0-9]+\.[0-9]{1,4}, ASCII digits
// only; the integer part may have leading zeros ("00.000" is valid). The
// value must fit in int64 after scaling by 10^4, i.e. lie in
// [-922337203685477.5808, 922337203685477.5807].
#include "cedar/ext/decimal.h"

#include <cstdint>
#include <limits>

namespace ztgate::cedar {
namespace {

constexpr int kFractionDigits = 4;
constexpr uint64_t kScale = 10000;

Error decimal_error(std::string_view text, std::string_view why) {
  return make_error("extension_error",
                    "invalid decimal `" + std::string(text) + "`: " + std::string(why));
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

Result<Decimal> parse_decimal(std::string_view text) {
  std::string_view body = text;
  // The sign comes from the text, not the integer part, so "-0.5" is negative.
  const bool negative = !body.empty() && body.front() == '-';
  if (negative) body.remove_prefix(1);

  size_t dot = body.find('.');
  if (dot == std::string_view::npos)
    return decimal_error(text, "expected digits, a `.` and 1 to 4 fractional digits");
  std::string_view whole = body.substr(0, dot);
  std::string_view frac = body.substr(dot + 1);
  if (!all_digits(whole) || !all_digits(frac))
    return decimal_error(text, "expected digits, a `.` and 1 to 4 fractional digits");
  if (frac.size() > kFractionDigits)
    return decimal_error(text, "at most 4 digits are allowed after the `.`");

  // Magnitude in 1/10000ths; the most negative value has one more unit than
  // the most positive, so the bound depends on the sign.
  const uint64_t limit =
      negative ? uint64_t{1} << 63 : uint64_t{std::numeric_limits<int64_t>::max()};
  uint64_t magnitude = 0;
  for (char c : whole) {
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (__builtin_mul_overflow(magnitude, 10, &magnitude) ||
        __builtin_add_overflow(magnitude, digit, &magnitude))
      return make_error("extension_error", "decimal `" + std::string(text) + "` overflows");
  }
  uint64_t fraction = 0;
  for (char c : frac) fraction = fraction * 10 + static_cast<uint64_t>(c - '0');
  for (size_t i = frac.size(); i < kFractionDigits; ++i) fraction *= 10;

  if (__builtin_mul_overflow(magnitude, kScale, &magnitude) ||
      __builtin_add_overflow(magnitude, fraction, &magnitude) || magnitude > limit)
    return make_error("extension_error", "decimal `" + std::string(text) + "` overflows");

  // Two's complement: negating the magnitude 2^63 yields INT64_MIN.
  int64_t scaled = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return Decimal{scaled};
}

// Always four fractional digits ("1.5000", "-0.0001"), as the Lean
// specification prints; the result parses back to the same value.
std::string to_string(const Decimal& d) {
  uint64_t magnitude =
      d.scaled < 0 ? 0 - static_cast<uint64_t>(d.scaled) : static_cast<uint64_t>(d.scaled);
  std::string frac = std::to_string(magnitude % kScale);
  frac.insert(0, kFractionDigits - frac.size(), '0');
  return (d.scaled < 0 ? "-" : "") + std::to_string(magnitude / kScale) + "." + frac;
}

}  // namespace ztgate::cedar
