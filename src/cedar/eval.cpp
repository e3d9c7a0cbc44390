#include "cedar/eval.h"

#include <limits>

#include "cedar/ext/extensions.h"

namespace ztgate::cedar {
namespace {

Error type_error(std::string_view expected, const Value& got) {
  return make_error("type_error", "type error: expected " + std::string(expected) + ", got " +
                                      std::string(kind_name(got.kind())));
}

Error overflow_error(std::string_view what) {
  return make_error("overflow", "integer overflow while attempting to " + std::string(what));
}

Error entity_missing(const EntityUID& uid) {
  return make_error("entity_does_not_exist", "entity `" + to_string(uid) + "` does not exist");
}

// Evaluates `e` into `out`, returning early from the enclosing function on error.
#define CEDAR_TRY_EVAL(out, e)          \
  auto out##_r = eval(e);               \
  if (!out##_r) return out##_r.error(); \
  Value& out = *out##_r

}  // namespace

bool wildcard_match(std::string_view text, const Pattern& pattern) {
  // Classic glob matching with backtracking to the most recent `*`: each
  // literal run is matched at the earliest position; on failure the last
  // star absorbs one more byte. O(len(text) * len(pattern)) worst case.
  // Byte-wise matching equals char-wise matching for valid UTF-8 because a
  // literal never starts with a continuation byte.
  size_t ti = 0, pi = 0;
  size_t star_pi = std::string_view::npos, star_ti = 0;
  size_t lit_off = 0;  // offset inside pattern[pi].literal
  while (ti < text.size()) {
    if (pi < pattern.size() && !pattern[pi].wildcard) {
      const std::string& lit = pattern[pi].literal;
      if (text[ti] == lit[lit_off]) {
        ++ti;
        if (++lit_off == lit.size()) {
          ++pi;
          lit_off = 0;
        }
        continue;
      }
    } else if (pi < pattern.size() && pattern[pi].wildcard) {
      star_pi = pi++;
      star_ti = ti;
      lit_off = 0;
      continue;
    }
    if (star_pi == std::string_view::npos) return false;
    pi = star_pi + 1;
    lit_off = 0;
    ti = ++star_ti;
  }
  while (pi < pattern.size() && pattern[pi].wildcard && lit_off == 0) ++pi;
  return pi == pattern.size() && lit_off == 0;
}

Evaluator::Evaluator(const Request& request, const Entities& entities)
    : request_(request),
      entities_(entities),
      principal_(request.principal),
      action_(request.action),
      resource_(request.resource),
      context_(request.context ? Value(request.context) : Value::record({})),
      principal_entity_(entities.find(request.principal)),
      action_entity_(entities.find(request.action)),
      resource_entity_(entities.find(request.resource)) {}

bool Evaluator::entity_scope_matches(const EntityScope& scope, const EntityUID& uid,
                                     const Entity* entity) const {
  switch (scope.kind) {
    case EntityScope::Kind::kAny: return true;
    case EntityScope::Kind::kEq: return scope.entity && uid == *scope.entity;
    case EntityScope::Kind::kIn:
      return scope.entity && Entities::is_descendant_or_self(uid, entity, *scope.entity);
    case EntityScope::Kind::kIs: return uid.type == scope.type;
    case EntityScope::Kind::kIsIn:
      return uid.type == scope.type && scope.entity &&
             Entities::is_descendant_or_self(uid, entity, *scope.entity);
  }
  return false;
}

bool Evaluator::scope_matches(const Policy& p) const {
  if (!entity_scope_matches(p.principal, request_.principal, principal_entity_)) return false;
  if (!entity_scope_matches(p.resource, request_.resource, resource_entity_)) return false;
  const EntityUID& a = request_.action;
  switch (p.action.kind) {
    case ActionScope::Kind::kAny: return true;
    case ActionScope::Kind::kEq: return a == p.action.entities[0];
    case ActionScope::Kind::kIn:
      return Entities::is_descendant_or_self(a, action_entity_, p.action.entities[0]);
    case ActionScope::Kind::kInSet:
      for (const auto& e : p.action.entities)
        if (Entities::is_descendant_or_self(a, action_entity_, e)) return true;
      return false;
  }
  return false;
}

Result<bool> Evaluator::conditions_hold(const Policy& p) const {
  for (const auto& c : p.conditions) {
    auto v = eval(*c.body);
    if (!v) return v.error();
    if (!v->is_bool()) return type_error("bool", *v);
    if (v->as_bool() != c.is_when) return false;
  }
  return true;
}

Result<Value> Evaluator::eval(const Expr& e) const {
  switch (e.kind) {
    case Expr::Kind::kLiteral:
      return e.value;
    case Expr::Kind::kVar:
      switch (e.var) {
        case Var::kPrincipal: return principal_;
        case Var::kAction: return action_;
        case Var::kResource: return resource_;
        case Var::kContext: return context_;
      }
      return make_error("internal", "unknown variable");
    case Expr::Kind::kSlot:
      return make_error("unlinked_slot", "template slot is not linked");
    case Expr::Kind::kIf: {
      CEDAR_TRY_EVAL(c, *e.args[0]);
      if (!c.is_bool()) return type_error("bool", c);
      return eval(*e.args[c.as_bool() ? 1 : 2]);
    }
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr: {
      bool is_and = e.kind == Expr::Kind::kAnd;
      CEDAR_TRY_EVAL(l, *e.args[0]);
      if (!l.is_bool()) return type_error("bool", l);
      if (l.as_bool() != is_and) return l;  // short-circuit: false && _, true || _
      CEDAR_TRY_EVAL(r, *e.args[1]);
      if (!r.is_bool()) return type_error("bool", r);
      return r;
    }
    case Expr::Kind::kNot: {
      CEDAR_TRY_EVAL(v, *e.args[0]);
      if (!v.is_bool()) return type_error("bool", v);
      return Value(!v.as_bool());
    }
    case Expr::Kind::kNeg: {
      CEDAR_TRY_EVAL(v, *e.args[0]);
      if (!v.is_long()) return type_error("long", v);
      if (v.as_long() == std::numeric_limits<int64_t>::min())
        return overflow_error("negate the value `" + std::to_string(v.as_long()) + "`");
      return Value(-v.as_long());
    }
    case Expr::Kind::kBinary:
      return eval_binary(e);
    case Expr::Kind::kHasAttr:
      return eval_has_attr(e);
    case Expr::Kind::kGetAttr:
      return eval_get_attr(e);
    case Expr::Kind::kLike: {
      CEDAR_TRY_EVAL(v, *e.args[0]);
      if (!v.is_string()) return type_error("string", v);
      return Value(wildcard_match(v.as_string(), e.pattern));
    }
    case Expr::Kind::kIs: {
      CEDAR_TRY_EVAL(v, *e.args[0]);
      if (!v.is_entity()) return type_error("entity", v);
      if (v.as_entity().type != e.name) return Value(false);
      if (e.args.size() == 1) return Value(true);
      CEDAR_TRY_EVAL(target, *e.args[1]);
      return eval_in(v, target);
    }
    case Expr::Kind::kSet: {
      ValueSet elems;
      elems.reserve(e.args.size());
      for (const auto& a : e.args) {
        CEDAR_TRY_EVAL(v, *a);
        elems.push_back(std::move(v));
      }
      return Value::set(std::move(elems));
    }
    case Expr::Kind::kRecord: {
      ValueRecord fields;
      for (size_t i = 0; i < e.args.size(); ++i) {
        CEDAR_TRY_EVAL(v, *e.args[i]);
        fields.emplace(e.keys[i], std::move(v));
      }
      return Value::record(std::move(fields));
    }
    case Expr::Kind::kCall: {
      std::vector<Value> args;
      args.reserve(e.args.size());
      for (const auto& a : e.args) {
        CEDAR_TRY_EVAL(v, *a);
        args.push_back(std::move(v));
      }
      auto r = call_extension_function(e.name, args);
      if (!r) return make_error("unknown_function", "`" + e.name + "` is not a function");
      return std::move(*r);
    }
    case Expr::Kind::kMethod:
      return eval_method(e);
  }
  return make_error("internal", "unknown expression kind");
}

Result<Value> Evaluator::eval_in(const Value& lhs, const Value& rhs) const {
  if (!lhs.is_entity()) return type_error("entity", lhs);
  const EntityUID& child = lhs.as_entity();
  if (rhs.is_entity()) return Value(entities_.is_descendant_or_self(child, rhs.as_entity()));
  if (!rhs.is_set()) return type_error("set or entity", rhs);
  bool found = false;
  for (const auto& elem : rhs.as_set()) {
    if (!elem.is_entity()) return type_error("entity", elem);
    if (!found && entities_.is_descendant_or_self(child, elem.as_entity())) found = true;
  }
  return Value(found);
}

Result<Value> Evaluator::eval_binary(const Expr& e) const {
  CEDAR_TRY_EVAL(l, *e.args[0]);
  CEDAR_TRY_EVAL(r, *e.args[1]);
  switch (e.op) {
    case BinaryOp::kEq: return Value(l == r);
    case BinaryOp::kNotEq: return Value(!(l == r));
    case BinaryOp::kLess:
    case BinaryOp::kLessEq:
    case BinaryOp::kGreater:
    case BinaryOp::kGreaterEq: {
      std::weak_ordering ord = std::weak_ordering::equivalent;
      if (l.is_long() && r.is_long()) {
        ord = l.as_long() <=> r.as_long();
      } else if (l.kind() == ValueKind::kDatetime && r.kind() == ValueKind::kDatetime) {
        ord = l.as_datetime().ms <=> r.as_datetime().ms;
      } else if (l.kind() == ValueKind::kDuration && r.kind() == ValueKind::kDuration) {
        ord = l.as_duration().ms <=> r.as_duration().ms;
      } else {
        const Value& bad = (l.is_long() || l.kind() == ValueKind::kDatetime ||
                            l.kind() == ValueKind::kDuration)
                               ? r
                               : l;
        return type_error("one of [long, datetime, duration] (both operands of the same type)", bad);
      }
      switch (e.op) {
        case BinaryOp::kLess: return Value(ord < 0);
        case BinaryOp::kLessEq: return Value(ord <= 0);
        case BinaryOp::kGreater: return Value(ord > 0);
        default: return Value(ord >= 0);
      }
    }
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
    case BinaryOp::kMul: {
      if (!l.is_long()) return type_error("long", l);
      if (!r.is_long()) return type_error("long", r);
      int64_t out = 0;
      bool overflow = false;
      const char* verb = "add";
      if (e.op == BinaryOp::kAdd) {
        overflow = __builtin_add_overflow(l.as_long(), r.as_long(), &out);
      } else if (e.op == BinaryOp::kSub) {
        overflow = __builtin_sub_overflow(l.as_long(), r.as_long(), &out);
        verb = "subtract";
      } else {
        overflow = __builtin_mul_overflow(l.as_long(), r.as_long(), &out);
        verb = "multiply";
      }
      if (overflow)
        return overflow_error(std::string(verb) + " `" + std::to_string(l.as_long()) + "` and `" +
                              std::to_string(r.as_long()) + "`");
      return Value(out);
    }
    case BinaryOp::kIn:
      return eval_in(l, r);
  }
  return make_error("internal", "unknown operator");
}

Result<Value> Evaluator::eval_has_attr(const Expr& e) const {
  CEDAR_TRY_EVAL(obj, *e.args[0]);
  if (obj.is_record()) return Value(obj.as_record().count(e.name) > 0);
  if (obj.is_entity()) {
    const Entity* ent = entities_.find(obj.as_entity());
    return Value(ent != nullptr && ent->attrs.count(e.name) > 0);
  }
  return type_error("entity or record", obj);
}

Result<Value> Evaluator::eval_get_attr(const Expr& e) const {
  CEDAR_TRY_EVAL(obj, *e.args[0]);
  if (obj.is_record()) {
    const auto& rec = obj.as_record();
    auto it = rec.find(e.name);
    if (it == rec.end())
      return make_error("attribute_missing", "record does not have the attribute `" + e.name + "`");
    return it->second;
  }
  if (obj.is_entity()) {
    const Entity* ent = entities_.find(obj.as_entity());
    if (!ent) return entity_missing(obj.as_entity());
    auto it = ent->attrs.find(e.name);
    if (it == ent->attrs.end())
      return make_error("attribute_missing", "`" + to_string(obj.as_entity()) +
                                                 "` does not have the attribute `" + e.name + "`");
    return it->second;
  }
  return type_error("entity or record", obj);
}

Result<Value> Evaluator::eval_method(const Expr& e) const {
  std::vector<Value> vals;
  vals.reserve(e.args.size());
  for (const auto& a : e.args) {
    CEDAR_TRY_EVAL(v, *a);
    vals.push_back(std::move(v));
  }
  const Value& recv = vals[0];
  const std::string& m = e.name;
  if (m == "contains") {
    if (!recv.is_set()) return type_error("set", recv);
    return Value(set_contains(recv.as_set(), vals[1]));
  }
  if (m == "containsAll" || m == "containsAny") {
    if (!recv.is_set()) return type_error("set", recv);
    if (!vals[1].is_set()) return type_error("set", vals[1]);
    const auto& haystack = recv.as_set();
    bool all = m == "containsAll";
    for (const auto& needle : vals[1].as_set()) {
      bool present = set_contains(haystack, needle);
      if (all && !present) return Value(false);
      if (!all && present) return Value(true);
    }
    return Value(all);
  }
  if (m == "isEmpty") {
    if (!recv.is_set()) return type_error("set", recv);
    return Value(recv.as_set().empty());
  }
  if (m == "hasTag" || m == "getTag") {
    if (!recv.is_entity()) return type_error("entity", recv);
    if (!vals[1].is_string()) return type_error("string", vals[1]);
    const Entity* ent = entities_.find(recv.as_entity());
    if (m == "hasTag") return Value(ent != nullptr && ent->tags.count(vals[1].as_string()) > 0);
    if (!ent) return entity_missing(recv.as_entity());
    auto it = ent->tags.find(vals[1].as_string());
    if (it == ent->tags.end())
      return make_error("tag_missing", "`" + to_string(recv.as_entity()) +
                                           "` does not have the tag `" + vals[1].as_string() + "`");
    return it->second;
  }
  auto r = call_extension_method(m, recv, std::span<const Value>(vals).subspan(1));
  if (!r) return make_error("unknown_method", "`" + m + "` is not a method");
  return std::move(*r);
}

}  // namespace ztgate::cedar
