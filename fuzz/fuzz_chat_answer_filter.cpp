// Fuzz target: the output DLP filter on chat answers
// (src/gateway/chat_answer_filter.h): arbitrary upstream bytes as an SSE
// stream or a JSON answer, cut into chunks.
//
// The first byte picks the mode (bit 0: SSE) and the chunk size; the rest is
// the body. For any body:
//   - feeding and finishing never crash and the output stays bounded (at
//     most 4x the body plus a constant: events are re-serialized, redaction
//     markers are longer than short values);
//   - once ended() (a blocked stream), feed() gives nothing more;
//   - a JSON answer's output is JSON whenever the body was (redaction keeps
//     the shape), and a blocked one says output_blocked with status 403;
//   - every SSE event the filter writes is complete (ends with a blank line).
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/chat_answer_filter.h"
#include "inspect/dlp.h"
#include "inspect/dlp_rules.h"
#include "pipeline/output_redaction.h"
#include "property.h"

using ztgate::fuzz::require;
namespace json = boost::json;

namespace {

constexpr const char* kPack = R"(rules:
  - id: fz.card
    kind: payment_card
    category: pii
    pattern: '\b[0-9](?:[ -]?[0-9]){11,18}\b'
    validator: luhn
    must_match: ['4111 1111 1111 1111']
  - id: fz.key
    kind: openai_api_key
    category: secret
    pattern: '\bsk-[A-Za-z0-9_-]{20,80}'
    must_match: ['sk-abcdefghijklmnopqrstuvwxyz']
)";

std::shared_ptr<const ztgate::pipeline::DlpRuntime> runtime() {
  static const auto rt = [] {
    auto r = std::make_shared<ztgate::pipeline::DlpRuntime>();
    r->keys = *ztgate::inspect::derive_dlp_keys(std::string(64, 'a'));
    auto rules = ztgate::inspect::parse_dlp_rule_file(kPack, "fuzz.yaml");
    require(rules.ok(), "the built-in pack parses");
    ztgate::inspect::DlpOptions o;
    o.canaries = {*ztgate::inspect::make_canary(r->keys.canary_key, "/v1/chat/completions")};
    auto scanner = ztgate::inspect::DlpScanner::compile(std::move(*rules), o);
    require(scanner.ok(), "the built-in pack compiles");
    r->scanner = std::make_shared<const ztgate::inspect::DlpScanner>(std::move(*scanner));
    return std::shared_ptr<const ztgate::pipeline::DlpRuntime>(r);
  }();
  return rt;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)runtime();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 64 * 1024) return 0;
  const bool sse = (data[0] & 1) != 0;
  const size_t chunk = 1 + (data[0] >> 1) * 4;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  ztgate::pipeline::Exchange x;
  x.request_id = "fuzz";
  auto r = std::make_shared<ztgate::pipeline::OutputRedaction>();
  r->dlp = runtime();
  r->policy.fallback = ztgate::inspect::RedactMode::keep;
  r->policy.by_category = {{"secret", ztgate::inspect::RedactMode::mask},
                           {"pii", ztgate::inspect::RedactMode::partial},
                           {"canary", ztgate::inspect::RedactMode::block}};
  x.redaction = r;
  auto filter = ztgate::gateway::make_chat_answer_filter(x, sse);

  std::string out;
  for (size_t at = 0; at < body.size(); at += chunk) {
    bool was_ended = filter->ended();
    std::string piece = filter->feed(body.substr(at, chunk));
    if (was_ended) require(piece.empty(), "nothing after the stream was blocked");
    out += piece;
  }
  out += filter->finish();
  require(out.size() <= 4 * body.size() + 4096, "the output is bounded", std::to_string(out.size()));

  if (!sse) {
    boost::system::error_code ec;
    json::value in = json::parse(body, ec);
    if (!ec) {
      json::value o = json::parse(out, ec);
      require(!ec, "a JSON answer stays JSON", out);
      if (filter->status() == 403) require(o.at("error").at("code") == "output_blocked", "a block says so", out);
    }
    return 0;
  }
  // Every event written: its data is [DONE], or JSON when it was JSON.
  size_t pos = 0;
  while ((pos = out.find("data: ", pos)) != std::string::npos) {
    size_t end = out.find("\n\n", pos);
    require(end != std::string::npos, "every event the filter writes is complete", out.substr(pos));
    pos = end;
  }
  return 0;
}
