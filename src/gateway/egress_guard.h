// The egress decision: may this principal reach this destination, and at
// which addresses exactly. The forward proxy (egress_proxy.h) asks it for
// every request; the rest of the gateway asks it before any connection of
// its own (check(): the MCP gateway's upstream servers).
//
// One decision, in this order (docs/POLICY_GUIDE.md, "Egress"):
//   1. the destination in canonical form (egress/destination.h);
//      unreadable: 400 destination_invalid.
//   2. the verification pipeline on (principal, Action::"egress",
//      Host::"<canonical host>"): the Host entity is built for the request
//      with attributes {name, port, scheme} and a parent Zone::"<z>" for
//      every egress.zones pattern it matches (merged with a stored Host
//      entity of that name, if any); context.destination is {host, port,
//      scheme} plus {ip, address_class} when the host is an IP literal.
//      No credential: 407 with Proxy-Authenticate; a bad one: 407 with the
//      verifier's code; a deny: 403 forbidden (or the policy's obligation).
//   3. only then name resolution, bounded by egress.timeouts.resolve (a
//      denied name is never looked up: a DNS query is itself a message out):
//      502 destination_unresolvable, 504 resolve_timeout, 503 resolver_busy.
//   4. the SSRF floor on every address (egress/address_class.h, with
//      egress.allow_addresses): 403 destination_forbidden.
// What is allowed is a list of addresses, all checked, to connect to in
// that order and nothing else: the destination is never resolved again.
// Every decision is an exchange in the audit trail (adapter "egress",
// route "egress"); a proxied one is completed when its forward ends, with
// what went through.
//
// Thread-safe. Callbacks run on the caller's thread (decided without a
// lookup) or on a resolver thread: keep them short. With egress.audit
// durability sync, check() reports a permit only once its record is durable
// (waiting up to audit.sync_timeout on that thread).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "authn/identity.h"
#include "common/result.h"
#include "egress/destination.h"
#include "egress/resolver.h"
#include "gateway/http_server.h"

namespace ztgate::audit {
class Trail;
}
namespace ztgate::pipeline {
class Pipeline;
class SnapshotHolder;
class MetricsRegistry;
class Counter;
}  // namespace ztgate::pipeline

namespace ztgate::gateway {

// --- for the gateway's own connections --------------------------------------

struct EgressQuery {
  std::string url;  // http(s)://host[:port]/path: where the connection goes
  // Who connects: the principal the connection is made for (e.g. the agent
  // whose tool call needs it), already authenticated by the caller. Unset:
  // egress.service_principal (default Service::"ztgate").
  std::optional<authn::Identity> principal;
  // The overlay entities that go with the principal (e.g. the calling
  // exchange's request_entities, with an agent's user); empty: the
  // principal's own entity and groups.
  boost::json::array principal_entities;
  // Facts for context (e.g. the calling exchange's authn, delegation);
  // destination is the guard's own.
  boost::json::object context;
  std::string request_id;  // correlates with the caller's record ("" = a fresh one)
  std::string purpose;     // recorded in the exchange's details, e.g. "mcp upstream github"
};

struct EgressPermit {
  egress::Destination destination;           // canonical scheme, host, port, path
  std::vector<egress::IpAddress> addresses;  // every one checked: connect to these, in order, only
  std::chrono::milliseconds connect_timeout{5000};
  std::string request_id;                    // of the decision's audit record
};

// A forward to the permit's destination (HttpServer's forwarding): host
// (the Host header and the TLS name) and port, tls for https, the URL's
// path as target, and connect_to = the checked addresses, so the forwarder
// connects to them and never resolves the name again. Method, headers,
// body and timeouts are the caller's.
ForwardRequest forward_request_for(const EgressPermit& permit);

// --- for the forward proxy ---------------------------------------------------

// One request as the proxy listener read it.
struct EgressAttempt {
  std::string request_id;
  std::string remote;                // "ip:port" of the client
  std::string client_cert_pem;       // TLS listener: the verified client chain ("" = none)
  std::string proxy_authorization;   // the header's value: a secret, never recorded
  std::string device_assertion;      // x-ztgate-device
  std::string method;                // "CONNECT", "GET", ...
  std::string target;                // as sent (authority-form or absolute-form)
};

// How a proxied forward ended.
struct EgressOutcome {
  int status = 0;           // what the client got (200 for an established tunnel)
  uint64_t bytes_up = 0;    // client -> destination (after the request head)
  uint64_t bytes_down = 0;  // destination -> client
  std::string end;          // how it ended: "closed", "idle_timeout", "max_duration", "client_gone",
                            // "upstream_broke_off", "upstream_timeout", "stopping", ...
};

// A decided proxy request, held by the proxy while it connects and relays.
class EgressSession {
 public:
  virtual ~EgressSession() = default;
  // Set: answer with it (the exchange is already recorded). Unset: connect.
  virtual const std::optional<HttpResponse>& refusal() const = 0;
  virtual const EgressPermit& permit() const = 0;
  // Before the refusal is sent, or before connecting: a sync decision
  // record must be durable first (null: nothing to wait for).
  virtual std::shared_ptr<ReadyGate> gate() const = 0;
  // Connected to `to` (one of permit().addresses). A tunnel's decision is
  // recorded now; the returned gate (sync) must open before the tunnel does.
  virtual std::shared_ptr<ReadyGate> connected(const egress::IpAddress& to, bool tunnel) = 0;
  // Plain HTTP: each chunk of the answer's body, through the output stages.
  virtual void on_chunk(std::string_view chunk) = 0;
  // No connection could be made (code upstream_unavailable, upstream_timeout):
  // the answer to send. finish() still follows.
  virtual HttpResponse connect_failed(std::string_view code, std::string_view message, int status) = 0;
  // Exactly once, last (also after a refusal): completes the exchange's record.
  virtual void finish(const EgressOutcome& outcome) = 0;
};

class EgressGuard {
 public:
  EgressGuard(pipeline::SnapshotHolder& holder, pipeline::Pipeline& pipeline, audit::Trail& trail,
              pipeline::MetricsRegistry& metrics, egress::Resolver::Options resolver);
  ~EgressGuard();

  // The gateway's own connections: a permit, or the refusal as an error
  // (the codes of the header comment; the message says why).
  void check(EgressQuery query, std::function<void(Result<EgressPermit>)> done);
  Result<EgressPermit> check_blocking(EgressQuery query);

  // The proxy's requests. `done` gets the session (never null).
  void decide(EgressAttempt attempt, std::function<void(std::shared_ptr<EgressSession>)> done);
  // A proxy request refused before any decision (the proxy at a limit:
  // 503 too_many_tunnels): recorded like the others.
  std::shared_ptr<EgressSession> refuse(EgressAttempt attempt, int status, std::string code, std::string message);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ztgate::gateway
