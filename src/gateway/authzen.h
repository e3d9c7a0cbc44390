// The OpenID AuthZEN Authorization API 1.0 mapped onto Cedar: the pure part
// of the PDP endpoints (no HTTP). An HTTP handler calls
//   POST /access/v1/evaluation   -> parse_evaluation_request, evaluate, decision_json
//   POST /access/v1/evaluations  -> parse_evaluations_request, evaluate_batch
//   GET /.well-known/authzen-configuration -> pdp_metadata
// Section names below are those of the AuthZEN Authorization API 1.0 text
// (openid/authzen, api/authorization-api-1_0.md).
//
// Parsing (spec "Information Model", "Access Evaluation API Request"):
//   subject  {type: string, id: string, properties?: object}   REQUIRED
//   action   {name: string, properties?: object}               REQUIRED
//   resource {type: string, id: string, properties?: object}   REQUIRED
//   context  object                                            OPTIONAL
// Missing or mistyped members are errors. Unknown members are IGNORED, as the
// spec's forward-compatibility rule requires (certification scenario 2.2.9).
// With ParseOptions::legacy_member_properties, unknown members of subject,
// action and resource are instead taken as properties (the pre-1.0 interop
// drafts put e.g. `ownerID` beside `id`); explicit `properties` win.
//
// Batch ("Access Evaluations API"): top-level subject/action/resource/context
// are defaults; an item's member replaces the default as a whole object, but a
// missing `type`/`id`/`name` falls back to the default's (certification 3.2.7).
// An item that is still incomplete becomes an evaluation-level error (decision
// false, error in its context), not a whole-request error ("Errors"). An absent
// or empty `evaluations` array means a single evaluation of the top level.
// `options.evaluations_semantic` ("Evaluations semantics"): execute_all
// (default) answers every item; deny_on_first_deny stops after the first deny
// or error, permit_on_first_permit after the first permit: the response then
// holds the results up to and including that item, and nothing for the rest.
//
// Mapping onto a cedar::Request:
//   principal = <cedar_type(subject.type)>::"<subject.id>"
//   action    = <Mapping::action_type>::"<action.name>"
//   resource  = <cedar_type(resource.type)>::"<resource.id>"
//   context   = the AuthZEN context's members, converted (below), plus three
//               reserved members holding the request's properties, always
//               present (empty record when none were sent):
//                 context.subject, context.action, context.resource
//               A request context that uses one of these names is refused.
// So a policy reads `context.resource.ownerID == principal.email`; entity
// attributes come only from the stored Entities, which callers cannot forge.
// cedar_type: Mapping::entity_types when it has the AuthZEN type, otherwise
// the default rule: split on '_' and '-', capitalize each part's first letter,
// join ("user" -> "User", "service_account" -> "ServiceAccount"). The result
// must be a valid Cedar type name (identifiers joined by "::", no keyword) and
// not an action type.
// JSON -> Cedar values: string, bool, integer (int64 range) -> same; array ->
// set (duplicates collapse); object -> record. null and non-integral numbers
// are refused. `__entity` / `__extn` keys have no special meaning: a caller
// cannot inject entity references.
//
// Bounds: body <= kMaxBodyBytes, JSON nesting <= kMaxJsonDepth, evaluations
// <= kMaxEvaluations, each type/id/name <= kMaxIdentifierBytes. Duplicate
// member names are refused (two parsers must not disagree on which wins).
//
// Error codes (Error::code), stable:
//   authzen_invalid     the body is not a valid request; the message starts
//                       with a JSON-pointer-like path ("/subject/type: ...")
//   authzen_too_large   body, depth or batch length beyond the bounds
//   authzen_mapping     a type does not map to a valid Cedar type
//   authzen_config      bad Mapping or metadata base URL (operator error)
// Messages name paths and types, never request values.
#pragma once

#include <boost/json.hpp>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cedar/authorizer.h"
#include "cedar/entities.h"
#include "common/result.h"

namespace ztgate::gateway {

inline constexpr size_t kMaxBodyBytes = size_t{1} << 20;  // 1 MiB
inline constexpr int kMaxJsonDepth = 32;
inline constexpr size_t kMaxEvaluations = 1000;
inline constexpr size_t kMaxIdentifierBytes = 1024;

struct AuthzenEntity {  // a subject or a resource
  std::string type;
  std::string id;
  boost::json::object properties;
};

struct AuthzenAction {
  std::string name;
  boost::json::object properties;
};

struct AuthzenEvaluation {
  AuthzenEntity subject;
  AuthzenAction action;
  AuthzenEntity resource;
  boost::json::object context;
};

enum class EvaluationsSemantic : uint8_t { kExecuteAll, kDenyOnFirstDeny, kPermitOnFirstPermit };

struct AuthzenEvaluations {
  // True when the request had no (or an empty) `evaluations` array: answer
  // with a single Access Evaluation response.
  bool single = false;
  EvaluationsSemantic semantic = EvaluationsSemantic::kExecuteAll;
  // One per request item, in order: the resolved evaluation or its error.
  std::vector<Result<AuthzenEvaluation>> items;
};

struct ParseOptions {
  bool legacy_member_properties = false;  // see the header comment
};

// POST /access/v1/evaluation body.
Result<AuthzenEvaluation> parse_evaluation_request(std::string_view body,
                                                   const ParseOptions& options = {});
// POST /access/v1/evaluations body. Whole-payload errors (bad JSON, bad
// defaults when there is no batch, bad options, too many items) are errors;
// a bad item is an item error.
Result<AuthzenEvaluations> parse_evaluations_request(std::string_view body,
                                                     const ParseOptions& options = {});

struct AuthzenMapping {
  std::map<std::string, std::string, std::less<>> entity_types;  // AuthZEN type -> Cedar type
  std::string action_type = "Action";
};

// The Cedar entity type for an AuthZEN subject/resource type (rule above).
Result<std::string> cedar_entity_type(std::string_view authzen_type, const AuthzenMapping& mapping);
Result<cedar::Request> to_cedar_request(const AuthzenEvaluation& evaluation,
                                        const AuthzenMapping& mapping);

// An AuthZEN Decision ("Access Evaluation API Response"): decision plus the
// response context {"reason_admin": {"determining_policies": [ids],
// "errors": [{"policy", "message"}]}} or, for an item error,
// {"error": {"status": 400, "code", "message"}}.
struct AuthzenDecision {
  bool decision = false;
  boost::json::object context;
};

// One Cedar decision as the AuthZEN answer reports it. DecideFn makes it:
// the Authorizer directly (the overloads below), or the gateway's cached
// decider.
struct CedarOutcome {
  bool allow = false;
  std::vector<std::string> determining;  // policy ids
  std::vector<std::string> names;        // their @id annotations
  std::vector<std::pair<std::string, std::string>> errors;  // policy id, message
};
using DecideFn = std::function<CedarOutcome(const cedar::Request&)>;

Result<AuthzenDecision> evaluate(const AuthzenEvaluation& evaluation, const AuthzenMapping& mapping,
                                 const DecideFn& decide);
std::vector<AuthzenDecision> evaluate_batch(const AuthzenEvaluations& request,
                                            const AuthzenMapping& mapping, const DecideFn& decide);

// Maps and authorizes one evaluation. A mapping error is an error (HTTP 400
// for the single endpoint).
Result<AuthzenDecision> evaluate(const AuthzenEvaluation& evaluation, const AuthzenMapping& mapping,
                                 const cedar::Authorizer& authorizer,
                                 const cedar::Entities& entities);

// Evaluates a batch under its semantic. Item errors (parse or mapping) become
// decision false with the error in the context. The result has one decision
// per evaluated item: all of them for execute_all, fewer after a short circuit.
std::vector<AuthzenDecision> evaluate_batch(const AuthzenEvaluations& request,
                                            const AuthzenMapping& mapping,
                                            const cedar::Authorizer& authorizer,
                                            const cedar::Entities& entities);

boost::json::object decision_json(const AuthzenDecision& decision);
// The /access/v1/evaluations response body: {"decision",...} when
// request.single, else {"evaluations": [...]} (the top-level decision omitted,
// as the spec recommends).
boost::json::object evaluations_response_json(const AuthzenEvaluations& request,
                                              const std::vector<AuthzenDecision>& decisions);

// The PDP metadata document ("Policy Decision Point Metadata"):
// policy_decision_point = base_url, and the evaluation endpoints under it.
// base_url must be https, without query or fragment; a trailing '/' is dropped.
Result<boost::json::object> pdp_metadata(std::string_view base_url);

// {"error": {"code", "message"}}, for an HTTP 400 body.
boost::json::object error_json(const Error& error);

}  // namespace ztgate::gateway
