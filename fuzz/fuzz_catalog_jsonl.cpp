// Fuzz target: the document catalog's JSON Lines (data/catalog_jsonl.h)
// and what is built from a catalog.
//
// Properties checked, for any input text:
//   1. parse_catalog_jsonl returns changes or an error whose message names
//      a line ("line N: ..."); it never crashes, hangs, leaks or hits
//      undefined behavior.
//   2. Applying the changes gives a catalog one version up, or an error
//      with the bad change's 1-based index; the empty catalog it started
//      from is left as it was.
//   3. For every document of the result: its Cedar entity builds, its
//      ancestors are at most kMaxContainerDepth deep without repeats; for
//      every user: the groups closure, the pre-filter and its renderings
//      build, and every value reaches the SQL only as a parameter (the
//      WHERE clause is one of two fixed texts).
//
// Input: JSON Lines (seeds: fuzz/corpus/fuzz_catalog_jsonl/).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "data/access_filter.h"
#include "data/catalog_jsonl.h"
#include "data/document_entities.h"
#include "property.h"

namespace {

using namespace ztgate::data;
using ztgate::fuzz::require;

constexpr std::string_view kWhere = "tenant = $1 AND classification <= $2 AND (owner = $3 OR readers && $4::text[])";

void check_catalog(const DocumentCatalog& c, const std::vector<CatalogChange>& changes) {
  for (const auto& change : changes) {
    if (const auto* d = std::get_if<DocumentRecord>(&change)) {
      const DocumentRecord* stored = c.document(d->id);
      if (!stored) continue;  // deleted later in the batch
      auto up = c.ancestors(*stored);
      require(up.size() <= kMaxContainerDepth, "ancestors are bounded", d->id);
      for (size_t i = 0; i < up.size(); ++i)
        require(std::find(up.begin() + static_cast<long>(i) + 1, up.end(), up[i]) == up.end(), "ancestors repeat nothing", d->id);
      auto e = document_entity(c, *stored, stored->classification);
      require(e.uid.id == stored->id, "the entity is the document", d->id);
    } else if (const auto* u = std::get_if<UserRecord>(&change)) {
      auto entity = user_entity(c, u->id, {});
      auto filter = access_filter(c, u->id, {});
      require(static_cast<bool>(entity) == static_cast<bool>(filter), "user entity and filter agree on the group bound");
      if (!filter) continue;
      SqlFilter sql = render_postgresql(*filter);
      require(sql.where == kWhere || sql.where == "FALSE", "the WHERE clause is fixed text", sql.where);
      (void)predicate_json(*filter);
      (void)render_opensearch(*filter);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_catalog_jsonl(text, ClassificationScale());
  if (!parsed) {
    require(parsed.error().message.rfind("line ", 0) == 0, "errors name their line", parsed.error().message);
    return 0;
  }
  DocumentCatalog empty;
  auto applied = empty.apply(parsed->changes);
  require(empty.version() == 0 && empty.documents() == 0, "apply leaves its catalog as it was");
  if (!applied) {
    require(applied.error().loc.line >= 1 && static_cast<size_t>(applied.error().loc.line) <= parsed->changes.size(),
            "errors name their change", applied.error().message);
    return 0;
  }
  require(applied->version() == 1, "apply bumps the version once");
  check_catalog(*applied, parsed->changes);
  return 0;
}
