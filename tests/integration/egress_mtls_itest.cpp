// The egress proxy as an HTTPS proxy with client certificates: workloads
// authenticate with their mTLS identity (a SPIFFE ID mapped by
// identity.mtls), no proxy credential needed. curl (--proxy https://,
// --proxy-cert) drives it; the destination is a Node server on 127.0.0.77.
// Also: the tunnel limit (503 too_many_tunnels) and a tunnel closed after
// egress.timeouts.idle without bytes, both recorded.
#include <gtest/gtest.h>

#include <openssl/pem.h>

#include <boost/json.hpp>

#include <chrono>
#include <ctime>
#include <thread>

#include "../authn/test_certs.h"
#include "audit_records.h"
#include "child_process.h"
#include "itest_support.h"

namespace ztgate {
namespace {

namespace json = boost::json;
using authn::testing::CertSpec;
using authn::testing::MintedCert;
using authn::testing::mint_cert;
using itest::run_process;

constexpr const char* kPolicies = R"(
@id("billing-reaches-the-lab")
permit (principal == Service::"billing", action == Action::"egress", resource in Zone::"lab");
)";

std::string key_pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

class EgressMtlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = itest::fresh_work_dir("egress_mtls");
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    auto server_ca = ca("proxy-root", now);
    auto client_ca = ca("workloads-root", now);
    itest::write_file(dir_ / "proxy-ca.pem", server_ca.pem());
    itest::write_file(dir_ / "workloads-ca.pem", client_ca.pem());
    CertSpec server;
    server.common_name = "localhost";
    server.not_before = now - 3600;
    server.not_after = now + 3600;
    server.dns_sans = {"localhost"};
    server.eku = "serverAuth";
    write_pair("proxy", mint_cert(server, &server_ca));
    CertSpec billing;
    billing.common_name = "billing";
    billing.not_before = now - 3600;
    billing.not_after = now + 3600;
    billing.uri_sans = {"spiffe://example.test/ns/prod/sa/billing"};
    write_pair("billing", mint_cert(billing, &client_ca));

    lab_ = new itest::ChildProcess({itest::node_executable(), std::string(ZTGATE_ITEST_NODE_DIR) + "/egress_upstream.mjs",
                                    "--host", "127.0.0.77"});
    lab_port_ = static_cast<int>(json::parse("{" + lab_->wait_for_line("{")).as_object().at("port").as_int64());
    itest::write_file(dir_ / "policies.cedar", kPolicies);
    itest::write_file(dir_ / "entities.json", "[]\n");
    itest::write_file(dir_ / "ztgate.yaml",
                      "data_dir: data\n"
                      "listeners: [ { address: 127.0.0.1, port: 0 } ]\n"
                      "identity:\n"
                      "  mtls:\n"
                      "    ca_files: [workloads-ca.pem]\n"
                      "    rules:\n"
                      "      - { trust_domain: example.test, path_prefix: /ns/prod/sa, type: Service }\n"
                      "egress:\n"
                      "  listener:\n"
                      "    address: 127.0.0.1\n"
                      "    port: 0\n"
                      "    tls: { cert: proxy.pem, key: proxy.key, client_ca: workloads-ca.pem }\n"
                      "  allow_addresses: [127.0.0.77/32]\n"
                      "  zones: [ { name: lab, hosts: [127.0.0.77] } ]\n"
                      "  timeouts: { idle: 1s }\n"
                      "  limits: { max_tunnels: 2 }\n"
                      "policies: { files: [policies.cedar], entities: [entities.json] }\n");
    server_ = new itest::ChildProcess({ZTGATE_BINARY, "serve", "--config", (dir_ / "ztgate.yaml").string()});
    std::string line = server_->wait_for_line("ztgate egress proxy listening on https://");
    proxy_port_ = std::stoi(line.substr(line.rfind(':') + 1));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete lab_;
  }

  static MintedCert ca(const std::string& name, int64_t now) {
    CertSpec spec;
    spec.common_name = name;
    spec.is_ca = true;
    spec.not_before = now - 86400;
    spec.not_after = now + 86400;
    return mint_cert(spec, nullptr);
  }
  static void write_pair(const std::string& name, const MintedCert& cert) {
    itest::write_file(dir_ / (name + ".pem"), cert.pem());
    itest::write_file(dir_ / (name + ".key"), key_pem(cert.key.get()));
  }

  // curl through the HTTPS proxy; `client` names a certificate pair ("" = none).
  static std::pair<int, std::string> curl(const std::string& client, const std::string& url, bool tunnel) {
    std::vector<std::string> argv{"curl", "-sS", "--max-time", "10", "--proxy",
                                  "https://localhost:" + std::to_string(proxy_port_), "--proxy-cacert",
                                  (dir_ / "proxy-ca.pem").string(), "-w", "\n%{http_code} %{http_connect}"};
    if (!client.empty())
      argv.insert(argv.end(), {"--proxy-cert", (dir_ / (client + ".pem")).string(), "--proxy-key",
                               (dir_ / (client + ".key")).string()});
    if (tunnel) argv.push_back("-p");
    argv.push_back(url);
    auto r = run_process(argv, std::chrono::seconds(20));
    return {r.exit_code, r.output};
  }
  static std::string lab(const std::string& path) { return "http://127.0.0.77:" + std::to_string(lab_port_) + path; }

  static inline std::filesystem::path dir_;
  static inline itest::ChildProcess* lab_ = nullptr;
  static inline itest::ChildProcess* server_ = nullptr;
  static inline int lab_port_ = 0, proxy_port_ = 0;
};

TEST_F(EgressMtlsTest, AClientCertificateIsTheWorkloadsIdentity) {
  auto [rc, out] = curl("billing", lab("/hello"), false);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("hello from the lab\n200"), std::string::npos) << out;
  auto [trc, tout] = curl("billing", lab("/hello"), true);
  EXPECT_NE(tout.find("hello from the lab\n200 200"), std::string::npos) << tout;
  bool mtls = false;
  // Async records are durable within the commit interval: look for a while.
  for (int attempt = 0; attempt < 50 && !mtls; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (const auto& r : itest::audit_records(dir_ / "data" / "audit.db"))
      if (r.at("unmapped").as_object().contains("authn") && r.at("unmapped").at("authn").at("method") == "mtls" &&
          r.at("unmapped").at("principal") == "Service::\"billing\"")
        mtls = true;
  }
  EXPECT_TRUE(mtls) << "no record with the mTLS identity";
}

TEST_F(EgressMtlsTest, WithoutACertificateItIs407) {
  auto [rc, out] = curl("", lab("/hello"), false);
  EXPECT_NE(out.find("unauthenticated"), std::string::npos) << out;
  EXPECT_NE(out.find("\n407"), std::string::npos) << out;
}

// egress.limits.max_tunnels 2 and egress.timeouts.idle 1s in this suite's config.
TEST_F(EgressMtlsTest, TunnelsBeyondTheLimitAre503AndIdleTunnelsClose) {
  // Two tunnels held open by curl downloads that never finish: the lab's
  // /bytes answer is consumed slowly (--limit-rate) so both stay busy.
  std::vector<std::unique_ptr<itest::ChildProcess>> holders;
  for (int i = 0; i < 2; ++i)
    holders.push_back(std::make_unique<itest::ChildProcess>(std::vector<std::string>{
        "curl", "-sS", "-o", "/dev/null", "--limit-rate", "20k", "--proxy", "https://localhost:" + std::to_string(proxy_port_),
        "--proxy-cacert", (dir_ / "proxy-ca.pem").string(), "--proxy-cert", (dir_ / "billing.pem").string(),
        "--proxy-key", (dir_ / "billing.key").string(), "-p", lab("/bytes?n=50000000"), "-w", "done %{http_code}\n"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  auto [rc, out] = curl("billing", lab("/hello"), true);
  EXPECT_NE(out.find("\n000 503"), std::string::npos) << out;  // CONNECT refused: too many tunnels
  holders.clear();  // curl killed: their tunnels end
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto [rc2, out2] = curl("billing", lab("/hello"), true);
  EXPECT_NE(out2.find("hello from the lab\n200 200"), std::string::npos) << out2;

  // An idle tunnel: opened with openssl s_client (a raw TLS client), then
  // nothing sent for longer than the idle timeout.
  auto idle = run_process({"sh", "-c",
                           "(printf 'CONNECT 127.0.0.77:" + std::to_string(lab_port_) +
                               " HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'; sleep 4) | openssl s_client -quiet -connect 127.0.0.1:" +
                               std::to_string(proxy_port_) + " -CAfile " + (dir_ / "proxy-ca.pem").string() + " -cert " +
                               (dir_ / "billing.pem").string() + " -key " + (dir_ / "billing.key").string() +
                               " 2>/dev/null"},
                          std::chrono::seconds(15));
  EXPECT_NE(idle.output.find("200 Connection established"), std::string::npos) << idle.output;
  bool refused = false, idled = false;
  for (int attempt = 0; attempt < 50 && !(refused && idled); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (const auto& r : itest::audit_records(dir_ / "data" / "audit.db")) {
      if (r.contains("status_detail") && r.at("status_detail") == "too_many_tunnels") refused = true;
      const auto* details = r.at("unmapped").as_object().if_contains("details");
      if (details && details->as_object().contains("egress") && details->at("egress").as_object().contains("end") &&
          details->at("egress").at("end") == "idle_timeout")
        idled = true;
    }
  }
  EXPECT_TRUE(refused) << "the 503 too_many_tunnels is recorded";
  EXPECT_TRUE(idled) << "the idle tunnel's end is recorded";
}

}  // namespace
}  // namespace ztgate
