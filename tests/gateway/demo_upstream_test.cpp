// The quickstart's demo upstream (src/gateway/demo_upstream.h): each endpoint,
// the streaming body, authentication and every error shape.
#include "gateway/demo_upstream.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <string>

namespace ztgate::gateway {
namespace {

namespace json = boost::json;

constexpr std::string_view kPrefix = "Hello from the ztgate demo model. You said: ";

HttpRequest request(std::string method, std::string target, std::string body = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  return r;
}

HttpResponse post(std::string target, std::string body, const DemoUpstreamOptions& options = {}) {
  return handle_demo_upstream(request("POST", std::move(target), std::move(body)), options);
}

std::string chat_body(std::string_view user_text, std::string_view extra = {}) {
  json::object body{{"model", "demo-small"},
                    {"messages", json::array{json::object{{"role", "system"}, {"content", "be brief"}},
                                             json::object{{"role", "user"}, {"content", user_text}}}}};
  std::string text = json::serialize(body);
  if (!extra.empty()) text = text.substr(0, text.size() - 1) + "," + std::string(extra) + "}";
  return text;
}

// Asserts OpenAI's error shape and returns error.code.
std::string error_code(const HttpResponse& r, int status) {
  EXPECT_EQ(r.status, status) << r.body;
  json::value v = json::parse(r.body);
  const json::object& err = v.at("error").as_object();
  EXPECT_TRUE(err.at("message").is_string());
  EXPECT_EQ(err.at("type").as_string(), "invalid_request_error");
  return std::string(err.at("code").as_string());
}

// The data: payloads of an SSE body, in order.
std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "event not terminated by a blank line";
    if (end == std::string::npos) break;
    std::string event = body.substr(pos, end - pos);
    EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
    out.push_back(event.substr(6));
    pos = end + 2;
  }
  return out;
}

TEST(DemoUpstream, ListsConfiguredModels) {
  DemoUpstreamOptions options;
  options.models = {"demo-small", "demo-large"};
  auto r = handle_demo_upstream(request("GET", "/v1/models"), options);
  ASSERT_EQ(r.status, 200);
  json::value v = json::parse(r.body);
  EXPECT_EQ(v.at("object").as_string(), "list");
  const json::array& data = v.at("data").as_array();
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[1].at("id").as_string(), "demo-large");
  EXPECT_EQ(data[0].at("object").as_string(), "model");
  EXPECT_EQ(data[0].at("created").as_int64(), 1700000000);
  EXPECT_EQ(data[0].at("owned_by").as_string(), "ztgate-demo");
}

TEST(DemoUpstream, GetsOneModelOr404) {
  auto ok = handle_demo_upstream(request("GET", "/v1/models/demo-small"), {});
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(json::parse(ok.body).at("id").as_string(), "demo-small");
  EXPECT_EQ(error_code(handle_demo_upstream(request("GET", "/v1/models/gpt-4o"), {}), 404), "model_not_found");
}

TEST(DemoUpstream, ChatCompletionEchoesTheLastUserMessage) {
  auto r = post("/v1/chat/completions", chat_body("what is zero trust?"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  json::value v = json::parse(r.body);
  EXPECT_EQ(v.at("object").as_string(), "chat.completion");
  EXPECT_EQ(v.at("model").as_string(), "demo-small");
  EXPECT_EQ(v.at("id").as_string().subview().substr(0, 14), "chatcmpl-demo-");
  const json::value& choice = v.at("choices").at(0);
  EXPECT_EQ(choice.at("message").at("role").as_string(), "assistant");
  EXPECT_EQ(choice.at("message").at("content").as_string(), std::string(kPrefix) + "what is zero trust?");
  EXPECT_EQ(choice.at("finish_reason").as_string(), "stop");
  const json::value& usage = v.at("usage");
  EXPECT_EQ(usage.at("prompt_tokens").to_number<std::uint64_t>(), 6u);  // "be brief" + "what is zero trust?"
  EXPECT_EQ(usage.at("completion_tokens").to_number<std::uint64_t>(), 12u);
  EXPECT_EQ(usage.at("total_tokens").to_number<std::uint64_t>(), 18u);
}

TEST(DemoUpstream, SameRequestGivesSameBytes) {
  auto a = post("/v1/chat/completions", chat_body("hi"));
  auto b = post("/v1/chat/completions", chat_body("hi"));
  auto c = post("/v1/chat/completions", chat_body("ho"));
  EXPECT_EQ(a.body, b.body);
  EXPECT_NE(json::parse(a.body).at("id"), json::parse(c.body).at("id"));
}

TEST(DemoUpstream, UsesTheLastOfSeveralUserMessages) {
  std::string body = R"({"model":"demo-small","messages":[{"role":"user","content":"first"},
    {"role":"assistant","content":"ok"},{"role":"user","content":"second"},{"role":"assistant","content":"ok"}]})";
  auto r = post("/v1/chat/completions", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("choices").at(0).at("message").at("content").as_string(),
            std::string(kPrefix) + "second");
}

TEST(DemoUpstream, TruncatesTheEchoAtAUtf8Boundary) {
  // 199 ASCII bytes then "é" (2 bytes): byte 200 would split it.
  std::string text = std::string(199, 'a') + "\xC3\xA9" + "tail";
  auto r = post("/v1/chat/completions", chat_body(text));
  ASSERT_EQ(r.status, 200) << r.body;
  std::string content(json::parse(r.body).at("choices").at(0).at("message").at("content").as_string());
  EXPECT_EQ(content, std::string(kPrefix) + std::string(199, 'a'));

  std::string exact = std::string(198, 'a') + "\xC3\xA9" + "tail";  // "é" ends at byte 200
  auto r2 = post("/v1/chat/completions", chat_body(exact));
  EXPECT_EQ(json::parse(r2.body).at("choices").at(0).at("message").at("content").as_string(),
            std::string(kPrefix) + std::string(198, 'a') + "\xC3\xA9");
}

TEST(DemoUpstream, StreamsOneChunkPerWordThenStopAndDone) {
  auto r = post("/v1/chat/completions", chat_body("a  b\nc", R"("stream":true)"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/event-stream");
  ASSERT_GE(r.body.size(), 14u);
  EXPECT_EQ(r.body.substr(r.body.size() - 14), "data: [DONE]\n\n");
  auto events = sse_data(r.body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  events.pop_back();

  std::string streamed;
  for (std::size_t i = 0; i < events.size(); ++i) {
    boost::system::error_code ec;
    json::value chunk = json::parse(events[i], ec);
    ASSERT_FALSE(ec) << events[i];
    EXPECT_EQ(chunk.at("object").as_string(), "chat.completion.chunk");
    EXPECT_FALSE(chunk.as_object().contains("usage"));  // include_usage not asked for
    const json::value& choice = chunk.at("choices").at(0);
    const json::object& delta = choice.at("delta").as_object();
    EXPECT_EQ(delta.contains("role"), i == 0);
    if (i + 1 < events.size()) {
      EXPECT_TRUE(choice.at("finish_reason").is_null());
      streamed += std::string(delta.at("content").as_string());
    } else {
      EXPECT_EQ(choice.at("finish_reason").as_string(), "stop");
      EXPECT_TRUE(delta.empty());
    }
  }
  EXPECT_EQ(events.size(), 12u);  // 8 prefix words + "a  " "b\n" "c", then the stop chunk
  auto plain = post("/v1/chat/completions", chat_body("a  b\nc"));
  EXPECT_EQ(streamed, json::parse(plain.body).at("choices").at(0).at("message").at("content").as_string());
}

TEST(DemoUpstream, StreamIncludesAUsageChunkWhenAsked) {
  auto r = post("/v1/chat/completions", chat_body("hello", R"("stream":true,"stream_options":{"include_usage":true})"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto events = sse_data(r.body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  json::value usage_chunk = json::parse(events[events.size() - 2]);
  EXPECT_TRUE(usage_chunk.at("choices").as_array().empty());
  EXPECT_EQ(usage_chunk.at("usage").at("completion_tokens").to_number<std::uint64_t>(), 9u);
  EXPECT_EQ(usage_chunk.at("usage").at("prompt_tokens").to_number<std::uint64_t>(), 3u);
  json::value first = json::parse(events.front());
  EXPECT_TRUE(first.at("usage").is_null());
}

TEST(DemoUpstream, StreamOptionsWithoutStreamIsRefused) {
  auto r = post("/v1/chat/completions", chat_body("x", R"("stream_options":{"include_usage":true})"));
  EXPECT_EQ(error_code(r, 400), "invalid_value");
}

TEST(DemoUpstream, RefusesBadJson) {
  EXPECT_EQ(error_code(post("/v1/chat/completions", "{\"model\":"), 400), "invalid_json");
  EXPECT_EQ(error_code(post("/v1/chat/completions", "[1,2]"), 400), "invalid_json");
  EXPECT_EQ(error_code(post("/v1/chat/completions", ""), 400), "invalid_json");
}

TEST(DemoUpstream, RefusesDeepNestingAndLargeBodies) {
  std::string deep = R"({"model":"demo-small","x":)" + std::string(40, '[') + std::string(40, ']') + "}";
  EXPECT_EQ(error_code(post("/v1/chat/completions", deep), 413), "request_too_large");
  std::string big = chat_body(std::string(kDemoMaxBodyBytes, 'a'));
  EXPECT_EQ(error_code(post("/v1/chat/completions", big), 413), "request_too_large");
}

TEST(DemoUpstream, RefusesUnknownModel) {
  auto r = post("/v1/chat/completions", R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(error_code(r, 404), "model_not_found");
  EXPECT_NE(r.body.find("gpt-4o"), std::string::npos);
}

TEST(DemoUpstream, RefusesMissingOrMalformedMessages) {
  EXPECT_EQ(error_code(post("/v1/chat/completions", R"({"model":"demo-small"})"), 400), "missing_required_parameter");
  EXPECT_EQ(error_code(post("/v1/chat/completions", R"({"messages":[]})"), 400), "missing_required_parameter");
  EXPECT_EQ(error_code(post("/v1/chat/completions", R"({"model":"demo-small","messages":[]})"), 400), "invalid_value");
  EXPECT_EQ(error_code(post("/v1/chat/completions", R"({"model":"demo-small","messages":"hi"})"), 400), "invalid_type");
  EXPECT_EQ(error_code(post("/v1/chat/completions", R"({"model":"demo-small","messages":[{"role":"user"}]})"), 400),
            "invalid_type");
  EXPECT_EQ(error_code(post("/v1/chat/completions",
                            R"({"model":"demo-small","messages":[{"role":"user","content":42}]})"),
                       400),
            "invalid_type");
  EXPECT_EQ(error_code(post("/v1/chat/completions",
                            R"({"model":"demo-small","messages":[{"role":"wizard","content":"x"}]})"),
                       400),
            "invalid_value");
  EXPECT_EQ(error_code(post("/v1/chat/completions", chat_body("x", R"("stream":"yes")")), 400), "invalid_type");
}

TEST(DemoUpstream, EmbedsAStringAsAnEightDimensionUnitVector) {
  auto r = post("/v1/embeddings", R"({"model":"demo-small","input":"zero trust"})");
  ASSERT_EQ(r.status, 200) << r.body;
  json::value v = json::parse(r.body);
  EXPECT_EQ(v.at("object").as_string(), "list");
  EXPECT_EQ(v.at("model").as_string(), "demo-small");
  const json::value& item = v.at("data").at(0);
  EXPECT_EQ(item.at("object").as_string(), "embedding");
  EXPECT_EQ(item.at("index").to_number<std::uint64_t>(), 0u);
  const json::array& e = item.at("embedding").as_array();
  ASSERT_EQ(e.size(), kDemoEmbeddingDims);
  double norm = 0;
  for (const auto& x : e) norm += x.to_number<double>() * x.to_number<double>();
  EXPECT_NEAR(norm, 1.0, 1e-4);
  EXPECT_EQ(v.at("usage").at("prompt_tokens").to_number<std::uint64_t>(), 2u);
  EXPECT_EQ(v.at("usage").at("total_tokens").to_number<std::uint64_t>(), 2u);
}

TEST(DemoUpstream, EmbedsAnArrayDeterministically) {
  auto r = post("/v1/embeddings", R"({"model":"demo-small","input":["a","b","a"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  json::value v = json::parse(r.body);
  const json::array& data = v.at("data").as_array();
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data[2].at("index").to_number<std::uint64_t>(), 2u);
  EXPECT_EQ(data[0].at("embedding"), data[2].at("embedding"));
  EXPECT_NE(data[0].at("embedding"), data[1].at("embedding"));
}

TEST(DemoUpstream, EmbedsAsBase64Float32WhenAsked) {
  auto r = post("/v1/embeddings", R"({"model":"demo-small","input":"x","encoding_format":"base64"})");
  ASSERT_EQ(r.status, 200) << r.body;
  // 8 float32 = 32 bytes = 44 base64 characters.
  EXPECT_EQ(json::parse(r.body).at("data").at(0).at("embedding").as_string().size(), 44u);
}

TEST(DemoUpstream, RefusesBadEmbeddingInput) {
  EXPECT_EQ(error_code(post("/v1/embeddings", R"({"model":"demo-small"})"), 400), "missing_required_parameter");
  EXPECT_EQ(error_code(post("/v1/embeddings", R"({"model":"demo-small","input":[1,2,3]})"), 400), "invalid_type");
  EXPECT_EQ(error_code(post("/v1/embeddings", R"({"model":"demo-small","input":[]})"), 400), "invalid_value");
  EXPECT_EQ(error_code(post("/v1/embeddings", R"({"model":"nope","input":"x"})"), 404), "model_not_found");
  EXPECT_EQ(error_code(post("/v1/embeddings", R"({"model":"demo-small","input":"x","encoding_format":"hex"})"), 400),
            "invalid_value");
}

TEST(DemoUpstream, RequiresTheBearerKeyWhenConfigured) {
  DemoUpstreamOptions options;
  options.api_key = "sk-demo-123";
  auto missing = handle_demo_upstream(request("GET", "/v1/models"), options);
  EXPECT_EQ(error_code(missing, 401), "invalid_api_key");

  auto wrong = request("GET", "/v1/models");
  wrong.headers = {{"authorization", "Bearer sk-demo-124"}};
  EXPECT_EQ(error_code(handle_demo_upstream(wrong, options), 401), "invalid_api_key");
  wrong.headers = {{"authorization", "Bearer sk-demo-12"}};
  EXPECT_EQ(error_code(handle_demo_upstream(wrong, options), 401), "invalid_api_key");
  wrong.headers = {{"authorization", "Basic sk-demo-123"}};
  EXPECT_EQ(error_code(handle_demo_upstream(wrong, options), 401), "invalid_api_key");

  auto right = request("GET", "/v1/models");
  right.headers = {{"authorization", "Bearer sk-demo-123"}};
  EXPECT_EQ(handle_demo_upstream(right, options).status, 200);
}

TEST(DemoUpstream, UnknownPathIs404AndWrongMethodIs405) {
  EXPECT_EQ(error_code(handle_demo_upstream(request("GET", "/v1/completions"), {}), 404), "unknown_url");
  auto r = handle_demo_upstream(request("GET", "/v1/chat/completions"), {});
  EXPECT_EQ(error_code(r, 405), "method_not_allowed");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "allow");
  EXPECT_EQ(r.headers[0].second, "POST");
  EXPECT_EQ(error_code(handle_demo_upstream(request("DELETE", "/v1/models"), {}), 405), "method_not_allowed");
}

TEST(DemoUpstream, UnknownPathWithRawBytesStillGivesValidJson) {
  auto r = handle_demo_upstream(request("GET", "/v1/\xFF\xFE?x=1"), {});
  EXPECT_EQ(error_code(r, 404), "unknown_url");  // error_code parses the body
}

}  // namespace
}  // namespace ztgate::gateway
