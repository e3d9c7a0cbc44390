#include "cedar/entities.h"

#include <algorithm>
#include <unordered_set>

namespace ztgate::cedar {

Result<Entities> Entities::build(std::vector<Entity> entities) {
  Entities store;
  store.by_uid_.reserve(entities.size());
  for (auto& e : entities) {
    EntityUID uid = e.uid;
    auto [it, inserted] = store.by_uid_.emplace(uid, std::move(e));
    if (!inserted)
      return make_error("duplicate_entity", "entity `" + to_string(uid) + "` is listed twice");
  }
  // Transitive closure by a walk per entity. Parents missing from the store
  // still count as ancestors (and end the walk there). A cycle is refused,
  // as Cedar does: a hierarchy where an entity is its own ancestor is a data
  // error, not something to evaluate policies over.
  std::vector<const EntityUID*> frontier;
  std::unordered_set<const EntityUID*> seen_missing;
  for (auto& [uid, entity] : store.by_uid_) {
    std::unordered_set<EntityUID, EntityUIDHash> seen;
    frontier.clear();
    for (const auto& p : entity.parents) frontier.push_back(&p);
    while (!frontier.empty()) {
      const EntityUID* next = frontier.back();
      frontier.pop_back();
      if (!seen.insert(*next).second) continue;
      auto pit = store.by_uid_.find(*next);
      if (pit == store.by_uid_.end()) continue;
      // A parent whose closure is already done contributes it wholesale.
      if (!pit->second.ancestors.empty() || pit->second.parents.empty()) {
        for (const auto& a : pit->second.ancestors) seen.insert(a);
        continue;
      }
      for (const auto& gp : pit->second.parents) frontier.push_back(&gp);
    }
    if (seen.count(uid))
      return make_error("entity_cycle", "the entity hierarchy has a cycle containing `" +
                                            to_string(uid) + "`");
    entity.ancestors.assign(seen.begin(), seen.end());
    std::sort(entity.ancestors.begin(), entity.ancestors.end());
  }
  return store;
}

bool Entities::is_descendant_or_self(const EntityUID& a, const EntityUID& b) const {
  if (a == b) return true;
  return is_descendant_or_self(a, find(a), b);
}

bool Entities::is_descendant_or_self(const EntityUID& a, const Entity* a_entity, const EntityUID& b) {
  if (a == b) return true;
  return a_entity && std::binary_search(a_entity->ancestors.begin(), a_entity->ancestors.end(), b);
}

}  // namespace ztgate::cedar
