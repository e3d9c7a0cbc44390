#include "gateway/egress_guard.h"

#include <boost/json.hpp>

#include <future>

#include "audit/trail.h"
#include "egress/address_class.h"
#include "egress/proxy_auth.h"
#include "gateway/audit_gate.h"
#include "gateway/internal/server_support.h"
#include "pipeline/metrics.h"
#include "pipeline/pipeline.h"
#include "pipeline/snapshot.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;
using pipeline::Exchange;

constexpr const char* kRoute = "egress";
constexpr const char* kProxyRealm = "realm=\"ztgate egress\"";

// Outcomes counted in ztgate_egress_decisions_total{outcome}.
constexpr const char* kOutcomes[] = {"allowed", "denied", "unauthenticated", "destination_invalid",
                                     "destination_forbidden", "unresolvable", "error"};

// The Host entity of one request: its attributes, and a Zone parent per
// matching egress.zones pattern (a stored Host of that name merges in).
json::object host_entity(const egress::Destination& d, const egress::ZoneMap& zones) {
  json::array parents;
  for (auto& z : zones.zones_of(d.host)) parents.push_back(json::object{{"type", "Zone"}, {"id", std::move(z)}});
  return json::object{{"uid", json::object{{"type", "Host"}, {"id", d.host.text}}},
                      {"attrs", json::object{{"name", d.host.text}, {"port", static_cast<int64_t>(d.port)}, {"scheme", d.scheme}}},
                      {"parents", std::move(parents)}};
}

// context.destination: ip and address_class only for literals (a name is
// decided before it is resolved).
json::object destination_context(const egress::Destination& d) {
  json::object o{{"host", d.host.text}, {"port", static_cast<int64_t>(d.port)}, {"scheme", d.scheme}};
  if (d.host.address) {
    o["ip"] = d.host.address->to_string();
    o["address_class"] = std::string(egress::to_string(egress::classify(*d.host.address)));
  }
  return o;
}

int status_for(std::string_view code) {
  if (code == "destination_invalid") return 400;
  if (code == "destination_forbidden") return 403;
  if (code == "resolve_failed" || code == "destination_unresolvable") return 502;
  if (code == "resolve_timeout") return 504;
  return 503;  // resolver_busy, resolver_stopped, audit_unavailable
}

// The resolver's codes as the client sees them.
std::string client_code(std::string_view code) {
  return code == "resolve_failed" ? "destination_unresolvable" : std::string(code);
}

std::string_view outcome_of(std::string_view code) {
  if (code.empty()) return "allowed";
  if (code == "destination_invalid" || code == "destination_forbidden") return code;
  if (code == "destination_unresolvable" || code == "resolve_timeout") return "unresolvable";
  if (code == "forbidden" || code == "approval_required" || code == "step_up_required" ||
      code == "obligation_unfulfillable")
    return "denied";
  return "error";
}

class Session;

}  // namespace

struct EgressGuard::Impl {
  Impl(pipeline::SnapshotHolder& h, pipeline::Pipeline& p, audit::Trail& t, pipeline::MetricsRegistry& m,
       egress::Resolver::Options o)
      : holder(h), pipe(p), trail(t), resolver(std::move(o)) {
    for (const char* outcome : kOutcomes) {
      auto c = m.counter("ztgate_egress_decisions_total", "Egress decisions by outcome", {{"outcome", outcome}});
      counters.push_back(c ? *c : nullptr);
    }
    if (auto c = m.counter("ztgate_egress_bytes_total", "Bytes through the egress proxy", {{"direction", "up"}})) up = *c;
    if (auto c = m.counter("ztgate_egress_bytes_total", "Bytes through the egress proxy", {{"direction", "down"}})) down = *c;
  }

  pipeline::SnapshotHolder& holder;
  pipeline::Pipeline& pipe;
  audit::Trail& trail;
  egress::Resolver resolver;
  std::vector<pipeline::Counter*> counters;
  pipeline::Counter* up = nullptr;
  pipeline::Counter* down = nullptr;

  void count(std::string_view code, int status = 0) {
    std::string_view outcome = status == 407 ? std::string_view("unauthenticated") : outcome_of(code);
    for (size_t i = 0; i < std::size(kOutcomes); ++i)
      if (outcome == kOutcomes[i] && counters[i]) counters[i]->inc();
  }

  // A new exchange with room in the trail, or null (the trail is full).
  std::shared_ptr<Exchange> new_exchange(std::string request_id) {
    auto room = trail.reserve();
    if (!room) return nullptr;
    auto x = std::make_shared<Exchange>();
    x->audit_room = std::move(*room);
    x->request_id = request_id.empty() ? internal::new_request_id() : std::move(request_id);
    x->adapter = "egress";
    x->route = kRoute;
    x->action = "egress";
    x->snapshot = holder.current();
    x->audit_sync = x->snapshot->config.egress.audit_sync;
    return x;
  }

  // The request part every egress exchange has: resource, Host entity, destination.
  static void describe(Exchange& x, const egress::Destination& d) {
    x.resource = authn::EntityRef{"Host", d.host.text};
    x.adapter_entities.push_back(host_entity(d, x.snapshot->config.egress.zones));
    x.context["destination"] = destination_context(d);
  }

  // Ends an exchange that goes nowhere: `ending` as the answer, recorded.
  void refuse(Exchange& x, int status, std::string code, std::string message) {
    x.ending = pipeline::Ending{status, std::move(code), std::move(message), {}, ""};
    x.status = status;
  }

  // Resolution (names only) and the SSRF floor: the addresses to connect
  // to, or the refusal. Calls `next` once, maybe on a resolver thread.
  void addresses_for(const std::shared_ptr<Exchange>& x, const egress::Destination& d,
                     std::function<void(Result<std::vector<egress::IpAddress>>)> next) {
    auto floor = [x](Result<std::vector<egress::IpAddress>> found) -> Result<std::vector<egress::IpAddress>> {
      if (!found) return make_error(client_code(found.error().code), found.error().message);
      x->details["resolved"] = static_cast<int64_t>(found->size());
      if (auto st = x->snapshot->config.egress.addresses.check_all(*found); !st) return st.error();
      return found;
    };
    if (d.host.address) return next(floor(std::vector<egress::IpAddress>{*d.host.address}));
    auto timeout = std::chrono::milliseconds(x->snapshot->config.egress.resolve_timeout_ms);
    resolver.resolve(d.host.text, timeout, [floor, next = std::move(next)](Result<egress::Resolver::Addresses> r) {
      next(floor(std::move(r)));
    });
  }

  std::shared_ptr<ReadyGate> gate_for(const std::shared_ptr<Exchange>& x, std::function<void()> on_refused) {
    if (!x->audit_ticket) return nullptr;
    auto timeout = std::chrono::milliseconds(x->snapshot->config.audit.sync_timeout_ms);
    return std::make_shared<AuditGate>(x->audit_ticket, timeout, x->request_id, std::move(on_refused));
  }
};

namespace {

// The proxy's answer for an exchange the pipeline or the guard ended.
HttpResponse refusal_of(const Exchange& x) {
  const pipeline::Ending& e = *x.ending;
  HttpResponse r;
  if (e.status == 401 && !x.identity) {
    // Authentication failed: a proxy asks with 407 and Proxy-Authenticate.
    std::string message = e.code == "unauthenticated"
                              ? "send Proxy-Authorization: Basic (any user name, the API key or token as the password) "
                                "or Bearer <API key or token>"
                              : e.message;
    r = json_error(407, e.code, message, x.request_id);
    r.headers.emplace_back("proxy-authenticate", std::string("Basic ") + kProxyRealm);
    r.headers.emplace_back("proxy-authenticate", std::string("Bearer ") + kProxyRealm);
    return r;
  }
  r = e.body.empty() ? json_error(e.status, e.code, e.message, x.request_id) : HttpResponse{e.status, "application/json", {}, e.body, {}, {}};
  for (const auto& h : e.headers)
    if (h.first != "www-authenticate") r.headers.push_back(h);
  return r;
}

class Session final : public EgressSession {
 public:
  Session(EgressGuard::Impl& impl, std::shared_ptr<Exchange> x) : impl_(impl), x_(std::move(x)) {}

  // Refused before anything else: answer with `r`; the exchange is recorded now.
  void refuse_now(HttpResponse r) {
    if (x_) {
      x_->status = r.status;
      impl_.count(x_->ending ? x_->ending->code : "error", r.status);
      complete();
      gate_ = impl_.gate_for(x_, [this] { audit_refused(); });
    }
    refusal_ = std::move(r);
  }

  void allow(EgressPermit p) {
    impl_.count("");
    permit_ = std::move(p);
  }

  const std::optional<HttpResponse>& refusal() const override { return refusal_; }
  const EgressPermit& permit() const override { return permit_; }
  std::shared_ptr<ReadyGate> gate() const override { return gate_; }

  std::shared_ptr<ReadyGate> connected(const egress::IpAddress& to, bool tunnel) override {
    x_->destination_address = to.to_string();
    x_->record_at_forward = tunnel;
    // The host joins the task's session facts (context.session.destinations)
    // once the exchange completes.
    state::Observation seen;
    seen.destination = x_->resource.id;
    x_->observation = std::move(seen);
    connected_at_ = std::chrono::steady_clock::now();
    impl_.pipe.forwarding(*x_);
    return impl_.gate_for(x_, [this] { audit_refused(); });
  }

  void on_chunk(std::string_view chunk) override { impl_.pipe.output(*x_, chunk); }

  HttpResponse connect_failed(std::string_view code, std::string_view message, int status) override {
    x_->upstream_error = std::string(code);
    return json_error(status, code, message, x_->request_id);
  }

  void finish(const EgressOutcome& o) override {
    if (completed_ || !x_) return;
    x_->status = o.status;
    if (x_->record_at_forward) x_->output_bytes = o.bytes_down;  // a tunnel's bytes skip the output stages
    if (!o.end.empty() && o.end != "closed" && x_->upstream_error.empty() && o.status < 400) x_->upstream_error = o.end;
    auto now = std::chrono::steady_clock::now();
    json::object facts{{"bytes_up", static_cast<int64_t>(o.bytes_up)}, {"bytes_down", static_cast<int64_t>(o.bytes_down)}};
    if (connected_at_) {
      facts["duration_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(now - *connected_at_).count();
      impl_.pipe.record_forward(*x_, now - *connected_at_);
    }
    if (!o.end.empty()) facts["end"] = o.end;
    x_->details["egress"] = std::move(facts);
    if (impl_.up) impl_.up->inc(o.bytes_up);
    if (impl_.down) impl_.down->inc(o.bytes_down);
    complete();
  }

 private:
  void complete() {
    if (completed_) return;
    completed_ = true;
    impl_.pipe.complete(*x_);
  }
  // A sync record that did not become durable: the refusal is recorded too.
  void audit_refused() {
    x_->status = 503;
    x_->upstream_error = "audit_unavailable";
    x_->decision_recorded = true;
    completed_ = false;
    complete();
  }

  EgressGuard::Impl& impl_;
  std::shared_ptr<Exchange> x_;
  std::optional<HttpResponse> refusal_;
  EgressPermit permit_;
  std::shared_ptr<ReadyGate> gate_;
  std::optional<std::chrono::steady_clock::time_point> connected_at_;
  bool completed_ = false;
};

}  // namespace

ForwardRequest forward_request_for(const EgressPermit& p) {
  ForwardRequest f;
  f.host = p.destination.host.text;
  f.port = p.destination.port;
  f.tls = p.destination.scheme == "https";
  f.target = p.destination.target.empty() ? "/" : p.destination.target;
  f.connect_timeout = p.connect_timeout;
  for (const auto& a : p.addresses) f.connect_to.push_back(a.to_string());
  return f;
}

EgressGuard::EgressGuard(pipeline::SnapshotHolder& holder, pipeline::Pipeline& pipeline, audit::Trail& trail,
                         pipeline::MetricsRegistry& metrics, egress::Resolver::Options resolver)
    : impl_(std::make_unique<Impl>(holder, pipeline, trail, metrics, std::move(resolver))) {}

EgressGuard::~EgressGuard() = default;

void EgressGuard::decide(EgressAttempt a, std::function<void(std::shared_ptr<EgressSession>)> done) {
  Impl& impl = *impl_;
  auto x = impl.new_exchange(a.request_id);
  if (!x) {
    auto s = std::make_shared<Session>(impl, nullptr);
    s->refuse_now(json_error(503, "audit_unavailable", "the audit trail cannot record more requests right now; try again",
                             a.request_id));
    return done(s);
  }
  x->remote = std::move(a.remote);
  x->http_method = a.method;
  x->credentials.bearer = egress::proxy_credential(a.proxy_authorization).value_or("");
  x->credentials.client_cert_pem = std::move(a.client_cert_pem);
  x->credentials.device_assertion = std::move(a.device_assertion);
  auto session = std::make_shared<Session>(impl, x);
  auto d = a.method == "CONNECT" ? egress::parse_connect_target(a.target) : egress::parse_absolute_target(a.target);
  if (!d) {
    // Bad input: strangers learn only that they must authenticate.
    if (impl.pipe.authenticate_only(*x)) impl.refuse(*x, 400, d.error().code, d.error().message);
    session->refuse_now(refusal_of(*x));
    return done(session);
  }
  Impl::describe(*x, *d);
  if (!impl.pipe.run_request(*x)) {
    session->refuse_now(refusal_of(*x));
    return done(session);
  }
  auto destination = std::make_shared<egress::Destination>(std::move(*d));
  impl.addresses_for(x, *destination, [&impl, x, session, destination, done = std::move(done)](
                                          Result<std::vector<egress::IpAddress>> addresses) {
    if (!addresses) {
      impl.refuse(*x, status_for(addresses.error().code), addresses.error().code, addresses.error().message);
      session->refuse_now(refusal_of(*x));
      return done(session);
    }
    EgressPermit p;
    p.destination = std::move(*destination);
    p.addresses = std::move(*addresses);
    p.connect_timeout = std::chrono::milliseconds(x->snapshot->config.egress.connect_timeout_ms);
    p.request_id = x->request_id;
    session->allow(std::move(p));
    done(session);
  });
}

std::shared_ptr<EgressSession> EgressGuard::refuse(EgressAttempt a, int status, std::string code, std::string message) {
  Impl& impl = *impl_;
  auto x = impl.new_exchange(a.request_id);
  auto session = std::make_shared<Session>(impl, x);
  if (!x) {
    session->refuse_now(json_error(status, code, message, a.request_id));
    return session;
  }
  x->remote = std::move(a.remote);
  x->http_method = std::move(a.method);
  impl.refuse(*x, status, std::move(code), std::move(message));
  session->refuse_now(refusal_of(*x));
  return session;
}

void EgressGuard::check(EgressQuery q, std::function<void(Result<EgressPermit>)> done) {
  Impl& impl = *impl_;
  auto x = impl.new_exchange(q.request_id);
  if (!x) return done(make_error("audit_unavailable", "the audit trail cannot record more requests right now"));
  const config::EgressSettings& settings = x->snapshot->config.egress;
  authn::Identity id;
  if (q.principal) {
    id = std::move(*q.principal);
  } else {
    id.principal = settings.service_principal;
    id.authn.method = "internal";
    id.authn.issuer = "ztgate";
  }
  if (q.principal_entities.empty()) {
    x->request_entities.push_back(authn::principal_entity(id));
    for (auto& g : authn::group_entities(id)) x->request_entities.push_back(std::move(g));
  } else {
    x->request_entities = std::move(q.principal_entities);
  }
  x->identity = std::move(id);
  for (auto& [k, v] : q.context)
    if (k != "destination") x->context[k] = std::move(v);
  if (!q.purpose.empty()) x->details["purpose"] = q.purpose;
  // Records the refusal and reports it.
  auto refused = [&impl, x](std::string code, std::string message) {
    impl.refuse(*x, status_for(code), code, message);
    impl.count(code);
    impl.pipe.complete(*x);
    return Error{std::move(code), std::move(message), {}};
  };
  auto d = egress::parse_url(q.url);
  if (!d) return done(refused(d.error().code, d.error().message));
  Impl::describe(*x, *d);
  if (!impl.pipe.run_request(*x)) {
    pipeline::Ending e = *x->ending;
    x->status = e.status;
    impl.count(e.code);
    impl.pipe.complete(*x);
    return done(make_error(e.code, e.message.empty() ? "egress to " + d->to_string() + " is not allowed" : e.message));
  }
  auto destination = std::make_shared<egress::Destination>(std::move(*d));
  impl.addresses_for(x, *destination, [&impl, x, destination, refused, done = std::move(done)](
                                          Result<std::vector<egress::IpAddress>> addresses) mutable {
    if (!addresses) return done(refused(addresses.error().code, addresses.error().message));
    EgressPermit p;
    p.destination = std::move(*destination);
    p.addresses = std::move(*addresses);
    p.connect_timeout = std::chrono::milliseconds(x->snapshot->config.egress.connect_timeout_ms);
    p.request_id = x->request_id;
    x->status = 200;
    x->destination_address = p.addresses.front().to_string();
    impl.count("");
    impl.pipe.complete(*x);
    // Sync durability: the permit only once the decision is on record.
    if (x->audit_ticket &&
        !x->audit_ticket->wait_for(std::chrono::milliseconds(x->snapshot->config.audit.sync_timeout_ms)))
      return done(make_error("audit_unavailable", "the decision could not be recorded in time"));
    done(std::move(p));
  });
}

Result<EgressPermit> EgressGuard::check_blocking(EgressQuery query) {
  auto promise = std::make_shared<std::promise<Result<EgressPermit>>>();
  auto future = promise->get_future();
  check(std::move(query), [promise](Result<EgressPermit> r) { promise->set_value(std::move(r)); });
  return future.get();  // the resolver answers by its deadline, whatever DNS does
}

}  // namespace ztgate::gateway
