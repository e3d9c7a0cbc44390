// AuthZEN -> Cedar mapping, evaluation, batch semantics and the response and
// metadata documents. See authzen.h for the rules.
#include "gateway/authzen.h"

#include <array>

#include "common/json_keys.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;

bool is_ident_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

// Cedar reserves these as identifiers; an entity type using one would not
// parse back from its text form.
bool is_keyword(std::string_view s) {
  static constexpr std::array<std::string_view, 9> kKeywords = {
      "true", "false", "if", "then", "else", "in", "like", "has", "is"};
  for (auto k : kKeywords)
    if (s == k) return true;
  return s.starts_with("__cedar");
}

// A Cedar entity type name: identifiers joined by "::".
bool is_cedar_type_name(std::string_view name) {
  if (name.empty()) return false;
  size_t pos = 0;
  while (true) {
    size_t end = name.find("::", pos);
    std::string_view part = name.substr(pos, end == std::string_view::npos ? end : end - pos);
    if (part.empty() || !is_ident_start(part[0]) || is_keyword(part)) return false;
    for (char c : part)
      if (!is_ident_char(c)) return false;
    if (end == std::string_view::npos) return true;
    pos = end + 2;
  }
}

// The default rule: "service_account" -> "ServiceAccount".
std::string pascal_case(std::string_view type) {
  std::string out;
  bool start = true;
  for (char c : type) {
    if (c == '_' || c == '-') {
      start = true;
      continue;
    }
    out += (start && c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    start = false;
  }
  return out;
}

Error mapping_error(std::string_view path, std::string_view what) {
  return make_error("authzen_mapping", std::string(path) + ": " + std::string(what));
}

Result<cedar::Value> to_cedar_value(const json::value& v, const std::string& path, int depth) {
  if (depth > kMaxJsonDepth)
    return make_error("authzen_too_large", path + ": nested deeper than " +
                                               std::to_string(kMaxJsonDepth));
  switch (v.kind()) {
    case json::kind::bool_: return cedar::Value(v.get_bool());
    case json::kind::int64: return cedar::Value(v.get_int64());
    case json::kind::uint64:
      if (v.get_uint64() > static_cast<uint64_t>(INT64_MAX))
        return make_error("authzen_invalid", path + ": integer out of the 64-bit signed range");
      return cedar::Value(static_cast<int64_t>(v.get_uint64()));
    case json::kind::double_:
      return make_error("authzen_invalid", path + ": non-integral numbers have no Cedar value");
    case json::kind::string: return cedar::Value(std::string(v.get_string()));
    case json::kind::null:
      return make_error("authzen_invalid", path + ": null has no Cedar value");
    case json::kind::array: {
      cedar::ValueSet elems;
      const json::array& a = v.get_array();
      elems.reserve(a.size());
      for (size_t i = 0; i < a.size(); ++i) {
        auto e = to_cedar_value(a[i], path + "/" + std::to_string(i), depth + 1);
        if (!e) return e.error();
        elems.push_back(std::move(*e));
      }
      return cedar::Value::set(std::move(elems));
    }
    case json::kind::object: {
      cedar::ValueRecord fields;
      for (const auto& m : v.get_object()) {
        auto e = to_cedar_value(m.value(), path + "/" + printable_key(m.key()), depth + 1);
        if (!e) return e.error();
        fields.emplace(std::string(m.key()), std::move(*e));
      }
      return cedar::Value::record(std::move(fields));
    }
  }
  return make_error("authzen_invalid", path + ": unsupported JSON value");
}

Result<cedar::Value> to_cedar_record(const json::object& obj, const std::string& path) {
  return to_cedar_value(json::value(obj), path, 1);
}

constexpr std::array<std::string_view, 3> kReservedContextKeys = {"subject", "action", "resource"};

Result<cedar::RecordPtr> cedar_context(const AuthzenEvaluation& e) {
  cedar::ValueRecord fields;
  for (const auto& m : e.context) {
    std::string path = "/context/" + printable_key(m.key());
    for (auto reserved : kReservedContextKeys)
      if (m.key() == reserved)
        return make_error("authzen_invalid",
                          path + ": reserved for the request's properties (see the gateway docs)");
    auto v = to_cedar_value(m.value(), path, 2);
    if (!v) return v.error();
    fields.emplace(std::string(m.key()), std::move(*v));
  }
  struct Props {
    std::string_view key;
    const json::object* properties;
  };
  for (const Props& p : {Props{"subject", &e.subject.properties},
                         Props{"action", &e.action.properties},
                         Props{"resource", &e.resource.properties}}) {
    auto v = to_cedar_record(*p.properties, "/" + std::string(p.key) + "/properties");
    if (!v) return v.error();
    fields.emplace(std::string(p.key), std::move(*v));
  }
  return std::make_shared<const cedar::ValueRecord>(std::move(fields));
}

Result<cedar::EntityUID> entity_uid(const AuthzenEntity& e, const AuthzenMapping& mapping,
                                    std::string_view path) {
  auto type = cedar_entity_type(e.type, mapping);
  if (!type) return mapping_error(path, type.error().message);
  return cedar::EntityUID{std::move(*type), e.id};
}

json::object item_error(const Error& error) {
  return json::object{{"error", json::object{{"status", 400},
                                             {"code", error.code},
                                             {"message", error.message}}}};
}

json::object reason_admin(const CedarOutcome& r) {
  json::object reason;
  json::array determining;
  for (const auto& id : r.determining) determining.emplace_back(id);
  reason["determining_policies"] = std::move(determining);
  // The names policy authors gave them (@id), which stay stable when files
  // are reordered, unlike the generated ids.
  json::array names;
  for (const auto& name : r.names) names.emplace_back(name);
  if (!names.empty()) reason["policy_names"] = std::move(names);
  if (!r.errors.empty()) {
    json::array errors;
    for (const auto& [policy, message] : r.errors)
      errors.emplace_back(json::object{{"policy", policy}, {"message", message}});
    reason["errors"] = std::move(errors);
  }
  return json::object{{"reason_admin", std::move(reason)}};
}

DecideFn direct(const cedar::Authorizer& authorizer, const cedar::Entities& entities) {
  return [&authorizer, &entities](const cedar::Request& request) {
    cedar::Response r = authorizer.is_authorized(request, entities);
    CedarOutcome out;
    out.allow = r.decision == cedar::Decision::kAllow;
    out.determining = r.determining;
    for (const cedar::Policy* p : r.determining_policies)
      if (auto name = p->annotation("id")) out.names.push_back(*name);
    for (const auto& e : r.errors) out.errors.emplace_back(e.policy_id, e.message);
    return out;
  };
}

}  // namespace

Result<std::string> cedar_entity_type(std::string_view authzen_type,
                                      const AuthzenMapping& mapping) {
  std::string type;
  if (auto it = mapping.entity_types.find(authzen_type); it != mapping.entity_types.end()) {
    type = it->second;
  } else {
    for (char c : authzen_type)
      if (!is_ident_char(c) && c != '-')
        return make_error("authzen_mapping",
                          "type has characters other than letters, digits, '_' and '-' and no "
                          "configured mapping");
    type = pascal_case(authzen_type);
  }
  if (!is_cedar_type_name(type))
    return make_error("authzen_mapping", "type does not map to a valid Cedar entity type");
  if (cedar::is_action_entity_type(type))
    return make_error("authzen_mapping", "type maps to a Cedar action type");
  return type;
}

Result<cedar::Request> to_cedar_request(const AuthzenEvaluation& evaluation,
                                        const AuthzenMapping& mapping) {
  if (!is_cedar_type_name(mapping.action_type) ||
      !cedar::is_action_entity_type(mapping.action_type))
    return make_error("authzen_config", "the configured action type is not a Cedar action type");
  auto principal = entity_uid(evaluation.subject, mapping, "/subject/type");
  if (!principal) return principal.error();
  auto resource = entity_uid(evaluation.resource, mapping, "/resource/type");
  if (!resource) return resource.error();
  auto context = cedar_context(evaluation);
  if (!context) return context.error();
  return cedar::Request{std::move(*principal),
                        cedar::EntityUID{mapping.action_type, evaluation.action.name},
                        std::move(*resource), std::move(*context)};
}

Result<AuthzenDecision> evaluate(const AuthzenEvaluation& evaluation, const AuthzenMapping& mapping,
                                 const DecideFn& decide) {
  auto request = to_cedar_request(evaluation, mapping);
  if (!request) return request.error();
  CedarOutcome r = decide(*request);
  return AuthzenDecision{r.allow, reason_admin(r)};
}

Result<AuthzenDecision> evaluate(const AuthzenEvaluation& evaluation, const AuthzenMapping& mapping,
                                 const cedar::Authorizer& authorizer,
                                 const cedar::Entities& entities) {
  return evaluate(evaluation, mapping, direct(authorizer, entities));
}

std::vector<AuthzenDecision> evaluate_batch(const AuthzenEvaluations& request,
                                            const AuthzenMapping& mapping,
                                            const cedar::Authorizer& authorizer,
                                            const cedar::Entities& entities) {
  return evaluate_batch(request, mapping, direct(authorizer, entities));
}

std::vector<AuthzenDecision> evaluate_batch(const AuthzenEvaluations& request,
                                            const AuthzenMapping& mapping, const DecideFn& decide) {
  std::vector<AuthzenDecision> out;
  out.reserve(request.items.size());
  for (const auto& item : request.items) {
    // "Errors": an item's error is that item's deny, with the error in its context.
    if (!item) {
      out.push_back(AuthzenDecision{false, item_error(item.error())});
    } else if (auto d = evaluate(*item, mapping, decide); !d) {
      out.push_back(AuthzenDecision{false, item_error(d.error())});
    } else {
      out.push_back(std::move(*d));
    }
    // "Evaluations semantics": `&&` stops at a deny (or failure), `||` at a permit.
    bool decision = out.back().decision;
    if (request.semantic == EvaluationsSemantic::kDenyOnFirstDeny && !decision) break;
    if (request.semantic == EvaluationsSemantic::kPermitOnFirstPermit && decision) break;
  }
  return out;
}

json::object decision_json(const AuthzenDecision& decision) {
  json::object out{{"decision", decision.decision}};
  if (!decision.context.empty()) out["context"] = decision.context;
  return out;
}

json::object evaluations_response_json(const AuthzenEvaluations& request,
                                       const std::vector<AuthzenDecision>& decisions) {
  if (request.single) {
    // Fail closed: a single request with no decision is a deny.
    return decisions.empty() ? decision_json(AuthzenDecision{}) : decision_json(decisions.front());
  }
  json::array evaluations;
  for (const auto& d : decisions) evaluations.emplace_back(decision_json(d));
  return json::object{{"evaluations", std::move(evaluations)}};
}

Result<json::object> pdp_metadata(std::string_view base_url) {
  constexpr std::string_view kScheme = "https://";
  constexpr size_t kMaxUrlBytes = 2048;
  while (base_url.ends_with('/')) base_url.remove_suffix(1);
  // "Endpoint Parameters": an https URL without query or fragment.
  if (!base_url.starts_with(kScheme) || base_url.size() == kScheme.size() ||
      base_url.size() > kMaxUrlBytes || base_url.find_first_of("?# \t\r\n") != std::string_view::npos)
    return make_error("authzen_config",
                      "the PDP base URL must be an https URL without query or fragment");
  std::string base(base_url);
  return json::object{{"policy_decision_point", base},
                      {"access_evaluation_endpoint", base + "/access/v1/evaluation"},
                      {"access_evaluations_endpoint", base + "/access/v1/evaluations"}};
}

json::object error_json(const Error& error) {
  return json::object{{"error", json::object{{"code", error.code}, {"message", error.message}}}};
}

}  // namespace ztgate::gateway
