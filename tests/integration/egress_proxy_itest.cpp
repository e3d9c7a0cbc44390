// The egress forward proxy end to end: the real `ztgate serve` with an
// egress listener, driven by curl (-x / HTTPS_PROXY, CONNECT and
// absolute-form) and by a Node HTTP client with its own proxy agent
// (tests/integration/node/egress_client.mjs). Destinations are Node servers
// (egress_upstream.mjs): the "lab" on 127.0.0.77 (plain and TLS), the only
// allow-listed address, and a "secret" server on 127.0.0.1 that an SSRF
// would reach. Shows: allowed host (plain, TLS through CONNECT, HTTPS_PROXY),
// denied host, 407 without credentials, every form of
// tests/egress/ssrf_bypass_forms.txt denied (curl and Node, absolute-form
// and CONNECT) with the secret never leaking, a redirect to a private
// address re-decided and denied, hop-by-hop headers stripped, and the audit
// records (dst_endpoint, tunnel bytes, denials), and a delegated task's
// destinations fed into its session facts.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>
#include <memory>

#include "audit_records.h"
#include "child_process.h"
#include "itest_support.h"
#include "raw_http.h"

namespace ztgate {
namespace {

namespace json = boost::json;
using itest::run_process;

constexpr const char* kSecret = "TOP-SECRET-7f3a91";

constexpr const char* kPolicies = R"(
// Agents reach the lab, and nothing else.
@id("agents-reach-the-lab")
permit (principal in Group::"agents", action == Action::"egress", resource in Zone::"lab");

// The "wild" workload may go anywhere policy-wise: what stops it from
// reaching loopback, private and metadata addresses is the SSRF floor.
@id("wild-goes-anywhere")
permit (principal == Service::"wild", action == Action::"egress", resource);

// Session facts: a task that has reached the lab once may not open a second
// tunnel (context.session exists only for exchanges of a delegated task).
@id("one-tunnel-per-task")
forbid (principal, action == Action::"egress", resource)
when { context has session && context.session.destinations.contains("127.0.0.77") &&
       context.destination.scheme == "tunnel" };
)";

constexpr const char* kEntities = R"([
  {"uid":{"type":"Service","id":"agent"},"attrs":{},"parents":[{"type":"Group","id":"agents"}]},
  {"uid":{"type":"Service","id":"wild"},"attrs":{},"parents":[]},
  {"uid":{"type":"Group","id":"agents"},"attrs":{},"parents":[]}
])";

class EgressProxyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = itest::fresh_work_dir("egress_proxy");
    auto cert = run_process({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                             "-keyout", (dir_ / "lab.key").string(), "-out", (dir_ / "lab.pem").string(), "-days", "2",
                             "-subj", "/CN=lab", "-addext", "subjectAltName=IP:127.0.0.77"});
    ASSERT_EQ(cert.exit_code, 0) << cert.output;
    lab_ = new itest::ChildProcess({itest::node_executable(), node("egress_upstream.mjs"), "--host", "127.0.0.77",
                                    "--tls-cert", (dir_ / "lab.pem").string(), "--tls-key", (dir_ / "lab.key").string()});
    auto ports = json::parse("{" + lab_->wait_for_line("{")).as_object();
    lab_port_ = static_cast<int>(ports.at("port").as_int64());
    lab_tls_port_ = static_cast<int>(ports.at("tls_port").as_int64());
    secret_ = new itest::ChildProcess(
        {itest::node_executable(), node("egress_upstream.mjs"), "--host", "127.0.0.1", "--secret", kSecret});
    secret_port_ = static_cast<int>(json::parse("{" + secret_->wait_for_line("{")).as_object().at("port").as_int64());

    // npm jose: the users' and the agents' IdPs (tokens for delegations).
    auto idps = run_process({itest::node_executable(), node("delegation_peer.mjs"), "setup", dir_.string()});
    ASSERT_EQ(idps.exit_code, 0) << idps.output;
    itest::write_file(dir_ / "policies.cedar", kPolicies);
    itest::write_file(dir_ / "entities.json", kEntities);
    itest::write_file(dir_ / "ztgate.yaml",
                      "data_dir: data\n"
                      "listeners: [ { address: 127.0.0.1, port: 0 } ]\n"
                      "egress:\n"
                      "  listener: { address: 127.0.0.1, port: 0 }\n"
                      "  allow_addresses: [127.0.0.77/32]\n"
                      "  zones:\n"
                      "    - { name: lab, hosts: [127.0.0.77] }\n"
                      "  timeouts: { resolve: 2s, connect: 2s, idle: 5s }\n"
                      "policies:\n"
                      "  files: [policies.cedar]\n"
                      "  entities: [entities.json]\n"
                      "gateway: { issuer: \"urn:ztgate:itest\", audience: ztgate }\n"
                      "identity:\n"
                      "  issuers:\n"
                      "    - { id: corp, issuer: https://idp.test, audience: ztgate-api, jwks_file: users.jwks.json,\n"
                      "        algorithms: [ES256] }\n"
                      "    - { id: agents, issuer: https://agents.test, audience: ztgate, jwks_file: agents.jwks.json,\n"
                      "        claims: { user_type: Agent } }\n"
                      "  agents:\n"
                      "    - { id: build-bot, max_scopes: [docs:read], groups: [agents] }\n");
    agent_key_ = create_key("Service::\"agent\"");
    wild_key_ = create_key("Service::\"wild\"");
    server_ = new itest::ChildProcess({ZTGATE_BINARY, "serve", "--config", (dir_ / "ztgate.yaml").string()});
    std::string line = server_->wait_for_line("ztgate egress proxy listening on http://");
    proxy_ = line;  // 127.0.0.1:PORT
  }
  static void TearDownTestSuite() {
    delete server_;
    delete lab_;
    delete secret_;
  }

  static std::string node(const std::string& script) { return std::string(ZTGATE_ITEST_NODE_DIR) + "/" + script; }

  static std::string create_key(const std::string& principal) {
    auto r = run_process({ZTGATE_BINARY, "keys", "create", "--data-dir", (dir_ / "data").string(), "--name", "k",
                          "--principal", principal});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    size_t at = ("\n" + r.output).find("\nztg_");
    if (at == std::string::npos) throw std::runtime_error("no key in: " + r.output);
    std::string key = r.output.substr(at);
    return key.substr(0, key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"));
  }

  static std::string lab(const std::string& path) { return "http://127.0.0.77:" + std::to_string(lab_port_) + path; }
  static std::string lab_tls(const std::string& path) {
    return "https://127.0.0.77:" + std::to_string(lab_tls_port_) + path;
  }

  struct Curl {
    int exit_code;
    int status;   // %{http_code}
    int connect;  // %{http_connect}: the proxy's answer to CONNECT
    std::string body;
    std::string headers;
  };
  // curl through the proxy; `extra` before the URL. The body and the
  // headers come back through files.
  static Curl curl(std::vector<std::string> extra, const std::string& url, const std::string& key = "",
                   bool via_env = false) {
    static int n = 0;
    auto body = dir_ / ("curl-body-" + std::to_string(++n));
    auto headers = dir_ / ("curl-headers-" + std::to_string(n));
    std::vector<std::string> argv;
    if (via_env) {
      // HTTPS_PROXY / HTTP_PROXY with the credential in the proxy URL, as workloads are configured.
      argv = {"env", "-u", "http_proxy", "-u", "https_proxy", "-u", "NO_PROXY", "-u", "no_proxy",
              "HTTPS_PROXY=http://agent:" + key + "@" + proxy_, "HTTP_PROXY=http://agent:" + key + "@" + proxy_,
              "curl"};
    } else {
      argv = {"curl", "-x", "http://" + proxy_};
      if (!key.empty()) argv.insert(argv.end(), {"-U", "agent:" + key});
    }
    argv.insert(argv.end(), {"-sS", "--max-time", "15", "-o", body.string(), "-D", headers.string(), "-w",
                             "%{http_code} %{http_connect}"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    auto r = run_process(argv, std::chrono::seconds(30));
    Curl c{r.exit_code, 0, 0, "", ""};
    std::sscanf(r.output.substr(r.output.rfind('\n') == std::string::npos ? 0 : r.output.rfind('\n') + 1).c_str(),
                "%d %d", &c.status, &c.connect);
    if (std::filesystem::exists(body)) c.body = itest::read_file(body);
    if (std::filesystem::exists(headers)) c.headers = itest::read_file(headers);
    return c;
  }

  static json::value node_client(const std::vector<std::string>& args) {
    std::vector<std::string> argv{itest::node_executable(), node("egress_client.mjs"), "--proxy", proxy_};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv, std::chrono::seconds(300));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return json::parse(r.output.substr(r.output.find_first_of("[{")));
  }

  static std::string error_code(const std::string& body) {
    std::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("error")) return "(not a ztgate error) " + body.substr(0, 120);
    return std::string(v.at("error").at("code").as_string());
  }

  static std::vector<std::pair<std::string, std::string>> bypass_forms() {
    std::ifstream in(std::string(ZTGATE_SOURCE_DIR) + "/tests/egress/ssrf_bypass_forms.txt");
    std::vector<std::pair<std::string, std::string>> out;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      size_t sep = line.find("  # ");
      std::string url = line.substr(0, sep);
      for (size_t at; (at = url.find("{port}")) != std::string::npos;) url.replace(at, 6, std::to_string(secret_port_));
      out.emplace_back(url, line.substr(sep + 4));
    }
    return out;
  }

  // The trail's records once `ready` holds for them (async records are
  // durable within the commit interval; up to 5 s here).
  template <class Ready>
  static std::vector<json::object> records(Ready ready) {
    std::vector<json::object> all;
    for (int attempt = 0; attempt < 50; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      all = itest::audit_records(dir_ / "data" / "audit.db");
      if (ready(all)) break;
    }
    return all;
  }
  // The completion record of the last tunnel to `port`, or null.
  static const json::object* last_tunnel(const std::vector<json::object>& all, int port) {
    const json::object* tunnel = nullptr;
    for (const auto& r : all) {
      const json::value* method =
          r.if_contains("http_request") ? r.at("http_request").as_object().if_contains("http_method") : nullptr;
      const json::value* details = r.at("unmapped").as_object().if_contains("details");
      const json::value* dst = r.if_contains("dst_endpoint");
      if (method && *method == "CONNECT" && details && details->as_object().contains("egress") && dst &&
          dst->as_object().contains("port") && dst->at("port") == port)
        tunnel = &r;
    }
    return tunnel;
  }

  static inline std::filesystem::path dir_;
  static inline itest::ChildProcess* lab_ = nullptr;
  static inline itest::ChildProcess* secret_ = nullptr;
  static inline itest::ChildProcess* server_ = nullptr;
  static inline int lab_port_ = 0, lab_tls_port_ = 0, secret_port_ = 0;
  static inline std::string proxy_, agent_key_, wild_key_;
};

TEST_F(EgressProxyTest, CurlReachesTheAllowedHostOverPlainHttp) {
  auto c = curl({}, lab("/hello"), agent_key_);
  EXPECT_EQ(c.exit_code, 0);
  EXPECT_EQ(c.status, 200);
  EXPECT_EQ(c.body, "hello from the lab");
}

TEST_F(EgressProxyTest, CurlReachesTheAllowedHostOverTlsThroughConnect) {
  auto c = curl({"--cacert", (dir_ / "lab.pem").string()}, lab_tls("/hello"), agent_key_);
  EXPECT_EQ(c.exit_code, 0) << c.headers;
  EXPECT_EQ(c.connect, 200);
  EXPECT_EQ(c.status, 200);
  EXPECT_EQ(c.body, "hello from the lab");  // TLS end to end: the lab's own certificate verified
}

TEST_F(EgressProxyTest, CurlWithHttpsProxyInTheEnvironment) {
  auto c = curl({"--cacert", (dir_ / "lab.pem").string()}, lab_tls("/hello"), agent_key_, true);
  EXPECT_EQ(c.status, 200);
  EXPECT_EQ(c.body, "hello from the lab");
  auto plain = curl({}, lab("/hello"), agent_key_, true);
  EXPECT_EQ(plain.status, 200);
}

TEST_F(EgressProxyTest, CurlIsDeniedAHostOutsideItsZone) {
  auto c = curl({}, "http://127.0.0.1:" + std::to_string(secret_port_) + "/", agent_key_);
  EXPECT_EQ(c.status, 403);
  EXPECT_EQ(error_code(c.body), "forbidden");
  EXPECT_EQ(c.body.find(kSecret), std::string::npos);
  auto tunnel = curl({"-p"}, "http://127.0.0.1:" + std::to_string(secret_port_) + "/", agent_key_);
  EXPECT_EQ(tunnel.connect, 403);
  EXPECT_NE(tunnel.exit_code, 0);  // curl: CONNECT tunnel failed
}

TEST_F(EgressProxyTest, CurlWithoutCredentialsGets407) {
  auto c = curl({}, lab("/hello"));
  EXPECT_EQ(c.status, 407);
  EXPECT_EQ(error_code(c.body), "unauthenticated");
  EXPECT_NE(c.headers.find("proxy-authenticate: Basic realm=\"ztgate egress\""), std::string::npos) << c.headers;
  auto tunnel = curl({"--cacert", (dir_ / "lab.pem").string()}, lab_tls("/hello"));
  EXPECT_EQ(tunnel.connect, 407);
  auto wrong = curl({}, lab("/hello"), "ztg_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  EXPECT_EQ(wrong.status, 407);
  EXPECT_EQ(error_code(wrong.body), "api_key_invalid");
}

TEST_F(EgressProxyTest, ARedirectToAPrivateAddressIsANewDecisionAndDenied) {
  std::string target = "http://127.0.0.1:" + std::to_string(secret_port_) + "/secret";
  // Without -L: the proxy relays the 302, it does not follow it.
  auto once = curl({}, lab("/redirect?to=" + target), agent_key_);
  EXPECT_EQ(once.status, 302);
  EXPECT_NE(once.headers.find("ocation: " + target), std::string::npos) << once.headers;
  // curl follows: its second request goes through the proxy and is refused.
  auto followed = curl({"-L"}, lab("/redirect?to=" + target), agent_key_);
  EXPECT_EQ(followed.status, 403);
  EXPECT_EQ(followed.body.find(kSecret), std::string::npos);
  // Even for the workload policy lets go anywhere, the floor refuses it.
  auto wild = curl({"-L", "-U", "wild:" + wild_key_}, lab("/redirect?to=" + target));
  EXPECT_EQ(wild.status, 403);
  EXPECT_EQ(error_code(wild.body), "destination_forbidden");
  EXPECT_EQ(wild.body.find(kSecret), std::string::npos);
}

TEST_F(EgressProxyTest, HopByHopAndProxyHeadersAreNotForwarded) {
  auto c = curl({"-H", "Connection: close, X-Drop-Me", "-H", "X-Drop-Me: 1", "-H", "X-Keep-Me: 2", "-H",
                 "Proxy-Connection: keep-alive", "-H", "Host: evil.example"},
                lab("/echo"), agent_key_);
  ASSERT_EQ(c.status, 200) << c.body;
  auto echo = json::parse(c.body).as_object();
  auto& h = echo.at("headers").as_object();
  EXPECT_FALSE(h.contains("proxy-authorization"));
  EXPECT_FALSE(h.contains("proxy-connection"));
  EXPECT_FALSE(h.contains("x-drop-me"));
  EXPECT_EQ(h.at("x-keep-me"), "2");
  EXPECT_EQ(h.at("host"), json::value("127.0.0.77:" + std::to_string(lab_port_)));  // from the URL, not the client's Host
  EXPECT_EQ(echo.at("url"), "/echo");
}

TEST_F(EgressProxyTest, EverySsrfBypassFormIsDeniedThroughCurl) {
  auto forms = bypass_forms();
  ASSERT_GE(forms.size(), 30u);
  int sent = 0;
  for (const auto& [url, why] : forms) {
    for (bool tunnel : {false, true}) {
      std::vector<std::string> extra{"-U", "wild:" + wild_key_, "--path-as-is"};
      if (tunnel) extra.push_back("-p");
      auto c = curl(extra, url);
      SCOPED_TRACE(url + " (" + why + ")" + (tunnel ? " CONNECT" : " absolute-form"));
      EXPECT_EQ(c.body.find(kSecret), std::string::npos) << "the secret leaked";
      if (c.exit_code == 3 || c.exit_code == 6) continue;  // curl refused the URL itself: nothing was sent
      ++sent;
      int answer = tunnel ? c.connect : c.status;
      EXPECT_TRUE(answer == 400 || answer == 403) << "proxy answered " << answer << " (curl exit " << c.exit_code << ")";
    }
  }
  EXPECT_GE(sent, 100) << "curl sent too few of the forms to mean anything";
}

TEST_F(EgressProxyTest, EverySsrfBypassFormIsDeniedThroughANodeClient) {
  auto results = node_client({"--key", wild_key_, "--case", "forms", "--file",
                              std::string(ZTGATE_SOURCE_DIR) + "/tests/egress/ssrf_bypass_forms.txt", "--port",
                              std::to_string(secret_port_)});
  ASSERT_TRUE(results.is_array());
  EXPECT_EQ(results.as_array().size(), 2 * bypass_forms().size());
  for (const auto& r : results.as_array()) {
    const auto& o = r.as_object();
    std::string what = std::string(o.at("form").as_string()) + " " + std::string(o.at("mode").as_string());
    int64_t status = o.at("status").as_int64();
    EXPECT_TRUE(status == 400 || status == 403) << what << ": " << status << " " << o.at("body");
    EXPECT_EQ(std::string(o.at("body").as_string()).find(kSecret), std::string::npos) << what << ": the secret leaked";
  }
}

TEST_F(EgressProxyTest, NodeClientAllowedDeniedAndUnauthenticated) {
  auto tls = node_client({"--key", agent_key_, "--case", "fetch", "--url", lab_tls("/hello"), "--ca",
                          (dir_ / "lab.pem").string()});
  EXPECT_EQ(tls.at("connect"), 200);
  EXPECT_EQ(tls.at("status"), 200);
  EXPECT_EQ(tls.at("body"), "hello from the lab");
  auto plain = node_client({"--key", agent_key_, "--case", "fetch", "--url", lab("/hello")});
  EXPECT_EQ(plain.at("status"), 200);
  EXPECT_EQ(plain.at("body"), "hello from the lab");
  auto denied = node_client({"--key", agent_key_, "--case", "fetch", "--url",
                             "https://127.0.0.1:" + std::to_string(secret_port_) + "/"});
  EXPECT_EQ(denied.at("connect"), 403);
  auto anonymous = node_client({"--case", "fetch", "--url", lab("/hello")});
  EXPECT_EQ(anonymous.at("status"), 407);
  auto redirect = node_client({"--key", agent_key_, "--case", "fetch", "--url",
                               lab("/redirect?to=http://169.254.169.254/latest/meta-data/")});
  EXPECT_EQ(redirect.at("status"), 302);  // relayed, not followed
  auto follow = node_client({"--key", wild_key_, "--case", "fetch", "--url", "http://169.254.169.254/latest/meta-data/"});
  EXPECT_EQ(follow.at("status"), 403);
  EXPECT_EQ(error_code(std::string(follow.at("body").as_string())), "destination_forbidden");
}

TEST_F(EgressProxyTest, DecisionsAndTunnelsAreInTheAuditTrail) {
  auto c = curl({"--cacert", (dir_ / "lab.pem").string()}, lab_tls("/hello"), agent_key_);
  ASSERT_EQ(c.status, 200);
  auto d = curl({}, "http://169.254.169.254/latest/meta-data/", "");
  ASSERT_EQ(d.status, 407);
  // A policy allow the SSRF floor refuses (this test's own: ctest runs each
  // test in a process of its own).
  auto f = curl({}, "http://169.254.169.254/latest/meta-data/", wild_key_);
  ASSERT_EQ(f.status, 403);
  // The last tunnel to the lab: its completion record.
  auto all = records([](const std::vector<json::object>& rs) { return last_tunnel(rs, lab_tls_port_) != nullptr; });
  const json::object* tunnel = last_tunnel(all, lab_tls_port_);
  ASSERT_NE(tunnel, nullptr);
  EXPECT_EQ(tunnel->at("_decision"), "allow");
  EXPECT_EQ(tunnel->at("_route"), "egress");
  EXPECT_EQ(tunnel->at("dst_endpoint").at("ip"), "127.0.0.77");
  EXPECT_EQ(tunnel->at("dst_endpoint").at("port"), lab_tls_port_);
  EXPECT_EQ(tunnel->at("unmapped").at("resource"), "Host::\"127.0.0.77\"");
  EXPECT_EQ(tunnel->at("unmapped").at("principal"), "Service::\"agent\"");
  const auto& egress = tunnel->at("unmapped").at("details").at("egress").as_object();
  EXPECT_GT(egress.at("bytes_up").as_int64(), 200);   // a TLS ClientHello at least
  EXPECT_GT(egress.at("bytes_down").as_int64(), 500);  // the lab's certificate at least
  EXPECT_EQ(egress.at("end"), "closed");
  // Denials of the floor are denials in the trail.
  bool floor_denial = false;
  for (const auto& r : all)
    if (r.at("_decision") == "deny" && r.contains("status_detail") && r.at("status_detail") == "destination_forbidden")
      floor_denial = true;
  EXPECT_TRUE(floor_denial);
  for (const auto& r : all)
    EXPECT_EQ(json::serialize(r).find(agent_key_), std::string::npos) << "a proxy credential was recorded";
  auto verify = run_process({ZTGATE_BINARY, "audit", "verify", "--config", (dir_ / "ztgate.yaml").string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
}

// A delegation token works as the proxy credential, and the hosts a task
// reaches become its session facts: the task's second tunnel meets
// context.session.destinations; another task starts with none.
TEST_F(EgressProxyTest, TheHostsATaskReachedAreItsSessionDestinations) {
  auto task_token = [](const std::string& task) {
    auto r = run_process({ZTGATE_BINARY, "token", "exchange", "--subject-token", "@" + (dir_ / "alice.jwt").string(),
                          "--actor-token", "@" + (dir_ / "build-bot.jwt").string(), "--scope", "docs:read", "--task",
                          task, "--json", "--config", (dir_ / "ztgate.yaml").string()});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return std::string(json::parse(r.output).at("token").as_string());
  };
  std::string first = task_token("ticket-1");
  std::vector<std::string> tls{"--cacert", (dir_ / "lab.pem").string()};
  auto opened = curl(tls, lab_tls("/hello"), first);
  ASSERT_EQ(opened.connect, 200) << opened.body;
  EXPECT_EQ(opened.body, "hello from the lab");
  // The tunnel's completion is recorded once the proxy has seen it close.
  auto all = records([](const std::vector<json::object>& rs) { return last_tunnel(rs, lab_tls_port_) != nullptr; });
  const json::object* tunnel = last_tunnel(all, lab_tls_port_);
  ASSERT_NE(tunnel, nullptr);
  EXPECT_EQ(tunnel->at("delegation").at("uid"), "ticket-1") << json::serialize(*tunnel);
  EXPECT_EQ(json::serialize(tunnel->at("unmapped").at("chain")), R"(["User::\"alice\"","Agent::\"build-bot\""])");

  auto again = curl(tls, lab_tls("/hello"), first);
  EXPECT_EQ(again.connect, 403);
  auto plain = curl({}, lab("/hello"), first);  // not a tunnel: the policy lets it pass
  EXPECT_EQ(plain.status, 200);
  auto other = curl(tls, lab_tls("/hello"), task_token("ticket-2"));
  EXPECT_EQ(other.connect, 200);
  EXPECT_EQ(other.body, "hello from the lab");

  bool named = false;
  for (const auto& r : records([](const std::vector<json::object>& rs) {
         for (const auto& r : rs)
           if (r.contains("policy") && r.at("policy").at("name") == "one-tunnel-per-task") return true;
         return false;
       }))
    if (r.at("_decision") == "deny" && r.contains("policy") && r.at("policy").at("name") == "one-tunnel-per-task")
      named = true;
  EXPECT_TRUE(named) << "the denial names the session policy";
}

// One client connection, two requests 500 ms apart: the destination closed
// the kept upstream connection meanwhile (its keep-alive is 200 ms), and
// the proxy retries the second request on a fresh one.
TEST_F(EgressProxyTest, AKeptUpstreamConnectionTheDestinationClosedIsRetried) {
  int port = std::stoi(proxy_.substr(proxy_.rfind(':') + 1));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string request = "GET " + lab("/hello") + " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Bearer " + agent_key_ +
                        "\r\n\r\n";
  auto round = [&]() {
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string in;
    char buf[4096];
    // The whole answer: its body, and the last chunk when it is chunked.
    auto complete = [&in] {
      if (in.find("hello from the lab") == std::string::npos) return false;
      bool chunked = in.find("chunked") != std::string::npos;
      return !chunked || in.find("\r\n0\r\n\r\n") != std::string::npos;
    };
    while (!complete()) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
    }
    return in;
  };
  EXPECT_EQ(round().rfind("HTTP/1.1 200", 0), 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::string second = round();
  EXPECT_EQ(second.rfind("HTTP/1.1 200", 0), 0u) << second;
  ::close(fd);
}

}  // namespace
}  // namespace ztgate
