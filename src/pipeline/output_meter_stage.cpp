#include <boost/json.hpp>

#include "pipeline/stages.h"

namespace ztgate::pipeline {
namespace {

namespace json = boost::json;

// The upstream's token usage is near the end of the answer (the last JSON
// object, or the last SSE events): keep a bounded tail, never the whole body.
constexpr size_t kTailBytes = 8 * 1024;

// The last `"usage":{...}` object in `text` whose members are all integers.
std::optional<json::object> last_usage(std::string_view text) {
  size_t at = text.rfind("\"usage\"");
  while (at != std::string_view::npos) {
    size_t open = text.find('{', at);
    size_t close = open == std::string_view::npos ? open : text.find('}', open);
    if (close != std::string_view::npos) {
      boost::system::error_code ec;
      json::value v = json::parse(text.substr(open, close - open + 1), ec);
      if (!ec && v.is_object()) {
        json::object usage;
        for (const auto& [k, n] : v.as_object())
          if (n.is_int64() && usage.size() < 8) usage[k] = n;
        if (!usage.empty()) return usage;
      }
    }
    if (at == 0) break;
    at = text.rfind("\"usage\"", at - 1);
  }
  return std::nullopt;
}

class OutputMeterStage final : public Stage {
 public:
  const char* name() const override { return "inspect_output"; }

  void on_output(Exchange& x, std::string_view chunk) override {
    x.output_bytes += chunk.size();
    ++x.output_chunks;
    auto& tail = x.output_tail;
    tail.append(chunk.size() > kTailBytes ? chunk.substr(chunk.size() - kTailBytes) : chunk);
    if (tail.size() > kTailBytes) tail.erase(0, tail.size() - kTailBytes);
  }

  void on_complete(Exchange& x) override {
    if (auto usage = last_usage(x.output_tail)) x.usage = std::move(*usage);
    x.output_tail.clear();
  }
};

}  // namespace

std::unique_ptr<Stage> make_output_meter_stage() { return std::make_unique<OutputMeterStage>(); }

}  // namespace ztgate::pipeline
