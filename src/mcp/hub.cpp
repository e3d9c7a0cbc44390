#include "mcp/hub.h"

#include <boost/json.hpp>

#include "common/clock.h"

namespace ztgate::mcp {
namespace {

namespace json = boost::json;

bool hint(const json::object& annotations, const char* key, bool fallback) {
  const json::value* v = annotations.if_contains(key);
  return v != nullptr && v->is_bool() ? v->as_bool() : fallback;
}

ToolAnnotations annotations_of(const json::object& tool) {
  ToolAnnotations a;
  const json::value* v = tool.if_contains("annotations");
  if (v == nullptr || !v->is_object()) return a;
  const json::object& o = v->as_object();
  a.read_only = hint(o, "readOnlyHint", false);
  a.destructive = a.read_only ? false : hint(o, "destructiveHint", true);
  a.idempotent = hint(o, "idempotentHint", false);
  a.open_world = hint(o, "openWorldHint", true);
  return a;
}

// Every page of a list method (bounded), or an error.
Result<std::vector<json::value>> list_all(Upstream& up, const char* method, const char* key,
                                          std::chrono::milliseconds timeout) {
  std::vector<json::value> items;
  json::object params;
  for (int page = 0; page < kMaxListPages; ++page) {
    auto r = up.call(method, params, timeout, nullptr);
    if (!r) return r.error();
    if (r->kind != MessageKind::kResult || !r->result.is_object())
      return make_error("mcp_upstream_protocol", std::string("`") + method + "` failed on `" + up.id() + "`");
    json::object& result = r->result.as_object();
    json::value* list = result.if_contains(key);
    if (list == nullptr || !list->is_array())
      return make_error("mcp_upstream_protocol", std::string("`") + method + "` on `" + up.id() + "` has no " + key);
    for (auto& item : list->as_array()) {
      if (items.size() >= kMaxCatalogEntries) break;
      if (item.is_object()) items.push_back(std::move(item));
    }
    const json::value* cursor = result.if_contains("nextCursor");
    if (cursor == nullptr || !cursor->is_string() || cursor->as_string().empty()) break;
    params["cursor"] = *cursor;
  }
  return items;
}

bool has_capability(const json::object& init, const char* name) {
  const json::value* caps = init.if_contains("capabilities");
  return caps != nullptr && caps->is_object() && caps->as_object().contains(name);
}

// A server's name for something is safe to namespace: printable, no separator games.
bool sane_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (unsigned char c : name)
    if (c < 0x21 || c == 0x7f) return false;
  return true;
}

}  // namespace

std::string namespaced(std::string_view server, std::string_view name) {
  std::string out(server);
  out += kNameSeparator;
  out += name;
  return out;
}

const ToolEntry* Catalog::tool(std::string_view name) const {
  auto it = tool_index.find(name);
  return it == tool_index.end() ? nullptr : &tools[it->second];
}

const NamedEntry* Catalog::prompt(std::string_view name) const {
  auto it = prompt_index.find(name);
  return it == prompt_index.end() ? nullptr : &prompts[it->second];
}

std::string Catalog::resource_server(std::string_view uri) const {
  for (const auto& r : resources)
    if (r.name == uri) return r.server;
  // A template "file:///docs/{path}" matches URIs starting with its fixed
  // part; the longest such prefix wins.
  const NamedEntry* best = nullptr;
  size_t best_len = 0;
  for (const auto& t : templates) {
    std::string_view prefix = std::string_view(t.name).substr(0, t.name.find('{'));
    if (prefix.size() > best_len && uri.substr(0, prefix.size()) == prefix) {
      best = &t;
      best_len = prefix.size();
    }
  }
  return best ? best->server : "";
}

Hub::Hub(std::vector<ServerSpec> servers, std::unique_ptr<PinStore> pins, HubOptions options)
    : servers_(std::move(servers)),
      pins_(std::move(pins)),
      options_(options),
      workers_(static_cast<size_t>(std::max(1, options.workers)), options.max_queued) {
  for (const auto& s : servers_) ids_.push_back(s.id);
  catalog_.store(std::make_shared<const Catalog>());
}

Hub::~Hub() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  {
    std::lock_guard first(first_mu_);
    first_cv_.notify_all();
  }
  if (refresher_.joinable()) refresher_.join();
  // workers_ (the last member) is destroyed first.
}

Upstream* Hub::upstream(std::string_view server) const {
  for (const auto& s : servers_)
    if (s.id == server) return s.upstream.get();
  return nullptr;
}

bool Hub::submit(std::function<void()> job) {
  return !stopping_ && workers_.submit(std::move(job));
}

std::shared_ptr<const Catalog> Hub::catalog() {
  auto current = catalog_.load();
  if (current->built != std::chrono::steady_clock::time_point{}) return current;
  std::unique_lock lock(first_mu_);
  first_cv_.wait_for(lock, options_.list_timeout,
                     [&] { return stopping_ || catalog_.load()->built != std::chrono::steady_clock::time_point{}; });
  return catalog_.load();
}

void Hub::refresh_now() {
  std::lock_guard lock(refresh_mu_);
  catalog_.store(refresh(catalog_.load()));
  std::lock_guard first(first_mu_);
  first_cv_.notify_all();
}

void Hub::start_refresher(std::function<void()> on_refreshed) {
  refresher_ = std::thread([this, f = std::move(on_refreshed)] { refresher(f); });
}

void Hub::refresher(std::function<void()> on_refreshed) {
  for (;;) {
    refresh_now();
    if (on_refreshed) on_refreshed();
    std::unique_lock lock(stop_mu_);
    if (stop_cv_.wait_for(lock, std::max(options_.catalog_ttl, std::chrono::milliseconds(100)), [&] { return stopping_.load(); }))
      return;
  }
}

std::shared_ptr<const Catalog> Hub::refresh(const std::shared_ptr<const Catalog>& previous) {
  auto c = std::make_shared<Catalog>();
  int64_t now = now_ms();
  for (const auto& s : servers_) {
    auto keep_previous = [&] {
      for (const auto& t : previous->tools)
        if (t.server == s.id) {
          c->tools.push_back(t);
          c->tools.back().stale = true;
        }
      for (const auto& p : previous->prompts)
        if (p.server == s.id) c->prompts.push_back(p);
      for (const auto& r : previous->resources)
        if (r.server == s.id) c->resources.push_back(r);
      for (const auto& t : previous->templates)
        if (t.server == s.id) c->templates.push_back(t);
    };
    auto init = s.upstream->initialize_result(options_.list_timeout);
    if (!init) {
      keep_previous();
      continue;
    }
    auto tools = has_capability(*init, "tools") ? list_all(*s.upstream, "tools/list", "tools", options_.list_timeout)
                                                : Result<std::vector<json::value>>(std::vector<json::value>{});
    if (!tools) {
      keep_previous();
      continue;
    }
    for (auto& v : *tools) {
      json::object& def = v.as_object();
      const json::value* n = def.if_contains("name");
      if (n == nullptr || !n->is_string() || !sane_name(n->as_string())) continue;
      ToolEntry e;
      e.server = s.id;
      e.upstream_name = std::string(n->as_string());
      e.name = namespaced(s.id, e.upstream_name);
      auto it = s.tools.find(e.upstream_name);
      e.settings = it != s.tools.end() ? it->second : s.defaults;
      e.annotations = annotations_of(def);
      auto verdict = pins_ ? pins_->observe(s.id, e.upstream_name, def, now)
                           : Result<PinVerdict>(PinVerdict{PinState::kApproved, false, false, "", ""});
      if (verdict) {
        e.pin = verdict->state;
        e.digest = verdict->seen_digest;
      } else {
        e.pin = PinState::kPending;  // fail closed: a definition we cannot pin is blocked
      }
      def["name"] = e.name;
      e.definition = std::move(def);
      if (c->tools.size() < kMaxCatalogEntries) c->tools.push_back(std::move(e));
    }
    auto named = [&](const char* capability, const char* method, const char* key, const char* name_key,
                     bool prefix, std::vector<NamedEntry>& out) {
      if (!has_capability(*init, capability)) return;
      auto items = list_all(*s.upstream, method, key, options_.list_timeout);
      if (!items) return;
      for (auto& v : *items) {
        json::object& def = v.as_object();
        const json::value* n = def.if_contains(name_key);
        if (n == nullptr || !n->is_string() || n->as_string().empty() || n->as_string().size() > 2048) continue;
        NamedEntry e;
        e.server = s.id;
        e.upstream_name = std::string(n->as_string());
        e.name = prefix ? namespaced(s.id, e.upstream_name) : e.upstream_name;
        if (prefix) {
          if (!sane_name(e.upstream_name)) continue;
          def[name_key] = e.name;
        }
        e.definition = std::move(def);
        if (out.size() < kMaxCatalogEntries) out.push_back(std::move(e));
      }
    };
    named("prompts", "prompts/list", "prompts", "name", true, c->prompts);
    named("resources", "resources/list", "resources", "uri", false, c->resources);
    named("resources", "resources/templates/list", "resourceTemplates", "uriTemplate", false, c->templates);
  }
  for (size_t i = 0; i < c->tools.size(); ++i) c->tool_index.emplace(c->tools[i].name, i);
  for (size_t i = 0; i < c->prompts.size(); ++i) c->prompt_index.emplace(c->prompts[i].name, i);
  c->built = std::chrono::steady_clock::now();
  return c;
}

}  // namespace ztgate::mcp
