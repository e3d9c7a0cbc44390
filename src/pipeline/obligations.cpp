#include "pipeline/obligations.h"

#include <algorithm>
#include <boost/json.hpp>

namespace ztgate::pipeline {

namespace {

constexpr std::string_view kOnDeny = "on_deny";
constexpr std::string_view kRedact = "redact";
constexpr std::string_view kPseudonymize = "pseudonymize";
constexpr std::string_view kSpotlight = "spotlight";
constexpr std::string_view kMinimize = "minimize";

bool valid_spotlight(std::string_view mode) { return mode.empty() || mode == "datamark" || mode == "delimit"; }

std::optional<DenyObligation> parse_on_deny(std::string_view value) {
  if (value == "step_up") return DenyObligation::kStepUp;
  if (value == "require_approval") return DenyObligation::kRequireApproval;
  return std::nullopt;
}

bool is_category_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

// "secrets,pii" -> {"pii", "secrets"}; spaces around commas are allowed.
// `name`: the annotation, for messages.
Result<std::vector<std::string>> parse_redact(std::string_view value, std::string_view name = kRedact) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = value.find(',', start);
    std::string_view item = value.substr(start, comma == std::string_view::npos ? value.npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty() || item.size() > kMaxRedactCategoryBytes ||
        !std::all_of(item.begin(), item.end(), is_category_char))
      return make_error("invalid_redaction",
                        "@" + std::string(name) + " needs comma-separated categories of [a-z0-9_], at most " +
                            std::to_string(kMaxRedactCategoryBytes) + " bytes each");
    out.emplace_back(item);
    if (out.size() > kMaxRedactCategories)
      return make_error("invalid_redaction", "@" + std::string(name) + " lists more than " +
                                                 std::to_string(kMaxRedactCategories) + " categories");
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status validate_policy(const cedar::Policy& p, const std::vector<std::string>& categories) {
  if (auto on_deny = p.annotation(kOnDeny)) {
    if (p.effect != cedar::Effect::kForbid)
      return make_error("misplaced_obligation",
                        "policy " + p.id + ": @on_deny only applies to forbid policies");
    if (!parse_on_deny(*on_deny))
      return make_error("unknown_obligation",
                        "policy " + p.id + ": unknown @on_deny(\"" + cedar::escape_string(*on_deny) +
                            "\"); use \"step_up\" or \"require_approval\"");
  }
  for (std::string_view name : {kRedact, kPseudonymize}) {
    auto value = p.annotation(name);
    if (!value) continue;
    const std::string at = "policy " + p.id + ": @" + std::string(name);
    if (p.effect != cedar::Effect::kPermit)
      return make_error("misplaced_obligation", at + " only applies to permit policies");
    auto parsed = parse_redact(*value, name);
    if (!parsed) return make_error(parsed.error().code, "policy " + p.id + ": " + parsed.error().message);
    for (const auto& c : *parsed)
      if (std::find(categories.begin(), categories.end(), c) == categories.end())
        return make_error("invalid_redaction", at + ": unknown category \"" + c + "\"");
  }
  if (auto spotlight = p.annotation(kSpotlight)) {
    if (p.effect != cedar::Effect::kPermit)
      return make_error("misplaced_obligation", "policy " + p.id + ": @spotlight only applies to permit policies");
    if (!valid_spotlight(*spotlight))
      return make_error("unknown_obligation", "policy " + p.id + ": unknown @spotlight(\"" +
                                                  cedar::escape_string(*spotlight) +
                                                  "\"); use \"datamark\", \"delimit\" or \"\"");
  }
  if (auto minimize = p.annotation(kMinimize)) {
    if (p.effect != cedar::Effect::kPermit)
      return make_error("misplaced_obligation", "policy " + p.id + ": @minimize only applies to permit policies");
    if (*minimize != "summary_only")
      return make_error("unknown_obligation", "policy " + p.id + ": unknown @minimize(\"" +
                                                  cedar::escape_string(*minimize) + "\"); use \"summary_only\"");
  }
  return Ok{};
}

}  // namespace

std::string_view to_string(DenyObligation o) {
  switch (o) {
    case DenyObligation::kStepUp: return "step_up";
    case DenyObligation::kRequireApproval: return "require_approval";
    case DenyObligation::kNone: break;
  }
  return "";
}

Status validate_obligations(const cedar::PolicySet& set,
                            const std::vector<std::string>& redact_categories) {
  for (const auto* list : {&set.policies(), &set.templates()})
    for (const auto& p : *list)
      if (auto st = validate_policy(*p, redact_categories); !st) return st;
  return Ok{};
}

Result<Obligations> derive_obligations(const cedar::Response& response) {
  return derive_obligations(response.decision, response.determining_policies);
}

Result<Obligations> derive_obligations(cedar::Decision decision,
                                       const std::vector<const cedar::Policy*>& determining) {
  Obligations out;
  if (decision == cedar::Decision::kDeny) {
    // Strictest wins; a forbid without a (known) @on_deny is a plain deny.
    bool plain = determining.empty();
    for (const auto* p : determining) {
      auto value = p ? p->annotation(kOnDeny) : std::nullopt;
      auto parsed = value ? parse_on_deny(*value) : std::nullopt;
      if (!parsed) {
        plain = true;
        break;
      }
      out.on_deny = std::max(out.on_deny, *parsed);
    }
    if (plain) out.on_deny = DenyObligation::kNone;
    return out;
  }
  for (const auto* p : determining) {
    if (auto mode = p ? p->annotation(kSpotlight) : std::nullopt) {
      if (!valid_spotlight(*mode)) return make_error("unknown_obligation", "policy " + p->id + ": unknown @spotlight");
      auto rank = [](std::string_view m) { return m == "datamark" ? 2 : m == "delimit" ? 1 : 0; };
      if (!out.spotlight || rank(*mode) > rank(*out.spotlight)) out.spotlight = std::string(*mode);
    }
    if (auto minimize = p ? p->annotation(kMinimize) : std::nullopt) {
      if (*minimize != "summary_only") return make_error("unknown_obligation", "policy " + p->id + ": unknown @minimize");
      out.minimize = std::string(*minimize);
    }
    for (std::string_view name : {kRedact, kPseudonymize}) {
      auto value = p ? p->annotation(name) : std::nullopt;
      if (!value) continue;
      auto parsed = parse_redact(*value, name);
      if (!parsed) return make_error(parsed.error().code, "policy " + p->id + ": " + parsed.error().message);
      auto& into = name == kRedact ? out.redact : out.pseudonymize;
      into.insert(into.end(), parsed->begin(), parsed->end());
    }
  }
  for (auto* list : {&out.redact, &out.pseudonymize}) {
    std::sort(list->begin(), list->end());
    list->erase(std::unique(list->begin(), list->end()), list->end());
  }
  return out;
}

DenyAnswer deny_answer(DenyObligation obligation, std::string_view request_id,
                       const std::vector<std::string>& policies) {
  DenyAnswer answer;
  boost::json::object error;
  switch (obligation) {
    case DenyObligation::kNone:
      answer.status = 403;
      error["code"] = "forbidden";
      error["message"] = "the request is denied by policy";
      break;
    case DenyObligation::kStepUp:
      answer.status = 401;
      error["code"] = "step_up_required";
      error["message"] = "stronger authentication is required; authenticate again and retry";
      answer.headers.emplace_back(
          "WWW-Authenticate",
          "Bearer error=\"insufficient_user_authentication\", "
          "error_description=\"A stronger authentication is required\"");
      break;
    case DenyObligation::kRequireApproval:
      answer.status = 403;
      error["code"] = "approval_required";
      error["message"] =
          "this request requires approval, and the approvals workflow is not available yet";
      break;
  }
  error["request_id"] = request_id;
  if (obligation != DenyObligation::kNone) error["obligation"] = to_string(obligation);
  if (!policies.empty()) {
    boost::json::array names;
    for (const auto& p : policies) names.emplace_back(p);
    error["policies"] = std::move(names);
  }
  answer.code = error["code"].as_string().c_str();
  answer.body = boost::json::serialize(boost::json::object{{"error", std::move(error)}});
  return answer;
}

}  // namespace ztgate::pipeline
