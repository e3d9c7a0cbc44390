// The gateway's TLS listener end to end: the real `ztgate serve` with
// listeners[0].tls, and curl (OpenSSL) as an independent TLS client. HTTPS
// with the test CA as trust anchor, plain HTTP refused on the TLS port,
// client certificates (SPIFFE X.509-SVIDs) authenticating a Service at the
// Cedar PDP endpoint and in the audit record, untrusted and missing client
// certificates refused at the handshake, and a TLS configuration that does
// not load stopping `serve` with tls_config. Certificates are minted at run
// time (tests/authn/test_certs.h).
#include <gtest/gtest.h>

#include <openssl/pem.h>

#include <boost/json.hpp>

#include <chrono>
#include <ctime>
#include <thread>

#include "../authn/test_certs.h"
#include "child_process.h"
#include "audit_records.h"
#include "itest_support.h"
#include "raw_http.h"

namespace ztgate {
namespace {

namespace json = boost::json;
using authn::testing::CertSpec;
using authn::testing::MintedCert;
using authn::testing::mint_cert;
using itest::run_process;

constexpr const char* kSpiffeBilling = "spiffe://example.test/ns/prod/sa/billing";
constexpr const char* kCedarQuery =
    R"({"principal":{"type":"User","id":"alice"},"action":{"type":"Action","id":"read"},"resource":{"type":"Doc","id":"d"}})";

// The PDP answers about the query's principal (User::"alice"); the caller
// (Service::"billing") must be authenticated and allowed to ask.
constexpr const char* kPolicies = R"(
@id("alice-reads-d")
permit (principal == User::"alice", action == Action::"read", resource == Doc::"d");

@id("billing-queries-the-pdp")
permit (principal == Service::"billing", action == Action::"query_pdp", resource == Pdp::"cedar");

@id("billing-uses-models")
permit (principal == Service::"billing", action == Action::"invoke_model", resource);
)";

std::string key_pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

struct CurlResult {
  int exit_code = -1;  // curl's: 0 ok, 35 handshake failed, 56 receive failed...
  int status = 0;      // the HTTP status, 0 when there was no response
  std::string body;
  std::string output;  // curl's stdout and stderr, for failure messages
};

class TlsListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = itest::fresh_work_dir("tls_listener");
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    server_ca_ = ca("server-root", now);
    client_ca_ = ca("clients-root", now);
    rogue_ca_ = ca("rogue-root", now);
    itest::write_file(dir_ / "server-ca.pem", server_ca_.pem());
    itest::write_file(dir_ / "clients-ca.pem", client_ca_.pem());

    CertSpec server;
    server.common_name = "localhost";
    server.not_before = now - 3600;
    server.not_after = now + 3600;
    server.dns_sans = {"localhost"};
    server.eku = "serverAuth";
    write_pair("server", mint_cert(server, &server_ca_));
    write_pair("billing", leaf("billing", kSpiffeBilling, client_ca_, now));
    write_pair("rogue", leaf("rogue", kSpiffeBilling, rogue_ca_, now));

    itest::write_file(dir_ / "policies.cedar", kPolicies);
    itest::write_file(dir_ / "entities.json", "[]\n");
    // No data/ yet: `serve` must create data_dir itself (0700) before it
    // opens the audit log there.
  }

  static MintedCert ca(const std::string& name, int64_t now) {
    CertSpec spec;
    spec.common_name = name;
    spec.is_ca = true;
    spec.not_before = now - 86400;
    spec.not_after = now + 86400;
    return mint_cert(spec, nullptr);
  }

  static MintedCert leaf(const std::string& name, const std::string& spiffe_id, const MintedCert& issuer, int64_t now) {
    CertSpec spec;
    spec.common_name = name;
    spec.not_before = now - 3600;
    spec.not_after = now + 3600;
    spec.uri_sans = {spiffe_id};
    return mint_cert(spec, &issuer);
  }

  // <name>.pem (the certificate) and <name>.key (its private key).
  void write_pair(const std::string& name, const MintedCert& cert) {
    itest::write_file(dir_ / (name + ".pem"), cert.pem());
    itest::write_file(dir_ / (name + ".key"), key_pem(cert.key.get()));
  }

  void write_config(const std::string& tls, bool with_mtls_identity, const std::string& extra = "") {
    std::string yaml = extra + "data_dir: data\n"
                       "listeners:\n"
                       "  - { address: 127.0.0.1, port: 0, tls: " + tls + " }\n"
                       "reload: { watch: false }\n"
                       "pdp: { require_authentication: true }\n"
                       "policies:\n"
                       "  files: [policies.cedar]\n"
                       "  entities: [entities.json]\n";
    if (with_mtls_identity)
      yaml += "identity:\n"
              "  mtls:\n"
              "    ca_files: [clients-ca.pem]\n"
              "    rules:\n"
              "      - { trust_domain: example.test, path_prefix: /ns/prod/sa, type: Service }\n";
    itest::write_file(dir_ / "ztgate.yaml", yaml);
  }

  void start_gateway() {
    server_ = std::make_unique<itest::ChildProcess>(
        std::vector<std::string>{ZTGATE_BINARY, "serve", "--config", (dir_ / "ztgate.yaml").string()});
    std::string line = server_->wait_for_line("ztgate listening on ");
    ASSERT_EQ(line.rfind("https://", 0), 0u) << line;
    line = line.substr(0, line.find(' '));
    port_ = std::stoi(line.substr(line.rfind(':') + 1));
  }

  // curl over TLS to https://localhost:<port><path> (resolved to 127.0.0.1,
  // so the server certificate's DNS name is checked), trusting only the
  // test's server CA. `client` names a <client>.pem/.key pair ("" = none).
  CurlResult curl(const std::string& path, const std::string& client = "", const std::string& post_body = "",
                  const std::vector<std::string>& extra = {}) {
    std::string port = std::to_string(port_);
    auto body_file = dir_ / "curl-body.out";
    std::filesystem::remove(body_file);
    std::vector<std::string> argv{"curl", "-sS", "--max-time", "10", "--cacert", (dir_ / "server-ca.pem").string(),
                                  "--resolve", "localhost:" + port + ":127.0.0.1", "-o", body_file.string(),
                                  "-w", "HTTP_STATUS=%{http_code}\n"};
    if (!client.empty()) {
      argv.insert(argv.end(), {"--cert", (dir_ / (client + ".pem")).string(), "--key",
                               (dir_ / (client + ".key")).string()});
    }
    if (!post_body.empty())
      argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary", post_body});
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("https://localhost:" + port + path);
    auto r = run_process(argv, std::chrono::seconds(20));
    CurlResult out;
    out.exit_code = r.exit_code;
    out.output = r.output;
    size_t at = r.output.find("HTTP_STATUS=");
    if (at != std::string::npos) out.status = std::atoi(r.output.c_str() + at + 12);
    if (std::filesystem::exists(body_file)) out.body = itest::read_file(body_file);
    return out;
  }

  // The last audit record for `route`, waiting for it to become durable.
  json::object audit_record_for(const std::string& route) {
    return itest::audit_record_where(dir_ / "data" / "audit.db", "_route", route);
  }


  std::filesystem::path dir_;
  MintedCert server_ca_, client_ca_, rogue_ca_;
  std::unique_ptr<itest::ChildProcess> server_;
  int port_ = 0;
};

std::string str(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

TEST_F(TlsListenerTest, ServesHttpsAndRefusesPlainHttpOnTheSamePort) {
  write_config("{ cert: server.pem, key: server.key }", false);
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  auto health = curl("/healthz");
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_EQ(health.status, 200) << health.output;
  EXPECT_NE(health.body.find("\"status\":\"ok\""), std::string::npos) << health.body;

  // Plain HTTP to the TLS port: no HTTP answer, the connection just closes.
  auto plain = itest::http(port_, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(plain.find("HTTP/1.1 200"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("\"status\":\"ok\""), std::string::npos) << plain;

  // A client that does not trust the server's CA gives up on its own side.
  std::filesystem::copy_file(dir_ / "clients-ca.pem", dir_ / "server-ca.pem",
                             std::filesystem::copy_options::overwrite_existing);
  auto untrusted = curl("/healthz");
  EXPECT_NE(untrusted.exit_code, 0) << untrusted.output;
  EXPECT_EQ(untrusted.status, 0) << untrusted.output;
  itest::write_file(dir_ / "server-ca.pem", server_ca_.pem());

  // The server keeps serving after both.
  auto again = curl("/healthz");
  EXPECT_EQ(again.status, 200) << again.output;
}

TEST_F(TlsListenerTest, ClientCertificateAuthenticatesAServiceAtThePdp) {
  write_config("{ cert: server.pem, key: server.key, client_ca: clients-ca.pem, require_client_cert: false }", true);
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  auto with_cert = curl("/cedar/v1/is_authorized", "billing", kCedarQuery);
  ASSERT_EQ(with_cert.exit_code, 0) << with_cert.output;
  EXPECT_EQ(with_cert.status, 200) << with_cert.output << with_cert.body;
  auto answer = json::parse(with_cert.body).as_object();
  EXPECT_EQ(str(answer, "decision"), "allow") << with_cert.body;

  auto record = audit_record_for("/cedar/v1/is_authorized");
  ASSERT_FALSE(record.empty()) << "no audit record for the PDP query";
  EXPECT_EQ(itest::member_at(record, "unmapped.authn.method"), "mtls") << json::serialize(record);
  EXPECT_EQ(itest::member_at(record, "unmapped.principal"), "Service::\"billing\"") << json::serialize(record);
  EXPECT_EQ(str(record, "_decision"), "allow") << json::serialize(record);

  // No client certificate: the handshake completes, the request is refused.
  auto without = curl("/cedar/v1/is_authorized", "", kCedarQuery);
  EXPECT_EQ(without.exit_code, 0) << without.output;
  EXPECT_EQ(without.status, 401) << without.output << without.body;
  EXPECT_NE(without.body.find("\"code\":\"unauthenticated\""), std::string::npos) << without.body;
  // Health checks do not need a certificate either.
  EXPECT_EQ(curl("/healthz").status, 200);
}

TEST_F(TlsListenerTest, ClientCertificateFromAnUntrustedCaFailsTheHandshake) {
  write_config("{ cert: server.pem, key: server.key, client_ca: clients-ca.pem }", true);
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  auto rogue = curl("/cedar/v1/is_authorized", "rogue", kCedarQuery);
  EXPECT_NE(rogue.exit_code, 0) << rogue.output;
  EXPECT_EQ(rogue.status, 0) << rogue.output << rogue.body;
  EXPECT_NE(rogue.output.find("alert unknown ca"), std::string::npos) << rogue.output;  // OpenSSL 3's wording
  // The listener is still there for a trusted client.
  auto trusted = curl("/cedar/v1/is_authorized", "billing", kCedarQuery);
  EXPECT_EQ(trusted.status, 200) << trusted.output << trusted.body;
}

TEST_F(TlsListenerTest, RequiredClientCertificateRefusesAClientWithoutOne) {
  write_config("{ cert: server.pem, key: server.key, client_ca: clients-ca.pem, require_client_cert: true }", true);
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  auto without = curl("/healthz");
  EXPECT_NE(without.exit_code, 0) << without.output;
  EXPECT_EQ(without.status, 0) << without.output << without.body;
  EXPECT_NE(without.output.find("alert certificate required"), std::string::npos) << without.output;
  auto with_cert = curl("/healthz", "billing");
  EXPECT_EQ(with_cert.exit_code, 0) << with_cert.output;
  EXPECT_EQ(with_cert.status, 200) << with_cert.output;
}

// With client_ca set, the server context needs a session id context
// (SSL_CTX_set_session_id_context), or OpenSSL refuses every resumption
// attempt with an internal_error alert: a client's second connection would
// fail (curl exit 35), with or without a client certificate.
TEST_F(TlsListenerTest, ASecondConnectionResumesTheSessionWhenClientCertificatesAreAsked) {
  write_config("{ cert: server.pem, key: server.key, client_ca: clients-ca.pem }", true);
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  // Two URLs, each on its own connection: curl offers the first session's
  // ticket / id on the second.
  std::string second = "https://localhost:" + std::to_string(port_) + "/healthz";
  auto both = curl("/healthz", "billing", "", {"-H", "Connection: close", second});
  EXPECT_EQ(both.exit_code, 0) << both.output;
  EXPECT_EQ(both.output.find("HTTP_STATUS=000"), std::string::npos) << both.output;
}

// An https upstream: the gateway verifies its chain against the configured
// CA and its name, sends SNI, and keeps the connection pooled.
TEST_F(TlsListenerTest, HttpsUpstreamIsVerifiedAndAWrongCaIsAClearError) {
  itest::ChildProcess upstream({itest::node_executable(), std::string(ZTGATE_ITEST_NODE_DIR) + "/openai_upstream.mjs",
                                "--tls-cert", (dir_ / "server.pem").string(), "--tls-key", (dir_ / "server.key").string()});
  std::string port = upstream.wait_for_line("{\"port\": ");
  port = port.substr(0, port.find('}'));
  write_config("{ cert: server.pem, key: server.key, client_ca: clients-ca.pem }", true,
               "upstreams:\n"
               "  - { id: secure, url: \"https://localhost:" + port + "/v1\", ca_file: server-ca.pem }\n"
               "  - { id: untrusted, url: \"https://localhost:" + port + "/v1\", ca_file: clients-ca.pem }\n"
               "models:\n"
               "  - { id: demo-small, upstream: secure }\n"
               "  - { id: other-model, upstream: untrusted, upstream_model: demo-small }\n");
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  const std::string chat = R"({"model":"demo-small","messages":[{"role":"user","content":"over tls"}]})";
  for (int i = 0; i < 2; ++i) {  // the second one reuses the pooled TLS connection
    auto ok = curl("/v1/chat/completions", "billing", chat);
    EXPECT_EQ(ok.status, 200) << ok.output << ok.body;
    EXPECT_NE(ok.body.find("echo: over tls"), std::string::npos) << ok.body;
  }
  auto bad = curl("/v1/chat/completions", "billing",
                  R"({"model":"other-model","messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(bad.status, 502) << bad.output << bad.body;
  EXPECT_NE(bad.body.find("\"code\":\"upstream_tls_error\""), std::string::npos) << bad.body;
}

TEST_F(TlsListenerTest, MissingKeyFileStopsServeWithTlsConfig) {
  write_config("{ cert: server.pem, key: missing.key }", false);
  auto r = run_process({ZTGATE_BINARY, "serve", "--config", (dir_ / "ztgate.yaml").string()}, std::chrono::seconds(20));
  EXPECT_FALSE(r.timed_out) << r.output;
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("tls_config"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("ztgate listening on"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace ztgate
