#include "cedar/value.h"

#include <algorithm>

namespace ztgate::cedar {

std::string escape_string(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\0': out += "\\0"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u{";
          if (c >= 0x10) out += kHex[c >> 4];
          out += kHex[c & 0xf];
          out += '}';
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

bool is_action_entity_type(std::string_view type) {
  return type == "Action" || (type.size() > 8 && type.substr(type.size() - 8) == "::Action");
}

std::string to_string(const EntityUID& uid) {
  return uid.type + "::\"" + escape_string(uid.id) + "\"";
}

std::string_view kind_name(ValueKind k) {
  switch (k) {
    case ValueKind::kBool: return "bool";
    case ValueKind::kLong: return "long";
    case ValueKind::kString: return "string";
    case ValueKind::kEntity: return "entity";
    case ValueKind::kSet: return "set";
    case ValueKind::kRecord: return "record";
    case ValueKind::kIpAddr: return "ipaddr";
    case ValueKind::kDecimal: return "decimal";
    case ValueKind::kDatetime: return "datetime";
    case ValueKind::kDuration: return "duration";
  }
  return "unknown";
}

Value Value::set(ValueSet elems) {
  std::sort(elems.begin(), elems.end(), ValueLess{});
  elems.erase(std::unique(elems.begin(), elems.end()), elems.end());
  return Value(std::make_shared<const ValueSet>(std::move(elems)));
}

Value Value::record(ValueRecord fields) {
  return Value(std::make_shared<const ValueRecord>(std::move(fields)));
}

bool operator==(const Value& a, const Value& b) {
  if (a.v_.index() != b.v_.index()) return false;
  switch (a.kind()) {
    case ValueKind::kSet: {
      const auto& x = std::get<SetPtr>(a.v_);
      const auto& y = std::get<SetPtr>(b.v_);
      return x == y || *x == *y;
    }
    case ValueKind::kRecord: {
      const auto& x = std::get<RecordPtr>(a.v_);
      const auto& y = std::get<RecordPtr>(b.v_);
      return x == y || *x == *y;
    }
    default:
      return a.v_ == b.v_;
  }
}

namespace {

template <class T>
std::weak_ordering order_of(const T& a, const T& b) {
  if (a < b) return std::weak_ordering::less;
  if (b < a) return std::weak_ordering::greater;
  return std::weak_ordering::equivalent;
}

}  // namespace

std::weak_ordering value_order(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return order_of(a.kind(), b.kind());
  switch (a.kind()) {
    case ValueKind::kBool: return order_of(a.as_bool(), b.as_bool());
    case ValueKind::kLong: return order_of(a.as_long(), b.as_long());
    case ValueKind::kString: return order_of(a.as_string(), b.as_string());
    case ValueKind::kEntity: return order_of(a.as_entity(), b.as_entity());
    case ValueKind::kIpAddr: return order_of(a.as_ipaddr(), b.as_ipaddr());
    case ValueKind::kDecimal: return order_of(a.as_decimal(), b.as_decimal());
    case ValueKind::kDatetime: return order_of(a.as_datetime(), b.as_datetime());
    case ValueKind::kDuration: return order_of(a.as_duration(), b.as_duration());
    case ValueKind::kSet: {
      const auto& x = a.as_set();
      const auto& y = b.as_set();
      return std::lexicographical_compare_three_way(x.begin(), x.end(), y.begin(), y.end(),
                                                    value_order);
    }
    case ValueKind::kRecord: {
      const auto& x = a.as_record();
      const auto& y = b.as_record();
      auto cmp = [](const auto& p, const auto& q) -> std::weak_ordering {
        if (auto c = order_of(p.first, q.first); c != 0) return c;
        return value_order(p.second, q.second);
      };
      return std::lexicographical_compare_three_way(x.begin(), x.end(), y.begin(), y.end(), cmp);
    }
  }
  return std::weak_ordering::equivalent;
}

bool set_contains(const ValueSet& set, const Value& v) {
  return std::binary_search(set.begin(), set.end(), v, ValueLess{});
}

std::string to_cedar_string(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kBool: return v.as_bool() ? "true" : "false";
    case ValueKind::kLong: return std::to_string(v.as_long());
    case ValueKind::kString: return "\"" + escape_string(v.as_string()) + "\"";
    case ValueKind::kEntity: return to_string(v.as_entity());
    case ValueKind::kIpAddr: return "ip(\"" + to_string(v.as_ipaddr()) + "\")";
    case ValueKind::kDecimal: return "decimal(\"" + to_string(v.as_decimal()) + "\")";
    case ValueKind::kDatetime: {
      // datetime("...") reads years 0000-9999 only; `offset` reaches any
      // millisecond count, which prints as an offset from the epoch.
      constexpr int64_t kYear0 = -62167219200000;      // 0000-01-01T00:00:00Z
      constexpr int64_t kYear10000 = 253402300800000;  // 10000-01-01T00:00:00Z
      int64_t ms = v.as_datetime().ms;
      if (ms < kYear0 || ms >= kYear10000)
        return "datetime(\"1970-01-01\").offset(duration(\"" + std::to_string(ms) + "ms\"))";
      return "datetime(\"" + to_string(v.as_datetime()) + "\")";
    }
    case ValueKind::kDuration: return "duration(\"" + to_string(v.as_duration()) + "\")";
    case ValueKind::kSet: {
      std::string out = "[";
      bool first = true;
      for (const auto& e : v.as_set()) {
        if (!first) out += ", ";
        first = false;
        out += to_cedar_string(e);
      }
      return out + "]";
    }
    case ValueKind::kRecord: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, e] : v.as_record()) {
        if (!first) out += ", ";
        first = false;
        out += "\"" + escape_string(k) + "\": " + to_cedar_string(e);
      }
      return out + "}";
    }
  }
  return "";
}

}  // namespace ztgate::cedar
