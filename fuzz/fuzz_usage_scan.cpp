// Fuzz target: reading token usage out of an upstream's answer
// (src/pipeline/usage_scan), the one place the gateway parses what a model
// server streams back.
//
// Properties, for any input:
//   1. last_usage() never crashes, hangs, leaks or hits undefined behavior.
//   2. What it returns is an object of at most kMaxUsageFields integer members.
//   3. Appending a well-formed usage object after the input always finds
//      exactly that object (the scan looks from the end).
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json.hpp>

#include "pipeline/usage_scan.h"
#include "property.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ztgate::fuzz::require;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto usage = ztgate::pipeline::last_usage(text)) {
    require(usage->size() <= ztgate::pipeline::kMaxUsageFields, "bounded fields", "");
    for (const auto& [k, v] : *usage) require(v.is_int64(), "integer members only", std::string(k));
  }
  std::string tail = std::string(text) + "\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"total_tokens\":7}}\n\n";
  auto found = ztgate::pipeline::last_usage(tail);
  require(found.has_value(), "a trailing usage object is found", "");
  require(found->at("prompt_tokens").as_int64() == 3 && found->at("total_tokens").as_int64() == 7,
          "the trailing usage object is the one returned", boost::json::serialize(*found));
  return 0;
}
