// Cedar runtime values. A Value is cheap to copy: strings are small or
// copied, sets and records are shared immutable vectors/maps.
//
// Sets are kept sorted by a total order over values (value_order) with
// duplicates removed, so set equality is element-wise and `contains` is a
// binary search. Records keep their keys sorted.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cedar/ext/datetime.h"
#include "cedar/ext/decimal.h"
#include "cedar/ext/ipaddr.h"

namespace ztgate::cedar {

// An entity type name, namespaces joined by "::" (e.g. "NS::User"), and an id.
struct EntityUID {
  std::string type;
  std::string id;

  friend auto operator<=>(const EntityUID&, const EntityUID&) = default;
  friend bool operator==(const EntityUID&, const EntityUID&) = default;
};

// Whether `type` names action entities: `Action` or `NS::Action`.
bool is_action_entity_type(std::string_view type);

// Cedar source form: Type::"id" with the id escaped.
std::string to_string(const EntityUID& uid);
// Escapes a string the way Cedar prints string literals (without quotes).
std::string escape_string(std::string_view s);

struct EntityUIDHash {
  size_t operator()(const EntityUID& u) const noexcept {
    size_t h = std::hash<std::string_view>{}(u.type);
    return h ^ (std::hash<std::string_view>{}(u.id) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  }
};

class Value;
using ValueSet = std::vector<Value>;                        // sorted, unique
using ValueRecord = std::map<std::string, Value, std::less<>>;
using SetPtr = std::shared_ptr<const ValueSet>;
using RecordPtr = std::shared_ptr<const ValueRecord>;

enum class ValueKind : uint8_t {
  kBool, kLong, kString, kEntity, kSet, kRecord, kIpAddr, kDecimal, kDatetime, kDuration
};
std::string_view kind_name(ValueKind k);  // "bool", "long", ..., "datetime"

class Value {
 public:
  Value() : v_(false) {}
  Value(bool b) : v_(b) {}                       // NOLINT
  Value(int64_t i) : v_(i) {}                    // NOLINT
  Value(int i) : v_(int64_t{i}) {}               // NOLINT
  Value(std::string s) : v_(std::move(s)) {}     // NOLINT
  Value(const char* s) : v_(std::string(s)) {}   // NOLINT
  Value(EntityUID e) : v_(std::move(e)) {}       // NOLINT
  Value(IpAddr x) : v_(x) {}                     // NOLINT
  Value(Decimal x) : v_(x) {}                    // NOLINT
  Value(Datetime x) : v_(x) {}                   // NOLINT
  Value(Duration x) : v_(x) {}                   // NOLINT
  Value(SetPtr s) : v_(std::move(s)) {}          // NOLINT
  Value(RecordPtr r) : v_(std::move(r)) {}       // NOLINT

  // Builds a set: sorts and removes duplicates.
  static Value set(ValueSet elems);
  static Value record(ValueRecord fields);

  ValueKind kind() const { return static_cast<ValueKind>(v_.index()); }
  bool is_bool() const { return kind() == ValueKind::kBool; }
  bool is_long() const { return kind() == ValueKind::kLong; }
  bool is_string() const { return kind() == ValueKind::kString; }
  bool is_entity() const { return kind() == ValueKind::kEntity; }
  bool is_set() const { return kind() == ValueKind::kSet; }
  bool is_record() const { return kind() == ValueKind::kRecord; }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_long() const { return std::get<int64_t>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const EntityUID& as_entity() const { return std::get<EntityUID>(v_); }
  const ValueSet& as_set() const { return *std::get<SetPtr>(v_); }
  const ValueRecord& as_record() const { return *std::get<RecordPtr>(v_); }
  const IpAddr& as_ipaddr() const { return std::get<IpAddr>(v_); }
  const Decimal& as_decimal() const { return std::get<Decimal>(v_); }
  const Datetime& as_datetime() const { return std::get<Datetime>(v_); }
  const Duration& as_duration() const { return std::get<Duration>(v_); }

  // Cedar `==`: structural equality; values of different kinds are unequal.
  friend bool operator==(const Value& a, const Value& b);

 private:
  std::variant<bool, int64_t, std::string, EntityUID, SetPtr, RecordPtr, IpAddr, Decimal,
               Datetime, Duration>
      v_;
};

// A total order over all values (kind first, then content). Used to keep sets
// canonical; it is not Cedar's `<`.
std::weak_ordering value_order(const Value& a, const Value& b);
struct ValueLess {
  bool operator()(const Value& a, const Value& b) const { return value_order(a, b) < 0; }
};

// Cedar source form of a value, e.g. `[1, "a", User::"x"]`, `ip("10.0.0.1")`.
std::string to_cedar_string(const Value& v);

bool set_contains(const ValueSet& set, const Value& v);

}  // namespace ztgate::cedar
