// An MCP server the gateway runs as a child process and talks to over its
// stdin/stdout (newline-delimited JSON-RPC, the MCP stdio transport).
//
// The child gets a clean environment: exactly `env` (plus PATH, when `env`
// does not set it, = /usr/local/bin:/usr/bin:/bin) — nothing the gateway
// inherited (no credentials, no proxy settings) reaches it. Its stderr goes
// to the gateway's stderr. The executable is looked up in the gateway's PATH.
//
// Restarted on failure: when the process exits (or its stdout closes, or a
// write to its stdin fails: it stopped reading, or a line was cut short),
// calls in flight fail with mcp_upstream_unavailable and the next call
// starts it again, no sooner than a backoff (1 s doubling to 30 s, reset
// after a minute of health). Requests the server sends the gateway
// (sampling, elicitation, roots) are answered "method not found"; ping is
// answered.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mcp/upstream.h"

namespace ztgate::mcp {

struct StdioOptions {
  std::string id;
  std::vector<std::string> argv;           // argv[0]: the program
  std::map<std::string, std::string> env;  // the child's whole environment
  std::string cwd;                         // "" = the gateway's
  std::chrono::milliseconds min_backoff{1000};
  std::chrono::milliseconds max_backoff{30'000};
};

std::unique_ptr<Upstream> make_stdio_upstream(StdioOptions options);

}  // namespace ztgate::mcp
