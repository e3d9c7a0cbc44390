// Cedar's strict-mode typechecker for one request environment; see
// internal/typechecker.h. Each rule mirrors the reference validator
// (cedar-policy-core, validator/typecheck.rs); comments name the rule when
// it is subtle.
#include "cedar/internal/typechecker.h"

#include <algorithm>

#include "cedar/ext/extensions.h"

namespace ztgate::cedar::internal {
namespace {

using K = VType::Kind;

Answer success(VTypePtr type, Capabilities caps = {}) { return Answer{std::move(type), true, std::move(caps)}; }
Answer failure(VTypePtr type = nullptr) { return Answer{std::move(type), false, {}}; }

// A result computed from operands: it fails if any operand failed, and then
// carries no capability.
Answer after(bool operands_ok, Answer result) {
  if (!operands_ok) {
    result.ok = false;
    result.caps.clear();
  }
  return result;
}


bool contains(const Capabilities& caps, const Expr& object, std::string_view attr) {
  return std::any_of(caps.begin(), caps.end(), [&](const Capability& c) {
    return !c.tag && c.attr == attr && same_expr(*c.object, object);
  });
}

bool contains_tag(const Capabilities& caps, const Expr& object, const Expr& tag) {
  return std::any_of(caps.begin(), caps.end(), [&](const Capability& c) {
    return c.tag && same_expr(*c.tag, tag) && same_expr(*c.object, object);
  });
}

bool contains(const Capabilities& caps, const Capability& c) {
  return c.tag ? contains_tag(caps, *c.object, *c.tag) : contains(caps, *c.object, c.attr);
}

Capabilities unite(const Capabilities& a, const Capabilities& b) {
  Capabilities out = a;
  for (const auto& c : b)
    if (!contains(out, c)) out.push_back(c);
  return out;
}

Capabilities intersect(const Capabilities& a, const Capabilities& b) {
  Capabilities out;
  for (const auto& c : a)
    if (contains(b, c)) out.push_back(c);
  return out;
}


bool is_true(const VTypePtr& t) { return t && t->kind == K::kTrue; }
bool is_false(const VTypePtr& t) { return t && t->kind == K::kFalse; }

// Extension functions: argument and result types. Constructors validate a
// literal string argument and, in strict mode, require literal arguments.
struct ExtensionSignature {
  std::string_view name;
  std::vector<std::string_view> args;  // type names: "String" or an extension type
  std::string_view result;             // "Bool", "Long" or an extension type
  bool constructor;
};

const ExtensionSignature* find_extension(std::string_view name) {
  static const std::vector<ExtensionSignature> kSignatures = {
      {"ip", {"String"}, "ipaddr", true},
      {"decimal", {"String"}, "decimal", true},
      {"datetime", {"String"}, "datetime", true},
      {"duration", {"String"}, "duration", true},
      {"isIpv4", {"ipaddr"}, "Bool", false},
      {"isIpv6", {"ipaddr"}, "Bool", false},
      {"isLoopback", {"ipaddr"}, "Bool", false},
      {"isMulticast", {"ipaddr"}, "Bool", false},
      {"isInRange", {"ipaddr", "ipaddr"}, "Bool", false},
      {"lessThan", {"decimal", "decimal"}, "Bool", false},
      {"lessThanOrEqual", {"decimal", "decimal"}, "Bool", false},
      {"greaterThan", {"decimal", "decimal"}, "Bool", false},
      {"greaterThanOrEqual", {"decimal", "decimal"}, "Bool", false},
      {"offset", {"datetime", "duration"}, "datetime", false},
      {"durationSince", {"datetime", "datetime"}, "duration", false},
      {"toDate", {"datetime"}, "datetime", false},
      {"toTime", {"datetime"}, "duration", false},
      {"toDays", {"duration"}, "Long", false},
      {"toHours", {"duration"}, "Long", false},
      {"toMinutes", {"duration"}, "Long", false},
      {"toSeconds", {"duration"}, "Long", false},
      {"toMilliseconds", {"duration"}, "Long", false},
  };
  for (const auto& s : kSignatures)
    if (s.name == name) return &s;
  return nullptr;
}

VTypePtr named_type(std::string_view name) {
  if (name == "String") return vtype::string();
  if (name == "Long") return vtype::long_();
  if (name == "Bool") return vtype::boolean();
  return vtype::extension(std::string(name));
}

// `<` and `<=` apply to Long and to the extension types with operator
// overloading (datetime, duration), both operands of the same type.
bool is_comparable(const VType& t) {
  return t.kind == K::kLong ||
         (t.kind == K::kExtension && (t.name == "datetime" || t.name == "duration"));
}

}  // namespace


// --- SchemaIndex -------------------------------------------------------------

SchemaIndex::SchemaIndex(const Schema& schema) : schema_(schema) {
  // Invert `memberOfTypes` and close transitively.
  std::map<std::string, std::set<std::string>> children;
  for (const auto& [name, def] : schema.entity_types)
    for (const auto& parent : def.member_of_types) children[parent].insert(name);
  for (const auto& [name, def] : schema.entity_types) {
    std::set<std::string>& out = entity_descendants_[name];
    std::vector<std::string> work(children[name].begin(), children[name].end());
    while (!work.empty()) {
      std::string t = std::move(work.back());
      work.pop_back();
      if (!out.insert(t).second) continue;
      for (const auto& c : children[t]) work.push_back(c);
    }
  }
  std::map<EntityUID, std::set<EntityUID>> action_children;
  for (const auto& [uid, def] : schema.actions)
    for (const auto& parent : def.member_of) action_children[parent].insert(uid);
  for (const auto& [uid, def] : schema.actions) {
    std::set<EntityUID>& out = action_descendants_[uid];
    std::vector<EntityUID> work(action_children[uid].begin(), action_children[uid].end());
    while (!work.empty()) {
      EntityUID a = std::move(work.back());
      work.pop_back();
      if (!out.insert(a).second) continue;
      for (const auto& c : action_children[a]) work.push_back(c);
    }
  }
  for (const auto& [name, def] : schema.entity_types) {
    VAttrs attrs;
    for (const auto& [attr, at] : def.attributes)
      attrs.emplace(attr, VAttr{to_vtype(at.type), at.required});
    entity_attrs_.emplace(name, std::move(attrs));
  }
}

bool SchemaIndex::is_known_entity_type(std::string_view type) const {
  return is_action_entity_type(type) || schema_.entity_type(type) != nullptr;
}

std::set<std::string> SchemaIndex::types_in(std::string_view type) const {
  std::set<std::string> out;
  if (auto it = entity_descendants_.find(type); it != entity_descendants_.end()) out = it->second;
  out.insert(std::string(type));
  return out;
}

const std::set<EntityUID>* SchemaIndex::action_descendants(const EntityUID& action) const {
  auto it = action_descendants_.find(action);
  return it == action_descendants_.end() ? nullptr : &it->second;
}

VTypePtr SchemaIndex::to_vtype(const SchemaTypePtr& t) const {
  if (!t) return vtype::record({});
  if (auto it = converted_.find(t.get()); it != converted_.end()) return it->second;
  VTypePtr out;
  switch (t->kind) {
    case SchemaType::Kind::kBool: out = vtype::boolean(); break;
    case SchemaType::Kind::kLong: out = vtype::long_(); break;
    case SchemaType::Kind::kString: out = vtype::string(); break;
    case SchemaType::Kind::kEntity: out = vtype::entity(t->name); break;
    case SchemaType::Kind::kExtension: out = vtype::extension(t->name); break;
    case SchemaType::Kind::kSet: out = vtype::set_of(to_vtype(t->element)); break;
    case SchemaType::Kind::kRecord: {
      VAttrs attrs;
      for (const auto& [name, at] : t->attributes)
        attrs.emplace(name, VAttr{to_vtype(at.type), at.required});
      out = vtype::record(std::move(attrs), t->open_attributes);
      break;
    }
  }
  converted_.emplace(t.get(), out);
  return out;
}

const VAttrs* SchemaIndex::entity_attributes(std::string_view type) const {
  auto it = entity_attrs_.find(type);
  return it == entity_attrs_.end() ? nullptr : &it->second;
}

VTypePtr SchemaIndex::tag_type(std::string_view type) const {
  const EntityTypeDef* def = schema_.entity_type(type);
  return def && def->tags ? to_vtype(def->tags) : nullptr;
}

// --- Typechecker -------------------------------------------------------------

void Typechecker::error(std::string code, std::string message, SourceLoc loc) {
  errors_.push_back(ValidationIssue{std::string(policy_id_), std::move(code), std::move(message), loc});
}

Answer Typechecker::check_condition(const Expr& e) {
  if (e.height > kMaxExprHeight) {
    error("expression_too_deep", "the policy nests expressions too deeply to validate", e.loc);
    return failure();
  }
  return expect({}, e, {vtype::boolean()});
}

Answer Typechecker::expect(const Capabilities& prior, const Expr& e,
                           std::initializer_list<VTypePtr> expected) {
  Answer actual = typecheck(prior, e);
  if (!actual.type) return failure();
  // Permissive subtyping: the expected types are "some entity", "some
  // record", "some set", so width subtyping must apply here.
  for (const auto& t : expected)
    if (is_subtype(*actual.type, *t, /*permissive=*/true)) return actual.ok ? actual : failure(actual.type);
  report_unexpected(*actual.type, expected, e.loc);
  return failure();
}

// Out of line: keeps the message building off the stack frames of the
// recursion (each nesting level of a policy costs a few hundred bytes).
[[gnu::noinline]] void Typechecker::report_unexpected(const VType& actual,
                                                      std::initializer_list<VTypePtr> expected,
                                                      SourceLoc loc) {
  std::string want;
  for (const auto& t : expected) want += (want.empty() ? "" : " or ") + to_string(*t);
  error("unexpected_type",
        "expected an expression of type " + want + ", but it has type " + to_string(actual), loc);
}

Answer Typechecker::typecheck(const Capabilities& prior, const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kLiteral: return literal(e);
    case Expr::Kind::kVar: return variable(e);
    case Expr::Kind::kSlot: {
      const auto& slot = e.slot == SlotId::kPrincipal ? env_.principal_slot : env_.resource_slot;
      return success(slot ? vtype::entity(*slot) : vtype::any_entity());
    }
    case Expr::Kind::kIf: return if_then_else(prior, e);
    case Expr::Kind::kAnd: return conjunction(prior, e, *e.args[0], *e.args[1]);
    case Expr::Kind::kOr: return disjunction(prior, e);
    case Expr::Kind::kNot: return negation(prior, e);
    case Expr::Kind::kNeg: {
      Answer a = expect(prior, *e.args[0], {vtype::long_()});
      return after(a.ok, success(vtype::long_()));
    }
    case Expr::Kind::kBinary: return binary(prior, e);
    case Expr::Kind::kHasAttr: return has_attr(prior, e);
    case Expr::Kind::kGetAttr: return get_attr(prior, e);
    case Expr::Kind::kLike: {
      Answer a = expect(prior, *e.args[0], {vtype::string()});
      return after(a.ok, success(vtype::boolean()));
    }
    case Expr::Kind::kIs: return type_test(prior, e);
    case Expr::Kind::kSet: return set_literal(prior, e);
    case Expr::Kind::kRecord: return record_literal(prior, e);
    case Expr::Kind::kCall: return extension_call(prior, e);
    case Expr::Kind::kMethod: return method(prior, e);
  }
  return failure();
}

Answer Typechecker::literal(const Expr& e) {
  const Value& v = e.value;
  switch (v.kind()) {
    case ValueKind::kBool: return success(vtype::singleton(v.as_bool()));
    case ValueKind::kLong: return success(vtype::long_());
    case ValueKind::kString: return success(vtype::string());
    case ValueKind::kEntity: {
      // An undeclared type or action fails silently here: the policy-level
      // checks report it once.
      const EntityUID& uid = v.as_entity();
      if (is_action_entity_type(uid.type))
        return index_.schema().action(uid) ? success(vtype::action_entity(uid.type)) : failure();
      return index_.schema().entity_type(uid.type) ? success(vtype::entity(uid.type)) : failure();
    }
    case ValueKind::kIpAddr: return success(vtype::extension("ipaddr"));
    case ValueKind::kDecimal: return success(vtype::extension("decimal"));
    case ValueKind::kDatetime: return success(vtype::extension("datetime"));
    case ValueKind::kDuration: return success(vtype::extension("duration"));
    case ValueKind::kSet:
    case ValueKind::kRecord:
      break;
  }
  error("unexpected_type", "set and record values must be written as literals", e.loc);
  return failure();
}

Answer Typechecker::variable(const Expr& e) {
  switch (e.var) {
    case Var::kPrincipal: return success(vtype::entity(env_.principal));
    case Var::kResource: return success(vtype::entity(env_.resource));
    case Var::kAction: return success(vtype::action_entity(env_.action->uid.type));
    case Var::kContext: return success(env_.context);
  }
  return failure();
}

Answer Typechecker::if_then_else(const Capabilities& prior, const Expr& e) {
  Answer test = expect(prior, *e.args[0], {vtype::boolean()});
  // A constant guard typechecks only the branch that can run.
  if (is_true(test.type)) {
    Answer then = typecheck(unite(prior, test.caps), *e.args[1]);
    return after(test.ok && then.ok, Answer{then.type, true, unite(then.caps, test.caps)});
  }
  if (is_false(test.type)) {
    Answer otherwise = typecheck(prior, *e.args[2]);
    return after(test.ok, otherwise);
  }
  Answer then = typecheck(unite(prior, test.caps), *e.args[1]);
  if (then.ok) then.caps = unite(then.caps, test.caps);
  Answer otherwise = typecheck(prior, *e.args[2]);
  bool ok = test.ok && then.ok && otherwise.ok;
  if (!then.type || !otherwise.type) return failure();
  auto lub = least_upper_bound(then.type, otherwise.type);
  if (!lub) {
    error("incompatible_types", "the branches of this `if` have incompatible types " +
                                    to_string(*then.type) + " and " + to_string(*otherwise.type),
          e.loc);
    return failure();
  }
  // True only if one branch is taken, and we do not know which.
  return after(ok, success(*lub, intersect(otherwise.caps, then.caps)));
}

Answer Typechecker::conjunction(const Capabilities& prior, const Expr& e, const Expr& lhs,
                                const Expr& rhs) {
  (void)e;
  Answer left = expect(prior, lhs, {vtype::boolean()});
  // `false && x` never evaluates x: x is not typechecked at all.
  if (is_false(left.type)) return after(left.ok, success(left.type));
  Answer right = expect(unite(prior, left.caps), rhs, {vtype::boolean()});
  bool ok = left.ok && right.ok;
  if (!left.type || !right.type) return failure(vtype::boolean());
  if (is_false(right.type)) return after(ok, success(vtype::singleton(false)));
  if (is_true(right.type)) return after(ok, success(left.type, unite(left.caps, right.caps)));
  if (is_true(left.type)) return after(ok, success(right.type, right.caps));
  return after(ok, success(vtype::boolean(), unite(left.caps, right.caps)));
}

Answer Typechecker::disjunction(const Capabilities& prior, const Expr& e) {
  Answer left = expect(prior, *e.args[0], {vtype::boolean()});
  // `true || x` never evaluates x.
  if (is_true(left.type)) return after(left.ok, success(left.type, left.caps));
  // The right operand runs only when the left was false: no capability flows.
  Answer right = expect(prior, *e.args[1], {vtype::boolean()});
  bool ok = left.ok && right.ok;
  if (!left.type || !right.type) return failure(vtype::boolean());
  if (is_true(right.type)) return after(ok, success(vtype::singleton(true), right.caps));
  if (is_false(right.type)) return after(ok, success(left.type, left.caps));
  if (is_false(left.type)) return after(ok, success(right.type, right.caps));
  return after(ok, success(vtype::boolean(), intersect(right.caps, left.caps)));
}

Answer Typechecker::negation(const Capabilities& prior, const Expr& e) {
  Answer a = expect(prior, *e.args[0], {vtype::boolean()});
  if (!a.type) return failure(vtype::boolean());
  VTypePtr t = is_true(a.type) ? vtype::singleton(false)
               : is_false(a.type) ? vtype::singleton(true)
                                  : vtype::boolean();
  return after(a.ok, success(t));
}

Answer Typechecker::binary(const Capabilities& prior, const Expr& e) {
  switch (e.op) {
    case BinaryOp::kEq:
      return equality(prior, e);
    case BinaryOp::kNotEq: {
      // `a != b` is `!(a == b)`.
      Answer eq = equality(prior, e);
      if (!eq.type) return eq;
      VTypePtr t = is_true(eq.type) ? vtype::singleton(false)
                   : is_false(eq.type) ? vtype::singleton(true)
                                       : vtype::boolean();
      return Answer{t, eq.ok, {}};
    }
    case BinaryOp::kLess:
    case BinaryOp::kLessEq:
    case BinaryOp::kGreater:
    case BinaryOp::kGreaterEq:
      return comparison(prior, e);
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
    case BinaryOp::kMul: {
      Answer a = expect(prior, *e.args[0], {vtype::long_()});
      Answer b = expect(prior, *e.args[1], {vtype::long_()});
      return after(a.ok && b.ok, success(vtype::long_()));
    }
    case BinaryOp::kIn:
      return membership(prior, e, *e.args[0], *e.args[1]);
  }
  return failure();
}

std::optional<EntityUID> Typechecker::literal_or_action_uid(const Expr& e) const {
  if (e.kind == Expr::Kind::kVar && e.var == Var::kAction) return env_.action->uid;
  if (e.kind == Expr::Kind::kLiteral && e.value.is_entity()) return e.value.as_entity();
  return std::nullopt;
}

std::optional<std::vector<EntityUID>> Typechecker::literal_or_action_uids(const Expr& e) const {
  if (auto uid = literal_or_action_uid(e)) return std::vector<EntityUID>{*uid};
  if (e.kind != Expr::Kind::kSet) return std::nullopt;
  std::vector<EntityUID> out;
  for (const auto& elem : e.args) {
    auto uid = literal_or_action_uid(*elem);
    if (!uid) return std::nullopt;
    out.push_back(std::move(*uid));
  }
  return out;
}

Answer Typechecker::equality(const Capabilities& prior, const Expr& e) {
  Answer lhs = typecheck(prior, *e.args[0]);
  Answer rhs = typecheck(prior, *e.args[1]);
  bool ok = lhs.ok && rhs.ok;
  VTypePtr type = vtype::boolean();
  if (lhs.type && rhs.type && are_disjoint(*lhs.type, *rhs.type)) {
    type = vtype::singleton(false);
  } else {
    // Two literals (the `action` variable counts as its uid) compare now.
    auto literal_value = [&](const Expr& x) -> std::optional<Value> {
      if (x.kind == Expr::Kind::kVar && x.var == Var::kAction) return Value(env_.action->uid);
      if (x.kind == Expr::Kind::kLiteral) return x.value;
      return std::nullopt;
    };
    auto a = literal_value(*e.args[0]);
    auto b = literal_value(*e.args[1]);
    if (a && b) type = vtype::singleton(*a == *b);
  }
  return after(ok, enforce_strict(e, success(type), lhs.type, rhs.type));
}

Answer Typechecker::enforce_strict(const Expr& e, Answer result, const VTypePtr& lhs,
                                   const VTypePtr& rhs) {
  if (is_true(result.type) || is_false(result.type)) return result;
  if (!lhs || !rhs) return result;
  if (!least_upper_bound(lhs, rhs)) {
    error("incompatible_types", "the operands have incompatible types " + to_string(*lhs) +
                                    " and " + to_string(*rhs),
          e.loc);
    return failure(result.type);
  }
  return result;
}

Answer Typechecker::comparison(const Capabilities& prior, const Expr& e) {
  // `a > b` is `b < a` and `a >= b` is `b <= a`.
  bool swapped = e.op == BinaryOp::kGreater || e.op == BinaryOp::kGreaterEq;
  const Expr& x = swapped ? *e.args[1] : *e.args[0];
  const Expr& y = swapped ? *e.args[0] : *e.args[1];
  Answer a = typecheck(prior, x);
  Answer b = typecheck(prior, y);
  bool ok = a.ok && b.ok;
  Answer result = success(vtype::boolean());
  if (!a.type || !b.type) return failure(vtype::boolean());
  const VType& t1 = *a.type;
  const VType& t2 = *b.type;
  auto complain = [&](const Expr& where, const VType& got, const std::string& want) {
    error("unexpected_type", "expected an expression of type " + want + ", but it has type " +
                                 to_string(got), where.loc);
  };
  const std::string any_comparable = "Long, datetime or duration";
  if (t1.kind == K::kNever && t2.kind == K::kNever) return failure(vtype::boolean());
  if (t1.kind == K::kNever || t2.kind == K::kNever) {
    const VType& other = t1.kind == K::kNever ? t2 : t1;
    const Expr& where = t1.kind == K::kNever ? y : x;
    if (is_comparable(other)) return after(ok, result);
    complain(where, other, any_comparable);
    return failure(vtype::boolean());
  }
  if (is_subtype(t1, t2, false) && is_subtype(t2, t1, false) && is_comparable(t1))
    return after(ok, result);
  if (t1.kind == K::kLong) {
    complain(y, t2, "Long");
  } else if (t2.kind == K::kLong) {
    complain(x, t1, "Long");
  } else if (is_comparable(t1)) {
    complain(y, t2, to_string(t1));
  } else if (is_comparable(t2)) {
    complain(x, t1, to_string(t2));
  } else {
    complain(x, t1, any_comparable);
    complain(y, t2, any_comparable);
  }
  return failure(vtype::boolean());
}

bool Typechecker::may_be_descendant(const std::string& lhs_type, const std::string& rhs_type) const {
  if (index_.types_in(rhs_type).count(lhs_type)) return true;
  // An action may be in an action group of another action type.
  if (lhs_type == rhs_type) return true;
  for (const auto& [uid, def] : index_.schema().actions) {
    if (uid.type != rhs_type) continue;
    if (const auto* desc = index_.action_descendants(uid))
      for (const auto& d : *desc)
        if (d.type == lhs_type) return true;
  }
  return false;
}

Answer Typechecker::action_in_literals(const EntityUID& lhs, const std::vector<EntityUID>& rhs) {
  // An action is only ever in actions: non-action literals on the right
  // cannot contain it. With actions on the right, the schema's hierarchy
  // decides the answer exactly.
  bool any_action = false;
  bool in = false;
  for (const auto& r : rhs) {
    if (!is_action_entity_type(r.type)) continue;
    any_action = true;
    const auto* desc = index_.action_descendants(r);
    if (!desc) return failure(vtype::boolean());  // undeclared action: reported by the scope checks
    if (r == lhs || desc->count(lhs)) in = true;
  }
  if (!any_action) return success(vtype::singleton(false));
  return success(vtype::singleton(in));
}

Answer Typechecker::membership(const Capabilities& prior, const Expr& e, const Expr& lhs,
                               const Expr& rhs) {
  (void)e;
  Answer l = expect(prior, lhs, {vtype::any_entity()});
  Answer r = expect(prior, rhs, {vtype::set_of(vtype::any_entity()), vtype::any_entity()});
  if (!l.ok || !r.ok) return failure(vtype::boolean());
  auto lhs_uid = literal_or_action_uid(lhs);
  auto rhs_uids = literal_or_action_uids(rhs);
  if (lhs_uid && rhs_uids && is_action_entity_type(lhs_uid->type))
    return action_in_literals(*lhs_uid, *rhs_uids);
  const VType& lt = *l.type;
  const VType* rt = r.type.get();
  if (rt->kind == K::kSet && rt->element) rt = rt->element.get();
  // Named entity types (action entity types included) on both sides: the
  // schema's hierarchies may rule membership out.
  auto named = [](const VType& t) { return t.kind == K::kEntity || t.kind == K::kActionEntity; };
  if (named(lt) && named(*rt) && !may_be_descendant(lt.name, rt->name))
    return success(vtype::singleton(false));
  return success(vtype::boolean());
}

std::optional<VAttr> Typechecker::lookup_attr(const VType& t, std::string_view attr) const {
  const VAttrs* attrs = nullptr;
  if (t.kind == K::kRecord) attrs = &t.attrs;
  if (t.kind == K::kEntity) attrs = index_.entity_attributes(t.name);
  if (!attrs) return std::nullopt;
  auto it = attrs->find(attr);
  if (it == attrs->end()) return std::nullopt;
  return it->second;
}

bool Typechecker::may_have_attr(const VType& t, std::string_view attr) const {
  switch (t.kind) {
    case K::kNever:
    case K::kAnyEntity:
      return true;
    case K::kRecord:
      return t.open || t.attrs.count(std::string(attr));
    case K::kEntity: {
      const VAttrs* attrs = index_.entity_attributes(t.name);
      return !attrs || attrs->count(std::string(attr));
    }
    default:
      return false;
  }
}

Answer Typechecker::has_attr(const Capabilities& prior, const Expr& e) {
  const Expr& object = *e.args[0];
  Answer obj = expect(prior, object, {vtype::any_entity(), vtype::any_record()});
  if (!obj.type) return failure(vtype::boolean());
  auto attr = lookup_attr(*obj.type, e.name);
  Capabilities cap{Capability{&object, e.name, nullptr}};
  bool known = contains(prior, object, e.name);
  if (attr && attr->required) {
    // A required attribute of an entity may still be missing: the entity
    // need not exist. Records always have their required attributes.
    bool always = obj.type->kind == K::kRecord || known;
    return after(obj.ok, success(always ? vtype::singleton(true) : vtype::boolean(), cap));
  }
  if (attr) return after(obj.ok, success(known ? vtype::singleton(true) : vtype::boolean(), cap));
  return after(obj.ok, success(may_have_attr(*obj.type, e.name) ? vtype::boolean()
                                                                : vtype::singleton(false)));
}

Answer Typechecker::get_attr(const Capabilities& prior, const Expr& e) {
  const Expr& object = *e.args[0];
  Answer obj = expect(prior, object, {vtype::any_entity(), vtype::any_record()});
  if (!obj.type) return failure();
  auto attr = lookup_attr(*obj.type, e.name);
  if (!attr) {
    error("unsafe_attribute_access",
          "attribute `" + e.name + "` is not declared for type " + to_string(*obj.type), e.loc);
    return failure();
  }
  if (!attr->required && !contains(prior, object, e.name)) {
    error("unsafe_optional_attribute_access",
          "attribute `" + e.name + "` is optional: test it with `has` before reading it", e.loc);
    return failure(attr->type);
  }
  return after(obj.ok, success(attr->type));
}

Answer Typechecker::type_test(const Capabilities& prior, const Expr& e) {
  Answer obj = expect(prior, *e.args[0], {vtype::any_entity()});
  Answer is;
  if (!obj.type) {
    is = failure(vtype::boolean());
  } else if (obj.type->kind == K::kAnyEntity) {
    is = after(obj.ok, success(vtype::boolean()));
  } else {
    is = after(obj.ok, success(vtype::singleton(obj.type->name == e.name)));
  }
  if (e.args.size() < 2) return is;
  // `e is T in x` is `e is T && e in x`.
  if (is_false(is.type)) return is;
  Answer in = membership(prior, e, *e.args[0], *e.args[1]);
  bool ok = is.ok && in.ok;
  if (!is.type || !in.type) return failure(vtype::boolean());
  if (is_false(in.type)) return after(ok, success(vtype::singleton(false)));
  if (is_true(in.type)) return after(ok, success(is.type));
  if (is_true(is.type)) return after(ok, success(in.type));
  return after(ok, success(vtype::boolean()));
}

Answer Typechecker::set_literal(const Capabilities& prior, const Expr& e) {
  bool ok = true;
  bool all_typed = true;
  VTypePtr lub = vtype::never();
  bool incompatible = false;
  std::vector<VTypePtr> types;
  for (const auto& elem : e.args) {
    Answer a = typecheck(prior, *elem);
    ok = ok && a.ok;
    if (!a.type) {
      all_typed = false;
      continue;
    }
    types.push_back(a.type);
  }
  if (all_typed) {
    for (const auto& t : types) {
      auto next = least_upper_bound(lub, t);
      if (!next) {
        incompatible = true;
        break;
      }
      lub = *next;
    }
    if (incompatible) {
      std::string list;
      for (const auto& t : types) list += (list.empty() ? "" : ", ") + to_string(*t);
      error("incompatible_types", "the elements of this set have incompatible types: " + list, e.loc);
    }
  }
  if (e.args.empty()) {
    error("empty_set_forbidden", "an empty set literal has no element type; strict validation "
                                 "forbids it",
          e.loc);
    return failure();
  }
  if (!all_typed || incompatible) return failure();
  return after(ok, success(vtype::set_of(lub)));
}

Answer Typechecker::record_literal(const Capabilities& prior, const Expr& e) {
  bool ok = true;
  bool all_typed = true;
  VAttrs attrs;
  for (size_t i = 0; i < e.args.size(); ++i) {
    Answer a = typecheck(prior, *e.args[i]);
    ok = ok && a.ok;
    if (!a.type) all_typed = false;
    else attrs.insert_or_assign(e.keys[i], VAttr{a.type, true});
  }
  if (!all_typed) return failure();
  return after(ok, success(vtype::record(std::move(attrs))));
}

Answer Typechecker::method(const Capabilities& prior, const Expr& e) {
  const std::string& m = e.name;
  if (m == "contains" || m == "containsAll" || m == "containsAny" || m == "isEmpty")
    return set_operation(prior, e);
  if (m == "hasTag" || m == "getTag") return tag_operation(prior, e);
  return extension_call(prior, e);
}

Answer Typechecker::set_operation(const Capabilities& prior, const Expr& e) {
  Answer set = expect(prior, *e.args[0], {vtype::any_set()});
  if (e.name == "isEmpty") return after(set.ok, success(vtype::boolean()));
  if (e.args.size() != 2) return failure(vtype::boolean());
  if (e.name == "contains") {
    Answer elem = typecheck(prior, *e.args[1]);
    VTypePtr set_elem = set.type && set.type->kind == K::kSet ? set.type->element : nullptr;
    return after(set.ok && elem.ok, enforce_strict(e, success(vtype::boolean()), set_elem, elem.type));
  }
  Answer other = expect(prior, *e.args[1], {vtype::any_set()});
  return after(set.ok && other.ok,
               enforce_strict(e, success(vtype::boolean()), set.type, other.type));
}

std::vector<VTypePtr> Typechecker::tag_types(const VType& t) const {
  std::vector<VTypePtr> out;
  auto add = [&](const VTypePtr& tt) {
    if (!tt) return;
    for (const auto& o : out)
      if (is_subtype(*o, *tt, false) && is_subtype(*tt, *o, false)) return;
    out.push_back(tt);
  };
  if (t.kind == K::kEntity) add(index_.tag_type(t.name));
  if (t.kind == K::kAnyEntity)
    for (const auto& [name, def] : index_.schema().entity_types) add(index_.tag_type(name));
  return out;
}

Answer Typechecker::tag_operation(const Capabilities& prior, const Expr& e) {
  if (e.args.size() != 2) return failure();
  const Expr& object = *e.args[0];
  const Expr& key = *e.args[1];
  Answer obj = expect(prior, object, {vtype::any_entity()});
  Answer tag = expect(prior, key, {vtype::string()});
  bool ok = obj.ok && tag.ok;
  if (!obj.type || !tag.type) return failure(e.name == "hasTag" ? vtype::boolean() : nullptr);
  auto types = tag_types(*obj.type);
  bool known = contains_tag(prior, object, key);
  if (e.name == "hasTag") {
    VTypePtr t = types.empty() ? vtype::singleton(false)
                 : known       ? vtype::singleton(true)
                               : vtype::boolean();
    return after(ok, success(t, Capabilities{Capability{&object, {}, &key}}));
  }
  if (!known) {
    error("unsafe_tag_access",
          "tags may be missing: test the tag with `hasTag` before reading it with `getTag`", e.loc);
    return failure();
  }
  if (types.empty()) {
    error("no_tags_allowed", "entities of type " + to_string(*obj.type) + " cannot have tags", e.loc);
    return failure();
  }
  VTypePtr lub = vtype::never();
  for (const auto& t : types) {
    auto next = least_upper_bound(lub, t);
    if (!next) {
      error("incompatible_types", "the possible tag types are incompatible", e.loc);
      return failure();
    }
    lub = *next;
  }
  return after(ok, success(lub));
}

Answer Typechecker::extension_call(const Capabilities& prior, const Expr& e) {
  const ExtensionSignature* sig = find_extension(e.name);
  if (!sig) {
    error("undefined_extension", "`" + e.name + "` is not a known extension function", e.loc);
    for (const auto& a : e.args) typecheck(prior, *a);
    return failure();
  }
  VTypePtr result = named_type(sig->result);
  bool failed = false;
  if (e.args.size() != sig->args.size()) {
    error("wrong_number_arguments", "`" + e.name + "` takes " + std::to_string(sig->args.size()) +
                                        " argument(s) but was given " +
                                        std::to_string(e.args.size()),
          e.loc);
    failed = true;
  }
  if (sig->constructor) {
    // A literal string argument must parse; strict validation requires the
    // argument to be a literal, so that its validity is known now.
    if (e.args.size() == 1 && e.args[0]->kind == Expr::Kind::kLiteral && e.args[0]->value.is_string()) {
      auto v = make_extension_value(e.name, e.args[0]->value.as_string());
      if (!v) {
        error("function_argument_validation", "invalid argument to `" + e.name + "`: " +
                                                  v.error().message,
              e.loc);
        failed = true;
      }
    }
    bool all_literal = std::all_of(e.args.begin(), e.args.end(),
                                   [](const ExprPtr& a) { return a->kind == Expr::Kind::kLiteral; });
    if (!all_literal) {
      error("non_literal_extension_constructor",
            "the argument of `" + e.name + "` must be a literal in strict validation", e.loc);
      failed = true;
    }
  }
  if (failed) {
    for (const auto& a : e.args) typecheck(prior, *a);
    return failure(result);
  }
  bool ok = true;
  for (size_t i = 0; i < e.args.size(); ++i) {
    Answer a = expect(prior, *e.args[i], {named_type(sig->args[i])});
    ok = ok && a.ok;
  }
  return after(ok, success(result));
}

}  // namespace ztgate::cedar::internal
