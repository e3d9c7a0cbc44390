// EgressGuard (egress_guard.h) in-process, with a fake DNS: the order of a
// decision (destination, policy, resolution only when allowed, SSRF floor),
// the permit's addresses (resolved once: no rebinding), 407 for the proxy,
// zones as Host parents, the service principal, and the audit records.
#include "gateway/egress_guard.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <filesystem>
#include <future>
#include <fstream>
#include <map>
#include <mutex>

#include "audit/store.h"
#include "audit/trail.h"
#include "authn/api_keys.h"
#include "config/gateway_config.h"
#include "gateway/audit_gate.h"
#include "pipeline/decision_cache.h"
#include "pipeline/metrics.h"
#include "pipeline/pipeline.h"
#include "pipeline/snapshot.h"
#include "pipeline/stages.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;

constexpr const char* kPolicies = R"(
@id("the-gateway-reaches-mcp-servers")
permit (principal == Service::"ztgate", action == Action::"egress", resource in Zone::"mcp-servers");
@id("bots-reach-apis-over-tls")
permit (principal in Group::"bots", action == Action::"egress", resource in Zone::"apis")
when { context.destination.scheme == "tunnel" && context.destination.port == 443 };
@id("wild-reaches-anything")
permit (principal == Service::"wild", action == Action::"egress", resource);
)";

// A DNS the test controls; counts lookups per name.
struct FakeDns {
  std::mutex mu;
  std::map<std::string, std::vector<std::vector<std::string>>> answers;  // successive answers
  std::map<std::string, int> lookups;
  Result<egress::Resolver::Addresses> lookup(const std::string& name) {
    std::lock_guard l(mu);
    int n = lookups[name]++;
    auto it = answers.find(name);
    if (it == answers.end()) return make_error("resolve_failed", "`" + name + "` does not resolve");
    const auto& list = it->second[std::min<size_t>(static_cast<size_t>(n), it->second.size() - 1)];
    egress::Resolver::Addresses out;
    for (const auto& a : list) out.push_back(*egress::parse_ip_strict(a));
    return out;
  }
  int count(const std::string& name) {
    std::lock_guard l(mu);
    return lookups[name];
  }
};

class EgressGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ztgate-egress-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    write("policies.cedar", kPolicies);
    write("entities.json", R"([
      {"uid":{"type":"Service","id":"bot"},"attrs":{},"parents":[{"type":"Group","id":"bots"}]},
      {"uid":{"type":"Service","id":"wild"},"attrs":{},"parents":[]},
      {"uid":{"type":"Host","id":"legacy.example.test"},"attrs":{},"parents":[{"type":"Zone","id":"apis"}]}])");
    write("ztgate.yaml",
          "data_dir: data\n"
          "egress:\n"
          "  allow_addresses: [127.0.0.77/32]\n"
          "  zones:\n"
          "    - { name: mcp-servers, hosts: [\"*.mcp.test\", 127.0.0.77] }\n"
          "    - { name: apis, hosts: [api.example.test, rebind.example.test, mixed.example.test] }\n"
          "  timeouts: { connect: 3s, resolve: 300ms }\n"
          "policies: { files: [policies.cedar], entities: [entities.json] }\n");
    auto store = authn::ApiKeyStore::open((dir_ / "data").string());
    ASSERT_TRUE(store) << store.error().message;
    auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
    for (const char* p : {"bot", "wild"}) {
      auto created = (*store)->create({p, std::string("Service::\"") + p + "\"", {}, {}}, now.count());
      ASSERT_TRUE(created) << created.error().message;
      keys_[p] = created->key;
    }
    dns_.answers["api.example.test"] = {{"93.184.216.34"}};
    dns_.answers["rebind.example.test"] = {{"93.184.216.34"}, {"127.0.0.1"}};
    dns_.answers["mixed.example.test"] = {{"93.184.216.34", "10.0.0.1"}};
    dns_.answers["tools.mcp.test"] = {{"2606:4700::1111", "93.184.216.35"}};
    dns_.answers["loop.mcp.test"] = {{"127.0.0.1"}};
    auto config = config::load_gateway_config((dir_ / "ztgate.yaml").string());
    ASSERT_TRUE(config) << config.error().message;
    auto trail_opts = trail_options(config->audit);
    auto snapshot = pipeline::load_snapshot(std::move(*config), 1);
    ASSERT_TRUE(snapshot) << snapshot.error().message;
    holder_.publish(std::move(*snapshot));
    auto trail = audit::Trail::open(std::move(trail_opts));
    ASSERT_TRUE(trail) << trail.error().message;
    trail_ = std::move(*trail);
    pipeline_ = std::make_unique<pipeline::Pipeline>(pipeline::standard_stages(cache_, metrics_, *trail_, *sessions_, "test"), metrics_);
    egress::Resolver::Options r;
    r.lookup = [this](const std::string& name) { return dns_.lookup(name); };
    guard_ = std::make_unique<EgressGuard>(holder_, *pipeline_, *trail_, metrics_, std::move(r));
  }
  void TearDown() override {
    guard_.reset();
    pipeline_.reset();
    trail_.reset();
    std::filesystem::remove_all(dir_);
  }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }

  // The service principal's check.
  Result<EgressPermit> check(const std::string& url) {
    EgressQuery q;
    q.url = url;
    q.purpose = "test";
    return guard_->check_blocking(std::move(q));
  }
  Result<EgressPermit> check_as(const std::string& who, const std::string& url) {
    EgressQuery q;
    q.url = url;
    authn::Identity id;
    id.principal = {"Service", who};
    q.principal = id;
    return guard_->check_blocking(std::move(q));
  }
  std::shared_ptr<EgressSession> proxy(const std::string& method, const std::string& target,
                                       const std::string& authorization) {
    EgressAttempt a;
    a.request_id = "req-" + std::to_string(++requests_);
    a.remote = "127.0.0.1:5000";
    a.method = method;
    a.target = target;
    a.proxy_authorization = authorization;
    std::promise<std::shared_ptr<EgressSession>> p;
    auto f = p.get_future();
    guard_->decide(a, [&p](std::shared_ptr<EgressSession> s) { p.set_value(std::move(s)); });
    return f.get();
  }
  static std::string code_of(const HttpResponse& r) {
    return std::string(json::parse(r.body).at("error").at("code").as_string());
  }
  std::vector<json::object> records() {
    guard_.reset();
    pipeline_.reset();
    trail_.reset();  // commits everything
    auto store = audit::AuditStore::open((dir_ / "data" / "audit.db").string(), true);
    EXPECT_TRUE(store);
    std::vector<json::object> out;
    auto rs = (*store)->read_after(0, 1000);
    for (const auto& r : *rs) {
      out.push_back(json::parse(r.text).as_object());
      out.back()["indexed_decision"] = r.event.decision;
    }
    return out;
  }
  static std::string addresses(const EgressPermit& p) {
    std::string out;
    for (const auto& a : p.addresses) out += (out.empty() ? "" : ",") + a.to_string();
    return out;
  }

  std::filesystem::path dir_;
  std::map<std::string, std::string> keys_;
  FakeDns dns_;
  pipeline::SnapshotHolder holder_;
  pipeline::MetricsRegistry metrics_;
  pipeline::DecisionCache cache_{pipeline::DecisionCacheLimits{}};
  std::unique_ptr<audit::Trail> trail_;
  std::unique_ptr<state::SessionStore> sessions_ = state::make_memory_session_store(1000, std::chrono::hours(1));
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::unique_ptr<EgressGuard> guard_;
  int requests_ = 0;
};

TEST_F(EgressGuardTest, TheServicePrincipalReachesItsZoneAtTheResolvedAddresses) {
  auto p = check("https://Tools.MCP.test./mcp");
  ASSERT_TRUE(p) << p.error().code << ": " << p.error().message;
  EXPECT_EQ(p->destination.host.text, "tools.mcp.test");
  EXPECT_EQ(p->destination.port, 443);
  EXPECT_EQ(p->destination.target, "/mcp");
  EXPECT_EQ(addresses(*p), "2606:4700::1111,93.184.216.35");
  EXPECT_EQ(p->connect_timeout, std::chrono::seconds(3));
  EXPECT_FALSE(p->request_id.empty());
}

TEST_F(EgressGuardTest, ADeniedNameIsNeverLookedUp) {
  auto p = check("https://api.example.test/");  // not in the service's zone
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, "forbidden");
  EXPECT_EQ(dns_.count("api.example.test"), 0);
}

TEST_F(EgressGuardTest, AnAllowedNameResolvingToLoopbackIsRefusedByTheFloor) {
  auto p = check("http://loop.mcp.test/");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, "destination_forbidden");
  EXPECT_NE(p.error().message.find("127.0.0.1 is loopback"), std::string::npos) << p.error().message;
}

TEST_F(EgressGuardTest, AllowListedLiteralPasses) {
  auto p = check("http://127.0.0.77:8080/");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(addresses(*p), "127.0.0.77");
}

TEST_F(EgressGuardTest, EveryAddressOfANameMustPass) {
  auto p = check_as("wild", "http://mixed.example.test/");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, "destination_forbidden");
  EXPECT_NE(p.error().message.find("10.0.0.1 is private"), std::string::npos) << p.error().message;
}

TEST_F(EgressGuardTest, ANameIsResolvedOnceAndThePermitKeepsThoseAddresses) {
  // The second answer would be loopback (rebinding): the permit holds the first.
  auto p = check_as("wild", "http://rebind.example.test/");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(addresses(*p), "93.184.216.34");
  EXPECT_EQ(dns_.count("rebind.example.test"), 1);
  auto again = check_as("wild", "http://rebind.example.test/");  // a new decision, a new lookup
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "destination_forbidden");
}

TEST_F(EgressGuardTest, UnresolvableAndInvalidDestinations) {
  auto p = check_as("wild", "http://nowhere.example.test/");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, "destination_unresolvable");
  auto bad = check_as("wild", "http://0x7f.0.0.0x100/");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "destination_invalid");
  auto scheme = check_as("wild", "ftp://example.test/");
  ASSERT_FALSE(scheme);
  EXPECT_EQ(scheme.error().code, "destination_invalid");
}

TEST_F(EgressGuardTest, ProxyWithoutCredentialsGets407WithProxyAuthenticate) {
  auto s = proxy("CONNECT", "api.example.test:443", "");
  ASSERT_TRUE(s->refusal());
  EXPECT_EQ(s->refusal()->status, 407);
  EXPECT_EQ(code_of(*s->refusal()), "unauthenticated");
  int challenges = 0;
  for (const auto& [k, v] : s->refusal()->headers)
    if (k == "proxy-authenticate") ++challenges;
  EXPECT_EQ(challenges, 2);
  s->finish(EgressOutcome{407, 0, 0, ""});
  EXPECT_EQ(dns_.count("api.example.test"), 0);
  auto bad = proxy("CONNECT", "api.example.test:443", "Basic Zm9vOnp0Z19ub3Bl");  // foo:ztg_nope
  ASSERT_TRUE(bad->refusal());
  EXPECT_EQ(bad->refusal()->status, 407);
  EXPECT_EQ(code_of(*bad->refusal()), "api_key_malformed");
}

TEST_F(EgressGuardTest, ProxyBadTargetIs400OnlyOnceAuthenticated) {
  auto anon = proxy("GET", "http://exa mple/", "");
  EXPECT_EQ(anon->refusal()->status, 407);
  auto s = proxy("GET", "/relative", "Bearer " + keys_["bot"]);
  ASSERT_TRUE(s->refusal());
  EXPECT_EQ(s->refusal()->status, 400);
  EXPECT_EQ(code_of(*s->refusal()), "destination_invalid");
}

TEST_F(EgressGuardTest, ProxyDecisionsFollowZonesPortsAndSchemes) {
  std::string basic = "Basic " + [&] {
    // "bot:<key>" in base64
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string in = "bot:" + keys_["bot"], out;
    for (size_t i = 0; i < in.size(); i += 3) {
      uint32_t v = static_cast<uint8_t>(in[i]) << 16;
      if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
      if (i + 2 < in.size()) v |= static_cast<uint8_t>(in[i + 2]);
      out += t[(v >> 18) & 63];
      out += t[(v >> 12) & 63];
      out += i + 1 < in.size() ? t[(v >> 6) & 63] : '=';
      out += i + 2 < in.size() ? t[v & 63] : '=';
    }
    return out;
  }();
  auto ok = proxy("CONNECT", "API.example.test.:443", basic);
  ASSERT_FALSE(ok->refusal()) << ok->refusal()->body;
  EXPECT_EQ(addresses(ok->permit()), "93.184.216.34");
  EXPECT_EQ(ok->permit().destination.scheme, "tunnel");
  ok->connected(ok->permit().addresses[0], true);
  ok->finish(EgressOutcome{200, 517, 4096, "closed"});

  auto port = proxy("CONNECT", "api.example.test:80", basic);  // the policy wants 443
  ASSERT_TRUE(port->refusal());
  EXPECT_EQ(port->refusal()->status, 403);
  EXPECT_EQ(code_of(*port->refusal()), "forbidden");
  auto plain = proxy("GET", "http://api.example.test:443/", basic);  // and a tunnel
  ASSERT_TRUE(plain->refusal());
  EXPECT_EQ(plain->refusal()->status, 403);
  auto stored_zone = proxy("CONNECT", "legacy.example.test:443", basic);  // Zone from the entity store
  ASSERT_TRUE(stored_zone->refusal());
  EXPECT_EQ(code_of(*stored_zone->refusal()), "destination_unresolvable");  // allowed, then no DNS answer

  auto all = records();
  ASSERT_GE(all.size(), 5u);
  // The tunnel: its decision when it opened, then the whole exchange.
  std::vector<json::object> tunnel;
  for (const auto& r : all)
    if (r.at("metadata").at("uid") == json::value(ok->permit().request_id)) tunnel.push_back(r);
  ASSERT_EQ(tunnel.size(), 2u);
  const auto& last = tunnel.back();
  EXPECT_EQ(last.at("indexed_decision"), "allow");
  EXPECT_EQ(last.at("dst_endpoint").at("hostname"), "api.example.test");
  EXPECT_EQ(last.at("dst_endpoint").at("ip"), "93.184.216.34");
  EXPECT_EQ(last.at("dst_endpoint").at("port"), 443);
  EXPECT_EQ(last.at("unmapped").at("details").at("egress").at("bytes_up"), 517);
  EXPECT_EQ(last.at("unmapped").at("details").at("egress").at("bytes_down"), 4096);
  EXPECT_EQ(last.at("unmapped").at("resource"), "Host::\"api.example.test\"");
  EXPECT_EQ(last.at("http_request").at("http_method"), "CONNECT");
  EXPECT_EQ(std::string(json::serialize(last)).find(keys_["bot"]), std::string::npos) << "the key is never recorded";
}

TEST_F(EgressGuardTest, FloorRefusalsAreRecordedAsDenials) {
  auto p = check_as("wild", "http://169.254.169.254/latest/meta-data/");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, "destination_forbidden");
  auto all = records();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].at("indexed_decision"), "deny");
  EXPECT_EQ(all[0].at("status_detail"), "destination_forbidden");
  EXPECT_EQ(all[0].at("unmapped").at("destination").at("address_class"), "cloud_metadata");
  EXPECT_EQ(all[0].at("dst_endpoint").at("ip"), "169.254.169.254");
}

TEST_F(EgressGuardTest, SyncDurabilityGatesRefusalsAndTunnels) {
  // The same configuration with egress.audit.durability sync, swapped in as a reload would.
  write("ztgate.yaml",
        "data_dir: data\n"
        "egress:\n"
        "  allow_addresses: [127.0.0.77/32]\n"
        "  zones: [ { name: apis, hosts: [api.example.test] } ]\n"
        "  audit: { durability: sync }\n"
        "policies: { files: [policies.cedar], entities: [entities.json] }\n");
  auto config = config::load_gateway_config((dir_ / "ztgate.yaml").string());
  ASSERT_TRUE(config) << config.error().message;
  auto snapshot = pipeline::load_snapshot(std::move(*config), 2);
  ASSERT_TRUE(snapshot) << snapshot.error().message;
  holder_.publish(std::move(*snapshot));

  auto refused = proxy("CONNECT", "api.example.test:443", "");
  ASSERT_TRUE(refused->refusal());
  auto gate = refused->gate();
  ASSERT_NE(gate, nullptr) << "a sync refusal waits for its record";
  std::promise<bool> opened;
  gate->when_ready([&opened](bool ok) { opened.set_value(ok); });
  EXPECT_TRUE(opened.get_future().get());
  refused->finish(EgressOutcome{407, 0, 0, ""});

  auto ok = proxy("CONNECT", "api.example.test:443", "Bearer " + keys_["bot"]);
  ASSERT_FALSE(ok->refusal()) << ok->refusal()->body;
  EXPECT_EQ(ok->gate(), nullptr);
  auto connected = ok->connected(ok->permit().addresses[0], true);
  ASSERT_NE(connected, nullptr) << "the tunnel opens once its decision is durable";
  std::promise<bool> durable;
  connected->when_ready([&durable](bool ok_) { durable.set_value(ok_); });
  EXPECT_TRUE(durable.get_future().get());
  ok->finish(EgressOutcome{200, 10, 20, "closed"});

  auto permit = check_as("wild", "http://127.0.0.77/");  // the API waits for durability itself
  EXPECT_TRUE(permit) << permit.error().message;
}

TEST_F(EgressGuardTest, AForwardRequestForAPermitConnectsToItsAddressesOnly) {
  auto p = check("https://tools.mcp.test:8443/mcp?x=1");
  ASSERT_TRUE(p) << p.error().message;
  ForwardRequest f = forward_request_for(*p);
  EXPECT_EQ(f.host, "tools.mcp.test");
  EXPECT_EQ(f.port, 8443);
  EXPECT_TRUE(f.tls);
  EXPECT_EQ(f.target, "/mcp?x=1");
  EXPECT_EQ(f.connect_to, (std::vector<std::string>{"2606:4700::1111", "93.184.216.35"}));
  EXPECT_EQ(f.connect_timeout, std::chrono::seconds(3));
}

}  // namespace
}  // namespace ztgate::gateway
