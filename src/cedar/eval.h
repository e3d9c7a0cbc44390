// The Cedar expression evaluator. Evaluation is pure: it reads the request
// and the entity store and returns a value or an error (type errors,
// arithmetic overflow, missing attributes/entities/tags, extension errors).
#pragma once

#include "cedar/ast.h"
#include "cedar/authorizer.h"
#include "cedar/entities.h"

namespace ztgate::cedar {

class Evaluator {
 public:
  Evaluator(const Request& request, const Entities& entities);

  Result<Value> eval(const Expr& expr) const;

  // Whether the conditions of `policy` hold (its scope is not checked here).
  // An error in a condition makes the whole policy an error.
  Result<bool> conditions_hold(const Policy& policy) const;

  // Whether the policy's scope matches the request. Never errors.
  bool scope_matches(const Policy& policy) const;

 private:
  Result<Value> eval_binary(const Expr& e) const;
  Result<Value> eval_method(const Expr& e) const;
  Result<Value> eval_in(const Value& lhs, const Value& rhs) const;
  Result<Value> eval_has_attr(const Expr& e) const;
  Result<Value> eval_get_attr(const Expr& e) const;

  bool entity_scope_matches(const EntityScope& scope, const EntityUID& uid,
                            const Entity* entity) const;

  const Request& request_;
  const Entities& entities_;
  Value principal_, action_, resource_, context_;
  // The request's entities, looked up once (null when not in the store).
  const Entity* principal_entity_;
  const Entity* action_entity_;
  const Entity* resource_entity_;
};

// Cedar `like`: `*` matches any sequence of characters.
bool wildcard_match(std::string_view text, const Pattern& pattern);

}  // namespace ztgate::cedar
