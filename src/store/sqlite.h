// A thin RAII layer over SQLite for ztgate's embedded stores (API keys,
// grants, revocations, audit). Errors are values (code "store_error"), never
// exceptions. One Db per thread or guarded by the caller: SQLite connections
// are opened in serialized mode (unless Options::caller_serialized), but
// statements are not shareable. SQLite's memory statistics are off (nothing
// reads them; they take a global mutex on every allocation).
//
//   auto db = Db::open("/var/lib/ztgate/identity.db");
//   if (!db) return db.error();
//   auto st = db->prepare("SELECT name FROM keys WHERE id = ?1");
//   st->bind(1, id);
//   while (st->step().value()) use(st->text(0));
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ztgate::store {

class Stmt {
 public:
  Stmt(Stmt&&) noexcept;
  Stmt& operator=(Stmt&&) noexcept;
  ~Stmt();

  // Parameters are 1-based as in SQLite. Text and blobs are copied.
  Stmt& bind(int index, std::string_view text);
  Stmt& bind(int index, int64_t value);
  Stmt& bind_blob(int index, std::string_view bytes);
  Stmt& bind_null(int index);
  // Text bound without SQLite's copy: it must stay valid and unchanged until
  // the statement is reset or finalized (a hot insert's large column).
  Stmt& bind_static(int index, std::string_view text);

  // true: a row is ready; false: done. Errors (incl. constraint violations,
  // code "store_constraint") come back as values.
  Result<bool> step();
  // step() until done; for INSERT/UPDATE/DELETE.
  Status run();
  void reset();  // rebind and step again

  bool is_null(int column) const;
  int64_t int64(int column) const;
  std::string text(int column) const;  // blobs too; NULL reads as ""

 private:
  friend class Db;
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_error_ = 0;
};

class Db {
 public:
  // Opens (creating if needed) a database file in WAL mode with a busy
  // timeout, foreign keys on. The parent directory must exist. ":memory:" works.
  // read_only: opens an existing database without creating or changing it.
  static Result<Db> open(const std::string& path, int busy_timeout_ms = 5000, bool read_only = false);

  // open() with more choices; the defaults are open()'s.
  struct Options {
    int busy_timeout_ms = 5000;
    bool read_only = false;
    // The caller never uses the connection or its statements from two
    // threads at once (it holds its own lock around them): SQLite skips its
    // own mutex on every call (SQLITE_OPEN_NOMUTEX instead of FULLMUTEX).
    bool caller_serialized = false;
  };
  static Result<Db> open(const std::string& path, const Options& options);

  Db(Db&&) noexcept;
  Db& operator=(Db&&) noexcept;
  ~Db();

  Result<Stmt> prepare(std::string_view sql);
  // Runs one or more statements without parameters (schema setup).
  Status exec(std::string_view sql);
  // Changes since the last time any connection wrote: a cheap way to notice
  // writes by other processes (PRAGMA data_version).
  Result<int64_t> data_version();
  int64_t changes() const;

  // In WAL mode: `hook(pages)` runs after every commit on this connection
  // with the number of pages now in the log. It replaces SQLite's
  // auto-checkpoint (itself such a hook): for callers that schedule
  // checkpoints themselves. The hook must not use the connection.
  void set_wal_hook(std::function<void(int pages)> hook);

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unique_ptr<Stmt> data_version_;  // prepared once: checked on every request
  std::unique_ptr<std::function<void(int)>> wal_hook_;  // where SQLite's hook points (stable across moves)
};

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed uncommitted.
class Transaction {
 public:
  static Result<Transaction> begin(Db& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;
};

// Creates a directory (and parents) with mode 0700 if missing, and tightens
// an existing one of ours to 0700: stores hold secrets' hashes and must not
// be readable by others. A directory owned by another user is refused.
Status ensure_private_dir(const std::string& path);

}  // namespace ztgate::store
