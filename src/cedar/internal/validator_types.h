// The validator's types and their lattice (strict mode).
//
// Beyond the schema's types, the typechecker needs singleton booleans
// (`True`, `False`: an expression known to always evaluate to that value),
// `Never` (the bottom type), the type of action entities, and "any set" /
// "any entity" / "any record" as the expected types of operands.
//
// Strict mode never forms the least upper bound of two different entity
// types, so an entity type here is a single named type.
//
// Internal to src/cedar.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace ztgate::cedar::internal {

struct VType;
using VTypePtr = std::shared_ptr<const VType>;

struct VAttr {
  VTypePtr type;
  bool required = true;
};
using VAttrs = std::map<std::string, VAttr, std::less<>>;

struct VType {
  enum class Kind : uint8_t {
    kNever, kTrue, kFalse, kBool, kLong, kString,
    kSet,           // element null: any set (only as an expected type)
    kRecord,
    kEntity,        // name: the entity type
    kAnyEntity,     // an unknown entity type (unlinked slot, expected type)
    kActionEntity,  // name: the action entity type, e.g. "NS::Action"
    kExtension,     // name: ipaddr, decimal, datetime, duration
  };
  Kind kind = Kind::kNever;
  std::string name;
  VTypePtr element;
  VAttrs attrs;
  bool open = false;  // kRecord: may have attributes beyond `attrs`
};

namespace vtype {
VTypePtr never();
VTypePtr boolean();
VTypePtr singleton(bool value);
VTypePtr long_();
VTypePtr string();
VTypePtr any_set();
VTypePtr any_entity();
VTypePtr any_record();  // open record without attributes: a supertype of all records
VTypePtr set_of(VTypePtr element);
VTypePtr entity(std::string name);
VTypePtr action_entity(std::string name);
VTypePtr extension(std::string name);
VTypePtr record(VAttrs attrs, bool open = false);
}  // namespace vtype

bool is_boolean(const VType& t);  // True, False or Bool
bool is_entity_like(const VType& t);  // Entity, ActionEntity or AnyEntity

// Subtyping. `permissive` allows width subtyping of open records and
// named entity types under AnyEntity; the typechecker uses it to test an
// operand against an expected kind of type ("some record", "some entity").
bool is_subtype(const VType& a, const VType& b, bool permissive);

// The strict-mode least upper bound, or nullopt when the types are
// incompatible (e.g. two different entity types, records with different
// attributes, Long and String).
std::optional<VTypePtr> least_upper_bound(const VTypePtr& a, const VTypePtr& b);

// True when no value inhabits both types. Conservative: only distinct entity
// types are known to be disjoint (sets may both be empty, and so on).
bool are_disjoint(const VType& a, const VType& b);

// Cedar's display of a type, for messages: Long, Set<String>, {a: Long, b?: Bool}.
std::string to_string(const VType& t);

}  // namespace ztgate::cedar::internal
