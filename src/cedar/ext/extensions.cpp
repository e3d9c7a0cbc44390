#include "cedar/ext/extensions.h"

#include <array>
#include <string>

#include "cedar/ext/datetime.h"
#include "cedar/ext/decimal.h"
#include "cedar/ext/ipaddr.h"

namespace ztgate::cedar {
namespace {

using MethodImpl = Result<Value> (*)(const Value& self, std::span<const Value> args);

// One extension method: the receiver's type, the type of its single
// argument (nullopt for methods taking none) and what it computes. Type
// and arity are checked before `impl` runs.
struct Method {
  std::string_view name;
  ValueKind receiver;
  std::optional<ValueKind> arg;
  MethodImpl impl;
};

template <class T>
Result<Value> lift(Result<T> r) {
  if (!r) return r.error();
  return Value(std::move(*r));
}

Result<Value> decimal_compare(const Value& a, const Value& b, bool (*pred)(Decimal, Decimal)) {
  return Value(pred(a.as_decimal(), b.as_decimal()));
}

constexpr std::array kMethods = {
    // ipaddr
    Method{"isIpv4", ValueKind::kIpAddr, std::nullopt,
           [](const Value& s, std::span<const Value>) -> Result<Value> {
             return Value(ip_is_ipv4(s.as_ipaddr()));
           }},
    Method{"isIpv6", ValueKind::kIpAddr, std::nullopt,
           [](const Value& s, std::span<const Value>) -> Result<Value> {
             return Value(ip_is_ipv6(s.as_ipaddr()));
           }},
    Method{"isLoopback", ValueKind::kIpAddr, std::nullopt,
           [](const Value& s, std::span<const Value>) -> Result<Value> {
             return Value(ip_is_loopback(s.as_ipaddr()));
           }},
    Method{"isMulticast", ValueKind::kIpAddr, std::nullopt,
           [](const Value& s, std::span<const Value>) -> Result<Value> {
             return Value(ip_is_multicast(s.as_ipaddr()));
           }},
    Method{"isInRange", ValueKind::kIpAddr, ValueKind::kIpAddr,
           [](const Value& s, std::span<const Value> a) -> Result<Value> {
             return Value(ip_is_in_range(s.as_ipaddr(), a[0].as_ipaddr()));
           }},
    // decimal
    Method{"lessThan", ValueKind::kDecimal, ValueKind::kDecimal,
           [](const Value& s, std::span<const Value> a) {
             return decimal_compare(s, a[0], [](Decimal x, Decimal y) { return x < y; });
           }},
    Method{"lessThanOrEqual", ValueKind::kDecimal, ValueKind::kDecimal,
           [](const Value& s, std::span<const Value> a) {
             return decimal_compare(s, a[0], [](Decimal x, Decimal y) { return x <= y; });
           }},
    Method{"greaterThan", ValueKind::kDecimal, ValueKind::kDecimal,
           [](const Value& s, std::span<const Value> a) {
             return decimal_compare(s, a[0], [](Decimal x, Decimal y) { return x > y; });
           }},
    Method{"greaterThanOrEqual", ValueKind::kDecimal, ValueKind::kDecimal,
           [](const Value& s, std::span<const Value> a) {
             return decimal_compare(s, a[0], [](Decimal x, Decimal y) { return x >= y; });
           }},
    // datetime
    Method{"offset", ValueKind::kDatetime, ValueKind::kDuration,
           [](const Value& s, std::span<const Value> a) {
             return lift(datetime_offset(s.as_datetime(), a[0].as_duration()));
           }},
    Method{"durationSince", ValueKind::kDatetime, ValueKind::kDatetime,
           [](const Value& s, std::span<const Value> a) {
             return lift(datetime_duration_since(s.as_datetime(), a[0].as_datetime()));
           }},
    Method{"toDate", ValueKind::kDatetime, std::nullopt,
           [](const Value& s, std::span<const Value>) {
             return lift(datetime_to_date(s.as_datetime()));
           }},
    Method{"toTime", ValueKind::kDatetime, std::nullopt,
           [](const Value& s, std::span<const Value>) -> Result<Value> {
             return Value(datetime_to_time(s.as_datetime()));
           }},
    // duration
    Method{"toDays", ValueKind::kDuration, std::nullopt,
           [](const Value& s, std::span<const Value>) -> Result<Value> {
             return Value(duration_to_days(s.as_duration()));
           }},
    Method{"toHours", ValueKind::kDuration, std::nullopt,
           [](const Value& s, std::span<const Value>) -> Result<Value> {
             return Value(duration_to_hours(s.as_duration()));
           }},
    Method{"toMinutes", ValueKind::kDuration, std::nullopt,
           [](const Value& s, std::span<const Value>) -> Result<Value> {
             return Value(duration_to_minutes(s.as_duration()));
           }},
    Method{"toSeconds", ValueKind::kDuration, std::nullopt,
           [](const Value& s, std::span<const Value>) -> Result<Value> {
             return Value(duration_to_seconds(s.as_duration()));
           }},
    Method{"toMilliseconds", ValueKind::kDuration, std::nullopt,
           [](const Value& s, std::span<const Value>) -> Result<Value> {
             return Value(duration_to_milliseconds(s.as_duration()));
           }},
};

constexpr std::array<std::string_view, 4> kConstructors = {"ip", "decimal", "datetime", "duration"};

const Method* find_method(std::string_view name) {
  for (const Method& m : kMethods)
    if (m.name == name) return &m;
  return nullptr;
}

// The constructor that produces values of kind `k`, for error hints.
std::string_view constructor_for(ValueKind k) {
  switch (k) {
    case ValueKind::kIpAddr:
      return "ip";
    case ValueKind::kDecimal:
      return "decimal";
    case ValueKind::kDatetime:
      return "datetime";
    case ValueKind::kDuration:
      return "duration";
    default:
      return {};
  }
}

Error type_mismatch(std::string_view fn, std::string_view role, ValueKind expected,
                    const Value& got) {
  std::string msg = "`" + std::string(fn) + "` expects " + std::string(role) + " of type " +
                    std::string(kind_name(expected)) + ", got " +
                    std::string(kind_name(got.kind()));
  if (got.is_string() && !constructor_for(expected).empty())
    msg += "; maybe you forgot to apply the `" + std::string(constructor_for(expected)) +
           "` constructor?";
  return make_error("type_error", std::move(msg));
}

Error arity_mismatch(std::string_view fn, size_t expected, size_t got) {
  return make_error("type_error", "`" + std::string(fn) + "` expects " + std::to_string(expected) +
                                      " argument(s), got " + std::to_string(got));
}

}  // namespace

bool is_extension_function(std::string_view name) {
  for (std::string_view c : kConstructors)
    if (c == name) return true;
  return false;
}

bool is_extension_method(std::string_view name) { return find_method(name) != nullptr; }

std::optional<Result<Value>> call_extension_function(std::string_view name,
                                                     std::span<const Value> args) {
  if (!is_extension_function(name)) return std::nullopt;
  if (args.size() != 1) return Result<Value>(arity_mismatch(name, 1, args.size()));
  if (!args[0].is_string())
    return Result<Value>(type_mismatch(name, "its argument", ValueKind::kString, args[0]));
  return make_extension_value(name, args[0].as_string());
}

std::optional<Result<Value>> call_extension_method(std::string_view name, const Value& receiver,
                                                   std::span<const Value> args) {
  const Method* m = find_method(name);
  if (m == nullptr) return std::nullopt;
  const size_t arity = m->arg ? 1 : 0;
  if (args.size() != arity) return Result<Value>(arity_mismatch(name, arity, args.size()));
  if (receiver.kind() != m->receiver)
    return Result<Value>(type_mismatch(name, "a receiver", m->receiver, receiver));
  if (m->arg && args[0].kind() != *m->arg)
    return Result<Value>(type_mismatch(name, "an argument", *m->arg, args[0]));
  return m->impl(receiver, args);
}

Result<Value> make_extension_value(std::string_view fn, std::string_view arg) {
  if (fn == "ip") return lift(parse_ipaddr(arg));
  if (fn == "decimal") return lift(parse_decimal(arg));
  if (fn == "datetime") return lift(parse_datetime(arg));
  if (fn == "duration") return lift(parse_duration(arg));
  return make_error("extension_error", "unknown extension constructor `" + std::string(fn) +
                                           "`; expected ip, decimal, datetime or duration");
}

}  // namespace ztgate::cedar
