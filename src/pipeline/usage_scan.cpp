#include "pipeline/usage_scan.h"

#include <boost/json.hpp>

namespace ztgate::pipeline {

std::optional<boost::json::object> last_usage(std::string_view text) {
  namespace json = boost::json;
  size_t at = text.rfind("\"usage\"");
  for (size_t tried = 0; at != std::string_view::npos && tried < kMaxUsageCandidates; ++tried) {
    size_t open = text.find('{', at);
    size_t close = open == std::string_view::npos ? open : text.find('}', open);
    if (close != std::string_view::npos) {
      json::parse_options opts;
      opts.max_depth = 2;
      boost::system::error_code ec;
      json::value v = json::parse(text.substr(open, close - open + 1), ec, {}, opts);
      if (!ec && v.is_object()) {
        json::object usage;
        for (const auto& [k, n] : v.as_object())
          if (n.is_int64() && usage.size() < kMaxUsageFields) usage[k] = n;
        if (!usage.empty()) return usage;
      }
    }
    if (at == 0) break;
    at = text.rfind("\"usage\"", at - 1);
  }
  return std::nullopt;
}

}  // namespace ztgate::pipeline
