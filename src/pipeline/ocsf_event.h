// The audit event of one exchange, shaped as OCSF 1.9.0: an API Activity
// (class 6003) event with the ai_operation, security_control and
// record_integrity profiles, plus the fields the trail indexes for search
// (audit::Event). docs/AUDIT.md, "The event (OCSF)", maps every field.
//
// ocsf_event() reads a finished Exchange and writes the event JSON straight
// into one reserved string (no JSON DOM: it runs once per request on the
// proxy's hot path). The object never has an "attestation" member: the
// trail appends that when it seals the event into the chain (audit/chain.h).
//
// What it never writes: x.credentials (bearer tokens, certificates, device
// assertions are not read at all), upstream API keys, error messages shown to
// the client (only their codes). Payloads appear only as the route's
// PayloadMode says:
//   kNone      nothing
//   kHash      {"length":N,"sha256":"<hex>"} of the request and response
//   kRedacted  the JSON structure with every string value replaced by
//              {"redacted":true,"length":N,"sha256":"<hex>"} (keys, numbers,
//              booleans and nulls kept); a payload that is not JSON, nests
//              deeper than kMaxRedactDepth, exceeds kMaxRedactInputBytes, or
//              whose redacted form exceeds max_payload_bytes gets the hash
//              form instead, with "redaction":"<why not>"
//   kFull      {"length":N,"text":"<the first max_payload_bytes>","truncated":b}
//              (cut on a UTF-8 character boundary)
// Lengths and digests are over the payload's raw bytes.
//
// Text: every string is JSON-escaped; bytes that are not valid UTF-8 (RFC
// 3629: overlongs, surrogates and code points above U+10FFFF included) are
// replaced, one per byte, by U+FFFD (written "\ufffd"), so the output is
// always valid JSON in valid UTF-8 whatever the input bytes.
//
// Egress exchanges (context.destination) get dst_endpoint {hostname, ip,
// port}: ip is the address connected to (x.destination_address) or the
// literal the client named.
//
// Bounds: at most kMaxListedPolicies determining policies and kMaxListedErrors
// evaluation errors are listed (the counts are always given); adapter facts
// (context, usage, details) are written to depth kMaxFactDepth. Pure and
// thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "audit/event.h"
#include "pipeline/exchange.h"

namespace ztgate::pipeline {

inline constexpr std::string_view kOcsfVersion = "1.9.0";
inline constexpr size_t kDefaultMaxPayloadBytes = 64 * 1024;
inline constexpr size_t kMaxRedactDepth = 32;
inline constexpr size_t kMaxRedactInputBytes = 1024 * 1024;  // parsed into a DOM: bounded
inline constexpr size_t kMaxListedPolicies = 64;
inline constexpr size_t kMaxListedErrors = 16;
inline constexpr size_t kMaxErrorMessageBytes = 512;
inline constexpr int kMaxFactDepth = 8;

// What the trail keeps of request and response bodies (per route).
enum class PayloadMode : uint8_t { kNone, kHash, kRedacted, kFull };

std::string_view to_string(PayloadMode mode);  // "none", "hash", "redacted", "full"

struct EventOptions {
  uint64_t config_version = 0;       // the configuration the exchange ran on
  std::string_view product_version;  // ztgate's version (metadata.product.version)
  PayloadMode payload_mode = PayloadMode::kNone;
  size_t max_payload_bytes = kDefaultMaxPayloadBytes;
  std::string_view request_payload;   // the request body as received
  std::string_view response_payload;  // the answer's body (or the part kept of it)
  // Facts the Exchange does not carry; "" = unknown, left out.
  std::string_view http_method;     // http_request.http_method
  std::string_view trace_id;        // metadata.correlation_uid (e.g. the W3C trace id)
  std::string_view model_provider;  // ai_model.ai_provider ("" = the upstream's id)
  std::string_view delegation_uid;  // the delegation token's id ("" = the chain's task id)
  // When the exchange ended (duration, end_time); default: now.
  std::optional<std::chrono::steady_clock::time_point> ended;
};

// The event of a finished exchange. Indexed fields: time_ms (start, Unix ms),
// request_id, route; principal = the delegation chain's user, else the
// authenticated principal (Cedar entity text, "" = none); agent = the acting
// agent (the chain's last entry, or an authenticated Agent principal; entity
// text); action = the action id (e.g. invoke_model); resource = entity text;
// decision = "allow" / "deny" ("deny" also when the policy allowed and a
// later control refused with 403: the egress SSRF floor), or for an exchange with no single decision
// "allow" when it was answered with a 1xx-3xx status (an adapter that decides
// per item: a PDP batch, a model listing) and "error" otherwise (refused
// before a decision: authentication, bad input, internal error); findings =
// the inspection categories of x.findings, space-separated ("injection",
// "hidden_text", rule categories; "" = none).
audit::Event ocsf_event(const Exchange& x, const EventOptions& options);

}  // namespace ztgate::pipeline
