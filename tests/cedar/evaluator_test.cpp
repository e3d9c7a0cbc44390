// The expression evaluator. Every expected value and error below was
// confirmed against the official implementation (cedar-wasm 4.13): where the
// reference and we disagree, the test is the reference's answer.
#include <gtest/gtest.h>

#include "test_support.h"

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cedar/eval.h"
#include "cedar/policy_set.h"

namespace ztgate::cedar {
namespace {

// alice is in eng, eng is in all; alice's manager bob is not in the store.
constexpr std::string_view kEntities = R"([
  {"uid": {"type": "User", "id": "alice"},
   "attrs": {"name": "Alice", "age": 30,
             "manager": {"__entity": {"type": "User", "id": "bob"}}},
   "parents": [{"type": "Group", "id": "eng"}],
   "tags": {"level": 3}},
  {"uid": {"type": "Group", "id": "eng"}, "attrs": {}, "parents": [{"type": "Group", "id": "all"}]},
  {"uid": {"type": "Group", "id": "all"}, "attrs": {}, "parents": []}
])";

const Entities& store() {
  static const Entities entities = testing::entities_or_fail(kEntities);
  return entities;
}

Result<Value> evaluate(std::string_view text, std::string_view context_json = "{}") {
  auto expr = parse_expression(text);
  if (!expr) return make_error("test_setup", "does not parse: " + expr.error().to_string());
  Request request{{"User", "alice"}, {"Action", "view"}, {"Doc", "d"}, nullptr};
  auto context = parse_context_json(context_json, nullptr, request.action);
  if (!context) return make_error("test_setup", "bad context: " + context.error().to_string());
  request.context = *context;
  return Evaluator(request, store()).eval(**expr);
}

// `text` evaluates without error to a value equal (Cedar `==`) to `want`.
::testing::AssertionResult Evaluates(std::string_view text, const Value& want,
                                     std::string_view context_json = "{}") {
  auto got = evaluate(text, context_json);
  if (!got) return ::testing::AssertionFailure() << text << " failed: " << got.error().to_string();
  if (!(*got == want))
    return ::testing::AssertionFailure()
           << text << " gave " << to_cedar_string(*got) << ", want " << to_cedar_string(want);
  return ::testing::AssertionSuccess();
}

// `text` parses but its evaluation fails with error code `code`.
::testing::AssertionResult FailsWith(std::string_view text, std::string_view code,
                                     std::string_view context_json = "{}") {
  auto got = evaluate(text, context_json);
  if (got) return ::testing::AssertionFailure() << text << " gave " << to_cedar_string(*got);
  if (got.error().code != code)
    return ::testing::AssertionFailure()
           << text << " failed with " << got.error().code << " (" << got.error().message
           << "), want " << code;
  return ::testing::AssertionSuccess();
}

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// ------------------------------------------------------------- booleans

TEST(EvalBoolean, AndShortCircuitsBeforeTypeErrorOnRight) {
  EXPECT_TRUE(Evaluates("false && 1", false));
  EXPECT_TRUE(Evaluates("false && (1 + \"a\")", false));
}

TEST(EvalBoolean, OrShortCircuitsBeforeTypeErrorOnRight) {
  EXPECT_TRUE(Evaluates("true || 1", true));
  EXPECT_TRUE(Evaluates("true || principal.no_such_attribute", true));
}

TEST(EvalBoolean, NonBoolOperandThatIsEvaluatedIsTypeError) {
  EXPECT_TRUE(FailsWith("true && 1", "type_error"));
  EXPECT_TRUE(FailsWith("false || 1", "type_error"));
  // The left operand is checked even when the right one alone would decide.
  EXPECT_TRUE(FailsWith("1 && false", "type_error"));
  EXPECT_TRUE(FailsWith("1 || true", "type_error"));
}

TEST(EvalBoolean, NotRequiresBool) {
  EXPECT_TRUE(Evaluates("!false", true));
  EXPECT_TRUE(FailsWith("!1", "type_error"));
}

TEST(EvalBoolean, IfEvaluatesOnlyTheChosenBranch) {
  EXPECT_TRUE(Evaluates("if true then 1 else 1 + \"a\"", 1));
  EXPECT_TRUE(Evaluates("if false then 1 + \"a\" else 2", 2));
}

TEST(EvalBoolean, IfConditionMustBeBool) {
  EXPECT_TRUE(FailsWith("if 1 then 2 else 3", "type_error"));
}

// ------------------------------------------------------------- arithmetic

TEST(EvalArithmetic, NegativeLiteralMinInt64EvaluatesWithoutOverflow) {
  EXPECT_TRUE(Evaluates("-9223372036854775808", kMin));
  EXPECT_TRUE(Evaluates("-9223372036854775808 < 0", true));
}

TEST(EvalArithmetic, DoubleNegationOfMinInt64Overflows) {
  EXPECT_TRUE(FailsWith("-(-9223372036854775808)", "overflow"));
  EXPECT_TRUE(FailsWith("--9223372036854775808", "overflow"));
  EXPECT_TRUE(FailsWith("- -9223372036854775808", "overflow"));
}

TEST(EvalArithmetic, DoubleNegationOfAnOrdinaryValueIsIdentity) {
  EXPECT_TRUE(Evaluates("--1", 1));
  EXPECT_TRUE(Evaluates("-(-1)", 1));
  EXPECT_TRUE(Evaluates("----7", 7));
  EXPECT_TRUE(Evaluates("-principal.age", -30));
}

TEST(EvalArithmetic, SubtractionReachesMinInt64ButNotBeyond) {
  EXPECT_TRUE(Evaluates("-9223372036854775807 - 1", kMin));
  EXPECT_TRUE(FailsWith("-9223372036854775807 - 2", "overflow"));
}

TEST(EvalArithmetic, AdditionAndMultiplicationOverflowAreErrors) {
  EXPECT_TRUE(Evaluates("9223372036854775806 + 1", kMax));
  EXPECT_TRUE(FailsWith("9223372036854775807 + 1", "overflow"));
  EXPECT_TRUE(FailsWith("9223372036854775807 * 2", "overflow"));
  EXPECT_TRUE(FailsWith("-9223372036854775808 * -1", "overflow"));
  EXPECT_TRUE(Evaluates("-9223372036854775808 * 1", kMin));
  EXPECT_TRUE(Evaluates("1 + -9223372036854775808", kMin + 1));
}

TEST(EvalArithmetic, OperandsMustBeLongs) {
  EXPECT_TRUE(FailsWith("1 + \"a\"", "type_error"));
  EXPECT_TRUE(FailsWith("\"a\" + \"b\"", "type_error"));  // no string concatenation
  EXPECT_TRUE(FailsWith("-\"a\"", "type_error"));
  EXPECT_TRUE(FailsWith("true * 2", "type_error"));
}

TEST(EvalArithmetic, OperandsAreEvaluatedLeftToRight) {
  // Both sides fail; the error is the left one's.
  EXPECT_TRUE(FailsWith("(1 + \"a\") == (9223372036854775807 + 1)", "type_error"));
  EXPECT_TRUE(FailsWith("(9223372036854775807 + 1) == (1 + \"a\")", "overflow"));
}

// ------------------------------------------------------------- comparison

TEST(EvalComparison, EqualityAcrossKindsIsFalseNotAnError) {
  EXPECT_TRUE(Evaluates("1 == \"1\"", false));
  EXPECT_TRUE(Evaluates("[] == {}", false));
  EXPECT_TRUE(Evaluates("User::\"a\" == Group::\"a\"", false));
  EXPECT_TRUE(Evaluates("1 != \"1\"", true));
}

TEST(EvalComparison, SetEqualityIgnoresOrderAndDuplicates) {
  EXPECT_TRUE(Evaluates("[1, 2, 2] == [2, 1]", true));
  EXPECT_TRUE(Evaluates("[[1, 2], [2, 1]] == [[2, 1]]", true));
  EXPECT_TRUE(Evaluates("[1, 2] == [1, 2, 3]", false));
  EXPECT_TRUE(Evaluates("[1, \"1\", true, User::\"a\", [1], {a: 1}] == "
                        "[{a: 1}, [1], User::\"a\", true, \"1\", 1]",
                        true));
}

TEST(EvalComparison, RecordEqualityIgnoresKeyOrderButNotKeys) {
  EXPECT_TRUE(Evaluates("{a: 1, b: 2} == {b: 2, a: 1}", true));
  EXPECT_TRUE(Evaluates("{a: 1} == {a: 1, b: 2}", false));
  EXPECT_TRUE(Evaluates("{a: [1, 2]} == {a: [2, 1, 1]}", true));
}

TEST(EvalComparison, ExtensionValuesAreEqualByMeaningAlsoInSets) {
  EXPECT_TRUE(Evaluates("datetime(\"2024-01-01\") == datetime(\"2024-01-01T00:00:00Z\")", true));
  EXPECT_TRUE(Evaluates("[duration(\"1h\")].contains(duration(\"60m\"))", true));
  EXPECT_TRUE(Evaluates("[duration(\"1h\"), duration(\"60m\")] == [duration(\"3600s\")]", true));
  EXPECT_TRUE(Evaluates("[decimal(\"1.0\"), decimal(\"1.00\")] == [decimal(\"1.0000\")]", true));
  // An ip with host bits set is not the network it belongs to.
  EXPECT_TRUE(Evaluates("[ip(\"10.0.0.1/8\")].contains(ip(\"10.0.0.0/8\"))", false));
}

TEST(EvalComparison, OrderingIsDefinedOnlyForLongsAndLikeTypedTimes) {
  EXPECT_TRUE(Evaluates("1 < 2 && 2 <= 2 && 3 > 2 && 2 >= 2", true));
  EXPECT_TRUE(Evaluates("datetime(\"2024-01-01\") < datetime(\"2024-01-02\")", true));
  EXPECT_TRUE(Evaluates("duration(\"1h\") < duration(\"2h\")", true));
  EXPECT_TRUE(FailsWith("\"a\" < \"b\"", "type_error"));
  EXPECT_TRUE(FailsWith("true < false", "type_error"));
  EXPECT_TRUE(FailsWith("1 < datetime(\"2024-01-01\")", "type_error"));
}

// ------------------------------------------------------------- strings

TEST(EvalString, EscapesDecodeToTheirCharacters) {
  EXPECT_TRUE(Evaluates("\"\\u{1F600}\" == \"\xF0\x9F\x98\x80\"", true));
  EXPECT_TRUE(Evaluates("\"\\x41\"", "A"));
  EXPECT_TRUE(Evaluates("\"\\0\" == \"\\u{0}\"", true));
  EXPECT_TRUE(Evaluates("\"\\t\\\"\\\\\"", "\t\"\\"));
}

TEST(EvalLike, StarMatchesAnySequenceIncludingEmpty) {
  EXPECT_TRUE(Evaluates("\"\" like \"*\"", true));
  EXPECT_TRUE(Evaluates("\"ac\" like \"a*c\"", true));
  EXPECT_TRUE(Evaluates("\"abc\" like \"a**c\"", true));
  EXPECT_TRUE(Evaluates("\"aaa\" like \"*a\"", true));
  EXPECT_TRUE(Evaluates("\"abcabd\" like \"*abd\"", true));
  EXPECT_TRUE(Evaluates("\"mississippi\" like \"m*i*s*p*i\"", true));
  EXPECT_TRUE(Evaluates("\"mississippi\" like \"m*x*\"", false));
  EXPECT_TRUE(Evaluates("\"a\" like \"a*a\"", false));
}

TEST(EvalLike, WithoutStarsTheMatchIsExact) {
  EXPECT_TRUE(Evaluates("\"abc\" like \"abc\"", true));
  EXPECT_TRUE(Evaluates("\"abc\" like \"ab\"", false));
  EXPECT_TRUE(Evaluates("\"\" like \"a\"", false));
  EXPECT_TRUE(Evaluates("\"a\" like \"\"", false));
  EXPECT_TRUE(Evaluates("\"ax\" like \"?x\"", false));  // `?` is not a wildcard
}

TEST(EvalLike, LikeEscapedStarIsLiteral) {
  EXPECT_TRUE(Evaluates(R"("a*b" like "a\*b")", true));
  EXPECT_TRUE(Evaluates(R"("axb" like "a\*b")", false));
  EXPECT_TRUE(Evaluates(R"("\\*" like "\\\*")", true));  // a backslash, then a star
  EXPECT_TRUE(Evaluates(R"("a*bXc" like "a\**c")", true));
}

TEST(EvalLike, MatchesCharactersNotBytes) {
  EXPECT_TRUE(Evaluates("\"\xF0\x9F\x98\x80x\" like \"*x\"", true));
  EXPECT_TRUE(Evaluates("\"\xC3\xA9\" like \"e*\"", false));
  EXPECT_TRUE(Evaluates("\"\xC3\xA9t\xC3\xA9\" like \"\xC3\xA9*\xC3\xA9\"", true));
}

TEST(EvalLike, OperandMustBeString) {
  EXPECT_TRUE(FailsWith("1 like \"1\"", "type_error"));
}

// A straightforward dynamic-programming matcher: the specification of `like`.
bool reference_like(std::string_view text, const Pattern& pattern) {
  std::vector<std::pair<bool, char>> p;  // (wildcard, byte)
  for (const auto& el : pattern) {
    if (el.wildcard) p.push_back({true, 0});
    for (char c : el.literal) p.push_back({false, c});
  }
  // m[j]: pattern prefix of length j matches the text prefix seen so far.
  std::vector<bool> m(p.size() + 1, false);
  m[0] = true;
  for (size_t j = 1; j <= p.size() && p[j - 1].first; ++j) m[j] = true;
  for (char c : text) {
    std::vector<bool> next(p.size() + 1, false);
    for (size_t j = 1; j <= p.size(); ++j) {
      if (p[j - 1].first) next[j] = next[j - 1] || m[j];
      else next[j] = m[j - 1] && p[j - 1].second == c;
    }
    m = std::move(next);
  }
  return m[p.size()];
}

TEST(EvalLike, WildcardMatchAgreesWithReferenceMatcherOnRandomInputs) {
  std::mt19937 rng(20240601);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    for (int i = pick(12); i > 0; --i) text += "ab"[pick(2)];
    Pattern pattern;
    for (int i = pick(6); i > 0; --i) {
      if (pick(3) == 0) {
        if (pattern.empty() || !pattern.back().wildcard) pattern.push_back({true, {}});
      } else {
        std::string lit;
        for (int k = 1 + pick(3); k > 0; --k) lit += "ab"[pick(2)];
        if (!pattern.empty() && !pattern.back().wildcard) pattern.back().literal += lit;
        else pattern.push_back({false, lit});
      }
    }
    ASSERT_EQ(wildcard_match(text, pattern), reference_like(text, pattern))
        << "text \"" << text << "\", pattern with " << pattern.size() << " elements, round " << round;
  }
}

// ------------------------------------------------------------- entities

TEST(EvalEntities, InFollowsTheTransitiveParentRelation) {
  EXPECT_TRUE(Evaluates("principal in Group::\"eng\"", true));
  EXPECT_TRUE(Evaluates("principal in Group::\"all\"", true));
  EXPECT_TRUE(Evaluates("Group::\"eng\" in principal", false));
  EXPECT_TRUE(Evaluates("principal in Group::\"other\"", false));
}

TEST(EvalEntities, InIsReflexiveEvenForEntitiesMissingFromTheStore) {
  EXPECT_TRUE(Evaluates("User::\"ghost\" in User::\"ghost\"", true));
  EXPECT_TRUE(Evaluates("User::\"ghost\" in [User::\"ghost\"]", true));
  EXPECT_TRUE(Evaluates("User::\"ghost\" in Group::\"all\"", false));
}

TEST(EvalEntities, InOverSetIsTrueIfAnyElementIsAnAncestorOrSelf) {
  EXPECT_TRUE(Evaluates("principal in [Group::\"x\", Group::\"all\"]", true));
  EXPECT_TRUE(Evaluates("principal in [principal]", true));
  EXPECT_TRUE(Evaluates("principal in []", false));
}

TEST(EvalEntities, InOverSetWithNonEntityIsTypeError) {
  // Even when another element already matches.
  EXPECT_TRUE(FailsWith("User::\"a\" in [User::\"a\", 1]", "type_error"));
  EXPECT_TRUE(FailsWith("User::\"a\" in [1, User::\"a\"]", "type_error"));
}

TEST(EvalEntities, InNeedsAnEntityOnTheLeftAndAnEntityOrSetOnTheRight) {
  EXPECT_TRUE(FailsWith("1 in [User::\"a\"]", "type_error"));
  EXPECT_TRUE(FailsWith("User::\"a\" in 1", "type_error"));
  EXPECT_TRUE(FailsWith("User::\"a\" in \"User::\\\"a\\\"\"", "type_error"));
}

TEST(EvalEntities, HasOnMissingEntityIsFalse) {
  EXPECT_TRUE(Evaluates("User::\"nobody\" has name", false));
  EXPECT_TRUE(Evaluates("principal.manager has name", false));  // bob is not in the store
}

TEST(EvalEntities, GetAttrOnMissingEntityErrors) {
  EXPECT_TRUE(FailsWith("User::\"nobody\".name", "entity_does_not_exist"));
  EXPECT_TRUE(FailsWith("principal.manager.name", "entity_does_not_exist"));
}

TEST(EvalEntities, AttributesAreReadByDotOrIndex) {
  EXPECT_TRUE(Evaluates("principal has name", true));
  EXPECT_TRUE(Evaluates("principal.name", "Alice"));
  EXPECT_TRUE(Evaluates("principal[\"name\"]", "Alice"));
  EXPECT_TRUE(Evaluates("principal.manager", EntityUID{"User", "bob"}));
}

TEST(EvalEntities, MissingAttributeIsAnErrorButHasIsFalse) {
  EXPECT_TRUE(Evaluates("principal has nickname", false));
  EXPECT_TRUE(FailsWith("principal.nickname", "attribute_missing"));
  EXPECT_TRUE(Evaluates("{a: 1} has b", false));
  EXPECT_TRUE(FailsWith("{a: 1}.b", "attribute_missing"));
}

TEST(EvalEntities, HasAndGetAttrNeedAnEntityOrRecord) {
  EXPECT_TRUE(FailsWith("1 has a", "type_error"));
  EXPECT_TRUE(FailsWith("\"s\" has a", "type_error"));
  EXPECT_TRUE(FailsWith("[1] has a", "type_error"));
  EXPECT_TRUE(FailsWith("(1).a", "type_error"));
}

TEST(EvalEntities, TagsAreSeparateFromAttributes) {
  EXPECT_TRUE(Evaluates("principal has level", false));
  EXPECT_TRUE(Evaluates("principal.hasTag(\"level\")", true));
  EXPECT_TRUE(Evaluates("principal.getTag(\"level\")", 3));
  EXPECT_TRUE(Evaluates("principal.hasTag(\"name\")", false));
}

TEST(EvalEntities, MissingTagIsAnErrorButHasTagIsFalse) {
  EXPECT_TRUE(FailsWith("principal.getTag(\"nope\")", "tag_missing"));
  EXPECT_TRUE(Evaluates("User::\"nobody\".hasTag(\"level\")", false));
  EXPECT_TRUE(FailsWith("User::\"nobody\".getTag(\"level\")", "entity_does_not_exist"));
}

TEST(EvalEntities, TagMethodsNeedAnEntityAndAStringKey) {
  EXPECT_TRUE(FailsWith("principal.hasTag(1)", "type_error"));
  EXPECT_TRUE(FailsWith("context.hasTag(\"level\")", "type_error"));
}

TEST(EvalEntities, IsComparesTheTypeExactly) {
  EXPECT_TRUE(Evaluates("principal is User", true));
  EXPECT_TRUE(Evaluates("principal is Group", false));
  EXPECT_TRUE(Evaluates("NS::User::\"a\" is NS::User", true));
  EXPECT_TRUE(Evaluates("NS::User::\"a\" is User", false));
  EXPECT_TRUE(FailsWith("1 is User", "type_error"));
}

TEST(EvalEntities, IsInRequiresTheTypeAndTheHierarchy) {
  EXPECT_TRUE(Evaluates("principal is User in Group::\"all\"", true));
  EXPECT_TRUE(Evaluates("principal is User in [Group::\"all\"]", true));
  EXPECT_TRUE(Evaluates("principal is Group in Group::\"all\"", false));
  EXPECT_TRUE(Evaluates("principal is User in [Group::\"x\"]", false));
  // A type mismatch decides before the `in` operand is examined.
  EXPECT_TRUE(Evaluates("principal is Group in 1", false));
  EXPECT_TRUE(FailsWith("principal is User in 1", "type_error"));
}

// ------------------------------------------------------------- records

TEST(EvalRecords, ExtendedHasDesugars) {
  // `e has a.b.c` is `e has a && e.a has b && e.a.b has c`.
  auto expr = parse_expression("context has a.b.c");
  ASSERT_TRUE(expr.ok());
  EXPECT_EQ(format_expr(**expr), "context has a && context.a has b && context.a.b has c");
  const Expr& outer = **expr;
  ASSERT_EQ(outer.kind, Expr::Kind::kAnd);
  ASSERT_EQ(outer.args[1]->kind, Expr::Kind::kHasAttr);
  EXPECT_EQ(outer.args[1]->name, "c");
  ASSERT_EQ(outer.args[0]->kind, Expr::Kind::kAnd);
  EXPECT_EQ(outer.args[0]->args[0]->kind, Expr::Kind::kHasAttr);
  EXPECT_EQ(outer.args[0]->args[0]->name, "a");
}

TEST(EvalRecords, ExtendedHasIsTrueOnlyWhenTheWholePathExists) {
  EXPECT_TRUE(Evaluates("context has a.b.c", true, R"({"a": {"b": {"c": 1}}})"));
  EXPECT_TRUE(Evaluates("context has a.b.c", false, R"({"a": {"b": {}}})"));
  EXPECT_TRUE(Evaluates("context has a.b.c", false, R"({"a": {}})"));
  EXPECT_TRUE(Evaluates("context has a.b.c", false, "{}"));
}

TEST(EvalRecords, ExtendedHasThroughANonRecordIsTypeError) {
  EXPECT_TRUE(FailsWith("context has a.b", "type_error", R"({"a": 1})"));
  EXPECT_TRUE(FailsWith("context has a.length", "type_error", R"({"a": "text"})"));
}

TEST(EvalRecords, KeysNeedNotBeIdentifiers) {
  EXPECT_TRUE(Evaluates(R"(context has "")", true, R"({"": 1})"));
  EXPECT_TRUE(Evaluates(R"(context[""])", 1, R"({"": 1})"));
  EXPECT_TRUE(Evaluates(R"({"b c": 2}["b c"])", 2));
}

TEST(EvalRecords, ErrorInsideASetOrRecordLiteralPropagates) {
  EXPECT_TRUE(FailsWith("[1, 1 + \"a\"]", "type_error"));
  EXPECT_TRUE(FailsWith("{a: 1, b: 9223372036854775807 + 1}", "overflow"));
}

// ------------------------------------------------------------- sets

TEST(EvalSets, ContainsUsesCedarEquality) {
  EXPECT_TRUE(Evaluates("[1, 2, 3].contains(2)", true));
  EXPECT_TRUE(Evaluates("[1, 2, 3].contains(\"2\")", false));
  EXPECT_TRUE(Evaluates("[{a: 1, b: 2}].contains({b: 2, a: 1})", true));
  EXPECT_TRUE(Evaluates("[1, [2]].contains([2])", true));
}

TEST(EvalSets, ContainsAllAndContainsAnyFollowSetSemantics) {
  EXPECT_TRUE(Evaluates("[1, 2, 3].containsAll([1, 3])", true));
  EXPECT_TRUE(Evaluates("[1, 2, 3].containsAll([1, 4])", false));
  EXPECT_TRUE(Evaluates("[1, 2, 3].containsAll([])", true));
  EXPECT_TRUE(Evaluates("[1, 2, 3].containsAny([4, 3])", true));
  EXPECT_TRUE(Evaluates("[1, 2, 3].containsAny([])", false));
  EXPECT_TRUE(Evaluates("[].isEmpty()", true));
  EXPECT_TRUE(Evaluates("[1].isEmpty()", false));
}

TEST(EvalSets, SetMethodsRequireSets) {
  EXPECT_TRUE(FailsWith("\"x\".contains(\"x\")", "type_error"));
  EXPECT_TRUE(FailsWith("{a: 1}.isEmpty()", "type_error"));
  EXPECT_TRUE(FailsWith("[1].containsAll(1)", "type_error"));
  EXPECT_TRUE(FailsWith("[1].containsAny(\"a\")", "type_error"));
}

// ------------------------------------------------------------- variables

TEST(EvalVariables, VariablesAreTheRequestComponents) {
  EXPECT_TRUE(Evaluates("principal", EntityUID{"User", "alice"}));
  EXPECT_TRUE(Evaluates("action", EntityUID{"Action", "view"}));
  EXPECT_TRUE(Evaluates("resource", EntityUID{"Doc", "d"}));
  EXPECT_TRUE(Evaluates("context.n", 1, R"({"n": 1})"));
}

TEST(EvalVariables, NullContextIsTheEmptyRecord) {
  auto expr = parse_expression("context == {}");
  ASSERT_TRUE(expr.ok());
  Request request{{"User", "alice"}, {"Action", "view"}, {"Doc", "d"}, nullptr};
  auto v = Evaluator(request, store()).eval(**expr);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->as_bool());
}

// ------------------------------------------------------------- conditions

bool holds_for_alice(std::string_view policy_text, std::string* error_code = nullptr) {
  auto set = parse_policies(policy_text);
  EXPECT_TRUE(set.ok()) << (set ? "" : set.error().to_string());
  if (!set) return false;
  Request request{{"User", "alice"}, {"Action", "view"}, {"Doc", "d"}, nullptr};
  auto r = Evaluator(request, store()).conditions_hold(*set->policies().at(0));
  if (error_code) *error_code = r ? "" : r.error().code;
  return r && *r;
}

TEST(EvalConditions, AllConditionsMustHoldAndUnlessNegates) {
  EXPECT_TRUE(holds_for_alice("permit(principal, action, resource) when { true } unless { false };"));
  EXPECT_FALSE(holds_for_alice("permit(principal, action, resource) when { true } unless { true };"));
  EXPECT_FALSE(holds_for_alice("permit(principal, action, resource) when { true } when { false };"));
  EXPECT_TRUE(holds_for_alice("permit(principal, action, resource);"));
}

TEST(EvalConditions, ConditionsAreConjoinedLeftToRightWithShortCircuit) {
  // As `false && <error>`: no error.
  std::string code;
  EXPECT_FALSE(holds_for_alice("permit(principal, action, resource) when { false } when { 1 + \"a\" };", &code));
  EXPECT_EQ(code, "");
  EXPECT_FALSE(holds_for_alice("permit(principal, action, resource) unless { true } when { 1 + \"a\" };", &code));
  EXPECT_EQ(code, "");
  EXPECT_FALSE(holds_for_alice("permit(principal, action, resource) when { 1 + \"a\" } when { false };", &code));
  EXPECT_EQ(code, "type_error");
}

TEST(EvalConditions, NonBoolConditionIsTypeError) {
  std::string code;
  EXPECT_FALSE(holds_for_alice("permit(principal, action, resource) when { 1 };", &code));
  EXPECT_EQ(code, "type_error");
  EXPECT_FALSE(holds_for_alice("permit(principal, action, resource) unless { \"no\" };", &code));
  EXPECT_EQ(code, "type_error");
}

// ------------------------------------------------------------- limits

TEST(EvalLimits, ExpressionsAtTheHeightLimitEvaluate) {
  std::string text = "false";
  for (int i = 0; i < 998; ++i) text += " || false";
  text += " || true";  // 1000 operands: height 1000
  EXPECT_TRUE(Evaluates(text, true));
}

// A datetime outside years 0000-9999 (reachable through `offset`) prints as
// an offset from the epoch, since datetime("...") cannot read it back.
TEST(ValuePrinting, DatetimeOutsideFourDigitYearsPrintsAsEpochOffset) {
  Value early(Datetime{-62167219200001});  // 0000-01-01 minus 1 ms
  EXPECT_EQ(to_cedar_string(early), R"(datetime("1970-01-01").offset(duration("-62167219200001ms")))");
  Value normal(Datetime{0});
  EXPECT_EQ(to_cedar_string(normal), R"(datetime("1970-01-01T00:00:00.000Z"))");
}

}  // namespace
}  // namespace ztgate::cedar
