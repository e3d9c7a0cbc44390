// audit_record() (what one line says, and that credentials never appear in
// it) and AuditLog (flush, destruction, file mode, concurrent writers).
#include "pipeline/audit_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace ztgate::pipeline {
namespace {

namespace json = boost::json;

constexpr const char* kBearer = "zk_live_SECRET_BEARER_0123456789";
constexpr const char* kCertPem =
    "-----BEGIN CERTIFICATE-----\nMIIBSECRETCERTIFICATEBODYxyz\n-----END CERTIFICATE-----\n";
constexpr const char* kDevice = "eyJhbGciOiJFUzI1NiJ9.SECRET_DEVICE_ASSERTION.sig";

Exchange base_exchange() {
  Exchange x;
  x.request_id = "req-1";
  x.adapter = "openai";
  x.route = "/v1/chat/completions";
  x.remote = "127.0.0.1:5555";
  x.credentials = Credentials{kBearer, kCertPem, kDevice};
  authn::Identity id;
  id.principal = {"User", "alice"};
  id.authn.method = "api_key";
  x.identity = id;
  x.action = "invoke_model";
  x.resource = {"Model", "llama"};
  x.timings = {{"authenticate", 1000}, {"authorize", 2000}};
  return x;
}

json::object parse(const std::string& line) {
  EXPECT_EQ(line.find('\n'), std::string::npos) << "one line";
  json::value v = json::parse(line);
  EXPECT_TRUE(v.is_object());
  return v.as_object();
}

void expect_no_credentials(const std::string& line) {
  EXPECT_EQ(line.find("SECRET"), std::string::npos) << line;
  EXPECT_EQ(line.find(kBearer), std::string::npos) << line;
  EXPECT_EQ(line.find("BEGIN CERTIFICATE"), std::string::npos) << line;
  EXPECT_EQ(line.find(kDevice), std::string::npos) << line;
}

TEST(AuditRecord, AllowedForwardedExchange) {
  Exchange x = base_exchange();
  Verdict v;
  v.decision = cedar::Decision::kAllow;
  v.determining = {"policies.0"};
  v.names = {"engineers-may-invoke"};
  x.verdict = v;
  x.status = 200;
  x.upstream = "vllm";
  x.output_bytes = 1234;
  x.usage = {{"prompt_tokens", 10}, {"completion_tokens", 20}};
  std::string line = audit_record(x, 7);
  json::object r = parse(line);
  EXPECT_EQ(r.at("request_id"), "req-1");
  EXPECT_EQ(r.at("adapter"), "openai");
  EXPECT_EQ(r.at("route"), "/v1/chat/completions");
  EXPECT_EQ(r.at("remote"), "127.0.0.1:5555");
  EXPECT_EQ(r.at("principal"), "User::\"alice\"");
  EXPECT_EQ(r.at("authn"), "api_key");
  EXPECT_EQ(r.at("action"), "Action::\"invoke_model\"");
  EXPECT_EQ(r.at("resource"), "Model::\"llama\"");
  EXPECT_EQ(r.at("decision"), "allow");
  EXPECT_EQ(r.at("policies"), (json::array{"policies.0"}));
  EXPECT_EQ(r.at("policy_names"), (json::array{"engineers-may-invoke"}));
  EXPECT_EQ(r.at("cached"), false);
  EXPECT_EQ(r.at("enforced"), true);
  EXPECT_FALSE(r.contains("shadow"));
  EXPECT_EQ(r.at("status"), 200);
  EXPECT_FALSE(r.contains("error"));
  EXPECT_FALSE(r.contains("obligations"));
  EXPECT_FALSE(r.contains("chain"));
  EXPECT_EQ(r.at("upstream"), "vllm");
  EXPECT_EQ(r.at("output_bytes"), 1234);
  EXPECT_EQ(r.at("usage").as_object().at("completion_tokens"), 20);
  EXPECT_EQ(r.at("config_version"), 7);
  ASSERT_TRUE(r.at("time").is_string());
  std::string time(r.at("time").as_string());
  EXPECT_EQ(time.size(), 24u) << time;  // 2026-11-24T06:09:06.960Z
  EXPECT_EQ(time.back(), 'Z');
  expect_no_credentials(line);
}

TEST(AuditRecord, HostileIdentifiersStayOneValidJsonLine) {
  // Entity ids come from tokens and request bodies: quotes, backslashes,
  // newlines, control characters and UTF-8 must not break or forge the line.
  Exchange x = base_exchange();
  std::string id = std::string("al\"ice\\\n\r\t\b\f") + '\x01' + "\x7f \xc3\xa9\",\"decision\":\"allow";
  x.identity->principal.id = id;
  x.resource.id = id;
  std::string line = audit_record(x, 1);
  auto r = parse(line);
  authn::EntityRef user{"User", id}, model{"Model", id};
  EXPECT_EQ(r.at("principal").as_string(), user.to_cedar());
  EXPECT_EQ(r.at("resource").as_string(), model.to_cedar());
  EXPECT_FALSE(r.contains("decision"));  // no verdict: the forged member stayed inside a string
}

TEST(AuditRecord, DeniedExchangeWithObligationsAndErrorCode) {
  Exchange x = base_exchange();
  Verdict v;
  v.decision = cedar::Decision::kDeny;
  v.determining = {"policies.3"};
  v.errors = {{"policies.1", "attribute `tier` not found"}};
  v.obligations.on_deny = DenyObligation::kStepUp;
  v.cached = true;
  x.verdict = v;
  x.ending = Ending{401, "step_up_required", "authenticate more strongly", {}, ""};
  x.status = 401;
  std::string line = audit_record(x, 1);
  json::object r = parse(line);
  EXPECT_EQ(r.at("decision"), "deny");
  EXPECT_EQ(r.at("policies"), (json::array{"policies.3"}));
  EXPECT_FALSE(r.contains("policy_names"));
  ASSERT_TRUE(r.contains("policy_errors"));
  EXPECT_EQ(r.at("policy_errors").as_array().at(0).as_object().at("policy"), "policies.1");
  EXPECT_EQ(r.at("obligations").as_object().at("on_deny"), "step_up");
  EXPECT_EQ(r.at("cached"), true);
  EXPECT_EQ(r.at("enforced"), true);
  EXPECT_EQ(r.at("status"), 401);
  EXPECT_EQ(r.at("error"), "step_up_required");
  EXPECT_FALSE(r.contains("upstream"));
  EXPECT_FALSE(r.contains("output_bytes"));
  expect_no_credentials(line);
}

TEST(AuditRecord, RedactObligationsAreRecorded) {
  Exchange x = base_exchange();
  Verdict v;
  v.decision = cedar::Decision::kAllow;
  v.obligations.redact = {"pii", "secrets"};
  x.verdict = v;
  x.ending = Ending{403, "obligation_unfulfillable", "", {}, ""};
  json::object r = parse(audit_record(x, 1));
  EXPECT_EQ(r.at("obligations").as_object().at("redact"), (json::array{"pii", "secrets"}));
  EXPECT_EQ(r.at("error"), "obligation_unfulfillable");
}

TEST(AuditRecord, DelegatedExchangeListsTheChainUserFirst) {
  Exchange x = base_exchange();
  x.identity->principal = {"Agent", "summarizer"};
  x.identity->authn.method = "delegation";
  x.chain = {{"User", "alice"}, {"Agent", "build-bot"}, {"Agent", "summarizer"}};
  x.verdict = Verdict{cedar::Decision::kAllow, {"policies.0"}, {}, {}, {}, false};
  x.status = 200;
  std::string line = audit_record(x, 1);
  json::object r = parse(line);
  EXPECT_EQ(r.at("principal"), "Agent::\"summarizer\"");
  EXPECT_EQ(r.at("authn"), "delegation");
  EXPECT_EQ(r.at("chain"),
            (json::array{"User::\"alice\"", "Agent::\"build-bot\"", "Agent::\"summarizer\""}));
  expect_no_credentials(line);
}

TEST(AuditRecord, ShadowedDenyIsNotEnforced) {
  Exchange x = base_exchange();
  x.shadow = true;
  x.enforced = false;
  x.verdict = Verdict{cedar::Decision::kDeny, {}, {}, {}, {}, false};
  x.status = 200;
  x.upstream = "vllm";
  std::string line = audit_record(x, 2);
  json::object r = parse(line);
  EXPECT_EQ(r.at("decision"), "deny");
  EXPECT_EQ(r.at("policies"), json::array{});
  EXPECT_EQ(r.at("enforced"), false);
  EXPECT_EQ(r.at("shadow"), true);
  EXPECT_EQ(r.at("status"), 200);
  EXPECT_FALSE(r.contains("error"));
  expect_no_credentials(line);
}

TEST(AuditRecord, UnauthenticatedMalformedExchangeHasNoDecision) {
  Exchange x;
  x.request_id = "r";
  x.adapter = "cedar";
  x.route = "/cedar/v1/is_authorized";
  x.credentials.bearer = kBearer;
  x.ending = Ending{401, "unauthenticated", "", {}, ""};
  x.status = 401;
  std::string line = audit_record(x, 1);
  json::object r = parse(line);
  EXPECT_FALSE(r.contains("principal"));
  EXPECT_FALSE(r.contains("decision"));
  EXPECT_FALSE(r.contains("action"));
  EXPECT_FALSE(r.contains("resource"));
  EXPECT_FALSE(r.contains("remote"));
  EXPECT_EQ(r.at("error"), "unauthenticated");
  expect_no_credentials(line);
}

TEST(AuditRecord, LatencyHasEveryStageAndTotal) {
  Exchange x = base_exchange();
  x.started = std::chrono::steady_clock::now() - std::chrono::milliseconds(5);
  x.timings.push_back({"forward", 3000});
  json::object r = parse(audit_record(x, 1));
  const json::object& l = r.at("latency_ns").as_object();
  EXPECT_EQ(l.at("authenticate"), 1000);
  EXPECT_EQ(l.at("authorize"), 2000);
  EXPECT_EQ(l.at("forward"), 3000);
  ASSERT_TRUE(l.at("total").is_int64());
  EXPECT_GE(l.at("total").as_int64(), 5'000'000);
  EXPECT_EQ(l.size(), 4u);
}

TEST(AuditRecord, DetailsAreCarried) {
  Exchange x = base_exchange();
  x.adapter = "authzen";
  x.details = {{"allowed", 2}, {"denied", 1}};
  json::object r = parse(audit_record(x, 1));
  EXPECT_EQ(r.at("details").as_object().at("allowed"), 2);
}

// ---------------------------------------------------------------- AuditLog

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ztgate-audit-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "audit.jsonl").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::vector<std::string> lines() const {
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  std::string content() const {
    std::ifstream in(path_);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(AuditLogTest, LinesAppearAfterFlush) {
  auto log = AuditLog::open(path_);
  ASSERT_TRUE(log) << log.error().message;
  (*log)->write(R"({"n":1})");
  (*log)->write(R"({"n":2})");
  EXPECT_TRUE((*log)->flush());
  EXPECT_EQ(content(), "{\"n\":1}\n{\"n\":2}\n");
  EXPECT_EQ((*log)->failures(), 0u);
}

TEST_F(AuditLogTest, LinesAppearAfterDestruction) {
  {
    auto log = AuditLog::open(path_);
    ASSERT_TRUE(log) << log.error().message;
    for (int i = 0; i < 100; ++i) (*log)->write("{\"n\":" + std::to_string(i) + "}");
  }
  auto got = lines();
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(got.front(), "{\"n\":0}");
  EXPECT_EQ(got.back(), "{\"n\":99}");
}

TEST_F(AuditLogTest, TheWriterThreadFlushesWithinTheInterval) {
  auto log = AuditLog::open(path_);
  ASSERT_TRUE(log) << log.error().message;
  (*log)->write(R"({"late":true})");
  for (int i = 0; i < 100 && content().empty(); ++i) std::this_thread::sleep_for(kFlushInterval / 5);
  EXPECT_EQ(content(), "{\"late\":true}\n");
}

TEST_F(AuditLogTest, FileIsCreated0600AndAppendedTo) {
  {
    auto log = AuditLog::open(path_);
    ASSERT_TRUE(log) << log.error().message;
    (*log)->write("{\"first\":1}");
  }
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  {
    auto log = AuditLog::open(path_);
    ASSERT_TRUE(log) << log.error().message;
    (*log)->write("{\"second\":2}");
  }
  EXPECT_EQ(lines(), (std::vector<std::string>{"{\"first\":1}", "{\"second\":2}"}));
}

TEST_F(AuditLogTest, OpenFailureIsAnError) {
  auto log = AuditLog::open((dir_ / "no" / "such" / "dir" / "a.jsonl").string());
  ASSERT_FALSE(log);
  EXPECT_EQ(log.error().code, "audit_open");
}

TEST_F(AuditLogTest, ConcurrentWritersProduceOnlyCompleteLinesAndLoseNone) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 4000;  // ~1.3 MB in all: crosses kFlushBytes many times
  const std::string padding(300, 'p');
  {
    auto log = AuditLog::open(path_);
    ASSERT_TRUE(log) << log.error().message;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          json::object o{{"t", t}, {"i", i}, {"pad", padding}};
          (*log)->write(json::serialize(o));
          if (i % 1000 == 0) (*log)->flush();
        }
      });
    for (auto& th : threads) th.join();
    EXPECT_EQ((*log)->failures(), 0u);
  }
  auto got = lines();
  ASSERT_EQ(got.size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<std::pair<int64_t, int64_t>> seen;
  std::vector<int64_t> last(kThreads, -1);
  for (const auto& l : got) {
    boost::system::error_code ec;
    json::value v = json::parse(l, ec);
    ASSERT_FALSE(ec) << "not a complete JSON line: " << l.substr(0, 80);
    int64_t t = v.at("t").as_int64(), i = v.at("i").as_int64();
    EXPECT_TRUE(seen.insert({t, i}).second);
    EXPECT_GT(i, last[t]) << "a thread's lines stay in order";
    last[t] = i;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace ztgate::pipeline
