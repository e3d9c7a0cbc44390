#include "pipeline/stages.h"
#include "pipeline/usage_scan.h"

namespace ztgate::pipeline {
namespace {

namespace json = boost::json;

// The upstream's token usage is near the end of the answer (the last JSON
// object, or the last SSE events): keep a bounded tail, never the whole body.
constexpr size_t kTailBytes = 8 * 1024;

class OutputMeterStage final : public Stage {
 public:
  const char* name() const override { return "inspect_output"; }

  void on_output(Exchange& x, std::string_view chunk) override {
    x.output_bytes += chunk.size();
    if (x.capture_payloads && x.response_payload.size() < kMaxCapturedResponse)
      x.response_payload.append(chunk.substr(0, kMaxCapturedResponse - x.response_payload.size()));
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
