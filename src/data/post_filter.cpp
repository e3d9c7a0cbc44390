#include "data/post_filter.h"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "data/document_entities.h"

namespace ztgate::data {
namespace {

const cedar::EntityUID kRetrieve{"Action", "retrieve"};

struct Resolved {
  const DocumentRecord* record = nullptr;
  int64_t rank = 0;
};

std::vector<ItemDecision> deny_all(size_t n, const std::string& reason) {
  return std::vector<ItemDecision>(n, ItemDecision{false, reason, {}});
}

}  // namespace

std::vector<ItemDecision> authorize_candidates(const DocumentCatalog& catalog, const Reader& reader,
                                               const std::vector<Candidate>& candidates, cedar::RecordPtr context,
                                               std::shared_ptr<const cedar::Entities> base,
                                               const DocumentDecideFn& decide) {
  std::vector<ItemDecision> out(candidates.size());
  // The principal's side, once.
  std::shared_ptr<const cedar::Entities> principal_layer = base;
  if (reader.user) {
    auto user = user_entity(catalog, *reader.user, reader.credential_groups);
    if (!user) return deny_all(candidates.size(), user.error().code);
    auto layer = cedar::Entities::overlay(base, {std::move(*user)});
    if (!layer) return deny_all(candidates.size(), "entities_invalid");
    principal_layer = std::make_shared<const cedar::Entities>(std::move(*layer));
  }
  bool agent = reader.user && !(reader.principal.type == "User" && reader.principal.id == *reader.user);

  // Each candidate's document and effective rank (the strictest label
  // given for an id in this call wins for every mention of it).
  std::vector<Resolved> resolved(candidates.size());
  std::unordered_map<std::string_view, int64_t> rank_of;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const DocumentRecord* d = catalog.document(candidates[i].id);
    if (!d) {
      out[i] = {false, "unknown_document", {}};
      continue;
    }
    int64_t rank = d->classification;
    if (candidates[i].label) {
      auto r = catalog.scale().rank(*candidates[i].label);
      if (!r) {
        out[i] = {false, "unknown_label", {}};
        continue;
      }
      rank = std::max(rank, *r);
    }
    resolved[i] = {d, rank};
    auto [it, inserted] = rank_of.emplace(d->id, rank);
    if (!inserted) it->second = std::max(it->second, rank);
  }

  for (size_t start = 0; start < candidates.size(); start += kDocumentsPerLayer) {
    size_t end = std::min(candidates.size(), start + kDocumentsPerLayer);
    std::optional<Result<std::shared_ptr<const cedar::Entities>>> layer;
    EntitiesFn entities = [&]() -> Result<std::shared_ptr<const cedar::Entities>> {
      if (!layer) {
        std::vector<cedar::Entity> docs;
        std::unordered_map<std::string_view, bool> added;
        for (size_t i = start; i < end; ++i)
          if (resolved[i].record && added.emplace(resolved[i].record->id, true).second)
            docs.push_back(document_entity(catalog, *resolved[i].record, rank_of[resolved[i].record->id]));
        auto built = cedar::Entities::overlay(principal_layer, std::move(docs));
        if (built) {
          layer = std::make_shared<const cedar::Entities>(std::move(*built));
        } else {
          layer = built.error();
        }
      }
      return *layer;
    };
    for (size_t i = start; i < end; ++i) {
      if (!resolved[i].record) continue;
      const DocumentRecord& d = *resolved[i].record;
      std::string item_key = "c" + std::to_string(rank_of[d.id]);
      cedar::Request req{reader.principal, kRetrieve, cedar::EntityUID{"Document", d.id}, context};
      DecisionOutcome own = decide(req, item_key, entities);
      if (layer && !*layer) {
        out[i] = {false, "entities_invalid", {}};
        continue;
      }
      if (!own.allow) {
        out[i] = {false, "denied", std::move(own.policies)};
        continue;
      }
      if (agent) {
        cedar::Request as_user{cedar::EntityUID{"User", *reader.user}, kRetrieve, req.resource, context};
        DecisionOutcome user = decide(as_user, item_key, entities);
        if (!user.allow) {
          out[i] = {false, "user_denied", std::move(user.policies)};
          continue;
        }
      }
      out[i] = {true, "allowed", std::move(own.policies), rank_of[d.id]};
    }
  }
  return out;
}

}  // namespace ztgate::data
