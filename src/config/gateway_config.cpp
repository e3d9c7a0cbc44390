#include "config/gateway_config.h"

#include <boost/url/parse.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

namespace ztgate::config {
namespace {

constexpr size_t kMaxApiKeyBytes = 4096;

UpstreamSettings read_upstream(MapReader& u, const std::string& dir) {
  UpstreamSettings up;
  up.id = u.required_string("id");
  std::string url = u.required_string("url");
  if (!url.empty()) {
    auto parsed = boost::urls::parse_absolute_uri(url);
    bool scheme_ok = parsed && (parsed->scheme() == "http" || parsed->scheme() == "https");
    if (!scheme_ok || parsed->host().empty() || parsed->has_query() || parsed->has_fragment() ||
        parsed->has_userinfo()) {
      u.error("url", "must be an http:// or https:// URL without credentials, query or fragment");
    } else {
      up.tls = parsed->scheme() == "https";
      up.host = parsed->host();
      up.port = parsed->has_port() ? parsed->port_number() : (up.tls ? 443 : 80);
      up.base_path = parsed->path();
      while (!up.base_path.empty() && up.base_path.back() == '/') up.base_path.pop_back();
      if (up.port == 0) u.error("url", "needs a port in 1..65535");
    }
  }
  up.api_key = read_secret(u, "api_key_env", "api_key_file", dir);
  std::string ca = u.string("ca_file");
  if (!ca.empty()) {
    if (!up.tls) u.error("ca_file", "only https upstreams use a CA file");
    up.ca_file = resolve_path(dir, ca);
  }
  up.timeout_s = u.duration_s("timeout", up.timeout_s, 1, 3600);
  up.connect_timeout_s = u.duration_s("connect_timeout", up.connect_timeout_s, 1, 60);
  u.finish();
  return up;
}

}  // namespace

std::string read_secret(MapReader& m, const std::string& env_key, const std::string& file_key, const std::string& dir) {
  // The credential comes from the environment or a file, never from the
  // YAML itself (configuration files get shared, logged and committed).
  std::string env = m.string(env_key), file = m.string(file_key);
  std::string secret;
  if (!env.empty() && !file.empty()) m.error(file_key, "set " + env_key + " or " + file_key + ", not both");
  if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (v == nullptr || *v == '\0') m.error(env_key, "the environment variable `" + env + "` is not set");
    else secret = v;
  } else if (!file.empty()) {
    std::ifstream in(resolve_path(dir, file), std::ios::binary);
    std::string text(kMaxApiKeyBytes + 2, '\0');  // bounded: never read a device or a huge file whole
    if (in) in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(in ? text.size() : static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    secret = std::move(text);
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (secret.empty()) m.error(file_key, "cannot read a key from `" + file + "`");
  }
  if (secret.size() > kMaxApiKeyBytes) m.error(env.empty() ? file_key : env_key, "the key is longer than 4096 bytes");
  for (unsigned char c : secret)
    if (c < 0x21 || c > 0x7e) {
      m.error(env.empty() ? file_key : env_key, "the key must be printable ASCII without spaces");
      break;
    }
  return secret;
}

bool read_durability(MapReader& m) {
  std::string d = m.string("durability", "async");
  if (d != "async" && d != "sync") m.error("durability", "must be async or sync");
  return d == "sync";
}

const UpstreamSettings* find_upstream(const GatewayConfig& c, std::string_view id) {
  for (const auto& u : c.upstreams)
    if (u.id == id) return &u;
  return nullptr;
}

bool route_audit_sync(const GatewayConfig& c, std::string_view path) {
  for (const auto& r : c.routes)
    if (r.path == path && r.audit_sync) return *r.audit_sync;
  return c.audit.sync;
}

const std::string& route_audit_payload(const GatewayConfig& c, std::string_view path) {
  for (const auto& r : c.routes)
    if (r.path == path && !r.audit_payload.empty()) return r.audit_payload;
  return c.audit.payload;
}

bool route_is_shadow(const GatewayConfig& c, std::string_view path) {
  for (const auto& r : c.routes)
    if (r.path == path) return r.shadow;
  return false;
}

std::vector<std::string> watched_files(const GatewayConfig& c) {
  std::vector<std::string> files{c.file};
  if (c.policies) {
    if (!c.policies->schema.empty()) files.push_back(c.policies->schema);
    for (const auto& f : c.policies->files) files.push_back(f);
    for (const auto& f : c.policies->entities) files.push_back(f);
  }
  for (const auto& f : c.inspection.dlp.dictionaries) files.push_back(f);
  for (const auto& f : c.retrieval.documents) files.push_back(f);
  return files;
}

Result<GatewayConfig> load_gateway_config(const std::string& path) {
  auto doc = load_yaml_file(path);
  if (!doc) return doc.error();
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return read_gateway_config(*doc, path, parent.empty() ? std::string(".") : parent.string());
}

Result<GatewayConfig> parse_gateway_config(std::string_view text, const std::string& label, const std::string& dir) {
  auto doc = parse_yaml_text(text, label);
  if (!doc) return doc.error();
  return read_gateway_config(*doc, label, dir);
}

namespace {

std::string read_payload_mode(MapReader& m) {
  std::string p = m.string("payload", "none");
  if (p != "none" && p != "hash" && p != "redacted" && p != "full") {
    m.error("payload", "must be none, hash, redacted or full");
    return "none";
  }
  return p;
}

std::string path_or(MapReader& m, const std::string& key, const std::string& dir, const std::string& fallback) {
  std::string v = m.string(key);
  return v.empty() ? fallback : resolve_path(dir, v);
}

void read_audit(MapReader& a, const std::string& dir, const std::string& data_dir, AuditSettings& s) {
  s.store = path_or(a, "store", dir, data_dir + "/audit.db");
  s.key = path_or(a, "key", dir, data_dir + "/audit-key.pem");
  s.public_key = path_or(a, "public_key", dir, data_dir + "/audit-key.jwk");
  s.sync = read_durability(a);
  s.payload = read_payload_mode(a);
  s.max_payload_bytes = a.integer("max_payload_bytes", s.max_payload_bytes, 256, 16 << 20);
  s.commit_interval_ms = a.duration_ms("commit_interval", s.commit_interval_ms, 1, 10'000);
  s.sync_timeout_ms = a.duration_ms("sync_timeout", s.sync_timeout_ms, 10, 60'000);
  MapReader cp = a.map("checkpoint");
  s.checkpoint_every = cp.integer("every", s.checkpoint_every, 1, 10'000'000);
  s.checkpoint_interval_ms = cp.duration_ms("interval", s.checkpoint_interval_ms, 100, 3'600'000);
  cp.finish();
  MapReader q = a.map("queue");
  s.max_pending_records = q.integer("max_records", s.max_pending_records, 16, 10'000'000);
  s.max_pending_bytes = q.integer("max_bytes", s.max_pending_bytes, 1 << 20, int64_t{16} << 30);
  q.finish();
  MapReader r = a.map("retention");
  s.retention_max_records = r.integer("max_records", 0, 0, int64_t{1} << 50);
  s.retention_max_bytes = r.integer("max_bytes", 0, 0, int64_t{1} << 50);
  s.retention_max_age_s = r.duration_s("max_age", 0, 0, int64_t{100} * 365 * 86400);
  s.retention_interval_s = r.duration_s("interval", 60, 1, 86400);
  s.archive_dir = path_or(r, "archive_dir", dir, data_dir + "/audit-archive");
  r.finish();
  for (auto& m : a.list("sinks", audit::kMaxSinks)) {
    audit::SinkConfig k;
    std::string type = m.required_string("type");
    if (auto t = audit::parse_sink_type(type)) k.type = *t;
    else if (!type.empty()) m.error("type", "must be jsonl, syslog or webhook");
    k.name = m.string("name", std::string(audit::sink_type_name(k.type)));
    k.timeout = std::chrono::milliseconds(m.duration_ms("timeout", 10'000, 100, 600'000));
    k.batch = static_cast<size_t>(m.integer("batch", 500, 1, static_cast<int64_t>(audit::kMaxSinkBatch)));
    switch (k.type) {
      case audit::SinkType::kJsonl:
        k.path = resolve_path(dir, m.required_string("path"));
        k.rotate_bytes = static_cast<uint64_t>(m.integer("rotate_bytes", int64_t{100} << 20, 0, int64_t{1} << 40));
        k.keep = static_cast<uint32_t>(m.integer("keep", 10, 0, 1000));
        break;
      case audit::SinkType::kSyslog: {
        k.address = m.required_string("address");
        k.tls = m.boolean("tls", false);
        std::string ca = m.string("ca_file"), cert = m.string("cert_file"), key = m.string("key_file");
        if (!ca.empty()) k.ca_file = resolve_path(dir, ca);
        if (!cert.empty()) k.cert_file = resolve_path(dir, cert);
        if (!key.empty()) k.key_file = resolve_path(dir, key);
        if (cert.empty() != key.empty()) m.error("cert_file", "cert_file and key_file go together");
        k.facility = m.string("facility", k.facility);
        k.hostname = m.string("hostname");
        k.app_name = m.string("app_name", k.app_name);
        k.sd_id = m.string("sd_id", k.sd_id);
        break;
      }
      case audit::SinkType::kWebhook: {
        k.url = m.required_string("url");
        k.bearer_env = m.string("bearer_env");
        std::string bearer_file = m.string("bearer_file");
        if (!bearer_file.empty()) k.bearer_file = resolve_path(dir, bearer_file);
        if (!k.bearer_env.empty() && !k.bearer_file.empty()) m.error("bearer_file", "give bearer_env or bearer_file, not both");
        std::string ca = m.string("ca_file");
        if (!ca.empty()) k.ca_file = resolve_path(dir, ca);
        k.allow_plain_http = m.boolean("allow_plain_http", false);
        break;
      }
    }
    m.finish();
    s.sinks.push_back(std::move(k));
  }
  if (auto st = audit::check_sink_list(s.sinks); !st) a.error("sinks", st.error().message);
}

}  // namespace

ListenerSettings read_listener(MapReader& l, const std::string& dir) {
  ListenerSettings ls;
  ls.address = l.string("address", ls.address);
  ls.port = static_cast<int>(l.integer("port", ls.port, 0, 65535));
  if (l.has("tls")) {
    MapReader t = l.map("tls");
    TlsSettings tls;
    tls.cert_file = resolve_path(dir, t.required_string("cert"));
    tls.key_file = resolve_path(dir, t.required_string("key"));
    std::string ca = t.string("client_ca");
    if (!ca.empty()) tls.client_ca_file = resolve_path(dir, ca);
    tls.require_client_cert = t.boolean("require_client_cert", false);
    if (tls.require_client_cert && ca.empty()) t.error("require_client_cert", "needs client_ca");
    t.finish();
    ls.tls = std::move(tls);
  }
  l.finish();
  return ls;
}

namespace {

// Where ztgate's own data files are (rules/, models/): the source tree of
// this build, unless ZTGATE_SHARE_DIR says otherwise at run time.
std::string share_dir() {
  const char* env = std::getenv("ZTGATE_SHARE_DIR");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(ZTGATE_DEFAULT_SHARE_DIR);
}

std::string default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') return std::string(xdg) + "/ztgate";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') return std::string(home) + "/.cache/ztgate";
  return "";
}

DlpSettings read_dlp_settings(MapReader& m, const std::string& dir, const std::string& data_dir) {
  DlpSettings s;
  s.enabled = m.boolean("enabled", true);
  s.rules_dir = m.has("rules") ? resolve_path(dir, m.string("rules")) : share_dir() + "/rules/dlp";
  for (const auto& f : m.strings("dictionaries", 64)) s.dictionaries.push_back(resolve_path(dir, f));
  for (const auto& c : m.strings("redact", 16)) {
    if (c != "pii" && c != "secrets" && c != "custom") m.error("redact", "categories are pii, secrets and custom, not `" + c + "`");
    s.redact.push_back(c);
  }
  static const std::set<std::string> known{"mask", "partial", "hash", "drop", "pseudonymize", "keep", "block"};
  for (const auto& [key, value] : m.string_map("modes", 256)) {
    if (!known.count(value))
      m.error("modes", "`" + key + "`: must be mask, partial, hash, drop, pseudonymize, keep or block");
    if (key == "canary" && value != "block") m.error("modes", "a canary in an answer is always blocked");
    s.modes[key] = value;
  }
  s.key_file = path_or(m, "key_file", dir, data_dir + "/dlp.key");
  return s;
}

InspectionSettings read_inspection_settings(MapReader& m, const std::string& dir, const std::string& data_dir) {
  InspectionSettings s;
  s.enabled = m.boolean("enabled", true);
  s.rules_dir = m.has("rules") ? resolve_path(dir, m.string("rules")) : share_dir() + "/rules/injection";
  s.model_path = m.has("model") ? resolve_path(dir, m.string("model")) : share_dir() + "/models/injection.bin";
  std::string cache = m.string("cache_dir", "");
  s.cache_dir = cache == "off" ? "" : cache.empty() ? default_cache_dir() : resolve_path(dir, cache);
  s.rule_threshold = m.integer("rule_threshold", s.rule_threshold, 1, 100);
  s.max_text_bytes = m.integer("max_text_bytes", s.max_text_bytes, 1024, int64_t{64} << 20);
  s.max_texts = m.integer("max_texts", s.max_texts, 1, 100000);
  s.spotlight = m.string("spotlight", s.spotlight);
  if (s.spotlight != "delimit" && s.spotlight != "datamark")
    m.error("spotlight", "must be delimit or datamark");
  MapReader dlp = m.map("dlp");
  s.dlp = read_dlp_settings(dlp, dir, data_dir);
  dlp.finish();
  if (!s.enabled) s.dlp.enabled = false;
  return s;
}

}  // namespace

Result<GatewayConfig> read_gateway_config(const YAML::Node& doc, const std::string& path, const std::string& dir) {
  YamlErrors errors(path);
  MapReader root(doc, "", errors);
  GatewayConfig c;
  c.file = path;
  c.identity = read_identity_config(root, dir, errors);
  // gateway.public_url sits beside gateway.issuer / audience (read there).
  c.public_url = c.identity.public_url.empty() ? c.public_url : c.identity.public_url;
  c.explain_denials = c.identity.explain_denials;
  c.policies = read_policy_settings(root, dir);
  for (auto& l : root.list("listeners", 1)) c.listeners.push_back(read_listener(l, dir));
  if (c.listeners.empty()) c.listeners.push_back(ListenerSettings{});
  MapReader limits = root.map("limits");
  LimitSettings& lim = c.limits;
  lim.max_header_bytes = limits.integer("max_header_bytes", lim.max_header_bytes, 1024, 1 << 20);
  lim.max_body_bytes = limits.integer("max_body_bytes", lim.max_body_bytes, 1024, 256 << 20);
  lim.request_timeout_s = limits.duration_s("request_timeout", lim.request_timeout_s, 1, 3600);
  lim.idle_timeout_s = limits.duration_s("idle_timeout", lim.idle_timeout_s, 1, 3600);
  lim.drain_timeout_s = limits.duration_s("drain_timeout", lim.drain_timeout_s, 0, 600);
  lim.max_connections = limits.integer("max_connections", lim.max_connections, 1, 1 << 20);
  lim.threads = limits.integer("threads", lim.threads, 1, 256);
  limits.finish();
  MapReader pdp = root.map("pdp");
  c.pdp_requires_authentication = pdp.boolean("require_authentication", true);
  c.pdp_authorize_callers = pdp.boolean("authorize_callers", true);
  c.pdp_legacy_properties = pdp.boolean("authzen_legacy_properties", false);
  pdp.finish();
  std::set<std::string> upstream_ids;
  for (auto& u : root.list("upstreams", 256)) {
    c.upstreams.push_back(read_upstream(u, dir));
    if (!upstream_ids.insert(c.upstreams.back().id).second) u.error("id", "upstream `" + c.upstreams.back().id + "` is listed twice");
  }
  for (const auto& m : c.identity.models)
    if (!m.upstream.empty() && !upstream_ids.count(m.upstream))
      errors.add({}, "models", "model `" + m.id + "` names upstream `" + m.upstream + "`, which is not in upstreams");
  std::set<std::string> route_paths;
  for (auto& r : root.list("routes", 256)) {
    RouteSettings rs;
    rs.path = r.required_string("path");
    rs.shadow = r.boolean("shadow", false);
    rs.canary = r.boolean("canary", false);
    if (r.has("audit")) {
      MapReader ra = r.map("audit");
      if (ra.has("durability")) rs.audit_sync = read_durability(ra);
      if (ra.has("payload")) rs.audit_payload = read_payload_mode(ra);
      ra.finish();
    }
    if (!rs.path.empty() && rs.path.front() != '/') r.error("path", "must start with /");
    if (!route_paths.insert(rs.path).second) r.error("path", "route `" + rs.path + "` is listed twice");
    r.finish();
    c.routes.push_back(std::move(rs));
  }
  MapReader audit = root.map("audit");
  read_audit(audit, dir, c.identity.data_dir, c.audit);
  audit.finish();
  MapReader cache = root.map("decision_cache");
  c.decision_cache_entries = cache.integer("max_entries", c.decision_cache_entries, 0, 100'000'000);
  c.decision_cache_bytes = cache.integer("max_bytes", c.decision_cache_bytes, 64 * 1024, int64_t{64} << 30);
  cache.finish();
  MapReader reload = root.map("reload");
  c.reload_watch = reload.boolean("watch", true);
  c.reload_interval_ms = reload.duration_s("interval", 2, 1, 3600) * 1000;
  reload.finish();
  if (root.has("mcp")) {
    MapReader mcp = root.map("mcp");
    c.mcp = read_mcp_settings(mcp, dir, c.public_url, c.identity.delegation.audience, c.identity.data_dir);
    mcp.finish();
  }
  MapReader egress = root.map("egress");
  c.egress = read_egress_settings(egress, dir);
  egress.finish();
  MapReader inspection = root.map("inspection");
  c.inspection = read_inspection_settings(inspection, dir, c.identity.data_dir);
  inspection.finish();
  MapReader retrieval = root.map("retrieval");
  c.retrieval = read_retrieval_settings(retrieval, dir);
  retrieval.finish();
  root.finish();
  if (!errors.empty()) return errors.to_error();
  return c;
}

}  // namespace ztgate::config
