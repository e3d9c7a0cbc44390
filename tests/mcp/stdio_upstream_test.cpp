// The stdio upstream against a real child process: a small Python MCP server
// written to a temporary directory. It initializes (and refuses a protocol
// version it does not know), calls and answers the server's own requests
// (ping answered, sampling refused), gives the child exactly the configured
// environment, times out a call that gets no answer, fails the calls in
// flight when the child dies and starts it again after the backoff, and a
// child that closes its stdin cannot take the gateway down with SIGPIPE.
#include "mcp/stdio_upstream.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <thread>

namespace ztgate::mcp {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Newline-delimited JSON-RPC on stdin/stdout. Methods:
//   initialize     answers with $MCP_TEST_VERSION (default 2025-06-18)
//   tools/list     two tools
//   tools/call     first sends a notification and two requests of its own
//                  (ping, sampling/createMessage), waits for their answers
//                  and returns them with the arguments
//   state          whether notifications/initialized arrived
//   env            its whole environment
//   pid            its process id
//   crash          exits at once
//   slow           never answers
//   close_stdin    answers, closes its stdin and keeps running
constexpr const char* kServer = R"PY(
import json, os, sys, time

def send(o):
    sys.stdout.write(json.dumps(o) + "\n")
    sys.stdout.flush()

def read():
    line = sys.stdin.readline()
    if not line:
        sys.exit(0)
    line = line.strip()
    return json.loads(line) if line else None

def result(mid, r):
    send({"jsonrpc": "2.0", "id": mid, "result": r})

version = os.environ.get("MCP_TEST_VERSION", "2025-06-18")
initialized = False
pending = []
sys.stdout.write("noise that is not JSON-RPC\n")
sys.stdout.flush()
while True:
    m = pending.pop(0) if pending else read()
    if not isinstance(m, dict) or "method" not in m:
        continue
    method, mid = m["method"], m.get("id")
    if mid is None:
        if method == "notifications/initialized":
            initialized = True
        continue
    if method == "initialize":
        result(mid, {"protocolVersion": version, "capabilities": {"tools": {}},
                     "serverInfo": {"name": "test-stdio", "version": "1.0"}})
    elif method == "tools/list":
        result(mid, {"tools": [{"name": "echo", "inputSchema": {"type": "object"}},
                               {"name": "add", "inputSchema": {"type": "object"}}]})
    elif method == "tools/call":
        send({"jsonrpc": "2.0", "method": "notifications/progress",
              "params": {"progressToken": 1, "progress": 0.5}})
        send({"jsonrpc": "2.0", "id": "srv-ping", "method": "ping"})
        send({"jsonrpc": "2.0", "id": "srv-sample", "method": "sampling/createMessage", "params": {}})
        answers = {}
        while len(answers) < 2:
            r = read()
            if isinstance(r, dict) and "method" in r:
                pending.append(r)
            elif isinstance(r, dict):
                answers[r.get("id")] = r
        result(mid, {"content": [{"type": "text", "text": "ok"}],
                     "arguments": m.get("params", {}).get("arguments", {}),
                     "ping": answers.get("srv-ping"), "sampling": answers.get("srv-sample")})
    elif method == "state":
        result(mid, {"initialized": initialized})
    elif method == "env":
        result(mid, {"env": dict(os.environ)})
    elif method == "pid":
        result(mid, {"pid": os.getpid()})
    elif method == "crash":
        os._exit(3)
    elif method == "slow":
        pass
    elif method == "close_stdin":
        result(mid, {})
        os.close(0)
        time.sleep(3600)
    else:
        send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": "no such method"}})
)PY";

// The Python interpreter itself: `python3` on PATH may be a wrapper (pyenv's
// shim is a shell script that adds its own variables to the environment).
std::string python() {
  static const std::string path = [] {
    std::string out;
    if (FILE* p = ::popen("python3 -c 'import sys; print(sys.executable)'", "r")) {
      char buf[4096];
      while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
      ::pclose(p);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out.empty() ? std::string("python3") : out;
  }();
  return path;
}

class StdioUpstreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ztgate-mcp-stdio-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "server.py") << kServer;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  StdioOptions options() const {
    StdioOptions o;
    o.id = "pyserver";
    o.argv = {python(), (dir_ / "server.py").string()};
    o.min_backoff = milliseconds(300);
    o.max_backoff = milliseconds(1000);
    return o;
  }

  static json::object call_ok(Upstream& up, std::string_view method, const json::object& params = {},
                              milliseconds timeout = milliseconds(10'000)) {
    auto r = up.call(method, params, timeout, nullptr);
    EXPECT_TRUE(r) << method << ": " << r.error().code << ": " << r.error().message;
    if (!r) return {};
    EXPECT_EQ(r->kind, MessageKind::kResult) << method;
    return r->result.is_object() ? r->result.as_object() : json::object{};
  }

  static int64_t pid_of(Upstream& up) {
    auto r = call_ok(up, "pid");
    return r.contains("pid") ? r.at("pid").to_number<int64_t>() : -1;
  }

  std::filesystem::path dir_;
};

TEST_F(StdioUpstreamTest, InitializesThenCalls) {
  auto up = make_stdio_upstream(options());
  EXPECT_EQ(up->id(), "pyserver");
  auto init = up->initialize_result(milliseconds(10'000));
  ASSERT_TRUE(init) << init.error().message;
  EXPECT_EQ(init->at("protocolVersion"), "2025-06-18");
  EXPECT_EQ(init->at("serverInfo").at("name"), "test-stdio");

  auto tools = call_ok(*up, "tools/list");
  ASSERT_TRUE(tools.contains("tools"));
  EXPECT_EQ(tools.at("tools").as_array().size(), 2u);
  EXPECT_EQ(call_ok(*up, "state").at("initialized"), true);  // notifications/initialized was sent

  // An error answer is a value, not a failure.
  auto r = up->call("no/such/method", {}, milliseconds(10'000), nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, MessageKind::kError);
  EXPECT_EQ(r->error.at("code"), kMethodNotFound);
}

TEST_F(StdioUpstreamTest, AnswersTheServersRequestsDuringACall) {
  auto up = make_stdio_upstream(options());
  std::vector<std::string> seen;
  json::object params{{"name", "echo"}, {"arguments", json::object{{"text", "hi"}}}};
  auto r = up->call("tools/call", params, milliseconds(10'000),
                    [&seen](std::string_view text) { seen.emplace_back(text); });
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->kind, MessageKind::kResult);
  const json::object& result = r->result.as_object();
  EXPECT_EQ(result.at("arguments").at("text"), "hi");
  // ping is answered with an empty result; sampling is refused.
  EXPECT_EQ(result.at("ping"), json::parse(R"({"jsonrpc":"2.0","id":"srv-ping","result":{}})"));
  EXPECT_EQ(result.at("sampling").at("error").at("code"), kMethodNotFound);
  // The observer saw the response.
  ASSERT_FALSE(seen.empty());
  EXPECT_NE(seen.back().find("\"srv-ping\""), std::string::npos);
}

TEST_F(StdioUpstreamTest, TheChildGetsOnlyTheConfiguredEnvironment) {
  ::setenv("ZTGATE_TEST_STDIO_SECRET", "hunter2", 1);
  auto o = options();
  o.env = {{"DOCS_ROOT", "/srv/docs"}, {"MODE", "read only"}};
  auto up = make_stdio_upstream(o);
  auto r = call_ok(*up, "env");
  ::unsetenv("ZTGATE_TEST_STDIO_SECRET");
  ASSERT_TRUE(r.contains("env"));
  json::object env = r.at("env").as_object();
  EXPECT_FALSE(env.contains("ZTGATE_TEST_STDIO_SECRET"));
  EXPECT_EQ(env.at("DOCS_ROOT"), "/srv/docs");
  EXPECT_EQ(env.at("MODE"), "read only");
  EXPECT_EQ(env.at("PATH"), "/usr/local/bin:/usr/bin:/bin");
  env.erase("LC_CTYPE");  // Python's own locale coercion (PEP 538) may add it
  std::set<std::string> keys;
  for (const auto& kv : env) keys.insert(std::string(kv.key()));
  EXPECT_EQ(keys, (std::set<std::string>{"DOCS_ROOT", "MODE", "PATH"}));
  EXPECT_EQ(json::serialize(r).find("hunter2"), std::string::npos);
}

TEST_F(StdioUpstreamTest, AConfiguredPathIsKept) {
  auto o = options();
  o.env = {{"PATH", "/usr/bin:/bin"}};
  auto up = make_stdio_upstream(o);
  auto r = call_ok(*up, "env");
  ASSERT_TRUE(r.contains("env"));
  EXPECT_EQ(r.at("env").at("PATH"), "/usr/bin:/bin");
}

TEST_F(StdioUpstreamTest, ACallWithoutAnswerTimesOutAndTheServerStaysUsable) {
  auto up = make_stdio_upstream(options());
  int64_t pid = pid_of(*up);
  auto start = Clock::now();
  auto r = up->call("slow", {}, milliseconds(300), nullptr);
  auto took = Clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "mcp_upstream_timeout");
  EXPECT_GE(took, milliseconds(290));
  EXPECT_LT(took, milliseconds(3000));
  EXPECT_EQ(pid_of(*up), pid);  // same process, still answering
}

TEST_F(StdioUpstreamTest, ConcurrentCallsGetTheirOwnAnswers) {
  auto up = make_stdio_upstream(options());
  int64_t pid = pid_of(*up);
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        json::object params{{"name", "echo"}, {"arguments", json::object{{"n", t * 100 + i}}}};
        auto r = up->call("tools/call", params, milliseconds(10'000), nullptr);
        if (r && r->kind == MessageKind::kResult && r->result.at("arguments").at("n") == t * 100 + i) ++good;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 40);
  EXPECT_EQ(pid_of(*up), pid);
}

TEST_F(StdioUpstreamTest, ACrashFailsTheCallsInFlightAndTheNextCallAfterTheBackoffRestarts) {
  auto up = make_stdio_upstream(options());
  int64_t first = pid_of(*up);
  ASSERT_GT(first, 0);
  // A call waiting for its answer learns at once that the process is gone.
  auto in_flight = std::async(std::launch::async, [&] {
    auto start = Clock::now();
    auto r = up->call("slow", {}, milliseconds(20'000), nullptr);
    return std::pair{std::move(r), Clock::now() - start};
  });
  std::this_thread::sleep_for(milliseconds(200));
  auto crashed = up->call("crash", {}, milliseconds(10'000), nullptr);
  ASSERT_FALSE(crashed);
  EXPECT_EQ(crashed.error().code, "mcp_upstream_unavailable");
  auto [slow, took] = in_flight.get();
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code, "mcp_upstream_unavailable");
  EXPECT_LT(took, milliseconds(10'000));

  // Within the backoff: no restart.
  auto early = up->call("pid", {}, milliseconds(10'000), nullptr);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, "mcp_upstream_unavailable");
  // After it: a new process, initialized again.
  std::this_thread::sleep_for(milliseconds(400));
  int64_t second = pid_of(*up);
  EXPECT_GT(second, 0);
  EXPECT_NE(second, first);
  EXPECT_EQ(call_ok(*up, "state").at("initialized"), true);
}

TEST_F(StdioUpstreamTest, AnUnsupportedProtocolVersionIsRefused) {
  auto o = options();
  o.env = {{"MCP_TEST_VERSION", "1999-01-01"}};
  auto up = make_stdio_upstream(o);
  auto r = up->call("tools/list", {}, milliseconds(10'000), nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "mcp_upstream_protocol");
  auto init = up->initialize_result(milliseconds(10'000));
  ASSERT_FALSE(init);  // still refused (or backing off), never half-initialized
  EXPECT_TRUE(init.error().code == "mcp_upstream_protocol" || init.error().code == "mcp_upstream_unavailable")
      << init.error().code;
}

TEST_F(StdioUpstreamTest, AProgramThatCannotStartIsUnavailable) {
  auto o = options();
  o.argv = {(dir_ / "no-such-program").string()};
  auto up = make_stdio_upstream(o);
  auto r = up->call("tools/list", {}, milliseconds(2000), nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "mcp_upstream_unavailable");
  o.argv.clear();
  auto none = make_stdio_upstream(o);
  r = none->call("tools/list", {}, milliseconds(2000), nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "mcp_upstream_unavailable");
}

TEST_F(StdioUpstreamTest, AChildThatClosesItsStdinDoesNotKillTheGateway) {
  // No SIG_IGN here: `ztgate serve` does not ignore SIGPIPE either.
  auto up = make_stdio_upstream(options());
  int64_t first = pid_of(*up);
  call_ok(*up, "close_stdin");
  std::this_thread::sleep_for(milliseconds(300));  // it closes stdin right after answering
  auto r = up->call("pid", {}, milliseconds(2000), nullptr);  // writes into a pipe nobody reads
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "mcp_upstream_unavailable");
  // The broken child is replaced after the backoff.
  std::this_thread::sleep_for(milliseconds(400));
  int64_t second = -1;
  for (int i = 0; i < 5 && second <= 0; ++i) {
    auto p = up->call("pid", {}, milliseconds(5000), nullptr);
    if (p && p->kind == MessageKind::kResult) second = p->result.at("pid").to_number<int64_t>();
    else std::this_thread::sleep_for(milliseconds(400));
  }
  EXPECT_GT(second, 0);
  EXPECT_NE(second, first);
}

}  // namespace
}  // namespace ztgate::mcp
