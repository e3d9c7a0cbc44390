// The Cedar policy tools, in the spirit of the official `cedar` CLI.
#include <boost/json.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cedar/authorizer.h"
#include "cedar/entities.h"
#include "cedar/policy_set.h"
#include "cedar/schema.h"
#include "cedar/validator.h"
#include "cli/commands.h"

namespace ztgate::cli {
namespace {

using namespace ztgate::cedar;

constexpr int kExitAllow = 0;
constexpr int kExitError = 1;
constexpr int kExitDeny = 2;

bool read_text(const std::string& path, std::string& out, std::string& err) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    out = ss.str();
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err = "cannot read " + path;
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Reads a schema in the human (.cedarschema) or JSON (.json) format.
Result<Schema> load_schema(const std::string& path) {
  std::string text, err;
  if (!read_text(path, text, err)) return make_error("io_error", err);
  auto schema = ends_with(path, ".json") ? parse_schema_json(text) : parse_schema(text);
  if (!schema) return make_error(schema.error().code, path + ":" + schema.error().to_string());
  return schema;
}

Result<PolicySet> load_policies(const std::string& path) {
  std::string text, err;
  if (!read_text(path, text, err)) return make_error("io_error", err);
  auto set = parse_policies(text);
  if (!set) return make_error(set.error().code, path + ":" + set.error().to_string());
  return set;
}

int fail(const std::string& msg) {
  std::cerr << "error: " << msg << "\n";
  return kExitError;
}

struct AuthorizeArgs {
  std::string policies, entities, schema, context, principal, action, resource;
  std::vector<std::string> links;
  bool json = false;
};

int run_authorize(const AuthorizeArgs& a) {
  std::optional<Schema> schema;
  if (!a.schema.empty()) {
    auto s = load_schema(a.schema);
    if (!s) return fail(s.error().message);
    schema = std::move(*s);
  }
  auto policies = load_policies(a.policies);
  if (!policies) return fail(policies.error().message);
  for (const auto& link : a.links) {
    // TEMPLATE_ID:NEW_ID:principal=User::"a",resource=Doc::"d"
    auto c1 = link.find(':');
    auto c2 = link.find(':', c1 == std::string::npos ? 0 : c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos)
      return fail("--link must look like TEMPLATE_ID:NEW_ID:principal=Type::\"id\"[,resource=...]");
    std::map<SlotId, EntityUID> slots;
    std::string rest = link.substr(c2 + 1);
    std::stringstream ss(rest);
    std::string part;
    while (std::getline(ss, part, ',')) {
      auto eq = part.find('=');
      if (eq == std::string::npos) return fail("bad slot binding `" + part + "` in --link");
      auto uid = parse_entity_uid(part.substr(eq + 1));
      if (!uid) return fail("--link: " + uid.error().message);
      std::string slot = part.substr(0, eq);
      if (slot == "principal") slots[SlotId::kPrincipal] = *uid;
      else if (slot == "resource") slots[SlotId::kResource] = *uid;
      else return fail("unknown slot `" + slot + "` in --link (use principal or resource)");
    }
    auto st = policies->link(link.substr(0, c1), link.substr(c1 + 1, c2 - c1 - 1), slots);
    if (!st) return fail(st.error().message);
  }
  std::string ent_text = "[]", err;
  if (!a.entities.empty() && !read_text(a.entities, ent_text, err)) return fail(err);
  auto entities = parse_entities_json(ent_text, schema ? &*schema : nullptr);
  if (!entities) return fail(a.entities + ":" + entities.error().to_string());
  auto p = parse_entity_uid(a.principal);
  if (!p) return fail("--principal: " + p.error().message);
  auto act = parse_entity_uid(a.action);
  if (!act) return fail("--action: " + act.error().message);
  auto r = parse_entity_uid(a.resource);
  if (!r) return fail("--resource: " + r.error().message);
  std::string ctx_text = "{}";
  if (!a.context.empty() && !read_text(a.context, ctx_text, err)) return fail(err);
  auto ctx = parse_context_json(ctx_text, schema ? &*schema : nullptr, *act);
  if (!ctx) return fail(a.context + ":" + ctx.error().to_string());
  Request req{*p, *act, *r, *ctx};
  if (schema) {
    auto st = validate_request(*schema, req);
    if (!st) return fail("request does not match the schema: " + st.error().message);
  }
  Authorizer authz(std::make_shared<const PolicySet>(std::move(*policies)));
  Response resp = authz.is_authorized(req, *entities);
  bool allow = resp.decision == Decision::kAllow;
  if (a.json) {
    boost::json::object out;
    out["decision"] = allow ? "allow" : "deny";
    boost::json::array reasons, errors;
    for (const Policy* policy : resp.determining_policies) {
      boost::json::object annotations;
      for (const auto& note : policy->annotations) annotations[note.key] = note.value.value_or("");
      reasons.push_back(
          boost::json::object{{"id", policy->id}, {"annotations", std::move(annotations)}});
    }
    for (const auto& e : resp.errors)
      errors.push_back(boost::json::object{{"policy", e.policy_id}, {"message", e.message}});
    out["determining_policies"] = std::move(reasons);
    out["errors"] = std::move(errors);
    std::cout << boost::json::serialize(out) << "\n";
  } else {
    std::cout << (allow ? "ALLOW" : "DENY") << "\n";
    for (const Policy* policy : resp.determining_policies) {
      std::cout << "determined by " << policy->id;
      if (auto id = policy->annotation("id")) std::cout << " @id(\"" << *id << "\")";
      for (const auto& note : policy->annotations)
        if (note.key != "id")
          std::cout << " @" << note.key << "(\"" << note.value.value_or("") << "\")";
      std::cout << "\n";
    }
    for (const auto& e : resp.errors) std::cout << "error in " << e.policy_id << ": " << e.message << "\n";
  }
  return allow ? kExitAllow : kExitDeny;
}

int run_validate(const std::string& schema_path, const std::string& policies_path) {
  auto schema = load_schema(schema_path);
  if (!schema) return fail(schema.error().message);
  auto policies = load_policies(policies_path);
  if (!policies) return fail(policies.error().message);
  ValidationResult vr = validate_policies(*schema, *policies);
  for (const auto& w : vr.warnings)
    std::cout << policies_path << ":" << w.loc.line << ":" << w.loc.column << ": warning ["
              << w.policy_id << "] " << w.message << "\n";
  for (const auto& e : vr.errors)
    std::cout << policies_path << ":" << e.loc.line << ":" << e.loc.column << ": error ["
              << e.policy_id << "] " << e.message << "\n";
  if (!vr.ok()) return kExitError;
  std::cout << "validation passed\n";
  return 0;
}

int run_check_parse(const std::string& policies_path, const std::string& schema_path,
                    const std::string& entities_path) {
  if (!policies_path.empty()) {
    auto p = load_policies(policies_path);
    if (!p) return fail(p.error().message);
  }
  std::optional<Schema> schema;
  if (!schema_path.empty()) {
    auto s = load_schema(schema_path);
    if (!s) return fail(s.error().message);
    schema = std::move(*s);
  }
  if (!entities_path.empty()) {
    std::string text, err;
    if (!read_text(entities_path, text, err)) return fail(err);
    auto e = parse_entities_json(text, schema ? &*schema : nullptr);
    if (!e) return fail(entities_path + ":" + e.error().to_string());
  }
  std::cout << "parse ok\n";
  return 0;
}

int run_format(const std::string& policies_path, bool check) {
  std::string text, err;
  if (!read_text(policies_path, text, err)) return fail(err);
  auto set = parse_policies(text);
  if (!set) return fail(policies_path + ":" + set.error().to_string());
  std::string formatted = format_policies(*set);
  if (check) {
    if (formatted != text) {
      std::cerr << policies_path << " is not formatted\n";
      return kExitError;
    }
    return 0;
  }
  std::cout << formatted;
  return 0;
}

}  // namespace

void add_cedar_commands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<AuthorizeArgs>();
  auto* authz = app.add_subcommand(
      "authorize",
      "Evaluate one request against Cedar policies and print the decision.\n"
      "Exit code: 0 allow, 2 deny, 1 error.");
  authz->add_option("-p,--policies", args->policies, "Cedar policy file (.cedar)")->required();
  authz->add_option("-e,--entities", args->entities, "entities in Cedar JSON format (.json)");
  authz->add_option("-s,--schema", args->schema,
                    "schema (.cedarschema or .json): entities and context are parsed with it "
                    "and the request is validated");
  authz->add_option("-c,--context", args->context, "context record as a JSON file");
  authz->add_option("--principal", args->principal, "principal, e.g. 'User::\"alice\"'")->required();
  authz->add_option("--action", args->action, "action, e.g. 'Action::\"view\"'")->required();
  authz->add_option("--resource", args->resource, "resource, e.g. 'Doc::\"d1\"'")->required();
  authz->add_option("--link", args->links,
                    "link a template first: TEMPLATE_ID:NEW_ID:principal=User::\"a\"[,resource=...]");
  authz->add_flag("--json", args->json, "print the response as JSON");
  authz->footer(
      "\nPolicies are named policy0, policy1, ... in file order; the output names the\n"
      "determining policies with their annotations (obligations such as @on_deny).\n"
      "Example:\n"
      "  ztgate authorize -p examples/quickstart/policies.cedar \\\n"
      "    -e examples/quickstart/entities.json -s examples/quickstart/schema.cedarschema \\\n"
      "    --principal 'User::\"alice\"' --action 'Action::\"invoke_model\"' \\\n"
      "    --resource 'Model::\"gpt-4o-mini\"'\n"
      "Templates: --link policy3:alice-docs:principal='User::\"alice\"' links template\n"
      "policy3 as policy alice-docs before the request is evaluated.");
  authz->callback([args, &exit_code] { exit_code = run_authorize(*args); });

  auto schema_path = std::make_shared<std::string>();
  auto policies_path = std::make_shared<std::string>();
  auto* validate = app.add_subcommand(
      "validate", "Type-check policies against a schema (Cedar strict validation).");
  validate->add_option("-s,--schema", *schema_path, "schema (.cedarschema or .json)")->required();
  validate->add_option("-p,--policies", *policies_path, "Cedar policy file")->required();
  validate->footer(
      "\nEvery error names the policy and its line:column. Exit code 0 when valid, 1 otherwise.\n"
      "Example: ztgate validate -s policies/ztgate.cedarschema -p policies/baseline.cedar");
  validate->callback([=, &exit_code] { exit_code = run_validate(*schema_path, *policies_path); });

  auto cp_policies = std::make_shared<std::string>();
  auto cp_schema = std::make_shared<std::string>();
  auto cp_entities = std::make_shared<std::string>();
  auto* check = app.add_subcommand(
      "check-parse", "Check that policies, a schema and/or entities parse; report line:column.");
  check->add_option("-p,--policies", *cp_policies, "Cedar policy file");
  check->add_option("-s,--schema", *cp_schema, "schema (.cedarschema or .json)");
  check->add_option("-e,--entities", *cp_entities, "entities JSON");
  check->callback([=, &exit_code] { exit_code = run_check_parse(*cp_policies, *cp_schema, *cp_entities); });

  auto fmt_path = std::make_shared<std::string>();
  auto fmt_check = std::make_shared<bool>(false);
  auto* format = app.add_subcommand("format", "Pretty-print Cedar policies in canonical form.");
  format->add_option("-p,--policies,policies", *fmt_path, "Cedar policy file ('-' for stdin)")->required();
  format->add_flag("--check", *fmt_check, "exit 1 if the file is not already formatted");
  format->callback([=, &exit_code] { exit_code = run_format(*fmt_path, *fmt_check); });
}

}  // namespace ztgate::cli
