// Strict validation of policies (scope checks plus the typechecker run in
// every request environment) and validation of requests and entities
// against a schema.
//
// Behaviour pinned to the conformance corpus (Cedar 4.10): a policy whose
// scope matches no action's appliesTo is an error
// ("invalid_action_application"). Cedar 4.13 downgraded it to a warning;
// the corpus's 35 tests of that kind expect the error.
#include "cedar/validator.h"

#include <algorithm>
#include <set>

#include "cedar/internal/typechecker.h"

namespace ztgate::cedar {
namespace {

using internal::RequestEnv;
using internal::SchemaIndex;
using internal::Typechecker;
using internal::VTypePtr;


// --- the policy as one boolean expression ------------------------------------

ExprPtr make(Expr e) {
  for (const auto& a : e.args) e.height = std::max(e.height, a->height + 1);
  return std::make_shared<const Expr>(std::move(e));
}

ExprPtr literal(Value v, SourceLoc loc) {
  Expr e;
  e.kind = Expr::Kind::kLiteral;
  e.value = std::move(v);
  e.loc = loc;
  return make(std::move(e));
}

ExprPtr var(Var v, SourceLoc loc) {
  Expr e;
  e.kind = Expr::Kind::kVar;
  e.var = v;
  e.loc = loc;
  return make(std::move(e));
}

ExprPtr both(ExprPtr a, ExprPtr b, SourceLoc loc) {
  Expr e;
  e.kind = Expr::Kind::kAnd;
  e.args = {std::move(a), std::move(b)};
  e.loc = loc;
  return make(std::move(e));
}

ExprPtr binary(BinaryOp op, ExprPtr a, ExprPtr b, SourceLoc loc) {
  Expr e;
  e.kind = Expr::Kind::kBinary;
  e.op = op;
  e.args = {std::move(a), std::move(b)};
  e.loc = loc;
  return make(std::move(e));
}

ExprPtr scope_target(const EntityScope& s, SlotId slot, SourceLoc loc) {
  if (s.entity) return literal(*s.entity, loc);
  Expr e;
  e.kind = Expr::Kind::kSlot;
  e.slot = slot;
  e.loc = loc;
  return make(std::move(e));
}

ExprPtr entity_scope_expr(const EntityScope& s, Var v, SlotId slot, SourceLoc loc) {
  switch (s.kind) {
    case EntityScope::Kind::kAny:
      return literal(true, loc);
    case EntityScope::Kind::kEq:
      return binary(BinaryOp::kEq, var(v, loc), scope_target(s, slot, loc), loc);
    case EntityScope::Kind::kIn:
      return binary(BinaryOp::kIn, var(v, loc), scope_target(s, slot, loc), loc);
    case EntityScope::Kind::kIs:
    case EntityScope::Kind::kIsIn: {
      Expr e;
      e.kind = Expr::Kind::kIs;
      e.name = s.type;
      e.args = {var(v, loc)};
      if (s.kind == EntityScope::Kind::kIsIn) e.args.push_back(scope_target(s, slot, loc));
      e.loc = loc;
      return make(std::move(e));
    }
  }
  return literal(true, loc);
}

ExprPtr action_scope_expr(const ActionScope& s, SourceLoc loc) {
  switch (s.kind) {
    case ActionScope::Kind::kAny:
      return literal(true, loc);
    case ActionScope::Kind::kEq:
      return binary(BinaryOp::kEq, var(Var::kAction, loc), literal(s.entities.at(0), loc), loc);
    case ActionScope::Kind::kIn:
    case ActionScope::Kind::kInSet: {
      // `action in A` and `action in [A, B]` are both a set membership test.
      Expr set;
      set.kind = Expr::Kind::kSet;
      set.loc = loc;
      for (const auto& uid : s.entities) set.args.push_back(literal(uid, loc));
      return binary(BinaryOp::kIn, var(Var::kAction, loc), make(std::move(set)), loc);
    }
  }
  return literal(true, loc);
}

// principal-scope && action-scope && resource-scope && conditions, as the
// reference validator typechecks it.
ExprPtr policy_condition(const Policy& p) {
  ExprPtr scope = both(both(entity_scope_expr(p.principal, Var::kPrincipal, SlotId::kPrincipal, p.loc),
                            action_scope_expr(p.action, p.loc), p.loc),
                       entity_scope_expr(p.resource, Var::kResource, SlotId::kResource, p.loc),
                       p.loc);
  ExprPtr body;
  for (const auto& c : p.conditions) {
    ExprPtr clause = c.body;
    if (!c.is_when) {
      Expr neg;
      neg.kind = Expr::Kind::kNot;
      neg.args = {c.body};
      neg.loc = c.body->loc;
      clause = make(std::move(neg));
    }
    body = body ? both(body, clause, clause->loc) : clause;
  }
  if (!body) body = literal(true, p.loc);
  return both(std::move(scope), std::move(body), p.loc);
}

// --- checks that do not depend on the request environment --------------------

struct EntityRef {
  std::string type;
  std::optional<EntityUID> uid;  // unset for an `is` type test
  SourceLoc loc;
};

void collect_value_refs(const Value& v, SourceLoc loc, std::vector<EntityRef>& out) {
  if (v.is_entity()) out.push_back({v.as_entity().type, v.as_entity(), loc});
  if (v.is_set())
    for (const auto& e : v.as_set()) collect_value_refs(e, loc, out);
  if (v.is_record())
    for (const auto& [k, e] : v.as_record()) collect_value_refs(e, loc, out);
}

void collect_expr_refs(const Expr& e, std::vector<EntityRef>& out) {
  if (e.kind == Expr::Kind::kLiteral) collect_value_refs(e.value, e.loc, out);
  if (e.kind == Expr::Kind::kIs) out.push_back({e.name, std::nullopt, e.loc});
  for (const auto& a : e.args) collect_expr_refs(*a, out);
}

std::vector<EntityRef> policy_refs(const Policy& p) {
  std::vector<EntityRef> out;
  for (const EntityScope* s : {&p.principal, &p.resource}) {
    if (s->entity) out.push_back({s->entity->type, *s->entity, p.loc});
    if (s->kind == EntityScope::Kind::kIs || s->kind == EntityScope::Kind::kIsIn)
      out.push_back({s->type, std::nullopt, p.loc});
  }
  for (const auto& uid : p.action.entities) out.push_back({uid.type, uid, p.loc});
  for (const auto& c : p.conditions) collect_expr_refs(*c.body, out);
  return out;
}

class PolicyValidator {
 public:
  PolicyValidator(const SchemaIndex& index, ValidationResult& result)
      : index_(index), schema_(index.schema()), result_(result) {}

  void validate_static_or_template(const Policy& p) {
    check_entity_references(p);
    check_action_application(p);
    typecheck(p);
  }

  // A linked template: the template itself was typechecked; what the links
  // add is entities in the scope.
  void validate_link(const Policy& p) {
    for (const EntityScope* s : {&p.principal, &p.resource}) {
      if (s->uses_slot && s->entity && !index_.is_known_entity_type(s->entity->type))
        error(p.id, "unrecognized_entity_type",
              "entity type `" + s->entity->type + "` is not declared in the schema", p.loc);
    }
    check_action_application(p);
  }

 private:
  void error(const std::string& id, std::string code, std::string message, SourceLoc loc) {
    result_.errors.push_back(ValidationIssue{id, std::move(code), std::move(message), loc});
  }

  void check_entity_references(const Policy& p) {
    for (const auto& ref : policy_refs(p)) {
      if (!index_.is_known_entity_type(ref.type)) {
        error(p.id, "unrecognized_entity_type",
              "entity type `" + ref.type + "` is not declared in the schema", ref.loc);
        continue;
      }
      if (!ref.uid) continue;
      if (is_action_entity_type(ref.type)) {
        if (!schema_.action(*ref.uid))
          error(p.id, "unrecognized_action_id",
                "action " + to_string(*ref.uid) + " is not declared in the schema", ref.loc);
        continue;
      }
      const EntityTypeDef* def = schema_.entity_type(ref.type);
      if (def && def->enum_ids &&
          std::find(def->enum_ids->begin(), def->enum_ids->end(), ref.uid->id) ==
              def->enum_ids->end())
        error(p.id, "invalid_enum_entity",
              to_string(*ref.uid) + " is not one of the declared ids of enumerated entity type `" +
                  ref.type + "`",
              ref.loc);
    }
  }

  std::vector<const ActionDef*> actions_in_scope(const ActionScope& scope) const {
    std::vector<const ActionDef*> out;
    switch (scope.kind) {
      case ActionScope::Kind::kAny:
        for (const auto& [uid, def] : schema_.actions) out.push_back(&def);
        break;
      case ActionScope::Kind::kEq:
        if (const ActionDef* a = schema_.action(scope.entities.at(0))) out.push_back(a);
        break;
      case ActionScope::Kind::kIn:
      case ActionScope::Kind::kInSet: {
        std::set<EntityUID> uids;
        for (const auto& group : scope.entities) {
          const auto* desc = index_.action_descendants(group);
          if (!desc) return {};  // an undeclared action: nothing applies
          uids.insert(group);
          uids.insert(desc->begin(), desc->end());
        }
        for (const auto& uid : uids)
          if (const ActionDef* a = schema_.action(uid)) out.push_back(a);
        break;
      }
    }
    return out;
  }

  std::set<std::string> types_in_scope(const EntityScope& s) const {
    std::set<std::string> all;
    for (const auto& [name, def] : schema_.entity_types) all.insert(name);
    switch (s.kind) {
      case EntityScope::Kind::kAny:
        return all;
      case EntityScope::Kind::kEq:
        return s.entity ? std::set<std::string>{s.entity->type} : all;
      case EntityScope::Kind::kIn:
        return s.entity ? index_.types_in(s.entity->type) : all;
      case EntityScope::Kind::kIs:
        return index_.is_known_entity_type(s.type) ? std::set<std::string>{s.type}
                                                   : std::set<std::string>{};
      case EntityScope::Kind::kIsIn:
        if (!s.entity)
          return index_.is_known_entity_type(s.type) ? std::set<std::string>{s.type}
                                                     : std::set<std::string>{};
        return index_.types_in(s.entity->type).count(s.type) ? std::set<std::string>{s.type}
                                                             : std::set<std::string>{};
    }
    return all;
  }

  // Some action in scope must apply to some principal type and some resource
  // type allowed by the scope.
  void check_action_application(const Policy& p) {
    auto principals = types_in_scope(p.principal);
    auto resources = types_in_scope(p.resource);
    for (const ActionDef* a : actions_in_scope(p.action)) {
      bool principal_ok = std::any_of(a->principal_types.begin(), a->principal_types.end(),
                                      [&](const std::string& t) { return principals.count(t) > 0; });
      bool resource_ok = std::any_of(a->resource_types.begin(), a->resource_types.end(),
                                     [&](const std::string& t) { return resources.count(t) > 0; });
      if (principal_ok && resource_ok) return;
    }
    error(p.id, "invalid_action_application",
          "no action in the policy's scope applies to the principal and resource types its "
          "scope allows: the policy can never apply",
          p.loc);
  }

  // The entity types a slot may be linked to, given its scope constraint;
  // nullopt entries mean the slot is not used.
  std::vector<std::optional<std::string>> slot_links(const EntityScope& s,
                                                     const std::string& var_type) const {
    if (!s.uses_slot || s.entity) return {std::nullopt};
    std::vector<std::optional<std::string>> out;
    switch (s.kind) {
      case EntityScope::Kind::kEq:
        out.emplace_back(var_type);
        break;
      case EntityScope::Kind::kIn:
      case EntityScope::Kind::kIsIn:
        for (const auto& [name, def] : schema_.entity_types)
          if (name != var_type && index_.types_in(name).count(var_type)) out.emplace_back(name);
        out.emplace_back(var_type);
        break;
      default:
        for (const auto& [name, def] : schema_.entity_types) out.emplace_back(name);
        break;
    }
    return out;
  }

  void typecheck(const Policy& p) {
    ExprPtr condition = policy_condition(p);
    bool all_false = true;
    std::vector<ValidationIssue> errors;
    for (const auto& [uid, action] : schema_.actions) {
      VTypePtr context = index_.to_vtype(action.context);
      for (const auto& principal : action.principal_types) {
        for (const auto& resource : action.resource_types) {
          for (const auto& ps : slot_links(p.principal, principal)) {
            for (const auto& rs : slot_links(p.resource, resource)) {
              RequestEnv env{principal, &action, resource, context, ps, rs};
              auto answer = Typechecker(index_, env, p.id, errors).check_condition(*condition);
              if (!(answer.type && answer.type->kind == internal::VType::Kind::kFalse))
                all_false = false;
            }
          }
        }
      }
    }
    for (auto& e : errors) add_unique(std::move(e));
    if (all_false)
      result_.warnings.push_back(ValidationIssue{
          p.id, "impossible_policy",
          "the policy evaluates to false in every request environment the schema allows", p.loc});
  }

  void add_unique(ValidationIssue issue) {
    for (const auto& e : result_.errors)
      if (e.policy_id == issue.policy_id && e.code == issue.code && e.message == issue.message &&
          e.loc.line == issue.loc.line && e.loc.column == issue.loc.column)
        return;
    result_.errors.push_back(std::move(issue));
  }

  const SchemaIndex& index_;
  const Schema& schema_;
  ValidationResult& result_;
};

// --- values against schema types ------------------------------------------

// Why `v` does not have type `t`, or "" when it does.
std::string nonconformance(const Value& v, const SchemaType& t, int depth = 0) {
  if (depth > 64) return "the value nests too deeply";
  auto want = [&](std::string_view what) {
    return "expected " + std::string(what) + ", found " + std::string(kind_name(v.kind()));
  };
  switch (t.kind) {
    case SchemaType::Kind::kBool: return v.is_bool() ? "" : want("a boolean");
    case SchemaType::Kind::kLong: return v.is_long() ? "" : want("a long");
    case SchemaType::Kind::kString: return v.is_string() ? "" : want("a string");
    case SchemaType::Kind::kEntity:
      if (!v.is_entity()) return want("an entity of type `" + t.name + "`");
      return v.as_entity().type == t.name
                 ? ""
                 : "expected an entity of type `" + t.name + "`, found " + to_string(v.as_entity());
    case SchemaType::Kind::kExtension: {
      bool ok = (t.name == "ipaddr" && v.kind() == ValueKind::kIpAddr) ||
                (t.name == "decimal" && v.kind() == ValueKind::kDecimal) ||
                (t.name == "datetime" && v.kind() == ValueKind::kDatetime) ||
                (t.name == "duration" && v.kind() == ValueKind::kDuration);
      return ok ? "" : want("a value of type " + t.name);
    }
    case SchemaType::Kind::kSet:
      if (!v.is_set()) return want("a set");
      for (const auto& e : v.as_set())
        if (auto why = nonconformance(e, *t.element, depth + 1); !why.empty())
          return "in a set element: " + why;
      return "";
    case SchemaType::Kind::kRecord: {
      if (!v.is_record()) return want("a record");
      const auto& rec = v.as_record();
      for (const auto& [name, attr] : t.attributes) {
        auto it = rec.find(name);
        if (it == rec.end()) {
          if (attr.required) return "required attribute `" + name + "` is missing";
          continue;
        }
        if (auto why = nonconformance(it->second, *attr.type, depth + 1); !why.empty())
          return "in attribute `" + name + "`: " + why;
      }
      if (!t.open_attributes)
        for (const auto& [name, value] : rec)
          if (!t.attributes.count(name)) return "attribute `" + name + "` is not declared";
      return "";
    }
  }
  return "unknown type";
}

Status enum_check(const Schema& schema, const EntityUID& uid) {
  const EntityTypeDef* def = schema.entity_type(uid.type);
  if (def && def->enum_ids &&
      std::find(def->enum_ids->begin(), def->enum_ids->end(), uid.id) == def->enum_ids->end())
    return make_error("invalid_enum_entity", to_string(uid) +
                                                 " is not one of the declared ids of enumerated "
                                                 "entity type `" + uid.type + "`");
  return Ok{};
}

Status check_entity(const Schema& schema, const Entity& e) {
  const std::string who = to_string(e.uid);
  if (is_action_entity_type(e.uid.type)) {
    if (!schema.action(e.uid))
      return make_error("unrecognized_action_id", "action " + who + " is not declared in the schema");
    std::vector<EntityUID> declared = schema.action_ancestors(e.uid);
    std::vector<EntityUID> given = e.ancestors;
    std::sort(given.begin(), given.end());
    if (!e.attrs.empty() || !e.tags.empty() || given != declared)
      return make_error("action_mismatch",
                        "action " + who + " differs from its declaration in the schema");
    return Ok{};
  }
  const EntityTypeDef* def = schema.entity_type(e.uid.type);
  if (!def)
    return make_error("unrecognized_entity_type",
                      "entity " + who + " has type `" + e.uid.type + "`, which is not declared");
  if (auto st = enum_check(schema, e.uid); !st) return st;
  SchemaType shape;
  shape.kind = SchemaType::Kind::kRecord;
  shape.attributes = def->attributes;
  Value attrs = Value::record(e.attrs);
  if (auto why = nonconformance(attrs, shape); !why.empty())
    return make_error("entity_type_mismatch", "entity " + who + ": " + why);
  if (!e.tags.empty() && !def->tags)
    return make_error("entity_type_mismatch", "entity " + who + " has tags, but its type has none");
  for (const auto& [key, value] : e.tags)
    if (auto why = nonconformance(value, *def->tags); !why.empty())
      return make_error("entity_type_mismatch", "entity " + who + ", tag `" + key + "`: " + why);
  for (const auto& parent : e.parents) {
    if (std::find(def->member_of_types.begin(), def->member_of_types.end(), parent.type) ==
        def->member_of_types.end())
      return make_error("entity_type_mismatch", "entity " + who + " cannot have parent " +
                                                    to_string(parent) + ": `" + e.uid.type +
                                                    "` is not declared `in` `" + parent.type + "`");
  }
  return Ok{};
}

}  // namespace

ValidationResult validate_policies(const Schema& schema, const PolicySet& policies) {
  ValidationResult result;
  SchemaIndex index(schema);
  PolicyValidator validator(index, result);
  for (const auto& t : policies.templates()) validator.validate_static_or_template(*t);
  for (const auto& p : policies.policies()) {
    if (p->template_id.empty()) validator.validate_static_or_template(*p);
    else validator.validate_link(*p);
  }
  return result;
}

Status validate_request(const Schema& schema, const Request& request) {
  const ActionDef* action = schema.action(request.action);
  if (!action)
    return make_error("unrecognized_action_id",
                      "action " + to_string(request.action) + " is not declared in the schema");
  auto allowed = [](const std::vector<std::string>& types, const std::string& t) {
    return std::find(types.begin(), types.end(), t) != types.end();
  };
  if (!allowed(action->principal_types, request.principal.type))
    return make_error("invalid_request", "principal type `" + request.principal.type +
                                             "` is not allowed for action " +
                                             to_string(request.action));
  if (!allowed(action->resource_types, request.resource.type))
    return make_error("invalid_request", "resource type `" + request.resource.type +
                                             "` is not allowed for action " +
                                             to_string(request.action));
  if (auto st = enum_check(schema, request.principal); !st) return st;
  if (auto st = enum_check(schema, request.resource); !st) return st;
  Value context = request.context ? Value(request.context) : Value::record({});
  if (action->context) {
    if (auto why = nonconformance(context, *action->context); !why.empty())
      return make_error("invalid_request", "context for action " + to_string(request.action) +
                                               " does not match the schema: " + why);
  }
  return Ok{};
}

Status validate_entities(const Schema& schema, const Entities& entities) {
  std::optional<Error> first;
  entities.for_each([&](const Entity& e) {
    if (first) return;
    if (auto st = check_entity(schema, e); !st) first = st.error();
  });
  if (first) return *first;
  return Ok{};
}

}  // namespace ztgate::cedar
