// The policy parser: what Cedar text is accepted, what it means, and how it
// is refused. Every accept/reject decision below was confirmed against the
// official implementation (cedar-wasm 4.13, checkParsePolicySet).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "cedar/policy_set.h"

namespace ztgate::cedar {
namespace {

std::string in_policy(std::string_view condition) {
  return "permit(principal, action, resource) when { " + std::string(condition) + " };";
}

::testing::AssertionResult Parses(std::string_view text) {
  auto r = parse_policies(text);
  if (r) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << text << "\n  refused: " << r.error().to_string();
}

// Refused with a parse_error whose message contains `fragment`.
::testing::AssertionResult Refused(std::string_view text, std::string_view fragment = "") {
  auto r = parse_policies(text);
  if (r) return ::testing::AssertionFailure() << text << "\n  was accepted";
  if (r.error().code != "parse_error")
    return ::testing::AssertionFailure() << text << "\n  failed with code " << r.error().code;
  if (r.error().message.find(fragment) == std::string::npos)
    return ::testing::AssertionFailure()
           << text << "\n  message `" << r.error().message << "` lacks `" << fragment << "`";
  if (r.error().loc.line < 1 || r.error().loc.column < 1)
    return ::testing::AssertionFailure() << text << "\n  error has no source location";
  return ::testing::AssertionSuccess();
}

ExprPtr expr_of(std::string_view text) {
  auto r = parse_expression(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r ? "" : r.error().to_string());
  return r ? *r : nullptr;
}

std::string repeat(std::string_view s, int n) {
  std::string out;
  out.reserve(s.size() * n);
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// ------------------------------------------------------------- policies

TEST(ParsePolicy, ScopeAndEffectAreRecorded) {
  auto set = parse_policies(
      R"(forbid(principal == User::"a", action in [Action::"r", NS::Action::"w"],
                resource is Doc in Folder::"f");)");
  ASSERT_TRUE(set.ok()) << set.error().to_string();
  ASSERT_EQ(set->policies().size(), 1u);
  const Policy& p = *set->policies()[0];
  EXPECT_EQ(p.effect, Effect::kForbid);
  EXPECT_EQ(p.principal.kind, EntityScope::Kind::kEq);
  EXPECT_EQ(p.principal.entity, (EntityUID{"User", "a"}));
  EXPECT_EQ(p.action.kind, ActionScope::Kind::kInSet);
  EXPECT_EQ(p.action.entities,
            (std::vector<EntityUID>{{"Action", "r"}, {"NS::Action", "w"}}));
  EXPECT_EQ(p.resource.kind, EntityScope::Kind::kIsIn);
  EXPECT_EQ(p.resource.type, "Doc");
  EXPECT_EQ(p.resource.entity, (EntityUID{"Folder", "f"}));
  EXPECT_FALSE(p.is_template);
}

TEST(ParsePolicy, PoliciesAreNumberedInSourceOrderWithThePrefix) {
  auto set = parse_policies(R"(
    permit(principal, action, resource);
    permit(principal == ?principal, action, resource);
    forbid(principal, action, resource);
  )", "rule");
  ASSERT_TRUE(set.ok()) << set.error().to_string();
  // Templates share the numbering with static policies.
  ASSERT_EQ(set->policies().size(), 2u);
  EXPECT_EQ(set->policies()[0]->id, "rule0");
  EXPECT_EQ(set->policies()[1]->id, "rule2");
  ASSERT_EQ(set->templates().size(), 1u);
  EXPECT_EQ(set->templates()[0]->id, "rule1");
  EXPECT_NE(set->find_policy("rule2"), nullptr);
  EXPECT_EQ(set->find_policy("rule1"), nullptr);
  EXPECT_NE(set->find_template("rule1"), nullptr);
}

TEST(ParsePolicy, EmptyTextAndCommentsOnlyAreAnEmptySet) {
  auto empty = parse_policies("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->policies().empty());
  auto comments = parse_policies("// nothing here\n  // still nothing");
  ASSERT_TRUE(comments.ok());
  EXPECT_TRUE(comments->policies().empty());
}

TEST(ParsePolicy, LineCommentsAreWhitespaceButBlockCommentsAreNot) {
  EXPECT_TRUE(Parses("permit(principal, // who\n action, resource) // trailing\n;"));
  EXPECT_TRUE(Refused(in_policy("/* no */ true")));
}

TEST(ParsePolicy, PolicyLocationIsItsFirstToken) {
  auto set = parse_policies("\n\n   permit(principal, action, resource);");
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->policies()[0]->loc.line, 3);
  EXPECT_EQ(set->policies()[0]->loc.column, 4);
}

TEST(ParsePolicy, ConditionsKeepTheirOrderAndKind) {
  auto set = parse_policies(
      "permit(principal, action, resource) when { true } unless { false } when { 1 == 1 };");
  ASSERT_TRUE(set.ok());
  const auto& c = set->policies()[0]->conditions;
  ASSERT_EQ(c.size(), 3u);
  EXPECT_TRUE(c[0].is_when);
  EXPECT_FALSE(c[1].is_when);
  EXPECT_TRUE(c[2].is_when);
}

TEST(ParsePolicy, MalformedPolicyStructureIsRefused) {
  EXPECT_TRUE(Refused("allow(principal, action, resource);", "permit"));
  EXPECT_TRUE(Refused("permit(resource, action, principal);", "principal"));
  EXPECT_TRUE(Refused("permit(principal, action, resource) where { true };", "when"));
  EXPECT_TRUE(Refused("permit(principal, action, resource)"));             // no `;`
  EXPECT_TRUE(Refused("permit(principal, action, resource);;"));
  EXPECT_TRUE(Refused("permit(principal, action, resource) when { true }"));
  EXPECT_TRUE(Refused("permit(principal, action, resource) when { };", "empty"));
  EXPECT_TRUE(Refused("permit(principal, action, resource) unless { };", "empty"));
}

TEST(ParsePolicy, TrailingCommasAreAllowed) {
  EXPECT_TRUE(Parses("permit(principal, action, resource,);"));
  EXPECT_TRUE(Parses("permit(principal, action in [Action::\"a\",], resource);"));
  EXPECT_TRUE(Parses(in_policy("[1, 2,] == [1, 2]")));
  EXPECT_TRUE(Parses(in_policy("{a: 1,} == {a: 1}")));
}

// ------------------------------------------------------------- scopes

TEST(ParseScope, ActionScopeRequiresActionEntities) {
  EXPECT_TRUE(Refused("permit(principal, action == User::\"a\", resource);", "Action"));
  EXPECT_TRUE(Refused("permit(principal, action in [Action::\"a\", User::\"b\"], resource);"));
  EXPECT_TRUE(Parses("permit(principal, action == NS::Action::\"a\", resource);"));
  EXPECT_TRUE(Parses("permit(principal, action in [], resource);"));
}

TEST(ParseScope, OnlyActionScopeTakesASet) {
  EXPECT_TRUE(Refused("permit(principal in [User::\"a\"], action, resource);"));
  EXPECT_TRUE(Refused("permit(principal, action, resource in [Doc::\"a\"]);"));
}

TEST(ParseScope, IsIsNotAllowedInTheActionScope) {
  EXPECT_TRUE(Refused("permit(principal, action is Action, resource);"));
}

TEST(ParseScope, ScopeNeedsEntityLiteralsNotTypesOrExpressions) {
  EXPECT_TRUE(Refused("permit(principal == User, action, resource);"));
  EXPECT_TRUE(Refused("permit(principal is User::\"a\", action, resource);"));
  EXPECT_TRUE(Refused("permit(principal is User == User::\"a\", action, resource);"));
}

TEST(ParseScope, SlotsMustMatchTheirScopeVariable) {
  EXPECT_TRUE(Refused("permit(principal == ?resource, action, resource);"));
  EXPECT_TRUE(Refused("permit(principal, action, resource == ?principal);"));
  EXPECT_TRUE(Refused("permit(principal == ?foo, action, resource);"));
  EXPECT_TRUE(Refused("permit(principal, action == ?action, resource);"));
}

TEST(ParseScope, SlotsAreRefusedInConditions) {
  EXPECT_TRUE(Refused(in_policy("?principal == principal"), "slot"));
}

// ------------------------------------------------------------- annotations

TEST(ParseAnnotation, AnnotationsKeepSourceOrderAndValues) {
  auto set = parse_policies(R"(@id("p1") @flag @advice("say \"hi\"") permit(principal, action, resource);)");
  ASSERT_TRUE(set.ok()) << set.error().to_string();
  const Policy& p = *set->policies()[0];
  ASSERT_EQ(p.annotations.size(), 3u);
  EXPECT_EQ(p.annotations[0].key, "id");
  EXPECT_EQ(p.annotations[1].key, "flag");
  EXPECT_FALSE(p.annotations[1].value.has_value());
  EXPECT_EQ(p.annotation("id"), "p1");
  EXPECT_EQ(p.annotation("flag"), "");  // `@key` alone yields ""
  EXPECT_EQ(p.annotation("advice"), "say \"hi\"");
  EXPECT_EQ(p.annotation("missing"), std::nullopt);
}

TEST(ParseAnnotation, DuplicateAnnotationRejected) {
  EXPECT_TRUE(Refused("@id(\"a\") @id(\"b\") permit(principal, action, resource);", "duplicate"));
  EXPECT_TRUE(Refused("@flag @flag permit(principal, action, resource);", "duplicate"));
  // Keys are case-sensitive.
  EXPECT_TRUE(Parses("@id(\"a\") @ID(\"b\") permit(principal, action, resource);"));
}

TEST(ParseAnnotation, KeyIsAnyIdentifierAndValueAStringLiteral) {
  EXPECT_TRUE(Parses("@if(\"x\") permit(principal, action, resource);"));
  EXPECT_TRUE(Parses("@__cedar(\"x\") permit(principal, action, resource);"));
  EXPECT_TRUE(Refused("@a::b(\"x\") permit(principal, action, resource);"));
  EXPECT_TRUE(Refused("@a(\"x\" + \"y\") permit(principal, action, resource);"));
  EXPECT_TRUE(Refused("@a('x') permit(principal, action, resource);"));
}

// ------------------------------------------------------------- literals

TEST(ParseLiteral, NegativeLiteralMinInt64Parses) {
  ExprPtr e = expr_of("-9223372036854775808");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->kind, Expr::Kind::kLiteral);
  EXPECT_EQ(e->value.as_long(), std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(Parses(in_policy("- 9223372036854775808 < 0")));  // whitespace is allowed
}

TEST(ParseLiteral, IntegerLiteralsOutsideInt64AreRefused) {
  EXPECT_TRUE(Parses(in_policy("9223372036854775807 > 0")));
  EXPECT_TRUE(Refused(in_policy("9223372036854775808 > 0"), "too large"));
  EXPECT_TRUE(Refused(in_policy("-9223372036854775809 < 0"), "too large"));
  // Only a `-` written directly before the literal folds into it.
  EXPECT_TRUE(Refused(in_policy("-(9223372036854775808) < 0")));
  EXPECT_TRUE(Refused(in_policy("1 - 9223372036854775808 < 0")));
}

TEST(ParseLiteral, MinusFoldsIntoTheLiteralOnlyWhenAppliedDirectly) {
  ExprPtr neg_paren = expr_of("-(1)");
  ASSERT_TRUE(neg_paren);
  EXPECT_EQ(neg_paren->kind, Expr::Kind::kNeg);
  ExprPtr double_neg = expr_of("--1");
  ASSERT_TRUE(double_neg);
  ASSERT_EQ(double_neg->kind, Expr::Kind::kNeg);
  EXPECT_EQ(double_neg->args[0]->kind, Expr::Kind::kLiteral);
  EXPECT_EQ(double_neg->args[0]->value.as_long(), -1);
  // `-1.foo` is `-(1.foo)`: member access binds tighter than the sign.
  ExprPtr member = expr_of("-1.foo");
  ASSERT_TRUE(member);
  ASSERT_EQ(member->kind, Expr::Kind::kNeg);
  EXPECT_EQ(member->args[0]->kind, Expr::Kind::kGetAttr);
  EXPECT_TRUE(Refused(in_policy("-9223372036854775808.foo")));
}

TEST(ParseLiteral, AtMostFourUnaryOperatorsMayBeChained) {
  EXPECT_TRUE(Parses(in_policy("!!!!true")));
  EXPECT_TRUE(Refused(in_policy("!!!!!true"), "too many"));
  EXPECT_TRUE(Parses(in_policy("----1 == 1")));
  EXPECT_TRUE(Refused(in_policy("-----1 == 1"), "too many"));
  EXPECT_TRUE(Refused(in_policy("- - - - -1 == 1"), "too many"));
  // Mixing the two operators is not a chain of one of them.
  EXPECT_TRUE(Refused(in_policy("!-1")));
  EXPECT_TRUE(Refused(in_policy("-!true")));
}

TEST(ParseLiteral, FloatsAndSingleQuotesAreNotCedar) {
  EXPECT_TRUE(Refused(in_policy("1.5 == 1")));
  EXPECT_TRUE(Refused(in_policy("'a' == \"a\"")));
  EXPECT_TRUE(Refused(in_policy("1a == 1")));
  EXPECT_TRUE(Parses(in_policy("007 == 7")));  // leading zeros are fine
}

TEST(ParseLiteral, InvalidEscapesAreRefused) {
  EXPECT_TRUE(Refused(in_policy(R"("\q" == "")"), "escape"));
  EXPECT_TRUE(Refused(in_policy(R"("\x80" == "")")));  // \x is ASCII only
  EXPECT_TRUE(Refused(in_policy(R"("\u{D800}" == "")")));  // a surrogate
  EXPECT_TRUE(Refused(in_policy(R"("\u{110000}" == "")")));
  EXPECT_TRUE(Refused(in_policy(R"("\u{}" == "")")));
  EXPECT_TRUE(Refused(in_policy(R"("\u{1234567}" == "")")));
  EXPECT_TRUE(Parses(in_policy(R"("\x7f\u{10FFFF}\0\n\r\t\\\"\'" != "")")));
}

TEST(ParseLiteral, StringsMayContainRawNewlines) {
  ExprPtr e = expr_of("\"a\nb\"");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->value.as_string(), "a\nb");
}

TEST(ParseLiteral, EntityLiteralsAreNameColonColonString) {
  ExprPtr e = expr_of(R"(A::B::C::"x\"y")");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->kind, Expr::Kind::kLiteral);
  EXPECT_EQ(e->value.as_entity(), (EntityUID{"A::B::C", "x\"y"}));
  EXPECT_TRUE(Parses(in_policy(R"(User :: "a" == principal)")));
  EXPECT_TRUE(Refused(in_policy(R"(User::"a"::"b")")));
  EXPECT_TRUE(Refused(in_policy("User::principal")));
}

TEST(ParseLiteral, DuplicateRecordKeysAreRefused) {
  EXPECT_TRUE(Refused(in_policy("{a: 1, a: 2} == {}"), "duplicate"));
  EXPECT_TRUE(Refused(in_policy("{\"a\": 1, a: 2} == {}"), "duplicate"));
}

// ------------------------------------------------------------- operators

TEST(ParseOperator, MultipleRelationalOperatorsNeedParens) {
  for (std::string_view bad : {
           "1 < 2 < 3",
           "1 < 2 == true",
           "principal in User::\"a\" in User::\"b\"",
           "principal in User::\"a\" == true",
           "principal is User == true",
           "principal is User in Group::\"a\" in Group::\"b\"",
           "context has a == true",
           "context.a like \"x\" == true",
           "principal has a is User",
           "principal is User has a",
           "principal like \"a\" like \"b\"",
       }) {
    EXPECT_TRUE(Refused(in_policy(bad))) << bad;
  }
  EXPECT_TRUE(Refused(in_policy("1 < 2 < 3"), "parentheses"));
  for (std::string_view good : {
           "(1 < 2) == true",
           "(principal in User::\"a\") == true",
           "(context has a) == true",
           "(principal is User) == true",
           "1 + 2 has foo",
       }) {
    EXPECT_TRUE(Parses(in_policy(good))) << good;
  }
}

TEST(ParseOperator, PrecedenceIsOrAndRelationAdditionMultiplicationUnaryMember) {
  // a || b && c  ==  a || (b && c)
  ExprPtr e = expr_of("context.a || context.b && context.c");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, Expr::Kind::kOr);
  EXPECT_EQ(e->args[1]->kind, Expr::Kind::kAnd);
  // 1 + 2 * 3 == 7  ==  (1 + (2 * 3)) == 7
  e = expr_of("1 + 2 * 3 == 7");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->kind, Expr::Kind::kBinary);
  EXPECT_EQ(e->op, BinaryOp::kEq);
  ASSERT_EQ(e->args[0]->op, BinaryOp::kAdd);
  EXPECT_EQ(e->args[0]->args[1]->op, BinaryOp::kMul);
  // 1 - 2 - 3  ==  (1 - 2) - 3
  e = expr_of("1 - 2 - 3");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->args[0]->kind, Expr::Kind::kBinary);
  EXPECT_EQ(e->args[1]->kind, Expr::Kind::kLiteral);
  // !a.b  ==  !(a.b)
  e = expr_of("!context.a");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, Expr::Kind::kNot);
  EXPECT_EQ(e->args[0]->kind, Expr::Kind::kGetAttr);
}

TEST(ParseOperator, IfIsNotAnOperandOfBinaryOrUnaryOperators) {
  EXPECT_TRUE(Refused(in_policy("1 + if true then 1 else 2")));
  EXPECT_TRUE(Refused(in_policy("context.a || if true then true else false")));
  EXPECT_TRUE(Refused(in_policy("!if true then true else false")));
  EXPECT_TRUE(Parses(in_policy("[if true then 1 else 2] == [1]")));
  // The else branch extends as far as possible.
  ExprPtr e = expr_of("if true then 1 else 2 + 1 == 3");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->kind, Expr::Kind::kIf);
  EXPECT_EQ(e->args[2]->kind, Expr::Kind::kBinary);
}

TEST(ParseOperator, DivisionRemainderAndSingleEqualsAreRefused) {
  EXPECT_TRUE(Refused(in_policy("1 / 2 == 0"), "division"));
  EXPECT_TRUE(Refused(in_policy("1 % 2 == 1"), "remainder"));
  EXPECT_TRUE(Refused(in_policy("1 = 1"), "=="));
  EXPECT_TRUE(Refused(in_policy("true & false")));
  EXPECT_TRUE(Refused(in_policy("true | false")));
}

TEST(ParseOperator, LikeTakesAStringLiteralPattern) {
  EXPECT_TRUE(Refused(in_policy("context.a like context.b")));
  EXPECT_TRUE(Refused(in_policy(R"(context.a like "\q")")));
}

TEST(ParseOperator, LikePatternSeparatesWildcardsFromEscapedStars) {
  ExprPtr e = expr_of(R"(context.s like "a\*b*c")");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->kind, Expr::Kind::kLike);
  ASSERT_EQ(e->pattern.size(), 3u);
  EXPECT_FALSE(e->pattern[0].wildcard);
  EXPECT_EQ(e->pattern[0].literal, "a*b");
  EXPECT_TRUE(e->pattern[1].wildcard);
  EXPECT_EQ(e->pattern[2].literal, "c");
}

TEST(ParseOperator, HasAndIndexTakeLiteralAttributeNames) {
  EXPECT_TRUE(Parses(in_policy("context has \"a b\"")));
  EXPECT_TRUE(Parses(in_policy("context[\"a b\"] == 1")));
  EXPECT_TRUE(Refused(in_policy("context has a.\"b\"")));
  EXPECT_TRUE(Refused(in_policy("context[a] == 1")));
  EXPECT_TRUE(Refused(in_policy("context[\"a\" + \"b\"] == 1")));
}

TEST(ParseOperator, OnlyKnownFunctionsAndMethodsCanBeCalled) {
  EXPECT_TRUE(Refused(in_policy("foo(1)"), "not a valid function"));
  EXPECT_TRUE(Refused(in_policy("context.a()"), "not a valid method"));
  EXPECT_TRUE(Refused(in_policy("lessThan(decimal(\"1.0\"), decimal(\"2.0\"))")));
  EXPECT_TRUE(Refused(in_policy("decimal::lessThan(decimal(\"1.0\"), decimal(\"2.0\"))")));
  EXPECT_TRUE(Refused(in_policy("(context.f)(1)")));
  EXPECT_TRUE(Parses(in_policy("decimal(\"1.0\").lessThan(decimal(\"2.0\"))")));
  EXPECT_TRUE(Parses(in_policy("context.a.isIpv4()")));
}

TEST(ParseOperator, BuiltinMethodsHaveFixedArity) {
  EXPECT_TRUE(Refused(in_policy("context.s.contains()"), "exactly 1 argument"));
  EXPECT_TRUE(Refused(in_policy("context.s.contains(1, 2)"), "exactly 1 argument"));
  EXPECT_TRUE(Refused(in_policy("context.s.isEmpty(1)"), "exactly 0 arguments"));
  EXPECT_TRUE(Refused(in_policy("principal.getTag()")));
}

// ------------------------------------------------------------- identifiers

TEST(ParseIdentifier, ReservedIdentifierRejected) {
  for (std::string_view bad : {
           "context.if", "context.then.else", "context.true", "principal.in",
           "principal.has", "principal.is", "context has if", "context has like",
           "context has a.if", "{if: 1} == {}", "{true: 1} == {}", "{is: 1} == {}", "if",
       }) {
    EXPECT_TRUE(Refused(in_policy(bad))) << bad;
  }
  EXPECT_TRUE(Refused("permit(principal is if, action, resource);"));
  EXPECT_TRUE(Refused("permit(principal == if::\"a\", action, resource);"));
}

TEST(ParseIdentifier, ReservedWordsAreFineWhenQuoted) {
  EXPECT_TRUE(Parses(in_policy("context[\"if\"] == 1")));
  EXPECT_TRUE(Parses(in_policy("context has \"if\"")));
  EXPECT_TRUE(Parses(in_policy("{\"true\": 1} == {}")));
}

TEST(ParseIdentifier, PolicyKeywordsAndVariableNamesAreNotReserved) {
  EXPECT_TRUE(Parses(in_policy("context.permit")));
  EXPECT_TRUE(Parses(in_policy("context.principal")));
  EXPECT_TRUE(Parses(in_policy("{permit: 1, when: 2} == {}")));
  EXPECT_TRUE(Parses(in_policy("principal is Action")));
}

TEST(ParseIdentifier, DunderCedarIsReservedAsAName) {
  EXPECT_TRUE(Refused("permit(principal == __cedar::\"a\", action, resource);", "__cedar"));
  EXPECT_TRUE(Refused("permit(principal == A::__cedar::\"a\", action, resource);", "__cedar"));
  EXPECT_TRUE(Refused(in_policy("principal is __cedar::X")));
  EXPECT_TRUE(Refused(in_policy("principal is A::__cedar")));
  // As a bare attribute name, too (Cedar's answer; the quoted forms are fine).
  EXPECT_TRUE(Refused(in_policy("principal.__cedar"), "__cedar"));
  EXPECT_TRUE(Refused(in_policy("context has __cedar"), "__cedar"));
  EXPECT_TRUE(Refused(in_policy("context has a.__cedar"), "__cedar"));
  EXPECT_TRUE(Refused(in_policy("{__cedar: 1} == {}"), "__cedar"));
  EXPECT_TRUE(Parses(in_policy("principal[\"__cedar\"] == 1")));
  EXPECT_TRUE(Parses(in_policy("context has \"__cedar\"")));
  EXPECT_TRUE(Parses(in_policy("{\"__cedar\": 1} == {}")));
  // Only the exact name is reserved.
  EXPECT_TRUE(Parses("permit(principal == __cedar_x::\"a\", action, resource);"));
  EXPECT_TRUE(Parses(in_policy("context.__cedarx")));
}

TEST(ParseIdentifier, IdentifiersAreAscii) {
  EXPECT_TRUE(Refused(in_policy("context.\xC3\xA9")));
}

TEST(ParseIdentifier, UnknownVariablesAreRefused) {
  EXPECT_TRUE(Refused(in_policy("x"), "invalid variable"));
  EXPECT_TRUE(Refused(in_policy("user == principal"), "invalid variable"));
}

// ------------------------------------------------------------- errors

TEST(ParseError, ParseErrorReportsLineAndColumn) {
  auto r = parse_policies("permit(principal, action, resource)\nwhen {\n  context.a +\n};");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().loc.line, 4);
  EXPECT_EQ(r.error().loc.column, 1);
  EXPECT_EQ(r.error().to_string().rfind("4:1: ", 0), 0u) << r.error().to_string();
}

TEST(ParseError, LocationPointsAtTheOffendingToken) {
  auto rel = parse_policies("permit(principal, action, resource) when { 1 < 2 < 3 };");
  ASSERT_FALSE(rel.ok());
  EXPECT_EQ(rel.error().loc.line, 1);
  EXPECT_EQ(rel.error().loc.column, 50);  // the second `<`
  auto dup = parse_policies("@id(\"a\")\n@id(\"b\")\npermit(principal, action, resource);");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().loc.line, 2);
  EXPECT_EQ(dup.error().loc.column, 1);
  auto reserved = parse_policies("permit(principal, action, resource) when { context.if };");
  ASSERT_FALSE(reserved.ok());
  EXPECT_EQ(reserved.error().loc.column, 52);
}

TEST(ParseError, ColumnsCountCharactersNotBytes) {
  // `é` is two bytes but one column.
  auto r = parse_policies("permit(principal, action, resource) when { \"\xC3\xA9\" # };");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().loc.column, 48);
}

TEST(ParseError, LexicalErrorsCarryTheirLocation) {
  auto unterminated = parse_policies("permit(principal, action, resource);\n  forbid(principal, action, resource) when { \"abc };");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_EQ(unterminated.error().loc.line, 2);
  EXPECT_EQ(unterminated.error().loc.column, 46);
  EXPECT_NE(unterminated.error().message.find("unterminated"), std::string::npos);
  EXPECT_TRUE(Refused(in_policy("1 # 2"), "unexpected character"));
}

// ------------------------------------------------------------- limits

TEST(ParseLimits, DeepNestingIsAnErrorNotACrash) {
  struct Case {
    const char* name;
    std::string text;
  };
  const int n = 100000;
  const Case cases[] = {
      {"parentheses", repeat("(", n) + "1" + repeat(")", n)},
      {"negated parentheses", repeat("-(", n) + "1" + repeat(")", n)},
      {"not", repeat("!", n) + "true"},
      {"sets", repeat("[", n) + repeat("]", n)},
      {"records", repeat("{a:", n) + "1" + repeat("}", n)},
      {"if", repeat("if true then ", n) + "1" + repeat(" else 1", n)},
      {"or chain", "true" + repeat(" || true", n)},
      {"addition chain", "1" + repeat(" + 1", n)},
      {"member chain", "context" + repeat(".a", n)},
      {"index chain", "context" + repeat("[\"a\"]", n)},
      {"method chain", "[]" + repeat(".isEmpty()", n)},
      {"has path", "context has a" + repeat(".a", n)},
  };
  for (const auto& c : cases) {
    auto r = parse_expression(c.text);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().code, "parse_error") << c.name;
    auto p = parse_policies(in_policy(c.text));
    ASSERT_FALSE(p.ok()) << c.name;
    EXPECT_EQ(p.error().code, "parse_error") << c.name;
  }
}

TEST(ParseLimits, MillionTermChainsAreRefusedWithoutExhaustingTheStack) {
  // Chains are built in a loop; a tree a million levels tall would overflow
  // the stack when destroyed, so the bound must stop the chain as it grows.
  for (const std::string& text : {"context" + repeat(".a", 1000000),
                                  "true" + repeat(" || true", 1000000),
                                  "1" + repeat(" * 1", 1000000)}) {
    auto r = parse_expression(text);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("too deeply nested"), std::string::npos) << r.error().message;
  }
}

TEST(ParseLimits, AFiveThousandTermOrChainExceedsTheHeightBound) {
  // Cedar itself accepts this; we bound every expression's height (see
  // kMaxExprHeight) so that no pass over the AST can exhaust the stack.
  auto r = parse_expression("true" + repeat(" || true", 4999));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("too deeply nested"), std::string::npos) << r.error().message;
}

TEST(ParseLimits, ExpressionsUpToTheHeightBoundParse) {
  ExprPtr e = expr_of("true" + repeat(" || true", kMaxExprHeight - 1));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->height, kMaxExprHeight);
  EXPECT_FALSE(parse_expression("true" + repeat(" || true", kMaxExprHeight)).ok());
  EXPECT_TRUE(expr_of(repeat("(", 50) + "1" + repeat(")", 50)));
}

}  // namespace
}  // namespace ztgate::cedar
