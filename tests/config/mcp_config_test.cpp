// The `mcp` section of ztgate.yaml (config/mcp_config.h): defaults from
// gateway.public_url and the data dir, servers over HTTP or stdio, per-tool
// settings, and the refusals with their key paths.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/gateway_config.h"

namespace ztgate::config {
namespace {

class McpConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ztgate-mcpcfg-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    ::setenv("ZTGATE_TEST_MCP_TOKEN", "mcp-token-1", 1);
    ::setenv("ZTGATE_TEST_PASSED", "passed-on", 1);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Result<GatewayConfig> load(const std::string& text) {
    auto path = (dir_ / "ztgate.yaml").string();
    std::ofstream(path) << text;
    return load_gateway_config(path);
  }
  static std::string message(const Result<GatewayConfig>& c) { return c ? std::string("(loaded)") : c.error().message; }
  std::filesystem::path dir_;
};

constexpr const char* kBase = "data_dir: data\ngateway: {public_url: 'https://gw.example.com/'}\n";

TEST_F(McpConfigTest, OffWithoutTheSection) {
  auto c = load(kBase);
  ASSERT_TRUE(c) << message(c);
  EXPECT_FALSE(c->mcp.enabled());
}

TEST_F(McpConfigTest, ServersAndDefaults) {
  auto c = load(std::string(kBase) + R"(mcp:
  catalog_ttl: 2s
  servers:
    - id: docs
      url: https://docs.internal/mcp
      token_env: ZTGATE_TEST_MCP_TOKEN
      defaults: {untrusted_output: false}
      tools:
        - {name: read_document, data_classification: confidential}
        - {name: send_email, sends_data: true, sensitivity: 3}
    - id: mail-2
      command: [node, server.mjs]
      env: ["A=1"]
      env_from: [ZTGATE_TEST_PASSED]
      cwd: tools
)");
  ASSERT_TRUE(c) << message(c);
  const McpSettings& m = c->mcp;
  EXPECT_TRUE(m.enabled());
  EXPECT_EQ(m.path, "/mcp");
  EXPECT_EQ(m.resource, "https://gw.example.com/mcp");
  EXPECT_EQ(m.audiences, (std::vector<std::string>{"https://gw.example.com/mcp", "ztgate"}));
  EXPECT_EQ(m.pins, (dir_ / "data" / "tool-pins.db").string());
  EXPECT_EQ(m.catalog_ttl_ms, 2000);
  ASSERT_EQ(m.servers.size(), 2u);
  EXPECT_EQ(m.servers[0].token, "mcp-token-1");
  EXPECT_FALSE(m.servers[0].defaults.untrusted_output);
  ASSERT_EQ(m.servers[0].tools.size(), 2u);
  EXPECT_FALSE(m.servers[0].tools[0].untrusted_output);  // the server's defaults carry over
  EXPECT_EQ(m.rank_of(m.servers[0].tools[0].data_classification), 2);
  EXPECT_TRUE(m.servers[0].tools[1].sends_data);
  EXPECT_EQ(m.servers[0].tools[1].sensitivity, 3);
  EXPECT_EQ(m.servers[1].command, (std::vector<std::string>{"node", "server.mjs"}));
  EXPECT_EQ(m.servers[1].env, (std::vector<std::string>{"A=1", "ZTGATE_TEST_PASSED=passed-on"}));
  EXPECT_EQ(m.servers[1].cwd, (dir_ / "tools").string());
}

TEST_F(McpConfigTest, Refusals) {
  struct Case {
    const char* yaml;
    const char* error;
  } cases[] = {
      {"mcp: {servers: [{id: docs}]}", "give a url (Streamable HTTP) or a command (stdio), exactly one"},
      {"mcp: {servers: [{id: docs, url: 'http://a/mcp', command: [x]}]}", "exactly one"},
      {"mcp: {servers: [{id: my_docs, url: 'http://a/mcp'}]}", "`mcp.servers[0].id`"},
      {"mcp: {servers: [{id: a, url: 'ftp://a/mcp'}]}", "must be an http:// or https:// URL"},
      {"mcp: {servers: [{id: a, url: 'http://u:p@a/mcp'}]}", "without credentials"},
      {"mcp: {servers: [{id: a, url: 'http://a/'}, {id: a, url: 'http://b/'}]}", "listed twice"},
      {"mcp: {servers: [{id: a, url: 'http://a/', tools: [{name: t, data_classification: secret}]}]}",
       "must be one of mcp.classifications"},
      {"mcp: {servers: [{id: a, url: 'http://a/', token_env: ZTGATE_TEST_NOT_SET}]}", "is not set"},
      {"mcp: {servers: [{id: a, command: [x], env: ['NOEQUALS']}]}", "entries are KEY=value"},
      {"mcp: {servers: [{id: a, url: 'http://a/', tools: [{name: t, sensitivity: 9}]}]}", "sensitivity"},
      {"mcp: {path: mcp}", "must be a path starting with /"},
      {"mcp: {servers: [{id: a, url: 'http://a/', colour: blue}]}", "`mcp.servers[0].colour`"},
  };
  for (const auto& k : cases) {
    auto c = load(std::string(kBase) + k.yaml + "\n");
    ASSERT_FALSE(c) << k.yaml;
    EXPECT_NE(c.error().message.find(k.error), std::string::npos) << k.yaml << " -> " << c.error().message;
  }
}

}  // namespace
}  // namespace ztgate::config
