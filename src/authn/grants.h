// Just-in-time grants: a time-boxed elevation — extra scopes for one
// principal (a user or an agent) for N minutes — created by an authorized
// approver, recorded with who, why and until when, and expiring by itself.
//
// Who may approve is configured (GrantRules): members of approver groups,
// never for themselves, within a maximum duration and, when set, only
// grantable scopes. The store is SQLite (<data dir>/identity.db, table
// `jit_grants`); active_scopes() re-reads only when the database changed.
//
// Error codes: grant_forbidden (approver not allowed, self-grant, scope not
// grantable), grant_invalid (duration, scopes, principal text), store_*.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "authn/identity.h"
#include "authn/scopes.h"
#include "store/sqlite.h"

namespace ztgate::authn {

struct GrantRules {
  std::vector<std::string> approver_groups;  // an approver must be in one of these
  int64_t max_duration_s = 3600;
  ScopeSet grantable;                        // empty: any scope
};

struct JitGrant {
  int64_t id = 0;
  EntityRef principal;  // who is elevated
  ScopeSet scopes;
  EntityRef approver;
  std::string reason;
  int64_t created_at = 0, expires_at = 0, revoked_at = 0;
  bool active(int64_t now_s) const { return revoked_at == 0 && now_s < expires_at; }
};

struct GrantRequest {
  EntityRef principal;
  ScopeSet scopes;
  int64_t duration_s = 0;
  std::string reason;  // required: a grant without a reason is not auditable
};

// The approval check on its own (pure).
Status authorize_grant(const Identity& approver, const GrantRequest& request, const GrantRules& rules);

class GrantStore {
 public:
  static Result<std::unique_ptr<GrantStore>> open(const std::string& db_path);

  // authorize_grant, then record. Returns the stored grant with its id.
  Result<JitGrant> create(const Identity& approver, const GrantRequest& request, const GrantRules& rules,
                          int64_t now_s);
  Status revoke(int64_t id, int64_t now_s);
  Result<std::vector<JitGrant>> list(bool include_inactive, int64_t now_s);
  // Union of the scopes of the principal's active grants at now_s.
  Result<ScopeSet> active_scopes(const EntityRef& principal, int64_t now_s);

 private:
  explicit GrantStore(store::Db db) : db_(std::move(db)) {}
  Status reload_locked();
  std::mutex mu_;
  store::Db db_;
  int64_t seen_version_ = -1;
  int64_t local_writes_ = 0, seen_local_writes_ = -1;
  std::vector<JitGrant> cache_;  // unexpired, unrevoked grants as of the last reload
};

}  // namespace ztgate::authn
