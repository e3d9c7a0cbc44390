// An upstream MCP server as the gateway's client side sees it: Streamable
// HTTP (http_upstream.h) or a child process speaking JSON-RPC over stdio
// (stdio_upstream.h). The gateway is one MCP client per upstream server: it
// initializes its own session there with its own credential (the agent's
// token never leaves the gateway) and sends its own request ids.
//
// Thread-safe: calls may run concurrently. Each implementation initializes
// lazily (initialize + notifications/initialized) on the first call, and
// again when the server lost the session (HTTP 404 on a session) or the
// process was restarted.
//
// Error codes (stable):
//   mcp_upstream_unavailable  cannot connect / the process is not running
//   mcp_upstream_timeout      no response within the call's timeout
//   mcp_upstream_protocol     the answer is not MCP we accept
//   mcp_upstream_auth         the server refused the gateway's credential
//   mcp_upstream_refused      egress policy does not allow the server's address
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "mcp/jsonrpc.h"

namespace ztgate::mcp {

// Protocol versions the gateway speaks, newest first (to agents and upstreams).
inline constexpr std::string_view kProtocolVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};
bool supported_protocol_version(std::string_view v);

// Sees every message text the upstream sent while answering a call
// (notifications, then the response itself), as it arrives.
using MessageObserver = std::function<void(std::string_view text)>;

// Where to connect for a server ("http"/"https", host, port): the addresses
// (IP literals) that were checked against egress policy, or an error
// (mcp_upstream_refused). The gateway passes its EgressGuard; without one
// the name is resolved with getaddrinfo and every address is allowed.
using AddressResolver =
    std::function<Result<std::vector<std::string>>(const std::string& scheme, const std::string& host, uint16_t port)>;

class Upstream {
 public:
  virtual ~Upstream() = default;
  virtual const std::string& id() const = 0;
  // Sends `method` with `params` and waits up to `timeout` for the response
  // (a result or an error message: both are values here).
  virtual Result<Message> call(std::string_view method, const boost::json::object& params,
                               std::chrono::milliseconds timeout, const MessageObserver& observe) = 0;
  // The server's initialize result (serverInfo, capabilities, protocolVersion).
  virtual Result<boost::json::object> initialize_result(std::chrono::milliseconds timeout) = 0;
};

// The initialize request the gateway sends upstream.
boost::json::object client_initialize_params();

}  // namespace ztgate::mcp
