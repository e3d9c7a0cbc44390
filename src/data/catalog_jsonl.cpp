#include "data/catalog_jsonl.h"

#include <boost/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "common/json_keys.h"

namespace ztgate::data {
namespace {

namespace json = boost::json;

constexpr int kMaxDepth = 8;

// Reads the members of one line's object, refusing any it does not know.
class LineReader {
 public:
  explicit LineReader(const json::object& o) : o_(o) {}

  Result<std::string> string(std::string_view key, bool required = false) {
    seen(key);
    const json::value* v = o_.if_contains(key);
    if (!v) {
      if (required) return make_error("catalog_line_invalid", std::string(key) + ": missing");
      return std::string();
    }
    if (!v->is_string()) return make_error("catalog_line_invalid", std::string(key) + ": must be a string");
    return std::string(v->get_string());
  }
  Result<std::vector<std::string>> strings(std::string_view key) {
    seen(key);
    std::vector<std::string> out;
    const json::value* v = o_.if_contains(key);
    if (!v) return out;
    if (!v->is_array()) return make_error("catalog_line_invalid", std::string(key) + ": must be an array of strings");
    for (const auto& e : v->get_array()) {
      if (!e.is_string()) return make_error("catalog_line_invalid", std::string(key) + ": must be an array of strings");
      out.emplace_back(e.get_string());
    }
    return out;
  }
  Result<std::optional<ContainerRef>> container(std::string_view key) {
    seen(key);
    const json::value* v = o_.if_contains(key);
    if (!v) return std::optional<ContainerRef>();
    const json::object* o = v->if_object();
    if (!o || o->size() != 2 || !o->contains("type") || !o->contains("id") || !o->at("type").is_string() ||
        !o->at("id").is_string())
      return make_error("catalog_line_invalid", std::string(key) + ": must be {\"type\": Folder|Collection|Space, \"id\": string}");
    auto kind = container_kind(o->at("type").get_string());
    if (!kind) return make_error("catalog_line_invalid", std::string(key) + ".type: must be Folder, Collection or Space");
    return std::optional<ContainerRef>(ContainerRef{*kind, std::string(o->at("id").get_string())});
  }
  Result<std::optional<int64_t>> label(std::string_view key, const ClassificationScale& scale) {
    auto s = string(key);
    if (!s) return s.error();
    if (s->empty() && !o_.contains(key)) return std::optional<int64_t>();
    auto rank = scale.rank(*s);
    if (!rank) return make_error("catalog_line_invalid", std::string(key) + ": unknown label `" + *s + "`");
    return std::optional<int64_t>(*rank);
  }
  Status finish() const {
    for (const auto& m : o_)
      if (!known_.count(m.key())) return make_error("catalog_line_invalid", "unknown member `" + std::string(m.key()) + "`");
    return Ok{};
  }
  void seen(std::string_view key) { known_.emplace(key); }

 private:
  const json::object& o_;
  std::set<std::string, std::less<>> known_;
};

// Shorthand: take a Result's value into `out` or return its error.
#define ZT_TAKE(out, expr)            \
  do {                                \
    auto r_ = (expr);                 \
    if (!r_) return r_.error();       \
    out = std::move(*r_);             \
  } while (0)

Result<CatalogChange> read_document(LineReader& r, const ClassificationScale& scale) {
  DocumentRecord d;
  ZT_TAKE(d.id, r.string("id", true));
  ZT_TAKE(d.owner, r.string("owner"));
  std::vector<std::string> readers;
  ZT_TAKE(readers, r.strings("readers"));
  for (auto& p : readers) {
    if (p.starts_with("user:")) {
      d.reader_users.push_back(p.substr(5));
    } else if (p.starts_with("group:")) {
      d.reader_groups.push_back(p.substr(6));
    } else {
      return make_error("catalog_line_invalid", "readers: `" + p + "` is neither user:<id> nor group:<id>");
    }
  }
  std::optional<int64_t> rank;
  ZT_TAKE(rank, r.label("classification", scale));
  // Unlabelled documents are the most restricted: an omission never opens access.
  d.classification = rank ? *rank : static_cast<int64_t>(scale.size()) - 1;
  ZT_TAKE(d.tenant, r.string("tenant"));
  ZT_TAKE(d.source, r.string("source"));
  ZT_TAKE(d.tags, r.strings("tags"));
  ZT_TAKE(d.parent, r.container("parent"));
  ZT_TAKE(d.of, r.string("of"));
  return CatalogChange(std::move(d));
}

Result<CatalogChange> read_change(const json::object& o, const ClassificationScale& scale) {
  LineReader r(o);
  std::string op, kind;
  ZT_TAKE(op, r.string("op"));
  ZT_TAKE(kind, r.string("kind", true));
  if (op.empty()) op = "upsert";
  if (op != "upsert" && op != "delete") return make_error("catalog_line_invalid", "op: must be upsert or delete");
  Result<CatalogChange> out = make_error("catalog_line_invalid", "kind: must be document, container, group or user");
  if (op == "delete") {
    Removal rm;
    ZT_TAKE(rm.id, r.string("id", true));
    if (kind == "document") {
      rm.kind = Removal::Kind::kDocument;
    } else if (kind == "container") {
      rm.kind = Removal::Kind::kContainer;
      std::string type;
      ZT_TAKE(type, r.string("type", true));
      auto k = container_kind(type);
      if (!k) return make_error("catalog_line_invalid", "type: must be Folder, Collection or Space");
      rm.container = *k;
    } else if (kind == "group") {
      rm.kind = Removal::Kind::kGroup;
    } else if (kind == "user") {
      rm.kind = Removal::Kind::kUser;
    } else {
      return out;
    }
    out = CatalogChange(std::move(rm));
  } else if (kind == "document") {
    out = read_document(r, scale);
  } else if (kind == "container") {
    ContainerRecord c;
    std::string type;
    ZT_TAKE(type, r.string("type", true));
    auto k = container_kind(type);
    if (!k) return make_error("catalog_line_invalid", "type: must be Folder, Collection or Space");
    c.kind = *k;
    ZT_TAKE(c.id, r.string("id", true));
    ZT_TAKE(c.parent, r.container("parent"));
    out = CatalogChange(std::move(c));
  } else if (kind == "group") {
    GroupRecord g;
    ZT_TAKE(g.id, r.string("id", true));
    ZT_TAKE(g.parents, r.strings("parents"));
    out = CatalogChange(std::move(g));
  } else if (kind == "user") {
    UserRecord u;
    ZT_TAKE(u.id, r.string("id", true));
    ZT_TAKE(u.groups, r.strings("groups"));
    ZT_TAKE(u.clearance, r.label("clearance", scale));
    ZT_TAKE(u.tenant, r.string("tenant"));
    out = CatalogChange(std::move(u));
  }
  if (!out) return out;
  if (auto s = r.finish(); !s) return s.error();
  return out;
}

#undef ZT_TAKE

Error at_line(const Error& e, int line) {
  return make_error(e.code, "line " + std::to_string(line) + ": " + e.message, SourceLoc{line, 0});
}

}  // namespace

Result<ParsedChanges> parse_catalog_jsonl(std::string_view text, const ClassificationScale& scale) {
  ParsedChanges out;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (line.size() > kMaxLineBytes)
      return at_line(make_error("catalog_line_invalid", "longer than 64 KiB"), line_no);
    boost::system::error_code ec;
    std::optional<std::string> dup;
    json::value v = parse_json_checking_keys(line, kMaxDepth, ec, dup);
    if (ec) return at_line(make_error("catalog_line_invalid", "not a JSON object (or nested deeper than 8)"), line_no);
    if (dup) return at_line(make_error("catalog_line_invalid", "member `" + *dup + "` appears twice"), line_no);
    if (!v.is_object()) return at_line(make_error("catalog_line_invalid", "must be a JSON object"), line_no);
    auto change = read_change(v.get_object(), scale);
    if (!change) return at_line(change.error(), line_no);
    out.changes.push_back(std::move(*change));
    out.lines.push_back(line_no);
  }
  return out;
}

Result<DocumentCatalog> load_catalog(const std::vector<std::string>& files, ClassificationScale scale,
                                     CatalogLimits limits) {
  ParsedChanges all;
  std::vector<std::string> file_of;  // per change
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) return make_error("catalog_unreadable", f + ": cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    auto parsed = parse_catalog_jsonl(text.str(), scale);
    if (!parsed) return make_error(parsed.error().code, f + ": " + parsed.error().message, parsed.error().loc);
    for (size_t i = 0; i < parsed->changes.size(); ++i) {
      all.changes.push_back(std::move(parsed->changes[i]));
      all.lines.push_back(parsed->lines[i]);
      file_of.push_back(f);
    }
  }
  DocumentCatalog empty(std::move(scale), limits);
  auto loaded = empty.apply(all.changes);
  if (!loaded) {
    size_t i = static_cast<size_t>(loaded.error().loc.line - 1);
    int line = all.lines.at(i);
    return make_error(loaded.error().code, file_of[i] + ": line " + std::to_string(line) + ": " + loaded.error().message,
                      SourceLoc{line, 0});
  }
  return loaded;
}

}  // namespace ztgate::data
