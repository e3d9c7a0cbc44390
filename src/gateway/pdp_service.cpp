#include "gateway/pdp_service.h"

#include <boost/json.hpp>

#include <chrono>

#include "config/identity_runtime.h"
#include "gateway/authzen.h"
#include "pipeline/metrics.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;

HttpResponse json_ok(const json::object& body, int status = 200) {
  return HttpResponse{status, "application/json", {}, json::serialize(body)};
}

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct PdpService::Impl {
  config::GatewayConfig config;
  config::PolicyBundle bundle;
  std::unique_ptr<cedar::Authorizer> authorizer;
  std::unique_ptr<config::IdentityRuntime> identity;
  AuthzenMapping mapping;
  pipeline::MetricsRegistry metrics;
  pipeline::Histogram* latency = nullptr;

  void count(std::string_view route, int status) {
    auto c = metrics.counter("ztgate_http_requests_total", "HTTP requests by route and status",
                             {{"route", std::string(route)}, {"status", std::to_string(status)}});
    if (c) (*c)->inc();
  }
  void count_decision(bool allow) {
    auto c = metrics.counter("ztgate_decisions_total", "Authorization decisions by result",
                             {{"decision", allow ? "allow" : "deny"}});
    if (c) (*c)->inc();
  }

  // The caller of the PDP: fail closed when authentication is required.
  std::optional<HttpResponse> authenticate(const HttpRequest& req) {
    if (!config.pdp_requires_authentication) return std::nullopt;
    std::string auth = req.header("authorization");
    if (auth.size() < 8 || (auth.compare(0, 7, "Bearer ") != 0 && auth.compare(0, 7, "bearer ") != 0)) {
      HttpResponse r = json_error(401, "unauthenticated", "send Authorization: Bearer <API key or token>",
                                  req.request_id);
      r.headers.emplace_back("www-authenticate", "Bearer");
      return r;
    }
    auto who = identity->authenticate_bearer(std::string_view(auth).substr(7), now_s());
    if (!who) {
      // The precise reason (expired, bad signature, ...) helps the caller;
      // it never contains the credential itself.
      HttpResponse r = json_error(401, who.error().code, who.error().message, req.request_id);
      r.headers.emplace_back("www-authenticate", "Bearer error=\"invalid_token\"");
      return r;
    }
    return std::nullopt;
  }

  ParseOptions parse_options() const {
    ParseOptions o;
    o.legacy_member_properties = config.pdp_legacy_properties;
    return o;
  }

  HttpResponse evaluation(const HttpRequest& req, bool batch) {
    if (auto denied = authenticate(req)) return *denied;
    if (!batch) {
      auto parsed = parse_evaluation_request(req.body, parse_options());
      if (!parsed) return json_error(400, parsed.error().code, parsed.error().message, req.request_id);
      auto decision = evaluate(*parsed, mapping, *authorizer, *bundle.entities);
      if (!decision) return json_error(400, decision.error().code, decision.error().message, req.request_id);
      count_decision(decision->decision);
      return json_ok(decision_json(*decision));
    }
    auto parsed = parse_evaluations_request(req.body, parse_options());
    if (!parsed) return json_error(400, parsed.error().code, parsed.error().message, req.request_id);
    auto decisions = evaluate_batch(*parsed, mapping, *authorizer, *bundle.entities);
    for (const auto& d : decisions) count_decision(d.decision);
    return json_ok(evaluations_response_json(*parsed, decisions));
  }

  HttpResponse route(const HttpRequest& req, std::string& route_name) {
    std::string path = req.path();
    bool get = req.method == "GET", post = req.method == "POST";
    route_name = path;
    if (path == "/healthz" && get) return json_ok({{"status", "ok"}});
    if (path == "/readyz" && get) return json_ok({{"status", "ready"}, {"policies", bundle.policies->policies().size()}});
    if (path == "/metrics" && get) return HttpResponse{200, std::string(pipeline::kMetricsContentType), {}, metrics.render()};
    if (path == "/.well-known/authzen-configuration" && get) {
      auto meta = pdp_metadata(config.public_url);
      if (!meta) return json_error(500, meta.error().code, meta.error().message, req.request_id);
      return json_ok(*meta);
    }
    if (path == "/access/v1/evaluation" && post) return evaluation(req, false);
    if (path == "/access/v1/evaluations" && post) return evaluation(req, true);
    bool known = path == "/healthz" || path == "/readyz" || path == "/metrics" ||
                 path == "/.well-known/authzen-configuration" || path == "/access/v1/evaluation" ||
                 path == "/access/v1/evaluations";
    route_name = known ? path : "other";
    // Only the (known, fixed) path is echoed: the method is caller-controlled bytes.
    if (known) return json_error(405, "method_not_allowed", "this method is not allowed on " + path, req.request_id);
    return json_error(404, "not_found", "no such endpoint", req.request_id);
  }
};

PdpService::PdpService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PdpService::~PdpService() = default;

Result<std::unique_ptr<PdpService>> PdpService::create(config::GatewayConfig config) {
  auto impl = std::make_unique<Impl>();
  if (!config.policies) return make_error("config_invalid", "the PDP needs a `policies` section");
  auto bundle = config::load_policy_bundle(*config.policies);
  if (!bundle) return bundle.error();
  impl->bundle = std::move(*bundle);
  impl->authorizer = std::make_unique<cedar::Authorizer>(impl->bundle.policies);
  auto identity = config::IdentityRuntime::open(config.identity);
  if (!identity) return identity.error();
  impl->identity = std::move(*identity);
  if (auto meta = pdp_metadata(config.public_url); !meta)
    return make_error("config_invalid", "gateway.public_url: " + meta.error().message);
  impl->config = std::move(config);
  auto h = impl->metrics.histogram("ztgate_http_request_duration_seconds", "HTTP request latency");
  if (h) impl->latency = *h;
  return std::unique_ptr<PdpService>(new PdpService(std::move(impl)));
}

HttpResponse PdpService::handle(const HttpRequest& request) {
  auto start = std::chrono::steady_clock::now();
  std::string route;
  HttpResponse response = impl_->route(request, route);
  if (impl_->latency) impl_->latency->observe(std::chrono::steady_clock::now() - start);
  impl_->count(route, response.status);
  return response;
}

}  // namespace ztgate::gateway
