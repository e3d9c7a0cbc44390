#include "data/doc_ingest.h"

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "common/json_keys.h"
#include "data/catalog_jsonl.h"
#include "data/doc_index.h"
#include "data/fts_query.h"
#include "store/sqlite.h"

namespace ztgate::data {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr size_t kMaxSidecarBytes = 64 * 1024;
constexpr int kMaxDepth = 32;  // folders below the root

bool iequals_suffix(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    char c = s[s.size() - suffix.size() + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != suffix[i]) return false;
  }
  return true;
}

enum class Kind { kText, kMarkdown, kHtml, kOther };

Kind kind_of(std::string_view name) {
  if (iequals_suffix(name, ".meta.json")) return Kind::kOther;
  if (iequals_suffix(name, ".txt")) return Kind::kText;
  if (iequals_suffix(name, ".md") || iequals_suffix(name, ".markdown")) return Kind::kMarkdown;
  if (iequals_suffix(name, ".html") || iequals_suffix(name, ".htm")) return Kind::kHtml;
  return Kind::kOther;
}

// The file's bytes, after checking it is (or leads to) a regular file inside
// `root` of at most `max` bytes.
Result<std::string> read_inside(const fs::path& root, const fs::path& p, size_t max) {
  std::error_code ec;
  fs::path real = fs::canonical(p, ec);
  if (ec) return make_error("refused", "cannot be resolved");
  std::string r = root.string() + "/";
  if (real.string().compare(0, r.size(), r) != 0) return make_error("refused", "a symlink leading out of the folder");
  if (!fs::is_regular_file(real, ec)) return make_error("refused", "not a regular file");
  auto size = fs::file_size(real, ec);
  if (ec) return make_error("refused", "cannot be read");
  if (size > max)
    return make_error("refused", std::to_string(size) + " bytes, more than the bound of " + std::to_string(max));
  std::ifstream in(real, std::ios::binary);
  std::string text(static_cast<size_t>(size) + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > max) return make_error("refused", "grew beyond the size bound while read");
  if (!is_utf8(text)) return make_error("refused", "not UTF-8");
  return text;
}

uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return (h ^ 0xFF) * 1099511628211ULL;  // a separator, so "ab"+"c" differs from "a"+"bc"
}

std::string first_heading(std::string_view md) {
  size_t at = 0;
  while (at < md.size()) {
    size_t end = md.find('\n', at);
    std::string_view line = md.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    if (line.size() > 2 && line[0] == '#') {
      size_t b = line.find_first_not_of("# ");
      if (b != std::string_view::npos) return std::string(line.substr(b, std::min<size_t>(line.size() - b, 512)));
    }
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  return "";
}

struct Prepared {
  IndexedDocument doc;
  std::string catalog_line;
};

// The sidecar's document: its catalog line (checked by the catalog's own
// parser) and the index entry.
Result<Prepared> prepare(const std::string& rel, const std::string& body, Kind kind, const std::string& sidecar,
                         const ClassificationScale& scale) {
  boost::system::error_code ec;
  std::optional<std::string> dup;
  json::value v = parse_json_checking_keys(sidecar, 8, ec, dup);
  if (ec || !v.is_object()) return make_error("refused", "the sidecar is not a JSON object");
  if (dup) return make_error("refused", "the sidecar repeats `" + printable_key(*dup) + "`");
  Prepared p;
  json::object line{{"kind", "document"}, {"id", rel}};
  for (const auto& m : v.get_object()) {
    std::string_view k = m.key();
    if (k == "title" || k == "summary") {
      if (!m.value().is_string()) return make_error("refused", "the sidecar's " + std::string(k) + " must be a string");
      (k == "title" ? p.doc.title : p.doc.summary) = std::string(m.value().get_string());
    } else if (k == "kind" || k == "op") {
      return make_error("refused", "the sidecar's `" + std::string(k) + "`: unknown member");
    } else {
      line[k] = m.value();  // id and the ACL: the catalog parser checks them
    }
  }
  auto parsed = parse_catalog_jsonl(json::serialize(line), scale);
  if (!parsed) return make_error("refused", "the sidecar: " + parsed.error().message);
  const auto* record = parsed->changes.size() == 1 ? std::get_if<DocumentRecord>(&parsed->changes[0]) : nullptr;
  if (!record) return make_error("refused", "the sidecar is not one document");
  p.doc.id = record->id;
  p.doc.acl = acl_fingerprint(*record);
  p.doc.source_path = rel;
  std::string html_title;
  p.doc.text = kind == Kind::kHtml ? html_text(body, &html_title) : body;
  if (p.doc.title.empty()) p.doc.title = kind == Kind::kHtml ? html_title : kind == Kind::kMarkdown ? first_heading(body) : "";
  if (p.doc.title.empty()) p.doc.title = fs::path(rel).stem().string();
  uint64_t h = 14695981039346656037ULL;
  // The fingerprint too: a new classification scale changes it with the same files.
  for (std::string_view part : {std::string_view(rel), std::string_view(body), std::string_view(sidecar), std::string_view(p.doc.acl)})
    h = fnv1a(h, part);
  p.doc.hash = std::to_string(h);
  p.catalog_line = json::serialize(line);
  return p;
}

Status write_if_changed(const fs::path& path, const std::string& content, bool& written) {
  written = false;
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::string old((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (old == content) return Ok{};
    }
  }
  fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) return make_error("ingest_failed", "cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, ec);
  fs::rename(tmp, path, ec);
  if (ec) return make_error("ingest_failed", "cannot replace " + path.string() + ": " + ec.message());
  written = true;
  return Ok{};
}

}  // namespace

std::string html_text(std::string_view html, std::string* title) {
  std::string out;
  auto lower_starts = [&](size_t at, std::string_view word) {
    if (at + word.size() > html.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      char c = html[at + i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != word[i]) return false;
    }
    return true;
  };
  // Past the end of the element `name` that opens at `at` (its closing tag), or npos.
  auto skip_element = [&](size_t at, std::string_view close) {
    for (size_t i = at; i < html.size(); ++i)
      if (html[i] == '<' && lower_starts(i, close)) {
        size_t gt = html.find('>', i);
        return gt == std::string_view::npos ? html.size() : gt + 1;
      }
    return html.size();
  };
  size_t i = 0;
  while (i < html.size()) {
    char c = html[i];
    if (c == '<') {
      if (lower_starts(i, "<!--")) {
        size_t end = html.find("-->", i + 4);
        i = end == std::string_view::npos ? html.size() : end + 3;
      } else if (lower_starts(i, "<script") || lower_starts(i, "<style")) {
        i = skip_element(i + 1, lower_starts(i, "<script") ? "</script" : "</style");
      } else if (lower_starts(i, "<title")) {
        size_t gt = html.find('>', i);
        size_t end = gt == std::string_view::npos ? html.size() : skip_element(gt + 1, "</title");
        if (title && gt != std::string_view::npos) {
          size_t close = html.rfind('<', end - 1);
          *title = html_text(html.substr(gt + 1, close > gt ? close - gt - 1 : 0));
          if (title->size() > 512) title->resize(512);
        }
        i = end;
      } else {
        size_t gt = html.find('>', i);
        i = gt == std::string_view::npos ? html.size() : gt + 1;
        if (!out.empty() && out.back() != ' ' && out.back() != '\n') out += ' ';
      }
    } else if (c == '&') {
      static const std::pair<std::string_view, std::string_view> kEntities[] = {
          {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&apos;", "'"}, {"&nbsp;", " "}};
      bool decoded = false;
      for (const auto& [name, value] : kEntities)
        if (lower_starts(i, name)) {
          out += value;
          i += name.size();
          decoded = true;
          break;
        }
      if (!decoded) out += html[i++];
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

Result<IngestReport> ingest_folder(const IngestOptions& o) {
  std::error_code ec;
  fs::path root = fs::canonical(o.from, ec);
  if (ec || !fs::is_directory(root, ec)) return make_error("ingest_failed", o.from + " is not a folder");
  IngestReport report;
  std::map<std::string, Prepared> docs;  // by id
  // The files first, then in path order: the same folder ingests the same
  // way every time (which of two files claiming one id wins, too).
  std::vector<std::pair<fs::path, Kind>> found;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
  if (ec) return make_error("ingest_failed", "cannot list " + root.string() + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return make_error("ingest_failed", "cannot list " + root.string() + ": " + ec.message());
    if (it.depth() >= kMaxDepth) it.disable_recursion_pending();
    const fs::path& p = it->path();
    Kind kind = kind_of(p.filename().string());
    if (it->is_directory(ec) || kind == Kind::kOther) {
      if (!it->is_directory(ec) && !iequals_suffix(p.filename().string(), ".meta.json")) ++report.ignored;
      continue;
    }
    if (found.size() >= o.max_files)
      return make_error("ingest_failed", "more than " + std::to_string(o.max_files) + " documents in " + o.from);
    found.emplace_back(p, kind);
  }
  std::sort(found.begin(), found.end());
  for (const auto& [p, kind] : found) {
    std::string rel = p.lexically_relative(root).generic_string();
    auto refuse = [&](const std::string& why) { report.refused.push_back(rel + ": " + why); };
    fs::path sidecar = p.string() + ".meta.json";
    if (!fs::exists(fs::symlink_status(sidecar, ec))) {
      refuse("no metadata sidecar (" + sidecar.filename().string() + ")");
      continue;
    }
    auto body = read_inside(root, p, o.max_document_bytes);
    if (!body) {
      refuse(body.error().message);
      continue;
    }
    auto meta = read_inside(root, sidecar, kMaxSidecarBytes);
    if (!meta) {
      refuse("the sidecar: " + meta.error().message);
      continue;
    }
    auto prepared = prepare(rel, *body, kind, *meta, o.scale);
    if (!prepared) {
      refuse(prepared.error().message);
      continue;
    }
    if (docs.count(prepared->doc.id)) {
      refuse("id \"" + prepared->doc.id + "\" is already taken by " + docs.at(prepared->doc.id).doc.source_path);
      continue;
    }
    docs.emplace(prepared->doc.id, std::move(*prepared));
  }
  std::sort(report.refused.begin(), report.refused.end());

  if (auto ok = store::ensure_private_dir(o.index_dir); !ok) return make_error("ingest_failed", ok.error().message);
  IndexLimits limits;
  limits.max_document_bytes = o.max_document_bytes;
  auto index = DocIndex::open(o.index_dir + "/index.db", false, limits);
  if (!index) return make_error("ingest_failed", index.error().message);
  auto existing = (*index)->list();
  if (!existing) return make_error("ingest_failed", existing.error().message);
  std::map<std::string, std::string> had(existing->begin(), existing->end());
  if (auto ok = (*index)->begin(); !ok) return make_error("ingest_failed", ok.error().message);
  for (const auto& [id, p] : docs) {
    auto at = had.find(id);
    if (at != had.end() && at->second == p.doc.hash) {
      ++report.unchanged;
      continue;
    }
    if (auto ok = (*index)->upsert(p.doc); !ok) return make_error("ingest_failed", ok.error().message);
    ++(at == had.end() ? report.added : report.updated);
  }
  for (const auto& [id, hash] : had) {
    if (docs.count(id)) continue;
    if (auto ok = (*index)->remove(id); !ok) return make_error("ingest_failed", ok.error().message);
    ++report.removed;
  }
  if (auto ok = (*index)->commit(); !ok) return make_error("ingest_failed", ok.error().message);
  report.documents = docs.size();

  std::string catalog;
  for (const auto& [id, p] : docs) catalog += p.catalog_line + "\n";
  if (auto ok = write_if_changed(fs::path(o.index_dir) / "catalog.jsonl", catalog, report.catalog_written); !ok)
    return ok.error();
  return report;
}

}  // namespace ztgate::data
