// The entity store: entities with attributes, tags and parents, and the
// precomputed transitive closure of the parent relation so that `in` is a
// lookup, not a graph walk.
//
// A store is either built whole (`build`, `parse_entities_json`) or is an
// overlay (`overlay`): a few request entities (the principal from a verified
// credential, its groups, ...) layered over a large, immutable, shared base
// store, without copying the base. Both are the same type, so the evaluator
// and `Authorizer::is_authorized(request, const Entities&)` take either.
#pragma once

#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cedar/result.h"
#include "cedar/schema.h"
#include "cedar/value.h"

namespace ztgate::cedar {

struct Entity {
  EntityUID uid;
  ValueRecord attrs;
  ValueRecord tags;
  std::vector<EntityUID> parents;    // direct parents, as given
  std::vector<EntityUID> ancestors;  // transitive closure of parents, sorted, unique
};

class Entities {
 public:
  // At most this many request entities in one overlay ("overlay_too_large").
  static constexpr size_t kMaxOverlayEntities = 1024;

  Entities() = default;

  // Builds a store; computes ancestor closures. Duplicate uids -> error.
  // Parents need not exist in the store (Cedar allows dangling parents).
  static Result<Entities> build(std::vector<Entity> entities);

  // A store that is `base` plus `request_entities`, sharing `base` (kept alive
  // by the overlay; never copied or modified). Building one costs time in the
  // number of request entities and their ancestors only, not in base's size.
  //
  // - Shadowing: a request entity whose uid is in base replaces it, merged:
  //   attrs and tags are base's with the request entity's same-named ones
  //   replacing them; parents are the union of both.
  // - Ancestors of the request entities are closed transitively through both
  //   layers: request says User::"alice" in Group::"eng", base says
  //   Group::"eng" in Group::"staff" => `alice in Group::"staff"`. Request
  //   entities may be parents of one another.
  // - Limit: base entities keep base's closures. A request entity that adds
  //   parents to an entity some base entities descend from does not make
  //   those base entities descendants of the new parents (in practice request
  //   entities are leaves: principals and their groups).
  // - `ancestors` given on request entities is ignored (recomputed).
  // - Errors (same codes as build): "duplicate_entity" for a uid listed twice
  //   in request_entities, "entity_cycle" when the request entities close a
  //   cycle (alone or through base); "overlay_too_large" beyond
  //   kMaxOverlayEntities. A null base is an empty base.
  // - Lookups: `find` tries the overlay's own entities, then base: one extra
  //   lookup per layer (a scan of a few uid compares for up to 8 request
  //   entities, a hash lookup beyond that).
  // - size() counts the union (a shadowed uid once); for_each visits the
  //   union once per uid, overlay entities (merged) first, then base's.
  // - An overlay may itself be the base of another overlay. Like any store,
  //   it is safe to read from many threads at once; base is only read.
  static Result<Entities> overlay(std::shared_ptr<const Entities> base,
                                  std::vector<Entity> request_entities);

  const Entity* find(const EntityUID& uid) const {
    if (by_uid_.size() <= kScanAtMost) {
      // A request's few entities: comparing uids beats hashing one.
      for (const auto& [key, e] : by_uid_)
        if (key == uid) return &e;
    } else if (auto it = by_uid_.find(uid); it != by_uid_.end()) {
      return &it->second;
    }
    return base_ ? base_->find(uid) : nullptr;
  }
  // Cedar `a in b`: a == b, or b is an ancestor of a.
  bool is_descendant_or_self(const EntityUID& a, const EntityUID& b) const;
  // The same when `a` was already looked up (`a_entity` may be null: not in the store).
  static bool is_descendant_or_self(const EntityUID& a, const Entity* a_entity, const EntityUID& b);
  // Entities in the store (for an overlay: the union, each uid once).
  size_t size() const { return by_uid_.size() + (base_ ? base_->size() - shadowed_ : 0); }

  // Calls f(const Entity&) once per uid; an overlay's own (merged) entities
  // come first, then the base entities they do not shadow.
  template <class F>
  void for_each(F&& f) const {
    for (const Entities* layer = this; layer; layer = layer->base_.get())
      for (const auto& [uid, e] : layer->by_uid_)
        if (!shadowed_above(layer, uid)) f(e);
  }

 private:
  static constexpr size_t kScanAtMost = 8;

  // Whether a layer stacked above `layer` (this one included) holds `uid`.
  bool shadowed_above(const Entities* layer, const EntityUID& uid) const {
    for (const Entities* l = this; l != layer; l = l->base_.get())
      if (!l->by_uid_.empty() && l->by_uid_.count(uid)) return true;
    return false;
  }

  std::unordered_map<EntityUID, Entity, EntityUIDHash> by_uid_;
  std::shared_ptr<const Entities> base_;  // null unless an overlay
  size_t shadowed_ = 0;                   // own entities whose uid is also in base_
};

// Cedar's JSON entity format: [{"uid": .., "attrs": {..}, "parents": [..], "tags": {..}}].
// With a schema, values are parsed by their declared types (bare strings
// for extension values, bare {"type","id"} for entity references) and the
// schema's action entities are added to the store.
Result<Entities> parse_entities_json(std::string_view json, const Schema* schema = nullptr);

// One Cedar JSON value (`__entity`, `__extn` escapes). With `expected`,
// schema-directed parsing as above.
Result<Value> parse_value_json(std::string_view json, const SchemaType* expected = nullptr);
// An entity uid in JSON: {"type":..,"id":..} or {"__entity":{..}}.
Result<EntityUID> parse_entity_uid_json(std::string_view json);
// Cedar text form of a uid: `Type::"id"`.
Result<EntityUID> parse_entity_uid(std::string_view text);

}  // namespace ztgate::cedar
