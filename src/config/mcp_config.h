// mcp: the MCP gateway (docs/CONFIGURATION.md "mcp", docs/MCP.md).
//
//   mcp:
//     path: /mcp                      # the endpoint agents connect to
//     resource: https://gw.example/mcp   # RFC 9728 resource id (default: public_url + path)
//     audiences: [...]                # token "aud" values accepted (default: resource + gateway.audience)
//     authorization_servers: [https://idp.example]
//     scopes_supported: [tools]
//     allowed_origins: [https://app.example]   # requests with another Origin: 403
//     pins: { store: tool-pins.db, approve_first_use: true }
//     classifications: [public, internal, confidential, restricted]
//     call_timeout: 60s, list_timeout: 10s, catalog_ttl: 60s
//     sessions: { max: 10000, idle_timeout: 30m }
//     workers: 16, max_queued: 1024
//     servers:
//       - id: docs                          # namespace: docs__<tool>
//         url: http://127.0.0.1:9000/mcp    # Streamable HTTP, or:
//         command: [node, server.mjs]       # stdio child process
//         env: ["KEY=value"]                # the child's whole environment (+ PATH)
//         env_from: [NAME]                  # gateway variables passed on by name
//         cwd: /srv/tools
//         token_env: DOCS_TOKEN | token_file: docs.token   # the gateway's credential there
//         ca_file: ca.pem
//         defaults: {sensitivity, sends_data, untrusted_output, data_classification}
//         tools: [ {name: send_email, sensitivity: 3, sends_data: true} ]
#pragma once

#include <string>
#include <vector>

#include "config/yaml_reader.h"

namespace ztgate::config {

struct McpToolSettings {
  std::string name;  // the server's tool name ("" for a server's defaults)
  int64_t sensitivity = 1;
  bool sends_data = false;
  bool untrusted_output = true;
  std::string data_classification;  // one of mcp.classifications, or ""
};

struct McpServerSettings {
  std::string id;
  std::string url;                   // Streamable HTTP, or
  std::vector<std::string> command;  // a stdio child process
  std::vector<std::string> env;      // "KEY=value"
  std::string cwd;
  std::string token;                 // read from token_env / token_file ("" = none)
  std::string ca_file;
  McpToolSettings defaults;
  std::vector<McpToolSettings> tools;
};

struct McpSettings {
  std::string path = "/mcp";
  std::string resource;               // default: gateway.public_url + path
  std::vector<std::string> audiences;  // default: {resource, gateway audience}
  std::vector<std::string> authorization_servers;
  std::vector<std::string> scopes_supported;
  std::vector<std::string> allowed_origins;  // browser Origins accepted (DNS-rebinding defense); none by default
  std::string pins;  // default <data_dir>/tool-pins.db
  bool approve_first_use = true;
  std::vector<std::string> classifications = {"public", "internal", "confidential", "restricted"};
  int64_t call_timeout_ms = 60'000;
  int64_t list_timeout_ms = 10'000;
  int64_t catalog_ttl_ms = 60'000;
  int64_t max_sessions = 10'000;
  int64_t session_idle_timeout_ms = 30 * 60'000;
  int64_t workers = 16;
  int64_t max_queued = 1024;
  std::vector<McpServerSettings> servers;

  bool enabled() const { return !servers.empty(); }
  // The rank of a classification label (its position), -1 when unknown or "".
  int64_t rank_of(const std::string& label) const;
};

// Reads the `mcp` mapping. `public_url`, `audience` and `data_dir` give the defaults.
McpSettings read_mcp_settings(MapReader& m, const std::string& dir, const std::string& public_url,
                              const std::string& audience, const std::string& data_dir);

}  // namespace ztgate::config
