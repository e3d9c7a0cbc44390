// The `decimal` extension, pinned to the Rust reference
// (cedar-policy-core/src/extensions/decimal.rs) and the Lean spec (Decimal.lean).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "cedar/ext/decimal.h"
#include "cedar/ext/extensions.h"

namespace ztgate::cedar {
namespace {

int64_t scaled(std::string_view text) {
  auto r = parse_decimal(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? r->scaled : 0;
}

bool accepted(std::string_view text) { return parse_decimal(text).ok(); }

TEST(DecimalParse, ScalesByTenThousand) {
  EXPECT_EQ(scaled("1.0"), 10000);
  EXPECT_EQ(scaled("-1.0"), -10000);
  EXPECT_EQ(scaled("123.456"), 1234560);
  EXPECT_EQ(scaled("0.1234"), 1234);
  EXPECT_EQ(scaled("55.1"), 551000);
}

TEST(DecimalParse, NegativeSignAppliesEvenWhenTheIntegerPartIsZero) {
  // cedar-policy/cedar#1964: "-0.0123" used to parse as +0.0123.
  EXPECT_EQ(scaled("-0.0123"), -123);
  EXPECT_EQ(scaled("-0.5"), -5000);
  EXPECT_EQ(scaled("-0.0"), 0);
  EXPECT_EQ(Decimal{scaled("-0.0")}, Decimal{scaled("0.0")});
}

TEST(DecimalParse, AllowsLeadingZerosInTheIntegerPart) {
  EXPECT_EQ(scaled("00.000"), 0);
  EXPECT_EQ(scaled("0123.0"), scaled("123.0000"));
  EXPECT_EQ(scaled("-00000000000000000000001.5"), -15000);
}

TEST(DecimalParse, RequiresDigitsOnBothSidesOfOneDot) {
  for (const char* s : {"1234", "1.", ".1", "-.", "-.5", "-", "", "1.0.", "1..0", "1.a", "a.1",
                        "+1.0", "--1.0", " 1.0", "1.0 ", "1,0", "1e3.0", "0x1.0", "١.٠"})
    EXPECT_FALSE(accepted(s)) << s;
}

TEST(DecimalParse, AllowsAtMostFourFractionalDigitsEvenIfTheyAreZero) {
  EXPECT_TRUE(accepted("0.0000"));
  EXPECT_FALSE(accepted("0.12345"));
  EXPECT_FALSE(accepted("0.00000"));
}

TEST(DecimalParse, AcceptsExactlyTheInt64Range) {
  EXPECT_EQ(scaled("922337203685477.5807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(scaled("-922337203685477.5808"), std::numeric_limits<int64_t>::min());
}

TEST(DecimalParse, OverflowIsAnExtensionError) {
  for (const char* s : {"922337203685477.5808", "-922337203685477.5809", "-922337203685478.0",
                        "1000000000000000.0", "99999999999999999999999.0"}) {
    auto r = parse_decimal(s);
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_EQ(r.error().code, "extension_error");
  }
}

TEST(DecimalPrint, PrintsFourFractionalDigitsAndASignWhenNegative) {
  EXPECT_EQ(to_string(Decimal{scaled("123.0")}), "123.0000");
  EXPECT_EQ(to_string(Decimal{scaled("1.0123")}), "1.0123");
  EXPECT_EQ(to_string(Decimal{scaled("-0.0001")}), "-0.0001");
  EXPECT_EQ(to_string(Decimal{scaled("-0.0")}), "0.0000");
  EXPECT_EQ(to_string(Decimal{std::numeric_limits<int64_t>::min()}), "-922337203685477.5808");
  EXPECT_EQ(to_string(Decimal{std::numeric_limits<int64_t>::max()}), "922337203685477.5807");
}

TEST(DecimalPrint, RoundTripsThroughTheParser) {
  for (const char* s : {"1.5", "-123.4560", "0.0", "-922337203685477.5808", "0.0001"})
    EXPECT_EQ(scaled(to_string(Decimal{scaled(s)})), scaled(s)) << s;
}

bool compare(std::string_view method, std::string_view a, std::string_view b) {
  std::vector<Value> args{Value(Decimal{scaled(b)})};
  auto r = call_extension_method(method, Value(Decimal{scaled(a)}), args);
  EXPECT_TRUE(r.has_value() && r->ok()) << method;
  return r && r->ok() && r->value().as_bool();
}

TEST(DecimalCompare, LessThanFamilyOrdersByValue) {
  EXPECT_TRUE(compare("lessThan", "1.23", "1.24"));
  EXPECT_FALSE(compare("lessThan", "1.23", "1.23"));
  EXPECT_TRUE(compare("lessThan", "-1.23", "1.23"));
  EXPECT_FALSE(compare("lessThan", "-1.23", "-1.24"));
  EXPECT_TRUE(compare("lessThanOrEqual", "1.23", "1.2300"));
  EXPECT_FALSE(compare("lessThanOrEqual", "123.45", "1.23"));
  EXPECT_TRUE(compare("greaterThan", "-1.23", "-1.24"));
  EXPECT_FALSE(compare("greaterThan", "-0.5", "0.0"));
  EXPECT_TRUE(compare("greaterThanOrEqual", "1.23", "1.23"));
  EXPECT_FALSE(compare("greaterThanOrEqual", "-1.23", "1.23"));
}

TEST(DecimalCompare, NonDecimalOperandIsATypeError) {
  Value d(Decimal{scaled("1.0")});
  std::vector<Value> str{Value("1.0")};
  auto r = call_extension_method("lessThan", d, str);
  ASSERT_FALSE(r->ok());
  EXPECT_EQ(r->error().code, "type_error");
  EXPECT_NE(r->error().message.find("`decimal` constructor"), std::string::npos);
  std::vector<Value> num{Value(1)};
  EXPECT_EQ(call_extension_method("lessThan", d, num)->error().code, "type_error");
  std::vector<Value> dec{d};
  EXPECT_EQ(call_extension_method("lessThan", Value(1), dec)->error().code, "type_error");
  EXPECT_EQ(call_extension_method("lessThan", d, {})->error().code, "type_error");
}

TEST(DecimalDispatch, ConstructorReportsParseFailuresAsExtensionErrors) {
  std::vector<Value> ok{Value("-1.5")};
  EXPECT_EQ(call_extension_function("decimal", ok)->value().as_decimal(), Decimal{-15000});
  std::vector<Value> bad{Value("1.23456")};
  EXPECT_EQ(call_extension_function("decimal", bad)->error().code, "extension_error");
}

}  // namespace
}  // namespace ztgate::cedar
