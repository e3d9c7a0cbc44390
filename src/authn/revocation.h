// Revocation that takes effect on the next request: by token (jti), by
// principal (all delegation tokens of a user or naming an agent anywhere in
// their chain, issued at or before the revocation), or by task (every token
// of the task, whenever issued: a revoked task cannot be restarted).
//
// Entries live in SQLite (<data dir>/identity.db, table `revocations`), so the
// CLI in one process revokes and the gateway in another sees it: snapshot()
// re-reads the table only when PRAGMA data_version says another connection
// wrote, so a request costs one cheap pragma, not a query.
// Error code: store_error (from the store), revocation_invalid.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "authn/delegation.h"
#include "store/sqlite.h"

namespace ztgate::authn {

enum class RevocationKind { kJti, kPrincipal, kTask };
std::string_view kind_name(RevocationKind kind);

struct Revocation {
  RevocationKind kind;
  std::string value;   // jti, Cedar uid text (User::"alice", Agent::"bot"), or task id
  int64_t revoked_at = 0;
  std::string reason;
  std::string by;      // who revoked (operator or approver principal)
};

// An immutable view of all revocations.
class RevocationList {
 public:
  explicit RevocationList(std::vector<Revocation> entries);
  bool revokes(const Delegation& d) const;
  const std::vector<Revocation>& entries() const { return entries_; }

 private:
  std::vector<Revocation> entries_;
  std::set<std::string, std::less<>> jtis_, tasks_;
  std::map<std::string, int64_t, std::less<>> principals_;  // uid text → latest revoked_at
};

class RevocationStore {
 public:
  static Result<std::unique_ptr<RevocationStore>> open(const std::string& db_path);

  Status add(const Revocation& r);
  // Drops jti and principal entries revoked before now - horizon_s: every
  // token they could match has expired by then (horizon = the longest token
  // lifetime plus clock skew). Task entries stay: a revoked task must never
  // restart. Returns how many were dropped.
  Result<int64_t> purge(int64_t now_s, int64_t horizon_s);
  // The current list; re-read only when the database changed.
  Result<std::shared_ptr<const RevocationList>> snapshot();

 private:
  explicit RevocationStore(store::Db db) : db_(std::move(db)) {}
  std::mutex mu_;
  store::Db db_;
  int64_t seen_version_ = -1;
  int64_t local_writes_ = 0, seen_local_writes_ = -1;
  std::shared_ptr<const RevocationList> current_;
};

}  // namespace ztgate::authn
