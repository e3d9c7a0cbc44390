// A small synchronous HTTPS client: GET for fetching public documents (JWKS,
// OIDC discovery), POST for shipping data (the audit webhook sink).
// Boost.Beast + Asio + OpenSSL 3 underneath; none of it leaks into this
// header.
//
// Guarantees:
//   - https:// only; the server chain is verified against `ca_file` (PEM) or
//     the system default paths; the name in the URL must match the
//     certificate (DNS SAN, or IP SAN for an IP literal); SNI is sent for DNS
//     names; TLS 1.2 at least.
//   - Bounded: `connect_timeout` for TCP connect, `total_timeout` for the
//     whole exchange (resolve, connect, handshake, request, response); at most
//     `max_header_bytes` of response header and `max_body_bytes` of body.
//   - Redirects are never followed: a 3xx is the error net_redirect.
//   - https_get: a non-2xx status is the error net_http_status (status in
//     the message). http_post: every status but 3xx is a response, so the
//     caller can read it (and Retry-After).
//   - http_post sends plain http:// only when the caller sets
//     allow_plain_http (loopback receivers, tests); never by default.
//   - Thread-safe: every call uses its own io_context, socket and TLS context.
//
// Error codes (stable):
//   net_bad_url      not an absolute https URL we accept (userinfo, fragment,
//                    bad port, control characters, longer than 2048 bytes)
//   net_resolve      the host name does not resolve
//   net_connect      TCP connect failed on every address
//   net_tls          TLS handshake failed: untrusted chain, name mismatch, ...
//   net_timeout      a deadline passed
//   net_too_large    response header or body larger than the bound
//   net_redirect     a 3xx response
//   net_http_status  any other non-2xx response
//   net_io           the connection failed while sending or receiving
//   net_bad_request  a request header name or value we refuse to send
//                    (empty name, CR, LF or other control bytes)
// Messages name the host and the failing step, never request headers or
// bodies (POST callers pass credentials in headers).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ztgate::net {

struct HttpsClientOptions {
  std::string ca_file;  // PEM bundle of trust anchors; "" = system default paths
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds total_timeout{5000};
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  // http_post only: also accept http:// URLs (sent in clear). https_get
  // ignores it.
  bool allow_plain_http = false;
};

struct HttpResponse {
  int status = 0;             // 2xx for https_get; any non-3xx for http_post
  std::string cache_control;  // "" when absent
  std::string content_type;   // "" when absent
  std::string body;
  std::string retry_after;    // the Retry-After header as sent; "" when absent
};

struct HttpsUrl {
  std::string host;  // without brackets for IPv6 literals
  uint16_t port = 443;
  std::string target;  // path and query, at least "/"
  bool tls = true;     // false only for an http:// URL parse_http_url accepted
};

struct HttpHeader {
  std::string name;
  std::string value;
};

inline constexpr size_t kMaxUrlBytes = 2048;

// Parses "https://host[:port][/path][?query]". Error code net_bad_url.
Result<HttpsUrl> parse_https_url(std::string_view url);
// The same, and also "http://..." (port 80 by default) when `allow_plain`.
Result<HttpsUrl> parse_http_url(std::string_view url, bool allow_plain);

// GET `url`. See the guarantees above.
Result<HttpResponse> https_get(std::string_view url, const HttpsClientOptions& options = {});

// POST `body` (with Content-Type `content_type` and the extra `headers`) to
// `url`, Connection: close. Returns the response whatever its status but 3xx
// (net_redirect); transport failures are errors as for https_get.
Result<HttpResponse> http_post(std::string_view url, std::string_view content_type,
                               std::string body, const std::vector<HttpHeader>& headers,
                               const HttpsClientOptions& options = {});

}  // namespace ztgate::net
