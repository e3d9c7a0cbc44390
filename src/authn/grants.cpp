#include "authn/grants.h"

#include <algorithm>

namespace ztgate::authn {
namespace {

Error forbidden(std::string m) { return make_error("grant_forbidden", std::move(m)); }
Error invalid(std::string m) { return make_error("grant_invalid", std::move(m)); }

// "Type::\"id\"" → EntityRef; the forms EntityRef::to_cedar writes.
bool parse_uid(const std::string& text, EntityRef& out) {
  size_t sep = text.find("::\"");
  if (sep == std::string::npos || sep == 0 || text.size() < sep + 4 || text.back() != '"') return false;
  out.type = text.substr(0, sep);
  std::string id;
  for (size_t i = sep + 3; i + 1 < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 2 < text.size()) {
      char n = text[++i];
      id += n == 'n' ? '\n' : n == 'r' ? '\r' : n == 't' ? '\t' : n == '0' ? '\0' : n;
    } else {
      id += c;
    }
  }
  out.id = std::move(id);
  return true;
}

}  // namespace

Status authorize_grant(const Identity& approver, const GrantRequest& req, const GrantRules& rules) {
  bool in_group = std::any_of(approver.groups.begin(), approver.groups.end(), [&](const std::string& g) {
    return std::find(rules.approver_groups.begin(), rules.approver_groups.end(), g) != rules.approver_groups.end();
  });
  if (!in_group)
    return forbidden(approver.principal.to_cedar() + " is not in an approver group");
  if (approver.principal == req.principal)
    return forbidden("an approver cannot grant themselves extra scope");
  if (req.principal.type.empty() || req.principal.id.empty()) return invalid("the grant needs a principal");
  if (req.scopes.empty()) return invalid("the grant needs at least one scope");
  if (req.duration_s <= 0 || req.duration_s > rules.max_duration_s)
    return invalid("the duration must be 1.." + std::to_string(rules.max_duration_s) + " seconds");
  if (req.reason.empty() || req.reason.size() > 1024) return invalid("the grant needs a reason (≤ 1024 bytes)");
  if (!rules.grantable.empty() && !req.scopes.subset_of(rules.grantable))
    return forbidden("scopes not grantable just-in-time: " + req.scopes.minus(rules.grantable).to_string());
  return Ok{};
}

Result<std::unique_ptr<GrantStore>> GrantStore::open(const std::string& db_path) {
  auto db = store::Db::open(db_path);
  if (!db) return db.error();
  auto st = db->exec(
      "CREATE TABLE IF NOT EXISTS jit_grants ("
      " id INTEGER PRIMARY KEY, principal TEXT NOT NULL, scopes TEXT NOT NULL, approver TEXT NOT NULL,"
      " reason TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
      " revoked_at INTEGER NOT NULL DEFAULT 0);"
      "CREATE INDEX IF NOT EXISTS jit_grants_principal ON jit_grants(principal, expires_at);");
  if (!st) return st.error();
  return std::unique_ptr<GrantStore>(new GrantStore(std::move(*db)));
}

Result<JitGrant> GrantStore::create(const Identity& approver, const GrantRequest& req, const GrantRules& rules,
                                    int64_t now_s) {
  if (auto ok = authorize_grant(approver, req, rules); !ok) return ok.error();
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "INSERT INTO jit_grants(principal, scopes, approver, reason, created_at, expires_at)"
      " VALUES (?1,?2,?3,?4,?5,?6) RETURNING id");
  if (!st) return st.error();
  JitGrant g{0, req.principal, req.scopes, approver.principal, req.reason, now_s, now_s + req.duration_s, 0};
  st->bind(1, g.principal.to_cedar()).bind(2, g.scopes.to_string()).bind(3, g.approver.to_cedar());
  st->bind(4, g.reason).bind(5, g.created_at).bind(6, g.expires_at);
  auto row = st->step();
  if (!row) return row.error();
  g.id = st->int64(0);
  (void)st->step();
  ++local_writes_;
  return g;
}

Status GrantStore::revoke(int64_t id, int64_t now_s) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("UPDATE jit_grants SET revoked_at = ?2 WHERE id = ?1 AND revoked_at = 0");
  if (!st) return st.error();
  st->bind(1, id).bind(2, now_s);
  if (auto done = st->run(); !done) return done.error();
  if (db_.changes() == 0) return invalid("no active grant with id " + std::to_string(id));
  ++local_writes_;
  return Ok{};
}

Result<std::vector<JitGrant>> GrantStore::list(bool include_inactive, int64_t now_s) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "SELECT id, principal, scopes, approver, reason, created_at, expires_at, revoked_at FROM jit_grants"
      " WHERE ?1 OR (revoked_at = 0 AND expires_at > ?2) ORDER BY id");
  if (!st) return st.error();
  st->bind(1, int64_t{include_inactive ? 1 : 0}).bind(2, now_s);
  std::vector<JitGrant> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    JitGrant g;
    g.id = st->int64(0);
    if (!parse_uid(st->text(1), g.principal) || !parse_uid(st->text(3), g.approver))
      return make_error("store_error", "grant " + std::to_string(g.id) + " has a malformed principal");
    auto scopes = ScopeSet::parse(st->text(2));
    if (!scopes) return scopes.error();
    g.scopes = std::move(*scopes);
    g.reason = st->text(4);
    g.created_at = st->int64(5);
    g.expires_at = st->int64(6);
    g.revoked_at = st->int64(7);
    out.push_back(std::move(g));
  }
  return out;
}

Result<ScopeSet> GrantStore::active_scopes(const EntityRef& principal, int64_t now_s) {
  {
    std::lock_guard lock(mu_);
    auto version = db_.data_version();
    if (!version) return version.error();
    bool fresh = *version == seen_version_ && local_writes_ == seen_local_writes_;
    if (fresh) {
      ScopeSet out;
      for (const auto& g : cache_)
        if (g.principal == principal && g.active(now_s)) out = out.unite(g.scopes);
      return out;
    }
    seen_version_ = *version;
    seen_local_writes_ = local_writes_;
  }
  auto all = list(false, now_s);
  if (!all) return all.error();
  std::lock_guard lock(mu_);
  cache_ = std::move(*all);
  ScopeSet out;
  for (const auto& g : cache_)
    if (g.principal == principal && g.active(now_s)) out = out.unite(g.scopes);
  return out;
}

}  // namespace ztgate::authn
