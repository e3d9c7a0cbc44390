// The protocol adapters' side of the gateway (Envoy's filter-chain shape: the
// adapter decodes, the pipeline verifies, the adapter answers or the server
// forwards).
//
// An adapter turns an HTTP request into an Exchange (adapter name, action,
// resource, context, or decide_many for PDP queries and filtered listings)
// and returns an AdapterCall holding what it parsed. Bad input sets
// x.ending (400 with a stable code); the exchange is still recorded. After
// the pipeline let the exchange through, respond() gives the answer: a
// response, or a request to forward upstream.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <variant>

#include "gateway/http_server.h"
#include "pipeline/exchange.h"

namespace ztgate::gateway {

// An answer computed off the server's threads (an MCP call to a tool
// server): `work` runs on a thread `submit` provides (false: no room, the
// client gets 503) and returns the answer; the exchange completes after it.
// No answer within `timeout`: 504 upstream_timeout, and work's late answer
// is dropped.
// What deferred work may call back into: the pipeline's output stages for
// each piece of the answer, and a second decision once content that
// arrived late (a tool's result) was inspected into the context.
struct DeferredHooks {
  std::function<void(std::string_view)> output;
  std::function<bool(pipeline::Exchange&)> redecide;  // Pipeline::redecide
};

struct Deferred {
  std::function<HttpResponse(pipeline::Exchange&, const DeferredHooks& hooks)> work;
  std::function<bool(std::function<void()>)> submit;
  std::chrono::milliseconds timeout{60'000};
};

using AdapterAnswer = std::variant<HttpResponse, ForwardRequest, Deferred>;

class AdapterCall {
 public:
  virtual ~AdapterCall() = default;
  virtual AdapterAnswer respond(pipeline::Exchange& x) = 0;
  // When a stage ended the exchange (x.ending): the adapter's own form of
  // that answer (MCP: a JSON-RPC error), or nullopt for ztgate's JSON error.
  virtual std::optional<HttpResponse> answer_ending(const pipeline::Exchange&) { return std::nullopt; }
};

// Endpoints: see the adapters' .cpp files. Each returns nullptr when it has
// set x.ending (bad input).
std::unique_ptr<AdapterCall> start_authzen_evaluation(const HttpRequest& request, pipeline::Exchange& x, bool batch);
std::unique_ptr<AdapterCall> start_cedar_authorization(const HttpRequest& request, pipeline::Exchange& x);
std::unique_ptr<AdapterCall> start_chat_completion(const HttpRequest& request, pipeline::Exchange& x);
std::unique_ptr<AdapterCall> start_embeddings(const HttpRequest& request, pipeline::Exchange& x);
std::unique_ptr<AdapterCall> start_model_listing(const HttpRequest& request, pipeline::Exchange& x);
std::unique_ptr<AdapterCall> start_audit_query(const HttpRequest& request, pipeline::Exchange& x);  // admin_adapter.cpp
// retrieval_adapter.cpp: POST /v1/retrieval/authorize (post-filter), POST /v1/retrieval/filter (pre-filter)
std::unique_ptr<AdapterCall> start_retrieval_authorization(const HttpRequest& request, pipeline::Exchange& x);
std::unique_ptr<AdapterCall> start_retrieval_filter(const HttpRequest& request, pipeline::Exchange& x);
// retrieval_search_adapter.cpp: POST /v1/retrieval/search (the retrieval proxy over the embedded index)
std::unique_ptr<AdapterCall> start_retrieval_search(const HttpRequest& request, pipeline::Exchange& x);
std::unique_ptr<AdapterCall> start_catalog_update(const HttpRequest& request, pipeline::Exchange& x);  // POST /admin/v1/catalog

}  // namespace ztgate::gateway
