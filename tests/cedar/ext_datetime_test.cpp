// The `datetime` and `duration` extensions (RFC 80), pinned to the Rust
// reference (cedar-policy-core/src/extensions/datetime.rs).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "cedar/ext/datetime.h"
#include "cedar/ext/extensions.h"

namespace ztgate::cedar {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kDay = 86'400'000;

int64_t dt(std::string_view text) {
  auto r = parse_datetime(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? r->ms : 0;
}

int64_t dur(std::string_view text) {
  auto r = parse_duration(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? r->ms : 0;
}

bool datetime_accepted(std::string_view text) { return parse_datetime(text).ok(); }
bool duration_accepted(std::string_view text) { return parse_duration(text).ok(); }

TEST(DatetimeParse, AcceptsTheFiveFormsNormalizedToUtcMilliseconds) {
  EXPECT_EQ(dt("2024-10-28"), 1730073600000);
  EXPECT_EQ(dt("2024-10-28T01:22:33Z"), 1730078553000);
  EXPECT_EQ(dt("2024-10-28T01:22:33.456Z"), 1730078553456);
  EXPECT_EQ(dt("2024-10-28T10:12:13-0700"), 1730135533000);
  EXPECT_EQ(dt("2024-10-28T10:12:13.456-0700"), 1730135533456);
  EXPECT_EQ(dt("1970-01-01"), 0);
}

TEST(DatetimeParse, OffsetIsSubtractedFromLocalTime) {
  EXPECT_EQ(dt("2024-10-15T11:38:02.101+1134"), dt("2024-10-15T00:04:02.101Z"));
  EXPECT_EQ(dt("2024-10-15T11:38:02-1134"), dt("2024-10-15T23:12:02Z"));
  EXPECT_EQ(dt("2024-10-15T23:59:00+2359"), dt("2024-10-15T00:00:00Z"));
  EXPECT_EQ(dt("2024-10-15T00:00:00-2359"), dt("2024-10-15T23:59:00Z"));
  EXPECT_EQ(dt("2024-10-15T00:00:00+0000"), dt("2024-10-15T00:00:00-0000"));
}

TEST(DatetimeParse, CoversYearsZeroThroughNineThousandNineHundredNinetyNine) {
  EXPECT_EQ(dt("1900-01-01"), -2208988800000);
  EXPECT_EQ(dt("0000-01-01"), -62167219200000);
  EXPECT_EQ(dt("9999-12-31T23:59:59.999Z"), 253402300799999);
  EXPECT_FALSE(datetime_accepted("10000-01-01"));
  EXPECT_FALSE(datetime_accepted("-0001-01-01"));
  EXPECT_FALSE(datetime_accepted("+2024-01-01"));
  EXPECT_FALSE(datetime_accepted("24-01-01"));
}

TEST(DatetimeParse, RejectsImpossibleCalendarDates) {
  for (const char* s : {"2024-00-01", "2024-13-01", "2024-01-00", "2024-01-32", "2024-04-31",
                        "2024-02-30", "2025-02-29", "1900-02-29", "2024-01-99"})
    EXPECT_FALSE(datetime_accepted(s)) << s;
  EXPECT_TRUE(datetime_accepted("2024-02-29"));
  EXPECT_TRUE(datetime_accepted("2000-02-29"));
  EXPECT_TRUE(datetime_accepted("0000-02-29"));
}

TEST(DatetimeParse, RejectsOutOfRangeTimesIncludingLeapSeconds) {
  EXPECT_FALSE(datetime_accepted("2024-01-01T24:00:00Z"));
  EXPECT_FALSE(datetime_accepted("2024-01-01T31:02:03Z"));
  EXPECT_FALSE(datetime_accepted("2024-01-01T01:60:03Z"));
  EXPECT_FALSE(datetime_accepted("2016-12-31T23:59:60Z"));
  EXPECT_TRUE(datetime_accepted("2016-12-31T23:59:59.999Z"));
}

TEST(DatetimeParse, RejectsOffsetsOfADayOrMoreOrSixtyMinutes) {
  EXPECT_FALSE(datetime_accepted("2016-12-31T00:00:00+2400"));
  EXPECT_FALSE(datetime_accepted("2016-12-31T00:00:00+1160"));
  EXPECT_FALSE(datetime_accepted("2016-12-31T00:00:00-1199"));
}

TEST(DatetimeParse, RejectsOtherShapes) {
  for (const char* s : {"",
                        "a",
                        "-",
                        "-1",
                        "11-12-13",
                        "1111-1x-20",
                        "2024-10-15Z",
                        "2024-10-15T",
                        "2024-01-01Ta",
                        "2024-01-01T01:",
                        "2024-01-01T01:02",
                        "2024-01-01T01:02:0b",
                        "2024-01-01T01::02:03",
                        "2024-01-01T00:00:00",
                        "2024-01-01T00:00:00T",
                        "2024-01-01T00:00:00ZZ",
                        "2024-01-01T00:00:00x001Z",
                        "2024-01-01T00:00:00.001ZZ",
                        "2024-01-01T00:00:00.0001Z",
                        "2024-01-01T00:00:00.01Z",
                        "2024-01-01T00:00:00.Z",
                        "2024-01-01T00:00:00.001+00000",
                        "2024-01-01T00:00:00.001-000",
                        "2024-01-01T00:00:00+00:00",
                        "2024-01-01T00:00:00z",
                        "2024-01-01t00:00:00Z",
                        "2024-01-01 00:00:00Z",
                        " 2024-01-01",
                        "2024-01-01 ",
                        "2024/01/01",
                        "2024-1-01",
                        "2024-01-01T0:00:00Z",
                        "2024-01-01T00:00:00.001\xe2\x9e\x95"
                        "0000"})
    EXPECT_FALSE(datetime_accepted(s)) << s;
}

TEST(DatetimePrint, PrintsUtcWithMillisecondsAndRoundTrips) {
  EXPECT_EQ(to_string(Datetime{0}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(to_string(Datetime{dt("2024-10-28T10:12:13.456-0700")}), "2024-10-28T17:12:13.456Z");
  EXPECT_EQ(to_string(Datetime{-1}), "1969-12-31T23:59:59.999Z");
  for (const char* s : {"0000-01-01", "1900-03-01T12:00:00Z", "9999-12-31T23:59:59.999Z"})
    EXPECT_EQ(dt(to_string(Datetime{dt(s)})), dt(s)) << s;
}

TEST(DurationParse, SumsUnitsInMilliseconds) {
  EXPECT_EQ(dur("1h"), 3'600'000);
  EXPECT_EQ(dur("-10h"), -36'000'000);
  EXPECT_EQ(dur("5d3ms"), 5 * kDay + 3);
  EXPECT_EQ(dur("-3h5m"), -(3 * 3'600'000 + 5 * 60'000));
  EXPECT_EQ(dur("1d2h3m4s50ms"), 93'784'050);
  EXPECT_EQ(dur("-1d2h3m4s50ms"), -93'784'050);
  EXPECT_EQ(dur("0ms"), 0);
  EXPECT_EQ(dur("-0d"), 0);
  EXPECT_EQ(dur("007m"), 420'000);
}

TEST(DurationParse, TellsMinutesFromMilliseconds) {
  EXPECT_EQ(dur("5ms"), 5);
  EXPECT_EQ(dur("5m"), 300'000);
  EXPECT_EQ(dur("1m5ms"), 60'005);
  EXPECT_EQ(dur("1m1s"), 61'000);
}

TEST(DurationParse, RejectsEmptyMissingQuantitiesAndUnknownUnits) {
  for (const char* s : {"",
                        "-",
                        "a",
                        "-1",
                        "1",
                        "d",
                        "-d",
                        "-h",
                        "-ms",
                        "11dd",
                        "00000mm",
                        "-1hh",
                        "1mss",
                        "1y",
                        "1w",
                        "1D",
                        "1H",
                        "1 h",
                        " 1h",
                        "1h ",
                        "+1h",
                        "--1h",
                        "1.5h",
                        "-h2d",
                        "\xe2\x9e\x96"
                        "1ms"})
    EXPECT_FALSE(duration_accepted(s)) << s;
}

TEST(DurationParse, RejectsUnitsOutOfOrderOrRepeated) {
  for (const char* s : {"1ms1s", "1ms1m", "1ms1h", "0ms1d", "1s1m", "1s1h", "0s0d", "0m0h", "0m0d",
                        "1h1d", "1ms1m1d", "1d1d", "1h1h", "2m3m", "1s1s", "1ms1ms"})
    EXPECT_FALSE(duration_accepted(s)) << s;
}

TEST(DurationParse, AcceptsExactlyTheInt64RangeOfMilliseconds) {
  EXPECT_EQ(dur("9223372036854775807ms"), kMax);
  EXPECT_EQ(dur("-9223372036854775808ms"), kMin);
  EXPECT_EQ(dur("106751991167d7h12m55s807ms"), kMax);
  EXPECT_EQ(dur("-106751991167d7h12m55s808ms"), kMin);
  for (const char* s : {"9223372036854775808ms", "-9223372036854775809ms",
                        "106751991167d7h12m55s808ms", "-106751991167d7h12m55s809ms",
                        "106751991168d", "99999999999999999999ms", "18446744073709551616s"}) {
    auto r = parse_duration(s);
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_EQ(r.error().code, "extension_error");
  }
}

TEST(DurationPrint, PrintsSignedMillisecondsThatParseBack) {
  EXPECT_EQ(to_string(Duration{dur("1h")}), "3600000ms");
  EXPECT_EQ(to_string(Duration{dur("-1d")}), "-86400000ms");
  EXPECT_EQ(dur(to_string(Duration{kMin})), kMin);
}

TEST(DurationConvert, TruncatesTowardZero) {
  for (int64_t sign : {1, -1}) {
    Duration d{sign * dur("10d23h59m58s999ms")};
    EXPECT_EQ(duration_to_days(d), sign * 10);
    EXPECT_EQ(duration_to_hours(d), sign * (10 * 24 + 23));
    EXPECT_EQ(duration_to_minutes(d), sign * ((10 * 24 + 23) * 60 + 59));
    EXPECT_EQ(duration_to_seconds(d), sign * (((10 * 24 + 23) * 60 + 59) * 60 + 58));
    EXPECT_EQ(duration_to_milliseconds(d),
              sign * ((((10 * 24 + 23) * 60 + 59) * 60 + 58) * 1000 + 999));
  }
  EXPECT_EQ(duration_to_days(Duration{-1}), 0);
  EXPECT_EQ(duration_to_seconds(Duration{kMin}), kMin / 1000);
}

TEST(DatetimeOffset, AddsTheDurationAndFailsOnOverflow) {
  EXPECT_EQ(datetime_offset(Datetime{0}, Duration{dur("1d")})->ms, dt("1970-01-02"));
  EXPECT_EQ(datetime_offset(Datetime{0}, Duration{dur("-1d")})->ms, dt("1969-12-31"));
  EXPECT_EQ(datetime_offset(Datetime{dt("2024-10-28T10:12:13.456-0700")}, Duration{dur("-7h")})->ms,
            dt("2024-10-28T10:12:13.456Z"));
  EXPECT_EQ(datetime_offset(Datetime{kMax}, Duration{-1})->ms, kMax - 1);
  EXPECT_EQ(datetime_offset(Datetime{kMax}, Duration{1}).error().code, "extension_error");
  EXPECT_EQ(datetime_offset(Datetime{kMin}, Duration{-1}).error().code, "extension_error");
}

TEST(DatetimeDurationSince, SubtractsAndFailsOnOverflow) {
  EXPECT_EQ(datetime_duration_since(Datetime{dt("2024-10-24")}, Datetime{0})->ms, dur("20020d"));
  EXPECT_EQ(datetime_duration_since(Datetime{dt("2024-10-23")}, Datetime{dt("2024-10-24")})->ms,
            dur("-1d"));
  EXPECT_EQ(datetime_duration_since(Datetime{dt("2024-10-28T10:12:13.456+0700")},
                                    Datetime{dt("2024-10-28T10:12:13.456Z")})
                ->ms,
            dur("-7h"));
  EXPECT_FALSE(datetime_duration_since(Datetime{dt("2024-10-24")}, Datetime{kMin}).ok());
  EXPECT_FALSE(datetime_duration_since(Datetime{kMin}, Datetime{1}).ok());
}

TEST(DatetimeToDate, FloorsToUtcMidnightIncludingBeforeTheEpoch) {
  const int64_t almost_a_day = dur("23h59m59s999ms");
  for (const char* s : {"2024-10-24", "2024-10-23", "1970-01-01", "1900-01-01"}) {
    int64_t day = dt(s);
    EXPECT_EQ(datetime_to_date(Datetime{day})->ms, day) << s;
    EXPECT_EQ(datetime_to_date(Datetime{day + almost_a_day})->ms, day) << s;
    EXPECT_EQ(datetime_to_date(Datetime{day - almost_a_day})->ms, day - kDay) << s;
  }
  EXPECT_EQ(datetime_to_date(Datetime{-1})->ms, -kDay);
  EXPECT_EQ(datetime_to_date(Datetime{dt("2024-10-28T10:12:13.456-0700")})->ms, dt("2024-10-28"));
}

TEST(DatetimeToDate, FailsWhenMidnightPrecedesTheRepresentableRange) {
  auto r = datetime_to_date(Datetime{kMin});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "extension_error");
  EXPECT_TRUE(datetime_to_date(Datetime{kMax}).ok());
}

TEST(DatetimeToTime, IsTheNonNegativeTimeSinceUtcMidnight) {
  const int64_t almost_a_day = dur("23h59m59s999ms");
  for (const char* s : {"2024-10-24", "1970-01-01", "1900-01-01"}) {
    int64_t day = dt(s);
    EXPECT_EQ(datetime_to_time(Datetime{day}).ms, 0) << s;
    EXPECT_EQ(datetime_to_time(Datetime{day + almost_a_day}).ms, almost_a_day) << s;
    EXPECT_EQ(datetime_to_time(Datetime{day - almost_a_day}).ms, 1) << s;
  }
  EXPECT_EQ(datetime_to_time(Datetime{dt("2024-10-28T10:12:13.456+0700")}).ms,
            dur("3h12m13s456ms"));
  EXPECT_EQ(datetime_to_time(Datetime{dt("2024-10-28T10:12:13.456-0700")}).ms,
            dur("17h12m13s456ms"));
  EXPECT_GE(datetime_to_time(Datetime{kMin}).ms, 0);
}

TEST(DatetimeDispatch, ConstructorsAndMethodsProduceTheRightKinds) {
  std::vector<Value> date{Value("2024-10-28")};
  Value day = call_extension_function("datetime", date)->value();
  ASSERT_EQ(day.kind(), ValueKind::kDatetime);
  std::vector<Value> hour_text{Value("1h")};
  Value hour = call_extension_function("duration", hour_text)->value();
  ASSERT_EQ(hour.kind(), ValueKind::kDuration);

  std::vector<Value> by_hour{hour};
  EXPECT_EQ(call_extension_method("offset", day, by_hour)->value().as_datetime().ms,
            dt("2024-10-28T01:00:00Z"));
  std::vector<Value> since{day};
  EXPECT_EQ(call_extension_method("durationSince", day, since)->value().as_duration().ms, 0);
  EXPECT_EQ(call_extension_method("toDate", day, {})->value().as_datetime(), day.as_datetime());
  EXPECT_EQ(call_extension_method("toTime", day, {})->value().as_duration().ms, 0);
  EXPECT_EQ(call_extension_method("toHours", hour, {})->value().as_long(), 1);
  EXPECT_EQ(call_extension_method("toMinutes", hour, {})->value().as_long(), 60);
  EXPECT_EQ(call_extension_method("toSeconds", hour, {})->value().as_long(), 3600);
  EXPECT_EQ(call_extension_method("toMilliseconds", hour, {})->value().as_long(), 3'600'000);
  EXPECT_EQ(call_extension_method("toDays", hour, {})->value().as_long(), 0);
}

TEST(DatetimeDispatch, MismatchedTypesAndAritiesAreTypeErrors) {
  Value day(Datetime{0});
  Value hour(Duration{3'600'000});
  std::vector<Value> hour_string{Value("1h")};
  auto r = call_extension_method("offset", day, hour_string);
  EXPECT_EQ(r->error().code, "type_error");
  EXPECT_NE(r->error().message.find("`duration` constructor"), std::string::npos);
  std::vector<Value> a_duration{hour};
  EXPECT_EQ(call_extension_method("durationSince", day, a_duration)->error().code, "type_error");
  EXPECT_EQ(call_extension_method("toDays", day, {})->error().code, "type_error");
  EXPECT_EQ(call_extension_method("toDate", hour, {})->error().code, "type_error");
  std::vector<Value> one{Value(1)};
  EXPECT_EQ(call_extension_method("toDate", day, one)->error().code, "type_error");
  EXPECT_EQ(call_extension_method("toMilliseconds", hour, one)->error().code, "type_error");
}

TEST(DatetimeDispatch, OverflowInMethodsIsAnExtensionError) {
  std::vector<Value> one_ms{Value(Duration{1})};
  EXPECT_EQ(call_extension_method("offset", Value(Datetime{kMax}), one_ms)->error().code,
            "extension_error");
  std::vector<Value> latest{Value(Datetime{kMax})};
  EXPECT_EQ(call_extension_method("durationSince", Value(Datetime{kMin}), latest)->error().code,
            "extension_error");
  EXPECT_EQ(call_extension_method("toDate", Value(Datetime{kMin}), {})->error().code,
            "extension_error");
}

TEST(DatetimeDispatch, MakeExtensionValueParsesDatetimeAndDuration) {
  EXPECT_EQ(make_extension_value("datetime", "1970-01-02")->as_datetime().ms, kDay);
  EXPECT_EQ(make_extension_value("duration", "-1d")->as_duration().ms, -kDay);
  EXPECT_EQ(make_extension_value("datetime", "1970-01-32").error().code, "extension_error");
  EXPECT_EQ(make_extension_value("duration", "1d1d").error().code, "extension_error");
}

}  // namespace
}  // namespace ztgate::cedar
