// An upstream MCP server over Streamable HTTP (MCP 2025-03-26 and later):
// every message is a POST to the server's endpoint; the answer is one JSON
// message or an SSE stream that ends with the response. The gateway keeps
// its own session there (Mcp-Session-Id, MCP-Protocol-Version) and
// re-initializes once when the server says the session is gone (404).
//
// The gateway's credential for the server (a static bearer token) goes in
// Authorization; the agent's credential never does. Connections are kept
// alive and pooled (up to max_idle_connections). https: chain verified
// against ca_file or the system store, the name checked, SNI, TLS 1.2+.
// Every connection's addresses come from `resolve` (egress policy).
#pragma once

#include <memory>
#include <string>

#include "mcp/upstream.h"

namespace ztgate::mcp {

struct HttpUpstreamOptions {
  std::string id;
  std::string url;      // http(s)://host[:port]/path
  std::string ca_file;  // https: trusted CAs ("" = the system's)
  std::string bearer;   // the gateway's token for this server ("" = none)
  std::chrono::milliseconds connect_timeout{5000};
  size_t max_idle_connections = 8;
  AddressResolver resolve;  // null: getaddrinfo, every address allowed
};

// Error code mcp_config when the URL is not one we accept.
Result<std::unique_ptr<Upstream>> make_http_upstream(HttpUpstreamOptions options);

}  // namespace ztgate::mcp
