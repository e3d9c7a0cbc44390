// Fuzz target: the AuthZEN request parser and its mapping onto Cedar
// (src/gateway/authzen.h).
//
// Properties checked, for any input:
//   1. parse_evaluation_request / parse_evaluations_request (legacy member
//      properties off and on) return a value or an error; never crash, hang,
//      leak or hit undefined behavior.
//   2. An evaluation that parses and maps gives a cedar::Request whose
//      principal, action and resource uids round-trip through Cedar's text
//      form (to_string -> parse_entity_uid): the mapping never produces a uid
//      that would mean something else when printed into a policy or a log.
//   3. A batch answers at most one decision per item, exactly one per item
//      under execute_all, and a single request exactly one.
//
// Input: a request body (seeds in fuzz/corpus/fuzz_authzen/).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "cedar/entities.h"
#include "cedar/policy_set.h"
#include "gateway/authzen.h"
#include "property.h"

namespace {

using namespace ztgate::gateway;
using ztgate::fuzz::require;
namespace cedar = ztgate::cedar;

const cedar::Authorizer& authorizer() {
  static const cedar::Authorizer a(std::make_shared<const cedar::PolicySet>(std::move(
      *cedar::parse_policies(R"(permit (principal, action, resource) when {
        context.resource has owner && context.resource.owner == context.subject.id };)"))));
  return a;
}

void check_round_trip(const cedar::EntityUID& uid, std::string_view what, std::string_view input) {
  auto back = cedar::parse_entity_uid(cedar::to_string(uid));
  require(back.ok() && *back == uid, what, std::string(input));
}

void check_mapping(const AuthzenEvaluation& evaluation, std::string_view input) {
  auto request = to_cedar_request(evaluation, AuthzenMapping{});
  if (!request) return;
  check_round_trip(request->principal, "the principal uid round-trips through Cedar text", input);
  check_round_trip(request->action, "the action uid round-trips through Cedar text", input);
  check_round_trip(request->resource, "the resource uid round-trips through Cedar text", input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  static const cedar::Entities entities;
  for (bool legacy : {false, true}) {
    ParseOptions options{.legacy_member_properties = legacy};
    if (auto single = parse_evaluation_request(input, options)) check_mapping(*single, input);
    auto batch = parse_evaluations_request(input, options);
    if (!batch) continue;
    for (const auto& item : batch->items)
      if (item) check_mapping(*item, input);
    auto decisions = evaluate_batch(*batch, AuthzenMapping{}, authorizer(), entities);
    require(decisions.size() <= batch->items.size(), "at most one decision per item",
            std::string(input));
    if (batch->semantic == EvaluationsSemantic::kExecuteAll || batch->single)
      require(decisions.size() == batch->items.size(), "every item answered", std::string(input));
    (void)evaluations_response_json(*batch, decisions);
  }
  return 0;
}
