#include "authn/revocation.h"

namespace ztgate::authn {

std::string_view kind_name(RevocationKind kind) {
  switch (kind) {
    case RevocationKind::kJti: return "jti";
    case RevocationKind::kPrincipal: return "principal";
    case RevocationKind::kTask: return "task";
  }
  return "?";
}

RevocationList::RevocationList(std::vector<Revocation> entries) : entries_(std::move(entries)) {
  for (const auto& r : entries_) {
    switch (r.kind) {
      case RevocationKind::kJti: jtis_.insert(r.value); break;
      case RevocationKind::kTask: tasks_.insert(r.value); break;
      case RevocationKind::kPrincipal: {
        auto [it, inserted] = principals_.emplace(r.value, r.revoked_at);
        if (!inserted) it->second = std::max(it->second, r.revoked_at);
        break;
      }
    }
  }
}

bool RevocationList::revokes(const Delegation& d) const {
  if (jtis_.count(d.jti) || tasks_.count(d.task)) return true;
  auto revoked_principal = [&](const std::string& uid) {
    auto it = principals_.find(uid);
    return it != principals_.end() && d.iat <= it->second;
  };
  if (revoked_principal(d.user.to_cedar())) return true;
  for (const auto& agent : d.chain)
    if (revoked_principal(EntityRef{"Agent", agent}.to_cedar())) return true;
  return false;
}

Result<std::unique_ptr<RevocationStore>> RevocationStore::open(const std::string& db_path) {
  auto db = store::Db::open(db_path);
  if (!db) return db.error();
  auto st = db->exec(
      "CREATE TABLE IF NOT EXISTS revocations ("
      " id INTEGER PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('jti','principal','task')),"
      " value TEXT NOT NULL, revoked_at INTEGER NOT NULL, reason TEXT NOT NULL DEFAULT '',"
      " revoked_by TEXT NOT NULL DEFAULT '');"
      "CREATE INDEX IF NOT EXISTS revocations_value ON revocations(kind, value);");
  if (!st) return st.error();
  return std::unique_ptr<RevocationStore>(new RevocationStore(std::move(*db)));
}

Status RevocationStore::add(const Revocation& r) {
  if (r.value.empty() || r.value.size() > 1024)
    return make_error("revocation_invalid", "a revocation needs a value of 1..1024 bytes");
  std::lock_guard lock(mu_);
  auto st = db_.prepare("INSERT INTO revocations(kind, value, revoked_at, reason, revoked_by) VALUES (?1,?2,?3,?4,?5)");
  if (!st) return st.error();
  st->bind(1, kind_name(r.kind)).bind(2, r.value).bind(3, r.revoked_at).bind(4, r.reason).bind(5, r.by);
  if (auto done = st->run(); !done) return done.error();
  ++local_writes_;  // data_version does not move for this connection's own writes
  return Ok{};
}

Result<int64_t> RevocationStore::purge(int64_t now_s, int64_t horizon_s) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("DELETE FROM revocations WHERE kind IN ('jti','principal') AND revoked_at < ?1");
  if (!st) return st.error();
  st->bind(1, now_s - horizon_s);
  if (auto done = st->run(); !done) return done.error();
  int64_t dropped = db_.changes();
  if (dropped > 0) ++local_writes_;
  return dropped;
}

Result<std::shared_ptr<const RevocationList>> RevocationStore::snapshot() {
  std::lock_guard lock(mu_);
  auto version = db_.data_version();
  if (!version) return version.error();
  if (current_ && *version == seen_version_ && local_writes_ == seen_local_writes_) return current_;
  auto st = db_.prepare("SELECT kind, value, revoked_at, reason, revoked_by FROM revocations ORDER BY id");
  if (!st) return st.error();
  std::vector<Revocation> entries;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    std::string kind = st->text(0);
    Revocation r{kind == "jti" ? RevocationKind::kJti
                 : kind == "task" ? RevocationKind::kTask
                                  : RevocationKind::kPrincipal,
                 st->text(1), st->int64(2), st->text(3), st->text(4)};
    entries.push_back(std::move(r));
  }
  current_ = std::make_shared<const RevocationList>(std::move(entries));
  seen_version_ = *version;
  seen_local_writes_ = local_writes_;
  return current_;
}

}  // namespace ztgate::authn
