#include "mcp/tool_pins.h"

#include <algorithm>
#include <string_view>

#include "audit/digest.h"

namespace ztgate::mcp {
namespace {

namespace json = boost::json;

// A pending tool's last_seen_ms is written at most this often: a tools/list
// of an unchanged pending tool stays read-only.
constexpr int64_t kLastSeenRefreshMs = 60'000;
constexpr size_t kMaxToolsPerServer = 1024;
constexpr const char* kFirstUseBy = "tofu";

void append_string(std::string& out, std::string_view s) { out += json::serialize(json::string(s)); }

struct Frame {
  const json::value* value;
  std::vector<const json::key_value_pair*> members;  // objects: sorted by key
  size_t next = 0;
};

// Pushes a container frame (writing its opening bracket) or writes a scalar.
void open_value(const json::value& v, std::string& out, std::vector<Frame>& stack) {
  if (v.is_object()) {
    Frame f{&v, {}, 0};
    f.members.reserve(v.get_object().size());
    for (const auto& kv : v.get_object()) f.members.push_back(&kv);
    // string_view compares as unsigned bytes (char_traits<char>::compare).
    std::sort(f.members.begin(), f.members.end(),
              [](const json::key_value_pair* a, const json::key_value_pair* b) { return a->key() < b->key(); });
    out += '{';
    stack.push_back(std::move(f));
  } else if (v.is_array()) {
    out += '[';
    stack.push_back(Frame{&v, {}, 0});
  } else {
    out += json::serialize(v);
  }
}

// Canonical JSON with an explicit stack: hostile nesting cannot overflow ours.
void append_canonical(const json::value& root, std::string& out) {
  std::vector<Frame> stack;
  open_value(root, out, stack);
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.value->is_object()) {
      if (f.next == f.members.size()) {
        out += '}';
        stack.pop_back();
        continue;
      }
      if (f.next > 0) out += ',';
      const json::key_value_pair* kv = f.members[f.next++];
      append_string(out, kv->key());
      out += ':';
      open_value(kv->value(), out, stack);  // may invalidate f
    } else {
      const json::array& a = f.value->get_array();
      if (f.next == a.size()) {
        out += ']';
        stack.pop_back();
        continue;
      }
      if (f.next > 0) out += ',';
      const json::value& item = a[f.next++];
      open_value(item, out, stack);  // may invalidate f
    }
  }
}

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameBytes) return false;
  // Names end up on an admin's terminal: no control characters.
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool valid_digest(std::string_view d) {
  return d.size() == 64 &&
         std::all_of(d.begin(), d.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Status check_names(const std::string& server, const std::string& tool) {
  if (!valid_name(server) || !valid_name(tool))
    return make_error("pin_invalid", "server and tool names must be 1.." + std::to_string(kMaxNameBytes) +
                                         " bytes without control characters");
  return Ok{};
}

// One SELECT returning a single optional text row.
Result<std::optional<std::pair<std::string, std::string>>> select_pair(store::Db& db, std::string_view sql,
                                                                        const std::string& a, const std::string& b,
                                                                        const std::string* c = nullptr) {
  auto st = db.prepare(sql);
  if (!st) return st.error();
  st->bind(1, a).bind(2, b);
  if (c != nullptr) st->bind(3, *c);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<std::pair<std::string, std::string>>{};
  return std::optional<std::pair<std::string, std::string>>(std::make_pair(st->text(0), st->text(1)));
}

}  // namespace

std::string canonical_tool_definition(const json::object& tool) {
  // The pinned fields in byte order, read in place (no copy of the schemas).
  std::vector<std::string_view> fields(std::begin(kPinnedToolFields), std::end(kPinnedToolFields));
  std::sort(fields.begin(), fields.end());
  std::string out = "{";
  for (std::string_view field : fields) {
    const json::value* v = tool.if_contains(field);
    if (v == nullptr) continue;
    if (out.size() > 1) out += ',';
    append_string(out, field);
    out += ':';
    append_canonical(*v, out);
  }
  out += '}';
  return out;
}

std::string tool_definition_digest(const json::object& tool) {
  return audit::to_hex(audit::sha256(canonical_tool_definition(tool)));
}

std::string_view to_string(PinState s) {
  switch (s) {
    case PinState::kApproved: return "approved";
    case PinState::kPending: return "pending";
    case PinState::kRejected: return "rejected";
  }
  return "?";
}

Result<std::unique_ptr<PinStore>> PinStore::open(const std::string& path, bool approve_first_use) {
  auto db = store::Db::open(path);
  if (!db) return db.error();
  auto st = db->exec(
      "CREATE TABLE IF NOT EXISTS tool_pins ("
      " server TEXT NOT NULL, tool TEXT NOT NULL, digest TEXT NOT NULL, definition TEXT NOT NULL,"
      " approved_by TEXT NOT NULL, approved_ms INTEGER NOT NULL, PRIMARY KEY (server, tool));"
      "CREATE TABLE IF NOT EXISTS tool_pending ("
      " server TEXT NOT NULL, tool TEXT NOT NULL, digest TEXT NOT NULL, definition TEXT NOT NULL,"
      " first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL, PRIMARY KEY (server, tool));"
      "CREATE TABLE IF NOT EXISTS tool_rejected ("
      " server TEXT NOT NULL, tool TEXT NOT NULL, digest TEXT NOT NULL, definition TEXT NOT NULL,"
      " rejected_by TEXT NOT NULL, rejected_ms INTEGER NOT NULL, PRIMARY KEY (server, tool, digest));"
      // AUTOINCREMENT: ids are never reused after pruning, so events_after()
      // cursors stay valid.
      "CREATE TABLE IF NOT EXISTS tool_pin_events ("
      " id INTEGER PRIMARY KEY AUTOINCREMENT, server TEXT NOT NULL, tool TEXT NOT NULL, action TEXT NOT NULL,"
      " digest TEXT NOT NULL, previous_digest TEXT NOT NULL, decided_by TEXT NOT NULL, time_ms INTEGER NOT NULL);");
  if (!st) return st.error();
  return std::unique_ptr<PinStore>(new PinStore(std::move(*db), approve_first_use));
}

Status PinStore::refresh_locked() {
  auto version = db_.data_version();
  if (!version) return version.error();
  if (*version == seen_version_) return Ok{};
  std::map<Key, ToolEntry> fresh;
  auto load = [&](std::string_view sql, auto&& apply) -> Status {
    auto st = db_.prepare(sql);
    if (!st) return st.error();
    for (;;) {
      auto row = st->step();
      if (!row) return row.error();
      if (!*row) return Ok{};
      apply(fresh[Key{st->text(0), st->text(1)}], *st);
    }
  };
  if (auto s = load("SELECT server, tool, digest FROM tool_pins",
                    [](ToolEntry& e, store::Stmt& st) { e.pinned = st.text(2); });
      !s)
    return s;
  if (auto s = load("SELECT server, tool, digest, last_seen_ms FROM tool_pending",
                    [](ToolEntry& e, store::Stmt& st) {
                      e.pending = st.text(2);
                      e.pending_last_seen_ms = st.int64(3);
                    });
      !s)
    return s;
  if (auto s = load("SELECT server, tool, digest FROM tool_rejected",
                    [](ToolEntry& e, store::Stmt& st) { e.rejected.insert(st.text(2)); });
      !s)
    return s;
  cache_ = std::move(fresh);
  seen_version_ = *version;
  return Ok{};
}

Result<PinStore::ToolEntry> PinStore::read_entry_locked(const std::string& server, const std::string& tool) {
  ToolEntry e;
  auto pin = select_pair(db_, "SELECT digest, '' FROM tool_pins WHERE server = ?1 AND tool = ?2", server, tool);
  if (!pin) return pin.error();
  if (*pin) e.pinned = (*pin)->first;
  auto pend = db_.prepare("SELECT digest, last_seen_ms FROM tool_pending WHERE server = ?1 AND tool = ?2");
  if (!pend) return pend.error();
  pend->bind(1, server).bind(2, tool);
  auto pend_row = pend->step();
  if (!pend_row) return pend_row.error();
  if (*pend_row) {
    e.pending = pend->text(0);
    e.pending_last_seen_ms = pend->int64(1);
  }
  auto st = db_.prepare("SELECT digest FROM tool_rejected WHERE server = ?1 AND tool = ?2");
  if (!st) return st.error();
  st->bind(1, server).bind(2, tool);
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    e.rejected.insert(st->text(0));
  }
  return e;
}

Status PinStore::add_event_locked(const PinEvent& e) {
  auto st = db_.prepare(
      "INSERT INTO tool_pin_events(server, tool, action, digest, previous_digest, decided_by, time_ms)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!st) return st.error();
  st->bind(1, e.server).bind(2, e.tool).bind(3, e.action).bind(4, e.digest).bind(5, e.previous_digest);
  st->bind(6, e.by).bind(7, e.time_ms);
  if (auto s = st->run(); !s) return s;
  auto prune = db_.prepare("DELETE FROM tool_pin_events WHERE id <= (SELECT MAX(id) FROM tool_pin_events) - ?1");
  if (!prune) return prune.error();
  prune->bind(1, kMaxEvents);
  return prune->run();
}

Result<PinVerdict> PinStore::observe(const std::string& server, const std::string& tool,
                                     const json::object& definition, int64_t now_ms) {
  if (auto s = check_names(server, tool); !s) return s.error();
  std::string canonical = canonical_tool_definition(definition);
  if (canonical.size() > kMaxDefinitionBytes)
    return make_error("tool_definition_too_large", "the definition of tool `" + tool + "` of server `" + server +
                                                       "` is larger than " + std::to_string(kMaxDefinitionBytes) +
                                                       " bytes");
  std::string digest = audit::to_hex(audit::sha256(canonical));

  std::lock_guard lock(mu_);
  if (auto s = refresh_locked(); !s) return s.error();
  if (auto it = cache_.find(Key{server, tool}); it != cache_.end()) {
    const ToolEntry& e = it->second;
    PinVerdict v{PinState::kApproved, false, !e.pinned.empty() && e.pinned != digest, e.pinned, digest};
    if (e.pinned == digest) return v;
    if (e.rejected.count(digest)) {
      v.state = PinState::kRejected;
      return v;
    }
    if (e.pending == digest && now_ms - e.pending_last_seen_ms < kLastSeenRefreshMs) {
      v.state = PinState::kPending;
      return v;
    }
  }
  return observe_slow_locked(server, tool, digest, canonical, now_ms);
}

// Decides from the rows themselves inside a write transaction: another
// process may have changed them since the cache was loaded.
Result<PinVerdict> PinStore::observe_slow_locked(const std::string& server, const std::string& tool,
                                                 const std::string& digest, const std::string& definition,
                                                 int64_t now_ms) {
  auto tx = store::Transaction::begin(db_);
  if (!tx) return tx.error();
  auto entry = read_entry_locked(server, tool);
  if (!entry) return entry.error();
  ToolEntry& e = *entry;
  bool first_seen = e.pinned.empty() && e.pending.empty() && e.rejected.empty();
  PinVerdict v{PinState::kPending, first_seen, !e.pinned.empty() && e.pinned != digest, e.pinned, digest};

  if (e.pinned == digest) {
    v.state = PinState::kApproved;
  } else if (e.rejected.count(digest)) {
    v.state = PinState::kRejected;
  } else if (e.pending == digest) {
    auto st = db_.prepare("UPDATE tool_pending SET last_seen_ms = ?3 WHERE server = ?1 AND tool = ?2");
    if (!st) return st.error();
    st->bind(1, server).bind(2, tool).bind(3, now_ms);
    if (auto s = st->run(); !s) return s.error();
    e.pending_last_seen_ms = now_ms;
  } else {
    if (first_seen) {
      auto count = db_.prepare(
          "SELECT COUNT(*), COALESCE(SUM(server = ?1), 0) FROM (SELECT server, tool FROM tool_pins"
          " UNION SELECT server, tool FROM tool_pending UNION SELECT server, tool FROM tool_rejected)");
      if (!count) return count.error();
      count->bind(1, server);
      auto row = count->step();
      if (!row) return row.error();
      if (count->int64(0) >= static_cast<int64_t>(kMaxTools) ||
          count->int64(1) >= static_cast<int64_t>(kMaxToolsPerServer))
        return make_error("pin_store_full", "the pin store holds the maximum number of tools (" +
                                                std::to_string(kMaxTools) + ", " + std::to_string(kMaxToolsPerServer) +
                                                " per server); tool `" + tool + "` of `" + server + "` is blocked");
    }
    if (first_seen && approve_first_use_) {
      auto st = db_.prepare(
          "INSERT INTO tool_pins(server, tool, digest, definition, approved_by, approved_ms)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
      if (!st) return st.error();
      st->bind(1, server).bind(2, tool).bind(3, digest).bind(4, definition).bind(5, kFirstUseBy).bind(6, now_ms);
      if (auto s = st->run(); !s) return s.error();
      if (auto s = add_event_locked(PinEvent{0, server, tool, "pinned", digest, "", kFirstUseBy, now_ms}); !s)
        return s.error();
      e.pinned = digest;
      v.state = PinState::kApproved;
      v.pinned_digest = digest;
    } else {
      auto st = db_.prepare(
          "INSERT INTO tool_pending(server, tool, digest, definition, first_seen_ms, last_seen_ms)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT(server, tool) DO UPDATE SET digest = excluded.digest,"
          " definition = excluded.definition, first_seen_ms = excluded.first_seen_ms,"
          " last_seen_ms = excluded.last_seen_ms");
      if (!st) return st.error();
      st->bind(1, server).bind(2, tool).bind(3, digest).bind(4, definition).bind(5, now_ms);
      if (auto s = st->run(); !s) return s.error();
      if (auto s = add_event_locked(PinEvent{0, server, tool, "changed", digest, e.pinned, "", now_ms}); !s)
        return s.error();
      e.pending = digest;
      e.pending_last_seen_ms = now_ms;
    }
  }
  if (auto s = tx->commit(); !s) return s.error();
  cache_[Key{server, tool}] = std::move(e);
  return v;
}

Result<std::vector<PendingChange>> PinStore::pending() {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "SELECT p.server, p.tool, COALESCE(t.digest, ''), p.digest, COALESCE(t.definition, ''), p.definition,"
      " p.first_seen_ms, p.last_seen_ms FROM tool_pending p LEFT JOIN tool_pins t"
      " ON t.server = p.server AND t.tool = p.tool ORDER BY p.server, p.tool");
  if (!st) return st.error();
  std::vector<PendingChange> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(PendingChange{st->text(0), st->text(1), st->text(2), st->text(3), st->text(4), st->text(5),
                                st->int64(6), st->int64(7)});
  }
  return out;
}

Status PinStore::approve(const std::string& server, const std::string& tool, const std::string& digest,
                         const std::string& by, int64_t now_ms) {
  return decide(server, tool, digest, by, now_ms, /*approve=*/true);
}

Status PinStore::reject(const std::string& server, const std::string& tool, const std::string& digest,
                        const std::string& by, int64_t now_ms) {
  return decide(server, tool, digest, by, now_ms, /*approve=*/false);
}

Status PinStore::decide(const std::string& server, const std::string& tool, const std::string& digest,
                        const std::string& by, int64_t now_ms, bool approve) {
  if (auto s = check_names(server, tool); !s) return s;
  if (!valid_digest(digest)) return make_error("pin_invalid", "a digest is 64 lowercase hex digits");
  if (!valid_name(by)) return make_error("pin_invalid", "name who decides (--by): 1..256 bytes");
  std::lock_guard lock(mu_);
  auto tx = store::Transaction::begin(db_);
  if (!tx) return tx.error();
  using Row = std::optional<std::pair<std::string, std::string>>;  // digest, definition
  auto pin = select_pair(db_, "SELECT digest, definition FROM tool_pins WHERE server = ?1 AND tool = ?2", server, tool);
  if (!pin) return pin.error();
  auto pend =
      select_pair(db_, "SELECT digest, definition FROM tool_pending WHERE server = ?1 AND tool = ?2", server, tool);
  if (!pend) return pend.error();
  auto rej = select_pair(db_, "SELECT digest, definition FROM tool_rejected WHERE server = ?1 AND tool = ?2 AND digest = ?3",
                         server, tool, &digest);
  if (!rej) return rej.error();
  const Row& pinned = *pin;
  const Row& pending_row = *pend;
  const Row& rejected = *rej;
  std::string previous = pinned ? pinned->first : "";
  bool is_pending = pending_row && pending_row->first == digest;
  bool is_pinned = pinned && pinned->first == digest;

  auto exec = [&](std::string_view sql, auto&&... binds) -> Status {
    auto st = db_.prepare(sql);
    if (!st) return st.error();
    int i = 0;
    (st->bind(++i, binds), ...);
    return st->run();
  };
  auto missing = [&]() -> Status {
    if (pending_row)
      return make_error("pin_digest_mismatch", "the pending definition of `" + tool + "` (" + server + ") is " +
                                                   pending_row->first + " now, not " + digest +
                                                   ": review it again (ztgate tools pending)");
    return make_error("pin_not_found", "no pending or rejected definition " + digest + " for tool `" + tool +
                                           "` of server `" + server + "`");
  };

  if (approve) {
    if (is_pinned) return Ok{};  // already the pin; the transaction rolls back
    std::string definition;
    if (is_pending) definition = pending_row->second;
    else if (rejected) definition = rejected->second;
    else return missing();
    if (auto s = exec("INSERT INTO tool_pins(server, tool, digest, definition, approved_by, approved_ms)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(server, tool) DO UPDATE SET"
                      " digest = excluded.digest, definition = excluded.definition,"
                      " approved_by = excluded.approved_by, approved_ms = excluded.approved_ms",
                      server, tool, digest, definition, by, now_ms);
        !s)
      return s;
    if (is_pending)
      if (auto s = exec("DELETE FROM tool_pending WHERE server = ?1 AND tool = ?2", server, tool); !s) return s;
    if (auto s = exec("DELETE FROM tool_rejected WHERE server = ?1 AND tool = ?2 AND digest = ?3", server, tool, digest);
        !s)
      return s;
  } else {
    if (rejected && !is_pending && !is_pinned) return Ok{};  // already rejected
    std::string definition;
    if (is_pending) definition = pending_row->second;
    else if (is_pinned) definition = pinned->second;
    else return missing();
    if (auto s = exec("INSERT OR REPLACE INTO tool_rejected(server, tool, digest, definition, rejected_by, rejected_ms)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                      server, tool, digest, definition, by, now_ms);
        !s)
      return s;
    if (is_pending)
      if (auto s = exec("DELETE FROM tool_pending WHERE server = ?1 AND tool = ?2", server, tool); !s) return s;
    if (is_pinned)
      if (auto s = exec("DELETE FROM tool_pins WHERE server = ?1 AND tool = ?2", server, tool); !s) return s;
    if (auto s = exec("DELETE FROM tool_rejected WHERE server = ?1 AND tool = ?2 AND digest NOT IN"
                      " (SELECT digest FROM tool_rejected WHERE server = ?1 AND tool = ?2"
                      " ORDER BY rejected_ms DESC, rowid DESC LIMIT ?3)",
                      server, tool, static_cast<int64_t>(kMaxRejectedPerTool));
        !s)
      return s;
  }
  if (auto s = add_event_locked(PinEvent{0, server, tool, approve ? "approved" : "rejected", digest, previous, by, now_ms});
      !s)
    return s;
  if (auto s = tx->commit(); !s) return s;
  auto entry = read_entry_locked(server, tool);
  if (!entry) {
    seen_version_ = -1;  // reload everything next time
    return entry.error();
  }
  cache_[Key{server, tool}] = std::move(*entry);
  return Ok{};
}

Result<std::vector<PinEvent>> PinStore::events_after(int64_t after_id, size_t limit) {
  limit = std::clamp<size_t>(limit, 1, kMaxEventsPage);
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "SELECT id, server, tool, action, digest, previous_digest, decided_by, time_ms FROM tool_pin_events"
      " WHERE id > ?1 ORDER BY id LIMIT ?2");
  if (!st) return st.error();
  st->bind(1, after_id).bind(2, static_cast<int64_t>(limit));
  std::vector<PinEvent> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(PinEvent{st->int64(0), st->text(1), st->text(2), st->text(3), st->text(4), st->text(5),
                           st->text(6), st->int64(7)});
  }
  return out;
}

}  // namespace ztgate::mcp
