// Service and agent credentials through the real `ztgate` binary: a client
// certificate chain (SPIFFE X.509-SVID) checked against identity.mtls, and
// an agent's API key (`ztgate keys create`) used as the actor of a token
// exchange for a user whose token npm jose minted.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <ctime>

#include "../authn/test_certs.h"
#include "itest_support.h"

namespace ztgate {
namespace {

namespace json = boost::json;
using authn::testing::CertSpec;
using authn::testing::mint_cert;
using itest::run_process;

constexpr const char* kConfig = R"(data_dir: data
identity:
  issuers:
    - { id: corp, issuer: "https://idp.test", audience: ztgate-api, jwks_file: users.jwks.json }
  mtls:
    ca_files: [ca.pem]
    rules:
      - { trust_domain: example.org, path_prefix: /ns/prod/sa, type: Service }
      - { trust_domain: example.org, path_prefix: /agents, type: Agent }
  agents:
    - { id: build-bot, max_scopes: [docs:read] }
)";

class ServiceIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = itest::fresh_work_dir("service");
    auto setup = run_process({itest::node_executable(), std::string(ZTGATE_ITEST_NODE_DIR) + "/delegation_peer.mjs",
                              "setup", dir_.string()});
    ASSERT_EQ(setup.exit_code, 0) << setup.output;
    itest::write_file(dir_ / "ztgate.yaml", kConfig);
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    CertSpec ca;
    ca.common_name = "root";
    ca.is_ca = true;
    ca.not_before = now - 86400;
    ca.not_after = now + 86400;
    root_ = std::make_unique<authn::testing::MintedCert>(mint_cert(ca, nullptr));
    itest::write_file(dir_ / "ca.pem", root_->pem());
  }

  std::string leaf_file(const std::string& name, const std::string& spiffe_id) {
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    CertSpec spec;
    spec.common_name = name;
    spec.not_before = now - 3600;
    spec.not_after = now + 3600;
    spec.uri_sans = {spiffe_id};
    auto leaf = mint_cert(spec, root_.get());
    auto path = dir_ / (name + ".pem");
    itest::write_file(path, leaf.pem());
    return path.string();
  }

  itest::ProcessResult ztgate(std::vector<std::string> args) {
    std::vector<std::string> argv{ZTGATE_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv);
  }
  std::string config() const { return (dir_ / "ztgate.yaml").string(); }

  std::filesystem::path dir_;
  std::unique_ptr<authn::testing::MintedCert> root_;
};

TEST_F(ServiceIdentityTest, SpiffeCertificatesMapToServiceAndAgentPrincipals) {
  auto service = ztgate({"token", "verify-cert", "--config", config(), "--json",
                         leaf_file("billing", "spiffe://example.org/ns/prod/sa/billing")});
  ASSERT_EQ(service.exit_code, 0) << service.output;
  auto v = json::parse(service.output).as_object();
  EXPECT_EQ(v.at("principal").as_string(), "Service::\"billing\"");
  EXPECT_EQ(v.at("cedar").as_object().at("context").as_object().at("authn").as_object().at("method").as_string(),
            "mtls");
  auto agent = ztgate({"token", "verify-cert", "--config", config(),
                       leaf_file("bot", "spiffe://example.org/agents/build-bot")});
  ASSERT_EQ(agent.exit_code, 0) << agent.output;
  EXPECT_NE(agent.output.find("Agent::\"build-bot\""), std::string::npos);
  auto unmapped = ztgate({"token", "verify-cert", "--config", config(),
                          leaf_file("other", "spiffe://other.org/ns/prod/sa/billing")});
  EXPECT_EQ(unmapped.exit_code, 2) << unmapped.output;
  EXPECT_NE(unmapped.output.find("x509_unmapped"), std::string::npos);
  // A self-signed client certificate does not chain to the configured CA.
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  CertSpec rogue;
  rogue.not_before = now - 60;
  rogue.not_after = now + 3600;
  rogue.uri_sans = {"spiffe://example.org/ns/prod/sa/billing"};
  itest::write_file(dir_ / "rogue.pem", mint_cert(rogue, nullptr).pem());
  auto refused = ztgate({"token", "verify-cert", "--config", config(), (dir_ / "rogue.pem").string()});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("x509_chain_invalid"), std::string::npos);
}

TEST_F(ServiceIdentityTest, AnAgentsApiKeyAuthenticatesItForTokenExchange) {
  auto created = ztgate({"keys", "create", "--data-dir", (dir_ / "data").string(), "--name", "build-bot key",
                         "--principal", "Agent::\"build-bot\"", "--ttl", "1h"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  // stdout (the key alone) and stderr (the note) arrive interleaved.
  std::string out = "\n" + created.output;
  size_t at = out.find("\nztg_");
  ASSERT_NE(at, std::string::npos) << created.output;
  std::string key = out.substr(at + 1, out.find('\n', at + 1) - at - 1);
  itest::write_file(dir_ / "bot.key", key);
  auto minted = ztgate({"token", "exchange", "--config", config(), "--subject-token", "@" + (dir_ / "alice.jwt").string(),
                        "--actor-key", "@" + (dir_ / "bot.key").string(), "--scope", "docs:read", "--json"});
  ASSERT_EQ(minted.exit_code, 0) << minted.output;
  EXPECT_NE(minted.output.find("\"principal\":\"Agent::\\\"build-bot\\\"\""), std::string::npos) << minted.output;
  // A wrong key is refused; so is a revoked one.
  // Flip a character inside the secret, not the last one: the last base64url
  // character carries padding bits, and changing only those makes a
  // non-canonical encoding (another error) instead of a wrong secret.
  std::string wrong = key;
  char& c = wrong[wrong.size() - 5];
  c = c == 'A' ? 'B' : 'A';
  itest::write_file(dir_ / "wrong.key", wrong);
  auto bad = ztgate({"token", "exchange", "--config", config(), "--subject-token", "@" + (dir_ / "alice.jwt").string(),
                     "--actor-key", "@" + (dir_ / "wrong.key").string(), "--scope", "docs:read"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("api_key_invalid"), std::string::npos);
  std::string id = key.substr(4, key.find('_', 4) - 4);
  ASSERT_EQ(ztgate({"keys", "revoke", "--data-dir", (dir_ / "data").string(), id}).exit_code, 0);
  auto revoked = ztgate({"token", "exchange", "--config", config(), "--subject-token",
                         "@" + (dir_ / "alice.jwt").string(), "--actor-key", "@" + (dir_ / "bot.key").string(),
                         "--scope", "docs:read"});
  EXPECT_EQ(revoked.exit_code, 2) << revoked.output;
  EXPECT_NE(revoked.output.find("api_key_revoked"), std::string::npos);
}

}  // namespace
}  // namespace ztgate
