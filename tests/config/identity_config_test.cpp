#include "config/identity_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ztgate::config {
namespace {

class IdentityConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ztgate-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& text) {
    auto path = (dir_ / "ztgate.yaml").string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(IdentityConfigTest, ReadsEverySectionWithDefaultsAndRelativePaths) {
  auto c = load_identity_config(write(R"(
data_dir: data
gateway: { issuer: "urn:ztgate:test", audience: ztgate-test }
identity:
  issuers:
    - id: corp
      issuer: https://login.example.com
      audience: ztgate-api
      jwks_file: keys/corp.json
      clock_skew: 2m
      claims:
        groups: teams
        group_scopes: { engineering: [docs:read] }
  delegation: { max_ttl: 5m, max_chain_depth: 3 }
  agents:
    - id: build-bot
      max_scopes: [docs:read, tickets:write]
      delegate_to: [summarizer]
    - id: summarizer
      max_scopes: [docs:read]
      max_ttl: 2m
  jit: { approver_groups: [secops], max_duration: 30m }
)"));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->data_dir, (dir_ / "data").string());
  EXPECT_EQ(c->signing_key_path, (dir_ / "data" / "delegation-key.pem").string());
  EXPECT_EQ(c->delegation.issuer, "urn:ztgate:test");
  EXPECT_EQ(c->delegation.max_ttl_s, 300);
  EXPECT_EQ(c->delegation.max_chain_depth, 3);
  ASSERT_EQ(c->issuers.size(), 1u);
  EXPECT_EQ(c->issuers[0].jwks_file, (dir_ / "keys" / "corp.json").string());
  EXPECT_EQ(c->issuers[0].clock_skew_s, 120);
  EXPECT_EQ(c->issuers[0].claims.groups_claim, "teams");
  EXPECT_EQ(c->issuers[0].claims.group_scopes.at("engineering"), std::vector<std::string>{"docs:read"});
  ASSERT_EQ(c->agents.size(), 2u);
  EXPECT_EQ(c->agents[1].max_ttl_s, 120);
  EXPECT_EQ(c->jit.max_duration_s, 1800);
}

// The identity commands (`ztgate token ...`) read the one ztgate.yaml the
// gateway serves with: the sections other modules own are accepted in
// whatever shape they have (listeners and routes are lists).
TEST_F(IdentityConfigTest, AcceptsTheGatewaysOwnSectionsInTheirShapes) {
  auto c = load_identity_config(write(R"(
data_dir: data
listeners: [ { address: 127.0.0.1, port: 8080 } ]
limits: { max_body: 1MiB }
pdp: { enabled: true }
upstreams: [ { name: llm, url: "http://127.0.0.1:9" } ]
routes: [ { path: /v1/chat/completions, upstream: llm } ]
policies: { files: [p.cedar] }
inspection: {}
audit: { durability: async }
reload: { watch: true }
decision_cache: { max_entries: 10 }
mcp: { servers: [ { name: docs, url: "http://127.0.0.1:9/mcp" } ] }
egress: { listener: { address: 127.0.0.1, port: 0 } }
identity:
  agents: [ { id: bot, max_scopes: [docs:read] } ]
)"));
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->agents.size(), 1u);
  auto unknown = load_identity_config(write("data_dir: data\nlistener: []\n"));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("`listener`"), std::string::npos) << unknown.error().message;
}

TEST_F(IdentityConfigTest, ReportsEveryMistakeWithLineAndHint) {
  auto c = load_identity_config(write(R"(identity:
  agents:
    - id: bot
      max_scope: [docs:read]
  delegation:
    max_ttl: forever
  issuers:
    - id: corp
      issuer: https://x
)"));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, "config_invalid");
  const std::string& m = c.error().message;
  EXPECT_NE(m.find(":4:7: `identity.agents[0].max_scope`: unknown key; did you mean `max_scopes`?"), std::string::npos) << m;
  EXPECT_NE(m.find(":6:14: `identity.delegation.max_ttl`: must be a duration"), std::string::npos) << m;
  EXPECT_NE(m.find("needs exactly one key source"), std::string::npos) << m;
  EXPECT_NE(m.find("an agent needs at least one scope"), std::string::npos) << m;
}

TEST_F(IdentityConfigTest, RefusesUnknownAgentsInDelegateToAndHostileNesting) {
  auto c = load_identity_config(write(R"(identity:
  agents:
    - { id: a, max_scopes: [x], delegate_to: [ghost] }
)"));
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("`ghost`, which is not registered"), std::string::npos) << c.error().message;
  auto deep = load_identity_config(write("identity: " + std::string(100000, '[')));
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().code, "config_invalid");
}

TEST_F(IdentityConfigTest, ReadsPostureAndModelsAndChecksTheirReferences) {
  auto c = load_identity_config(write(R"(identity:
  issuers:
    - { id: mdm, issuer: "https://mdm.example", jwks_file: mdm.json }
  posture: { issuer: mdm, audience: ztgate, max_age: 30m }
models:
  - id: llama
    weights_dir: models/llama
    manifest: models/llama.manifest.jws
    publisher_key: keys/pub.jwk
    reverify_interval: 12h
)"));
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(c->posture.has_value());
  EXPECT_EQ(c->posture->policy.issuer, "https://mdm.example");
  EXPECT_EQ(c->posture->policy.max_age_s, 1800);
  ASSERT_EQ(c->models.size(), 1u);
  EXPECT_EQ(c->models[0].weights_dir, (dir_ / "models" / "llama").string());
  EXPECT_EQ(c->models[0].reverify_interval_s, 43200);

  auto bad = load_identity_config(write(R"(identity:
  posture: { issuer: nobody }
models:
  - { id: m, weights_dir: w, manifest: m.jws }
)"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("`identity.posture.issuer`: names no entry"), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("`models[0].publisher_key`: is required"), std::string::npos)
      << bad.error().message;
}

}  // namespace
}  // namespace ztgate::config
