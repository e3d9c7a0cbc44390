// A tiny OpenAI-compatible upstream for the quickstart (`ztgate demo-upstream`),
// so the gateway has a "model" to proxy to without any external server. It is
// not a model: every reply is computed from the request by fixed rules.
//
// handle_demo_upstream is a pure function (no I/O, no clock, no randomness):
// the same request gives the same bytes. Endpoints:
//   GET  /v1/models            {"object":"list","data":[{id,object,created,owned_by}]}
//   GET  /v1/models/{id}       one model object (404 model_not_found if unknown)
//   POST /v1/chat/completions  "Hello from the ztgate demo model. You said: " +
//                              the last user message (at most 200 bytes, cut
//                              at a UTF-8 boundary). "stream": true returns the
//                              whole SSE body at once: one chat.completion.chunk
//                              per word (the first delta carries role
//                              "assistant"), a final chunk with finish_reason
//                              "stop", a usage chunk when
//                              stream_options.include_usage, then [DONE].
//   POST /v1/embeddings        input: string or array of strings; 8-dim unit
//                              vectors derived from a hash of each string;
//                              encoding_format "float" (default) or "base64"
//                              (little-endian float32, as the OpenAI SDKs ask).
// Token counts in "usage" are whitespace-separated word counts.
//
// Errors use OpenAI's shape, {"error":{"message","type","param","code"}}:
//   401 invalid_api_key           options.api_key set and the request lacks
//                                 "Authorization: Bearer <that key>" (checked
//                                 first, on every path; constant-time compare)
//   400 invalid_json              body is not JSON (or not an object)
//   400 missing_required_parameter / invalid_type / invalid_value
//   404 model_not_found           model not in options.models
//   404 unknown_url, 405 method_not_allowed (with an Allow header)
//   413 request_too_large         body over kDemoMaxBodyBytes or JSON nested
//                                 deeper than kDemoMaxJsonDepth
// Bounds: body 1 MiB, JSON depth 32, messages 1024, embedding inputs 2048.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "gateway/http_server.h"

namespace ztgate::gateway {

inline constexpr std::size_t kDemoMaxBodyBytes = 1024 * 1024;
inline constexpr std::size_t kDemoMaxJsonDepth = 32;
inline constexpr std::size_t kDemoMaxReplyEchoBytes = 200;
inline constexpr std::size_t kDemoEmbeddingDims = 8;

struct DemoUpstreamOptions {
  std::vector<std::string> models{"demo-small"};
  std::string api_key;  // "" = no authentication
};

// Thread-safe (reads only its arguments).
HttpResponse handle_demo_upstream(const HttpRequest& request, const DemoUpstreamOptions& options);

}  // namespace ztgate::gateway
