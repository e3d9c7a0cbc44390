#include "cedar/ast.h"

namespace ztgate::cedar {

namespace {

bool same_pattern(const Pattern& a, const Pattern& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].wildcard != b[i].wildcard || a[i].literal != b[i].literal) return false;
  return true;
}

}  // namespace

bool same_expr(const Expr& a, const Expr& b) {
  if (&a == &b) return true;
  if (a.kind != b.kind || a.args.size() != b.args.size()) return false;
  switch (a.kind) {
    case Expr::Kind::kLiteral:
      if (!(a.value == b.value)) return false;
      break;
    case Expr::Kind::kVar:
      if (a.var != b.var) return false;
      break;
    case Expr::Kind::kSlot:
      if (a.slot != b.slot) return false;
      break;
    case Expr::Kind::kBinary:
      if (a.op != b.op) return false;
      break;
    case Expr::Kind::kLike:
      if (!same_pattern(a.pattern, b.pattern)) return false;
      break;
    case Expr::Kind::kRecord:
      if (a.keys != b.keys) return false;
      break;
    case Expr::Kind::kHasAttr:
    case Expr::Kind::kGetAttr:
    case Expr::Kind::kIs:
    case Expr::Kind::kCall:
    case Expr::Kind::kMethod:
      if (a.name != b.name) return false;
      break;
    default:
      break;
  }
  for (size_t i = 0; i < a.args.size(); ++i)
    if (!same_expr(*a.args[i], *b.args[i])) return false;
  return true;
}

}  // namespace ztgate::cedar
