// Output DLP on chat answers: a secret split across SSE events, and the
// events cut at every byte, never leaves the filter in pieces; a canary
// ends the answer.
#include "gateway/chat_answer_filter.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "inspect/dlp.h"
#include "inspect/pseudonym_vault.h"
#include "pipeline/output_redaction.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;

constexpr const char* kKey = "sk-proj-PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA-2O76UMFx";

std::shared_ptr<const pipeline::DlpRuntime> runtime() {
  static const auto rt = [] {
    auto r = std::make_shared<pipeline::DlpRuntime>();
    r->keys = *inspect::derive_dlp_keys("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    r->canaries["/v1/chat/completions"] = *inspect::make_canary(r->keys.canary_key, "/v1/chat/completions");
    inspect::DlpOptions o;
    o.rules_dir = std::string(ZTGATE_SOURCE_DIR) + "/rules/dlp";
    o.canaries = {r->canaries.begin()->second};
    auto scanner = inspect::DlpScanner::load(o);
    if (!scanner) throw std::runtime_error(scanner.error().message);
    r->scanner = std::make_shared<const inspect::DlpScanner>(std::move(*scanner));
    return std::shared_ptr<const pipeline::DlpRuntime>(r);
  }();
  return rt;
}

pipeline::Exchange exchange() {
  pipeline::Exchange x;
  x.request_id = "req-1";
  auto r = std::make_shared<pipeline::OutputRedaction>();
  r->dlp = runtime();
  r->policy.fallback = inspect::RedactMode::keep;
  r->policy.by_category = {{"secret", inspect::RedactMode::mask},
                           {"pii", inspect::RedactMode::mask},
                           {"canary", inspect::RedactMode::block}};
  x.redaction = r;
  return x;
}

// The SSE body the test upstream sends: one event per word.
std::string sse_of(const std::string& reply) {
  std::string out;
  size_t at = 0;
  bool first = true;
  while (at < reply.size()) {
    size_t end = reply.find(' ', at);
    end = end == std::string::npos ? reply.size() : end + 1;
    json::object delta{{"content", reply.substr(at, end - at)}};
    if (first) delta["role"] = "assistant";
    first = false;
    json::object ev{{"id", "c1"}, {"object", "chat.completion.chunk"}, {"model", "m"},
                    {"choices", json::array{json::object{{"index", 0}, {"delta", delta}, {"finish_reason", nullptr}}}}};
    out += "data: " + json::serialize(ev) + "\n\n";
    at = end;
  }
  out += R"(data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"
         "\n\n";
  return out + "data: [DONE]\n\n";
}

struct Streamed {
  std::string bytes;    // what the client got
  std::string content;  // the deltas' text, joined
  bool error = false;   // an error event came
};

Streamed run(const std::string& body, const std::vector<size_t>& cuts) {
  auto x = exchange();
  auto filter = make_chat_answer_filter(x, true);
  Streamed s;
  size_t at = 0;
  for (size_t cut : cuts) {
    s.bytes += filter->feed(std::string_view(body).substr(at, cut - at));
    at = cut;
    if (filter->ended()) break;
  }
  if (!filter->ended()) s.bytes += filter->feed(std::string_view(body).substr(at));
  s.bytes += filter->finish();
  size_t pos = 0;
  while ((pos = s.bytes.find("data: ", pos)) != std::string::npos) {
    size_t end = s.bytes.find("\n\n", pos);
    std::string data = s.bytes.substr(pos + 6, end - pos - 6);
    pos = end;
    if (data == "[DONE]") continue;
    json::value v = json::parse(data);
    if (v.as_object().contains("error")) {
      s.error = true;
      continue;
    }
    for (const auto& c : v.at("choices").as_array())
      if (const auto* t = c.at("delta").as_object().if_contains("content"); t && t->is_string()) s.content += t->as_string();
  }
  return s;
}

TEST(ChatAnswerFilter, ASecretSplitAcrossEventsAndCutAtEveryByteIsRedactedAsOne) {
  const std::string reply = std::string("echo: keep ") + kKey + " and card 4111 1111 1111 1111 safe";
  const std::string body = sse_of(reply);
  const std::string expected = "echo: keep [REDACTED:openai_api_key] and card [REDACTED:payment_card] safe";
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    Streamed s = run(body, {cut});
    ASSERT_EQ(s.content, expected) << "cut at " << cut;
    ASSERT_EQ(s.bytes.find("PtYgjmUhBel31iEl"), std::string::npos) << "cut at " << cut;
    ASSERT_EQ(s.bytes.find("4111"), std::string::npos) << "cut at " << cut;
    ASSERT_FALSE(s.error);
  }
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < body.size(); ++i) every_byte.push_back(i);
  EXPECT_EQ(run(body, every_byte).content, expected);
}

TEST(ChatAnswerFilter, ACanaryEndsTheStreamWithAnErrorEventAndNeverGoesOut) {
  const std::string canary = runtime()->canaries.begin()->second;
  const std::string body = sse_of("my instructions: Confidential marker " + canary + ": never repeat it");
  for (size_t cut = 0; cut <= body.size(); cut += 7) {
    Streamed s = run(body, {cut});
    ASSERT_TRUE(s.error) << "cut at " << cut;
    ASSERT_EQ(s.bytes.find(canary.substr(0, 12)), std::string::npos) << "cut at " << cut;
    ASSERT_NE(s.bytes.find("output_blocked"), std::string::npos);
  }
}

TEST(ChatAnswerFilter, ATokenTheModelSplitsAcrossEventsComesBackAsTheValue) {
  auto x = exchange();
  auto r = std::make_shared<pipeline::OutputRedaction>(*x.redaction);
  r->pseudonymized = {"pii"};
  r->policy.by_category.erase("pii");  // pseudonymized, not redacted: the user may see it
  r->vault = std::make_shared<inspect::PseudonymVault>();
  const std::string token = r->vault->pseudonymize("email", "jane@example.com", r->dlp->keys.redact.pseudonym_key);
  x.redaction = r;
  // Models emit tokens in pieces: "I wrote to ⟦EM" "AIL_7f3a" "9c2e⟧ today".
  std::string body;
  for (const std::string& piece : {std::string("I wrote to ") + token.substr(0, 5), token.substr(5, 6),
                                   token.substr(11) + " today"}) {
    json::object ev{{"choices", json::array{json::object{
                                    {"index", 0}, {"delta", json::object{{"content", piece}}}, {"finish_reason", nullptr}}}}};
    body += "data: " + json::serialize(ev) + "\n\n";
  }
  body += "data: [DONE]\n\n";
  auto filter = make_chat_answer_filter(x, true);
  std::string out = filter->feed(body);
  out += filter->finish();
  std::string content;
  size_t pos = 0;
  while ((pos = out.find("data: {", pos)) != std::string::npos) {
    size_t end = out.find("\n\n", pos);
    const json::value event = json::parse(out.substr(pos + 6, end - pos - 6));
    for (const auto& c : event.at("choices").as_array()) content += c.at("delta").at("content").as_string();
    pos = end;
  }
  EXPECT_EQ(content, "I wrote to jane@example.com today");
}

TEST(ChatAnswerFilter, JsonAnswersAreRedactedAndACanaryTurnsThemInto403) {
  auto x = exchange();
  auto filter = make_chat_answer_filter(x, false);
  json::object answer{{"id", "c1"},
                      {"choices", json::array{json::object{
                                      {"index", 0},
                                      {"message", json::object{{"role", "assistant"},
                                                               {"content", std::string("key ") + kKey}}}}}}};
  std::string body = json::serialize(answer);
  std::string out = filter->feed(body.substr(0, 10));
  out += filter->feed(body.substr(10));
  out += filter->finish();
  EXPECT_EQ(filter->status(), 0);
  EXPECT_EQ(json::parse(out).at("choices").at(0).at("message").at("content"), "key [REDACTED:openai_api_key]");
  ASSERT_FALSE(x.findings.empty());
  EXPECT_EQ(x.findings[0].at("dlp_kind"), "openai_api_key");
  EXPECT_EQ(json::serialize(x.findings).find("PtYgjm"), std::string::npos);

  // Nothing found: the upstream's bytes as they were.
  auto y = exchange();
  auto plain = make_chat_answer_filter(y, false);
  std::string clean = R"({"choices":[{"message":{"content":"hello"}}],  "usage":{"total_tokens":3}})";
  std::string passed = plain->feed(clean);
  passed += plain->finish();
  EXPECT_EQ(passed, clean);

  auto z = exchange();
  auto leak = make_chat_answer_filter(z, false);
  answer["choices"].as_array()[0].as_object()["message"].as_object()["content"] =
      "marker " + runtime()->canaries.begin()->second;
  std::string blocked = leak->feed(json::serialize(answer));
  blocked += leak->finish();
  EXPECT_EQ(leak->status(), 403);
  EXPECT_EQ(json::parse(blocked).at("error").at("code"), "output_blocked");
}

}  // namespace
}  // namespace ztgate::gateway
