// The demo upstream (demo_upstream.h): authentication, routing and the three
// OpenAI endpoints. Every reply is derived from the request alone.
#include "gateway/demo_upstream.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ztgate::gateway {
namespace {

namespace json = boost::json;

constexpr std::int64_t kCreated = 1700000000;  // fixed, so replies are deterministic
constexpr std::string_view kOwner = "ztgate-demo";
constexpr std::string_view kReplyPrefix = "Hello from the ztgate demo model. You said: ";
constexpr std::size_t kMaxMessages = 1024;
constexpr std::size_t kMaxEmbeddingInputs = 2048;
constexpr std::size_t kMaxEchoInError = 64;  // bytes of a caller's string quoted in a message

// ---- small pure helpers ----

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// The longest prefix of at most max bytes that does not split a UTF-8
// sequence (the input is valid UTF-8: Boost.JSON rejects anything else).
std::string_view truncate_utf8(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::size_t count_words(std::string_view s) {
  std::size_t words = 0;
  bool in_word = false;
  for (char c : s) {
    if (!is_space(c) && !in_word) ++words;
    in_word = !is_space(c);
  }
  return words;
}

// Pieces that concatenate back to s: each is a word with the whitespace after
// it (the first also keeps any leading whitespace).
std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> pieces;
  std::size_t i = 0, start = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  while (i < s.size()) {
    while (i < s.size() && !is_space(s[i])) ++i;
    while (i < s.size() && is_space(s[i])) ++i;
    pieces.push_back(s.substr(start, i - start));
    start = i;
  }
  if (start < s.size()) pieces.push_back(s.substr(start));  // whitespace only
  return pieces;
}

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ULL) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::string hex12(std::uint64_t h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(12, '0');
  for (int i = 11; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = kDigits[h & 0xF];
  return out;
}

// ---- errors, in OpenAI's shape ----

int status_for(std::string_view code) {
  if (code == "invalid_api_key") return 401;
  if (code == "model_not_found" || code == "unknown_url") return 404;
  if (code == "method_not_allowed") return 405;
  if (code == "request_too_large") return 413;
  if (code == "internal_error") return 500;
  return 400;
}

// Field by field, not aggregate-initialised: HttpResponse may grow members.
HttpResponse response(int status, std::string_view content_type, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = std::string(content_type);
  r.body = std::move(body);
  return r;
}

HttpResponse openai_error(const Error& e) {
  json::object err{{"message", e.message}, {"type", "invalid_request_error"}, {"param", nullptr}, {"code", e.code}};
  return response(status_for(e.code), "application/json", json::serialize(json::object{{"error", std::move(err)}}));
}

HttpResponse json_ok(const json::value& v) { return response(200, "application/json", json::serialize(v)); }

std::string quoted(std::string_view caller_text) {
  auto cut = truncate_utf8(caller_text, kMaxEchoInError);
  return "`" + std::string(cut) + (cut.size() < caller_text.size() ? "...`" : "`");
}

// Raw request bytes (method, path) quoted in a message: printable ASCII only,
// so the JSON we write stays valid UTF-8.
std::string printable(std::string_view raw, std::size_t max) {
  std::string out;
  for (char c : raw.substr(0, max)) out += (c >= 0x20 && c < 0x7F) ? c : '?';
  return out;
}

// ---- authentication ----

bool authorized(const HttpRequest& request, const std::string& key) {
  const std::string header = request.header("authorization");
  std::string_view value = header;
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() < kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return false;
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return value.size() == key.size() && CRYPTO_memcmp(value.data(), key.data(), key.size()) == 0;
}

// ---- request parsing ----

Result<json::object> parse_body(std::string_view body) {
  json::parse_options opts;
  opts.max_depth = kDemoMaxJsonDepth;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, {}, opts);
  if (ec == json::error::too_deep)
    return make_error("request_too_large", "JSON nesting is deeper than " + std::to_string(kDemoMaxJsonDepth));
  if (ec) return make_error("invalid_json", "We could not parse the JSON body of your request (" + ec.message() + ")");
  if (!v.is_object()) return make_error("invalid_json", "The request body must be a JSON object");
  return std::move(v.as_object());
}

Result<std::string> known_model(const json::object& body, const DemoUpstreamOptions& options) {
  const json::value* m = body.if_contains("model");
  if (m == nullptr || m->is_null()) return make_error("missing_required_parameter", "You must provide a model parameter");
  if (!m->is_string()) return make_error("invalid_type", "model must be a string");
  std::string name(m->as_string());
  if (std::find(options.models.begin(), options.models.end(), name) == options.models.end())
    return make_error("model_not_found", "The model " + quoted(name) + " does not exist (see GET /v1/models)");
  return name;
}

// Absent or null: fallback. Otherwise it must be a boolean.
Result<bool> optional_bool(const json::object& o, std::string_view key, bool fallback) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_bool()) return make_error("invalid_type", std::string(key) + " must be a boolean");
  return v->as_bool();
}

struct ChatRequest {
  std::string model;
  std::string last_user_message;
  std::size_t prompt_words = 0;
  bool stream = false;
  bool include_usage = false;
};

Status read_messages(const json::object& body, ChatRequest& out) {
  const json::value* m = body.if_contains("messages");
  if (m == nullptr || m->is_null()) return make_error("missing_required_parameter", "You must provide messages");
  if (!m->is_array()) return make_error("invalid_type", "messages must be an array");
  const json::array& messages = m->as_array();
  if (messages.empty()) return make_error("invalid_value", "messages must not be empty");
  if (messages.size() > kMaxMessages)
    return make_error("invalid_value", "messages holds more than " + std::to_string(kMaxMessages) + " entries");
  static constexpr std::array<std::string_view, 6> kRoles{"system", "developer", "user", "assistant", "tool", "function"};
  for (std::size_t i = 0; i < messages.size(); ++i) {
    std::string where = "messages[" + std::to_string(i) + "]";
    const json::object* msg = messages[i].if_object();
    if (msg == nullptr) return make_error("invalid_type", where + " must be an object");
    const json::value* role = msg->if_contains("role");
    if (role == nullptr || !role->is_string()) return make_error("invalid_type", where + ".role must be a string");
    std::string_view r = role->as_string();
    if (std::find(kRoles.begin(), kRoles.end(), r) == kRoles.end())
      return make_error("invalid_value", where + ".role " + quoted(r) + " is not a known role");
    const json::value* content = msg->if_contains("content");
    if (content == nullptr || !content->is_string())
      return make_error("invalid_type", where + ".content must be a string");
    std::string_view text = content->as_string();
    out.prompt_words += count_words(text);
    if (r == "user") out.last_user_message = std::string(text);
  }
  return Ok{};
}

Result<ChatRequest> parse_chat(std::string_view text, const DemoUpstreamOptions& options) {
  auto body = parse_body(text);
  if (!body) return body.error();
  ChatRequest out;
  auto model = known_model(*body, options);
  if (!model) return model.error();
  out.model = std::move(*model);
  if (auto ok = read_messages(*body, out); !ok) return ok.error();
  auto stream = optional_bool(*body, "stream", false);
  if (!stream) return stream.error();
  out.stream = *stream;
  if (const json::value* so = body->if_contains("stream_options"); so != nullptr && !so->is_null()) {
    if (!out.stream) return make_error("invalid_value", "stream_options is only allowed when stream is true");
    if (!so->is_object()) return make_error("invalid_type", "stream_options must be an object");
    auto usage = optional_bool(so->as_object(), "include_usage", false);
    if (!usage) return usage.error();
    out.include_usage = *usage;
  }
  return out;
}

// ---- chat completions ----

json::object usage_of(std::size_t prompt, std::size_t completion) {
  return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
}

HttpResponse chat_response(const ChatRequest& req, const std::string& id, const std::string& content) {
  json::object message{{"role", "assistant"}, {"content", content}, {"refusal", nullptr}};
  json::object choice{{"index", 0}, {"message", std::move(message)}, {"logprobs", nullptr}, {"finish_reason", "stop"}};
  return json_ok(json::object{{"id", id},
                              {"object", "chat.completion"},
                              {"created", kCreated},
                              {"model", req.model},
                              {"choices", json::array{std::move(choice)}},
                              {"usage", usage_of(req.prompt_words, count_words(content))}});
}

HttpResponse chat_stream(const ChatRequest& req, const std::string& id, const std::string& content) {
  auto chunk = [&](json::array choices) {
    json::object c{{"id", id}, {"object", "chat.completion.chunk"}, {"created", kCreated}, {"model", req.model},
                   {"choices", std::move(choices)}};
    if (req.include_usage) c["usage"] = nullptr;  // as OpenAI: null on every chunk but the usage one
    return c;
  };
  auto choice = [](json::object delta, json::value finish) {
    return json::array{
        json::object{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}, {"finish_reason", std::move(finish)}}};
  };
  std::string sse;
  auto emit = [&sse](const json::object& o) { sse += "data: " + json::serialize(o) + "\n\n"; };
  bool first = true;
  for (std::string_view piece : split_words(content)) {
    json::object delta;
    if (first) delta["role"] = "assistant";
    delta["content"] = piece;
    emit(chunk(choice(std::move(delta), nullptr)));
    first = false;
  }
  emit(chunk(choice({}, "stop")));
  if (req.include_usage) {
    json::object last = chunk(json::array{});
    last["usage"] = usage_of(req.prompt_words, count_words(content));
    emit(last);
  }
  sse += "data: [DONE]\n\n";
  HttpResponse r = response(200, "text/event-stream", std::move(sse));
  r.headers.emplace_back("cache-control", "no-cache");
  return r;
}

HttpResponse chat_completions(const HttpRequest& request, const DemoUpstreamOptions& options) {
  auto req = parse_chat(request.body, options);
  if (!req) return openai_error(req.error());
  std::string id = "chatcmpl-demo-" + hex12(fnv1a(request.body));
  std::string content = std::string(kReplyPrefix) +
                        std::string(truncate_utf8(req->last_user_message, kDemoMaxReplyEchoBytes));
  return req->stream ? chat_stream(*req, id, content) : chat_response(*req, id, content);
}

// ---- embeddings ----

// A deterministic unit vector from the text's hash, rounded to 6 decimals so
// the JSON stays short; base64 carries the same values as float32.
std::array<double, kDemoEmbeddingDims> embed(std::string_view text) {
  std::array<double, kDemoEmbeddingDims> v{};
  std::uint64_t state = fnv1a(text);
  double norm = 0;
  for (double& x : v) {
    x = static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53 * 2.0 - 1.0;
    norm += x * x;
  }
  norm = std::sqrt(norm);
  for (double& x : v) x = norm > 0 ? std::round(x / norm * 1e6) / 1e6 : 0.0;
  return v;
}

std::string base64_float32(const std::array<double, kDemoEmbeddingDims>& v) {
  std::array<unsigned char, kDemoEmbeddingDims * 4> bytes{};
  for (std::size_t i = 0; i < v.size(); ++i) {
    float f = static_cast<float>(v[i]);
    std::uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof bits);
    for (std::size_t b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<unsigned char>(bits >> (8 * b));
  }
  std::array<unsigned char, (bytes.size() + 2) / 3 * 4 + 1> out{};
  int n = EVP_EncodeBlock(out.data(), bytes.data(), static_cast<int>(bytes.size()));
  return std::string(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
}

Result<std::vector<std::string>> embedding_inputs(const json::object& body) {
  const json::value* in = body.if_contains("input");
  if (in == nullptr || in->is_null()) return make_error("missing_required_parameter", "You must provide input");
  if (in->is_string()) return std::vector<std::string>{std::string(in->as_string())};
  constexpr std::string_view kShape = "input must be a string or an array of strings (token arrays are not supported)";
  if (!in->is_array()) return make_error("invalid_type", std::string(kShape));
  const json::array& items = in->as_array();
  if (items.empty()) return make_error("invalid_value", "input must not be empty");
  if (items.size() > kMaxEmbeddingInputs)
    return make_error("invalid_value", "input holds more than " + std::to_string(kMaxEmbeddingInputs) + " entries");
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const auto& item : items) {
    if (!item.is_string()) return make_error("invalid_type", std::string(kShape));
    out.emplace_back(item.as_string());
  }
  return out;
}

Result<bool> wants_base64(const json::object& body) {
  const json::value* f = body.if_contains("encoding_format");
  if (f == nullptr || f->is_null()) return false;
  if (f->is_string() && f->as_string() == "float") return false;
  if (f->is_string() && f->as_string() == "base64") return true;
  return make_error("invalid_value", "encoding_format must be \"float\" or \"base64\"");
}

HttpResponse embeddings(const HttpRequest& request, const DemoUpstreamOptions& options) {
  auto body = parse_body(request.body);
  if (!body) return openai_error(body.error());
  auto model = known_model(*body, options);
  if (!model) return openai_error(model.error());
  auto inputs = embedding_inputs(*body);
  if (!inputs) return openai_error(inputs.error());
  auto base64 = wants_base64(*body);
  if (!base64) return openai_error(base64.error());
  if (const json::value* d = body->if_contains("dimensions");
      d != nullptr && !d->is_null() && !(d->is_int64() && d->as_int64() == static_cast<std::int64_t>(kDemoEmbeddingDims)))
    return openai_error(make_error("invalid_value", "the demo model only has " + std::to_string(kDemoEmbeddingDims) +
                                                        " dimensions"));
  json::array data;
  std::size_t words = 0;
  for (std::size_t i = 0; i < inputs->size(); ++i) {
    const std::string& text = (*inputs)[i];
    words += count_words(text);
    auto v = embed(text);
    json::value embedding = *base64 ? json::value(base64_float32(v)) : json::value(json::array(v.begin(), v.end()));
    data.push_back(json::object{{"object", "embedding"}, {"index", i}, {"embedding", std::move(embedding)}});
  }
  return json_ok(json::object{{"object", "list"},
                              {"data", std::move(data)},
                              {"model", *model},
                              {"usage", json::object{{"prompt_tokens", words}, {"total_tokens", words}}}});
}

// ---- models ----

json::object model_object(const std::string& id) {
  return {{"id", id}, {"object", "model"}, {"created", kCreated}, {"owned_by", kOwner}};
}

HttpResponse list_models(const DemoUpstreamOptions& options) {
  json::array data;
  for (const auto& m : options.models) data.push_back(model_object(m));
  return json_ok(json::object{{"object", "list"}, {"data", std::move(data)}});
}

HttpResponse get_model(std::string_view id, const DemoUpstreamOptions& options) {
  if (std::find(options.models.begin(), options.models.end(), id) == options.models.end())
    return openai_error(make_error("model_not_found", "The model `" + printable(id, kMaxEchoInError) + "` does not exist"));
  return json_ok(model_object(std::string(id)));
}

// ---- routing ----

HttpResponse method_not_allowed(const HttpRequest& request, std::string_view allowed) {
  HttpResponse r = openai_error(make_error(
      "method_not_allowed", printable(request.method, 16) + " is not allowed on " + request.path() +
                                " (use " + std::string(allowed) + ")"));
  r.headers.emplace_back("allow", std::string(allowed));
  return r;
}

HttpResponse route(const HttpRequest& request, const DemoUpstreamOptions& options) {
  if (!options.api_key.empty() && !authorized(request, options.api_key)) {
    bool missing = request.header("authorization").empty();
    HttpResponse r = openai_error(make_error(
        "invalid_api_key", missing ? "You didn't provide an API key (Authorization: Bearer <key>)"
                                   : "Incorrect API key provided"));
    r.headers.emplace_back("www-authenticate", "Bearer");
    return r;
  }
  if (request.body.size() > kDemoMaxBodyBytes)
    return openai_error(make_error("request_too_large",
                                   "The request body exceeds " + std::to_string(kDemoMaxBodyBytes) + " bytes"));
  const std::string path = request.path();
  constexpr std::string_view kModelPrefix = "/v1/models/";
  if (path == "/v1/models")
    return request.method == "GET" ? list_models(options) : method_not_allowed(request, "GET");
  if (path.size() > kModelPrefix.size() && path.starts_with(kModelPrefix))
    return request.method == "GET" ? get_model(std::string_view(path).substr(kModelPrefix.size()), options)
                                   : method_not_allowed(request, "GET");
  if (path == "/v1/chat/completions")
    return request.method == "POST" ? chat_completions(request, options) : method_not_allowed(request, "POST");
  if (path == "/v1/embeddings")
    return request.method == "POST" ? embeddings(request, options) : method_not_allowed(request, "POST");
  return openai_error(make_error("unknown_url", "Invalid URL (" + printable(request.method, 16) + " " +
                                                    printable(path, 200) + ")"));
}

}  // namespace

HttpResponse handle_demo_upstream(const HttpRequest& request, const DemoUpstreamOptions& options) {
  try {
    return route(request, options);
  } catch (const std::exception&) {  // allocation failure: nothing else throws here
    return openai_error(make_error("internal_error", "The demo upstream could not handle the request"));
  }
}

}  // namespace ztgate::gateway
