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

#include <memory>
#include <variant>

#include "gateway/http_server.h"
#include "pipeline/exchange.h"

namespace ztgate::gateway {

class AdapterCall {
 public:
  virtual ~AdapterCall() = default;
  virtual std::variant<HttpResponse, ForwardRequest> respond(pipeline::Exchange& x) = 0;
};

// Endpoints: see the adapters' .cpp files. Each returns nullptr when it has
// set x.ending (bad input).
std::unique_ptr<AdapterCall> start_authzen_evaluation(const HttpRequest& request, pipeline::Exchange& x, bool batch);
std::unique_ptr<AdapterCall> start_cedar_authorization(const HttpRequest& request, pipeline::Exchange& x);
std::unique_ptr<AdapterCall> start_chat_completion(const HttpRequest& request, pipeline::Exchange& x);
std::unique_ptr<AdapterCall> start_embeddings(const HttpRequest& request, pipeline::Exchange& x);
std::unique_ptr<AdapterCall> start_model_listing(const HttpRequest& request, pipeline::Exchange& x);
std::unique_ptr<AdapterCall> start_audit_query(const HttpRequest& request, pipeline::Exchange& x);  // admin_adapter.cpp

}  // namespace ztgate::gateway
