#include "audit/sinks/webhook_sink.h"

#include <cstdlib>
#include <ctime>
#include <fstream>

#include "common/clock.h"
#include "net/https_client.h"

namespace ztgate::audit {
namespace {

// RFC 6750 §2.1 b64token.
bool is_token(std::string_view t) {
  if (t.empty() || t.size() > kMaxBearerTokenBytes) return false;
  size_t i = 0;
  auto body = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
  };
  while (i < t.size() && body(t[i])) ++i;
  if (i == 0) return false;
  while (i < t.size() && t[i] == '=') ++i;
  return i == t.size();
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

Result<std::string> read_token_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("audit_sink_token", "cannot read the bearer token file " + path);
  std::string text(kMaxBearerTokenBytes + 2, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  std::string_view token = trim(text);
  if (!is_token(token))
    return make_error("audit_sink_token",
                      "the bearer token file " + path + " does not hold one RFC 6750 token");
  return std::string(token);
}

// scheme://host:port, for messages: the path or query may carry a secret.
std::string where(const net::HttpsUrl& u) {
  return std::string(u.tls ? "https://" : "http://") +
         (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) + ":" +
         std::to_string(u.port);
}

}  // namespace

std::chrono::milliseconds parse_retry_after(std::string_view value, int64_t now_s) {
  value = trim(value);
  if (value.empty()) return std::chrono::milliseconds{0};
  constexpr int64_t kMaxSeconds = 86'400;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    int64_t seconds = 0;
    for (char c : value) {
      seconds = seconds * 10 + (c - '0');
      if (seconds > kMaxSeconds) return std::chrono::seconds(kMaxSeconds);
    }
    return std::chrono::seconds(seconds);
  }
  tm parsed{};
  std::string text(value.substr(0, 64));
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parsed);
  if (end == nullptr || *end != '\0') return std::chrono::milliseconds{0};
  int64_t at = timegm(&parsed);
  if (at <= now_s) return std::chrono::milliseconds{0};
  return std::chrono::seconds(std::min(at - now_s, kMaxSeconds));
}

Result<std::unique_ptr<WebhookSink>> WebhookSink::create(WebhookSinkOptions options) {
  auto bad = [&](const std::string& what) {
    return make_error("audit_sink_config", "sink " + options.name + ": " + what);
  };
  if (options.name.empty()) return make_error("audit_sink_config", "a webhook sink needs a name");
  auto url = net::parse_http_url(options.url, options.allow_plain_http);
  if (!url) return bad(url.error().message);
  if (options.timeout.count() <= 0) return bad("timeout must be positive");
  if (!options.bearer_env.empty() && !options.bearer_file.empty())
    return bad("set bearer_env or bearer_file, not both");
  std::unique_ptr<WebhookSink> sink(new WebhookSink(std::move(options)));
  const WebhookSinkOptions& o = sink->options_;
  if (!o.bearer_env.empty()) {
    const char* value = std::getenv(o.bearer_env.c_str());
    if (value == nullptr || !is_token(trim(value)))
      return bad("environment variable " + o.bearer_env + " does not hold a bearer token");
    sink->env_token_ = std::string(trim(value));
  }
  if (!o.bearer_file.empty())
    if (auto t = read_token_file(o.bearer_file); !t) return bad(t.error().message);
  return sink;
}

Result<std::string> WebhookSink::token() const {
  if (!env_token_.empty()) return env_token_;
  if (!options_.bearer_file.empty()) return read_token_file(options_.bearer_file);
  return std::string();
}

Status WebhookSink::deliver(const std::vector<StoredRecord>& batch) {
  retry_after_ = std::chrono::milliseconds{0};
  std::string body;
  for (const auto& r : batch) {
    if (r.text.find_first_of("\r\n") != std::string::npos)
      return make_error("audit_sink_record",
                        "record " + std::to_string(r.seq) +
                            " contains a line break and cannot be sent as one NDJSON line");
    body += r.text;
    body += '\n';
  }
  auto bearer = token();
  if (!bearer) return bearer.error();
  std::vector<net::HttpHeader> headers;
  if (!bearer->empty()) headers.push_back({"Authorization", "Bearer " + *bearer});
  net::HttpsClientOptions http;
  http.ca_file = options_.ca_file;
  http.allow_plain_http = options_.allow_plain_http;
  http.total_timeout = options_.timeout;
  http.connect_timeout = std::min(options_.timeout, std::chrono::milliseconds{5000});
  auto response =
      net::http_post(options_.url, "application/x-ndjson", std::move(body), headers, http);
  if (!response) return response.error();
  if (response->status >= 200 && response->status < 300) return Ok{};
  retry_after_ = parse_retry_after(response->retry_after, now_s());
  auto url = net::parse_http_url(options_.url, options_.allow_plain_http);
  return make_error("audit_sink_http_status", (url ? where(*url) : std::string("webhook")) +
                                                  " answered HTTP " +
                                                  std::to_string(response->status));
}

}  // namespace ztgate::audit
