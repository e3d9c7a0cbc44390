// WebhookSink: each batch as one HTTP POST of NDJSON (Content-Type
// application/x-ndjson): the sealed records as stored, one per line, in seq
// order. Any 2xx means delivered; anything else (and any transport failure)
// fails the batch and the runner posts it again after its backoff, or after
// the receiver's Retry-After (delta-seconds or an HTTP-date; capped by the
// runner). Receivers dedupe on attestation.uid (the seq).
//
// Authentication: an optional bearer token, read from the environment
// variable `bearer_env` once at startup, or from `bearer_file` before each
// POST (so a rotated token is picked up). It is sent only in the
// Authorization header, never logged, never put in an error message. The
// URL must be https:// (chain and host name verified, net/https_client.h)
// unless `allow_plain_http` (a loopback collector; tests).
//
// Error codes: audit_sink_config (bad URL, both or neither token source
// unreadable at startup), audit_sink_token (the token file cannot be read
// or holds something that is not a token), audit_sink_http_status (non-2xx:
// the status in the message), audit_sink_record (a record with a raw CR or
// LF), and the net_* codes of net/https_client.h.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "audit/sink.h"

namespace ztgate::audit {

struct WebhookSinkOptions {
  std::string name;  // cursor key, e.g. "webhook:soc"
  std::string url;
  std::string bearer_env;   // "" = none
  std::string bearer_file;  // "" = none (at most one of the two)
  bool allow_plain_http = false;
  std::string ca_file;                        // "" = system trust store
  std::chrono::milliseconds timeout{10'000};  // whole exchange (connect within min(timeout, 5 s))
};

inline constexpr size_t kMaxBearerTokenBytes = 8192;

class WebhookSink final : public Sink {
 public:
  static Result<std::unique_ptr<WebhookSink>> create(WebhookSinkOptions options);

  const std::string& name() const override { return options_.name; }
  Status deliver(const std::vector<StoredRecord>& batch) override;
  std::chrono::milliseconds retry_after() const override { return retry_after_; }

 private:
  explicit WebhookSink(WebhookSinkOptions options) : options_(std::move(options)) {}
  Result<std::string> token() const;  // "" when none is configured

  WebhookSinkOptions options_;
  std::string env_token_;
  std::chrono::milliseconds retry_after_{0};
};

// Retry-After (RFC 9110 §10.2.3): delta-seconds or an IMF-fixdate, relative
// to `now_s` (Unix seconds); zero when absent, past or unparseable.
std::chrono::milliseconds parse_retry_after(std::string_view value, int64_t now_s);

}  // namespace ztgate::audit
