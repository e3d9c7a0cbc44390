#include "store/sqlite.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <utility>

namespace ztgate::store {
namespace {

Error store_error(sqlite3* db, std::string_view what) {
  int code = db != nullptr ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  std::string message = std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory");
  bool constraint = (code & 0xff) == SQLITE_CONSTRAINT;
  return make_error(constraint ? "store_constraint" : "store_error", std::move(message));
}

}  // namespace

Stmt::Stmt(Stmt&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), bind_error_(other.bind_error_) {}

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_error_ = other.bind_error_;
  }
  return *this;
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::bind(int index, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Stmt& Stmt::bind_static(int index, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Stmt& Stmt::bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Stmt& Stmt::bind_blob(int index, std::string_view bytes) {
  int rc = sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Stmt& Stmt::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Result<bool> Stmt::step() {
  if (bind_error_ != SQLITE_OK)
    return make_error("store_error", std::string("bind failed: ") + sqlite3_errstr(bind_error_));
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return store_error(db_, "statement failed");
}

Status Stmt::run() {
  for (;;) {
    auto row = step();
    if (!row) return row.error();
    if (!*row) return Ok{};
  }
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = SQLITE_OK;
}

bool Stmt::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

int64_t Stmt::int64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Stmt::text(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

Result<Db> Db::open(const std::string& path, int busy_timeout_ms, bool read_only) {
  Options options;
  options.busy_timeout_ms = busy_timeout_ms;
  options.read_only = read_only;
  return open(path, options);
}

Result<Db> Db::open(const std::string& path, const Options& options) {
  // SQLite counts every allocation under a global mutex for
  // sqlite3_memory_used(), which ztgate never reads. The switch must come
  // before SQLite initializes, i.e. before the first connection: every
  // connection is opened here, so the first open turns it off (if something
  // initialized SQLite earlier, sqlite3_config refuses and nothing changes).
  static std::once_flag memstatus_off;
  std::call_once(memstatus_off, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  const bool read_only = options.read_only;
  sqlite3* raw = nullptr;
  int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
              (options.caller_serialized ? SQLITE_OPEN_NOMUTEX : SQLITE_OPEN_FULLMUTEX);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return store_error(raw, "cannot open database " + path);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  sqlite3_extended_result_codes(raw, 1);
  if (path != ":memory:" && !read_only) {
    if (auto st = db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !st) return st.error();
  }
  if (auto st = db.exec("PRAGMA foreign_keys=ON;"); !st) return st.error();
  return db;
}

Db::Db(Db&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      data_version_(std::move(other.data_version_)),
      wal_hook_(std::move(other.wal_hook_)) {}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    data_version_.reset();
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    data_version_ = std::move(other.data_version_);
    wal_hook_ = std::move(other.wal_hook_);
  }
  return *this;
}

void Db::set_wal_hook(std::function<void(int pages)> hook) {
  wal_hook_ = std::make_unique<std::function<void(int)>>(std::move(hook));
  sqlite3_wal_hook(
      db_,
      [](void* fn, sqlite3*, const char*, int pages) {
        (*static_cast<std::function<void(int)>*>(fn))(pages);
        return SQLITE_OK;
      },
      wal_hook_.get());
}

Db::~Db() {
  data_version_.reset();  // finalize before closing
  sqlite3_close_v2(db_);
}

Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return store_error(db_, "cannot prepare statement");
  return Stmt(db_, stmt);
}

Status Db::exec(std::string_view sql) {
  std::string copy(sql);  // sqlite3_exec needs a NUL-terminated string
  char* message = nullptr;
  int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return make_error((rc & 0xff) == SQLITE_CONSTRAINT ? "store_constraint" : "store_error", text);
  }
  return Ok{};
}

Result<int64_t> Db::data_version() {
  if (!data_version_) {
    auto st = prepare("PRAGMA data_version");
    if (!st) return st.error();
    data_version_ = std::make_unique<Stmt>(std::move(*st));
  }
  data_version_->reset();
  auto row = data_version_->step();
  if (!row) return row.error();
  if (!*row) return make_error("store_error", "PRAGMA data_version returned no row");
  int64_t version = data_version_->int64(0);
  data_version_->reset();
  return version;
}

int64_t Db::changes() const { return sqlite3_changes64(db_); }

Result<Transaction> Transaction::begin(Db& db) {
  if (auto st = db.exec("BEGIN IMMEDIATE"); !st) return st.error();
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  if (db_ == nullptr) return make_error("store_error", "transaction already finished");
  Db* db = std::exchange(db_, nullptr);
  return db->exec("COMMIT");
}

Status ensure_private_dir(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    // An existing directory is tightened if it is ours, refused if it is not.
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0)
      return make_error("store_error", "cannot inspect directory " + path + ": " + std::strerror(errno));
    if (st.st_uid != ::geteuid())
      return make_error("store_error", "directory " + path + " belongs to another user");
    if ((st.st_mode & 077) != 0 && ::chmod(path.c_str(), 0700) != 0)
      return make_error("store_error", "cannot restrict directory " + path + ": " + std::strerror(errno));
    return Ok{};
  }
  std::filesystem::create_directories(path, ec);
  if (ec) return make_error("store_error", "cannot create directory " + path + ": " + ec.message());
  if (::chmod(path.c_str(), 0700) != 0)
    return make_error("store_error", "cannot restrict directory " + path + ": " + std::strerror(errno));
  return Ok{};
}

}  // namespace ztgate::store
