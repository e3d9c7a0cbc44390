#include "data/doc_index.h"

#include <sys/stat.h>

#include "data/catalog.h"
#include "data/fts_query.h"

namespace ztgate::data {
namespace {

// External-content FTS5 over `docs`; the triggers keep it in step.
constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS docs(
  n INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  summary TEXT NOT NULL,
  text TEXT NOT NULL,
  source_path TEXT NOT NULL,
  hash TEXT NOT NULL,
  acl TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
  title, summary, text, content='docs', content_rowid='n', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS docs_ai AFTER INSERT ON docs BEGIN
  INSERT INTO docs_fts(rowid, title, summary, text) VALUES (new.n, new.title, new.summary, new.text);
END;
CREATE TRIGGER IF NOT EXISTS docs_ad AFTER DELETE ON docs BEGIN
  INSERT INTO docs_fts(docs_fts, rowid, title, summary, text) VALUES ('delete', old.n, old.title, old.summary, old.text);
END;
CREATE TRIGGER IF NOT EXISTS docs_au AFTER UPDATE ON docs BEGIN
  INSERT INTO docs_fts(docs_fts, rowid, title, summary, text) VALUES ('delete', old.n, old.title, old.summary, old.text);
  INSERT INTO docs_fts(rowid, title, summary, text) VALUES (new.n, new.title, new.summary, new.text);
END;
)sql";

Error unavailable(const std::string& path, const Error& e) {
  return Error{"index_unavailable", "the document index " + path + " cannot be read: " + e.message, {}};
}

void field(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

}  // namespace

std::string acl_fingerprint(const DocumentRecord& d) {
  std::string out;
  field(out, d.id);
  field(out, d.owner);
  for (const auto* list : {&d.reader_users, &d.reader_groups, &d.tags}) {
    out += '[' + std::to_string(list->size()) + ']';
    for (const auto& s : *list) field(out, s);
  }
  field(out, std::to_string(d.classification));
  field(out, d.tenant);
  field(out, d.source);
  field(out, d.parent ? std::string(entity_type(d.parent->kind)) : "");
  field(out, d.parent ? d.parent->id : "");
  field(out, d.of);
  return out;
}

Result<std::unique_ptr<DocIndex>> DocIndex::open(const std::string& path, bool read_only, IndexLimits limits) {
  struct stat st {};
  if (read_only && ::stat(path.c_str(), &st) != 0)
    return make_error("index_unavailable", "no document index at " + path + " (run `ztgate docs ingest`)");
  auto index = std::unique_ptr<DocIndex>(new DocIndex(path, read_only, limits));
  auto db = index->take();
  if (!db) return db.error();
  if (!read_only) {
    if (auto ok = (*db)->exec(kSchema); !ok) return unavailable(path, ok.error());
  } else if (auto probe = (*db)->prepare("SELECT rowid FROM docs_fts LIMIT 0"); !probe) {
    return unavailable(path, probe.error());
  }
  index->give_back(std::move(*db));
  return index;
}

Result<std::unique_ptr<store::Db>> DocIndex::take() const {
  {
    std::lock_guard lock(pool_mu_);
    if (!pool_.empty()) {
      auto db = std::move(pool_.back());
      pool_.pop_back();
      return db;
    }
  }
  auto db = store::Db::open(path_, 5000, read_only_);
  if (!db) return unavailable(path_, db.error());
  return std::make_unique<store::Db>(std::move(*db));
}

void DocIndex::give_back(std::unique_ptr<store::Db> db) const {
  constexpr size_t kMaxPooled = 8;
  std::lock_guard lock(pool_mu_);
  if (pool_.size() < kMaxPooled) pool_.push_back(std::move(db));
}

Result<std::vector<SearchHit>> DocIndex::search(std::string_view query, size_t limit) const {
  auto q = fts5_query(query, limits_.max_query_bytes, limits_.max_query_terms);
  if (!q) return q.error();
  auto db = take();
  if (!db) return db.error();
  std::vector<SearchHit> hits;
  {
    auto st = (*db)->prepare(
        // Ranked within the FTS table alone, joined for the ids after the
        // cut (a join before it costs a lookup per matching row). Ties: by
        // insertion order (rowid), the same every time.
        "SELECT d.id, f.r FROM (SELECT rowid, bm25(docs_fts, 10.0, 2.0, 1.0) AS r FROM docs_fts "
        "WHERE docs_fts MATCH ?1 ORDER BY r, rowid LIMIT ?2) f JOIN docs d ON d.n = f.rowid ORDER BY f.r, f.rowid");
    if (!st) return unavailable(path_, st.error());
    st->bind(1, q->match).bind(2, static_cast<int64_t>(std::min(limit, limits_.max_results)));
    for (;;) {
      auto row = st->step();
      if (!row) return unavailable(path_, row.error());
      if (!*row) break;
      // Column 1 is a REAL; read through its text to stay within store::Stmt.
      hits.push_back(SearchHit{st->text(0), -std::stod(st->text(1))});
    }
  }
  give_back(std::move(*db));
  return hits;
}

Result<std::optional<IndexedDocument>> DocIndex::get(std::string_view id) const {
  auto db = take();
  if (!db) return db.error();
  std::optional<IndexedDocument> out;
  {
    auto st = (*db)->prepare("SELECT id, title, summary, text, source_path, hash, acl FROM docs WHERE id = ?1");
    if (!st) return unavailable(path_, st.error());
    st->bind(1, id);
    auto row = st->step();
    if (!row) return unavailable(path_, row.error());
    if (*row) out = IndexedDocument{st->text(0), st->text(1), st->text(2), st->text(3), st->text(4), st->text(5), st->text(6)};
  }
  give_back(std::move(*db));
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> DocIndex::list() const {
  auto db = take();
  if (!db) return db.error();
  std::vector<std::pair<std::string, std::string>> out;
  {
    auto st = (*db)->prepare("SELECT id, hash FROM docs ORDER BY id");
    if (!st) return unavailable(path_, st.error());
    for (;;) {
      auto row = st->step();
      if (!row) return unavailable(path_, row.error());
      if (!*row) break;
      out.emplace_back(st->text(0), st->text(1));
    }
  }
  give_back(std::move(*db));
  return out;
}

Status DocIndex::begin() {
  if (read_only_) return make_error("store_error", "the document index is open read-only");
  if (!writer_) {
    auto db = store::Db::open(path_, 5000, false);
    if (!db) return db.error();
    writer_ = std::make_unique<store::Db>(std::move(*db));
  }
  batch_.reset();
  auto t = store::Transaction::begin(*writer_);
  if (!t) return t.error();
  batch_.emplace(std::move(*t));
  return Ok{};
}

Status DocIndex::upsert(const IndexedDocument& d) {
  if (!batch_) return make_error("store_error", "upsert outside a batch");
  if (d.id.empty() || d.id.size() > kMaxIdBytes)
    return make_error("document_invalid", "a document id must have 1 to " + std::to_string(kMaxIdBytes) + " bytes");
  auto over = [&](const char* what, size_t size, size_t max) {
    return make_error("document_too_large", "document " + d.id + ": its " + what + " has " + std::to_string(size) +
                                                " bytes, more than " + std::to_string(max));
  };
  if (d.text.size() > limits_.max_document_bytes) return over("text", d.text.size(), limits_.max_document_bytes);
  if (d.title.size() > limits_.max_title_bytes) return over("title", d.title.size(), limits_.max_title_bytes);
  if (d.summary.size() > limits_.max_summary_bytes) return over("summary", d.summary.size(), limits_.max_summary_bytes);
  if (d.source_path.size() > limits_.max_path_bytes) return over("source path", d.source_path.size(), limits_.max_path_bytes);
  auto st = writer_->prepare(
      "INSERT INTO docs(id, title, summary, text, source_path, hash, acl) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
      "ON CONFLICT(id) DO UPDATE SET title = excluded.title, summary = excluded.summary, text = excluded.text, "
      "source_path = excluded.source_path, hash = excluded.hash, acl = excluded.acl");
  if (!st) return st.error();
  st->bind(1, d.id).bind(2, d.title).bind(3, d.summary).bind(4, d.text).bind(5, d.source_path).bind(6, d.hash).bind(7, d.acl);
  return st->run();
}

Status DocIndex::remove(std::string_view id) {
  if (!batch_) return make_error("store_error", "remove outside a batch");
  auto st = writer_->prepare("DELETE FROM docs WHERE id = ?1");
  if (!st) return st.error();
  st->bind(1, id);
  return st->run();
}

Status DocIndex::commit() {
  if (!batch_) return make_error("store_error", "commit outside a batch");
  auto ok = batch_->commit();
  batch_.reset();
  return ok;
}

void DocIndex::rollback() { batch_.reset(); }

}  // namespace ztgate::data
