// mTLS client identity: chains minted at run time, verified with OpenSSL,
// SPIFFE IDs mapped to principals; and the same check on the chain a real TLS
// handshake produced.
#include "authn/x509_identity.h"

#include <openssl/ssl.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "test_certs.h"

namespace ztgate::authn {
namespace {

using testing::CertSpec;
using testing::MintedCert;
using testing::mint_cert;

constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kDay = 86'400;

CertSpec ca_spec(std::string cn) {
  CertSpec s;
  s.common_name = std::move(cn);
  s.is_ca = true;
  s.not_before = kNow - 30 * kDay;
  s.not_after = kNow + 365 * kDay;
  return s;
}

CertSpec leaf_spec(std::vector<std::string> uris) {
  CertSpec s;
  s.common_name = "workload";
  s.not_before = kNow - 3600;
  s.not_after = kNow + kDay;
  s.uri_sans = std::move(uris);
  return s;
}

X509IdentityPolicy default_policy() {
  return {{{"example.org", "/ns/prod/sa", "Service"}, {"example.org", "/agents", "Agent"}}, 4};
}

class X509IdentityTest : public ::testing::Test {
 protected:
  X509IdentityTest()
      : root_(mint_cert(ca_spec("root"), nullptr)), intermediate_(mint_cert(ca_spec("intermediate"), &root_)) {}

  X509Verifier verifier(X509IdentityPolicy policy = default_policy()) const {
    auto v = X509Verifier::create({root_.pem()}, std::move(policy));
    EXPECT_TRUE(v) << v.error().message;
    return std::move(*v);
  }
  MintedCert leaf(const CertSpec& spec) const { return mint_cert(spec, &intermediate_); }
  std::string chain(const MintedCert& leaf) const { return leaf.pem() + intermediate_.pem(); }

  MintedCert root_, intermediate_;
};

TEST_F(X509IdentityTest, ValidChainMapsSpiffeIdToServicePrincipal) {
  auto cert = leaf(leaf_spec({"spiffe://example.org/ns/prod/sa/billing"}));
  auto id = verifier().verify_pem(chain(cert), kNow);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->principal, (EntityRef{"Service", "billing"}));
  EXPECT_EQ(id->spiffe_id.to_string(), "spiffe://example.org/ns/prod/sa/billing");
  EXPECT_EQ(id->not_after, kNow + kDay);
}

TEST_F(X509IdentityTest, ChainFromAnotherCaIsRefused) {
  MintedCert other_root = mint_cert(ca_spec("root"), nullptr);  // same name, other key
  auto v = X509Verifier::create({other_root.pem()}, default_policy());
  ASSERT_TRUE(v);
  auto id = v->verify_pem(chain(leaf(leaf_spec({"spiffe://example.org/ns/prod/sa/billing"}))), kNow);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, "x509_chain_invalid");
  EXPECT_NE(id.error().message.find("local issuer"), std::string::npos) << id.error().message;
}

TEST_F(X509IdentityTest, ExpiredAndNotYetValidLeavesAreRefused) {
  auto text = chain(leaf(leaf_spec({"spiffe://example.org/ns/prod/sa/billing"})));
  auto later = verifier().verify_pem(text, kNow + 2 * kDay);
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code, "x509_chain_invalid");
  EXPECT_NE(later.error().message.find("expired"), std::string::npos) << later.error().message;
  auto earlier = verifier().verify_pem(text, kNow - 2 * 3600);
  ASSERT_FALSE(earlier);
  EXPECT_NE(earlier.error().message.find("not yet valid"), std::string::npos) << earlier.error().message;
}

TEST_F(X509IdentityTest, ServerAuthOnlyCertificateIsNotAClientCertificate) {
  CertSpec spec = leaf_spec({"spiffe://example.org/ns/prod/sa/billing"});
  spec.eku = "serverAuth";
  auto id = verifier().verify_pem(chain(leaf(spec)), kNow);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, "x509_chain_invalid");
  EXPECT_NE(id.error().message.find("purpose"), std::string::npos) << id.error().message;
}

TEST_F(X509IdentityTest, MissingIntermediateIsRefused) {
  auto cert = leaf(leaf_spec({"spiffe://example.org/ns/prod/sa/billing"}));
  auto id = verifier().verify_pem(cert.pem(), kNow);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, "x509_chain_invalid");
  EXPECT_NE(id.error().message.find("local issuer"), std::string::npos) << id.error().message;
}

TEST_F(X509IdentityTest, ChainDeeperThanTheBoundIsRefused) {
  MintedCert second = mint_cert(ca_spec("second"), &intermediate_);
  auto cert = mint_cert(leaf_spec({"spiffe://example.org/ns/prod/sa/billing"}), &second);
  std::string text = cert.pem() + second.pem() + intermediate_.pem();
  EXPECT_TRUE(verifier().verify_pem(text, kNow));
  auto policy = default_policy();
  policy.max_depth = 1;
  auto id = verifier(policy).verify_pem(text, kNow);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, "x509_chain_invalid");
}

TEST_F(X509IdentityTest, CaCertificateCannotBeAClientIdentity) {
  CertSpec spec = ca_spec("sneaky");
  spec.uri_sans = {"spiffe://example.org/ns/prod/sa/billing"};
  spec.key_usage = "critical,keyCertSign,digitalSignature";  // passes the TLS-client purpose check
  auto id = verifier().verify_pem(chain(leaf(spec)), kNow);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, "x509_chain_invalid");
  EXPECT_NE(id.error().message.find("is a CA certificate"), std::string::npos) << id.error().message;
}

TEST_F(X509IdentityTest, SvidNeedsExactlyOneUriSan) {
  auto two = leaf(leaf_spec({"spiffe://example.org/ns/prod/sa/billing", "spiffe://example.org/ns/prod/sa/admin"}));
  EXPECT_EQ(verifier().verify_pem(chain(two), kNow).error().code, "x509_multiple_uri_sans");
  CertSpec dns_only = leaf_spec({});
  dns_only.dns_sans = {"billing.example.org"};
  EXPECT_EQ(verifier().verify_pem(chain(leaf(dns_only)), kNow).error().code, "x509_no_spiffe_id");
  EXPECT_EQ(verifier().verify_pem(chain(leaf(leaf_spec({}))), kNow).error().code, "x509_no_spiffe_id");
  auto https = leaf(leaf_spec({"https://example.org/ns/prod/sa/billing"}));
  EXPECT_EQ(verifier().verify_pem(chain(https), kNow).error().code, "spiffe_invalid");
}

TEST_F(X509IdentityTest, HostileSpiffeIdsInTheSanAreRefused) {
  for (const std::string& uri : std::vector<std::string>{"spiffe://example.org/ns/prod/sa/../admin", "spiffe://example.org/ns/prod/sa/billing/",
                          std::string("spiffe://example.org/ns/prod/sa/billing\0x", 41),
                          std::string("spiffe://example.org/ns/prod/sa/%62illing"),
                          std::string("spiffe://EXAMPLE.org/ns/prod/sa/billing")}) {
    auto id = verifier().verify_pem(chain(leaf(leaf_spec({uri}))), kNow);
    ASSERT_FALSE(id) << uri;
    EXPECT_EQ(id.error().code, "spiffe_invalid") << uri;
  }
}

TEST_F(X509IdentityTest, MappingRulesMatchWholeSegmentsInOrder) {
  auto v = verifier();
  auto map = [&](const std::string& uri) { return v.verify_pem(chain(leaf(leaf_spec({uri}))), kNow); };
  auto agent = map("spiffe://example.org/agents/build-bot");
  ASSERT_TRUE(agent) << agent.error().message;
  EXPECT_EQ(agent->principal, (EntityRef{"Agent", "build-bot"}));
  auto nested = map("spiffe://example.org/ns/prod/sa/team/billing");
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->principal.id, "team/billing");
  EXPECT_EQ(map("spiffe://example.org/ns/prod/sax/billing").error().code, "x509_unmapped");
  EXPECT_EQ(map("spiffe://example.org/ns/prod/sa").error().code, "x509_unmapped");
  EXPECT_EQ(map("spiffe://other.org/ns/prod/sa/billing").error().code, "x509_unmapped");
  EXPECT_EQ(map("spiffe://example.org").error().code, "x509_unmapped");
}

TEST(SpiffeMapping, FirstMatchingRuleWins) {
  std::vector<SpiffeMappingRule> rules = {{"td", "/a/b", "Agent"}, {"td", "/a", "Service"}, {"td", "", "Service"}};
  EXPECT_EQ(*map_spiffe_id({"td", "/a/b/c"}, rules), (EntityRef{"Agent", "c"}));
  EXPECT_EQ(*map_spiffe_id({"td", "/a/x"}, rules), (EntityRef{"Service", "x"}));
  EXPECT_EQ(*map_spiffe_id({"td", "/z"}, rules), (EntityRef{"Service", "z"}));
}

TEST_F(X509IdentityTest, BadConfigurationIsRejectedUpFront) {
  auto code = [&](std::vector<std::string> bundles, X509IdentityPolicy policy) {
    auto v = X509Verifier::create(bundles, std::move(policy));
    return v ? std::string("ok") : v.error().code;
  };
  EXPECT_EQ(code({root_.pem()}, {{{"example.org", "/sa", "User"}}, 4}), "x509_config_invalid");
  EXPECT_EQ(code({root_.pem()}, {{{"Example.org", "/sa", "Service"}}, 4}), "x509_config_invalid");
  EXPECT_EQ(code({root_.pem()}, {{{"example.org", "/sa/", "Service"}}, 4}), "x509_config_invalid");
  EXPECT_EQ(code({root_.pem()}, {{}, 4}), "x509_config_invalid");
  EXPECT_EQ(code({root_.pem()}, {default_policy().rules, kMaxChainDepth + 1}), "x509_config_invalid");
  EXPECT_EQ(code({"not pem"}, default_policy()), "x509_config_invalid");
  auto not_ca = leaf(leaf_spec({"spiffe://example.org/x"}));
  EXPECT_EQ(code({not_ca.pem()}, default_policy()), "x509_config_invalid");
  EXPECT_EQ(code({root_.pem()}, default_policy()), "ok");
}

TEST_F(X509IdentityTest, GarbagePemIsAChainError) {
  auto v = verifier();
  EXPECT_EQ(v.verify_pem("", kNow).error().code, "x509_chain_invalid");
  EXPECT_EQ(v.verify_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", kNow).error().code,
            "x509_chain_invalid");
  std::string many;
  for (size_t i = 0; i <= kMaxPemCertificates; ++i) many += intermediate_.pem();
  EXPECT_EQ(v.verify_pem(many, kNow).error().code, "x509_chain_invalid");
  EXPECT_EQ(v.verify(nullptr, nullptr, kNow).error().code, "x509_chain_invalid");
}

// Handshakes a client presenting `client` (+ `client_chain`) with a server
// that requests a client certificate, over an in-memory BIO pair, then runs
// the verifier on the peer chain the server's TLS stack holds.
Result<X509Identity> handshake_and_verify(const X509Verifier& verifier, const MintedCert& server_cert,
                                          const MintedCert& client, const MintedCert* client_chain) {
  SSL_CTX* server_ctx = SSL_CTX_new(TLS_method());
  SSL_CTX* client_ctx = SSL_CTX_new(TLS_method());
  SSL_CTX_use_certificate(server_ctx, server_cert.cert.get());
  SSL_CTX_use_PrivateKey(server_ctx, server_cert.key.get());
  // The TLS stack only requests the certificate; the verifier decides.
  SSL_CTX_set_verify(server_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         [](int, X509_STORE_CTX*) { return 1; });
  SSL_CTX_use_certificate(client_ctx, client.cert.get());
  SSL_CTX_use_PrivateKey(client_ctx, client.key.get());
  if (client_chain != nullptr) SSL_CTX_ctrl(client_ctx, SSL_CTRL_CHAIN_CERT, 1, client_chain->cert.get());
  SSL* server = SSL_new(server_ctx);
  SSL* client_ssl = SSL_new(client_ctx);
  BIO *server_bio = nullptr, *client_bio = nullptr;
  BIO_new_bio_pair(&server_bio, 0, &client_bio, 0);
  SSL_set_bio(server, server_bio, server_bio);
  SSL_set_bio(client_ssl, client_bio, client_bio);
  SSL_set_accept_state(server);
  SSL_set_connect_state(client_ssl);
  bool server_done = false, client_done = false;
  for (int round = 0; round < 50 && !(server_done && client_done); ++round) {
    if (!client_done) client_done = SSL_do_handshake(client_ssl) == 1;
    if (!server_done) server_done = SSL_do_handshake(server) == 1;
  }
  Result<X509Identity> result = make_error("handshake_failed", "the TLS handshake did not complete");
  if (server_done) {
    X509* peer = SSL_get1_peer_certificate(server);
    result = verifier.verify(peer, SSL_get_peer_cert_chain(server), kNow);
    X509_free(peer);
  }
  SSL_free(client_ssl);
  SSL_free(server);
  SSL_CTX_free(client_ctx);
  SSL_CTX_free(server_ctx);
  return result;
}

TEST_F(X509IdentityTest, RealTlsHandshakePeerChainVerifies) {
  // The handshake runs at the real clock; the certificates are valid for it too.
  int64_t real_now = static_cast<int64_t>(time(nullptr));
  CertSpec server_spec = leaf_spec({});
  server_spec.dns_sans = {"gateway.example.org"};
  server_spec.eku = "serverAuth";
  server_spec.not_before = real_now - 3600;
  MintedCert server_cert = leaf(server_spec);
  CertSpec client_spec = leaf_spec({"spiffe://example.org/ns/prod/sa/billing"});
  client_spec.not_before = real_now - 3600;
  MintedCert client = leaf(client_spec);

  auto id = handshake_and_verify(verifier(), server_cert, client, &intermediate_);
  ASSERT_TRUE(id) << id.error().code << ": " << id.error().message;
  EXPECT_EQ(id->principal, (EntityRef{"Service", "billing"}));

  // Without the intermediate on the wire the chain does not reach the CA.
  auto partial = handshake_and_verify(verifier(), server_cert, client, nullptr);
  ASSERT_FALSE(partial);
  EXPECT_EQ(partial.error().code, "x509_chain_invalid");

  // A client certificate from a CA the gateway does not trust.
  MintedCert rogue_root = mint_cert(ca_spec("root"), nullptr);
  MintedCert rogue = mint_cert(client_spec, &rogue_root);
  auto refused = handshake_and_verify(verifier(), server_cert, rogue, &rogue_root);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "x509_chain_invalid");
}

}  // namespace
}  // namespace ztgate::authn
