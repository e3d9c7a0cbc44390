// The syslog sink against a real rsyslogd (issue 5, "Real rsyslog receives
// the events in RFC 5424 form"): the test starts its own rsyslogd with its
// own work directory, a plain imtcp listener and a TLS listener (the ossl
// netstream driver, client certificates required) on free 127.0.0.1 ports,
// with certificates minted here. rsyslog writes what it parsed (PRI,
// APP-NAME, PROCID, MSGID, STRUCTURED-DATA, MSG, ...) as one JSON object
// per line; the test checks that rsyslog understood every message as
// RFC 5424 and that each MSG is the sealed record, byte for byte.
//
// rsyslogd is a required test dependency (scripts/install-deps.sh installs
// rsyslog and rsyslog-openssl): when it is missing the tests fail, they do
// not skip.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <ctime>
#include <fstream>
#include <thread>

#include "../audit/sink_test_support.h"
#include "../authn/test_certs.h"
#include "audit/sink_runner.h"
#include "audit/sinks/sinks.h"
#include "audit/sinks/syslog_sink.h"
#include "child_process.h"
#include "itest_support.h"

namespace ztgate::audit {
namespace {

namespace fs = std::filesystem;
using authn::testing::CertSpec;
using authn::testing::mint_cert;
using authn::testing::MintedCert;
using namespace std::chrono_literals;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::string find_rsyslogd() {
  for (const char* candidate : {"/usr/sbin/rsyslogd", "/sbin/rsyslogd", "/usr/local/sbin/rsyslogd"})
    if (::access(candidate, X_OK) == 0) return candidate;
  auto which = itest::run_process({"sh", "-c", "command -v rsyslogd"}, 5s);
  std::string path = which.output.substr(0, which.output.find('\n'));
  return which.exit_code == 0 && !path.empty() ? path : "";
}

uint16_t free_port() {
  uint16_t port = 0;
  int fd = audit::testing::listen_loopback(port);
  ::close(fd);
  return port;
}

bool accepts_connections(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string key_pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

// What rsyslog parsed, one JSON object per message (list template, jsonf).
constexpr const char* kConfig = R"(
global(workDirectory="@DIR@/work" maxMessageSize="1m"
  defaultNetstreamDriverCAFile="@DIR@/ca.pem"
  defaultNetstreamDriverCertFile="@DIR@/server.pem"
  defaultNetstreamDriverKeyFile="@DIR@/server.key")
module(load="imtcp")
input(type="imtcp" name="plain" address="127.0.0.1" port="@TCP@")
input(type="imtcp" name="tls" address="127.0.0.1" port="@TLS@"
      streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
template(name="parsed" type="list") {
  constant(value="{")
  property(outname="protocol" name="protocol-version" format="jsonf") constant(value=",")
  property(outname="pri" name="pri" format="jsonf") constant(value=",")
  property(outname="time" name="timereported" dateFormat="rfc3339" format="jsonf") constant(value=",")
  property(outname="host" name="hostname" format="jsonf") constant(value=",")
  property(outname="app" name="app-name" format="jsonf") constant(value=",")
  property(outname="procid" name="procid" format="jsonf") constant(value=",")
  property(outname="msgid" name="msgid" format="jsonf") constant(value=",")
  property(outname="sd" name="structured-data" format="jsonf") constant(value=",")
  property(outname="input" name="inputname" format="jsonf") constant(value=",")
  property(outname="msg" name="msg" format="jsonf")
  constant(value="}\n")
}
if $app-name == "ztgate" then {
  action(type="omfile" file="@DIR@/received.jsonl" template="parsed")
  stop
}
action(type="omfile" file="@DIR@/other.log")
)";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

class SyslogSinkToRsyslogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rsyslogd_ = find_rsyslogd();
    ASSERT_FALSE(rsyslogd_.empty())
        << "rsyslogd not found: this test needs a real rsyslog "
           "(apt-get install rsyslog rsyslog-openssl; scripts/install-deps.sh)";
    ASSERT_TRUE(
        fs::exists("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so") ||
        fs::exists("/usr/lib/rsyslog/lmnsd_ossl.so") ||
        itest::run_process({"sh", "-c", "ls /usr/lib/*/rsyslog/lmnsd_ossl.so"}, 5s).exit_code == 0)
        << "rsyslog's OpenSSL driver (lmnsd_ossl) is missing: apt-get install rsyslog-openssl";
    dir_ = itest::fresh_work_dir("audit_rsyslog");
    fs::create_directories(dir_ / "work");
    mint_certificates();
    tcp_port_ = free_port();
    tls_port_ = free_port();
    std::string conf = replace_all(kConfig, "@DIR@", dir_.string());
    conf = replace_all(conf, "@TCP@", std::to_string(tcp_port_));
    conf = replace_all(conf, "@TLS@", std::to_string(tls_port_));
    itest::write_file(dir_ / "rsyslog.conf", conf);
    auto check =
        itest::run_process({rsyslogd_, "-N1", "-f", (dir_ / "rsyslog.conf").string()}, 20s);
    ASSERT_EQ(check.exit_code, 0) << "rsyslog refused the test configuration:\n" << check.output;
    start_rsyslogd();
  }

  void TearDown() override {
    if (rsyslog_) rsyslog_->stop();
  }

  void start_rsyslogd() {
    rsyslog_ = std::make_unique<itest::ChildProcess>(
        std::vector<std::string>{rsyslogd_, "-n", "-f", (dir_ / "rsyslog.conf").string(), "-i",
                                 (dir_ / "rsyslogd.pid").string()});
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (!(accepts_connections(tcp_port_) && accepts_connections(tls_port_))) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << "rsyslogd did not open its listeners";
      std::this_thread::sleep_for(20ms);
    }
  }

  void mint_certificates() {
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    CertSpec ca;
    ca.common_name = "audit test root";
    ca.is_ca = true;
    ca.not_before = now - 3600;
    ca.not_after = now + 86400;
    MintedCert root = mint_cert(ca, nullptr);
    CertSpec server;
    server.common_name = "localhost";
    server.dns_sans = {"localhost"};
    server.eku = "serverAuth";
    server.not_before = now - 3600;
    server.not_after = now + 86400;
    MintedCert server_cert = mint_cert(server, &root);
    CertSpec client;
    client.common_name = "ztgate audit sink";
    client.eku = "clientAuth";
    client.not_before = now - 3600;
    client.not_after = now + 86400;
    MintedCert client_cert = mint_cert(client, &root);
    CertSpec other_ca = ca;
    other_ca.common_name = "some other root";
    MintedCert other = mint_cert(other_ca, nullptr);
    itest::write_file(dir_ / "ca.pem", root.pem());
    itest::write_file(dir_ / "other-ca.pem", other.pem());
    itest::write_file(dir_ / "server.pem", server_cert.pem());
    itest::write_file(dir_ / "server.key", key_pem(server_cert.key.get()));
    itest::write_file(dir_ / "client.pem", client_cert.pem());
    itest::write_file(dir_ / "client.key", key_pem(client_cert.key.get()));
  }

  SinkConfig tcp_config() const {
    SinkConfig c;
    c.type = SinkType::kSyslog;
    c.name = "siem";
    c.address = "127.0.0.1:" + std::to_string(tcp_port_);
    c.hostname = "gw1.example";
    c.facility = "local4";
    c.timeout = 3s;
    return c;
  }

  SinkConfig tls_config() const {
    SinkConfig c = tcp_config();
    c.name = "siem-tls";
    c.address = "localhost:" + std::to_string(tls_port_);
    c.tls = true;
    c.ca_file = (dir_ / "ca.pem").string();
    c.cert_file = (dir_ / "client.pem").string();
    c.key_file = (dir_ / "client.key").string();
    return c;
  }

  // The JSON objects rsyslog wrote, once there are at least `count` (10 s at most).
  std::vector<boost::json::object> received(size_t count) {
    std::vector<boost::json::object> out;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      out.clear();
      // rsyslog may be midway through writing a line (the 100 kB record comes
      // out in several writes): only complete lines count.
      std::string text =
          fs::exists(dir_ / "received.jsonl") ? itest::read_file(dir_ / "received.jsonl") : "";
      for (size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos;
           start = end + 1)
        out.push_back(boost::json::parse(text.substr(start, end - start)).as_object());
      if (out.size() >= count) break;
      std::this_thread::sleep_for(20ms);
    }
    return out;
  }

  static std::string str(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string())
                                          : "<missing " + std::string(key) + ">";
  }

  // Every field rsyslog parsed is what SyslogSink meant for `record`.
  static void expect_parsed(const boost::json::object& got, const StoredRecord& record,
                            const std::string& input) {
    SCOPED_TRACE("seq " + std::to_string(record.seq));
    EXPECT_EQ(str(got, "protocol"), "1");  // parsed as RFC 5424, not as legacy BSD syslog
    EXPECT_EQ(str(got, "pri"),
              std::to_string(20 * 8 + syslog_severity(record.event.decision)));  // local4
    EXPECT_EQ(str(got, "time"), rfc3339_ms(record.event.time_ms).substr(0, 23) + "Z");
    EXPECT_EQ(str(got, "host"), "gw1.example");
    EXPECT_EQ(str(got, "app"), "ztgate");
    EXPECT_EQ(str(got, "procid"), std::to_string(getpid()));
    EXPECT_EQ(str(got, "msgid"), "audit");
    EXPECT_EQ(str(got, "sd"), "[ztgate@32473 seq=\"" + std::to_string(record.seq) +
                                  "\" request_id=\"" + escape_sd_value(record.event.request_id) +
                                  "\" decision=\"" + record.event.decision +
                                  "\" action=\"invoke_model\"]");
    EXPECT_EQ(str(got, "input"), input);
    std::string msg = str(got, "msg");
    if (msg.rfind(kBom, 0) == 0) msg.erase(0, kBom.size());  // rsyslog keeps the BOM in %msg%
    EXPECT_EQ(msg, record.text);
  }

  std::string rsyslogd_;
  fs::path dir_;
  uint16_t tcp_port_ = 0, tls_port_ = 0;
  std::unique_ptr<itest::ChildProcess> rsyslog_;
};

TEST_F(SyslogSinkToRsyslogTest, RsyslogParsesEveryRecordAsRfc5424OverTcp) {
  auto sink = make_sink(tcp_config());
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  auto records = audit::testing::sealed_records(1, 30);
  // A large record too: octet counting carries it whole (rsyslog: maxMessageSize="1m").
  records[29].text.insert(records[29].text.find("\"message\":\"") + 11, std::string(100'000, 'x'));
  ASSERT_TRUE((*sink)->deliver({records.begin(), records.begin() + 10}).ok());
  auto rest = (*sink)->deliver({records.begin() + 10, records.end()});
  ASSERT_TRUE(rest.ok()) << rest.error().message;
  auto got = received(records.size());
  ASSERT_EQ(got.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) expect_parsed(got[i], records[i], "plain");
}

TEST_F(SyslogSinkToRsyslogTest, RsyslogParsesEveryRecordOverTlsWithAClientCertificate) {
  auto sink = make_sink(tls_config());
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  auto records = audit::testing::sealed_records(1, 20);
  auto delivered = (*sink)->deliver(records);
  ASSERT_TRUE(delivered.ok()) << delivered.error().message;
  auto got = received(records.size());
  ASSERT_EQ(got.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) expect_parsed(got[i], records[i], "tls");
}

TEST_F(SyslogSinkToRsyslogTest,
       TlsFailsClosedOnAnUntrustedServerAWrongNameOrAMissingClientCertificate) {
  auto records = audit::testing::sealed_records(1, 3);
  SinkConfig untrusted = tls_config();
  untrusted.ca_file = (dir_ / "other-ca.pem").string();
  SinkConfig wrong_name = tls_config();
  wrong_name.address =
      "127.0.0.1:" + std::to_string(tls_port_);  // the certificate names localhost only
  SinkConfig no_client_cert = tls_config();
  no_client_cert.cert_file.clear();
  no_client_cert.key_file.clear();
  for (const SinkConfig& c : {untrusted, wrong_name, no_client_cert}) {
    auto sink = make_sink(c);
    ASSERT_TRUE(sink.ok()) << sink.error().message;
    auto delivered = (*sink)->deliver(records);
    ASSERT_FALSE(delivered.ok()) << c.address << " " << c.ca_file << " " << c.cert_file;
    EXPECT_EQ(delivered.error().code, "net_tls") << delivered.error().message;
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(
      fs::exists(dir_ / "received.jsonl"));  // nothing went out in clear or to the wrong peer
}

TEST_F(SyslogSinkToRsyslogTest, TheRunnerLosesNothingAcrossAnRsyslogRestart) {
  auto store_path = (dir_ / "audit.db").string();
  auto store = AuditStore::open(store_path);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto records = audit::testing::sealed_records(1, 40);
  ASSERT_TRUE((*store)->append({records.begin(), records.begin() + 20}, {}).ok());

  SinkConfig config = tls_config();
  auto sink = make_sink(config);
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  SinkRunnerOptions base;
  base.store_path = store_path;
  base.backoff_min = 20ms;
  base.backoff_max = 200ms;
  base.log = [](std::string_view, std::string_view) {};
  auto runner = SinkRunner::start(std::move(*sink), runner_options(config, base));
  ASSERT_TRUE(runner.ok()) << runner.error().message;
  ASSERT_EQ(received(20).size(), 20u);

  rsyslog_->stop();  // the SIEM goes away; records keep coming
  ASSERT_TRUE((*store)->append({records.begin() + 20, records.end()}, {}).ok());
  (*runner)->notify(40);
  std::this_thread::sleep_for(500ms);
  EXPECT_LT((*runner)->stats().cursor, 40u);
  EXPECT_TRUE((*runner)->stats().failing);
  start_rsyslogd();

  auto deadline = std::chrono::steady_clock::now() + 15s;
  while ((*runner)->stats().cursor < 40 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  (*runner)->stop();
  EXPECT_EQ((*runner)->stats().cursor, 40u);
  auto got = received(40);
  ASSERT_GE(got.size(), 40u);
  // At least once and in order: every record arrived, and after removing
  // repeats of a retried batch the sequence is 1..40.
  std::vector<std::string> texts;
  for (const auto& o : got) {
    std::string msg = str(o, "msg");
    if (msg.rfind(kBom, 0) == 0) msg.erase(0, kBom.size());
    if (texts.empty() || texts.back() != msg) texts.push_back(msg);
  }
  std::vector<std::string> unique;
  for (const auto& t : texts)
    if (std::find(unique.begin(), unique.end(), t) == unique.end()) unique.push_back(t);
  ASSERT_EQ(unique.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ(unique[i], records[i].text) << i;
}

}  // namespace
}  // namespace ztgate::audit
