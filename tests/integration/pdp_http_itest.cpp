// The real `ztgate serve` over TCP: an independent Node AuthZEN client replays
// the AuthZEN interop todo decisions; error paths, limits and draining.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>

#include <chrono>
#include <thread>

#include "audit_records.h"
#include "child_process.h"
#include "itest_support.h"
#include "raw_http.h"

namespace ztgate {
namespace {

namespace json = boost::json;
using itest::http;
using itest::post;
using itest::run_process;

class PdpHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = itest::fresh_work_dir("pdp");
    std::string todo = std::string(ZTGATE_SOURCE_DIR) + "/tests/gateway/authzen_todo";
    itest::write_file(dir_ / "ztgate.yaml", "data_dir: data\n"
                      "gateway: { public_url: \"https://pdp.example.test\" }\n"
                      "listeners: [ { address: 127.0.0.1, port: 0 } ]\n"
                      "limits: { max_body_bytes: 65536, drain_timeout: 5s, request_timeout: 2s }\n"
                      "pdp: { authzen_legacy_properties: true }\n"
                      "policies:\n"
                      "  files: [" + todo + "/policies.cedar]\n"
                      "  entities: [" + todo + "/entities.json]\n");
    auto key = run_process({ZTGATE_BINARY, "keys", "create", "--data-dir", (dir_ / "data").string(), "--name", "app",
                            "--principal", "Service::\"todo-app\""});
    ASSERT_EQ(key.exit_code, 0) << key.output;
    std::string out = "\n" + key.output;
    size_t at = out.find("\nztg_");
    ASSERT_NE(at, std::string::npos);
    key_ = out.substr(at + 1, out.find('\n', at + 1) - at - 1);
    server_ = std::make_unique<itest::ChildProcess>(
        std::vector<std::string>{ZTGATE_BINARY, "serve", "--config", (dir_ / "ztgate.yaml").string()});
    std::string line = server_->wait_for_line("ztgate listening on ");
    port_ = std::stoi(line.substr(line.rfind(':') + 1));
  }

  std::filesystem::path dir_;
  std::string key_;
  std::unique_ptr<itest::ChildProcess> server_;
  int port_ = 0;
};

TEST_F(PdpHttpTest, IndependentClientGetsEveryExpectedTodoDecision) {
  for (const char* file : {"decisions.json", "decisions-authorization-api-1_0-00.json"}) {
    auto r = run_process({itest::node_executable(), std::string(ZTGATE_ITEST_NODE_DIR) + "/authzen_client.mjs",
                          "http://127.0.0.1:" + std::to_string(port_), key_,
                          std::string(ZTGATE_SOURCE_DIR) + "/tests/gateway/authzen_todo/" + file});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto v = json::parse(r.output).as_object();
    EXPECT_EQ(v.at("total").as_int64(), 40) << file;
    EXPECT_EQ(v.at("matched").as_int64(), 40) << file << ": " << r.output;
    EXPECT_EQ(v.at("batch_matched").as_int64(), 40) << file;
  }
}

TEST_F(PdpHttpTest, ErrorsAreStableJsonWithARequestId) {
  const std::string eval = R"({"subject":{"type":"user","id":"rick@the-citadel.com"},"action":{"name":"can_read_user"},"resource":{"type":"user","id":"x"}})";
  auto unauth = http(port_, post("/access/v1/evaluation", eval, ""));
  EXPECT_NE(unauth.find("HTTP/1.1 401"), std::string::npos) << unauth;
  EXPECT_NE(unauth.find("\"code\":\"unauthenticated\""), std::string::npos);
  EXPECT_NE(unauth.find("\"request_id\":\""), std::string::npos);
  auto bad_key = http(port_, post("/access/v1/evaluation", eval, "ztg_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
  EXPECT_NE(bad_key.find("HTTP/1.1 401"), std::string::npos) << bad_key;
  EXPECT_NE(bad_key.find("api_key_invalid"), std::string::npos);
  auto malformed = http(port_, post("/access/v1/evaluation", "{not json", key_));
  EXPECT_NE(malformed.find("HTTP/1.1 400"), std::string::npos) << malformed;
  EXPECT_NE(malformed.find("authzen_invalid"), std::string::npos);
  auto too_big = http(port_, post("/access/v1/evaluation", std::string(70000, ' '), key_));
  EXPECT_NE(too_big.find("HTTP/1.1 413"), std::string::npos) << too_big.substr(0, 200);
  EXPECT_NE(too_big.find("body_too_large"), std::string::npos);
  auto garbage = http(port_, "BLAH\r\n\r\n");
  EXPECT_NE(garbage.find("HTTP/1.1 400"), std::string::npos) << garbage;
  auto missing = http(port_, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(missing.find("HTTP/1.1 404"), std::string::npos);
  auto wrong_method = http(port_, "GET /access/v1/evaluation HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(wrong_method.find("HTTP/1.1 405"), std::string::npos);
  // The server is still healthy after all of that.
  auto health = http(port_, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(health.find("{\"status\":\"ok\"}"), std::string::npos) << health;
  auto metrics = http(port_, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(metrics.find("ztgate_http_requests_total{route=\"/access/v1/evaluation\",status=\"401\"}"),
            std::string::npos) << metrics;
}

std::string request_id_of(const std::string& raw) {
  size_t at = raw.find("\"request_id\":\"");
  if (at == std::string::npos) return "";
  at += 14;
  return raw.substr(at, raw.find('"', at) - at);
}

// A slow request (slowloris: the header or the body never completes) gets
// 408 within request_timeout, not a silent close; every request the server
// answers itself (408, 413, 400) leaves an audit record with its code.
TEST_F(PdpHttpTest, SlowRequestsGet408AndRequestsTheServerRefusesAreAudited) {
  auto start = std::chrono::steady_clock::now();
  auto slow_header = http(port_, "POST /access/v1/evaluation HTTP/1.1\r\nHost: x\r\nX-Request-Id: slow-header-1\r\n");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_NE(slow_header.find("HTTP/1.1 408"), std::string::npos) << slow_header;
  EXPECT_NE(slow_header.find("\"code\":\"request_timeout\""), std::string::npos) << slow_header;
  EXPECT_NE(slow_header.find("Connection: close"), std::string::npos) << slow_header;
  EXPECT_GE(took, std::chrono::milliseconds(1900));
  EXPECT_LT(took, std::chrono::seconds(6));

  auto slow_body = http(port_, "POST /access/v1/evaluation HTTP/1.1\r\nHost: x\r\nX-Request-Id: slow-body-1\r\n"
                               "Content-Length: 100\r\n\r\n{\"subject\":");
  EXPECT_NE(slow_body.find("HTTP/1.1 408"), std::string::npos) << slow_body;
  EXPECT_EQ(request_id_of(slow_body), "slow-body-1");

  auto too_big = http(port_, post("/access/v1/evaluation", std::string(70000, ' '), key_));
  auto garbage = http(port_, "BLAH\r\n\r\n");
  const auto store = dir_ / "data" / "audit.db";
  for (const auto& [raw, code] : std::vector<std::pair<std::string, std::string>>{
           {slow_header, "request_timeout"}, {slow_body, "request_timeout"}, {too_big, "body_too_large"}, {garbage, "bad_request"}}) {
    std::string id = request_id_of(raw);
    ASSERT_FALSE(id.empty()) << raw;
    auto record = itest::audit_record_where(store, "_request_id", id);
    ASSERT_FALSE(record.empty()) << "no audit record for " << code;
    EXPECT_EQ(itest::member_at(record, "status_detail"), json::value(code)) << json::serialize(record);
  }
  auto timed_out = itest::audit_record_where(store, "_request_id", "slow-body-1");
  EXPECT_EQ(timed_out.at("_route"), "/access/v1/evaluation");
  EXPECT_EQ(itest::member_at(timed_out, "http_response.code"), 408) << json::serialize(timed_out);

  // An idle connection that never sends a byte is closed without an answer.
  auto idle = http(port_, "");
  EXPECT_EQ(idle, "");
}

TEST_F(PdpHttpTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  std::string two = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  auto out = http(port_, two);
  EXPECT_NE(out.find("{\"status\":\"ok\"}"), std::string::npos) << out;
  EXPECT_NE(out.find("\"status\":\"ready\""), std::string::npos) << out;
}

TEST_F(PdpHttpTest, SigtermDrainsAndExitsCleanly) {
  // An idle keep-alive connection must not hold the shutdown.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  auto start = std::chrono::steady_clock::now();
  int code = server_->terminate_and_wait();
  auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_EQ(code, 0);
  EXPECT_LT(took, std::chrono::seconds(4));
}

}  // namespace
}  // namespace ztgate
