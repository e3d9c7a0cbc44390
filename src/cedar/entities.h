// The entity store: entities with attributes, tags and parents, and the
// precomputed transitive closure of the parent relation so that `in` is a
// lookup, not a graph walk.
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
  Entities() = default;

  // Builds a store; computes ancestor closures. Duplicate uids -> error.
  // Parents need not exist in the store (Cedar allows dangling parents).
  static Result<Entities> build(std::vector<Entity> entities);

  const Entity* find(const EntityUID& uid) const {
    auto it = by_uid_.find(uid);
    return it == by_uid_.end() ? nullptr : &it->second;
  }
  // Cedar `a in b`: a == b, or b is an ancestor of a.
  bool is_descendant_or_self(const EntityUID& a, const EntityUID& b) const;
  // The same when `a` was already looked up (`a_entity` may be null: not in the store).
  static bool is_descendant_or_self(const EntityUID& a, const Entity* a_entity, const EntityUID& b);
  size_t size() const { return by_uid_.size(); }

  template <class F>
  void for_each(F&& f) const {
    for (const auto& [uid, e] : by_uid_) f(e);
  }

 private:
  std::unordered_map<EntityUID, Entity, EntityUIDHash> by_uid_;
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
