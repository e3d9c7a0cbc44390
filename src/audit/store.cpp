#include "audit/store.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pthread.h>

#include <algorithm>
#include <bit>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>

#include "audit/chain.h"
#include "audit/postings.h"
#include "store/sqlite.h"

namespace ztgate::audit {
namespace {

// The tables every version has.
constexpr std::string_view kCommonSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints(
  seq INTEGER PRIMARY KEY,
  chain_uid TEXT NOT NULL,
  head BLOB NOT NULL,
  time_ms INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  signature BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS cursors(sink TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS archives(
  first_seq INTEGER PRIMARY KEY,
  last_seq INTEGER NOT NULL,
  last_fingerprint BLOB NOT NULL,
  path TEXT NOT NULL,
  file_sha256 TEXT NOT NULL,
  time_ms INTEGER NOT NULL);
)sql";

// Schema versions (meta `schema_version`; none = 1). A store keeps the
// version it was created with: all are read and appended to.
//
// The records table of versions 1 and 3 (version 2 adds key columns).
constexpr std::string_view kRecordsTable = R"sql(
CREATE TABLE IF NOT EXISTS records(
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  route TEXT NOT NULL,
  principal TEXT NOT NULL,
  agent TEXT NOT NULL,
  action TEXT NOT NULL,
  resource TEXT NOT NULL,
  decision TEXT NOT NULL,
  findings TEXT NOT NULL,
  text TEXT NOT NULL);
)sql";

// 1: the indexed fields are indexed as text (the agent and findings indexes
//    are partial: only records that have one).
constexpr std::string_view kRecordsV1Indexes = R"sql(
CREATE INDEX IF NOT EXISTS records_time ON records(time_ms);
CREATE INDEX IF NOT EXISTS records_principal ON records(principal);
CREATE INDEX IF NOT EXISTS records_action ON records(action);
CREATE INDEX IF NOT EXISTS records_resource ON records(resource);
CREATE INDEX IF NOT EXISTS records_decision ON records(decision);
CREATE INDEX IF NOT EXISTS records_agent ON records(agent) WHERE agent <> '';
CREATE INDEX IF NOT EXISTS records_findings ON records(findings) WHERE findings <> '';
)sql";

// 2: principal, agent, action and resource are indexed by an integer key
//    beside their text (index_key(): 0 for "", else a keyed 47-bit hash):
//    an index entry is less than half the size and its insert about half
//    the cost (bench/audit_trail_bench); a search compares the key and the
//    text, so a collision costs reading a row, never a wrong answer. No
//    index on findings: a search matches one category inside the list,
//    which an index on the whole text cannot serve (version 1's was never
//    used).
constexpr std::string_view kRecordsV2 = R"sql(
CREATE TABLE IF NOT EXISTS records(
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  route TEXT NOT NULL,
  principal TEXT NOT NULL,
  agent TEXT NOT NULL,
  action TEXT NOT NULL,
  resource TEXT NOT NULL,
  decision TEXT NOT NULL,
  findings TEXT NOT NULL,
  principal_key INTEGER NOT NULL,
  agent_key INTEGER NOT NULL,
  action_key INTEGER NOT NULL,
  resource_key INTEGER NOT NULL,
  text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_time ON records(time_ms);
CREATE INDEX IF NOT EXISTS records_principal_key ON records(principal_key);
CREATE INDEX IF NOT EXISTS records_agent_key ON records(agent_key) WHERE agent_key <> 0;
CREATE INDEX IF NOT EXISTS records_action_key ON records(action_key);
CREATE INDEX IF NOT EXISTS records_resource_key ON records(resource_key);
CREATE INDEX IF NOT EXISTS records_decision ON records(decision);
)sql";

// 3: no index on the records table at all. Each commit group (one append:
//    up to max_batch records) adds one `record_groups` row (its seq range
//    and time range) and one `postings` row per distinct value of each of
//    principal, agent, action, resource and decision among its records:
//    the list of the group's seqs holding it (postings.h), keyed by
//    index_key(). ~30 rows per 4,096-record group instead of ~24,000 index
//    entries (six per record): the writer's B-tree inserts were most of its
//    CPU. A search walks one filter's lists (or the seq range the groups'
//    time ranges allow) and checks every record it reads against every
//    filter (query_grouped). Neither table is covered by the chain: verify
//    rebuilds the lists from the records and compares (check_index).
constexpr std::string_view kRecordsV3Tables = R"sql(
CREATE TABLE IF NOT EXISTS record_groups(
  first_seq INTEGER PRIMARY KEY,
  last_seq INTEGER NOT NULL,
  min_time_ms INTEGER NOT NULL,
  max_time_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS postings(
  field INTEGER NOT NULL,
  key INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  seqs BLOB NOT NULL,
  PRIMARY KEY(field, key, first_seq)) WITHOUT ROWID;
)sql";

constexpr int kLatestVersion = 3;

std::string records_schema(int version) {
  if (version == 2) return std::string(kRecordsV2);
  return std::string(kRecordsTable) + std::string(version == 1 ? kRecordsV1Indexes : kRecordsV3Tables);
}

// index_key() (postings.h) gives an indexed text's key: 0 for "", else a
// 47-bit hash keyed with the store's own random salt (never 0; 47 bits:
// SQLite stores it in 6 bytes). Versions 2 and 3 store the keys: it must
// never change.

constexpr std::string_view kRecordColumns =
    "seq, time_ms, request_id, route, principal, agent, action, resource, decision, findings, text";

// The query's filter on an indexed field ("" = none).
const std::string& query_value(const Query& q, IndexedField f) {
  switch (f) {
    case IndexedField::principal: return q.principal;
    case IndexedField::agent: return q.agent;
    case IndexedField::action: return q.action;
    case IndexedField::resource: return q.resource;
    case IndexedField::decision: break;
  }
  return q.decision;
}

Error store_error(const Error& e) { return Error{"audit_store", e.message}; }

std::string_view blob(const Digest& d) { return {reinterpret_cast<const char*>(d.data()), d.size()}; }

Digest digest_of(const std::string& bytes) {
  Digest d{};
  if (bytes.size() == d.size()) std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

StoredRecord read_record(const store::Stmt& st) {
  StoredRecord r;
  r.seq = static_cast<uint64_t>(st.int64(0));
  r.event.time_ms = st.int64(1);
  r.event.request_id = st.text(2);
  r.event.route = st.text(3);
  r.event.principal = st.text(4);
  r.event.agent = st.text(5);
  r.event.action = st.text(6);
  r.event.resource = st.text(7);
  r.event.decision = st.text(8);
  r.event.findings = st.text(9);
  r.text = st.text(10);
  return r;
}

Checkpoint read_checkpoint(const store::Stmt& st) {
  Checkpoint c;
  c.seq = static_cast<uint64_t>(st.int64(0));
  c.chain_uid = st.text(1);
  c.head = digest_of(st.text(2));
  c.time_ms = st.int64(3);
  c.key_id = st.text(4);
  c.signature = st.text(5);
  return c;
}

// Copies the WAL into the database file on a connection and a thread of
// its own, when poked (AuditStore::checkpoint_in_background). Pokes that
// arrive while it copies make one more copy. Failures are not reported:
// the writer's own commits report a failing disk, and its restart of the
// log checkpoints on its own connection anyway.
class BackgroundCheckpoint {
 public:
  explicit BackgroundCheckpoint(store::Db db) : db_(std::move(db)), thread_([this] { loop(); }) {}
  ~BackgroundCheckpoint() {
    {
      std::lock_guard lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  BackgroundCheckpoint(const BackgroundCheckpoint&) = delete;
  BackgroundCheckpoint& operator=(const BackgroundCheckpoint&) = delete;

  void poke() {
    {
      std::lock_guard lock(mu_);
      poked_ = true;
    }
    cv_.notify_all();
  }
  bool idle() {
    std::lock_guard lock(mu_);
    return !poked_ && !running_;
  }
  // Until every poke so far has been served.
  void wait_idle() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !poked_ && !running_; });
  }

 private:
  void loop() {
    (void)pthread_setname_np(pthread_self(), "audit-wal");
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return quit_ || poked_; });
      if (quit_) return;
      poked_ = false;
      running_ = true;
      lock.unlock();
      (void)db_.exec("PRAGMA wal_checkpoint(PASSIVE);");
      lock.lock();
      running_ = false;
      cv_.notify_all();
    }
  }

  store::Db db_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool poked_ = false;
  bool running_ = false;
  bool quit_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace

std::optional<int64_t> parse_utc_time_ms(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr || std::string_view(end) != "Z") return std::nullopt;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

struct AuditStore::Impl {
  std::mutex mu;  // one connection: statements are not shareable across threads
  store::Db db;
  std::string chain_uid;
  int version = 1;
  uint64_t key_salt = 0;  // versions 2 and 3: index_key()'s
  std::optional<store::Stmt> insert_record;
  std::optional<store::Stmt> insert_checkpoint;
  std::optional<store::Stmt> insert_group;    // version 3
  std::optional<store::Stmt> insert_posting;  // version 3
  PostingBuilder postings;                    // version 3: the group's lists

  // checkpoint_in_background(): the pages in the log after the last commit
  // (SQLite's WAL hook tells), and when the background copy was last poked.
  std::unique_ptr<BackgroundCheckpoint> background;
  int64_t page_bytes = 4096;
  int64_t log_pages = 0;
  int64_t poked_at_pages = 0;
  int64_t pages_before_commit = 0;
  static constexpr int64_t kLargeCommitBytes = int64_t{1} << 20;
  static constexpr int64_t kPokeBytes = int64_t{8} << 20;
  static constexpr int64_t kRestartIdleBytes = int64_t{16} << 20;
  static constexpr int64_t kRestartBytes = int64_t{64} << 20;

  explicit Impl(store::Db d) : db(std::move(d)) {}

  // Before a transaction: once the log holds kRestartBytes, wait for the
  // background copy and finish it here, so that this transaction's commit
  // starts the log over (SQLite restarts it only when a write transaction
  // begins with every frame copied). The copy of the last group is the
  // only checkpoint work the writer still waits for. From kRestartIdleBytes
  // on, the log starts over whenever the copy is idle anyway (small
  // commits: a log that starts over sooner is overwritten in place, and a
  // commit that does not grow the file syncs no file size: the first
  // 64 MiB of a fresh log would add ~0.1 ms to every sync commit).
  void restart_log_if_due() {
    const int64_t log_bytes = log_pages * page_bytes;
    if (!background || log_bytes < kRestartIdleBytes) return;
    if (log_bytes < kRestartBytes && !background->idle()) return;
    background->wait_idle();
    // After a large commit nothing is left to copy (committed() poked
    // after it); after small ones, what they added since the last copy:
    // mostly the same few pages rewritten.
    (void)db.exec("PRAGMA wal_checkpoint(PASSIVE);");
  }

  // After a commit (the WAL hook has set log_pages): the copy runs after
  // every large commit (a group of async records: it is then idle with
  // everything copied when the writer looks, else the writer's own
  // checkpoint above copies that group itself), and every kPokeBytes of
  // log made of small ones (sync records: a copy, and its fsync, per commit
  // would double the fsyncs).
  void committed() {
    if (!background) return;
    int64_t before = pages_before_commit;
    if (log_pages < before) before = 0;  // the log started over
    if (log_pages < poked_at_pages) poked_at_pages = 0;
    pages_before_commit = log_pages;
    bool large = (log_pages - before) * page_bytes >= kLargeCommitBytes;
    if (log_pages > poked_at_pages && (large || (log_pages - poked_at_pages) * page_bytes >= kPokeBytes)) {
      poked_at_pages = log_pages;
      background->poke();
    }
  }

  Result<std::optional<std::string>> meta(std::string_view key) {
    auto st = db.prepare("SELECT value FROM meta WHERE key = ?1");
    if (!st) return store_error(st.error());
    st->bind(1, key);
    auto row = st->step();
    if (!row) return store_error(row.error());
    if (!*row) return std::optional<std::string>{};
    return std::optional<std::string>(st->text(0));
  }

  Status set_meta(std::string_view key, std::string_view value) {
    auto st = db.prepare("INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2");
    if (!st) return store_error(st.error());
    st->bind(1, key).bind(2, value);
    if (auto r = st->run(); !r) return store_error(r.error());
    return Ok{};
  }

  Result<std::vector<StoredRecord>> records(std::string_view sql, const std::function<void(store::Stmt&)>& bind) {
    auto st = db.prepare(sql);
    if (!st) return store_error(st.error());
    bind(*st);
    std::vector<StoredRecord> out;
    while (true) {
      auto row = st->step();
      if (!row) return store_error(row.error());
      if (!*row) break;
      out.push_back(read_record(*st));
    }
    return out;
  }

  // A new store gets 32 KiB pages: a sealed record (1.5-4 KiB) is stored
  // whole in one page, so a page holds whole records and the rest of it is
  // left empty (16 KiB pages held four ~3.3 KiB records and 17% of the file
  // was empty space, written to the WAL, copied and synced like the rest);
  // bigger pages also mean fewer WAL frames, page-cache operations and
  // B-tree splits per record (32 KiB: about a tenth less CPU per async
  // record than 16 KiB in bench/audit_trail_bench). Not more: a sync commit of
  // one record writes its table page and up to seven index pages whole
  // (32 KiB costs a lone sync commit ~25 us more CPU than 16 KiB, 64 KiB
  // ~100 us more). SQLite fixes the page size once the file is in WAL mode
  // (Db::open put it there), so an empty store goes back to a rollback
  // journal, takes the size (VACUUM rebuilds the empty file) and returns to
  // WAL. Existing stores keep their page size.
  Status use_large_pages_if_new() {
    auto tables = scalar("SELECT count(*) FROM sqlite_schema");
    if (!tables) return tables.error();
    if (*tables != 0) return Ok{};
    // Best effort: a failure here only costs the page size...
    (void)db.exec("PRAGMA journal_mode=DELETE; PRAGMA page_size=32768; VACUUM;");
    // ...as long as the store is back in WAL mode.
    if (auto st = db.exec("PRAGMA journal_mode=WAL;"); !st) return store_error(st.error());
    return Ok{};
  }

  // A new store gets the latest version; an existing one keeps its own
  // (its missing tables and indexes are created again, as they always were).
  // One transaction: two processes opening a new store agree on it.
  Status create_schema() {
    if (auto st = db.exec(kCommonSchema); !st) return store_error(st.error());
    auto tx = store::Transaction::begin(db);
    if (!tx) return store_error(tx.error());
    auto exists = scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'records'");
    if (!exists) return exists.error();
    if (*exists == 0) {
      unsigned char salt[8];
      if (RAND_bytes(salt, sizeof salt) != 1) return Error{"audit_store", "no randomness for the index key"};
      if (auto st = set_meta("schema_version", std::to_string(kLatestVersion)); !st) return st;
      if (auto st = set_meta("index_key", to_hex(std::string_view(reinterpret_cast<char*>(salt), sizeof salt))); !st)
        return st;
      if (auto st = db.exec(records_schema(kLatestVersion)); !st) return store_error(st.error());
    } else {
      if (auto st = read_version(); !st) return st;
      if (auto st = db.exec(records_schema(version)); !st) return store_error(st.error());
    }
    if (auto st = tx->commit(); !st) return store_error(st.error());
    return Ok{};
  }

  Status read_version() {
    auto v = meta("schema_version");
    if (!v) return v.error();
    version = *v ? std::atoi((*v)->c_str()) : 1;
    if (version < 1 || version > kLatestVersion)
      return Error{"audit_store", "the audit store has schema version " + **v + ", newer than this ztgate reads"};
    if (version >= 2) {
      auto key = meta("index_key");
      if (!key) return key.error();
      auto bytes = *key ? bytes_from_hex(**key) : std::nullopt;
      if (!bytes || bytes->size() != 8) return Error{"audit_store", "the audit store's index key is missing or malformed"};
      key_salt = 0;
      for (unsigned char c : *bytes) key_salt = (key_salt << 8) | c;
    }
    return Ok{};
  }

  // Version 3: the commit group's row and its posting lists (the records
  // were added to `postings` as they were inserted).
  Status insert_group_rows(uint64_t first_seq, uint64_t last_seq, int64_t min_time, int64_t max_time) {
    auto& g = *insert_group;
    g.reset();
    g.bind(1, static_cast<int64_t>(first_seq))
        .bind(2, static_cast<int64_t>(last_seq))
        .bind(3, min_time)
        .bind(4, max_time);
    auto st = g.run();
    g.reset();
    if (!st) return store_error(st.error());
    auto& p = *insert_posting;
    for (const Posting& list : postings.finish()) {
      p.reset();
      p.bind(1, static_cast<int64_t>(list.field))
          .bind(2, list.key)
          .bind(3, static_cast<int64_t>(first_seq))
          .bind_blob(4, list.seqs);
      if (auto r = p.run(); !r) {
        p.reset();
        return store_error(r.error());
      }
    }
    p.reset();
    return Ok{};
  }

  // Version 3's search. The seq range to look in: the page's cursor, narrowed
  // to the groups whose time range meets the query's. Then either the
  // lists of one indexed filter's value (kIndexedFields' order) name the
  // candidates, or (no indexed filter) the range is scanned; either way
  // every record read is checked against every filter in SQL, so a key
  // shared by two values, or a list naming a pruned record, only costs a
  // read. Same answers, in the same order, as versions 1 and 2.
  Result<QueryPage> query_grouped(const Query& q, size_t limit) {
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    QueryPage page;
    int64_t lo = 1, hi = kMax;
    if (q.newest_first) {
      if (q.before_seq > 0) hi = static_cast<int64_t>(std::min<uint64_t>(q.before_seq, kMax)) - 1;
    } else {
      if (q.after_seq >= static_cast<uint64_t>(kMax)) return page;
      lo = static_cast<int64_t>(q.after_seq) + 1;
    }
    if (q.since_ms || q.until_ms) {
      std::string sql = "SELECT MIN(first_seq), MAX(last_seq) FROM record_groups WHERE 1";
      if (q.since_ms) sql += " AND max_time_ms >= ?1";
      if (q.until_ms) sql += " AND min_time_ms < ?2";
      auto st = db.prepare(sql);
      if (!st) return store_error(st.error());
      if (q.since_ms) st->bind(1, *q.since_ms);
      if (q.until_ms) st->bind(2, *q.until_ms);
      auto row = st->step();
      if (!row) return store_error(row.error());
      if (!*row || st->is_null(0)) return page;
      lo = std::max(lo, st->int64(0));
      hi = std::min(hi, st->int64(1));
    }
    if (lo > hi) return page;

    // The check every record read passes: ?1..?2 its seq range, then the filters.
    std::string sql = "SELECT " + std::string(kRecordColumns) + " FROM records WHERE seq BETWEEN ?1 AND ?2";
    std::vector<const std::string*> texts;
    const IndexedFieldInfo* walk = nullptr;  // the filter whose lists name the candidates
    int param = 3;
    auto text_filter = [&](const char* column, const std::string& value) {
      if (value.empty()) return;
      sql += std::string(" AND ") + column + " = ?" + std::to_string(param++);
      texts.push_back(&value);
    };
    for (const auto& f : kIndexedFields) {
      const std::string& value = query_value(q, f.field);
      if (!value.empty() && walk == nullptr) walk = &f;
      text_filter(f.column, value);
    }
    text_filter("route", q.route);
    text_filter("request_id", q.request_id);
    int finding_param = 0, since_param = 0, until_param = 0;
    if (!q.finding.empty()) {
      finding_param = param++;
      sql += " AND findings <> '' AND instr(' ' || findings || ' ', ' ' || ?" + std::to_string(finding_param) +
             " || ' ') > 0";
    }
    if (q.since_ms) sql += " AND time_ms >= ?" + std::to_string(since_param = param++);
    if (q.until_ms) sql += " AND time_ms < ?" + std::to_string(until_param = param++);
    const char* order = q.newest_first ? " DESC" : " ASC";
    if (walk == nullptr) sql += std::string(" ORDER BY seq") + order + " LIMIT " + std::to_string(limit + 1);
    auto check = db.prepare(sql);
    if (!check) return store_error(check.error());
    auto bind_filters = [&](store::Stmt& st) {
      int i = 3;
      for (const std::string* t : texts) st.bind(i++, *t);
      if (finding_param) st.bind(finding_param, q.finding);
      if (since_param) st.bind(since_param, *q.since_ms);
      if (until_param) st.bind(until_param, *q.until_ms);
    };
    auto read_rows = [&](store::Stmt& st) -> Status {
      while (page.records.size() <= limit) {
        auto row = st.step();
        if (!row) return store_error(row.error());
        if (!*row) break;
        page.records.push_back(read_record(st));
      }
      return Ok{};
    };

    if (walk == nullptr) {
      check->bind(1, lo).bind(2, hi);
      bind_filters(*check);
      if (auto st = read_rows(*check); !st) return st.error();
    } else {
      // The lists of groups that may hold seqs in [lo, hi]: from the group
      // holding lo (it may start before it) to hi.
      auto lists = db.prepare(
          "SELECT first_seq, seqs FROM postings WHERE field = ?1 AND key = ?2 AND first_seq BETWEEN "
          "(SELECT IFNULL(MAX(first_seq), 0) FROM record_groups WHERE first_seq <= ?3) AND ?4 ORDER BY first_seq" +
          std::string(order));
      if (!lists) return store_error(lists.error());
      lists->bind(1, static_cast<int64_t>(walk->field))
          .bind(2, index_key(key_salt, query_value(q, walk->field)))
          .bind(3, lo)
          .bind(4, hi);
      std::vector<uint64_t> seqs;
      while (page.records.size() <= limit) {
        auto row = lists->step();
        if (!row) return store_error(row.error());
        if (!*row) break;
        if (!decode_postings(lists->text(1), static_cast<uint64_t>(lists->int64(0)), seqs))
          return Error{"audit_store", "the audit store's search index is damaged (a malformed posting list)"};
        if (q.newest_first) std::reverse(seqs.begin(), seqs.end());
        for (uint64_t seq : seqs) {
          if (page.records.size() > limit) break;
          const auto s = static_cast<int64_t>(seq);
          if (s < lo || s > hi) continue;
          check->reset();
          check->bind(1, s).bind(2, s);
          bind_filters(*check);
          if (auto st = read_rows(*check); !st) return st.error();
        }
      }
      check->reset();
    }
    if (page.records.size() > limit) {
      page.records.resize(limit);
      page.next = page.records.back().seq;
    }
    return page;
  }

  Result<int64_t> scalar(std::string_view sql) {
    auto st = db.prepare(sql);
    if (!st) return store_error(st.error());
    auto row = st->step();
    if (!row) return store_error(row.error());
    if (!*row || st->is_null(0)) return int64_t{0};
    return st->int64(0);
  }
};

Result<std::unique_ptr<AuditStore>> AuditStore::open(const std::string& path, bool read_only) {
  if (!read_only && path != ":memory:") {
    // Create the file 0600 before SQLite does (it would honour the umask).
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) return Error{"audit_store", "cannot create the audit store " + path};
      ::close(fd);
    }
  }
  store::Db::Options db_options;
  db_options.read_only = read_only;
  db_options.caller_serialized = true;  // every use holds Impl::mu
  auto db = store::Db::open(path, db_options);
  if (!db) return store_error(db.error());
  auto impl = std::make_unique<Impl>(std::move(*db));
  if (!read_only) {
    if (auto st = impl->db.exec("PRAGMA synchronous=FULL;"); !st) return store_error(st.error());
    if (path != ":memory:") {
      if (auto st = impl->use_large_pages_if_new(); !st) return st.error();
    }
    if (auto st = impl->create_schema(); !st) return st.error();
  }
  if (auto st = impl->read_version(); !st) return st.error();
  auto chain = impl->meta("chain_uid");
  if (!chain) return chain.error();
  if (*chain) {
    impl->chain_uid = **chain;
  } else {
    if (read_only) return Error{"audit_store", path + " is not an audit store (no chain id)"};
    unsigned char id[16];
    if (RAND_bytes(id, sizeof id) != 1) return Error{"audit_store", "no randomness for the chain id"};
    impl->chain_uid = to_hex(std::string_view(reinterpret_cast<char*>(id), sizeof id));
    if (auto st = impl->set_meta("chain_uid", impl->chain_uid); !st) return st.error();
  }
  return std::unique_ptr<AuditStore>(new AuditStore(std::move(impl)));
}

AuditStore::AuditStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AuditStore::~AuditStore() = default;

const std::string& AuditStore::chain_uid() const { return impl_->chain_uid; }

Status AuditStore::checkpoint_in_background(const std::string& path) {
  std::lock_guard lock(impl_->mu);
  if (impl_->background || path == ":memory:") return Ok{};
  store::Db::Options options;
  options.caller_serialized = true;  // only the background thread uses it
  auto other = store::Db::open(path, options);
  if (!other) return store_error(other.error());
  // As the writer's: a checkpoint syncs the database file before the log is reused.
  if (auto st = other->exec("PRAGMA synchronous=FULL;"); !st) return store_error(st.error());
  auto page = impl_->scalar("PRAGMA page_size");
  if (!page) return page.error();
  impl_->page_bytes = std::max<int64_t>(*page, 512);
  // Replaces the auto-checkpoint: the store checkpoints (restart_log_if_due, committed).
  Impl* impl = impl_.get();
  impl_->db.set_wal_hook([impl](int pages) { impl->log_pages = pages; });
  impl_->background = std::make_unique<BackgroundCheckpoint>(std::move(*other));
  return Ok{};
}

Status AuditStore::set_cache_kib(size_t kib) {
  std::lock_guard lock(impl_->mu);
  if (auto st = impl_->db.exec("PRAGMA cache_size=-" + std::to_string(kib) + ";"); !st) return store_error(st.error());
  return Ok{};
}

Result<ChainHead> AuditStore::anchor() {
  std::lock_guard lock(impl_->mu);
  auto seq = impl_->meta("anchor_seq");
  if (!seq) return seq.error();
  auto fp = impl_->meta("anchor_fingerprint");
  if (!fp) return fp.error();
  ChainHead h;
  if (!*seq || !*fp) return h;
  h.seq = std::stoull(**seq);
  if (auto d = digest_from_hex(**fp)) h.fingerprint = *d;
  return h;
}

Result<ChainHead> AuditStore::head() {
  {
    std::lock_guard lock(impl_->mu);
    auto st = impl_->db.prepare("SELECT seq, text FROM records ORDER BY seq DESC LIMIT 1");
    if (!st) return store_error(st.error());
    auto row = st->step();
    if (!row) return store_error(row.error());
    if (*row) {
      ChainHead h;
      h.seq = static_cast<uint64_t>(st->int64(0));
      if (auto d = stored_fingerprint(st->text(1))) h.fingerprint = *d;
      return h;
    }
  }
  return anchor();
}

Status AuditStore::append(const std::vector<StoredRecord>& records, const std::vector<Checkpoint>& checkpoints) {
  std::vector<RecordRef> refs;
  refs.reserve(records.size());
  for (const auto& r : records) refs.push_back(RecordRef{r.seq, &r.event, r.text});
  return append(refs, checkpoints);
}

Status AuditStore::append(std::span<const RecordRef> records, const std::vector<Checkpoint>& checkpoints) {
  std::lock_guard lock(impl_->mu);
  // Version 3: one group per append, and its lists must stay readable.
  if (impl_->version >= 3 && records.size() > kMaxGroupRecords)
    return Error{"audit_store", "an append of " + std::to_string(records.size()) + " records is more than one group (" +
                                    std::to_string(kMaxGroupRecords) + ") may hold"};
  impl_->restart_log_if_due();
  auto tx = store::Transaction::begin(impl_->db);
  if (!tx) return store_error(tx.error());
  if (!impl_->insert_record) {
    auto st = impl_->db.prepare(
        impl_->version != 2
            ? "INSERT INTO records(" + std::string(kRecordColumns) +
                  ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            : "INSERT INTO records(" + std::string(kRecordColumns) +
                  ", principal_key, agent_key, action_key, resource_key) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
    if (!st) return store_error(st.error());
    impl_->insert_record.emplace(std::move(*st));
    auto cp = impl_->db.prepare(
        "INSERT INTO checkpoints(seq, chain_uid, head, time_ms, key_id, signature) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    if (!cp) return store_error(cp.error());
    impl_->insert_checkpoint.emplace(std::move(*cp));
    if (impl_->version >= 3) {
      auto g = impl_->db.prepare(
          "INSERT INTO record_groups(first_seq, last_seq, min_time_ms, max_time_ms) VALUES(?1, ?2, ?3, ?4)");
      if (!g) return store_error(g.error());
      impl_->insert_group.emplace(std::move(*g));
      auto p = impl_->db.prepare("INSERT INTO postings(field, key, first_seq, seqs) VALUES(?1, ?2, ?3, ?4)");
      if (!p) return store_error(p.error());
      impl_->insert_posting.emplace(std::move(*p));
    }
  }
  auto& ins = *impl_->insert_record;
  const bool grouped = impl_->version >= 3 && !records.empty();
  int64_t min_time = 0, max_time = 0;
  if (grouped) {
    impl_->postings.start(records.front().seq);
    min_time = max_time = records.front().fields->time_ms;
  }
  // Every value is bound without SQLite's copy (the caller's memory outlives
  // the statement's use of it: reset() below, before returning).
  for (const auto& r : records) {
    const Event& e = *r.fields;
    ins.reset();
    ins.bind(1, static_cast<int64_t>(r.seq))
        .bind(2, e.time_ms)
        .bind_static(3, e.request_id)
        .bind_static(4, e.route)
        .bind_static(5, e.principal)
        .bind_static(6, e.agent)
        .bind_static(7, e.action)
        .bind_static(8, e.resource)
        .bind_static(9, e.decision)
        .bind_static(10, e.findings)
        .bind_static(11, r.text);
    if (grouped) {
      impl_->postings.add(r.seq, e, impl_->key_salt);
      min_time = std::min(min_time, e.time_ms);
      max_time = std::max(max_time, e.time_ms);
    } else if (impl_->version == 2) {
      const uint64_t salt = impl_->key_salt;
      ins.bind(12, index_key(salt, e.principal))
          .bind(13, index_key(salt, e.agent))
          .bind(14, index_key(salt, e.action))
          .bind(15, index_key(salt, e.resource));
    }
    if (auto st = ins.run(); !st) {
      ins.reset();
      return store_error(st.error());
    }
  }
  ins.reset();
  if (grouped) {
    if (auto st = impl_->insert_group_rows(records.front().seq, records.back().seq, min_time, max_time); !st) return st;
  }
  auto& cps = *impl_->insert_checkpoint;
  for (const auto& c : checkpoints) {
    cps.reset();
    cps.bind(1, static_cast<int64_t>(c.seq))
        .bind(2, c.chain_uid)
        .bind_blob(3, blob(c.head))
        .bind(4, c.time_ms)
        .bind(5, c.key_id)
        .bind_blob(6, c.signature);
    if (auto st = cps.run(); !st) {
      cps.reset();
      return store_error(st.error());
    }
  }
  cps.reset();
  if (auto st = tx->commit(); !st) return store_error(st.error());
  impl_->committed();
  return Ok{};
}

Result<std::vector<StoredRecord>> AuditStore::read_after(uint64_t after_seq, size_t limit) {
  std::lock_guard lock(impl_->mu);
  return impl_->records("SELECT " + std::string(kRecordColumns) + " FROM records WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                        [&](store::Stmt& st) {
                          st.bind(1, static_cast<int64_t>(after_seq)).bind(2, static_cast<int64_t>(limit));
                        });
}

Result<std::optional<StoredRecord>> AuditStore::record(uint64_t seq) {
  std::lock_guard lock(impl_->mu);
  auto rows = impl_->records("SELECT " + std::string(kRecordColumns) + " FROM records WHERE seq = ?1",
                             [&](store::Stmt& st) { st.bind(1, static_cast<int64_t>(seq)); });
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<StoredRecord>{};
  return std::optional<StoredRecord>(std::move(rows->front()));
}

Result<uint64_t> AuditStore::first_seq() {
  std::lock_guard lock(impl_->mu);
  auto v = impl_->scalar("SELECT MIN(seq) FROM records");
  if (!v) return v.error();
  return static_cast<uint64_t>(*v);
}

Result<uint64_t> AuditStore::count() {
  std::lock_guard lock(impl_->mu);
  auto v = impl_->scalar("SELECT COUNT(*) FROM records");
  if (!v) return v.error();
  return static_cast<uint64_t>(*v);
}

Result<uint64_t> AuditStore::total_bytes() {
  std::lock_guard lock(impl_->mu);
  auto v = impl_->scalar("SELECT SUM(LENGTH(text)) FROM records");
  if (!v) return v.error();
  return static_cast<uint64_t>(*v);
}

Result<uint64_t> AuditStore::last_seq_before(int64_t time_ms) {
  std::lock_guard lock(impl_->mu);
  // Version 3 has no time index: the answer is in the last group that has a
  // record older than time_ms (no later group has one).
  auto st = impl_->db.prepare(
      impl_->version >= 3 ? "SELECT MAX(seq) FROM records WHERE time_ms < ?1 AND seq BETWEEN "
                            "(SELECT first_seq FROM record_groups WHERE min_time_ms < ?1 ORDER BY first_seq DESC LIMIT 1) "
                            "AND (SELECT last_seq FROM record_groups WHERE min_time_ms < ?1 ORDER BY first_seq DESC LIMIT 1)"
                          : "SELECT MAX(seq) FROM records WHERE time_ms < ?1");
  if (!st) return store_error(st.error());
  st->bind(1, time_ms);
  auto row = st->step();
  if (!row) return store_error(row.error());
  if (!*row || st->is_null(0)) return uint64_t{0};
  return static_cast<uint64_t>(st->int64(0));
}

Result<std::vector<Checkpoint>> AuditStore::checkpoints(uint64_t from_seq) {
  std::lock_guard lock(impl_->mu);
  auto st = impl_->db.prepare(
      "SELECT seq, chain_uid, head, time_ms, key_id, signature FROM checkpoints WHERE seq >= ?1 ORDER BY seq");
  if (!st) return store_error(st.error());
  st->bind(1, static_cast<int64_t>(from_seq));
  std::vector<Checkpoint> out;
  while (true) {
    auto row = st->step();
    if (!row) return store_error(row.error());
    if (!*row) break;
    out.push_back(read_checkpoint(*st));
  }
  return out;
}

Result<std::optional<Checkpoint>> AuditStore::last_checkpoint() {
  std::lock_guard lock(impl_->mu);
  auto st = impl_->db.prepare(
      "SELECT seq, chain_uid, head, time_ms, key_id, signature FROM checkpoints ORDER BY seq DESC LIMIT 1");
  if (!st) return store_error(st.error());
  auto row = st->step();
  if (!row) return store_error(row.error());
  if (!*row) return std::optional<Checkpoint>{};
  return std::optional<Checkpoint>(read_checkpoint(*st));
}

Result<QueryPage> AuditStore::query(const Query& q) {
  size_t limit = std::clamp<size_t>(q.limit, 1, kMaxQueryLimit);
  if (impl_->version >= 3) {
    std::lock_guard lock(impl_->mu);
    return impl_->query_grouped(q, limit);
  }
  std::string sql = "SELECT " + std::string(kRecordColumns) + " FROM records WHERE 1";
  // Every filter is a bound parameter; the SQL text depends only on which
  // filters are set (and the store's version).
  const bool keyed = impl_->version >= 2;
  struct Filter {
    const char* column;
    const std::string* value;
    bool has_key;  // version 2 indexes it by key: compare the key, then the text
  };
  std::vector<Filter> filters;
  auto add = [&](const char* column, const std::string& value, bool has_key) {
    if (!value.empty()) filters.push_back(Filter{column, &value, keyed && has_key});
  };
  add("principal", q.principal, true);
  add("agent", q.agent, true);
  add("action", q.action, true);
  add("resource", q.resource, true);
  add("decision", q.decision, false);
  add("route", q.route, false);
  add("request_id", q.request_id, false);
  int param = 1;
  for (const auto& f : filters) {
    std::string column = f.column;
    if (f.has_key) sql += " AND " + column + "_key = ?" + std::to_string(param++);
    sql += " AND " + column + " = ?" + std::to_string(param++);
    // The agent index is partial (records that have one): the planner uses
    // it only when the query names its condition, implied here (the filter
    // is never empty).
    if (column == "agent") sql += keyed ? " AND agent_key <> 0" : " AND agent <> ''";
  }
  int finding_param = 0, since_param = 0, until_param = 0, cursor_param = 0;
  if (!q.finding.empty()) {
    finding_param = param++;
    sql += " AND findings <> '' AND instr(' ' || findings || ' ', ' ' || ?" + std::to_string(finding_param) + " || ' ') > 0";
  }
  if (q.since_ms) sql += " AND time_ms >= ?" + std::to_string(since_param = param++);
  if (q.until_ms) sql += " AND time_ms < ?" + std::to_string(until_param = param++);
  if (q.newest_first) {
    if (q.before_seq > 0) sql += " AND seq < ?" + std::to_string(cursor_param = param++);
    sql += " ORDER BY seq DESC";
  } else {
    sql += " AND seq > ?" + std::to_string(cursor_param = param++);
    sql += " ORDER BY seq ASC";
  }
  int limit_param = param++;
  sql += " LIMIT ?" + std::to_string(limit_param);

  std::lock_guard lock(impl_->mu);
  auto rows = impl_->records(sql, [&](store::Stmt& st) {
    int i = 1;
    for (const auto& f : filters) {
      if (f.has_key) st.bind(i++, index_key(impl_->key_salt, *f.value));
      st.bind(i++, *f.value);
    }
    if (finding_param) st.bind(finding_param, q.finding);
    if (since_param) st.bind(since_param, *q.since_ms);
    if (until_param) st.bind(until_param, *q.until_ms);
    if (cursor_param) st.bind(cursor_param, static_cast<int64_t>(q.newest_first ? q.before_seq : q.after_seq));
    st.bind(limit_param, static_cast<int64_t>(limit + 1));  // one more: is there a next page?
  });
  if (!rows) return rows.error();
  QueryPage page;
  page.records = std::move(*rows);
  if (page.records.size() > limit) {
    page.records.resize(limit);
    page.next = page.records.back().seq;
  }
  return page;
}

int AuditStore::schema_version() const { return impl_->version; }

Result<std::vector<AuditStore::IndexProblem>> AuditStore::check_index(size_t max) {
  std::lock_guard lock(impl_->mu);
  std::vector<IndexProblem> out;
  if (impl_->version < 3) return out;
  auto& db = impl_->db;
  auto anchor_text = impl_->meta("anchor_seq");
  if (!anchor_text) return anchor_text.error();
  const uint64_t anchor = *anchor_text ? std::strtoull((*anchor_text)->c_str(), nullptr, 10) : 0;
  auto groups = db.prepare("SELECT first_seq, last_seq, min_time_ms, max_time_ms FROM record_groups ORDER BY first_seq");
  if (!groups) return store_error(groups.error());
  auto recs = db.prepare(
      "SELECT seq, time_ms, principal, agent, action, resource, decision FROM records WHERE seq BETWEEN ?1 AND ?2 "
      "ORDER BY seq");
  if (!recs) return store_error(recs.error());
  auto lists = db.prepare("SELECT first_seq, field, key, seqs FROM postings ORDER BY first_seq, field, key");
  if (!lists) return store_error(lists.error());
  auto problem = [&](uint64_t seq, std::string message) {
    if (out.size() < max) out.push_back(IndexProblem{seq, std::move(message)});
  };
  auto field_name = [](int64_t field) -> std::string {
    for (const auto& f : kIndexedFields)
      if (static_cast<int64_t>(f.field) == field) return f.column;
    return "field " + std::to_string(field);
  };
  // The stored lists, read in step with the groups.
  bool have_list = false;
  auto next_list = [&]() -> Status {
    auto row = lists->step();
    if (!row) return store_error(row.error());
    have_list = *row;
    return Ok{};
  };
  if (auto st = next_list(); !st) return st.error();
  auto orphans_before = [&](uint64_t seq) -> Status {
    while (have_list && static_cast<uint64_t>(lists->int64(0)) < seq) {
      problem(static_cast<uint64_t>(lists->int64(0)),
              "the search index has a " + field_name(lists->int64(1)) + " list for a group starting at seq " +
                  std::to_string(lists->int64(0)) + " that does not exist");
      if (auto st = next_list(); !st) return st;
    }
    return Ok{};
  };

  PostingBuilder builder;
  Event e;
  std::vector<uint64_t> want, got;
  uint64_t covered = 0, prev_last = 0;
  while (out.size() < max) {
    auto row = groups->step();
    if (!row) return store_error(row.error());
    if (!*row) break;
    const auto first = static_cast<uint64_t>(groups->int64(0));
    const auto last = static_cast<uint64_t>(groups->int64(1));
    const int64_t min_time = groups->int64(2), max_time = groups->int64(3);
    const std::string range = "records " + std::to_string(first) + "-" + std::to_string(last);
    if (last < first || first <= prev_last) {
      problem(first, "the search index's group of " + range + " overlaps the one before it or is malformed");
      continue;
    }
    prev_last = last;
    builder.start(first);
    bool times_ok = true;
    recs->reset();
    recs->bind(1, static_cast<int64_t>(first)).bind(2, static_cast<int64_t>(last));
    while (true) {
      auto r = recs->step();
      if (!r) return store_error(r.error());
      if (!*r) break;
      e.time_ms = recs->int64(1);
      e.principal = recs->text(2);
      e.agent = recs->text(3);
      e.action = recs->text(4);
      e.resource = recs->text(5);
      e.decision = recs->text(6);
      builder.add(static_cast<uint64_t>(recs->int64(0)), e, impl_->key_salt);
      times_ok = times_ok && e.time_ms >= min_time && e.time_ms <= max_time;
      ++covered;
    }
    if (!times_ok)
      problem(first, "the search index's time range for " + range +
                         " does not contain all their times: searches by time could miss them");
    if (auto st = orphans_before(first); !st) return st.error();
    // Both sides in (field, key) order: the rebuilt lists and the stored ones.
    std::span<const Posting> expected = builder.finish();
    size_t i = 0;
    while (i < expected.size() || (have_list && static_cast<uint64_t>(lists->int64(0)) == first)) {
      const bool stored_here = have_list && static_cast<uint64_t>(lists->int64(0)) == first;
      const auto stored_id = stored_here ? std::pair{lists->int64(1), lists->int64(2)} : std::pair{int64_t{0}, int64_t{0}};
      const auto expected_id = i < expected.size()
                                   ? std::pair{static_cast<int64_t>(expected[i].field), expected[i].key}
                                   : std::pair{int64_t{0}, int64_t{0}};
      got.clear();
      want.clear();
      int64_t field = 0;
      if (stored_here && (i == expected.size() || stored_id <= expected_id)) {
        field = stored_id.first;
        if (!decode_postings(lists->text(3), first, got)) {
          problem(first, "the search index's " + field_name(field) + " list for " + range + " is malformed");
          got.clear();
          got.push_back(0);  // reported: not reported again below
          want = got;
        }
        // Seqs pruned since (the group was pruned in part) are not a problem.
        std::erase_if(got, [&](uint64_t s) { return s != 0 && s <= anchor; });
        if (i < expected.size() && stored_id == expected_id) {
          if (want.empty()) (void)decode_postings(expected[i].seqs, first, want);
          ++i;
        }
        if (auto st = next_list(); !st) return st.error();
      } else {
        field = expected_id.first;
        (void)decode_postings(expected[i].seqs, first, want);
        ++i;
      }
      if (got != want)
        problem(first, "the search index's " + field_name(field) + " list for " + range +
                           " does not match the records: searches by " + field_name(field) +
                           " would miss or add records there");
    }
  }
  if (out.size() < max) {
    if (auto st = orphans_before(std::numeric_limits<uint64_t>::max()); !st) return st.error();
    auto total = impl_->scalar("SELECT COUNT(*) FROM records");
    if (!total) return total.error();
    if (static_cast<uint64_t>(*total) != covered)
      problem(0, "the store holds " + std::to_string(*total) + " records but its search index's groups cover " +
                     std::to_string(covered) + ": searches would miss records");
  }
  return out;
}

Result<uint64_t> AuditStore::cursor(std::string_view sink) {
  std::lock_guard lock(impl_->mu);
  auto st = impl_->db.prepare("SELECT seq FROM cursors WHERE sink = ?1");
  if (!st) return store_error(st.error());
  st->bind(1, sink);
  auto row = st->step();
  if (!row) return store_error(row.error());
  return *row ? static_cast<uint64_t>(st->int64(0)) : uint64_t{0};
}

Status AuditStore::set_cursor(std::string_view sink, uint64_t seq) {
  std::lock_guard lock(impl_->mu);
  auto st = impl_->db.prepare("INSERT INTO cursors(sink, seq) VALUES(?1, ?2) ON CONFLICT(sink) DO UPDATE SET seq = ?2");
  if (!st) return store_error(st.error());
  st->bind(1, sink).bind(2, static_cast<int64_t>(seq));
  if (auto r = st->run(); !r) return store_error(r.error());
  return Ok{};
}

Result<std::vector<std::pair<std::string, uint64_t>>> AuditStore::cursors() {
  std::lock_guard lock(impl_->mu);
  auto st = impl_->db.prepare("SELECT sink, seq FROM cursors ORDER BY sink");
  if (!st) return store_error(st.error());
  std::vector<std::pair<std::string, uint64_t>> out;
  while (true) {
    auto row = st->step();
    if (!row) return store_error(row.error());
    if (!*row) break;
    out.emplace_back(st->text(0), static_cast<uint64_t>(st->int64(1)));
  }
  return out;
}

Status AuditStore::prune(const Archive& archive) {
  std::lock_guard lock(impl_->mu);
  auto tx = store::Transaction::begin(impl_->db);
  if (!tx) return store_error(tx.error());
  auto ins = impl_->db.prepare(
      "INSERT INTO archives(first_seq, last_seq, last_fingerprint, path, file_sha256, time_ms) VALUES(?1,?2,?3,?4,?5,?6)");
  if (!ins) return store_error(ins.error());
  ins->bind(1, static_cast<int64_t>(archive.first_seq))
      .bind(2, static_cast<int64_t>(archive.last_seq))
      .bind_blob(3, blob(archive.last_fingerprint))
      .bind(4, archive.path)
      .bind(5, archive.file_sha256)
      .bind(6, archive.time_ms);
  if (auto st = ins->run(); !st) return store_error(st.error());
  auto del = impl_->db.prepare("DELETE FROM records WHERE seq <= ?1");
  if (!del) return store_error(del.error());
  del->bind(1, static_cast<int64_t>(archive.last_seq));
  if (auto st = del->run(); !st) return store_error(st.error());
  if (impl_->version >= 3) {
    // The groups pruned whole and their lists; a group pruned in part keeps
    // its row and lists (searches skip the seqs that are gone).
    auto lists = impl_->db.prepare(
        "DELETE FROM postings WHERE first_seq IN (SELECT first_seq FROM record_groups WHERE last_seq <= ?1)");
    if (!lists) return store_error(lists.error());
    lists->bind(1, static_cast<int64_t>(archive.last_seq));
    if (auto st = lists->run(); !st) return store_error(st.error());
    auto groups = impl_->db.prepare("DELETE FROM record_groups WHERE last_seq <= ?1");
    if (!groups) return store_error(groups.error());
    groups->bind(1, static_cast<int64_t>(archive.last_seq));
    if (auto st = groups->run(); !st) return store_error(st.error());
  }
  if (auto st = impl_->set_meta("anchor_seq", std::to_string(archive.last_seq)); !st) return st;
  if (auto st = impl_->set_meta("anchor_fingerprint", to_hex(archive.last_fingerprint)); !st) return st;
  if (auto st = tx->commit(); !st) return store_error(st.error());
  return Ok{};
}

Result<std::vector<Archive>> AuditStore::archives() {
  std::lock_guard lock(impl_->mu);
  auto st = impl_->db.prepare(
      "SELECT first_seq, last_seq, last_fingerprint, path, file_sha256, time_ms FROM archives ORDER BY first_seq");
  if (!st) return store_error(st.error());
  std::vector<Archive> out;
  while (true) {
    auto row = st->step();
    if (!row) return store_error(row.error());
    if (!*row) break;
    Archive a;
    a.first_seq = static_cast<uint64_t>(st->int64(0));
    a.last_seq = static_cast<uint64_t>(st->int64(1));
    a.last_fingerprint = digest_of(st->text(2));
    a.path = st->text(3);
    a.file_sha256 = st->text(4);
    a.time_ms = st->int64(5);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace ztgate::audit
