// The gateway's own sections of ztgate.yaml (gateway_config.h): upstreams,
// models -> upstreams, routes, audit, reload, listener TLS, unknown keys;
// find_upstream / route_is_shadow / watched_files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/gateway_config.h"

namespace ztgate::config {
namespace {

class GatewaySectionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ztgate-gwcfg-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    ::setenv("ZTGATE_TEST_UPSTREAM_KEY", "sk-upstream-123", 1);
    ::unsetenv("ZTGATE_TEST_UNSET_KEY");
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    ::unsetenv("ZTGATE_TEST_UPSTREAM_KEY");
  }
  std::string write(const std::string& text, const std::string& name = "ztgate.yaml") {
    auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  Result<GatewayConfig> load(const std::string& text) { return load_gateway_config(write(text)); }
  static std::string message(const Result<GatewayConfig>& c) { return c ? std::string("(loaded)") : c.error().message; }
  std::filesystem::path dir_;
};

#define EXPECT_MESSAGE_HAS(result, text)                                                         \
  do {                                                                                           \
    ASSERT_FALSE(result) << "expected an error containing: " << (text);                          \
    EXPECT_EQ((result).error().code, "config_invalid");                                          \
    EXPECT_NE((result).error().message.find(text), std::string::npos) << (result).error().message; \
  } while (0)

TEST_F(GatewaySectionsTest, DefaultsWithoutGatewaySections) {
  auto c = load("data_dir: data\n");
  ASSERT_TRUE(c) << message(c);
  EXPECT_EQ(c->file, (dir_ / "ztgate.yaml").string());
  EXPECT_TRUE(c->upstreams.empty());
  EXPECT_TRUE(c->routes.empty());
  EXPECT_EQ(c->audit.store, (dir_ / "data").string() + "/audit.db");
  EXPECT_EQ(c->audit.key, (dir_ / "data").string() + "/audit-key.pem");
  EXPECT_FALSE(c->audit.sync);
  EXPECT_EQ(c->audit.payload, "none");
  EXPECT_TRUE(c->reload_watch);
  EXPECT_EQ(c->reload_interval_ms, 2000);
  ASSERT_EQ(c->listeners.size(), 1u);
  EXPECT_EQ(c->listeners[0].address, "127.0.0.1");
  EXPECT_EQ(c->listeners[0].port, 8080);
  EXPECT_FALSE(c->listeners[0].tls);
  EXPECT_TRUE(c->pdp_requires_authentication);
}

TEST_F(GatewaySectionsTest, DecisionCacheBoundsAndOff) {
  auto c = load("decision_cache: { max_entries: 0, max_bytes: 1048576 }\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->decision_cache_entries, 0);
  EXPECT_EQ(c->decision_cache_bytes, 1048576);
  auto d = load("data_dir: data\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->decision_cache_entries, 100000);
  EXPECT_FALSE(load("decision_cache: { max_entries: -1 }\n"));
  EXPECT_FALSE(load("decision_cache: { entries: 5 }\n"));
}

TEST_F(GatewaySectionsTest, ParsesUpstreamUrls) {
  auto c = load(R"(upstreams:
  - { id: vllm, url: "http://10.0.3.7:8000/v1/", api_key_env: ZTGATE_TEST_UPSTREAM_KEY, timeout: 2m, connect_timeout: 3s }
  - { id: plain, url: "http://models.internal" }
  - { id: deep, url: "http://h:81/a/b//" }
)");
  ASSERT_TRUE(c) << message(c);
  ASSERT_EQ(c->upstreams.size(), 3u);
  const auto& v = c->upstreams[0];
  EXPECT_EQ(v.id, "vllm");
  EXPECT_EQ(v.host, "10.0.3.7");
  EXPECT_EQ(v.port, 8000);
  EXPECT_EQ(v.base_path, "/v1");
  EXPECT_EQ(v.api_key, "sk-upstream-123");
  EXPECT_EQ(v.timeout_s, 120);
  EXPECT_EQ(v.connect_timeout_s, 3);
  const auto& p = c->upstreams[1];
  EXPECT_EQ(p.host, "models.internal");
  EXPECT_EQ(p.port, 80);
  EXPECT_EQ(p.base_path, "");
  EXPECT_EQ(p.api_key, "");
  EXPECT_EQ(p.timeout_s, 120);
  EXPECT_EQ(p.connect_timeout_s, 5);
  EXPECT_EQ(c->upstreams[2].port, 81);
  EXPECT_EQ(c->upstreams[2].base_path, "/a/b");
  EXPECT_EQ(find_upstream(*c, "plain"), &c->upstreams[1]);
  EXPECT_EQ(find_upstream(*c, "nope"), nullptr);
}

TEST_F(GatewaySectionsTest, HttpsUpstreamsDefaultTo443AndTakeACaFile) {
  auto https = load("upstreams: [ { id: a, url: \"https://api.openai.com/v1\", ca_file: ca.pem } ]\n");
  ASSERT_TRUE(https) << https.error().message;
  EXPECT_TRUE(https->upstreams[0].tls);
  EXPECT_EQ(https->upstreams[0].port, 443);
  EXPECT_EQ(https->upstreams[0].host, "api.openai.com");
  EXPECT_NE(https->upstreams[0].ca_file.find("ca.pem"), std::string::npos);
  auto plain_with_ca = load("upstreams: [ { id: a, url: \"http://h/v1\", ca_file: ca.pem } ]\n");
  EXPECT_MESSAGE_HAS(plain_with_ca, "only https upstreams use a CA file");
  auto ftp = load("upstreams: [ { id: a, url: \"ftp://h/v1\" } ]\n");
  EXPECT_MESSAGE_HAS(ftp, "`upstreams[0].url`");
}

TEST_F(GatewaySectionsTest, RefusesQueryAndCredentialsInUrls) {
  auto query = load("upstreams: [ { id: a, url: \"http://h/v1?x=1\" } ]\n");
  EXPECT_MESSAGE_HAS(query, "without credentials, query or fragment");
  auto creds = load("upstreams: [ { id: a, url: \"http://user:pw@h/v1\" } ]\n");
  EXPECT_MESSAGE_HAS(creds, "without credentials, query or fragment");
  auto relative = load("upstreams: [ { id: a, url: \"/v1\" } ]\n");
  EXPECT_MESSAGE_HAS(relative, "must be an http:// or https:// URL");
  auto missing = load("upstreams: [ { id: a } ]\n");
  EXPECT_MESSAGE_HAS(missing, "url");
}

TEST_F(GatewaySectionsTest, UpstreamKeyFromAnUnsetVariableNamesIt) {
  auto c = load("upstreams: [ { id: a, url: \"http://h\", api_key_env: ZTGATE_TEST_UNSET_KEY } ]\n");
  EXPECT_MESSAGE_HAS(c, "ZTGATE_TEST_UNSET_KEY");
  EXPECT_MESSAGE_HAS(c, "is not set");
}

TEST_F(GatewaySectionsTest, UpstreamKeyFromAFileIsTrimmed) {
  write("sk-from-file\n", "upstream.key");
  auto c = load("upstreams: [ { id: a, url: \"http://h\", api_key_file: upstream.key } ]\n");
  ASSERT_TRUE(c) << message(c);
  EXPECT_EQ(c->upstreams[0].api_key, "sk-from-file");
  auto missing = load("upstreams: [ { id: a, url: \"http://h\", api_key_file: nowhere.key } ]\n");
  EXPECT_MESSAGE_HAS(missing, "cannot read a key from `nowhere.key`");
  write("sk with spaces\n", "spaced.key");
  auto spaced = load("upstreams: [ { id: a, url: \"http://h\", api_key_file: spaced.key } ]\n");
  EXPECT_MESSAGE_HAS(spaced, "printable ASCII");
}

TEST_F(GatewaySectionsTest, UpstreamKeyFromBothSourcesIsRefused) {
  write("sk-from-file\n", "upstream.key");
  auto c = load(
      "upstreams: [ { id: a, url: \"http://h\", api_key_env: ZTGATE_TEST_UPSTREAM_KEY, api_key_file: upstream.key } ]\n");
  EXPECT_MESSAGE_HAS(c, "not both");
}

TEST_F(GatewaySectionsTest, DuplicateUpstreamIdIsRefused) {
  auto c = load(R"(upstreams:
  - { id: a, url: "http://h1" }
  - { id: a, url: "http://h2" }
)");
  EXPECT_MESSAGE_HAS(c, "upstream `a` is listed twice");
}

TEST_F(GatewaySectionsTest, ModelsMustNameAKnownUpstream) {
  auto ok = load(R"(upstreams: [ { id: vllm, url: "http://h" } ]
models:
  - { id: llama, upstream: vllm, upstream_model: meta/llama }
)");
  ASSERT_TRUE(ok) << message(ok);
  ASSERT_EQ(ok->identity.models.size(), 1u);
  EXPECT_EQ(ok->identity.models[0].upstream, "vllm");
  auto bad = load(R"(upstreams: [ { id: vllm, url: "http://h" } ]
models:
  - { id: llama, upstream: ollama }
)");
  EXPECT_MESSAGE_HAS(bad, "model `llama` names upstream `ollama`, which is not in upstreams");
}

TEST_F(GatewaySectionsTest, ModelIntegrityNeedsAllThreeFiles) {
  auto c = load(R"(models:
  - { id: llama, weights_dir: weights }
)");
  EXPECT_MESSAGE_HAS(c, "`models[0].manifest`: is required");
  EXPECT_MESSAGE_HAS(c, "`models[0].publisher_key`: is required");
}

TEST_F(GatewaySectionsTest, RoutesAndShadow) {
  auto c = load(R"(routes:
  - { path: /v1/chat/completions, shadow: true }
  - { path: /v1/embeddings }
)");
  ASSERT_TRUE(c) << message(c);
  ASSERT_EQ(c->routes.size(), 2u);
  EXPECT_TRUE(route_is_shadow(*c, "/v1/chat/completions"));
  EXPECT_FALSE(route_is_shadow(*c, "/v1/embeddings"));
  EXPECT_FALSE(route_is_shadow(*c, "/v1/models"));
  auto dup = load(R"(routes:
  - { path: /v1/embeddings }
  - { path: /v1/embeddings, shadow: true }
)");
  EXPECT_MESSAGE_HAS(dup, "route `/v1/embeddings` is listed twice");
  auto relative = load("routes: [ { path: v1/embeddings } ]\n");
  EXPECT_MESSAGE_HAS(relative, "must start with /");
}

TEST_F(GatewaySectionsTest, AuditSettingsAndPerRouteOverrides) {
  auto c = load(
      "audit:\n"
      "  store: logs/trail.db\n"
      "  durability: async\n"
      "  payload: hash\n"
      "  commit_interval: 5ms\n"
      "  sync_timeout: 2s\n"
      "  checkpoint: { every: 500, interval: 1s }\n"
      "  queue: { max_records: 1000 }\n"
      "  retention: { max_records: 1000000, max_age: 30d }\n"
      "routes:\n"
      "  - path: /v1/chat/completions\n"
      "    audit: { durability: sync, payload: redacted }\n"
      "  - path: /v1/embeddings\n");
  ASSERT_TRUE(c) << message(c);
  EXPECT_EQ(c->audit.store, (dir_ / "logs" / "trail.db").string());
  EXPECT_EQ(c->audit.commit_interval_ms, 5);
  EXPECT_EQ(c->audit.sync_timeout_ms, 2000);
  EXPECT_EQ(c->audit.checkpoint_every, 500);
  EXPECT_EQ(c->audit.checkpoint_interval_ms, 1000);
  EXPECT_EQ(c->audit.max_pending_records, 1000);
  EXPECT_EQ(c->audit.retention_max_age_s, 30 * 86400);
  EXPECT_TRUE(config::route_audit_sync(*c, "/v1/chat/completions"));
  EXPECT_EQ(config::route_audit_payload(*c, "/v1/chat/completions"), "redacted");
  EXPECT_FALSE(config::route_audit_sync(*c, "/v1/embeddings"));
  EXPECT_EQ(config::route_audit_payload(*c, "/v1/embeddings"), "hash");
  EXPECT_FALSE(config::route_audit_sync(*c, "/access/v1/evaluation"));
  auto bad = load("audit: { durability: sometimes, payload: all }\n");
  EXPECT_MESSAGE_HAS(bad, "must be async or sync");
  EXPECT_MESSAGE_HAS(bad, "must be none, hash, redacted or full");
  auto bad_interval = load("audit: { commit_interval: 10h }\n");
  EXPECT_MESSAGE_HAS(bad_interval, "must be a duration like 250ms");
  auto unknown = load("audit: { file: audit.jsonl }\n");
  EXPECT_MESSAGE_HAS(unknown, "file");
}

TEST_F(GatewaySectionsTest, ReloadSettings) {
  auto c = load("reload: { watch: false, interval: 30s }\n");
  ASSERT_TRUE(c) << message(c);
  EXPECT_FALSE(c->reload_watch);
  EXPECT_EQ(c->reload_interval_ms, 30000);
  auto zero = load("reload: { interval: 0 }\n");
  EXPECT_MESSAGE_HAS(zero, "reload.interval");
}

TEST_F(GatewaySectionsTest, ListenerTls) {
  auto c = load(R"(listeners:
  - address: 0.0.0.0
    port: 8443
    tls: { cert: tls/server.pem, key: tls/server.key, client_ca: tls/ca.pem, require_client_cert: true }
)");
  ASSERT_TRUE(c) << message(c);
  ASSERT_EQ(c->listeners.size(), 1u);
  EXPECT_EQ(c->listeners[0].address, "0.0.0.0");
  EXPECT_EQ(c->listeners[0].port, 8443);
  ASSERT_TRUE(c->listeners[0].tls);
  EXPECT_EQ(c->listeners[0].tls->cert_file, (dir_ / "tls" / "server.pem").string());
  EXPECT_EQ(c->listeners[0].tls->key_file, (dir_ / "tls" / "server.key").string());
  EXPECT_EQ(c->listeners[0].tls->client_ca_file, (dir_ / "tls" / "ca.pem").string());
  EXPECT_TRUE(c->listeners[0].tls->require_client_cert);

  auto no_key = load("listeners: [ { port: 8443, tls: { cert: s.pem } } ]\n");
  EXPECT_MESSAGE_HAS(no_key, "key`: is required");
  auto no_cert = load("listeners: [ { port: 8443, tls: { key: s.key } } ]\n");
  EXPECT_MESSAGE_HAS(no_cert, "cert`: is required");
  auto no_ca = load("listeners: [ { port: 8443, tls: { cert: s.pem, key: s.key, require_client_cert: true } } ]\n");
  EXPECT_MESSAGE_HAS(no_ca, "needs client_ca");
}

TEST_F(GatewaySectionsTest, UnknownKeysAnywhereAreErrorsWithTheirLine) {
  auto top = load("data_dir: data\naudti: { file: x }\n");
  EXPECT_MESSAGE_HAS(top, ":2:1: `audti`: unknown key");
  auto nested = load(R"(upstreams:
  - id: a
    url: "http://h"
    api_key_environment: X
routes:
  - { path: /v1/models, shadows: true }
reload: { watch: true, intervall: 2s }
)");
  EXPECT_MESSAGE_HAS(nested, ":4:5: `upstreams[0].api_key_environment`: unknown key");
  EXPECT_MESSAGE_HAS(nested, ":6:25: `routes[0].shadows`: unknown key");
  EXPECT_MESSAGE_HAS(nested, ":7:24: `reload.intervall`: unknown key");
  auto tls = load("listeners: [ { port: 1, tls: { cert: a, key: b, client_cert: c } } ]\n");
  EXPECT_MESSAGE_HAS(tls, ":1:49: `listeners[0].tls.client_cert`: unknown key");
}

TEST_F(GatewaySectionsTest, WatchedFilesAreTheConfigAndEveryPolicyFile) {
  auto c = load(R"(policies:
  schema: p/s.cedarschema
  files: [p/a.cedar, p/b.cedar]
  entities: [e.json]
)");
  ASSERT_TRUE(c) << message(c);
  EXPECT_EQ(watched_files(*c), (std::vector<std::string>{
                                   (dir_ / "ztgate.yaml").string(), (dir_ / "p" / "s.cedarschema").string(),
                                   (dir_ / "p" / "a.cedar").string(), (dir_ / "p" / "b.cedar").string(),
                                   (dir_ / "e.json").string()}));
  auto none = load("data_dir: d\n");
  ASSERT_TRUE(none) << message(none);
  EXPECT_EQ(watched_files(*none), std::vector<std::string>{(dir_ / "ztgate.yaml").string()});
}

}  // namespace
}  // namespace ztgate::config
