// Authorization per the Cedar spec: default deny, any satisfied forbid
// denies, otherwise any satisfied permit allows. A policy whose evaluation
// errors is skipped (neither satisfied nor failing the request) and reported.
//
// An Authorizer indexes a PolicySet by scope once; is_authorized then only
// evaluates policies whose scope can match the request. Thread-safe: all
// methods are const.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cedar/entities.h"
#include "cedar/policy_set.h"
#include "cedar/value.h"

namespace ztgate::cedar {

struct Request {
  EntityUID principal;
  EntityUID action;
  EntityUID resource;
  RecordPtr context;  // null means the empty record
};

enum class Decision : uint8_t { kAllow, kDeny };

struct PolicyError {
  std::string policy_id;
  std::string message;
};

struct Response {
  Decision decision = Decision::kDeny;
  std::vector<std::string> determining;  // satisfied forbids on deny, satisfied permits on allow
  std::vector<PolicyError> errors;
  // The determining policies themselves (for their annotations: obligations).
  // They point into the Authorizer's PolicySet: valid while it lives.
  std::vector<const Policy*> determining_policies;
};

class Authorizer {
 public:
  explicit Authorizer(std::shared_ptr<const PolicySet> policies);
  ~Authorizer();
  Authorizer(Authorizer&&) noexcept;
  Authorizer& operator=(Authorizer&&) noexcept;

  Response is_authorized(const Request& request, const Entities& entities) const;
  const PolicySet& policies() const { return *policies_; }

 private:
  struct Index;
  std::shared_ptr<const PolicySet> policies_;
  std::unique_ptr<Index> index_;
};

// Request parsing from Cedar JSON (the conformance/CLI format): context is a
// JSON object of Cedar values, parsed with the schema (for the action) if given.
Result<RecordPtr> parse_context_json(std::string_view json, const Schema* schema,
                                     const EntityUID& action);

}  // namespace ztgate::cedar
