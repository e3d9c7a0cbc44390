#include "config/mcp_config.h"

#include <boost/url/parse.hpp>

#include <set>

#include "config/gateway_config.h"

namespace ztgate::config {
namespace {

bool sane_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  return true;  // no '_' : "__" separates the server from the tool
}

McpToolSettings read_tool(MapReader& t, const McpToolSettings& base, const McpSettings& s, bool named) {
  McpToolSettings out = base;
  if (named) out.name = t.required_string("name");
  out.sensitivity = t.integer("sensitivity", base.sensitivity, 0, 3);
  out.sends_data = t.boolean("sends_data", base.sends_data);
  out.untrusted_output = t.boolean("untrusted_output", base.untrusted_output);
  out.data_classification = t.string("data_classification", base.data_classification);
  if (!out.data_classification.empty() && s.rank_of(out.data_classification) < 0)
    t.error("data_classification", "must be one of mcp.classifications");
  t.finish();
  return out;
}

}  // namespace

int64_t McpSettings::rank_of(const std::string& label) const {
  for (size_t i = 0; i < classifications.size(); ++i)
    if (classifications[i] == label) return static_cast<int64_t>(i);
  return -1;
}

McpSettings read_mcp_settings(MapReader& m, const std::string& dir, const std::string& public_url,
                              const std::string& audience, const std::string& data_dir) {
  McpSettings s;
  s.path = m.string("path", s.path);
  if (s.path.empty() || s.path.front() != '/' || s.path.find_first_of("?# ") != std::string::npos)
    m.error("path", "must be a path starting with /");
  std::string base = public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  s.resource = m.string("resource", base + s.path);
  s.audiences = m.strings("audiences", 64);
  if (s.audiences.empty()) {
    s.audiences.push_back(s.resource);
    if (!audience.empty()) s.audiences.push_back(audience);
  }
  s.authorization_servers = m.strings("authorization_servers", 16);
  s.scopes_supported = m.strings("scopes_supported", 256);
  s.allowed_origins = m.strings("allowed_origins", 256);
  MapReader pins = m.map("pins");
  std::string store = pins.string("store");
  s.pins = store.empty() ? data_dir + "/tool-pins.db" : resolve_path(dir, store);
  s.approve_first_use = pins.boolean("approve_first_use", true);
  pins.finish();
  if (m.has("classifications")) {
    s.classifications = m.strings("classifications", 16);
    if (s.classifications.empty()) m.error("classifications", "needs at least one label");
  }
  s.call_timeout_ms = m.duration_ms("call_timeout", s.call_timeout_ms, 100, 3'600'000);
  s.list_timeout_ms = m.duration_ms("list_timeout", s.list_timeout_ms, 100, 600'000);
  s.catalog_ttl_ms = m.duration_ms("catalog_ttl", s.catalog_ttl_ms, 0, 86'400'000);
  MapReader sessions = m.map("sessions");
  s.max_sessions = sessions.integer("max", s.max_sessions, 1, 10'000'000);
  s.session_idle_timeout_ms = sessions.duration_ms("idle_timeout", s.session_idle_timeout_ms, 1000, 7 * 86'400'000LL);
  sessions.finish();
  s.workers = m.integer("workers", s.workers, 1, 1024);
  s.max_queued = m.integer("max_queued", s.max_queued, 1, 1'000'000);
  std::set<std::string> ids;
  for (auto& v : m.list("servers", 256)) {
    McpServerSettings srv;
    srv.id = v.required_string("id");
    if (!srv.id.empty() && !sane_id(srv.id)) v.error("id", "use letters, digits and '-' (at most 64): it prefixes tool names");
    if (!ids.insert(srv.id).second) v.error("id", "server `" + srv.id + "` is listed twice");
    srv.url = v.string("url");
    srv.command = v.strings("command", 256);
    if (srv.url.empty() == srv.command.empty()) v.error("url", "give a url (Streamable HTTP) or a command (stdio), exactly one");
    if (!srv.url.empty()) {
      auto u = boost::urls::parse_absolute_uri(srv.url);
      if (!u || (u->scheme() != "http" && u->scheme() != "https") || u->host().empty() || u->has_userinfo() ||
          u->has_fragment())
        v.error("url", "must be an http:// or https:// URL without credentials or fragment");
    }
    srv.env = v.strings("env", 256);
    for (const auto& e : srv.env)
      if (e.find('=') == std::string::npos || e.front() == '=') v.error("env", "entries are KEY=value");
    for (const auto& name : v.strings("env_from", 256)) {
      const char* val = std::getenv(name.c_str());
      if (val == nullptr) v.error("env_from", "the environment variable `" + name + "` is not set");
      else srv.env.push_back(name + "=" + val);
    }
    if (!srv.command.empty() && srv.url.empty()) {
      std::string cwd = v.string("cwd");
      if (!cwd.empty()) srv.cwd = resolve_path(dir, cwd);
    }
    srv.token = read_secret(v, "token_env", "token_file", dir);
    std::string ca = v.string("ca_file");
    if (!ca.empty()) srv.ca_file = resolve_path(dir, ca);
    if (v.has("defaults")) {
      MapReader d = v.map("defaults");
      srv.defaults = read_tool(d, srv.defaults, s, false);
    }
    std::set<std::string> tool_names;
    for (auto& t : v.list("tools", 4096)) {
      srv.tools.push_back(read_tool(t, srv.defaults, s, true));
      if (!tool_names.insert(srv.tools.back().name).second) t.error("name", "tool listed twice");
    }
    v.finish();
    s.servers.push_back(std::move(srv));
  }
  return s;
}

}  // namespace ztgate::config
