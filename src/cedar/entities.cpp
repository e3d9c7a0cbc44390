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

namespace {

using EntityMap = std::unordered_map<EntityUID, Entity, EntityUIDHash>;

// Same-named fields of `top` replace those of `under`.
ValueRecord merge_records(const ValueRecord& under, ValueRecord top) {
  if (under.empty()) return top;
  ValueRecord merged = under;
  for (auto& [name, value] : top) merged.insert_or_assign(name, std::move(value));
  return merged;
}

// A request entity that shadows `base` takes over base's attrs, tags and
// parents, its own winning per name; parents become the union.
void merge_shadowed(Entity& request, const Entity& base) {
  request.attrs = merge_records(base.attrs, std::move(request.attrs));
  request.tags = merge_records(base.tags, std::move(request.tags));
  request.parents.insert(request.parents.end(), base.parents.begin(), base.parents.end());
  std::sort(request.parents.begin(), request.parents.end());
  request.parents.erase(std::unique(request.parents.begin(), request.parents.end()),
                        request.parents.end());
}

// The ancestor closure of an overlay entity. Overlay entities are walked by
// their (merged) parents, or taken wholesale once their closure is done;
// base entities contribute their precomputed closure wholesale, except that
// an ancestor the overlay shadows is walked again through the overlay, since
// its merged parents may add ancestors base does not know.
Result<std::vector<EntityUID>> overlay_ancestors(const Entity& entity, const EntityMap& own,
                                                 const Entities* base) {
  std::unordered_set<EntityUID, EntityUIDHash> seen;
  std::vector<const EntityUID*> frontier;
  for (const auto& p : entity.parents) frontier.push_back(&p);
  while (!frontier.empty()) {
    const EntityUID& next = *frontier.back();
    frontier.pop_back();
    if (!seen.insert(next).second) continue;
    if (auto it = own.find(next); it != own.end()) {
      const Entity& o = it->second;
      if (!o.ancestors.empty()) {
        seen.insert(o.ancestors.begin(), o.ancestors.end());
      } else {
        for (const auto& p : o.parents) frontier.push_back(&p);
      }
      continue;
    }
    const Entity* b = base ? base->find(next) : nullptr;
    if (!b) continue;  // a dangling parent is still an ancestor
    for (const auto& a : b->ancestors) {
      if (own.count(a)) {
        frontier.push_back(&a);
      } else {
        seen.insert(a);
      }
    }
  }
  if (seen.count(entity.uid))
    return make_error("entity_cycle", "the entity hierarchy has a cycle containing `" +
                                          to_string(entity.uid) + "`");
  std::vector<EntityUID> out(seen.begin(), seen.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<Entities> Entities::overlay(std::shared_ptr<const Entities> base,
                                   std::vector<Entity> request_entities) {
  if (request_entities.size() > kMaxOverlayEntities)
    return make_error("overlay_too_large",
                      "a request brings " + std::to_string(request_entities.size()) +
                          " entities; at most " + std::to_string(kMaxOverlayEntities) +
                          " are allowed");
  Entities store;
  store.base_ = std::move(base);
  store.by_uid_.reserve(request_entities.size());
  for (auto& e : request_entities) {
    e.ancestors.clear();
    if (const Entity* shadowed = store.base_ ? store.base_->find(e.uid) : nullptr) {
      merge_shadowed(e, *shadowed);
      ++store.shadowed_;
    }
    EntityUID uid = e.uid;
    if (!store.by_uid_.emplace(uid, std::move(e)).second)
      return make_error("duplicate_entity", "entity `" + to_string(uid) + "` is listed twice");
  }
  // An empty `ancestors` marks a closure not yet computed; an entity whose
  // closure is empty has no parents, so walking it again costs nothing.
  for (auto& [uid, entity] : store.by_uid_) {
    auto ancestors = overlay_ancestors(entity, store.by_uid_, store.base_.get());
    if (!ancestors) return ancestors.error();
    entity.ancestors = std::move(*ancestors);
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
