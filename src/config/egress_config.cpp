// The `egress` section of ztgate.yaml (EgressSettings in gateway_config.h).
#include "authn/api_keys.h"
#include "config/gateway_config.h"

namespace ztgate::config {

EgressSettings read_egress_settings(MapReader& e, const std::string& dir) {
  EgressSettings s;
  bool has_listener = e.has("listener");
  MapReader listener = e.map("listener");  // read even when absent: a misspelt key gets a suggestion
  if (has_listener) s.listener = read_listener(listener, dir);
  if (std::string text = e.string("service_principal"); !text.empty()) {
    auto p = authn::parse_service_principal(text);
    if (p) s.service_principal = *p;
    else e.error("service_principal", "must be Service::\"id\" or Agent::\"id\": " + p.error().message);
  }
  std::vector<egress::Cidr> allow;
  for (const auto& text : e.strings("allow_addresses", 4096)) {
    auto c = egress::parse_cidr(text);
    if (c) allow.push_back(*c);
    else e.error("allow_addresses", c.error().message);
  }
  s.addresses = egress::AddressPolicy(std::move(allow));
  for (auto& z : e.list("zones", egress::kMaxZones)) {
    std::string name = z.required_string("name");
    std::vector<egress::HostPattern> patterns;
    for (const auto& text : z.strings("hosts", egress::kMaxPatternsPerZone)) {
      auto p = egress::parse_host_pattern(text);
      if (p) patterns.push_back(std::move(*p));
      else z.error("hosts", p.error().message);
    }
    z.finish();
    if (name.empty()) continue;
    if (auto st = s.zones.add(name, std::move(patterns)); !st) z.error("name", st.error().message);
  }
  MapReader t = e.map("timeouts");
  s.resolve_timeout_ms = t.duration_ms("resolve", s.resolve_timeout_ms, 10, 60'000);
  s.connect_timeout_ms = t.duration_ms("connect", s.connect_timeout_ms, 10, 120'000);
  s.request_timeout_ms = t.duration_ms("request", s.request_timeout_ms, 100, 3'600'000);
  s.response_timeout_ms = t.duration_ms("response", s.response_timeout_ms, 100, 3'600'000);
  s.idle_timeout_ms = t.duration_ms("idle", s.idle_timeout_ms, 100, 86'400'000);
  s.tunnel_max_s = t.duration_s("tunnel_max", s.tunnel_max_s, 1, int64_t{7} * 86'400);
  t.finish();
  MapReader l = e.map("limits");
  s.max_connections = l.integer("max_connections", s.max_connections, 1, 1 << 20);
  s.max_tunnels = l.integer("max_tunnels", s.max_tunnels, 1, 1 << 20);
  s.max_header_bytes = l.integer("max_header_bytes", s.max_header_bytes, 1024, 1 << 20);
  s.max_body_bytes = l.integer("max_body_bytes", s.max_body_bytes, 0, int64_t{256} << 20);
  s.threads = l.integer("threads", s.threads, 1, 256);
  l.finish();
  MapReader r = e.map("resolver");
  s.resolver_threads = r.integer("threads", s.resolver_threads, 1, 64);
  s.resolver_max_pending = r.integer("max_pending", s.resolver_max_pending, 1, 100'000);
  r.finish();
  MapReader a = e.map("audit");
  s.audit_sync = read_durability(a);
  a.finish();
  return s;
}

}  // namespace ztgate::config
