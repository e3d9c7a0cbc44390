// Strict validation of policies against a schema (Cedar's typechecker), and
// validation of requests and entities against a schema.
#pragma once

#include <string>
#include <vector>

#include "cedar/authorizer.h"
#include "cedar/entities.h"
#include "cedar/policy_set.h"
#include "cedar/result.h"
#include "cedar/schema.h"

namespace ztgate::cedar {

struct ValidationIssue {
  std::string policy_id;
  std::string code;     // stable, e.g. "unexpected_type", "unknown_entity_type"
  std::string message;
  SourceLoc loc;
};

struct ValidationResult {
  std::vector<ValidationIssue> errors;
  std::vector<ValidationIssue> warnings;
  bool ok() const { return errors.empty(); }
};

// Strict-mode validation of every static policy, template and link.
ValidationResult validate_policies(const Schema& schema, const PolicySet& policies);

// The request's principal/resource types are allowed for its action and its
// context has the action's context type.
Status validate_request(const Schema& schema, const Request& request);

// Every entity's type is declared, its attributes, tags and parent types conform.
Status validate_entities(const Schema& schema, const Entities& entities);

}  // namespace ztgate::cedar
