// Cedar's strict-mode typechecker for one request environment.
//
// A request environment fixes the principal type, the action, the resource
// type and the context type (one combination from an action's appliesTo).
// The validator typechecks each policy condition (scope included) once per
// environment and collects the errors of all environments.
//
// Typing follows the reference validator (cedar-policy-core's typecheck.rs):
// boolean expressions get singleton types (True/False) when they are known
// constant in the environment, and `&&`, `||` and `if` skip the operand or
// branch that cannot be evaluated. Errors inside a skipped operand are
// therefore not reported: `false && 1 + "a"` validates.
//
// `has` produces a capability (this attribute of this expression is present)
// that `&&` and `if` carry to their right operand / then-branch, which is what
// makes reading an optional attribute safe.
//
// Recursion follows the expression tree, whose height the parser bounds
// (kMaxExprHeight); a level costs well under 1 KB of stack.
//
// Internal to src/cedar.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "cedar/ast.h"
#include "cedar/internal/validator_types.h"
#include "cedar/schema.h"
#include "cedar/validator.h"

namespace ztgate::cedar::internal {

// The schema, plus what the typechecker derives from it: descendant sets
// and validator types for declared types.
class SchemaIndex {
 public:
  explicit SchemaIndex(const Schema& schema);

  const Schema& schema() const { return schema_; }

  // Declared, or the action entity type of some namespace (`Action`, `NS::Action`).
  bool is_known_entity_type(std::string_view type) const;
  // Entity types whose entities may be `in` an entity of `type` (itself included).
  std::set<std::string> types_in(std::string_view type) const;
  // Actions `in` the given action (itself excluded); null for an undeclared action.
  const std::set<EntityUID>* action_descendants(const EntityUID& action) const;

  VTypePtr to_vtype(const SchemaTypePtr& t) const;
  // The attributes of a declared entity type; null when undeclared.
  const VAttrs* entity_attributes(std::string_view type) const;
  // The tag type of a declared entity type; null when it has no tags.
  VTypePtr tag_type(std::string_view type) const;

 private:
  const Schema& schema_;
  std::map<std::string, std::set<std::string>, std::less<>> entity_descendants_;
  std::map<EntityUID, std::set<EntityUID>> action_descendants_;
  std::map<std::string, VAttrs, std::less<>> entity_attrs_;
  mutable std::unordered_map<const SchemaType*, VTypePtr> converted_;
};

// One request environment. Slots are set when typechecking a template
// linked (hypothetically) to entities of that type.
struct RequestEnv {
  std::string principal;
  const ActionDef* action = nullptr;
  std::string resource;
  VTypePtr context;
  std::optional<std::string> principal_slot;
  std::optional<std::string> resource_slot;
};

// `object` has attribute `attr` (or, for tags, tag `tag`). Expressions are
// compared structurally.
struct Capability {
  const Expr* object = nullptr;
  std::string attr;
  const Expr* tag = nullptr;
};
using Capabilities = std::vector<Capability>;

struct Answer {
  VTypePtr type;      // null: no type could be assigned
  bool ok = false;    // false: typechecking failed (an error was reported, or will be)
  Capabilities caps;  // what is known when the expression evaluates to true
};

class Typechecker {
 public:
  Typechecker(const SchemaIndex& index, const RequestEnv& env, std::string_view policy_id,
              std::vector<ValidationIssue>& errors)
      : index_(index), env_(env), policy_id_(policy_id), errors_(errors) {}

  // Typechecks `e` expecting a boolean.
  Answer check_condition(const Expr& e);

 private:
  Answer typecheck(const Capabilities& prior, const Expr& e);
  Answer expect(const Capabilities& prior, const Expr& e, std::initializer_list<VTypePtr> expected);

  Answer literal(const Expr& e);
  Answer variable(const Expr& e);
  Answer if_then_else(const Capabilities& prior, const Expr& e);
  Answer conjunction(const Capabilities& prior, const Expr& e, const Expr& lhs, const Expr& rhs);
  Answer disjunction(const Capabilities& prior, const Expr& e);
  Answer negation(const Capabilities& prior, const Expr& e);
  Answer binary(const Capabilities& prior, const Expr& e);
  Answer equality(const Capabilities& prior, const Expr& e);
  Answer comparison(const Capabilities& prior, const Expr& e);
  Answer membership(const Capabilities& prior, const Expr& e, const Expr& lhs, const Expr& rhs);
  Answer has_attr(const Capabilities& prior, const Expr& e);
  Answer get_attr(const Capabilities& prior, const Expr& e);
  Answer type_test(const Capabilities& prior, const Expr& e);
  Answer set_literal(const Capabilities& prior, const Expr& e);
  Answer record_literal(const Capabilities& prior, const Expr& e);
  Answer method(const Capabilities& prior, const Expr& e);
  Answer set_operation(const Capabilities& prior, const Expr& e);
  Answer tag_operation(const Capabilities& prior, const Expr& e);
  Answer extension_call(const Capabilities& prior, const Expr& e);

  // Strict equality: the operand types must have a least upper bound unless
  // the result is already a known constant.
  Answer enforce_strict(const Expr& e, Answer result, const VTypePtr& lhs, const VTypePtr& rhs);

  std::optional<EntityUID> literal_or_action_uid(const Expr& e) const;
  std::optional<std::vector<EntityUID>> literal_or_action_uids(const Expr& e) const;
  Answer action_in_literals(const EntityUID& lhs, const std::vector<EntityUID>& rhs);
  bool may_be_descendant(const std::string& lhs_type, const std::string& rhs_type) const;

  std::optional<VAttr> lookup_attr(const VType& t, std::string_view attr) const;
  bool may_have_attr(const VType& t, std::string_view attr) const;
  std::vector<VTypePtr> tag_types(const VType& t) const;

  void error(std::string code, std::string message, SourceLoc loc);
  void report_unexpected(const VType& actual, std::initializer_list<VTypePtr> expected, SourceLoc loc);

  const SchemaIndex& index_;
  const RequestEnv& env_;
  std::string_view policy_id_;
  std::vector<ValidationIssue>& errors_;
};

// Structural equality of expressions (source locations ignored).

}  // namespace ztgate::cedar::internal
