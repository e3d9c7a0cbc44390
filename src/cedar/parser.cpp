// Recursive-descent parser for Cedar policy text, following the grammar of
// the Cedar reference (grammar.lalrpop) and the restrictions its CST-to-AST
// pass adds (reserved identifiers, literal-only `like`/`has` operands, the
// folding of `-` into integer literals, builtin method arity, ...).
#include <algorithm>
#include <charconv>
#include <limits>
#include <set>

#include "cedar/ext/extensions.h"
#include "cedar/lexer.h"
#include "cedar/limits.h"
#include "cedar/policy_set.h"

namespace ztgate::cedar {
namespace {

// Nesting beyond this is refused: it bounds the recursion of the parser on
// hostile input. Each level of brackets or parentheses costs two (an
// expression and a member access), so 64 levels of nesting are allowed, which
// keeps the parser within ~400 KB of stack.
constexpr int kMaxDepth = 128;

bool is_reserved(std::string_view id) {
  return id == "true" || id == "false" || id == "if" || id == "then" || id == "else" ||
         id == "in" || id == "is" || id == "like" || id == "has";
}

struct BuiltinMethod {
  std::string_view name;
  size_t arity;
};
constexpr BuiltinMethod kBuiltinMethods[] = {
    {"contains", 1}, {"containsAll", 1}, {"containsAny", 1},
    {"isEmpty", 0},  {"getTag", 1},      {"hasTag", 1},
};

ExprPtr make_expr(Expr e) {
  for (const auto& a : e.args) e.height = std::max(e.height, a->height + 1);
  return std::make_shared<const Expr>(std::move(e));
}

class Parser {
 public:
  Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  Result<PolicySet> policies(std::string_view prefix) {
    PolicySet set;
    int n = 0;
    while (peek().kind != Tok::kEnd) {
      auto p = policy();
      if (!p) return p.error();
      p->id = std::string(prefix) + std::to_string(n++);
      auto st = set.add(std::move(*p));
      if (!st) return st.error();
    }
    return set;
  }

  Result<ExprPtr> single_expression() {
    auto e = expr();
    if (!e) return e;
    if (peek().kind != Tok::kEnd) return unexpected("end of input");
    return e;
  }

 private:
  // ----------------------------------------------------------- token access
  const Token& peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, toks_.size() - 1);
    return toks_[i];
  }
  const Token& next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool at(Tok k) const { return peek().kind == k; }
  bool at_ident(std::string_view word) const {
    return peek().kind == Tok::kIdent && peek().text == word;
  }
  bool accept(Tok k) {
    if (!at(k)) return false;
    next();
    return true;
  }
  Error unexpected(std::string_view expected) const {
    const Token& t = peek();
    std::string found = t.kind == Tok::kEnd ? "end of input" : "`" + std::string(t.text) + "`";
    if (t.kind == Tok::kString) found = "\"" + std::string(t.text) + "\"";
    return make_error("parse_error",
                      "unexpected " + found + ", expected " + std::string(expected), t.loc);
  }
  Status expect(Tok k) {
    if (accept(k)) return Ok{};
    return unexpected(token_description(k));
  }
  static Error error_at(SourceLoc loc, std::string msg) {
    return make_error("parse_error", std::move(msg), loc);
  }

  // An identifier naming an attribute (`e.a`, `e has a`, `{a: ..}`) may be
  // neither a reserved word nor `__cedar`, which Cedar keeps for itself
  // (`context["__cedar"]` is fine: only the bare identifier is refused).
  static Status check_attribute_ident(const Token& t) {
    if (is_reserved(t.text))
      return error_at(t.loc, "this identifier is reserved and cannot be used: " + std::string(t.text));
    if (t.text == "__cedar") return error_at(t.loc, "the name `__cedar` is reserved");
    return Ok{};
  }

  // Increments depth for the lifetime of a nested parse.
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) { ++p.depth_; }
    ~DepthGuard() { --p.depth_; }
  };

  // ----------------------------------------------------------- policies
  Result<Policy> policy() {
    Policy p;
    p.loc = peek().loc;
    std::set<std::string, std::less<>> seen;
    while (at(Tok::kAt)) {
      SourceLoc loc = next().loc;
      if (!at(Tok::kIdent)) return unexpected("an annotation name");
      Annotation a;
      a.key = std::string(next().text);
      if (accept(Tok::kLParen)) {
        if (!at(Tok::kString)) return unexpected("a string");
        const Token& s = next();
        auto v = unescape_string(s.text, s.loc);
        if (!v) return v.error();
        a.value = std::move(*v);
        if (auto st = expect(Tok::kRParen); !st) return st.error();
      }
      if (!seen.insert(a.key).second) return error_at(loc, "duplicate annotation: @" + a.key);
      p.annotations.push_back(std::move(a));
    }
    if (!at(Tok::kIdent)) return unexpected("`permit` or `forbid`");
    if (at_ident("permit")) {
      p.effect = Effect::kPermit;
    } else if (at_ident("forbid")) {
      p.effect = Effect::kForbid;
    } else {
      return error_at(peek().loc, "invalid policy effect `" + std::string(peek().text) +
                                      "`: expected `permit` or `forbid`");
    }
    if (!p.annotations.empty()) p.loc = p.loc;  // a policy starts at its first annotation
    next();
    if (auto st = expect(Tok::kLParen); !st) return st.error();
    if (auto st = scope(p); !st) return st.error();
    if (auto st = expect(Tok::kRParen); !st) return st.error();
    while (at(Tok::kIdent)) {
      const Token& kw = next();
      Condition c;
      if (kw.text == "when") {
        c.is_when = true;
      } else if (kw.text == "unless") {
        c.is_when = false;
      } else {
        return error_at(kw.loc, "invalid policy condition `" + std::string(kw.text) +
                                    "`: expected `when` or `unless`");
      }
      if (auto st = expect(Tok::kLBrace); !st) return st.error();
      if (at(Tok::kRBrace))
        return error_at(kw.loc, "`" + std::string(kw.text) + "` condition clause cannot be empty");
      auto body = expr();
      if (!body) return body.error();
      c.body = std::move(*body);
      if (auto st = expect(Tok::kRBrace); !st) return st.error();
      p.conditions.push_back(std::move(c));
    }
    if (auto st = expect(Tok::kSemi); !st) return st.error();
    p.is_template = p.principal.uses_slot || p.resource.uses_slot;
    return p;
  }

  Status scope(Policy& p) {
    static constexpr std::string_view kVars[] = {"principal", "action", "resource"};
    for (int i = 0; i < 3; ++i) {
      if (i > 0) {
        if (auto st = expect(Tok::kComma); !st) return st;
      }
      if (!at(Tok::kIdent)) return unexpected("`" + std::string(kVars[i]) + "`");
      const Token& v = next();
      if (v.text != kVars[i]) {
        return error_at(v.loc, "found `" + std::string(v.text) + "` where the variable `" +
                                   std::string(kVars[i]) + "` must be used: policy scopes are " +
                                   "`principal, action, resource`");
      }
      Status st = i == 1 ? action_scope(p.action)
                         : entity_scope(i == 0 ? p.principal : p.resource,
                                        i == 0 ? SlotId::kPrincipal : SlotId::kResource);
      if (!st) return st;
    }
    accept(Tok::kComma);  // a trailing comma is allowed
    return Ok{};
  }

  Status entity_scope(EntityScope& s, SlotId slot) {
    if (at_ident("is")) {
      next();
      auto type = name_path();
      if (!type) return type.error();
      s.kind = EntityScope::Kind::kIs;
      s.type = std::move(*type);
      if (at_ident("in")) {
        next();
        s.kind = EntityScope::Kind::kIsIn;
        return entity_or_slot(s, slot);
      }
      return Ok{};
    }
    if (accept(Tok::kEq)) {
      s.kind = EntityScope::Kind::kEq;
      return entity_or_slot(s, slot);
    }
    if (at_ident("in")) {
      next();
      s.kind = EntityScope::Kind::kIn;
      if (at(Tok::kLBracket))
        return error_at(peek().loc, "expected single entity uid or template slot, found set of entity uids");
      return entity_or_slot(s, slot);
    }
    if (at(Tok::kComma) || at(Tok::kRParen)) return Ok{};
    return unexpected("`==`, `in`, `is`, `,` or `)`");
  }

  Status entity_or_slot(EntityScope& s, SlotId slot) {
    if (at(Tok::kSlot)) {
      const Token& t = next();
      std::string_view want = slot == SlotId::kPrincipal ? "principal" : "resource";
      if (t.text != want)
        return error_at(t.loc, "expected the slot ?" + std::string(want) + ", found ?" + std::string(t.text));
      s.uses_slot = true;
      return Ok{};
    }
    auto uid = entity_literal();
    if (!uid) return uid.error();
    s.entity = std::move(*uid);
    return Ok{};
  }

  Status action_scope(ActionScope& s) {
    if (accept(Tok::kEq)) {
      s.kind = ActionScope::Kind::kEq;
      return action_uid(s);
    }
    if (at_ident("in")) {
      next();
      if (accept(Tok::kLBracket)) {
        s.kind = ActionScope::Kind::kInSet;
        while (!at(Tok::kRBracket)) {
          if (auto st = action_uid(s); !st) return st;
          if (!accept(Tok::kComma)) break;
        }
        return expect(Tok::kRBracket);
      }
      s.kind = ActionScope::Kind::kIn;
      return action_uid(s);
    }
    if (at_ident("is")) return error_at(peek().loc, "`is` is not allowed in the action scope");
    if (at(Tok::kComma) || at(Tok::kRParen)) return Ok{};
    return unexpected("`==`, `in`, `,` or `)`");
  }

  Status action_uid(ActionScope& s) {
    SourceLoc loc = peek().loc;
    auto uid = entity_literal();
    if (!uid) return uid.error();
    if (!is_action_entity_type(uid->type))
      return error_at(loc, "expected an entity uid with type `Action` but got `" + to_string(*uid) + "`");
    s.entities.push_back(std::move(*uid));
    return Ok{};
  }

  // Name := IDENT {'::' IDENT}, stopping before `::"id"`.
  Result<std::string> name_path() {
    if (!at(Tok::kIdent)) return unexpected("a name");
    std::string name;
    for (;;) {
      const Token& t = next();
      if (is_reserved(t.text))
        return error_at(t.loc, "this identifier is reserved and cannot be used: " + std::string(t.text));
      if (t.text == "__cedar")
        return error_at(t.loc, "the name contains `__cedar`, which is reserved");
      name += t.text;
      if (at(Tok::kColonColon) && peek(1).kind == Tok::kIdent) {
        next();
        name += "::";
        continue;
      }
      return name;
    }
  }

  Result<EntityUID> entity_literal() {
    auto type = name_path();
    if (!type) return type.error();
    if (auto st = expect(Tok::kColonColon); !st) return st.error();
    if (!at(Tok::kString)) return unexpected("an entity id string");
    const Token& s = next();
    auto id = unescape_string(s.text, s.loc);
    if (!id) return id.error();
    return EntityUID{std::move(*type), std::move(*id)};
  }

  // ----------------------------------------------------------- expressions
  Result<ExprPtr> expr() {
    SourceLoc loc = peek().loc;
    auto e = expr_unchecked();
    if (e && (*e)->height > kMaxExprHeight) return too_deep(loc);
    return e;
  }

  // Chains (`a || b || ..`, `a + b + ..`, `a.b.c..`, `has a.b.c..`) grow in a
  // loop, not by recursion, so they are checked as they grow: a tree far
  // beyond the bound would overflow the stack merely being destroyed.
  static Error too_deep(SourceLoc loc) {
    return error_at(loc, "expression is too deeply nested (more than " +
                             std::to_string(kMaxExprHeight) + " levels)");
  }

  Result<ExprPtr> expr_unchecked() {
    DepthGuard guard(*this);
    if (depth_ > kMaxDepth) return error_at(peek().loc, "expression nesting is too deep");
    if (at_ident("if")) {
      Expr e;
      e.kind = Expr::Kind::kIf;
      e.loc = next().loc;
      auto c = expr();
      if (!c) return c;
      if (!at_ident("then")) return unexpected("`then`");
      next();
      auto t = expr();
      if (!t) return t;
      if (!at_ident("else")) return unexpected("`else`");
      next();
      auto f = expr();
      if (!f) return f;
      e.args = {std::move(*c), std::move(*t), std::move(*f)};
      return make_expr(std::move(e));
    }
    return or_expr();
  }

  Result<ExprPtr> binary_chain(Tok op, Expr::Kind kind, Result<ExprPtr> (Parser::*operand)()) {
    auto lhs = (this->*operand)();
    if (!lhs) return lhs;
    ExprPtr acc = std::move(*lhs);
    while (at(op)) {
      SourceLoc loc = next().loc;
      auto rhs = (this->*operand)();
      if (!rhs) return rhs;
      Expr e;
      e.kind = kind;
      e.loc = acc->loc.line ? acc->loc : loc;
      e.args = {std::move(acc), std::move(*rhs)};
      acc = make_expr(std::move(e));
      if (acc->height > kMaxExprHeight) return too_deep(acc->loc);
    }
    return acc;
  }
  Result<ExprPtr> or_expr() { return binary_chain(Tok::kOr, Expr::Kind::kOr, &Parser::and_expr); }
  Result<ExprPtr> and_expr() { return binary_chain(Tok::kAnd, Expr::Kind::kAnd, &Parser::relation); }

  bool at_relop(BinaryOp& op) const {
    switch (peek().kind) {
      case Tok::kEq: op = BinaryOp::kEq; return true;
      case Tok::kNotEq: op = BinaryOp::kNotEq; return true;
      case Tok::kLess: op = BinaryOp::kLess; return true;
      case Tok::kLessEq: op = BinaryOp::kLessEq; return true;
      case Tok::kGreater: op = BinaryOp::kGreater; return true;
      case Tok::kGreaterEq: op = BinaryOp::kGreaterEq; return true;
      case Tok::kIdent:
        if (peek().text == "in") { op = BinaryOp::kIn; return true; }
        return false;
      default: return false;
    }
  }

  Result<ExprPtr> relation() {
    auto lhs = add_expr();
    if (!lhs) return lhs;
    SourceLoc loc = (*lhs)->loc;
    BinaryOp op;
    if (at(Tok::kAssign)) return error_at(peek().loc, "invalid operator `=`: did you mean `==`?");
    if (at_relop(op)) {
      next();
      auto rhs = add_expr();
      if (!rhs) return rhs;
      BinaryOp again;
      if (at_relop(again) || at(Tok::kAssign))
        return error_at(peek().loc, "multiple relational operators (>, ==, in, etc.) must be used "
                                    "with parentheses to make ordering explicit");
      Expr e;
      e.kind = Expr::Kind::kBinary;
      e.op = op;
      e.loc = loc;
      e.args = {std::move(*lhs), std::move(*rhs)};
      return make_expr(std::move(e));
    }
    if (at_ident("has")) {
      next();
      return has_expr(std::move(*lhs), loc);
    }
    if (at_ident("like")) {
      next();
      if (!at(Tok::kString)) return unexpected("a string pattern");
      const Token& s = next();
      auto pat = unescape_pattern(s.text, s.loc);
      if (!pat) return pat.error();
      Expr e;
      e.kind = Expr::Kind::kLike;
      e.loc = loc;
      e.pattern = std::move(*pat);
      e.args = {std::move(*lhs)};
      return make_expr(std::move(e));
    }
    if (at_ident("is")) {
      next();
      auto type = name_path();
      if (!type) return type.error();
      Expr e;
      e.kind = Expr::Kind::kIs;
      e.loc = loc;
      e.name = std::move(*type);
      e.args = {std::move(*lhs)};
      if (at_ident("in")) {
        next();
        auto target = add_expr();
        if (!target) return target;
        e.args.push_back(std::move(*target));
      }
      return make_expr(std::move(e));
    }
    return lhs;
  }

  // `e has a.b.c` is `e has a && e.a has b && e.a.b has c`.
  Result<ExprPtr> has_expr(ExprPtr target, SourceLoc loc) {
    std::vector<std::string> path;
    if (at(Tok::kString)) {
      const Token& s = next();
      auto v = unescape_string(s.text, s.loc);
      if (!v) return v.error();
      path.push_back(std::move(*v));
    } else if (at(Tok::kIdent)) {
      for (;;) {
        const Token& t = next();
        if (auto st = check_attribute_ident(t); !st) return st.error();
        path.emplace_back(t.text);
        if (!(at(Tok::kDot) && peek(1).kind == Tok::kIdent)) break;
        next();
      }
    } else {
      return unexpected("an attribute name");
    }
    ExprPtr result;
    ExprPtr object = std::move(target);
    for (size_t i = 0; i < path.size(); ++i) {
      Expr has;
      has.kind = Expr::Kind::kHasAttr;
      has.loc = loc;
      has.name = path[i];
      has.args = {object};
      ExprPtr has_ptr = make_expr(std::move(has));
      if (!result) {
        result = std::move(has_ptr);
      } else {
        Expr conj;
        conj.kind = Expr::Kind::kAnd;
        conj.loc = loc;
        conj.args = {std::move(result), std::move(has_ptr)};
        result = make_expr(std::move(conj));
      }
      if (result->height > kMaxExprHeight) return too_deep(loc);
      if (i + 1 < path.size()) {
        Expr get;
        get.kind = Expr::Kind::kGetAttr;
        get.loc = loc;
        get.name = path[i];
        get.args = {std::move(object)};
        object = make_expr(std::move(get));
      }
    }
    return result;
  }

  Result<ExprPtr> arith_chain(bool additive) {
    auto lhs = additive ? mult_expr() : unary_expr();
    if (!lhs) return lhs;
    ExprPtr acc = std::move(*lhs);
    for (;;) {
      BinaryOp op;
      Tok k = peek().kind;
      if (additive && k == Tok::kPlus) op = BinaryOp::kAdd;
      else if (additive && k == Tok::kMinus) op = BinaryOp::kSub;
      else if (!additive && k == Tok::kStar) op = BinaryOp::kMul;
      else if (!additive && (k == Tok::kSlash || k == Tok::kPercent))
        return error_at(peek().loc, k == Tok::kSlash ? "division is not supported"
                                                     : "remainder is not supported");
      else return acc;
      next();
      auto rhs = additive ? mult_expr() : unary_expr();
      if (!rhs) return rhs;
      Expr e;
      e.kind = Expr::Kind::kBinary;
      e.op = op;
      e.loc = acc->loc;
      e.args = {std::move(acc), std::move(*rhs)};
      acc = make_expr(std::move(e));
      if (acc->height > kMaxExprHeight) return too_deep(acc->loc);
    }
  }
  Result<ExprPtr> add_expr() { return arith_chain(true); }
  Result<ExprPtr> mult_expr() { return arith_chain(false); }

  static ExprPtr wrap_unary(Expr::Kind kind, ExprPtr operand, SourceLoc loc) {
    Expr e;
    e.kind = kind;
    e.loc = loc;
    e.args = {std::move(operand)};
    return make_expr(std::move(e));
  }

  Result<ExprPtr> unary_expr() {
    SourceLoc loc = peek().loc;
    Tok op = peek().kind;
    if (op != Tok::kNot && op != Tok::kMinus) return member_expr();
    int count = 0;
    while (at(op)) {
      next();
      ++count;
    }
    if (count > 4) return error_at(loc, std::string("too many occurrences of `") +
                                            (op == Tok::kNot ? "!" : "-") + "`");
    Expr::Kind kind = op == Tok::kNot ? Expr::Kind::kNot : Expr::Kind::kNeg;
    ExprPtr operand;
    // `-<integer literal>` is a negative literal, so that i64::MIN is writable.
    if (op == Tok::kMinus && at(Tok::kInt) && peek(1).kind != Tok::kDot &&
        peek(1).kind != Tok::kLBracket && peek(1).kind != Tok::kLParen) {
      const Token& t = next();
      uint64_t n = 0;
      auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), n);
      constexpr uint64_t kMinMagnitude = uint64_t{1} << 63;
      if (r.ec != std::errc() || n > kMinMagnitude)
        return error_at(t.loc, "integer literal `-" + std::string(t.text) + "` is too large");
      Expr lit;
      lit.loc = loc;
      lit.value = n == kMinMagnitude ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(n);
      operand = make_expr(std::move(lit));
      --count;
    } else {
      auto m = member_expr();
      if (!m) return m;
      operand = std::move(*m);
    }
    for (int i = 0; i < count; ++i) operand = wrap_unary(kind, std::move(operand), loc);
    return operand;
  }

  Result<std::vector<ExprPtr>> expr_list(Tok close) {
    std::vector<ExprPtr> out;
    while (!at(close)) {
      auto e = expr();
      if (!e) return e.error();
      out.push_back(std::move(*e));
      if (!accept(Tok::kComma)) break;
    }
    if (auto st = expect(close); !st) return st.error();
    return out;
  }

  Result<ExprPtr> member_expr() {
    DepthGuard guard(*this);
    if (depth_ > kMaxDepth) return error_at(peek().loc, "expression nesting is too deep");
    auto prim = primary();
    if (!prim) return prim;
    ExprPtr acc = std::move(*prim);
    for (;;) {
      if (at(Tok::kDot)) {
        next();
        if (!at(Tok::kIdent)) return unexpected("an attribute or method name");
        const Token& name = next();
        if (auto st = check_attribute_ident(name); !st) return st.error();
        if (at(Tok::kLParen)) {
          next();
          auto args = expr_list(Tok::kRParen);
          if (!args) return args.error();
          auto call = method_call(std::move(acc), name, std::move(*args));
          if (!call) return call;
          acc = std::move(*call);
        } else {
          Expr e;
          e.kind = Expr::Kind::kGetAttr;
          e.loc = name.loc;
          e.name = std::string(name.text);
          e.args = {std::move(acc)};
          acc = make_expr(std::move(e));
        }
      } else if (at(Tok::kLBracket)) {
        SourceLoc loc = next().loc;
        if (!at(Tok::kString) || peek(1).kind != Tok::kRBracket)
          return error_at(peek().loc, "invalid string literal: attribute index must be a string literal");
        const Token& s = next();
        next();
        auto key = unescape_string(s.text, s.loc);
        if (!key) return key.error();
        Expr e;
        e.kind = Expr::Kind::kGetAttr;
        e.loc = loc;
        e.name = std::move(*key);
        e.args = {std::move(acc)};
        acc = make_expr(std::move(e));
      } else if (at(Tok::kLParen)) {
        return error_at(peek().loc, "a call must name a function or a method");
      } else {
        return acc;
      }
      if (acc->height > kMaxExprHeight) return too_deep(acc->loc);
    }
  }

  Result<ExprPtr> method_call(ExprPtr receiver, const Token& name, std::vector<ExprPtr> args) {
    for (const auto& b : kBuiltinMethods) {
      if (b.name == name.text && args.size() != b.arity) {
        return error_at(name.loc, "call to `" + std::string(name.text) + "` requires exactly " +
                                      std::to_string(b.arity) + " argument" +
                                      (b.arity == 1 ? "" : "s") + ", but got " +
                                      std::to_string(args.size()) + " argument" +
                                      (args.size() == 1 ? "" : "s"));
      }
    }
    bool builtin = false;
    for (const auto& b : kBuiltinMethods) builtin |= b.name == name.text;
    if (!builtin && !is_extension_method(name.text))
      return error_at(name.loc, "`" + std::string(name.text) + "` is not a valid method");
    Expr e;
    e.kind = Expr::Kind::kMethod;
    e.loc = name.loc;
    e.name = std::string(name.text);
    e.args.reserve(args.size() + 1);
    e.args.push_back(std::move(receiver));
    for (auto& a : args) e.args.push_back(std::move(a));
    return make_expr(std::move(e));
  }

  Result<ExprPtr> primary() {
    const Token& t = peek();
    Expr e;
    e.loc = t.loc;
    switch (t.kind) {
      case Tok::kInt: {
        next();
        int64_t v = 0;
        auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
        if (r.ec != std::errc())
          return error_at(t.loc, "integer literal `" + std::string(t.text) +
                                     "` is too large: the maximum is 9223372036854775807");
        e.value = v;
        return make_expr(std::move(e));
      }
      case Tok::kString: {
        next();
        auto s = unescape_string(t.text, t.loc);
        if (!s) return s.error();
        e.value = std::move(*s);
        return make_expr(std::move(e));
      }
      case Tok::kSlot:
        return error_at(t.loc, "found template slot ?" + std::string(t.text) +
                                   " in a condition: slots are only allowed in the policy scope");
      case Tok::kLParen: {
        next();
        auto inner = expr();
        if (!inner) return inner;
        if (auto st = expect(Tok::kRParen); !st) return st.error();
        return inner;
      }
      case Tok::kLBracket: {
        next();
        auto elems = expr_list(Tok::kRBracket);
        if (!elems) return elems.error();
        e.kind = Expr::Kind::kSet;
        e.args = std::move(*elems);
        return make_expr(std::move(e));
      }
      case Tok::kLBrace:
        return record_literal();
      case Tok::kIdent:
        return name_primary();
      default:
        return unexpected("an expression");
    }
  }

  Result<ExprPtr> record_literal() {
    Expr e;
    e.kind = Expr::Kind::kRecord;
    e.loc = next().loc;
    std::set<std::string, std::less<>> seen;
    while (!at(Tok::kRBrace)) {
      const Token& k = peek();
      std::string key;
      if (k.kind == Tok::kString) {
        next();
        auto s = unescape_string(k.text, k.loc);
        if (!s) return s.error();
        key = std::move(*s);
      } else if (k.kind == Tok::kIdent) {
        next();
        if (auto st = check_attribute_ident(k); !st) return st.error();
        key = std::string(k.text);
      } else {
        return unexpected("a record key");
      }
      if (auto st = expect(Tok::kColon); !st) return st.error();
      auto v = expr();
      if (!v) return v;
      if (!seen.insert(key).second)
        return error_at(k.loc, "duplicate key `" + key + "` in record literal");
      e.keys.push_back(std::move(key));
      e.args.push_back(std::move(*v));
      if (!accept(Tok::kComma)) break;
    }
    if (auto st = expect(Tok::kRBrace); !st) return st.error();
    return make_expr(std::move(e));
  }

  // A primary that starts with an identifier: literal, variable, entity
  // literal or extension function call.
  Result<ExprPtr> name_primary() {
    const Token& t = peek();
    Expr e;
    e.loc = t.loc;
    if (t.text == "true" || t.text == "false") {
      next();
      e.value = t.text == "true";
      return make_expr(std::move(e));
    }
    if (peek(1).kind == Tok::kColonColon) {
      // Entity literal or namespaced function name.
      size_t save = pos_;
      auto type = name_path();
      if (!type) return type.error();
      if (at(Tok::kColonColon) && peek(1).kind == Tok::kString) {
        pos_ = save;
        auto uid = entity_literal();
        if (!uid) return uid.error();
        e.value = std::move(*uid);
        return make_expr(std::move(e));
      }
      if (at(Tok::kColonColon) && peek(1).kind == Tok::kLBrace)
        return error_at(t.loc, "invalid entity literal: entity literals have the form `Namespace::Type::\"id\"`");
      if (at(Tok::kLParen)) return error_at(t.loc, "`" + *type + "` is not a valid function");
      return error_at(t.loc, "invalid name `" + *type + "`: expected an entity literal");
    }
    next();
    if (at(Tok::kLParen)) {
      next();
      auto args = expr_list(Tok::kRParen);
      if (!args) return args.error();
      if (!is_extension_function(t.text))
        return error_at(t.loc, "`" + std::string(t.text) + "` is not a valid function");
      e.kind = Expr::Kind::kCall;
      e.name = std::string(t.text);
      e.args = std::move(*args);
      return make_expr(std::move(e));
    }
    e.kind = Expr::Kind::kVar;
    if (t.text == "principal") e.var = Var::kPrincipal;
    else if (t.text == "action") e.var = Var::kAction;
    else if (t.text == "resource") e.var = Var::kResource;
    else if (t.text == "context") e.var = Var::kContext;
    else if (is_reserved(t.text))
      return error_at(t.loc, "unexpected `" + std::string(t.text) + "`");
    else
      return error_at(t.loc, "invalid variable: " + std::string(t.text) +
                                 " (the variables are principal, action, resource and context)");
    return make_expr(std::move(e));
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<PolicySet> parse_policies(std::string_view text, std::string_view id_prefix) {
  if (text.size() > kMaxPolicyTextBytes)
    return make_error("input_too_large", "policy text is larger than " +
                                             std::to_string(kMaxPolicyTextBytes >> 20) + " MiB");
  auto toks = tokenize(text);
  if (!toks) return toks.error();
  return Parser(std::move(*toks)).policies(id_prefix);
}

Result<ExprPtr> parse_expression(std::string_view text) {
  if (text.size() > kMaxPolicyTextBytes)
    return make_error("input_too_large", "expression text is too large");
  auto toks = tokenize(text);
  if (!toks) return toks.error();
  return Parser(std::move(*toks)).single_expression();
}

}  // namespace ztgate::cedar
