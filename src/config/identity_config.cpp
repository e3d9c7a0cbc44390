#include "config/identity_config.h"

#include <filesystem>

namespace ztgate::config {
namespace {

constexpr int64_t kYear = 366 * 86400;

authn::ScopeSet scopes(MapReader& m, const std::string& key) {
  auto list = m.strings(key, authn::kMaxScopes);
  auto set = authn::ScopeSet::from_list(list);
  if (!set) {
    m.error(key, set.error().message);
    return {};
  }
  return *set;
}

authn::ClaimMapping read_claims(MapReader m) {
  authn::ClaimMapping c;
  c.user_type = m.string("user_type", c.user_type);
  c.group_type = m.string("group_type", c.group_type);
  c.id_claim = m.string("id", c.id_claim);
  c.groups_claim = m.string("groups", c.groups_claim);
  c.roles_claim = m.string("roles", c.roles_claim);
  c.role_prefix = m.string("role_prefix", c.role_prefix);
  c.email_claim = m.string("email", c.email_claim);
  c.tenant_claim = m.string("tenant", c.tenant_claim);
  if (m.has("scopes")) c.scope_claims = m.strings("scopes", 16);
  c.group_scopes = m.string_lists("group_scopes");
  for (const auto& [group, list] : c.group_scopes)
    if (auto ok = authn::ScopeSet::from_list(list); !ok) m.error("group_scopes", group + ": " + ok.error().message);
  if (m.has("mfa_amr")) c.mfa_amr = m.strings("mfa_amr", 64);
  m.finish();
  return c;
}

IssuerSettings read_issuer(MapReader m, const std::string& config_dir) {
  IssuerSettings s;
  s.id = m.required_string("id");
  s.issuer = m.required_string("issuer");
  s.audience = m.string("audience");
  s.jwks_file = resolve_path(config_dir, m.string("jwks_file"));
  s.jwks_uri = m.string("jwks_uri");
  s.discovery = m.boolean("discovery", false);
  int sources = (s.jwks_file.empty() ? 0 : 1) + (s.jwks_uri.empty() ? 0 : 1) + (s.discovery ? 1 : 0);
  if (sources != 1) m.error("", "needs exactly one key source: jwks_file, jwks_uri or discovery: true");
  s.ca_file = resolve_path(config_dir, m.string("ca_file"));
  s.algorithms = m.strings("algorithms", 16);
  s.typ = m.string("typ");
  s.clock_skew_s = m.duration_s("clock_skew", 60, 0, 600);
  s.max_age_s = m.duration_s("max_age", 0, 0, kYear);
  MapReader refresh = m.map("refresh");
  s.min_ttl_s = refresh.duration_s("min_ttl", s.min_ttl_s, 1, kYear);
  s.max_ttl_s = refresh.duration_s("max_ttl", s.max_ttl_s, 1, kYear);
  s.default_ttl_s = refresh.duration_s("default_ttl", s.default_ttl_s, 1, kYear);
  s.refresh_min_interval_s = refresh.duration_s("min_interval", s.refresh_min_interval_s, 1, 86400);
  s.stale_if_error_s = refresh.duration_s("stale_if_error", s.stale_if_error_s, 0, kYear);
  refresh.finish();
  s.claims = read_claims(m.map("claims"));
  m.finish();
  return s;
}

authn::AgentRecord read_agent(MapReader m) {
  authn::AgentRecord a;
  a.id = m.required_string("id");
  a.description = m.string("description");
  a.max_scopes = scopes(m, "max_scopes");
  if (a.max_scopes.empty()) m.error("max_scopes", "an agent needs at least one scope it may ever hold");
  a.groups = m.strings("groups", 256);
  a.delegate_to = m.strings("delegate_to", 256);
  a.max_ttl_s = m.duration_s("max_ttl", 0, 0, 86400);
  a.enabled = m.boolean("enabled", true);
  m.finish();
  return a;
}

}  // namespace

Result<IdentityConfig> identity_config_from(const YAML::Node& doc, const std::string& label,
                                            const std::string& config_dir) {
  YamlErrors errors(label);
  MapReader root(doc, "", errors);
  IdentityConfig c = read_identity_config(root, config_dir, errors);
  // Sections of ztgate.yaml that other modules read (the gateway's config check covers them).
  for (const char* other : {"listeners", "limits", "pdp", "upstreams", "routes", "policies", "inspection", "audit",
                            "reload", "decision_cache", "mcp", "egress", "retrieval"})
    root.skip(other);
  root.finish();
  if (!errors.empty()) return errors.to_error();
  return c;
}

IdentityConfig read_identity_config(MapReader& root, const std::string& config_dir, YamlErrors& errors) {
  IdentityConfig c;
  c.file = errors.file();
  c.data_dir = resolve_path(config_dir, root.string("data_dir", "ztgate-data"));

  MapReader gateway = root.map("gateway");
  c.delegation.issuer = gateway.string("issuer", c.delegation.issuer);
  c.delegation.audience = gateway.string("audience", c.delegation.audience);
  c.public_url = gateway.string("public_url");
  c.explain_denials = gateway.boolean("explain_denials", false);
  gateway.finish();

  MapReader identity = root.map("identity");
  for (auto& issuer : identity.list("issuers", 256)) c.issuers.push_back(read_issuer(std::move(issuer), config_dir));
  MapReader delegation = identity.map("delegation");
  c.signing_key_path = delegation.string("signing_key");
  c.signing_key_path = c.signing_key_path.empty() ? c.data_dir + "/delegation-key.pem"
                                                  : resolve_path(config_dir, c.signing_key_path);
  c.delegation.max_ttl_s = delegation.duration_s("max_ttl", 600, 1, 86400);
  c.delegation.max_chain_depth =
      static_cast<int>(delegation.integer("max_chain_depth", 4, 1, authn::kHardMaxChainDepth));
  c.delegation.clock_skew_s = delegation.duration_s("clock_skew", 30, 0, 600);
  delegation.finish();
  for (auto& agent : identity.list("agents", authn::kMaxAgents)) c.agents.push_back(read_agent(std::move(agent)));
  MapReader jit = identity.map("jit");
  c.jit.approver_groups = jit.strings("approver_groups", 256);
  c.jit.max_duration_s = jit.duration_s("max_duration", 3600, 60, 7 * 86400);
  c.jit.grantable = scopes(jit, "grantable");
  jit.finish();
  MapReader mtls = identity.map("mtls");
  for (const auto& f : mtls.strings("ca_files", 64)) c.mtls_ca_files.push_back(resolve_path(config_dir, f));
  c.mtls.max_depth = static_cast<int>(mtls.integer("max_depth", 4, 0, authn::kMaxChainDepth));
  for (auto& rule : mtls.list("rules", 1024)) {
    authn::SpiffeMappingRule r;
    r.trust_domain = rule.required_string("trust_domain");
    r.path_prefix = rule.string("path_prefix");
    r.principal_type = rule.string("type", "Service");
    if (r.principal_type != "Service" && r.principal_type != "Agent") rule.error("type", "must be Service or Agent");
    rule.finish();
    c.mtls.rules.push_back(std::move(r));
  }
  if (!c.mtls.rules.empty() && c.mtls_ca_files.empty()) mtls.error("ca_files", "mapping rules need trusted CAs");
  mtls.finish();
  c.posture = read_posture(identity);
  identity.finish();
  c.models = read_models(root, config_dir);
  if (c.posture) {
    bool known = false;
    for (const auto& i : c.issuers) {
      if (i.id != c.posture->issuer_id) continue;
      known = true;
      c.posture->policy.issuer = i.issuer;
    }
    if (!known) errors.add({}, "identity.posture.issuer", "names no entry of identity.issuers");
  }

  std::set<std::string> ids;
  for (const auto& i : c.issuers)
    if (!ids.insert(i.id).second) errors.add({}, "identity.issuers", "issuer id `" + i.id + "` is used twice");
  if (auto reg = authn::AgentRegistry::create(c.agents); !reg) errors.add({}, "identity.agents", reg.error().message);
  return c;
}

Result<IdentityConfig> load_identity_config(const std::string& path) {
  auto doc = load_yaml_file(path);
  if (!doc) return doc.error();
  std::string dir = std::filesystem::path(path).parent_path().string();
  return identity_config_from(*doc, path, dir.empty() ? "." : dir);
}

Result<IdentityConfig> parse_identity_config(std::string_view text, const std::string& label,
                                             const std::string& config_dir) {
  auto doc = parse_yaml_text(text, label);
  if (!doc) return doc.error();
  return identity_config_from(*doc, label, config_dir);
}

}  // namespace ztgate::config
