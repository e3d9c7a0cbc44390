// The gateway's side of its upstream MCP servers: the servers themselves
// (upstream.h), the aggregated catalog of their tools, prompts and
// resources under namespaced names, the tool pins (tool_pins.h), and a
// bounded pool of worker threads on which upstream calls run (the HTTP
// server's threads never wait on a tool).
//
// Namespacing: a tool `search` of server `docs` is `docs__search` to agents
// (prompts likewise). Resources keep their URIs; a read goes to the server
// that listed the URI, or whose URI template's fixed prefix matches.
//
// The catalog is refreshed in the background every catalog_ttl (requests
// never wait for a tool server to list, except for the very first catalog). A server
// that fails to list keeps its previous entries (marked stale) so a blip
// does not empty the agent's toolbox. A tool whose definition is not the
// pinned one is in the catalog with its pin state and must be neither
// listed nor called.
#pragma once

#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/job_pool.h"
#include "mcp/tool_pins.h"
#include "mcp/upstream.h"

namespace ztgate::mcp {

inline constexpr std::string_view kNameSeparator = "__";
inline constexpr size_t kMaxCatalogEntries = 10'000;  // per kind, over all servers
inline constexpr int kMaxListPages = 50;

// What the deployment says about a tool (config mcp.servers[].tools.<name>,
// or the server's defaults).
struct ToolSettings {
  int64_t sensitivity = 1;      // 0 low .. 3 critical: Tool.sensitivity
  bool sends_data = false;      // sends data out of the organisation (mail, posts): Tool.sends_data
  bool untrusted_output = true; // its results are untrusted content (the web, mail, other people's files)
  int64_t data_rank = -1;       // the classification of what it returns (-1: none), for context.session
  std::string data_label;
};

// The MCP annotations (hints) with the spec's defaults when absent.
struct ToolAnnotations {
  bool read_only = false;
  bool destructive = true;
  bool idempotent = false;
  bool open_world = true;
};

struct ToolEntry {
  std::string name;           // namespaced, as agents see it
  std::string server;
  std::string upstream_name;  // as the server calls it
  boost::json::object definition;  // as agents see it (name namespaced)
  ToolAnnotations annotations;
  ToolSettings settings;
  PinState pin = PinState::kPending;
  std::string digest;
  bool stale = false;  // the server failed to list; this is from before
};

struct NamedEntry {  // prompts, resources, resource templates
  std::string name;           // prompts: namespaced name; resources: uri; templates: uriTemplate
  std::string server;
  std::string upstream_name;  // prompts: the server's name; else = name
  boost::json::object definition;
};

struct Catalog {
  std::vector<ToolEntry> tools;
  std::vector<NamedEntry> prompts, resources, templates;
  std::chrono::steady_clock::time_point built{};
  std::map<std::string, size_t, std::less<>> tool_index, prompt_index;  // name -> position
  const ToolEntry* tool(std::string_view name) const;
  const NamedEntry* prompt(std::string_view name) const;
  // The server for a resource URI (listed, or a template's prefix); "" when none.
  std::string resource_server(std::string_view uri) const;
};

struct ServerSpec {
  std::string id;
  std::unique_ptr<Upstream> upstream;
  ToolSettings defaults;
  std::map<std::string, ToolSettings> tools;  // by the server's tool name
};

struct HubOptions {
  std::chrono::milliseconds catalog_ttl{60'000};
  std::chrono::milliseconds list_timeout{10'000};
  int workers = 16;
  size_t max_queued = 1024;
};

class Hub {
 public:
  Hub(std::vector<ServerSpec> servers, std::unique_ptr<PinStore> pins, HubOptions options);
  ~Hub();  // stops the workers (queued jobs are dropped, running ones finish)
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // The current catalog (never null). Until the first refresh finished it
  // waits for it, at most list_timeout.
  std::shared_ptr<const Catalog> catalog();
  // Lists every server again now (the background refresher does this every
  // catalog_ttl) and publishes the result.
  void refresh_now();
  // Starts the background refresher; `on_refreshed` runs after each refresh
  // on its thread (the gateway records pin events there).
  void start_refresher(std::function<void()> on_refreshed);
  Upstream* upstream(std::string_view server) const;
  const std::vector<std::string>& server_ids() const { return ids_; }
  PinStore& pins() { return *pins_; }

  // Runs `job` on a worker thread. False when the queue is full (the caller
  // answers 503) or the hub is stopping.
  bool submit(std::function<void()> job);

 private:
  std::shared_ptr<const Catalog> refresh(const std::shared_ptr<const Catalog>& previous);
  void refresher(std::function<void()> on_refreshed);

  std::vector<ServerSpec> servers_;
  std::vector<std::string> ids_;
  std::unique_ptr<PinStore> pins_;
  HubOptions options_;
  std::mutex refresh_mu_;
  std::atomic<std::shared_ptr<const Catalog>> catalog_;
  std::mutex stop_mu_;
  std::atomic<bool> stopping_{false};
  std::condition_variable stop_cv_;  // with stop_mu_: wakes the refresher to stop
  std::mutex first_mu_;
  std::condition_variable first_cv_;  // the first catalog is published
  std::thread refresher_;
  // Last: destroyed first (queued calls dropped, running ones finished)
  // while the servers they use still exist.
  JobPool workers_;
};

// "server__name"
std::string namespaced(std::string_view server, std::string_view name);

}  // namespace ztgate::mcp
