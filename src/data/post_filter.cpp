#include "data/post_filter.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <unordered_map>
#include <unordered_set>

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

// The entities of candidates [start, end): their documents (each once)
// over `base`, and the user (if any) over them.
Result<std::shared_ptr<const cedar::Entities>> build_layer(const DocumentCatalog& catalog,
                                                           const std::vector<Resolved>& resolved, size_t start,
                                                           size_t end, const std::shared_ptr<const cedar::Entities>& base,
                                                           const std::optional<cedar::Entity>& user) {
  std::vector<cedar::Entity> docs;
  docs.reserve(end - start);
  std::unordered_set<const DocumentRecord*> added;
  for (size_t i = start; i < end; ++i)
    if (resolved[i].record && added.insert(resolved[i].record).second)
      docs.push_back(document_entity(catalog, *resolved[i].record, resolved[i].rank));
  auto documents = cedar::Entities::overlay(base, std::move(docs));
  if (!documents) return documents.error();
  auto layer = std::make_shared<const cedar::Entities>(std::move(*documents));
  if (!user) return layer;
  auto with_user = cedar::Entities::overlay(std::move(layer), {*user});
  if (!with_user) return with_user.error();
  return std::make_shared<const cedar::Entities>(std::move(*with_user));
}

}  // namespace

std::vector<ItemDecision> authorize_candidates(const DocumentCatalog& catalog, const Reader& reader,
                                               const std::vector<Candidate>& candidates, cedar::RecordPtr context,
                                               std::shared_ptr<const cedar::Entities> base,
                                               const DocumentDecideFn& decide) {
  std::vector<ItemDecision> out(candidates.size());
  // The principal's side, once: its user with the groups closure.
  std::optional<cedar::Entity> user;
  if (reader.user) {
    auto built = user_entity(catalog, *reader.user, reader.credential_groups);
    if (!built) return deny_all(candidates.size(), built.error().code);
    user = std::move(*built);
  }
  bool agent = reader.user && !(reader.principal.type == "User" && reader.principal.id == *reader.user);

  // Each candidate's document and effective rank (the strictest label
  // given for an id in this call wins for every mention of it). A
  // catalog version holds one record per id: the record's address is the
  // id's key.
  std::vector<Resolved> resolved(candidates.size());
  std::unordered_map<const DocumentRecord*, int64_t> rank_of;
  rank_of.reserve(candidates.size());
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
    auto [it, inserted] = rank_of.emplace(d, rank);
    if (!inserted) it->second = std::max(it->second, rank);
  }
  for (auto& r : resolved)
    if (r.record) r.rank = rank_of[r.record];

  for (size_t start = 0; start < candidates.size(); start += kDocumentsPerLayer) {
    size_t end = std::min(candidates.size(), start + kDocumentsPerLayer);
    std::optional<Result<std::shared_ptr<const cedar::Entities>>> layer;
    // The documents over `base`, and the user over them: the principal,
    // looked up by most conditions, is found in the top layer's few
    // entities without hashing.
    EntitiesFn entities = [&]() -> Result<std::shared_ptr<const cedar::Entities>> {
      if (!layer) layer = build_layer(catalog, resolved, start, end, base, user);
      return *layer;
    };
    for (size_t i = start; i < end; ++i) {
      if (!resolved[i].record) continue;
      const DocumentRecord& d = *resolved[i].record;
      const int64_t rank = resolved[i].rank;
      char item_key[24];
      item_key[0] = 'c';
      size_t key_size = 1 + static_cast<size_t>(std::to_chars(item_key + 1, item_key + sizeof item_key, rank).ptr - (item_key + 1));
      cedar::Request req{reader.principal, kRetrieve, cedar::EntityUID{"Document", d.id}, context};
      DecisionOutcome own = decide(req, std::string_view(item_key, key_size), entities);
      if (layer && !*layer) {
        out[i] = {false, "entities_invalid", {}};
        continue;
      }
      if (!own.allow) {
        out[i] = {false, "denied", std::move(own.policies)};
        continue;
      }
      if (agent) {
        cedar::Request as_user{cedar::EntityUID{"User", *reader.user}, kRetrieve, std::move(req.resource), context};
        DecisionOutcome user_outcome = decide(as_user, std::string_view(item_key, key_size), entities);
        if (!user_outcome.allow) {
          out[i] = {false, "user_denied", std::move(user_outcome.policies)};
          continue;
        }
      }
      out[i] = {true, "allowed", std::move(own.policies), rank};
    }
  }
  return out;
}

}  // namespace ztgate::data
