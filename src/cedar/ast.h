// The Cedar abstract syntax tree: policies, templates, scopes and expressions.
//
// Expressions are one tagged node type (Expr) rather than a class hierarchy:
// the evaluator and validator switch on Expr::kind, which keeps both in one
// readable place each. Expression trees are immutable after parsing and are
// shared (shared_ptr<const Expr>) between a template and its linked policies.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cedar/result.h"
#include "cedar/value.h"

namespace ztgate::cedar {

enum class Var : uint8_t { kPrincipal, kAction, kResource, kContext };
enum class SlotId : uint8_t { kPrincipal, kResource };  // ?principal, ?resource

enum class BinaryOp : uint8_t {
  kEq, kNotEq, kLess, kLessEq, kGreater, kGreaterEq,  // comparisons
  kAdd, kSub, kMul,                                   // checked 64-bit arithmetic
  kIn,                                                // entity hierarchy membership
};

// A `like` pattern: literal runs separated by wildcards.
struct PatternElem {
  bool wildcard = false;  // `*`
  std::string literal;    // when !wildcard: the text to match exactly
};
using Pattern = std::vector<PatternElem>;

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Expr {
  enum class Kind : uint8_t {
    kLiteral,     // value
    kVar,         // var
    kSlot,        // slot (only inside templates)
    kIf,          // args = {cond, then, else}
    kAnd,         // args = {lhs, rhs}
    kOr,          // args = {lhs, rhs}
    kNot,         // args = {operand}
    kNeg,         // args = {operand}
    kBinary,      // op, args = {lhs, rhs}
    kHasAttr,     // args = {object}, name = attribute
    kGetAttr,     // args = {object}, name = attribute (both `e.a` and `e["a"]`)
    kLike,        // args = {string}, pattern
    kIs,          // args = {entity} or {entity, in-target}, name = entity type
    kSet,         // args = elements
    kRecord,      // args = values, keys = attribute names (same order)
    kCall,        // name = extension function, args = arguments (`ip("..")`)
    kMethod,      // name = method, args = {receiver, arguments...}
  };

  Kind kind = Kind::kLiteral;
  BinaryOp op = BinaryOp::kEq;
  Var var = Var::kPrincipal;
  SlotId slot = SlotId::kPrincipal;
  Value value;
  std::string name;
  std::vector<std::string> keys;
  Pattern pattern;
  std::vector<ExprPtr> args;
  SourceLoc loc;
  uint32_t height = 1;  // of this subtree; the parser bounds it (see kMaxExprHeight)
};

// Structural equality of expression trees (source locations ignored).
bool same_expr(const Expr& a, const Expr& b);

// Expression trees taller than this are refused by the parser, which bounds
// the recursion of every pass over the AST (evaluator, validator, printer).
inline constexpr uint32_t kMaxExprHeight = 1000;

// Scope constraint on the principal or the resource.
struct EntityScope {
  enum class Kind : uint8_t { kAny, kEq, kIn, kIs, kIsIn };
  Kind kind = Kind::kAny;
  std::string type;                  // for kIs / kIsIn
  std::optional<EntityUID> entity;   // for kEq / kIn / kIsIn, unset while a slot is unlinked
  bool uses_slot = false;            // `?principal` / `?resource` in a template
};

struct ActionScope {
  enum class Kind : uint8_t { kAny, kEq, kIn, kInSet };
  Kind kind = Kind::kAny;
  std::vector<EntityUID> entities;   // one for kEq / kIn; the listed ones for kInSet
};

struct Annotation {
  std::string key;
  std::optional<std::string> value;  // `@key` without a value is allowed
};

struct Condition {
  bool is_when = true;  // false: `unless`
  ExprPtr body;
};

enum class Effect : uint8_t { kPermit, kForbid };

// A static policy, a template (has slots), or a policy linked from a template.
struct Policy {
  std::string id;
  Effect effect = Effect::kPermit;
  std::vector<Annotation> annotations;  // in source order, keys unique
  EntityScope principal;
  ActionScope action;
  EntityScope resource;
  std::vector<Condition> conditions;
  SourceLoc loc;
  bool is_template = false;
  std::string template_id;  // for linked policies: the template they came from

  // The value of annotation `key`, or nullopt. `@key` alone yields "".
  std::optional<std::string> annotation(std::string_view key) const;
};

}  // namespace ztgate::cedar
