// JWKS key sources end to end over real TLS: a node https server
// (node/jwks_server.mjs) plays the identity provider with a CA and server
// certificate generated here with the OpenSSL C API. Covers discovery + JWKS,
// certificate checks, rotation on an unknown kid, the refresh rate limit
// (counted by the server), stale-if-error and its end, redirects, size and
// time bounds.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "authn/base64url.h"
#include "authn/issuer_registry.h"
#include "child_process.h"
#include "itest_support.h"
#include "net/https_client.h"

namespace ztgate {
namespace {

using namespace std::chrono_literals;
using authn::EvpPkeyPtr;

// ---- test PKI -------------------------------------------------------------

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

EvpPkeyPtr ec_key() { return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value);
  if (!ext || X509_add_ext(cert, ext, -1) != 1) throw std::runtime_error("extension failed");
  X509_EXTENSION_free(ext);
}

// A CA certificate when `issuer` is null (self-signed), else a TLS server
// certificate for `san` signed by issuer/issuer_key.
X509Ptr make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key,
                  const char* san, long serial) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (!issuer) {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
  } else {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    add_ext(cert.get(), signer, NID_subject_alt_name, san);
    add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid");
  }
  if (X509_sign(cert.get(), issuer ? issuer_key : key, EVP_sha256()) <= 0)
    throw std::runtime_error("X509_sign failed");
  return cert;
}

std::string pem_of(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string pem_of(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

// ---- token helpers (Ed25519, real signatures) -------------------------------

std::string raw_public(EVP_PKEY* key) {
  std::string raw(32, '\0');
  size_t len = raw.size();
  EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &len);
  return raw;
}

std::string jwk(EVP_PKEY* key, const std::string& kid) {
  return R"({"kty":"OKP","crv":"Ed25519","kid":")" + kid + R"(","x":")" +
         authn::base64url_encode(raw_public(key)) + "\"}";
}

std::string sign(EVP_PKEY* key, const std::string& kid, const std::string& iss) {
  std::string input = authn::base64url_encode(R"({"alg":"EdDSA","kid":")" + kid + "\"}") + "." +
                      authn::base64url_encode(R"({"iss":")" + iss +
                                              R"(","sub":"alice","aud":"api","exp":4000000000})");
  std::string sig(64, '\0');
  size_t len = sig.size();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key);
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  return input + "." + authn::base64url_encode(sig);
}

constexpr int64_t kNow = 1'800'000'000;

struct TestClock {
  std::shared_ptr<std::chrono::steady_clock::time_point> now =
      std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::hours(1000));
  authn::JwksSource::Clock fn() const {
    return [n = now] { return *n; };
  }
  void advance(std::chrono::seconds d) const { *now += d; }
};

// ---- the fixture: one PKI and one server for the suite -----------------------

class JwksHttpsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(itest::fresh_work_dir("jwks_https"));
    auto ca_key = ec_key(), other_key = ec_key(), server_key = ec_key();
    auto ca = make_cert(ca_key.get(), "ztgate test CA", nullptr, nullptr, nullptr, 1);
    auto other = make_cert(other_key.get(), "someone else's CA", nullptr, nullptr, nullptr, 2);
    auto leaf =
        make_cert(server_key.get(), "localhost", ca.get(), ca_key.get(), "DNS:localhost", 3);
    itest::write_file(*dir_ / "ca.pem", pem_of(ca.get()));
    itest::write_file(*dir_ / "other-ca.pem", pem_of(other.get()));
    itest::write_file(*dir_ / "server.pem", pem_of(leaf.get()));
    itest::write_file(*dir_ / "server-key.pem", pem_of(server_key.get()));
    key1_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    key2_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    itest::write_file(*dir_ / "jwks.json", "{\"keys\":[" + jwk(key1_, "k1") + "]}");
    server_ = new itest::ChildProcess(
        {itest::node_executable(), std::string(ZTGATE_ITEST_NODE_DIR) + "/jwks_server.mjs",
         "--cert", (*dir_ / "server.pem").string(), "--key", (*dir_ / "server-key.pem").string(),
         "--jwks", (*dir_ / "jwks.json").string()});
    port_ = std::stoi(server_->wait_for_line("listening "));
  }
  static void TearDownTestSuite() {
    delete server_;
    EVP_PKEY_free(key1_);
    EVP_PKEY_free(key2_);
    delete dir_;
  }

  void SetUp() override {
    control("mode=ok&max_age=600&reset=1");
    itest::write_file(*dir_ / "jwks.json", "{\"keys\":[" + jwk(key1_, "k1") + "]}");
  }

  static std::string origin() { return "https://localhost:" + std::to_string(port_); }
  static net::HttpsClientOptions trusting() {
    net::HttpsClientOptions o;
    o.ca_file = (*dir_ / "ca.pem").string();
    return o;
  }
  // Sets server behavior; returns its request counts.
  static boost::json::object control(const std::string& query) {
    auto r = net::https_get(origin() + "/_control?" + query, trusting());
    if (!r) throw std::runtime_error("control failed: " + r.error().message);
    return boost::json::parse(r->body).as_object().at("counts").as_object();
  }
  static int64_t jwks_hits() { return control("").at("jwks").as_int64(); }
  static int64_t discovery_hits() { return control("").at("discovery").as_int64(); }

  authn::IssuerRegistry registry(authn::JwksSourceKind kind, const std::string& location,
                                 const TestClock& clock) {
    authn::IssuerConfig c;
    c.id = "local";
    c.issuer = origin();
    c.keys = {kind, location, {}, trusting()};
    c.audience = "api";
    auto r = authn::IssuerRegistry::create({c}, {}, clock.fn());
    if (!r) throw std::runtime_error(r.error().message);
    return std::move(*r);
  }

  static inline std::filesystem::path* dir_ = nullptr;
  static inline itest::ChildProcess* server_ = nullptr;
  static inline int port_ = 0;
  static inline EVP_PKEY* key1_ = nullptr;
  static inline EVP_PKEY* key2_ = nullptr;
};

TEST_F(JwksHttpsTest, DiscoveryThenJwksOverRealTlsVerifiesATokenAndCaches) {
  TestClock clock;
  auto reg = registry(authn::JwksSourceKind::kDiscovery, origin(), clock);
  for (int i = 0; i < 3; ++i) {
    auto v = reg.verify(sign(key1_, "k1", origin()), kNow);
    ASSERT_TRUE(v.ok()) << v.error().code << ": " << v.error().message;
    EXPECT_EQ(v->claims.sub, "alice");
  }
  EXPECT_EQ(discovery_hits(), 1);
  EXPECT_EQ(jwks_hits(), 1);
}

TEST_F(JwksHttpsTest, DiscoveryIssuerMustMatchExactly) {
  TestClock clock;
  auto source = authn::JwksSource::create(
      {authn::JwksSourceKind::kDiscovery, origin() + "/", {}, trusting()}, {}, clock.fn());
  ASSERT_TRUE(source.ok());
  EXPECT_FALSE((*source)->keys().ok());
  EXPECT_EQ((*source)->last_error()->code, "jwks_issuer_mismatch");
  EXPECT_EQ(jwks_hits(), 0);
}

TEST_F(JwksHttpsTest, HostnameMismatchIsRefused) {
  // The certificate names DNS:localhost only; 127.0.0.1 is the same server.
  auto r = net::https_get("https://127.0.0.1:" + std::to_string(port_) + "/jwks.json", trusting());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "net_tls");
  EXPECT_NE(r.error().message.find("mismatch"), std::string::npos) << r.error().message;
  EXPECT_EQ(jwks_hits(), 0);
}

TEST_F(JwksHttpsTest, UntrustedCaIsRefused) {
  auto other = trusting();
  other.ca_file = (*dir_ / "other-ca.pem").string();
  for (const auto& options : {other, net::HttpsClientOptions{}}) {  // and the system store
    auto r = net::https_get(origin() + "/jwks.json", options);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "net_tls") << r.error().message;
  }
  EXPECT_EQ(jwks_hits(), 0);
}

TEST_F(JwksHttpsTest, RotationIsPickedUpOnUnknownKidAndTheRefreshIsRateLimited) {
  TestClock clock;
  auto reg = registry(authn::JwksSourceKind::kUrl, origin() + "/jwks.json", clock);
  ASSERT_TRUE(reg.verify(sign(key1_, "k1", origin()), kNow).ok());
  itest::write_file(*dir_ / "jwks.json",
                    "{\"keys\":[" + jwk(key1_, "k1") + "," + jwk(key2_, "k2") + "]}");
  auto too_soon = reg.verify(sign(key2_, "k2", origin()), kNow);  // < 30 s after the load
  ASSERT_FALSE(too_soon.ok());
  EXPECT_EQ(too_soon.error().code, "jws_unknown_kid");
  EXPECT_EQ(jwks_hits(), 1);

  clock.advance(31s);
  auto rotated = reg.verify(sign(key2_, "k2", origin()), kNow);
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_EQ(jwks_hits(), 2);

  for (int i = 0; i < 50; ++i) {
    auto v = reg.verify(sign(key2_, "random-" + std::to_string(i), origin()), kNow);
    EXPECT_EQ(v.error().code, "jws_unknown_kid");
  }
  EXPECT_EQ(jwks_hits(), 2);
  clock.advance(30s);
  for (int i = 0; i < 50; ++i)
    (void)reg.verify(sign(key2_, "r" + std::to_string(i), origin()), kNow);
  EXPECT_EQ(jwks_hits(), 3);
}

TEST_F(JwksHttpsTest, StaleIfErrorKeepsServingThenFailsClosed) {
  control("max_age=300");
  TestClock clock;
  auto reg = registry(authn::JwksSourceKind::kUrl, origin() + "/jwks.json", clock);
  auto token = sign(key1_, "k1", origin());
  ASSERT_TRUE(reg.verify(token, kNow).ok());
  control("mode=fail");
  clock.advance(301s);
  auto stale = reg.verify(token, kNow);
  ASSERT_TRUE(stale.ok()) << stale.error().message;
  EXPECT_EQ(reg.source("local")->last_error()->code, "net_http_status");
  EXPECT_EQ(jwks_hits(), 2);

  clock.advance(24h);
  auto closed = reg.verify(token, kNow);
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code, "jwks_unavailable");
  EXPECT_EQ(jwks_hits(), 3);

  control("mode=ok");
  clock.advance(31s);
  EXPECT_TRUE(reg.verify(token, kNow).ok());
}

TEST_F(JwksHttpsTest, HangingServerHitsTheDeadline) {
  control("mode=hang");
  auto options = trusting();
  options.total_timeout = 1000ms;
  auto start = std::chrono::steady_clock::now();
  auto r = net::https_get(origin() + "/jwks.json", options);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "net_timeout");
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 3s);

  TestClock clock;
  auto source = authn::JwksSource::create(
      {authn::JwksSourceKind::kUrl, origin() + "/jwks.json", {}, options}, {}, clock.fn());
  auto keys = (*source)->keys();
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.error().code, "jwks_unavailable");
  EXPECT_EQ((*source)->last_error()->code, "net_timeout");
}

TEST_F(JwksHttpsTest, RedirectsAreNotFollowedAndBodiesAreBounded) {
  auto redirect = net::https_get(origin() + "/redirect", trusting());
  ASSERT_FALSE(redirect.ok());
  EXPECT_EQ(redirect.error().code, "net_redirect");
  EXPECT_EQ(jwks_hits(), 0);
  auto big = net::https_get(origin() + "/big", trusting());
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, "net_too_large");
  auto missing = net::https_get(origin() + "/nothing", trusting());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "net_http_status");
  auto fine = net::https_get(origin() + "/jwks.json", trusting());
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->status, 200);
  EXPECT_EQ(fine->content_type, "application/jwk-set+json");
  EXPECT_EQ(fine->cache_control, "public, max-age=600");
}

}  // namespace
}  // namespace ztgate
