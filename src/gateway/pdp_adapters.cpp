// The PDP adapters: questions about someone else's access, answered through
// the pipeline (caller authenticated, decisions cached, every query
// recorded), never enforced here.
//
//   POST /access/v1/evaluation(s)   AuthZEN Authorization API 1.0 (authzen.h)
//   POST /cedar/v1/is_authorized    Cedar's own JSON request format:
//     {"principal": <uid>, "action": <uid>, "resource": <uid>, "context"?: {...}}
//     where <uid> is {"type": "User", "id": "alice"} (or the __entity escape)
//     or the text form "User::\"alice\"". Context values use Cedar's JSON
//     value format (__entity / __extn escapes allowed). Entities come only
//     from the gateway's store: a caller cannot supply or alter them.
//     Answer: {"decision": "allow"|"deny",
//              "diagnostics": {"reason": [policy ids], "errors": [{"policy", "message"}]}}
//     Errors: 400 cedar_request_invalid.
#include <boost/json.hpp>

#include "cedar/entities.h"
#include "common/json_keys.h"
#include "gateway/adapter.h"
#include "gateway/authzen.h"
#include "pipeline/decider.h"
#include "pipeline/snapshot.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;

constexpr int kMaxCedarJsonDepth = 64;

HttpResponse json_ok(const json::object& body) { return HttpResponse{200, "application/json", {}, json::serialize(body), {}, {}}; }

CedarOutcome outcome_of(const pipeline::Verdict& v) {
  CedarOutcome out;
  out.allow = v.decision == cedar::Decision::kAllow;
  out.determining = v.determining;
  out.names = v.names;
  for (const auto& e : v.errors) out.errors.emplace_back(e.policy_id, e.message);
  return out;
}

void bad_input(pipeline::Exchange& x, const Error& e) {
  x.ending = pipeline::Ending{400, e.code, e.message, {}, ""};
}

ParseOptions parse_options(const pipeline::Exchange& x) {
  ParseOptions o;
  o.legacy_member_properties = x.snapshot->config.pdp_legacy_properties;
  return o;
}

// What the audit record says of a query: who was asked about, and the answer.
json::object query_facts(const cedar::Request& r) {
  return {{"subject", cedar::to_string(r.principal)},
          {"action", cedar::to_string(r.action)},
          {"resource", cedar::to_string(r.resource)}};
}

class AuthzenCall final : public AdapterCall {
 public:
  AdapterAnswer respond(pipeline::Exchange&) override {
    if (batch_) return json_ok(evaluations_response_json(request_, decisions_));
    return json_ok(decision_json(decisions_.front()));
  }

  bool batch_ = false;
  AuthzenEvaluations request_;
  std::vector<AuthzenDecision> decisions_;
};

class CedarCall final : public AdapterCall {
 public:
  AdapterAnswer respond(pipeline::Exchange& x) override {
    const pipeline::Verdict& v = *x.verdict;
    json::array reason, errors;
    for (const auto& id : v.determining) reason.emplace_back(id);
    for (const auto& e : v.errors) errors.emplace_back(json::object{{"policy", e.policy_id}, {"message", e.message}});
    return json_ok({{"decision", v.decision == cedar::Decision::kAllow ? "allow" : "deny"},
                    {"diagnostics", {{"reason", std::move(reason)}, {"errors", std::move(errors)}}}});
  }
};

Result<cedar::EntityUID> uid_member(const json::object& body, const char* name) {
  const json::value* v = body.if_contains(name);
  if (v == nullptr) return make_error("cedar_request_invalid", std::string("/") + name + ": missing");
  Result<cedar::EntityUID> uid = v->is_string() ? cedar::parse_entity_uid(v->as_string())
                                                : cedar::parse_entity_uid_json(json::serialize(*v));
  if (!uid) return make_error("cedar_request_invalid", std::string("/") + name + ": " + uid.error().message);
  return uid;
}

Result<cedar::Request> parse_cedar_request(std::string_view body) {
  json::parse_options opts;
  opts.max_depth = kMaxCedarJsonDepth;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, {}, opts);
  if (ec) return make_error("cedar_request_invalid", "/: the body is not valid JSON (or nests deeper than 64)");
  if (auto dup = reject_duplicate_keys(body, kMaxCedarJsonDepth, "cedar_request_invalid"); !dup) return dup.error();
  if (!v.is_object()) return make_error("cedar_request_invalid", "/: must be an object");
  const json::object& o = v.as_object();
  for (const auto& m : o)
    if (m.key() != "principal" && m.key() != "action" && m.key() != "resource" && m.key() != "context")
      return make_error("cedar_request_invalid", "/: unknown member (entities come from the gateway's store)");
  auto principal = uid_member(o, "principal");
  if (!principal) return principal.error();
  auto action = uid_member(o, "action");
  if (!action) return action.error();
  if (!cedar::is_action_entity_type(action->type))
    return make_error("cedar_request_invalid", "/action: must be an Action entity");
  auto resource = uid_member(o, "resource");
  if (!resource) return resource.error();
  cedar::Request r{std::move(*principal), std::move(*action), std::move(*resource), nullptr};
  if (const json::value* c = o.if_contains("context")) {
    auto context = cedar::parse_value_json(json::serialize(*c));
    if (!context || !context->is_record())
      return make_error("cedar_request_invalid",
                        "/context: " + (context ? std::string("must be an object") : context.error().message));
    r.context = std::make_shared<const cedar::ValueRecord>(context->as_record());
  }
  return r;
}

}  // namespace

std::unique_ptr<AdapterCall> start_authzen_evaluation(const HttpRequest& request, pipeline::Exchange& x, bool batch) {
  x.adapter = "authzen";
  x.pdp_query = true;
  auto call = std::make_unique<AuthzenCall>();
  call->batch_ = batch;
  if (batch) {
    auto parsed = parse_evaluations_request(request.body, parse_options(x));
    if (!parsed) return bad_input(x, parsed.error()), nullptr;
    call->request_ = std::move(*parsed);
  } else {
    auto parsed = parse_evaluation_request(request.body, parse_options(x));
    if (!parsed) return bad_input(x, parsed.error()), nullptr;
    call->request_.single = true;
    call->request_.items.emplace_back(std::move(*parsed));
  }
  AuthzenCall* c = call.get();
  x.decide_many = [c](pipeline::Exchange& ex, const pipeline::Decider& decider, const cedar::Entities& entities,
                      std::string_view) {
    AuthzenMapping mapping;
    json::array asked;
    DecideFn decide = [&](const cedar::Request& r) {
      if (asked.size() < 16) asked.push_back(query_facts(r));
      return outcome_of(decider.decide(r, entities));
    };
    if (!c->batch_) {
      auto d = evaluate(*c->request_.items.front(), mapping, decide);
      if (!d) return bad_input(ex, d.error());
      c->decisions_.push_back(std::move(*d));
    } else {
      c->decisions_ = evaluate_batch(c->request_, mapping, decide);
    }
    int64_t allowed = 0;
    for (const auto& d : c->decisions_) allowed += d.decision ? 1 : 0;
    ex.details["evaluations"] = static_cast<int64_t>(c->decisions_.size());
    ex.details["allowed"] = allowed;
    ex.details["denied"] = static_cast<int64_t>(c->decisions_.size()) - allowed;
    ex.details["queries"] = std::move(asked);  // the first 16
  };
  return call;
}

std::unique_ptr<AdapterCall> start_cedar_authorization(const HttpRequest& request, pipeline::Exchange& x) {
  x.adapter = "cedar";
  x.pdp_query = true;
  auto parsed = parse_cedar_request(request.body);
  if (!parsed) return bad_input(x, parsed.error()), nullptr;
  auto call = std::make_unique<CedarCall>();
  x.details = query_facts(*parsed);
  x.request = std::move(*parsed);
  x.decide_many = [](pipeline::Exchange& ex, const pipeline::Decider& decider, const cedar::Entities& entities,
                     std::string_view) {
    ex.verdict = decider.decide(*ex.request, entities);
    bool allow = ex.verdict->decision == cedar::Decision::kAllow;
    ex.details["allowed"] = int64_t{allow ? 1 : 0};
    ex.details["denied"] = int64_t{allow ? 0 : 1};
  };
  return call;
}

}  // namespace ztgate::gateway
