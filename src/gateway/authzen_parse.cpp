// AuthZEN request parsing: JSON text -> AuthzenEvaluation(s). See authzen.h
// for the rules; the spec sections are named beside the code that follows them.
#include <optional>

#include "common/json_keys.h"
#include "gateway/authzen.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;

Error invalid(std::string_view path, std::string_view what) {
  return make_error("authzen_invalid", std::string(path) + ": " + std::string(what));
}

Result<json::object> parse_body(std::string_view body) {
  if (body.size() > kMaxBodyBytes)
    return make_error("authzen_too_large",
                      "/: the request body exceeds " + std::to_string(kMaxBodyBytes) + " bytes");
  if (body.empty()) return invalid("/", "the request body is empty");
  json::parse_options opts;
  opts.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, {}, opts);
  if (ec == json::error::too_deep)
    return make_error("authzen_too_large",
                      "/: JSON nesting deeper than " + std::to_string(kMaxJsonDepth));
  if (ec) return invalid("/", "the request body is not valid JSON");
  if (auto dup = reject_duplicate_keys(body, kMaxJsonDepth, "authzen_invalid"); !dup)
    return dup.error();
  if (!v.is_object()) return invalid("/", "the request must be a JSON object");
  return std::move(v.as_object());
}

std::string child(std::string_view path, std::string_view key) {
  return std::string(path) + "/" + printable_key(key);
}

// A subject, resource or action as written, before defaults are applied:
// `first`/`second` are type/id (entities) or name (actions, no second).
struct Partial {
  bool present = false;
  std::optional<std::string> first;
  std::optional<std::string> second;
  json::object properties;
};

struct Shape {
  std::string_view first;
  std::string_view second;  // empty for actions
};
constexpr Shape kEntityShape{"type", "id"};
constexpr Shape kActionShape{"name", ""};

Result<std::string> identifier(const json::value& v, std::string_view path) {
  if (!v.is_string()) return invalid(path, "must be a string");
  const json::string& s = v.as_string();
  if (s.empty()) return invalid(path, "must not be empty");
  if (s.size() > kMaxIdentifierBytes)
    return make_error("authzen_too_large",
                      std::string(path) + ": longer than " + std::to_string(kMaxIdentifierBytes) +
                          " bytes");
  return std::string(s.data(), s.size());
}

Result<Partial> parse_partial(const json::object& parent, std::string_view key,
                              std::string_view parent_path, const Shape& shape,
                              const ParseOptions& options) {
  Partial out;
  auto it = parent.find(key);
  if (it == parent.end()) return out;
  std::string path = child(parent_path, key);
  if (!it->value().is_object()) return invalid(path, "must be an object");
  const json::object& obj = it->value().as_object();
  out.present = true;
  if (auto p = obj.find("properties"); p != obj.end()) {
    if (!p->value().is_object()) return invalid(child(path, "properties"), "must be an object");
    out.properties = p->value().as_object();
  }
  for (const auto& member : obj) {
    std::string_view name = member.key();
    if (name == shape.first || (!shape.second.empty() && name == shape.second)) {
      auto s = identifier(member.value(), child(path, name));
      if (!s) return s.error();
      (name == shape.first ? out.first : out.second) = std::move(*s);
    } else if (name != "properties" && options.legacy_member_properties &&
               !out.properties.contains(name)) {
      out.properties[name] = member.value();
    }
    // Otherwise an unknown member: ignored (forward compatibility).
  }
  return out;
}

// Entity-level replacement with fallback of the required members
// (certification scenario 3.2.7): the item's object wins as a whole.
Partial merge(const Partial& item, const Partial& fallback) {
  if (!item.present) return fallback;
  Partial out = item;
  if (!out.first) out.first = fallback.first;
  if (!out.second) out.second = fallback.second;
  return out;
}

Result<AuthzenEntity> complete_entity(const Partial& p, std::string_view path) {
  if (!p.present) return invalid(path, "required");
  if (!p.first) return invalid(child(path, "type"), "required");
  if (!p.second) return invalid(child(path, "id"), "required");
  return AuthzenEntity{*p.first, *p.second, p.properties};
}

Result<AuthzenAction> complete_action(const Partial& p, std::string_view path) {
  if (!p.present) return invalid(path, "required");
  if (!p.first) return invalid(child(path, "name"), "required");
  return AuthzenAction{*p.first, p.properties};
}

// The members of one evaluation (the top level, or one batch item).
struct Members {
  Partial subject, action, resource;
  std::optional<json::object> context;
};

Result<Members> parse_members(const json::object& obj, std::string_view path,
                              const ParseOptions& options) {
  Members m;
  auto subject = parse_partial(obj, "subject", path, kEntityShape, options);
  if (!subject) return subject.error();
  auto action = parse_partial(obj, "action", path, kActionShape, options);
  if (!action) return action.error();
  auto resource = parse_partial(obj, "resource", path, kEntityShape, options);
  if (!resource) return resource.error();
  m.subject = std::move(*subject);
  m.action = std::move(*action);
  m.resource = std::move(*resource);
  if (auto c = obj.find("context"); c != obj.end()) {
    if (!c->value().is_object()) return invalid(child(path, "context"), "must be an object");
    m.context = c->value().as_object();
  }
  return m;
}

Result<AuthzenEvaluation> complete(const Members& m, std::string_view path) {
  auto subject = complete_entity(m.subject, child(path, "subject"));
  if (!subject) return subject.error();
  auto action = complete_action(m.action, child(path, "action"));
  if (!action) return action.error();
  auto resource = complete_entity(m.resource, child(path, "resource"));
  if (!resource) return resource.error();
  return AuthzenEvaluation{std::move(*subject), std::move(*action), std::move(*resource),
                           m.context.value_or(json::object{})};
}

// "Evaluations options" / "Evaluations semantics".
Result<EvaluationsSemantic> parse_semantic(const json::object& body) {
  auto it = body.find("options");
  if (it == body.end()) return EvaluationsSemantic::kExecuteAll;
  if (!it->value().is_object()) return invalid("/options", "must be an object");
  const json::object& options = it->value().as_object();
  auto s = options.find("evaluations_semantic");
  if (s == options.end()) return EvaluationsSemantic::kExecuteAll;
  if (!s->value().is_string()) return invalid("/options/evaluations_semantic", "must be a string");
  std::string_view v = s->value().as_string();
  if (v == "execute_all") return EvaluationsSemantic::kExecuteAll;
  if (v == "deny_on_first_deny") return EvaluationsSemantic::kDenyOnFirstDeny;
  if (v == "permit_on_first_permit") return EvaluationsSemantic::kPermitOnFirstPermit;
  return invalid("/options/evaluations_semantic",
                 "must be execute_all, deny_on_first_deny or permit_on_first_permit");
}

Result<AuthzenEvaluation> batch_item(const json::value& v, const Members& defaults,
                                     std::string_view path, const ParseOptions& options) {
  if (!v.is_object()) return invalid(path, "must be an object");
  auto item = parse_members(v.as_object(), path, options);
  if (!item) return item.error();
  Members merged;
  merged.subject = merge(item->subject, defaults.subject);
  merged.action = merge(item->action, defaults.action);
  merged.resource = merge(item->resource, defaults.resource);
  merged.context = item->context ? item->context : defaults.context;
  return complete(merged, path);
}

}  // namespace

Result<AuthzenEvaluation> parse_evaluation_request(std::string_view body,
                                                   const ParseOptions& options) {
  auto obj = parse_body(body);
  if (!obj) return obj.error();
  auto members = parse_members(*obj, "", options);
  if (!members) return members.error();
  return complete(*members, "");
}

Result<AuthzenEvaluations> parse_evaluations_request(std::string_view body,
                                                     const ParseOptions& options) {
  auto obj = parse_body(body);
  if (!obj) return obj.error();
  AuthzenEvaluations out;
  auto semantic = parse_semantic(*obj);
  if (!semantic) return semantic.error();
  out.semantic = *semantic;
  auto defaults = parse_members(*obj, "", options);
  if (!defaults) return defaults.error();

  const json::array* items = nullptr;
  if (auto it = obj->find("evaluations"); it != obj->end()) {
    if (!it->value().is_array()) return invalid("/evaluations", "must be an array");
    items = &it->value().as_array();
  }
  // No or an empty array: backwards compatible with the single evaluation
  // ("Access Evaluations API Request"; certification 3.4.2, 3.4.3).
  if (items == nullptr || items->empty()) {
    auto single = complete(*defaults, "");
    if (!single) return single.error();
    out.single = true;
    out.items.push_back(std::move(*single));
    return out;
  }
  if (items->size() > kMaxEvaluations)
    return make_error("authzen_too_large", "/evaluations: more than " +
                                               std::to_string(kMaxEvaluations) + " items");
  out.items.reserve(items->size());
  for (size_t i = 0; i < items->size(); ++i)
    out.items.push_back(
        batch_item((*items)[i], *defaults, "/evaluations/" + std::to_string(i), options));
  return out;
}

}  // namespace ztgate::gateway
