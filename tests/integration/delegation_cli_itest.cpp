// The delegation flow end to end with real parts: npm jose plays the user
// IdP and the agents' IdP; the real `ztgate` binary exchanges, verifies,
// grants and revokes; npm jose verifies the tokens ztgate mints with the
// JWKS ztgate publishes.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "delegation_peer_issuers.h"
#include "itest_support.h"

namespace ztgate {
namespace {

namespace json = boost::json;
using itest::run_process;

const std::string kConfig = std::string(R"(data_dir: data
gateway: { issuer: "urn:ztgate:itest", audience: ztgate }
identity:
  issuers:
)") + itest::kPeerIssuers + R"(    - id: mdm
      issuer: https://mdm.test
      audience: ztgate
      jwks_file: mdm.jwks.json
  posture: { issuer: mdm, audience: ztgate, max_age: 1h }
  delegation: { max_ttl: 10m, max_chain_depth: 3 }
  agents:
    - id: build-bot
      max_scopes: [docs:read, tickets:write]
      groups: [agents]
      delegate_to: [summarizer]
    - id: summarizer
      max_scopes: [docs:read]
  jit: { approver_groups: [secops], max_duration: 1h }
)";

class DelegationCliTest : public ::testing::Test {
 protected:
  // A failure in SetUpTestSuite would only mark the tests skipped (and ctest
  // counts skips as passes), so the outcome is kept and checked in SetUp.
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(itest::fresh_work_dir("delegation"));
    auto setup = run_process({itest::node_executable(), std::string(ZTGATE_ITEST_NODE_DIR) + "/delegation_peer.mjs",
                              "setup", dir_->string()});
    setup_output_ = new std::string(setup.output);
    setup_ok_ = setup.exit_code == 0;
    itest::write_file(*dir_ / "ztgate.yaml", kConfig);
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete setup_output_;
  }
  void SetUp() override { ASSERT_TRUE(setup_ok_) << "the npm jose peer failed:\n" << *setup_output_; }

  static std::string file(const std::string& name) { return "@" + (*dir_ / name).string(); }

  static itest::ProcessResult ztgate(std::vector<std::string> args) {
    std::vector<std::string> argv{ZTGATE_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--config");
    argv.push_back((*dir_ / "ztgate.yaml").string());
    return run_process(argv);
  }

  static json::object exchange(const std::string& subject, const std::string& actor, std::vector<std::string> scopes,
                               const std::string& task, int expect_exit = 0) {
    std::vector<std::string> args{"token", "exchange", "--subject-token", subject, "--actor-token", actor, "--json"};
    for (const auto& s : scopes) args.insert(args.end(), {"--scope", s});
    if (!task.empty()) args.insert(args.end(), {"--task", task});
    auto r = ztgate(args);
    EXPECT_EQ(r.exit_code, expect_exit) << r.output;
    boost::system::error_code ec;
    auto v = json::parse(r.output, ec);
    EXPECT_FALSE(ec) << r.output;
    return ec ? json::object{} : v.as_object();
  }

  // jose's view of a token ztgate minted.
  static json::object jose_verify(const std::string& token) {
    auto jwks = ztgate({"token", "jwks"});
    EXPECT_EQ(jwks.exit_code, 0) << jwks.output;
    itest::write_file(*dir_ / "ztgate.jwks.json", jwks.output);
    auto r = run_process({itest::node_executable(), std::string(ZTGATE_ITEST_NODE_DIR) + "/delegation_peer.mjs",
                          "verify", (*dir_ / "ztgate.jwks.json").string(), token, "urn:ztgate:itest", "ztgate"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return json::parse(r.output).as_object();
  }

  static std::filesystem::path* dir_;
  static std::string* setup_output_;
  static bool setup_ok_;
};

std::filesystem::path* DelegationCliTest::dir_ = nullptr;
std::string* DelegationCliTest::setup_output_ = nullptr;
bool DelegationCliTest::setup_ok_ = false;

TEST_F(DelegationCliTest, JoseVerifiesTheTokenZtgateMints) {
  auto out = exchange(file("alice.jwt"), file("build-bot.jwt"), {"docs:read"}, "task-jose");
  ASSERT_TRUE(out.contains("token"));
  auto v = jose_verify(std::string(out.at("token").as_string()));
  ASSERT_TRUE(v.at("ok").as_bool()) << json::serialize(v);
  const auto& p = v.at("payload").as_object();
  EXPECT_EQ(p.at("sub").as_string(), "alice");
  EXPECT_EQ(p.at("act").as_object().at("sub").as_string(), "build-bot");
  EXPECT_EQ(p.at("scope").as_string(), "docs:read");
  EXPECT_EQ(p.at("task").as_string(), "task-jose");
  EXPECT_LE(p.at("exp").as_int64() - p.at("iat").as_int64(), 600);
  EXPECT_EQ(v.at("header").as_object().at("alg").as_string(), "EdDSA");
}

TEST_F(DelegationCliTest, JoseRejectsATamperedToken) {
  auto out = exchange(file("alice.jwt"), file("build-bot.jwt"), {"docs:read"}, "");
  std::string token(out.at("token").as_string());
  size_t dot = token.find('.');
  // Re-encode a payload claiming more scope, keeping the signature.
  std::string forged = token.substr(0, dot) + "." +
                       "eyJzdWIiOiJhbGljZSIsInNjb3BlIjoiZG9jczpyZWFkIG1haWw6c2VuZCJ9" +
                       token.substr(token.rfind('.'));
  auto v = jose_verify(forged);
  EXPECT_FALSE(v.at("ok").as_bool());
  auto r = ztgate({"token", "verify", forged});
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

TEST_F(DelegationCliTest, OverScopeIsRefusedWithAClearErrorUnlessNarrowingIsAsked) {
  auto refused = exchange(file("alice.jwt"), file("build-bot.jwt"), {"docs:read", "mail:send"}, "", 2);
  EXPECT_EQ(refused.at("error").as_object().at("code").as_string(), "delegation_scope_exceeded");
  EXPECT_NE(std::string(refused.at("error").as_object().at("message").as_string()).find("mail:send"),
            std::string::npos);
  auto r = ztgate({"token", "exchange", "--subject-token", file("alice.jwt"), "--actor-token", file("build-bot.jwt"),
                   "--scope", "docs:read mail:send", "--narrow", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto narrowed = json::parse(r.output).as_object();
  EXPECT_EQ(json::serialize(narrowed.at("scopes")), R"(["docs:read"])");
  EXPECT_EQ(json::serialize(narrowed.at("narrowed_away")), R"(["mail:send"])");
}

TEST_F(DelegationCliTest, UnregisteredAgentsAndAgentTokensAsSubjectsAreRefused) {
  auto stranger = exchange(file("alice.jwt"), file("stranger.jwt"), {"docs:read"}, "", 2);
  EXPECT_EQ(stranger.at("error").as_object().at("code").as_string(), "delegation_agent_unknown");
  auto swapped = exchange(file("build-bot.jwt"), file("build-bot.jwt"), {"docs:read"}, "", 2);
  EXPECT_EQ(swapped.at("error").as_object().at("code").as_string(), "authn_not_a_user");
  auto user_as_agent = exchange(file("alice.jwt"), file("alice.jwt"), {"docs:read"}, "", 2);
  EXPECT_EQ(user_as_agent.at("error").as_object().at("code").as_string(), "authn_not_an_agent");
}

TEST_F(DelegationCliTest, AgentToAgentChainNestsActAndJoseSeesIt) {
  auto first = exchange(file("alice.jwt"), file("build-bot.jwt"), {"docs:read", "tickets:write"}, "task-chain");
  std::string parent(first.at("token").as_string());
  auto second = exchange(parent, file("summarizer.jwt"), {"docs:read"}, "");
  ASSERT_TRUE(second.contains("token"));
  auto v = jose_verify(std::string(second.at("token").as_string()));
  ASSERT_TRUE(v.at("ok").as_bool()) << json::serialize(v);
  const auto& act = v.at("payload").as_object().at("act").as_object();
  EXPECT_EQ(act.at("sub").as_string(), "summarizer");
  EXPECT_EQ(act.at("act").as_object().at("sub").as_string(), "build-bot");
  EXPECT_EQ(v.at("payload").as_object().at("task").as_string(), "task-chain");
  // The summarizer cannot pick up tickets:write from its parent.
  auto wider = exchange(parent, file("summarizer.jwt"), {"tickets:write"}, "", 2);
  EXPECT_EQ(wider.at("error").as_object().at("code").as_string(), "delegation_scope_exceeded");
}

TEST_F(DelegationCliTest, RevocationByTaskTakesEffectOnTheNextVerification) {
  auto out = exchange(file("alice.jwt"), file("build-bot.jwt"), {"docs:read"}, "task-to-revoke");
  std::string token(out.at("token").as_string());
  auto ok = ztgate({"token", "verify", token, "--json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  auto verified = json::parse(ok.output).as_object();
  EXPECT_EQ(verified.at("principal").as_string(), "Agent::\"build-bot\"");
  EXPECT_EQ(verified.at("on_behalf_of").as_string(), "User::\"alice\"");
  auto revoke = ztgate({"revoke", "--task", "task-to-revoke", "--reason", "test"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.output;
  auto refused = ztgate({"token", "verify", token, "--json"});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("delegation_revoked"), std::string::npos);
  auto restart = exchange(file("alice.jwt"), file("build-bot.jwt"), {"docs:read"}, "task-to-revoke", 2);
  EXPECT_EQ(restart.at("error").as_object().at("code").as_string(), "delegation_revoked");
  auto listed = ztgate({"revoke", "--list", "--json"});
  EXPECT_NE(listed.output.find("task-to-revoke"), std::string::npos);
}

TEST_F(DelegationCliTest, JustInTimeGrantLetsTheAgentHoldAnExtraScope) {
  auto before = exchange(file("alice.jwt"), file("build-bot.jwt"), {"mail:send"}, "", 2);
  EXPECT_EQ(before.at("error").as_object().at("code").as_string(), "delegation_scope_exceeded");
  // alice is no approver; sam (secops) is.
  auto self = ztgate({"grants", "create", "--approver-token", file("alice.jwt"), "--principal",
                      "Agent::\"build-bot\"", "--scope", "mail:send", "--minutes", "15", "--reason", "x"});
  EXPECT_EQ(self.exit_code, 2) << self.output;
  EXPECT_NE(self.output.find("grant_forbidden"), std::string::npos);
  auto grant = ztgate({"grants", "create", "--approver-token", file("sam.jwt"), "--principal", "Agent::\"build-bot\"",
                       "--scope", "mail:send", "--minutes", "15", "--reason", "incident 7", "--json"});
  ASSERT_EQ(grant.exit_code, 0) << grant.output;
  auto after = exchange(file("alice.jwt"), file("build-bot.jwt"), {"mail:send"}, "");
  ASSERT_TRUE(after.contains("token")) << json::serialize(after);
  auto listed = ztgate({"grants", "list", "--json"});
  EXPECT_NE(listed.output.find("incident 7"), std::string::npos);
  auto id = std::to_string(json::parse(grant.output).as_object().at("id").as_int64());
  ASSERT_EQ(ztgate({"grants", "revoke", id}).exit_code, 0);
  // The live token loses the granted scope at once: the agent's ceiling is back.
  auto verify = ztgate({"token", "verify", std::string(after.at("token").as_string()), "--json"});
  ASSERT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_EQ(json::serialize(json::parse(verify.output).as_object().at("scopes")), "[]");
}

TEST_F(DelegationCliTest, VerifyShowsTheCedarViewOfAUserToken) {
  auto r = ztgate({"token", "verify", file("alice.jwt"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto v = json::parse(r.output).as_object();
  EXPECT_EQ(v.at("principal").as_string(), "User::\"alice\"");
  const auto& authn = v.at("cedar").as_object().at("context").as_object().at("authn").as_object();
  EXPECT_TRUE(authn.at("mfa").as_bool());
  EXPECT_GE(authn.at("age_s").as_int64(), 120);
  EXPECT_LT(authn.at("age_s").as_int64(), 600);
  auto inspect = run_process({ZTGATE_BINARY, "token", "inspect", file("alice.jwt")});
  EXPECT_EQ(inspect.exit_code, 0);
  EXPECT_NE(inspect.output.find("\"verified\":false"), std::string::npos);
}

TEST_F(DelegationCliTest, DevicePostureBecomesContextDeviceAndMissingPostureIsAFact) {
  auto context = [](const itest::ProcessResult& r) {
    return json::parse(r.output).as_object().at("cedar").as_object().at("context").as_object();
  };
  auto none = ztgate({"token", "verify", file("alice.jwt"), "--json"});
  ASSERT_EQ(none.exit_code, 0) << none.output;
  EXPECT_EQ(json::serialize(context(none).at("device")), R"({"present":false})");

  auto healthy = ztgate({"token", "verify", file("alice.jwt"), "--device-token", file("device-alice.jwt"), "--json"});
  ASSERT_EQ(healthy.exit_code, 0) << healthy.output;
  auto healthy_context = context(healthy);
  const auto& device = healthy_context.at("device").as_object();
  EXPECT_TRUE(device.at("present").as_bool());
  EXPECT_EQ(device.at("device_id").as_string(), "laptop-42");
  EXPECT_TRUE(device.at("managed").as_bool());
  EXPECT_EQ(device.at("os_patch_age_days").as_int64(), 3);

  auto unmanaged = ztgate({"token", "verify", file("alice.jwt"), "--device-token", file("device-unmanaged.jwt"), "--json"});
  ASSERT_EQ(unmanaged.exit_code, 0) << unmanaged.output;
  EXPECT_FALSE(context(unmanaged).at("device").as_object().at("managed").as_bool());

  // Bound to the user: bob's laptop assertion does not vouch for alice.
  auto other_user = ztgate({"token", "verify", file("alice.jwt"), "--device-token", file("device-bob.jwt")});
  EXPECT_EQ(other_user.exit_code, 2) << other_user.output;
  EXPECT_NE(other_user.output.find("posture_user_mismatch"), std::string::npos);
  auto stale = ztgate({"token", "verify", file("alice.jwt"), "--device-token", file("device-stale.jwt")});
  EXPECT_EQ(stale.exit_code, 2) << stale.output;
  EXPECT_NE(stale.output.find("posture_stale"), std::string::npos);
  // A user token is not a posture assertion.
  auto forged = ztgate({"token", "verify", file("alice.jwt"), "--device-token", file("sam.jwt")});
  EXPECT_EQ(forged.exit_code, 2) << forged.output;
  EXPECT_NE(forged.output.find("posture_invalid"), std::string::npos);

  // For an agent request the assertion is bound to the delegating user.
  auto out = exchange(file("alice.jwt"), file("build-bot.jwt"), {"docs:read"}, "");
  auto agent = ztgate({"token", "verify", std::string(out.at("token").as_string()), "--device-token",
                       file("device-alice.jwt"), "--json"});
  ASSERT_EQ(agent.exit_code, 0) << agent.output;
  EXPECT_TRUE(context(agent).at("device").as_object().at("present").as_bool());
}

}  // namespace
}  // namespace ztgate
