// The canonical printer. Printing must be a fixed point after one round
// (parse -> format -> parse -> format gives the same text) and must keep the
// meaning: parentheses exactly where precedence needs them. Every printed
// policy of the corpus below was also checked with the official
// implementation (cedar-wasm 4.13): it parses there to the same policy as
// the source text, up to the desugaring of `has a.b` and repeated `*`s.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cedar/eval.h"
#include "cedar/policy_set.h"

namespace ztgate::cedar {
namespace {

// One policy per entry; precedence traps first.
const std::vector<std::string> kCorpus = {
    R"(permit(principal, action, resource);)",
    R"(forbid(principal == User::"alice", action == Action::"view", resource == Doc::"d");)",
    R"(permit(principal in Group::"admins", action in [Action::"read", Action::"write"], resource in Folder::"root");)",
    R"(permit(principal is User, action in Action::"readOnly", resource is NS::Doc in NS::Folder::"f");)",
    R"(@id("p1") @advice("log \"quoted\"\n") @flag permit(principal, action, resource);)",
    R"(permit(principal, action, resource) when { -(-1) == 1 };)",
    R"(permit(principal, action, resource) when { --1 == 1 };)",
    R"(permit(principal, action, resource) when { -(1) == -1 };)",
    R"(permit(principal, action, resource) when { -9223372036854775808 < 0 };)",
    R"(permit(principal, action, resource) when { - -9223372036854775808 < 0 };)",
    R"(permit(principal, action, resource) when { !(context.a || context.b) };)",
    R"(permit(principal, action, resource) when { !!context.a };)",
    R"(permit(principal, action, resource) when { (1 + 2) * 3 == 9 };)",
    R"(permit(principal, action, resource) when { 1 + 2 * 3 == 7 };)",
    R"(permit(principal, action, resource) when { 1 - (2 - 3) == 2 };)",
    R"(permit(principal, action, resource) when { (1 - 2) - 3 == -4 };)",
    R"(permit(principal, action, resource) when { 2 * (3 * 4) == 24 };)",
    R"(permit(principal, action, resource) when { 1 - -1 == 2 };)",
    R"(permit(principal, action, resource) when { 2 * -3 == -6 };)",
    R"(permit(principal, action, resource) when { -context.n * 2 == 0 };)",
    R"(permit(principal, action, resource) when { -(context.n * 2) == 0 };)",
    R"(permit(principal, action, resource) when { (principal in Group::"g") == true };)",
    R"(permit(principal, action, resource) when { true == (principal in Group::"g") };)",
    R"(permit(principal, action, resource) when { (1 < 2) == (3 > 2) };)",
    R"(permit(principal, action, resource) when { context.a || context.b && context.c };)",
    R"(permit(principal, action, resource) when { (context.a || context.b) && context.c };)",
    R"(permit(principal, action, resource) when { context.a || (context.b || context.c) };)",
    R"(permit(principal, action, resource) when { context.a && (context.b && context.c) };)",
    R"(permit(principal, action, resource) when { (if context.a then context.b else context.c) || context.d };)",
    R"(permit(principal, action, resource) when { if context.a then context.b || context.c else context.d && context.e };)",
    R"(permit(principal, action, resource) when { if (if context.a then context.b else context.c) then 1 == 1 else false };)",
    R"(permit(principal, action, resource) when { (if context.a then context.x else context.y).z == 1 };)",
    R"(permit(principal, action, resource) when { (if true then [1] else [2]).contains(1) };)",
    R"(permit(principal, action, resource) when { [1, 2, 3].containsAll([1]) && [].isEmpty() && [1].containsAny([1]) };)",
    R"(permit(principal, action, resource) when { {a: 1, "b c": [2], "if": {d: "e"}} has "b c" };)",
    R"(permit(principal, action, resource) when { context has a.b.c };)",
    R"(permit(principal, action, resource) when { context has "weird key" && context["weird key"] == "v\t\"\\" };)",
    R"(permit(principal, action, resource) when { context["__cedar"] == 1 && context["if"] == 2 };)",
    R"(permit(principal, action, resource) when { context.s like "a\*b*c\\d*" };)",
    R"(permit(principal, action, resource) when { context.s like "" };)",
    R"(permit(principal, action, resource) when { context.s like "***" };)",
    R"(permit(principal, action, resource) when { context.s like "\u{1F600}*\0\n" };)",
    R"(permit(principal, action, resource) when { (context.s like "x") == true };)",
    R"(permit(principal, action, resource) when { (principal is User) == true };)",
    R"(permit(principal, action, resource) when { principal is User in Group::"g" };)",
    R"(permit(principal, action, resource) when { principal is User in [Group::"g", Group::"h"] };)",
    R"(permit(principal, action, resource) when { (principal has name) && principal.name == "a" };)",
    R"(permit(principal, action, resource) when { (1 + 2) has foo };)",
    R"(permit(principal, action, resource) when { (-1).foo == 1 };)",
    R"(permit(principal, action, resource) when { -1.foo == 1 };)",
    R"(permit(principal, action, resource) when { [-1, -(-1)].contains(1) };)",
    R"(permit(principal, action, resource) when { ip("10.0.0.1").isInRange(ip("10.0.0.0/8")) && decimal("1.23").lessThan(decimal("2.0")) };)",
    R"(permit(principal, action, resource) when { datetime("2024-01-01").offset(duration("1h")) > datetime("2024-01-01") };)",
    R"(permit(principal, action, resource) when { principal.getTag("t") == resource.hasTag("u") };)",
    R"(permit(principal, action, resource) when { User::"a\"b" == principal && NS::Inner::User::"\u{0}" != principal };)",
    R"(permit(principal, action, resource) when { context.x.y["z w"].v == 1 };)",
    R"(permit(principal, action, resource) when { context == {} && context != {"a": []} };)",
    R"(permit(principal, action, resource) when { (context.a == 1) || (context.b != 2) && !(context.c < 3) };)",
    R"(permit(principal, action, resource) unless { principal in resource.readers } when { true };)",
    R"(permit(principal, action, resource) when { 9223372036854775807 > 0 && 0 >= -1 && 1 <= 2 };)",
    R"(permit(principal, action, resource) when { if !context.a then -context.n else 1 + context.n > 0 };)",
    R"(permit(principal, action, resource) when { !(if context.a then true else false) };)",
    R"(permit(principal, action, resource) when { -(if context.a then 1 else 2) == -1 };)",
    R"(permit(principal, action, resource) when { !context.a.b };)",
    R"(permit(principal, action, resource) when { !(context has a) };)",
    R"(permit(principal, action, resource) when { (1 + 2) in Group::"g" };)",
    R"(permit(principal, action, resource) when { -(-(-1)) == -1 };)",
    R"(permit(principal, action, resource) when { ----1 == 1 };)",
    R"(permit(principal, action, resource) when { !!!!true };)",
    R"(permit(principal == ?principal, action, resource);)",
    R"(forbid(principal, action, resource in ?resource) unless { context.ok };)",
    R"(permit(principal is User in ?principal, action == Action::"a", resource is Doc in ?resource);)",
};

std::string format_text(std::string_view text) {
  auto set = parse_policies(text);
  EXPECT_TRUE(set.ok()) << text << "\n  " << (set ? "" : set.error().to_string());
  return set ? format_policies(*set) : "";
}

std::string format_expression(std::string_view text) {
  auto e = parse_expression(text);
  EXPECT_TRUE(e.ok()) << text << "\n  " << (e ? "" : e.error().to_string());
  return e ? format_expr(**e) : "";
}

TEST(Format, FormatRoundTrips) {
  for (const std::string& source : kCorpus) {
    std::string once = format_text(source);
    ASSERT_FALSE(once.empty()) << source;
    std::string twice = format_text(once);
    EXPECT_EQ(once, twice) << "source: " << source;
    EXPECT_EQ(format_text(twice), twice) << "source: " << source;
  }
}

TEST(Format, WholeSetRoundTripsAndKeepsEveryPolicy) {
  std::string all;
  for (const std::string& source : kCorpus) all += source + "\n";
  auto set = parse_policies(all);
  ASSERT_TRUE(set.ok()) << set.error().to_string();
  std::string once = format_policies(*set);
  auto back = parse_policies(once);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->policies().size(), set->policies().size());
  EXPECT_EQ(back->templates().size(), set->templates().size());
  EXPECT_EQ(format_policies(*back), once);
}

TEST(Format, ParenthesesOnlyWherePrecedenceNeedsThem) {
  struct Case {
    const char* source;
    const char* printed;
  };
  const Case cases[] = {
      {"-(-1)", "-(-1)"},
      {"--1", "-(-1)"},
      {"-(1)", "-(1)"},  // not `-1`: that would be the literal minus one
      {"- -9223372036854775808", "-(-9223372036854775808)"},
      {"!(context.a || context.b)", "!(context.a || context.b)"},
      {"!!context.a", "!(!context.a)"},
      {"(1 + 2) * 3", "(1 + 2) * 3"},
      {"1 + (2 * 3)", "1 + 2 * 3"},
      {"1 - (2 - 3)", "1 - (2 - 3)"},
      {"(1 - 2) - 3", "1 - 2 - 3"},
      {"2 * -3", "2 * -3"},
      {"-(context.n * 2)", "-(context.n * 2)"},
      {"-context.n * 2", "-context.n * 2"},
      {"(principal in Group::\"g\") == true", "(principal in Group::\"g\") == true"},
      {"(1 < 2) == (3 > 2)", "(1 < 2) == (3 > 2)"},
      {"(1 + 2) in Group::\"g\"", "1 + 2 in Group::\"g\""},
      {"context.a || (context.b || context.c)", "context.a || (context.b || context.c)"},
      {"(context.a || context.b) || context.c", "context.a || context.b || context.c"},
      {"(context.a || context.b) && context.c", "(context.a || context.b) && context.c"},
      {"context.a || (context.b && context.c)", "context.a || context.b && context.c"},
      {"(if context.a then 1 else 2) + 1", "(if context.a then 1 else 2) + 1"},
      {"(if context.a then context.x else context.y).z", "(if context.a then context.x else context.y).z"},
      {"(-1).foo", "(-1).foo"},
      {"-1.foo", "-1.foo"},
      {"(context has a) == true", "(context has a) == true"},
      {"(principal is User) == true", "(principal is User) == true"},
      {"!(principal in Group::\"g\")", "!(principal in Group::\"g\")"},
  };
  for (const auto& c : cases) EXPECT_EQ(format_expression(c.source), c.printed) << c.source;
}

TEST(Format, NamesThatAreNotIdentifiersAreQuoted) {
  EXPECT_EQ(format_expression(R"(context["if"])"), R"(context["if"])");
  EXPECT_EQ(format_expression(R"(context["__cedar"])"), R"(context["__cedar"])");
  EXPECT_EQ(format_expression(R"(context["a b"])"), R"(context["a b"])");
  EXPECT_EQ(format_expression(R"(context["ok"])"), "context.ok");
  EXPECT_EQ(format_expression(R"(context has "if")"), R"(context has "if")");
  EXPECT_EQ(format_expression(R"(context has "__cedar")"), R"(context has "__cedar")");
  EXPECT_EQ(format_expression(R"({a: 1, "b c": 2})"), R"({"a": 1, "b c": 2})");
}

TEST(Format, StringsAndPatternsAreEscaped) {
  EXPECT_EQ(format_expression(R"("tab\there \"q\" back\\slash\0")"), R"("tab\there \"q\" back\\slash\0")");
  EXPECT_EQ(format_expression(R"(context.s like "a\*b*c")"), R"(context.s like "a\*b*c")");
  EXPECT_EQ(format_expression(R"(context.s like "\\*")"), R"(context.s like "\\*")");
  EXPECT_EQ(format_expression(R"(User::"a\"b\n")"), R"(User::"a\"b\n")");
  EXPECT_EQ(format_expression("\"\\u{7f}\\u{1}\""), "\"\\u{7f}\\u{1}\"");
}

TEST(Format, PolicyLayoutIsCanonical) {
  EXPECT_EQ(format_text(R"(@id("p1") @flag permit(principal == User::"alice",
      action in [Action::"a", Action::"b"], resource is Doc in Folder::"f")
      when { context.x } unless { false };)"),
            "@id(\"p1\")\n"
            "@flag\n"
            "permit (\n"
            "  principal == User::\"alice\",\n"
            "  action in [Action::\"a\", Action::\"b\"],\n"
            "  resource is Doc in Folder::\"f\"\n"
            ")\n"
            "when { context.x }\n"
            "unless { false };\n");
}

// Printing keeps the meaning: each expression and its printed form evaluate
// to the same value, or fail with the same error.
TEST(Format, PrintedExpressionsEvaluateLikeTheirSource) {
  const char* expressions[] = {
      "1 - (2 - 3)", "(1 - 2) - 3", "-(1 + 2) * 3", "-(2 * 3) + 1", "2 * -3 - -4",
      "!(true || false) || true", "!true || !false && false", "(true || false) && false",
      "if false then 1 else 2 + 3", "(if false then 1 else 2) + 3",
      "-(-9223372036854775807)", "- -9223372036854775808", "(-9223372036854775807 - 1) * 1",
      "(1 < 2) == true", "context.n + -context.n == 0", "-context.n * -context.n",
      "[1, -1, -(-1)].contains(-(1))", "context has a.b", "(context has a) && context.a has b",
      "\"a*b\" like \"a\\*b\"", "\"axb\" like \"a*b\"",
  };
  Request request{{"User", "alice"}, {"Action", "view"}, {"Doc", "d"},
                  std::make_shared<const ValueRecord>(ValueRecord{
                      {"n", Value(7)}, {"a", Value::record({{"b", Value(1)}})}})};
  Entities entities;
  Evaluator eval(request, entities);
  for (const char* text : expressions) {
    auto source = parse_expression(text);
    ASSERT_TRUE(source.ok()) << text;
    std::string printed = format_expr(**source);
    auto reparsed = parse_expression(printed);
    ASSERT_TRUE(reparsed.ok()) << text << " printed as " << printed;
    auto want = eval.eval(**source);
    auto got = eval.eval(**reparsed);
    ASSERT_EQ(want.ok(), got.ok()) << text << " printed as " << printed;
    if (want.ok()) {
      EXPECT_TRUE(*want == *got) << text << " printed as " << printed;
    } else {
      EXPECT_EQ(want.error().code, got.error().code) << text << " printed as " << printed;
    }
  }
}

TEST(Format, DeepestAllowedExpressionPrintsAndReparses) {
  std::string text = "context.a";
  for (int i = 1; i < static_cast<int>(kMaxExprHeight) - 1; ++i) text += ".a";
  auto e = parse_expression(text);
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  std::string printed = format_expr(**e);
  EXPECT_EQ(printed, text);
  EXPECT_TRUE(parse_expression(printed).ok());
}

}  // namespace
}  // namespace ztgate::cedar
