// Cedar extension types `datetime` (milliseconds since the Unix epoch, UTC)
// and `duration` (signed milliseconds), with their functions.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "cedar/result.h"

namespace ztgate::cedar {

struct Datetime {
  int64_t ms = 0;
  friend auto operator<=>(const Datetime&, const Datetime&) = default;
  friend bool operator==(const Datetime&, const Datetime&) = default;
};

struct Duration {
  int64_t ms = 0;
  friend auto operator<=>(const Duration&, const Duration&) = default;
  friend bool operator==(const Duration&, const Duration&) = default;
};

// "2024-10-15", "2024-10-15T11:35:00Z", "2024-10-15T11:35:00.000Z",
// "2024-10-15T11:35:00+0100", "2024-10-15T11:35:00.000-0130".
Result<Datetime> parse_datetime(std::string_view text);
// "1d2h3m4s5ms", "-2h", "0ms": units in descending order, each at most once.
Result<Duration> parse_duration(std::string_view text);
std::string to_string(const Datetime& d);
std::string to_string(const Duration& d);

Result<Datetime> datetime_offset(Datetime dt, Duration by);      // overflow is an error
Result<Duration> datetime_duration_since(Datetime dt, Datetime other);
Result<Datetime> datetime_to_date(Datetime dt);                  // floor to UTC midnight
Duration datetime_to_time(Datetime dt);                          // ms since UTC midnight, >= 0
int64_t duration_to_days(Duration d);
int64_t duration_to_hours(Duration d);
int64_t duration_to_minutes(Duration d);
int64_t duration_to_seconds(Duration d);
int64_t duration_to_milliseconds(Duration d);

}  // namespace ztgate::cedar
