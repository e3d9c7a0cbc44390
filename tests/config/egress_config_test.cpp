// The egress section of ztgate.yaml (EgressSettings): defaults, every key,
// and the mistakes the strict reader reports.
#include <gtest/gtest.h>

#include "config/gateway_config.h"

namespace ztgate::config {
namespace {

Result<GatewayConfig> parse(const std::string& text) { return parse_gateway_config(text, "ztgate.yaml", "/etc/ztgate"); }

#define EXPECT_CONFIG_ERROR(result, text)                                                          \
  do {                                                                                             \
    ASSERT_FALSE(result) << "expected an error containing: " << (text);                           \
    EXPECT_NE((result).error().message.find(text), std::string::npos) << (result).error().message; \
  } while (0)

TEST(EgressConfigTest, DefaultsWithoutTheSection) {
  auto c = parse("data_dir: data\n");
  ASSERT_TRUE(c) << c.error().message;
  const EgressSettings& e = c->egress;
  EXPECT_FALSE(e.listener);
  EXPECT_EQ(e.service_principal.to_cedar(), "Service::\"ztgate\"");
  EXPECT_TRUE(e.zones.empty());
  EXPECT_TRUE(e.addresses.allow().empty());
  EXPECT_EQ(e.resolve_timeout_ms, 2000);
  EXPECT_EQ(e.connect_timeout_ms, 5000);
  EXPECT_EQ(e.max_tunnels, 256);
  EXPECT_FALSE(e.audit_sync);
}

TEST(EgressConfigTest, EveryKey) {
  auto c = parse(R"(
data_dir: data
egress:
  listener: { address: 0.0.0.0, port: 3128, tls: { cert: proxy.pem, key: proxy.key, client_ca: ca.pem } }
  service_principal: 'Service::"mcp-gateway"'
  allow_addresses: [10.20.0.0/16, "fd00:1::/64", 127.0.0.77]
  zones:
    - { name: llm, hosts: [api.openai.com, "*.anthropic.com"] }
    - { name: lab, hosts: [10.20.0.0/16] }
  timeouts: { resolve: 500ms, connect: 3s, request: 10s, response: 2m, idle: 30s, tunnel_max: 2h }
  limits: { max_connections: 100, max_tunnels: 10, max_header_bytes: 8192, max_body_bytes: 0, threads: 4 }
  resolver: { threads: 2, max_pending: 64 }
  audit: { durability: sync }
)");
  ASSERT_TRUE(c) << c.error().message;
  const EgressSettings& e = c->egress;
  ASSERT_TRUE(e.listener);
  EXPECT_EQ(e.listener->address, "0.0.0.0");
  EXPECT_EQ(e.listener->port, 3128);
  ASSERT_TRUE(e.listener->tls);
  EXPECT_EQ(e.listener->tls->cert_file, "/etc/ztgate/proxy.pem");
  EXPECT_EQ(e.listener->tls->client_ca_file, "/etc/ztgate/ca.pem");
  EXPECT_EQ(e.service_principal.to_cedar(), "Service::\"mcp-gateway\"");
  ASSERT_EQ(e.addresses.allow().size(), 3u);
  EXPECT_EQ(e.addresses.allow()[2].to_string(), "127.0.0.77/32");
  EXPECT_EQ(e.zones.zones_of(*egress::canonical_host("claude.anthropic.com")), std::vector<std::string>{"llm"});
  EXPECT_EQ(e.zones.zones_of(*egress::canonical_host("10.20.0.9")), std::vector<std::string>{"lab"});
  EXPECT_EQ(e.resolve_timeout_ms, 500);
  EXPECT_EQ(e.connect_timeout_ms, 3000);
  EXPECT_EQ(e.response_timeout_ms, 120'000);
  EXPECT_EQ(e.idle_timeout_ms, 30'000);
  EXPECT_EQ(e.tunnel_max_s, 7200);
  EXPECT_EQ(e.max_connections, 100);
  EXPECT_EQ(e.max_tunnels, 10);
  EXPECT_EQ(e.max_body_bytes, 0);
  EXPECT_EQ(e.threads, 4);
  EXPECT_EQ(e.resolver_threads, 2);
  EXPECT_EQ(e.resolver_max_pending, 64);
  EXPECT_TRUE(e.audit_sync);
}

TEST(EgressConfigTest, MistakesAreReportedWithTheirKey) {
  EXPECT_CONFIG_ERROR(parse("egress: { allow_addresses: [10.0.0.1/8] }\n"), "the range is 10.0.0.0/8");
  EXPECT_CONFIG_ERROR(parse("egress: { allow_addresses: [localhost] }\n"), "egress.allow_addresses");
  EXPECT_CONFIG_ERROR(parse("egress: { zones: [ { name: a, hosts: [\"a.*.com\"] } ] }\n"), "host pattern `a.*.com`");
  EXPECT_CONFIG_ERROR(parse("egress: { zones: [ { name: a, hosts: [] }, { name: a, hosts: [] } ] }\n"), "given twice");
  EXPECT_CONFIG_ERROR(parse("egress: { zones: [ { hosts: [x.com] } ] }\n"), "name");
  EXPECT_CONFIG_ERROR(parse("egress: { service_principal: 'User::\"alice\"' }\n"), "egress.service_principal");
  EXPECT_CONFIG_ERROR(parse("egress: { timeouts: { resolve: 5m } }\n"), "egress.timeouts.resolve");
  EXPECT_CONFIG_ERROR(parse("egress: { limits: { max_tunnel: 3 } }\n"), "max_tunnels");
  EXPECT_CONFIG_ERROR(parse("egress: { listner: {} }\n"), "listener");
  EXPECT_CONFIG_ERROR(parse("egress: { audit: { durability: sometimes } }\n"), "async or sync");
}

}  // namespace
}  // namespace ztgate::config
