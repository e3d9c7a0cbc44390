#include "gateway/gateway_service.h"

#include "gateway/chat_answer_filter.h"

#include <boost/json.hpp>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "gateway/adapter.h"
#include "gateway/authzen.h"
#include "gateway/chat_answer_filter.h"
#include "common/version.h"
#include "audit/trail.h"
#include "gateway/audit_gate.h"
#include "gateway/mcp_adapter.h"
#include "state/session_facts.h"
#include "common/clock.h"
#include "pipeline/decision_cache.h"
#include "pipeline/metrics.h"
#include "pipeline/pipeline.h"
#include "pipeline/snapshot.h"
#include "pipeline/stages.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;
using Starter = std::unique_ptr<AdapterCall> (*)(const HttpRequest&, pipeline::Exchange&);

HttpResponse json_ok(const json::object& body) { return HttpResponse{200, "application/json", {}, json::serialize(body), {}, {}}; }

std::string bearer_of(const HttpRequest& req) {
  std::string auth = req.header("authorization");
  if (auth.size() < 8) return "";
  std::string scheme = auth.substr(0, 7);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return scheme == "bearer " ? auth.substr(7) : "";
}

HttpResponse answer_for(const pipeline::Ending& e, std::string_view request_id) {
  HttpResponse r;
  if (!e.body.empty()) {
    r.status = e.status;
    r.body = e.body;
  } else {
    r = json_error(e.status, e.code, e.message, request_id);
  }
  for (const auto& h : e.headers) r.headers.push_back(h);
  return r;
}

std::unique_ptr<AdapterCall> authzen_single(const HttpRequest& r, pipeline::Exchange& x) {
  return start_authzen_evaluation(r, x, false);
}
std::unique_ptr<AdapterCall> authzen_batch(const HttpRequest& r, pipeline::Exchange& x) {
  return start_authzen_evaluation(r, x, true);
}

// Exchanges (with their shared_ptr control block) are ~1.4 KiB, which glibc
// serves from its large bins after consolidating the fast bins: a malloc and
// a free that size per request cost more than the rest of the exchange's
// small allocations. Each thread keeps up to kKeep freed blocks of that size
// and reuses them (a block freed on another thread joins that one's cache).
template <class T>
struct RecyclingAllocator {
  using value_type = T;
  static constexpr size_t kKeep = 64;
  struct Cache {
    std::vector<void*> blocks;
    ~Cache() {
      for (void* p : blocks) ::operator delete(p);
    }
  };
  static Cache& cache() {
    thread_local Cache c;
    return c;
  }

  RecyclingAllocator() = default;
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U>&) {}  // NOLINT: implicit, as allocators rebind
  T* allocate(size_t n) {
    auto& blocks = cache().blocks;
    if (n == 1 && !blocks.empty()) {
      void* p = blocks.back();
      blocks.pop_back();
      return static_cast<T*>(p);
    }
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) {
    auto& blocks = cache().blocks;
    if (n == 1 && blocks.size() < kKeep) {
      blocks.push_back(p);
      return;
    }
    ::operator delete(p);
  }
  template <class U>
  bool operator==(const RecyclingAllocator<U>&) const {
    return true;
  }
};

std::shared_ptr<pipeline::Exchange> new_exchange() {
  return std::allocate_shared<pipeline::Exchange>(RecyclingAllocator<pipeline::Exchange>());
}

struct Endpoint {
  const char* path;
  const char* method;
  Starter start;  // null: an operational endpoint, answered directly
};

constexpr Endpoint kEndpoints[] = {
    {"/healthz", "GET", nullptr},
    {"/readyz", "GET", nullptr},
    {"/metrics", "GET", nullptr},
    {"/.well-known/authzen-configuration", "GET", nullptr},
    {"/access/v1/evaluation", "POST", authzen_single},
    {"/access/v1/evaluations", "POST", authzen_batch},
    {"/cedar/v1/is_authorized", "POST", start_cedar_authorization},
    {"/v1/chat/completions", "POST", start_chat_completion},
    {"/v1/embeddings", "POST", start_embeddings},
    {"/v1/models", "GET", start_model_listing},
    {"/admin/v1/audit", "GET", start_audit_query},
    {"/v1/retrieval/authorize", "POST", start_retrieval_authorization},
    {"/v1/retrieval/filter", "POST", start_retrieval_filter},
    {"/v1/retrieval/search", "POST", start_retrieval_search},
    {"/admin/v1/catalog", "POST", start_catalog_update},
};

// Stands for the MCP endpoint in 405 answers (its path is configured).
const Endpoint kMcpGet{"/mcp", "POST", nullptr};

}  // namespace

struct GatewayService::Impl {
  pipeline::SnapshotHolder holder;
  pipeline::MetricsRegistry metrics;
  explicit Impl(pipeline::DecisionCacheLimits limits) : cache(limits) {}
  pipeline::DecisionCache cache;
  AuditSinks sinks;  // declared before the trail: the trail's final commit comes first
  std::unique_ptr<audit::Trail> trail;
  std::unique_ptr<state::SessionStore> session_facts;
  std::unique_ptr<pipeline::Pipeline> pipeline;
  std::unique_ptr<EgressGuard> egress;  // after the pipeline and trail: destroyed before them
  std::unique_ptr<McpRuntime> mcp;  // after the pipeline: its refresher records through it
  std::mutex pin_events_mu;
  pipeline::Histogram* latency = nullptr;
  pipeline::Counter* audit_refusals = nullptr;
  std::mutex reload_mu;
  std::atomic<uint64_t> next_version{1};

  // Counters for the fixed routes and the usual statuses, registered once:
  // the registry's lookup takes a lock, too much for every request.
  static constexpr int kStatuses[] = {200, 400, 401, 403, 404, 405, 413, 500, 502, 504};
  static constexpr size_t kRoutes = std::size(kEndpoints) + 1;  // + "other"
  std::array<std::array<pipeline::Counter*, std::size(kStatuses)>, kRoutes> counters{};

  static std::string_view route_name(size_t i) { return i < std::size(kEndpoints) ? kEndpoints[i].path : "other"; }

  void register_counters() {
    for (size_t r = 0; r < kRoutes; ++r)
      for (size_t i = 0; i < std::size(kStatuses); ++i) counters[r][i] = lookup_counter(route_name(r), kStatuses[i]);
  }

  pipeline::Counter* lookup_counter(std::string_view route, int status) {
    auto c = metrics.counter("ztgate_http_requests_total", "HTTP requests by route and status",
                             {{"route", std::string(route)}, {"status", std::to_string(status)}});
    return c ? *c : nullptr;
  }

  void count(std::string_view route, int status) {
    for (size_t r = 0; r < kRoutes; ++r) {
      if (route_name(r) != route) continue;
      for (size_t i = 0; i < std::size(kStatuses); ++i)
        if (kStatuses[i] == status && counters[r][i]) return counters[r][i]->inc();
      break;
    }
    if (auto* c = lookup_counter(route, status)) c->inc();
  }

  void count_reload(bool ok) {
    auto c = metrics.counter("ztgate_config_reloads_total", "Configuration reloads by result",
                             {{"result", ok ? "ok" : "failed"}});
    if (c) (*c)->inc();
  }
  void count_upstream_error(std::string_view upstream, std::string_view code) {
    auto c = metrics.counter("ztgate_upstream_errors_total", "Upstream failures by upstream and code",
                             {{"upstream", std::string(upstream)}, {"code", std::string(code)}});
    if (c) (*c)->inc();
  }

  HttpResponse operational(const HttpRequest& req, std::string_view path) {
    auto s = holder.current();
    if (path == "/healthz") return json_ok({{"status", "ok"}});
    if (path == "/readyz")
      return json_ok({{"status", "ready"}, {"config_version", s->version}, {"policies", s->bundle.policies->policies().size()}});
    if (path == "/metrics")
      return HttpResponse{200, std::string(pipeline::kMetricsContentType), {}, metrics.render() + cache_metrics() + audit_metrics(*trail, sinks), {}, {}};
    auto meta = pdp_metadata(s->config.public_url);
    if (!meta) return json_error(500, meta.error().code, meta.error().message, req.request_id);
    return json_ok(*meta);
  }

  std::string cache_metrics() const {
    auto st = cache.stats();
    std::string out;
    out += "# HELP ztgate_decision_cache_lookups_total Decision cache lookups by result\n";
    out += "# TYPE ztgate_decision_cache_lookups_total counter\n";
    out += "ztgate_decision_cache_lookups_total{result=\"hit\"} " + std::to_string(st.hits) + "\n";
    out += "ztgate_decision_cache_lookups_total{result=\"miss\"} " + std::to_string(st.misses) + "\n";
    out += "# HELP ztgate_decision_cache_entries Decisions held in the cache\n";
    out += "# TYPE ztgate_decision_cache_entries gauge\n";
    out += "ztgate_decision_cache_entries " + std::to_string(st.entries) + "\n";
    out += "# HELP ztgate_decision_cache_evictions_total Decisions evicted (bounds) or dropped (stale versions)\n";
    out += "# TYPE ztgate_decision_cache_evictions_total counter\n";
    out += "ztgate_decision_cache_evictions_total{reason=\"bounds\"} " + std::to_string(st.evictions) + "\n";
    out += "ztgate_decision_cache_evictions_total{reason=\"stale\"} " + std::to_string(st.stale) + "\n";
    return out;
  }

  // Ends an exchange that will not be forwarded: record it, answer (on a
  // sync route, once the record is durable).
  HttpResponse finish(const std::shared_ptr<pipeline::Exchange>& x, HttpResponse response) {
    x->status = response.status;
    pipeline->complete(*x);
    count(x->route, response.status);
    if (x->audit_ticket) {
      // Refused for the trail: the refusal is recorded too, after the
      // decision's record (which tells what would have been answered).
      response.gate = audit_gate(x, [this, x] {
        x->status = 503;
        x->ending = pipeline::Ending{503, "audit_unavailable", "", {}, ""};
        x->decision_recorded = true;  // nobody waits for this one
        pipeline->complete(*x);
      });
    }
    return response;
  }

  // A gate on the exchange's sync record; `on_refused` runs when it fails.
  std::shared_ptr<ReadyGate> audit_gate(const std::shared_ptr<pipeline::Exchange>& x, std::function<void()> on_refused) {
    auto timeout = std::chrono::milliseconds(x->snapshot->config.audit.sync_timeout_ms);
    return std::make_shared<AuditGate>(x->audit_ticket, timeout, x->request_id, [this, on_refused = std::move(on_refused)] {
      if (audit_refusals) audit_refusals->inc();
      if (on_refused) on_refused();
    });
  }

  // Takes room in the trail for the exchange's record before anything else:
  // a request is never answered without one. False: the trail is full.
  bool admit(pipeline::Exchange& x) {
    auto room = trail->reserve();
    if (!room) return false;
    x.audit_room = std::move(*room);
    return true;
  }

  HttpResponse trail_full(const HttpRequest& req, std::string_view route) {
    count(route, 503);
    return json_error(503, "audit_unavailable", "the audit trail cannot record more requests right now; try again",
                      req.request_id);
  }

  using StartFn = std::function<std::unique_ptr<AdapterCall>(const HttpRequest&, pipeline::Exchange&)>;

  HttpResponse run_exchange(const HttpRequest& req, const Endpoint& endpoint) {
    return run_exchange(req, endpoint.path, endpoint.start);
  }

  HttpResponse run_exchange(const HttpRequest& req, std::string_view route_path, const StartFn& start) {
    auto x = new_exchange();
    if (!admit(*x)) return trail_full(req, route_path);
    x->request_id = req.request_id;
    x->route = std::string(route_path);
    x->remote = req.remote;
    x->credentials.bearer = bearer_of(req);
    x->credentials.client_cert_pem = req.client_cert_pem;
    x->credentials.device_assertion = req.header("x-ztgate-device");
    x->snapshot = holder.current();
    x->shadow = config::route_is_shadow(x->snapshot->config, route_path);
    x->http_method = req.method;
    x->audit_sync = config::route_audit_sync(x->snapshot->config, route_path);
    x->capture_payloads = config::route_audit_payload(x->snapshot->config, route_path) != "none";
    if (x->capture_payloads) x->request_payload = req.body;
    std::unique_ptr<AdapterCall> call = start(req, *x);
    if (!call) {
      // Bad input: strangers learn only that they must authenticate.
      pipeline::Ending refused = std::move(*x->ending);
      x->ending.reset();
      if (pipeline->authenticate_only(*x)) x->ending = std::move(refused);
      return finish(x, answer_for(*x->ending, x->request_id));
    }
    if (!pipeline->run_request(*x)) {
      auto own = call->answer_ending(*x);
      return finish(x, own ? std::move(*own) : answer_for(*x->ending, x->request_id));
    }
    auto answer = call->respond(*x);
    if (auto* response = std::get_if<HttpResponse>(&answer)) return finish(x, std::move(*response));
    if (auto* deferred = std::get_if<Deferred>(&answer)) {
      pipeline->forwarding(*x);  // a sync route's decision is durable before the call leaves
      HttpResponse r;
      r.gate = std::make_shared<DeferredGate>(*this, x, std::move(*deferred));
      return r;
    }
    auto forward = std::make_shared<Forward>();
    forward->request = std::move(std::get<ForwardRequest>(answer));
    forward->observer = std::make_shared<Observer>(*this, x);
    pipeline->forwarding(*x);  // a sync route's record is written here
    HttpResponse r;
    r.forward = std::move(forward);
    if (x->audit_ticket) {
      // Not forwarded after all: the exchange ends with the refusal.
      r.gate = audit_gate(x, [this, x] {
        x->status = 503;
        x->upstream_error = "audit_unavailable";
        pipeline->complete(*x);
        count(x->route, 503);
      });
    }
    return r;
  }

  // Runs a Deferred's work on its executor; the answer goes out (through
  // finish: recorded, counted, a sync route's gate) when it is ready, or a
  // 504 when it is not ready in time. Exactly one of them completes the
  // exchange.
  class DeferredGate final : public ReadyGate, public std::enable_shared_from_this<DeferredGate> {
   public:
    DeferredGate(Impl& impl, std::shared_ptr<pipeline::Exchange> x, Deferred d)
        : impl_(impl), x_(std::move(x)), d_(std::move(d)) {}

    void when_ready(std::function<void(bool)> done) override {
      auto self = shared_from_this();
      bool queued = d_.submit([self, done] {
        auto& x = *self->x_;
        HttpResponse r;
        if (x.audit_ticket && !x.audit_ticket->wait_for(std::chrono::milliseconds(x.snapshot->config.audit.sync_timeout_ms))) {
          x.upstream_error = "audit_unavailable";
          r = json_error(503, "audit_unavailable", "the audit trail could not record this request in time; nothing was sent",
                         x.request_id);
        } else {
          auto started = std::chrono::steady_clock::now();
          const pipeline::Pipeline& pipe = *self->impl_.pipeline;
          DeferredHooks hooks{[&](std::string_view chunk) { pipe.output(x, chunk); },
                              [&pipe](pipeline::Exchange& ex) { return pipe.redecide(ex); }};
          r = self->d_.work(x, hooks);
          self->impl_.pipeline->record_forward(x, std::chrono::steady_clock::now() - started);
        }
        if (self->settle(std::move(r))) done(true);
      });
      if (!queued && settle(json_error(503, "overloaded", "too many calls are waiting for tool servers; try again",
                                       x_->request_id)))
        done(true);
    }
    std::chrono::milliseconds timeout() const override { return d_.timeout; }
    HttpResponse refusal() override {
      std::lock_guard lock(mu_);
      if (settled_) return take();  // ready just as the deadline passed
      settled_ = true;
      x_->upstream_error = "upstream_timeout";
      HttpResponse r = impl_.finish(x_, json_error(504, "upstream_timeout", "the tool server did not answer in time", x_->request_id));
      r.gate.reset();
      return r;
    }
    std::optional<HttpResponse> answer() override {
      std::lock_guard lock(mu_);
      return take();
    }

   private:
    bool settle(HttpResponse r) {
      std::lock_guard lock(mu_);
      if (settled_) return false;  // timed out already: the 504 completed the exchange
      settled_ = true;
      answer_ = impl_.finish(x_, std::move(r));
      return true;
    }
    HttpResponse take() { return answer_ ? std::move(*answer_) : json_error(500, "internal_error", "no answer", x_->request_id); }

    Impl& impl_;
    std::shared_ptr<pipeline::Exchange> x_;
    Deferred d_;
    std::mutex mu_;
    bool settled_ = false;
    std::optional<HttpResponse> answer_;
  };

  // The MCP endpoint: POST (messages) and DELETE (end a session) are
  // exchanges; a 401 names the protected-resource metadata.
  HttpResponse run_mcp(const HttpRequest& req) {
    const auto& settings = mcp->settings;
    HttpResponse r = run_exchange(req, settings.path, [this](const HttpRequest& q, pipeline::Exchange& x) {
      return start_mcp(q, x, *mcp);
    });
    if (r.status == 401) {
      bool found = false;
      for (auto& [k, v] : r.headers)
        if (k == "www-authenticate") {
          v = mcp_challenge(settings, v);
          found = true;
        }
      if (!found) r.headers.emplace_back("www-authenticate", mcp_challenge(settings, "Bearer"));
    }
    return r;
  }

  // Tool pin decisions (first use, changes, approvals from `ztgate tools`)
  // into the audit trail, each once. Runs after every catalog refresh.
  void record_pin_events() {
    std::lock_guard lock(pin_events_mu);
    auto events = mcp->hub->pins().events_after(mcp->pin_events_seen);
    if (!events) return;
    for (const auto& e : *events) {
      auto x = new_exchange();
      if (!admit(*x)) return;  // the trail is full: try again after the next refresh
      x->request_id = "pin-" + std::to_string(e.id);
      x->adapter = "mcp";
      x->route = mcp->settings.path;
      x->snapshot = holder.current();
      x->action = "tool_definition_" + e.action;
      x->resource = authn::EntityRef{"Tool", mcp::namespaced(e.server, e.tool)};
      x->details = boost::json::object{{"server", e.server}, {"tool", e.tool}, {"digest", e.digest},
                                       {"previous_digest", e.previous_digest}, {"by", e.by}, {"pin_event", e.id}};
      if (e.action == "changed") x->ending = pipeline::Ending{200, "tool_blocked", "", {}, ""};
      x->status = 200;
      pipeline->complete(*x);
      mcp->pin_events_seen = e.id;
    }
  }

  // The pipeline's side of a forward: upstream answers mapped to clear
  // errors, every chunk through the output stages, then the record.
  class Observer final : public ForwardObserver {
   public:
    Observer(Impl& impl, std::shared_ptr<pipeline::Exchange> x) : impl_(impl), x_(std::move(x)) {}

    std::optional<HttpResponse> on_head(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                                        std::vector<std::pair<std::string, std::string>>& relay) override {
      if (status == 401 || status == 403) {
        // The upstream refused the gateway's own credential: the client can do
        // nothing about it, and must not see the upstream's wording.
        return fail("upstream_auth_failed", "the upstream refused the gateway's credentials", 502);
      }
      if (status >= 500) return fail("upstream_error", "the upstream failed (HTTP " + std::to_string(status) + ")", 502);
      if (status < 200 || (status >= 300 && status < 400))
        return fail("upstream_invalid", "the upstream answered with HTTP " + std::to_string(status), 502);
      // 2xx and the client's own 4xx mistakes (bad parameters, rate limits)
      // pass through in the upstream's OpenAI error format.
      bool event_stream = false;
      for (const auto& [k, v] : headers) {
        if (k == "retry-after" || k == "cache-control") relay.emplace_back(k, v);
        if (k == "content-type") event_stream = v.find("text/event-stream") != std::string::npos;
      }
      // Output DLP: the answer's text is redacted before the client sees it.
      if (x_->redaction && status >= 200 && status < 300) filter_ = make_chat_answer_filter(*x_, event_stream);
      return std::nullopt;
    }

    BodyFilter* body_filter() override { return filter_.get(); }

    void on_chunk(std::string_view chunk) override { impl_.pipeline->output(*x_, chunk); }

    HttpResponse on_failure(std::string_view code, std::string_view message) override {
      return *fail(std::string(code), std::string(message), code == "upstream_timeout" ? 504 : 502);  // tls_error: 502
    }

    void on_done(int status, bool complete, std::string_view error) override {
      x_->status = status;
      if (!complete && x_->upstream_error.empty()) x_->upstream_error = error.empty() ? "incomplete" : std::string(error);
      if (!x_->upstream_error.empty()) impl_.count_upstream_error(x_->upstream, x_->upstream_error);
      impl_.pipeline->record_forward(*x_, std::chrono::steady_clock::now() - started_);
      impl_.pipeline->complete(*x_);
      impl_.count(x_->route, status);
    }

   private:
    std::optional<HttpResponse> fail(std::string code, std::string message, int status) {
      x_->upstream_error = code;
      return json_error(status, code, message, x_->request_id);
    }

    Impl& impl_;
    std::shared_ptr<pipeline::Exchange> x_;
    std::unique_ptr<BodyFilter> filter_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  };

  HttpResponse route(const HttpRequest& req) {
    std::string path = req.path();
    if (mcp) {
      if (path == mcp->settings.path && (req.method == "POST" || req.method == "DELETE")) return run_mcp(req);
      if (req.method == "GET" &&
          (path == protected_resource_metadata_path(mcp->settings) || path == "/.well-known/oauth-protected-resource")) {
        HttpResponse r = protected_resource_metadata(mcp->settings);
        count("/.well-known/oauth-protected-resource", r.status);
        return r;
      }
    }
    const Endpoint* known = nullptr;
    for (const auto& e : kEndpoints) {
      if (path != e.path) continue;
      known = &e;
      if (req.method != e.method) continue;
      if (!e.start) {
        HttpResponse r = operational(req, path);
        count(path, r.status);
        return r;
      }
      return run_exchange(req, e);
    }
    // Unknown endpoints and methods are recorded too: probing is a signal.
    auto x = new_exchange();
    if (!admit(*x)) return trail_full(req, "other");
    x->request_id = req.request_id;
    x->adapter = "none";
    bool mcp_path = mcp && path == mcp->settings.path;  // GET: no server-initiated stream is offered
    if (mcp_path) known = &kMcpGet;
    x->route = mcp_path ? mcp->settings.path : (known ? known->path : "other");
    x->remote = req.remote;
    x->snapshot = holder.current();
    // Only the (known, fixed) path is echoed: the method is caller-controlled bytes.
    HttpResponse r = known ? json_error(405, "method_not_allowed", "this method is not allowed on " + path, req.request_id)
                           : json_error(404, "not_found", "no such endpoint", req.request_id);
    if (mcp_path) r.headers.emplace_back("allow", "POST, DELETE");
    x->ending = pipeline::Ending{r.status, known ? "method_not_allowed" : "not_found", "", {}, ""};
    return finish(x, std::move(r));
  }

  void record_rejected(const HttpRequest& seen, int status, std::string_view code) {
    auto x = new_exchange();
    if (!admit(*x)) {
      count("other", status);
      return;
    }
    x->request_id = seen.request_id;
    x->adapter = "none";
    std::string path = seen.path();
    x->route = "other";
    for (const auto& e : kEndpoints)
      if (path == e.path) x->route = e.path;  // a fixed string, never the caller's bytes
    x->remote = seen.remote;
    x->http_method = seen.method;
    x->snapshot = holder.current();
    x->ending = pipeline::Ending{status, std::string(code), "", {}, ""};
    finish(x, json_error(status, code, "", seen.request_id));
  }
};

GatewayService::GatewayService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GatewayService::~GatewayService() = default;

Result<std::unique_ptr<GatewayService>> GatewayService::create(config::GatewayConfig config) {
  if (auto meta = pdp_metadata(config.public_url); !meta)
    return make_error("config_invalid", "gateway.public_url: " + meta.error().message);
  pipeline::DecisionCacheLimits limits;
  limits.max_entries = static_cast<size_t>(config.decision_cache_entries);
  limits.max_bytes = static_cast<size_t>(config.decision_cache_bytes);
  auto impl = std::make_unique<Impl>(limits);
  config::AuditSettings audit = config.audit;
  config::McpSettings mcp_settings = config.mcp;
  const int64_t resolver_threads = config.egress.resolver_threads, resolver_pending = config.egress.resolver_max_pending;
  // Loading first: it creates the data directory (0700) the trail lives in.
  auto snapshot = pipeline::load_snapshot(std::move(config), impl->next_version++);
  if (!snapshot) return snapshot.error();
  auto options = trail_options(audit);
  auto* sinks = &impl->sinks;
  options.on_commit = [sinks](uint64_t seq) { sinks->notify(seq); };
  auto trail = audit::Trail::open(std::move(options));
  if (!trail) return trail.error();
  impl->trail = std::move(*trail);
  if (auto st = impl->sinks.start(audit); !st) return st.error();
  impl->holder.publish(std::move(*snapshot));
  impl->register_counters();
  auto refusals = impl->metrics.counter("ztgate_audit_sync_refusals_total",
                                        "Sync-route requests refused because their record was not durable in time");
  if (refusals) impl->audit_refusals = *refusals;
  impl->session_facts = state::make_memory_session_store(100'000, std::chrono::hours(24));
  impl->pipeline = std::make_unique<pipeline::Pipeline>(
      pipeline::standard_stages(impl->cache, impl->metrics, *impl->trail, *impl->session_facts, kVersion), impl->metrics);
  egress::Resolver::Options resolver;  // resolver settings take effect at start
  resolver.threads = static_cast<size_t>(resolver_threads);
  resolver.max_pending = static_cast<size_t>(resolver_pending);
  impl->egress = std::make_unique<EgressGuard>(impl->holder, *impl->pipeline, *impl->trail, impl->metrics, std::move(resolver));
  if (mcp_settings.enabled()) {
    // The gateway's own connections to its MCP servers obey egress policy
    // (as Service::"ztgate", or egress.service_principal) and the SSRF floor.
    EgressGuard* guard = impl->egress.get();
    auto resolve = [guard](const std::string& scheme, const std::string& host,
                           uint16_t port) -> Result<std::vector<std::string>> {
      EgressQuery q;
      std::string literal = host.find(':') != std::string::npos ? "[" + host + "]" : host;
      q.url = scheme + "://" + literal + ":" + std::to_string(port) + "/";
      q.purpose = "mcp upstream";
      auto permit = guard->check_blocking(std::move(q));
      if (!permit) return make_error("mcp_upstream_refused", "egress policy: " + permit.error().message);
      std::vector<std::string> out;
      for (const auto& a : permit->addresses) out.push_back(a.to_string());
      return out;
    };
    auto rt = start_mcp_runtime(mcp_settings, resolve);
    if (!rt) return rt.error();
    impl->mcp = std::move(*rt);
    Impl* raw = impl.get();
    impl->mcp->hub->start_refresher([raw] { raw->record_pin_events(); });
  }
  auto h = impl->metrics.histogram("ztgate_http_request_duration_seconds", "HTTP request latency (until the answer starts)");
  if (h) impl->latency = *h;
  return std::unique_ptr<GatewayService>(new GatewayService(std::move(impl)));
}

HttpResponse GatewayService::handle(const HttpRequest& request) {
  auto start = std::chrono::steady_clock::now();
  HttpResponse response = impl_->route(request);
  if (impl_->latency) impl_->latency->observe(std::chrono::steady_clock::now() - start);
  return response;
}

void GatewayService::record_rejected(const HttpRequest& seen, int status, std::string_view code) {
  impl_->record_rejected(seen, status, code);
}

Result<uint64_t> GatewayService::reload() {
  std::lock_guard lock(impl_->reload_mu);
  std::string file = impl_->holder.current()->config.file;
  auto config = config::load_gateway_config(file);
  if (!config) {
    impl_->count_reload(false);
    return config.error();
  }
  if (auto meta = pdp_metadata(config->public_url); !meta) {
    impl_->count_reload(false);
    return make_error("config_invalid", "gateway.public_url: " + meta.error().message);
  }
  auto snapshot = pipeline::load_snapshot(std::move(*config), impl_->next_version.load());
  if (!snapshot) {
    impl_->count_reload(false);
    return snapshot.error();
  }
  uint64_t version = (*snapshot)->version;
  ++impl_->next_version;
  impl_->holder.publish(std::move(*snapshot));
  impl_->count_reload(true);
  return version;
}

EgressGuard& GatewayService::egress() { return *impl_->egress; }

uint64_t GatewayService::version() const { return impl_->holder.current()->version; }

std::vector<std::string> GatewayService::watched_files() const {
  return config::watched_files(impl_->holder.current()->config);
}

}  // namespace ztgate::gateway
