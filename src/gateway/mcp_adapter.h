// The MCP gateway's endpoint (docs/MCP.md): ztgate is an MCP server to
// agents (Streamable HTTP, one JSON-RPC message per POST, answered with one
// JSON message) and an MCP client to the upstream servers behind it
// (mcp/hub.h). Every message is an Exchange through the same pipeline:
//
//   initialize, ping, notifications   authenticated (and recorded); no decision
//   tools/list                        one call_tool decision per tool (listing rule below)
//   tools/call                        call_tool on Tool::"<server>__<tool>",
//                                     context.tool {name, server, args}
//   prompts/list, prompts/get         get_prompt on Prompt::"<server>__<name>"
//   resources/list, templates/list,   read_resource on McpResource::"<uri>"
//   resources/read
//   anything else                     JSON-RPC "method not found"
//
// Listing rule: an item is listed when a call to it could be allowed for
// some arguments: its decision is made without the arguments, with every
// policy that reads them (context.tool.args / context.prompt.args) taken
// as: a permit applies when its scope matches (its conditions assumed to
// hold for some arguments), a forbid does not apply (some arguments avoid
// it); the other policies are evaluated as always. So a tool is hidden
// exactly when no permit can apply to this principal, or a forbid applies
// whatever the arguments are. Calls are decided on their real arguments.
//
// The agent's token must be audience-bound to the gateway (mcp.audiences);
// unauthenticated requests get 401 with WWW-Authenticate naming the
// protected-resource metadata (RFC 9728), served at
// /.well-known/oauth-protected-resource<path>. The token never goes upstream.
#pragma once

#include <memory>
#include <map>
#include <mutex>

#include "cedar/authorizer.h"

#include "config/mcp_config.h"
#include "gateway/adapter.h"
#include "mcp/hub.h"
#include "mcp/sessions.h"

namespace ztgate::inspect {
class InjectionDetector;
}

namespace ztgate::gateway {

struct McpRuntime {
  config::McpSettings settings;  // as started (servers and pins need a restart)
  std::unique_ptr<mcp::Hub> hub;
  std::unique_ptr<mcp::Sessions> sessions;
  int64_t pin_events_seen = 0;   // the last pin event written to the audit trail
  // The listing rule's policy set, derived once per configuration version.
  std::mutex listing_mu;
  uint64_t listing_version = 0;
  std::shared_ptr<const cedar::Authorizer> listing;
  // Tool definitions' injection verdicts (channel tool_description), by
  // definition digest, for the detector they were computed with.
  std::mutex descriptions_mu;
  std::weak_ptr<const inspect::InjectionDetector> descriptions_detector;
  std::map<std::string, std::pair<int64_t, bool>> description_verdicts;  // digest -> (score, flagged)
};

// Starts the upstream servers' clients (lazily connected) and opens the pin store.
Result<std::unique_ptr<McpRuntime>> start_mcp_runtime(const config::McpSettings& settings,
                                                      mcp::AddressResolver resolve);

std::unique_ptr<AdapterCall> start_mcp(const HttpRequest& request, pipeline::Exchange& x, McpRuntime& mcp);

// GET /.well-known/oauth-protected-resource[<path>] (RFC 9728).
HttpResponse protected_resource_metadata(const config::McpSettings& settings);
std::string protected_resource_metadata_path(const config::McpSettings& settings);
// The WWW-Authenticate value for a 401 on the MCP endpoint: `challenge`
// (e.g. `Bearer error="invalid_token"`) with resource_metadata added.
std::string mcp_challenge(const config::McpSettings& settings, std::string_view challenge);

}  // namespace ztgate::gateway
