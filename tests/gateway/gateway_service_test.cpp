// GatewayService in-process (gateway_service.h): the Cedar-native and
// AuthZEN PDP endpoints, routing errors, readiness, reload (good and
// broken), the OpenAI proxy's forward (upstream credential swapped in,
// model renamed, client key gone), /metrics and the audit file.
#include "audit/store.h"
#include "gateway/gateway_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "authn/api_keys.h"
#include "config/gateway_config.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;

constexpr const char* kUpstreamKey = "sk-upstream-gateway-only-42";

constexpr const char* kPolicies = R"(
@id("alice-reads-records")
permit (principal == User::"alice", action == Action::"read", resource is Record);
@id("approver")
permit (principal, action == Action::"approve", resource) when { context.approver == User::"alice" };
@id("chatbot-queries-the-pdp")
permit (principal == Service::"chatbot", action == Action::"query_pdp", resource);
@id("chatbot-chats")
permit (principal == Service::"chatbot", action == Action::"invoke_model", resource);
@id("audit-from-loopback")
permit (principal == Service::"chatbot", action == Action::"read_audit", resource == AuditTrail::"default")
when { context has source_ip && ip(context.source_ip).isLoopback() };
)";

class GatewayServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ztgate-gwsvc-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ::setenv("ZTGATE_TEST_GW_UPSTREAM_KEY", kUpstreamKey, 1);
    write("policies.cedar", kPolicies);
    write("entities.json", R"([{"uid":{"type":"User","id":"alice"},"attrs":{},"parents":[]},
                               {"uid":{"type":"User","id":"bob"},"attrs":{},"parents":[]}])");
    write("ztgate.yaml",
          "data_dir: data\n"
          "gateway: { public_url: \"https://pdp.example.test\" }\n"
          "upstreams:\n"
          "  - { id: vllm, url: \"http://10.1.2.3:8000/v1/\", api_key_env: ZTGATE_TEST_GW_UPSTREAM_KEY }\n"
          "models:\n"
          "  - { id: llama, upstream: vllm, upstream_model: meta-llama/Llama-3-8B }\n"
          "  - { id: unrouted }\n"
          "policies: { files: [policies.cedar], entities: [entities.json] }\n");
    key_ = new_key("test", R"(Service::"chatbot")");
    start();
  }
  std::string new_key(const std::string& name, const std::string& principal) {
    auto store = authn::ApiKeyStore::open((dir_ / "data").string());
    EXPECT_TRUE(store) << store.error().message;
    if (!store) return "";
    auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
    auto created = (*store)->create({name, principal, {}, {}}, now.count());
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->key : "";
  }
  void TearDown() override {
    service_.reset();
    std::filesystem::remove_all(dir_);
    ::unsetenv("ZTGATE_TEST_GW_UPSTREAM_KEY");
  }

  void start() {
    auto config = config::load_gateway_config((dir_ / "ztgate.yaml").string());
    ASSERT_TRUE(config) << config.error().message;
    auto service = GatewayService::create(std::move(*config));
    ASSERT_TRUE(service) << service.error().message;
    service_ = std::move(*service);
  }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  std::string audit_path() const { return (dir_ / "data" / "audit.db").string(); }

  HttpResponse call(const std::string& method, const std::string& target, const std::string& body = "",
                    bool authenticated = true) {
    HttpRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    req.request_id = "req-" + std::to_string(++requests_);
    req.remote = "127.0.0.1:40000";
    if (authenticated) req.headers.emplace_back("authorization", "Bearer " + key_);
    if (!body.empty()) req.headers.emplace_back("content-type", "application/json");
    return service_->handle(req);
  }
  HttpResponse cedar(const std::string& body, bool authenticated = true) {
    return call("POST", "/cedar/v1/is_authorized", body, authenticated);
  }
  static json::object body_of(const HttpResponse& r) {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    EXPECT_FALSE(ec) << r.body;
    return v.is_object() ? v.as_object() : json::object{};
  }
  static std::string error_code(const HttpResponse& r) {
    auto b = body_of(r);
    const json::value* e = b.if_contains("error");
    return e && e->is_object() && e->as_object().contains("code") ? std::string(e->as_object().at("code").as_string())
                                                                   : std::string("(no error) ") + r.body;
  }
  // Destroys the service (the trail commits everything) and reads the
  // records, oldest first, with the indexed decision beside each.
  std::vector<json::object> audit_lines() {
    service_.reset();
    auto store = audit::AuditStore::open(audit_path(), true);
    EXPECT_TRUE(store) << store.error().message;
    std::vector<json::object> out;
    if (!store) return out;
    auto records = (*store)->read_after(0, 1000);
    EXPECT_TRUE(records);
    for (const auto& r : *records) {
      out.push_back(json::parse(r.text).as_object());
      out.back()["indexed_decision"] = r.event.decision;
    }
    return out;
  }
  // A member by dotted path ("unmapped.upstream.id"); null when absent.
  static json::value at(const json::object& o, std::string_view path) {
    const json::value* v = nullptr;
    const json::object* cur = &o;
    while (true) {
      size_t dot = path.find('.');
      v = cur->if_contains(path.substr(0, dot));
      if (v == nullptr) return nullptr;
      if (dot == std::string_view::npos) return *v;
      if (!v->is_object()) return nullptr;
      cur = &v->as_object();
      path.remove_prefix(dot + 1);
    }
  }

  std::filesystem::path dir_;
  std::string key_;
  std::unique_ptr<GatewayService> service_;
  int requests_ = 0;
};

// --- Cedar-native endpoint --------------------------------------------------

TEST_F(GatewayServiceTest, CedarAllowWithObjectUidsAndDiagnostics) {
  auto r = cedar(R"({"principal":{"type":"User","id":"alice"},"action":{"type":"Action","id":"read"},
                     "resource":{"type":"Record","id":"r1"},"context":{}})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto b = body_of(r);
  EXPECT_EQ(b.at("decision"), "allow");
  EXPECT_EQ(b.at("diagnostics").as_object().at("reason"), json::array{"policies.0"}) << r.body;
  EXPECT_EQ(b.at("diagnostics").as_object().at("errors"), json::array{});
}

TEST_F(GatewayServiceTest, CedarDenyWithStringUids) {
  auto r = cedar(R"({"principal":"User::\"bob\"","action":"Action::\"read\"","resource":"Record::\"r1\""})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto b = body_of(r);
  EXPECT_EQ(b.at("decision"), "deny");
  EXPECT_EQ(b.at("diagnostics").as_object().at("reason"), json::array{});
}

TEST_F(GatewayServiceTest, CedarContextWithAnEntityValue) {
  auto allow = cedar(R"({"principal":"User::\"bob\"","action":"Action::\"approve\"","resource":"Record::\"r1\"",
                         "context":{"approver":{"__entity":{"type":"User","id":"alice"}}}})");
  ASSERT_EQ(allow.status, 200) << allow.body;
  EXPECT_EQ(body_of(allow).at("decision"), "allow") << allow.body;
  auto deny = cedar(R"({"principal":"User::\"bob\"","action":"Action::\"approve\"","resource":"Record::\"r1\"",
                        "context":{"approver":{"__entity":{"type":"User","id":"bob"}}}})");
  ASSERT_EQ(deny.status, 200) << deny.body;
  EXPECT_EQ(body_of(deny).at("decision"), "deny") << deny.body;
}

TEST_F(GatewayServiceTest, CedarBadRequestsAre400) {
  const char* bodies[] = {
      // entities are not the caller's to give
      R"({"principal":"User::\"alice\"","action":"Action::\"read\"","resource":"Record::\"r1\"","entities":[]})",
      // the action must be an Action
      R"({"principal":"User::\"alice\"","action":"User::\"read\"","resource":"Record::\"r1\""})",
      // not JSON
      R"({"principal":)",
      // duplicate keys
      R"({"principal":"User::\"bob\"","principal":"User::\"alice\"","action":"Action::\"read\"","resource":"Record::\"r1\""})",
      // missing resource
      R"({"principal":"User::\"alice\"","action":"Action::\"read\""})",
      // context not an object
      R"({"principal":"User::\"alice\"","action":"Action::\"read\"","resource":"Record::\"r1\"","context":[1]})",
  };
  for (const char* body : bodies) {
    auto r = cedar(body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_EQ(error_code(r), "cedar_request_invalid") << body;
    EXPECT_EQ(body_of(r).at("error").as_object().at("request_id"), json::value("req-" + std::to_string(requests_)));
  }
}

TEST_F(GatewayServiceTest, CedarUnauthenticatedCallerGets401EvenForBadInput) {
  auto good = cedar(R"({"principal":"User::\"alice\"","action":"Action::\"read\"","resource":"Record::\"r1\""})", false);
  EXPECT_EQ(good.status, 401) << good.body;
  EXPECT_EQ(error_code(good), "unauthenticated");
  auto bad = cedar("{not json", false);
  EXPECT_EQ(bad.status, 401) << bad.body;
  EXPECT_EQ(error_code(bad), "unauthenticated");
}

// Asking the PDP is an action too: an authenticated caller that no policy
// lets query_pdp gets 403 on both PDP APIs, and its attempt is recorded.
TEST_F(GatewayServiceTest, PdpCallersNeedQueryPdpUnlessAuthorizeCallersIsOff) {
  key_ = new_key("outsider", R"(Service::"outsider")");
  ASSERT_FALSE(key_.empty());
  auto c = cedar(R"({"principal":"User::\"alice\"","action":"Action::\"read\"","resource":"Record::\"r1\""})");
  EXPECT_EQ(c.status, 403) << c.body;
  EXPECT_EQ(error_code(c), "forbidden");
  EXPECT_NE(c.body.find("query_pdp"), std::string::npos) << c.body;
  EXPECT_NE(c.body.find("Pdp::\\\"cedar\\\""), std::string::npos) << c.body;
  auto a = call("POST", "/access/v1/evaluation",
                R"({"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"Record","id":"r1"}})");
  EXPECT_EQ(a.status, 403) << a.body;
  EXPECT_NE(a.body.find("Pdp::\\\"authzen\\\""), std::string::npos) << a.body;
  EXPECT_EQ(body_of(a).count("decision"), 0u);  // no answer leaks

  write("ztgate.yaml",
        "data_dir: data\n"
        "gateway: { public_url: \"https://pdp.example.test\" }\n"
        "pdp: { authorize_callers: false }\n"
        "policies: { files: [policies.cedar], entities: [entities.json] }\n");
  service_.reset();
  start();
  auto open = cedar(R"({"principal":"User::\"alice\"","action":"Action::\"read\"","resource":"Record::\"r1\""})");
  EXPECT_EQ(open.status, 200) << open.body;
  EXPECT_EQ(body_of(open).at("decision"), "allow");
}

// --- AuthZEN ------------------------------------------------------------------

TEST_F(GatewayServiceTest, AuthzenSingleAndBatch) {
  auto single = call("POST", "/access/v1/evaluation",
                     R"({"subject":{"type":"user","id":"alice"},"action":{"name":"read"},
                         "resource":{"type":"record","id":"r1"}})");
  ASSERT_EQ(single.status, 200) << single.body;
  EXPECT_EQ(body_of(single).at("decision"), true) << single.body;
  auto batch = call("POST", "/access/v1/evaluations",
                    R"({"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"r1"},
                        "evaluations":[{"action":{"name":"read"}},{"action":{"name":"delete"}},
                                       {"subject":{"type":"user","id":"bob"},"action":{"name":"read"}}]})");
  ASSERT_EQ(batch.status, 200) << batch.body;
  json::object batch_body = body_of(batch);
  const auto& evals = batch_body.at("evaluations").as_array();
  ASSERT_EQ(evals.size(), 3u) << batch.body;
  EXPECT_EQ(evals[0].as_object().at("decision"), true) << batch.body;
  EXPECT_EQ(evals[1].as_object().at("decision"), false) << batch.body;
  EXPECT_EQ(evals[2].as_object().at("decision"), false) << batch.body;
  auto bad = call("POST", "/access/v1/evaluation", R"({"subject":{"type":"user"}})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(error_code(bad), "authzen_invalid");
  auto meta = call("GET", "/.well-known/authzen-configuration");
  ASSERT_EQ(meta.status, 200) << meta.body;
  EXPECT_EQ(body_of(meta).at("policy_decision_point"), "https://pdp.example.test");
}

// --- routing and operational endpoints ------------------------------------------

TEST_F(GatewayServiceTest, UnknownPathIs404AndWrongMethodIs405) {
  auto unknown = call("GET", "/nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(error_code(unknown), "not_found");
  auto method = call("GET", "/cedar/v1/is_authorized");
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(error_code(method), "method_not_allowed");
  auto post_health = call("POST", "/healthz", "{}");
  EXPECT_EQ(post_health.status, 405);
  auto health = call("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(body_of(health).at("status"), "ok");
}

TEST_F(GatewayServiceTest, ReadyzReportsConfigVersionOne) {
  auto r = call("GET", "/readyz", "", false);
  ASSERT_EQ(r.status, 200) << r.body;
  auto b = body_of(r);
  EXPECT_EQ(b.at("status"), "ready");
  EXPECT_EQ(b.at("config_version"), 1);
  EXPECT_EQ(b.at("policies"), 5);
  EXPECT_EQ(service_->version(), 1u);
}

// --- reload ------------------------------------------------------------------------

TEST_F(GatewayServiceTest, ReloadServesTheNewPolicies) {
  const std::string bob_reads = R"({"principal":"User::\"bob\"","action":"Action::\"read\"","resource":"Record::\"r1\""})";
  EXPECT_EQ(body_of(cedar(bob_reads)).at("decision"), "deny");  // and now cached
  write("policies.cedar", std::string(kPolicies) + "permit (principal == User::\"bob\", action, resource);\n");
  auto v = service_->reload();
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, 2u);
  EXPECT_EQ(service_->version(), 2u);
  EXPECT_EQ(body_of(call("GET", "/readyz")).at("config_version"), 2);
  EXPECT_EQ(body_of(cedar(bob_reads)).at("decision"), "allow");
}

TEST_F(GatewayServiceTest, BrokenReloadKeepsTheRunningVersion) {
  const std::string alice_reads =
      R"({"principal":"User::\"alice\"","action":"Action::\"read\"","resource":"Record::\"r1\""})";
  write("policies.cedar", "permit (principal ==, action, resource);\n");
  auto v = service_->reload();
  ASSERT_FALSE(v);
  EXPECT_FALSE(v.error().message.empty());
  EXPECT_EQ(service_->version(), 1u);
  EXPECT_EQ(body_of(call("GET", "/readyz")).at("config_version"), 1);
  EXPECT_EQ(body_of(cedar(alice_reads)).at("decision"), "allow");
  std::string metrics = call("GET", "/metrics").body;
  EXPECT_NE(metrics.find("ztgate_config_reloads_total{result=\"failed\"} 1"), std::string::npos) << metrics;
}

TEST_F(GatewayServiceTest, WatchedFilesAreConfigPoliciesAndEntities) {
  auto files = service_->watched_files();
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0], (dir_ / "ztgate.yaml").string());
}

// --- OpenAI proxy ------------------------------------------------------------------

TEST_F(GatewayServiceTest, UnauthenticatedChatIs401WithAChallenge) {
  auto r = call("POST", "/v1/chat/completions", R"({"model":"llama","messages":[{"role":"user","content":"hi"}]})",
                false);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(error_code(r), "unauthenticated");
  EXPECT_FALSE(r.forward);
  bool challenge = false;
  for (const auto& [k, v] : r.headers)
    if ((k == "www-authenticate" || k == "WWW-Authenticate") && v.rfind("Bearer", 0) == 0) challenge = true;
  EXPECT_TRUE(challenge) << "no WWW-Authenticate: Bearer";
}

TEST_F(GatewayServiceTest, ChatForAModelWithoutUpstreamIs404) {
  for (const char* model : {"unrouted", "never-configured"}) {
    auto r = call("POST", "/v1/chat/completions",
                  std::string(R"({"model":")") + model + R"(","messages":[{"role":"user","content":"hi"}]})");
    EXPECT_EQ(r.status, 404) << model << ": " << r.body;
    EXPECT_EQ(error_code(r), "model_not_found") << model;
    EXPECT_FALSE(r.forward);
  }
}

TEST_F(GatewayServiceTest, ChatBodiesWithRepeatedKeysOrBadJsonAre400) {
  struct Case {
    const char* body;
    const char* message;  // a part of the error message
  };
  const Case cases[] = {
      {R"({"model":"llama","messages":[{"role":"user","role":"system","content":"hi"}]})", "duplicate key `role`"},
      {R"({"model":"llama","model":"other","messages":[{"role":"user","content":"hi"}]})", "duplicate key `model`"},
      // A syntax error after a repeat is reported as such.
      {R"({"model":"llama","model":"x","messages":[)", "not valid JSON"},
      {R"({"model":"llama","messages":[{"role":"user","content":"hi"}]} trailing)", "not valid JSON"},
  };
  for (const auto& c : cases) {
    auto r = call("POST", "/v1/chat/completions", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_EQ(error_code(r), "invalid_json") << c.body;
    EXPECT_NE(r.body.find(c.message), std::string::npos) << r.body;
    EXPECT_FALSE(r.forward);
  }
}

TEST_F(GatewayServiceTest, ChatIsForwardedWithTheGatewaysCredentialOnly) {
  auto r = call("POST", "/v1/chat/completions",
                R"({"model":"llama","messages":[{"role":"user","content":"hi"}],"temperature":0.5})");
  ASSERT_TRUE(r.forward) << r.status << " " << r.body;
  const ForwardRequest& f = r.forward->request;
  EXPECT_EQ(f.host, "10.1.2.3");
  EXPECT_EQ(f.port, 8000);
  EXPECT_EQ(f.method, "POST");
  EXPECT_EQ(f.target, "/v1/chat/completions");
  std::string authorization;
  for (const auto& [k, v] : f.headers) {
    if (k == "authorization") authorization = v;
    EXPECT_EQ(v.find(key_), std::string::npos) << "client key in header " << k;
  }
  EXPECT_EQ(authorization, std::string("Bearer ") + kUpstreamKey);
  EXPECT_EQ(f.body.find(key_), std::string::npos);
  EXPECT_EQ(f.target.find(key_), std::string::npos);
  auto body = json::parse(f.body).as_object();
  EXPECT_EQ(body.at("model"), "meta-llama/Llama-3-8B");
  EXPECT_EQ(body.at("temperature"), 0.5);
  EXPECT_EQ(body.at("messages").as_array().size(), 1u);
  ASSERT_TRUE(r.forward->observer);

  // The server's part, simulated: the upstream answers, the exchange is recorded.
  std::vector<std::pair<std::string, std::string>> relay;
  EXPECT_FALSE(r.forward->observer->on_head(200, {{"content-type", "application/json"}}, relay));
  r.forward->observer->on_chunk(R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}})");
  r.forward->observer->on_done(200, true, "");
  auto lines = audit_lines();
  ASSERT_EQ(lines.size(), 1u);
  const json::object& a = lines[0];
  EXPECT_EQ(at(a, "unmapped.adapter"), "openai");
  EXPECT_EQ(at(a, "unmapped.principal"), "Service::\"chatbot\"");
  EXPECT_EQ(at(a, "unmapped.resource"), "Model::\"llama\"");
  EXPECT_EQ(a.at("indexed_decision"), "allow");
  EXPECT_EQ(at(a, "http_response.code"), 200);
  EXPECT_EQ(at(a, "unmapped.upstream.id"), "vllm");
  EXPECT_FALSE(at(a, "unmapped.latency_ns.forward").is_null());
  EXPECT_EQ(json::serialize(a).find(key_), std::string::npos);
  EXPECT_EQ(json::serialize(a).find(kUpstreamKey), std::string::npos);
}

TEST_F(GatewayServiceTest, UpstreamRejectingTheGatewayKeyIs502) {
  auto r = call("POST", "/v1/chat/completions", R"({"model":"llama","messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(r.forward);
  std::vector<std::pair<std::string, std::string>> relay;
  auto replaced = r.forward->observer->on_head(401, {}, relay);
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->status, 502);
  EXPECT_EQ(error_code(*replaced), "upstream_auth_failed");
  r.forward->observer->on_done(502, true, "");
  auto lines = audit_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(at(lines[0], "unmapped.upstream.error"), "upstream_auth_failed") << json::serialize(lines[0]);
}

// --- metrics and audit -------------------------------------------------------------

TEST_F(GatewayServiceTest, MetricsHaveCacheLookupsRequestsAndStages) {
  const std::string q = R"({"principal":"User::\"alice\"","action":"Action::\"read\"","resource":"Record::\"r1\""})";
  cedar(q);
  cedar(q);
  auto r = call("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/plain", 0), 0u) << r.content_type;
  // Each query is two decisions (may the caller ask: query_pdp; the
  // answer), each a miss the first time and a hit the second.
  EXPECT_NE(r.body.find("ztgate_decision_cache_lookups_total{result=\"hit\"} 2"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("ztgate_decision_cache_lookups_total{result=\"miss\"} 2"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("ztgate_http_requests_total{route=\"/cedar/v1/is_authorized\",status=\"200\"} 2"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("ztgate_stage_duration_seconds_count{stage=\"authorize\"}"), std::string::npos) << r.body;
}

TEST_F(GatewayServiceTest, OneAuditLinePerExchangeAndNoneForOperationalEndpoints) {
  cedar(R"({"principal":"User::\"alice\"","action":"Action::\"read\"","resource":"Record::\"r1\""})");
  cedar(R"({"principal":"User::\"bob\"","action":"Action::\"read\"","resource":"Record::\"r1\""})");
  cedar("{bad", true);
  cedar("{}", false);
  call("GET", "/nope");
  call("POST", "/v1/chat/completions", R"({"model":"unrouted","messages":[{"role":"user","content":"x"}]})");
  call("GET", "/healthz");
  call("GET", "/readyz");
  call("GET", "/metrics");
  auto lines = audit_lines();
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(at(lines[0], "metadata.uid"), "req-1");
  EXPECT_EQ(at(lines[0], "unmapped.adapter"), "cedar");
  EXPECT_EQ(at(lines[0], "http_response.code"), 200);
  EXPECT_EQ(at(lines[0], "unmapped.config_version"), 1);
  EXPECT_EQ(at(lines[0], "unmapped.principal"), "Service::\"chatbot\"");  // the caller, not the subject
  EXPECT_EQ(at(lines[2], "api.response.error"), "cedar_request_invalid");
  EXPECT_EQ(at(lines[3], "api.response.error"), "unauthenticated");
  EXPECT_EQ(at(lines[4], "api.response.error"), "not_found");
  EXPECT_EQ(at(lines[5], "http_response.code"), 404);
  EXPECT_EQ(at(lines[5], "api.response.error"), "model_not_found");
  for (const auto& l : lines) EXPECT_EQ(json::serialize(l).find(key_), std::string::npos);
}

// --- admin API ----------------------------------------------------------------

TEST_F(GatewayServiceTest, AdminAuditQueryIsAuthenticatedAuthorizedPagedAndRecorded) {
  for (int i = 0; i < 5; ++i)
    cedar(R"({"principal":"User::\"alice\"","action":"Action::\"read\"","resource":"Record::\"r1\""})");
  // Durable within the commit interval.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(call("GET", "/admin/v1/audit", "", false).status, 401);
  auto page = call("GET", "/admin/v1/audit?limit=3&route=/cedar/v1/is_authorized");
  ASSERT_EQ(page.status, 200) << page.body;
  auto b = body_of(page);
  ASSERT_EQ(b.at("records").as_array().size(), 3u);
  EXPECT_EQ(b.at("records").as_array()[0].at("attestation").at("uid"), "5");  // newest first
  ASSERT_TRUE(b.at("next_cursor").is_int64());
  auto next = call("GET", "/admin/v1/audit?limit=3&route=/cedar/v1/is_authorized&cursor=" +
                              std::to_string(b.at("next_cursor").as_int64()));
  auto nb = body_of(next);
  ASSERT_EQ(nb.at("records").as_array().size(), 2u) << next.body;
  EXPECT_TRUE(nb.at("next_cursor").is_null());
  auto oldest = body_of(call("GET", "/admin/v1/audit?order=oldest&limit=1&decision=allow"));
  EXPECT_EQ(oldest.at("records").as_array()[0].at("attestation").at("uid"), "1");
  for (const char* bad : {"/admin/v1/audit?limit=0", "/admin/v1/audit?limit=5000", "/admin/v1/audit?since=yesterday",
                          "/admin/v1/audit?order=up", "/admin/v1/audit?sql=1", "/admin/v1/audit?cursor=-1"}) {
    auto r = call("GET", bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(error_code(r), "invalid_query") << bad;
  }
  // Not from loopback: the policy does not permit it.
  HttpRequest remote;
  remote.method = "GET";
  remote.target = "/admin/v1/audit";
  remote.request_id = "req-remote";
  remote.remote = "10.1.2.3:5000";
  remote.headers.emplace_back("authorization", "Bearer " + key_);
  EXPECT_EQ(service_->handle(remote).status, 403);
  // The queries are in the trail too.
  auto lines = audit_lines();
  int admin = 0;
  for (const auto& l : lines)
    if (at(l, "unmapped.adapter") == "admin") ++admin;
  EXPECT_EQ(admin, 1 + 1 + 1 + 1 + 6 + 1);  // 401, two pages, oldest, six bad, 403
}

}  // namespace
}  // namespace ztgate::gateway
