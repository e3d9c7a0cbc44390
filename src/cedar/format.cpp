// Canonical pretty-printing of policies and expressions. The output parses
// back to an equal AST (the fuzz target for the parser checks this).
#include "cedar/policy_set.h"

namespace ztgate::cedar {
namespace {

// Binding strength, loosest first; a child that binds looser than its
// context is parenthesized.
enum Prec { kPrecIf, kPrecOr, kPrecAnd, kPrecRel, kPrecAdd, kPrecMul, kPrecUnary, kPrecMember };

std::string_view op_text(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEq: return "==";
    case BinaryOp::kNotEq: return "!=";
    case BinaryOp::kLess: return "<";
    case BinaryOp::kLessEq: return "<=";
    case BinaryOp::kGreater: return ">";
    case BinaryOp::kGreaterEq: return ">=";
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSub: return "-";
    case BinaryOp::kMul: return "*";
    case BinaryOp::kIn: return "in";
  }
  return "?";
}

Prec prec_of(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kIf: return kPrecIf;
    case Expr::Kind::kOr: return kPrecOr;
    case Expr::Kind::kAnd: return kPrecAnd;
    case Expr::Kind::kHasAttr:
    case Expr::Kind::kLike:
    case Expr::Kind::kIs: return kPrecRel;
    case Expr::Kind::kBinary:
      switch (e.op) {
        case BinaryOp::kAdd:
        case BinaryOp::kSub: return kPrecAdd;
        case BinaryOp::kMul: return kPrecMul;
        default: return kPrecRel;
      }
    case Expr::Kind::kNot:
    case Expr::Kind::kNeg: return kPrecUnary;
    case Expr::Kind::kLiteral:
      // A negative literal prints with a leading `-`.
      if (e.value.is_long() && e.value.as_long() < 0) return kPrecUnary;
      return kPrecMember;
    default: return kPrecMember;
  }
}

bool is_ident(std::string_view s) {
  if (s.empty()) return false;
  auto start = [](char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!start(s[0])) return false;
  for (char c : s)
    if (!start(c) && !(c >= '0' && c <= '9')) return false;
  return !(s == "true" || s == "false" || s == "if" || s == "then" || s == "else" || s == "in" ||
           s == "is" || s == "like" || s == "has" || s == "__cedar");
}

std::string pattern_text(const Pattern& p) {
  std::string out;
  for (const auto& el : p) {
    if (el.wildcard) {
      out += '*';
      continue;
    }
    std::string lit = escape_string(el.literal);
    for (char c : lit) {
      if (c == '*') out += "\\*";
      else out += c;
    }
  }
  return out;
}

void print(const Expr& e, std::string& out);

void print_child(const Expr& child, Prec min, std::string& out) {
  if (prec_of(child) < min) {
    out += '(';
    print(child, out);
    out += ')';
  } else {
    print(child, out);
  }
}

void print_list(const std::vector<ExprPtr>& args, size_t from, std::string& out) {
  for (size_t i = from; i < args.size(); ++i) {
    if (i > from) out += ", ";
    print(*args[i], out);
  }
}

void print(const Expr& e, std::string& out) {
  switch (e.kind) {
    case Expr::Kind::kLiteral:
      out += to_cedar_string(e.value);
      return;
    case Expr::Kind::kVar: {
      static constexpr std::string_view kNames[] = {"principal", "action", "resource", "context"};
      out += kNames[static_cast<int>(e.var)];
      return;
    }
    case Expr::Kind::kSlot:
      out += e.slot == SlotId::kPrincipal ? "?principal" : "?resource";
      return;
    case Expr::Kind::kIf:
      out += "if ";
      print(*e.args[0], out);
      out += " then ";
      print(*e.args[1], out);
      out += " else ";
      print(*e.args[2], out);
      return;
    case Expr::Kind::kOr:
    case Expr::Kind::kAnd: {
      Prec p = e.kind == Expr::Kind::kOr ? kPrecOr : kPrecAnd;
      print_child(*e.args[0], p, out);
      out += e.kind == Expr::Kind::kOr ? " || " : " && ";
      print_child(*e.args[1], static_cast<Prec>(p + 1), out);
      return;
    }
    case Expr::Kind::kNot:
    case Expr::Kind::kNeg:
      out += e.kind == Expr::Kind::kNot ? "!" : "-";
      // `-(-1)` must not print as `--1`, nor `-(1)` as `-1`: either would
      // re-parse with the `-` folded into the integer literal.
      if (e.kind == Expr::Kind::kNeg &&
          (prec_of(*e.args[0]) == kPrecUnary ||
           (e.args[0]->kind == Expr::Kind::kLiteral && e.args[0]->value.is_long()))) {
        out += '(';
        print(*e.args[0], out);
        out += ')';
        return;
      }
      print_child(*e.args[0], kPrecMember, out);
      return;
    case Expr::Kind::kBinary: {
      Prec p = prec_of(e);
      // Relations do not chain; arithmetic is left-associative.
      print_child(*e.args[0], p == kPrecRel ? kPrecAdd : p, out);
      out += ' ';
      out += op_text(e.op);
      out += ' ';
      print_child(*e.args[1], static_cast<Prec>(p == kPrecRel ? kPrecAdd : p + 1), out);
      return;
    }
    case Expr::Kind::kHasAttr:
      print_child(*e.args[0], kPrecAdd, out);
      out += " has ";
      out += is_ident(e.name) ? e.name : "\"" + escape_string(e.name) + "\"";
      return;
    case Expr::Kind::kGetAttr:
      print_child(*e.args[0], kPrecMember, out);
      if (is_ident(e.name)) {
        out += '.';
        out += e.name;
      } else {
        out += "[\"" + escape_string(e.name) + "\"]";
      }
      return;
    case Expr::Kind::kLike:
      print_child(*e.args[0], kPrecAdd, out);
      out += " like \"" + pattern_text(e.pattern) + "\"";
      return;
    case Expr::Kind::kIs:
      print_child(*e.args[0], kPrecAdd, out);
      out += " is " + e.name;
      if (e.args.size() > 1) {
        out += " in ";
        print_child(*e.args[1], kPrecAdd, out);
      }
      return;
    case Expr::Kind::kSet:
      out += '[';
      print_list(e.args, 0, out);
      out += ']';
      return;
    case Expr::Kind::kRecord:
      out += '{';
      for (size_t i = 0; i < e.args.size(); ++i) {
        if (i) out += ", ";
        out += "\"" + escape_string(e.keys[i]) + "\": ";
        print(*e.args[i], out);
      }
      out += '}';
      return;
    case Expr::Kind::kCall:
      out += e.name + "(";
      print_list(e.args, 0, out);
      out += ')';
      return;
    case Expr::Kind::kMethod:
      print_child(*e.args[0], kPrecMember, out);
      out += "." + e.name + "(";
      print_list(e.args, 1, out);
      out += ')';
      return;
  }
}

std::string entity_scope_text(std::string_view var, const EntityScope& s) {
  std::string out(var);
  std::string target = s.uses_slot ? "?" + std::string(var) : (s.entity ? to_string(*s.entity) : "");
  switch (s.kind) {
    case EntityScope::Kind::kAny: break;
    case EntityScope::Kind::kEq: out += " == " + target; break;
    case EntityScope::Kind::kIn: out += " in " + target; break;
    case EntityScope::Kind::kIs: out += " is " + s.type; break;
    case EntityScope::Kind::kIsIn: out += " is " + s.type + " in " + target; break;
  }
  return out;
}

}  // namespace

std::string format_expr(const Expr& expr) {
  std::string out;
  print(expr, out);
  return out;
}

std::string format_policy(const Policy& p) {
  std::string out;
  for (const auto& a : p.annotations) {
    out += "@" + a.key;
    if (a.value) out += "(\"" + escape_string(*a.value) + "\")";
    out += '\n';
  }
  out += p.effect == Effect::kPermit ? "permit (\n" : "forbid (\n";
  out += "  " + entity_scope_text("principal", p.principal) + ",\n  action";
  switch (p.action.kind) {
    case ActionScope::Kind::kAny: break;
    case ActionScope::Kind::kEq: out += " == " + to_string(p.action.entities[0]); break;
    case ActionScope::Kind::kIn: out += " in " + to_string(p.action.entities[0]); break;
    case ActionScope::Kind::kInSet: {
      out += " in [";
      for (size_t i = 0; i < p.action.entities.size(); ++i) {
        if (i) out += ", ";
        out += to_string(p.action.entities[i]);
      }
      out += ']';
      break;
    }
  }
  out += ",\n  " + entity_scope_text("resource", p.resource) + "\n)";
  for (const auto& c : p.conditions) {
    out += c.is_when ? "\nwhen { " : "\nunless { ";
    out += format_expr(*c.body);
    out += " }";
  }
  out += ";\n";
  return out;
}

std::string format_policies(const PolicySet& set) {
  // Source order: static policies and templates are interleaved by id number
  // when parsed; print templates after static policies.
  std::string out;
  bool first = true;
  for (const auto* list : {&set.policies(), &set.templates()}) {
    for (const auto& p : *list) {
      if (!p->template_id.empty()) continue;  // links are not source text
      if (!first) out += '\n';
      first = false;
      out += format_policy(*p);
    }
  }
  return out;
}

}  // namespace ztgate::cedar
