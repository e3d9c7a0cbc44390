// Cedar `datetime` and `duration` extensions (RFC 80), following the Rust
// reference: proleptic Gregorian calendar, no leap seconds, int64
// milliseconds, every overflow an error.
#include "cedar/ext/datetime.h"

#include <cstdio>
#include <limits>
#include <optional>

namespace ztgate::cedar {
namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;

Error datetime_error(std::string_view text, std::string_view why) {
  return make_error("extension_error",
                    "invalid datetime `" + std::string(text) + "`: " + std::string(why));
}

Error duration_error(std::string_view text, std::string_view why) {
  return make_error("extension_error",
                    "invalid duration `" + std::string(text) + "`: " + std::string(why));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Exactly `n` ASCII digits at `pos`.
std::optional<int> fixed_digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

bool is_leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct CivilDate {
  int64_t year;
  int month;
  int day;
};

CivilDate civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {era * 400 + yoe + (m <= 2 ? 1 : 0), m, d};
}

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);
}

// Duration units in the only order they may appear.
enum class Unit { kDay, kHour, kMinute, kSecond, kMillisecond };

int64_t unit_ms(Unit u) {
  switch (u) {
    case Unit::kDay:
      return kMsPerDay;
    case Unit::kHour:
      return kMsPerHour;
    case Unit::kMinute:
      return kMsPerMinute;
    case Unit::kSecond:
      return kMsPerSecond;
    case Unit::kMillisecond:
      return 1;
  }
  return 1;
}

// Reads the unit at `pos`, advancing past it. "m" followed by "s" is
// milliseconds: a lone "s" unit always needs digits before it.
std::optional<Unit> read_unit(std::string_view s, size_t& pos) {
  if (pos >= s.size()) return std::nullopt;
  switch (s[pos++]) {
    case 'd':
      return Unit::kDay;
    case 'h':
      return Unit::kHour;
    case 's':
      return Unit::kSecond;
    case 'm':
      if (pos < s.size() && s[pos] == 's') {
        ++pos;
        return Unit::kMillisecond;
      }
      return Unit::kMinute;
    default:
      return std::nullopt;
  }
}

}  // namespace

// YYYY-MM-DD, optionally followed by Thh:mm:ss, optional .SSS, then Z or
// (+|-)hhmm. The shape is checked before the values: year 0000-9999,
// real calendar dates (leap years included), hh < 24, mm < 60, ss < 60
// (no leap second), offset hh < 24 and mm < 60.
Result<Datetime> parse_datetime(std::string_view text) {
  auto year = fixed_digits(text, 0, 4);
  auto month = fixed_digits(text, 5, 2);
  auto day = fixed_digits(text, 8, 2);
  if (!year || !month || !day || text[4] != '-' || text[7] != '-')
    return datetime_error(text, "expected a date YYYY-MM-DD");

  int hour = 0, minute = 0, second = 0, millis = 0;
  int64_t offset_ms = 0;
  if (text.size() > 10) {
    auto h = fixed_digits(text, 11, 2);
    auto mi = fixed_digits(text, 14, 2);
    auto se = fixed_digits(text, 17, 2);
    if (text[10] != 'T' || !h || !mi || !se || text[13] != ':' || text[16] != ':')
      return datetime_error(text, "expected Thh:mm:ss after the date");
    hour = *h, minute = *mi, second = *se;

    std::string_view rest = text.substr(19);
    if (!rest.empty() && rest[0] == '.') {
      auto ms = fixed_digits(rest, 1, 3);
      if (!ms)
        return datetime_error(text, "expected Z, .SSSZ, (+|-)hhmm or .SSS(+|-)hhmm at the end");
      millis = *ms;
      rest.remove_prefix(4);
    }
    if (rest == "Z") {
      offset_ms = 0;
    } else if (rest.size() == 5 && (rest[0] == '+' || rest[0] == '-') && fixed_digits(rest, 1, 4)) {
      int oh = *fixed_digits(rest, 1, 2);
      int om = *fixed_digits(rest, 3, 2);
      if (oh >= 24 || om >= 60)
        return datetime_error(text, "offset hours must be below 24 and minutes below 60");
      offset_ms = (oh * kMsPerHour + om * kMsPerMinute) * (rest[0] == '+' ? 1 : -1);
    } else {
      return datetime_error(text, "expected Z, .SSSZ, (+|-)hhmm or .SSS(+|-)hhmm at the end");
    }
  }

  if (*month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month))
    return datetime_error(text, "no such calendar date");
  if (hour >= 24 || minute >= 60 || second >= 60)
    return datetime_error(text, "hours must be below 24, minutes and seconds below 60");

  // Years 0000-9999 keep every result far inside int64.
  int64_t ms = days_from_civil(*year, *month, *day) * kMsPerDay + hour * kMsPerHour +
               minute * kMsPerMinute + second * kMsPerSecond + millis;
  return Datetime{ms - offset_ms};
}

// -?, then one or more <digits><unit> with units strictly in the order
// d, h, m, s, ms. Quantities may have leading zeros; the total must fit int64.
Result<Duration> parse_duration(std::string_view text) {
  std::string_view s = text;
  const bool negative = !s.empty() && s.front() == '-';
  if (negative) s.remove_prefix(1);
  if (s.empty()) return duration_error(text, "expected quantity-unit pairs such as 1d2h3m4s5ms");

  // Accumulate the magnitude; -2^63 ms is representable, +2^63 is not.
  const uint64_t limit =
      negative ? uint64_t{1} << 63 : uint64_t{std::numeric_limits<int64_t>::max()};
  uint64_t total = 0;
  std::optional<Unit> previous;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    uint64_t quantity = 0;
    bool overflow = false;
    while (pos < s.size() && is_digit(s[pos])) {
      overflow |= __builtin_mul_overflow(quantity, 10, &quantity);
      overflow |= __builtin_add_overflow(quantity, static_cast<uint64_t>(s[pos] - '0'), &quantity);
      ++pos;
    }
    if (pos == start) return duration_error(text, "expected a quantity before each unit");
    auto unit = read_unit(s, pos);
    if (!unit) return duration_error(text, "units are d, h, m, s and ms");
    if (previous && *unit <= *previous)
      return duration_error(text, "units must appear once each, in the order d, h, m, s, ms");
    previous = unit;

    uint64_t part = 0;
    if (overflow ||
        __builtin_mul_overflow(quantity, static_cast<uint64_t>(unit_ms(*unit)), &part) ||
        __builtin_add_overflow(total, part, &total) || total > limit)
      return duration_error(text, "overflows a signed 64-bit count of milliseconds");
  }
  return Duration{negative ? static_cast<int64_t>(0 - total) : static_cast<int64_t>(total)};
}

// UTC with milliseconds, e.g. "2024-10-15T11:35:00.000Z". Years outside
// 0000-9999 (reachable only through offset) are printed with a sign and
// are not accepted back by parse_datetime.
std::string to_string(const Datetime& d) {
  const int64_t days = floor_div(d.ms, kMsPerDay);
  const int64_t in_day = d.ms - days * kMsPerDay;
  const CivilDate date = civil_from_days(days);
  char buf[64];
  const char* year_format = date.year >= 0 && date.year <= 9999 ? "%04lld" : "%+05lld";
  int n = std::snprintf(buf, sizeof buf, year_format, static_cast<long long>(date.year));
  std::snprintf(
      buf + n, sizeof buf - static_cast<size_t>(n), "-%02d-%02dT%02d:%02d:%02d.%03dZ", date.month,
      date.day, static_cast<int>(in_day / kMsPerHour), static_cast<int>(in_day / kMsPerMinute % 60),
      static_cast<int>(in_day / kMsPerSecond % 60), static_cast<int>(in_day % kMsPerSecond));
  return buf;
}

// The reference's canonical text: a signed count of milliseconds, e.g. "-3600000ms".
std::string to_string(const Duration& d) { return std::to_string(d.ms) + "ms"; }

Result<Datetime> datetime_offset(Datetime dt, Duration by) {
  int64_t out = 0;
  if (__builtin_add_overflow(dt.ms, by.ms, &out))
    return make_error("extension_error",
                      "datetime offset overflows a signed 64-bit count of milliseconds");
  return Datetime{out};
}

Result<Duration> datetime_duration_since(Datetime dt, Datetime other) {
  int64_t out = 0;
  if (__builtin_sub_overflow(dt.ms, other.ms, &out))
    return make_error("extension_error",
                      "durationSince overflows a signed 64-bit count of milliseconds");
  return Duration{out};
}

// Rounds toward negative infinity, so times before 1970 map to the start of
// their own day; for the earliest representable instants that start
// precedes int64's range, which is an error.
Result<Datetime> datetime_to_date(Datetime dt) {
  int64_t out = 0;
  if (__builtin_mul_overflow(floor_div(dt.ms, kMsPerDay), kMsPerDay, &out))
    return make_error("extension_error", "toDate overflows a signed 64-bit count of milliseconds");
  return Datetime{out};
}

Duration datetime_to_time(Datetime dt) {
  int64_t rem = dt.ms % kMsPerDay;
  return Duration{rem < 0 ? rem + kMsPerDay : rem};
}

// Conversions truncate toward zero: -1d23h is -1 day, -47 hours.
int64_t duration_to_days(Duration d) { return d.ms / kMsPerDay; }
int64_t duration_to_hours(Duration d) { return d.ms / kMsPerHour; }
int64_t duration_to_minutes(Duration d) { return d.ms / kMsPerMinute; }
int64_t duration_to_seconds(Duration d) { return d.ms / kMsPerSecond; }
int64_t duration_to_milliseconds(Duration d) { return d.ms; }

}  // namespace ztgate::cedar
