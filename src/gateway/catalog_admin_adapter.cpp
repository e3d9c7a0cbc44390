// POST /admin/v1/catalog: an incremental sync of the document catalog. The
// body is a batch of changes in the catalog's JSON Lines format
// (data/catalog_jsonl.h: upserts and deletes of documents, containers,
// groups, users), applied all at once or not at all, with a version bump:
// every retrieval decision cached before it is stale from then on.
// Authorized like any exchange: `Action::"manage_catalog"` on
// `DocumentCatalog::"default"` (docs/RETRIEVAL.md).
// Answer: {"version": N, "applied": count}. Errors: 400 catalog_line_invalid
// (with the line), 400 catalog_change_invalid, 409 catalog_full.
#include <boost/json.hpp>

#include "data/catalog_jsonl.h"
#include "gateway/adapter.h"
#include "pipeline/snapshot.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;

class CatalogUpdateCall final : public AdapterCall {
 public:
  explicit CatalogUpdateCall(data::ParsedChanges changes) : changes_(std::move(changes)) {}

  AdapterAnswer respond(pipeline::Exchange& x) override {
    auto version = x.snapshot->catalog->apply(changes_.changes);
    if (!version) {
      const Error& e = version.error();
      std::string message = e.message;
      if (e.loc.line > 0 && static_cast<size_t>(e.loc.line) <= changes_.lines.size())
        message = "line " + std::to_string(changes_.lines[static_cast<size_t>(e.loc.line - 1)]) + ": " + message;
      x.details["rejected"] = e.code;
      return json_error(e.code == "catalog_full" ? 409 : 400, e.code, message, x.request_id);
    }
    x.details["applied"] = static_cast<int64_t>(changes_.changes.size());
    x.details["catalog_version"] = *version;
    return HttpResponse{200, "application/json", {},
                        json::serialize(json::object{{"version", *version},
                                                     {"applied", static_cast<int64_t>(changes_.changes.size())}}),
                        {}, {}};
  }

 private:
  data::ParsedChanges changes_;
};

}  // namespace

std::unique_ptr<AdapterCall> start_catalog_update(const HttpRequest& request, pipeline::Exchange& x) {
  x.adapter = "admin";
  x.action = "manage_catalog";
  x.resource = authn::EntityRef{"DocumentCatalog", "default"};
  if (!x.snapshot->catalog) {  // a snapshot not built by load_snapshot
    x.ending = pipeline::Ending{503, "retrieval_unavailable", "this gateway has no document catalog", {}, ""};
    return nullptr;
  }
  auto parsed = data::parse_catalog_jsonl(request.body, x.snapshot->catalog->current()->scale());
  if (!parsed) {
    x.ending = pipeline::Ending{400, parsed.error().code, parsed.error().message, {}, ""};
    return nullptr;
  }
  x.details["changes"] = static_cast<int64_t>(parsed->changes.size());
  return std::make_unique<CatalogUpdateCall>(std::move(*parsed));
}

}  // namespace ztgate::gateway
