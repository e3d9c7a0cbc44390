#include "pipeline/obligations.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace ztgate::pipeline {
namespace {

struct Decided {
  std::shared_ptr<const cedar::PolicySet> set;
  cedar::Response response;
};

// Authorizes alice reading doc with the given context against `policies`.
Decided decide(std::string_view policies, std::string_view context_json = "{}") {
  auto set = cedar::parse_policies(policies);
  EXPECT_TRUE(set.ok()) << (set.ok() ? "" : set.error().to_string());
  Decided d{std::make_shared<const cedar::PolicySet>(std::move(*set)), {}};
  cedar::Authorizer authz(d.set);
  auto ctx = cedar::parse_context_json(context_json, nullptr, {"Action", "read"});
  EXPECT_TRUE(ctx.ok());
  d.response = authz.is_authorized(
      cedar::Request{{"User", "alice"}, {"Action", "read"}, {"Doc", "d"}, *ctx}, cedar::Entities{});
  return d;
}

DenyObligation on_deny_of(std::string_view policies) {
  auto d = decide(policies);
  EXPECT_EQ(d.response.decision, cedar::Decision::kDeny);
  auto o = derive_obligations(d.response);
  EXPECT_TRUE(o.ok());
  return o.ok() ? o->on_deny : DenyObligation::kNone;
}

constexpr std::string_view kPermitAll = "permit(principal, action, resource);\n";

TEST(Obligations, ResolutionTable) {
  struct Row {
    std::string forbids;
    DenyObligation expected;
  };
  const std::string plain = "forbid(principal, action, resource);\n";
  const std::string step_up = "@on_deny(\"step_up\") forbid(principal, action, resource);\n";
  const std::string approval = "@on_deny(\"require_approval\") forbid(principal, action, resource);\n";
  const std::vector<Row> rows{
      {"", DenyObligation::kNone},  // default deny: nothing satisfied
      {plain, DenyObligation::kNone},
      {step_up, DenyObligation::kStepUp},
      {approval, DenyObligation::kRequireApproval},
      {step_up + approval, DenyObligation::kRequireApproval},
      {approval + step_up, DenyObligation::kRequireApproval},
      {step_up + plain, DenyObligation::kNone},  // a plain forbid cannot be lifted by step-up
      {plain + approval + step_up, DenyObligation::kNone},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.forbids);
    // Default deny has no permit; the others deny over a permit.
    std::string text = row.forbids.empty() ? row.forbids : std::string(kPermitAll) + row.forbids;
    EXPECT_EQ(on_deny_of(text), row.expected);
  }
}

TEST(Obligations, OnlyDeterminingForbidsCount) {
  // The step_up forbid is not satisfied; the plain one decides.
  EXPECT_EQ(on_deny_of(std::string(kPermitAll) +
                       R"(@on_deny("step_up") forbid(principal, action, resource) when { context has x };
                          forbid(principal, action, resource);)"),
            DenyObligation::kNone);
  EXPECT_EQ(on_deny_of(std::string(kPermitAll) +
                       R"(@on_deny("step_up") forbid(principal, action, resource);
                          forbid(principal, action, resource) when { context has x };)"),
            DenyObligation::kStepUp);
}

TEST(Obligations, UnknownOnDenyAtRunTimeIsAPlainDeny) {
  EXPECT_EQ(on_deny_of(std::string(kPermitAll) +
                       R"(@on_deny("approve_later") forbid(principal, action, resource);)"),
            DenyObligation::kNone);
}

TEST(Obligations, RedactIsTheUnionOverDeterminingPermits) {
  auto d = decide(R"(
    @redact("secrets, pii") permit(principal, action, resource);
    @redact("pii") permit(principal, action, resource);
    permit(principal, action, resource);
    @redact("secrets") permit(principal, action, resource) when { context has never };
  )");
  ASSERT_EQ(d.response.decision, cedar::Decision::kAllow);
  auto o = derive_obligations(d.response);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->redact, (std::vector<std::string>{"pii", "secrets"}));
  EXPECT_EQ(o->on_deny, DenyObligation::kNone);
}

TEST(Obligations, PseudonymizeIsItsOwnUnion) {
  auto d = decide(R"(
    @pseudonymize("pii") @redact("secrets") permit(principal, action, resource);
    @pseudonymize("custom, pii") permit(principal, action, resource);
  )");
  auto o = derive_obligations(d.response);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->pseudonymize, (std::vector<std::string>{"custom", "pii"}));
  EXPECT_EQ(o->redact, (std::vector<std::string>{"secrets"}));
}

TEST(Obligations, MalformedRedactAtRunTimeFailsTheDecision) {
  auto d = decide(R"(@redact("pii,,") permit(principal, action, resource);)");
  auto o = derive_obligations(d.response);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().code, "invalid_redaction");
}

Status validate(std::string_view policies) {
  auto set = cedar::parse_policies(policies);
  EXPECT_TRUE(set.ok());
  return validate_obligations(*set);
}

TEST(Obligations, ValidateAcceptsKnownObligations) {
  EXPECT_TRUE(validate(R"(
    @on_deny("step_up") forbid(principal, action, resource);
    @on_deny("require_approval") forbid(principal, action, resource);
    @redact("pii,secrets") permit(principal, action, resource);
    @id("x") permit(principal, action, resource);
  )").ok());
}

TEST(Obligations, ValidateRejectsUnknownOnDenyNamingThePolicy) {
  auto st = validate(R"(
    permit(principal, action, resource);
    @on_deny("stepup") forbid(principal, action, resource);
  )");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "unknown_obligation");
  EXPECT_NE(st.error().message.find("policy1"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("stepup"), std::string::npos);
}

TEST(Obligations, ValidateRejectsMisplacedAndBadRedactions) {
  struct Case {
    const char* text;
    const char* code;
  };
  for (const Case& c : {
           Case{R"(@on_deny("step_up") permit(principal, action, resource);)", "misplaced_obligation"},
           Case{R"(@redact("pii") forbid(principal, action, resource);)", "misplaced_obligation"},
           Case{R"(@redact("") permit(principal, action, resource);)", "invalid_redaction"},
           Case{R"(@redact("PII") permit(principal, action, resource);)", "invalid_redaction"},
           Case{R"(@redact("pii,medical") permit(principal, action, resource);)", "invalid_redaction"},
           Case{R"(@redact permit(principal, action, resource);)", "invalid_redaction"},
           Case{R"(@pseudonymize("pii") forbid(principal, action, resource);)", "misplaced_obligation"},
           Case{R"(@pseudonymize("pii,medical") permit(principal, action, resource);)", "invalid_redaction"},
           Case{R"(@on_deny forbid(principal, action, resource);)", "unknown_obligation"},
           Case{R"(@on_deny("step_up") forbid(principal == ?principal, action, resource);
                   @on_deny("nope") forbid(principal == ?principal, action, resource);)",
                "unknown_obligation"},
       }) {
    SCOPED_TRACE(c.text);
    auto st = validate(c.text);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, c.code);
  }
}

TEST(Obligations, ValidateAcceptsCustomCategories) {
  auto set = cedar::parse_policies(R"(@redact("phi") permit(principal, action, resource);)");
  ASSERT_TRUE(set.ok());
  EXPECT_FALSE(validate_obligations(*set).ok());
  EXPECT_TRUE(validate_obligations(*set, {"phi"}).ok());
}

TEST(Obligations, DenyAnswers) {
  auto plain = deny_answer(DenyObligation::kNone, "req-1");
  EXPECT_EQ(plain.status, 403);
  EXPECT_TRUE(plain.headers.empty());
  EXPECT_EQ(plain.body,
            R"({"error":{"code":"forbidden","message":"the request is denied by policy","request_id":"req-1"}})");

  auto step = deny_answer(DenyObligation::kStepUp, "req-2");
  EXPECT_EQ(step.status, 401);
  ASSERT_EQ(step.headers.size(), 1u);
  EXPECT_EQ(step.headers[0].first, "WWW-Authenticate");
  EXPECT_NE(step.headers[0].second.find(R"(error="insufficient_user_authentication")"), std::string::npos);
  auto step_json = boost::json::parse(step.body).as_object().at("error").as_object();
  EXPECT_EQ(step_json.at("code").as_string(), "step_up_required");
  EXPECT_EQ(step_json.at("obligation").as_string(), "step_up");
  EXPECT_EQ(step_json.at("request_id").as_string(), "req-2");

  auto approval = deny_answer(DenyObligation::kRequireApproval, "req-\"3\"");
  EXPECT_EQ(approval.status, 403);
  auto approval_json = boost::json::parse(approval.body).as_object().at("error").as_object();
  EXPECT_EQ(approval_json.at("code").as_string(), "approval_required");
  EXPECT_EQ(approval_json.at("obligation").as_string(), "require_approval");
  EXPECT_EQ(approval_json.at("request_id").as_string(), "req-\"3\"");  // escaped, round-trips
}

}  // namespace
}  // namespace ztgate::pipeline

namespace ztgate::pipeline {
namespace {

std::optional<std::string> spotlight_of(std::string_view policies) {
  auto d = decide(policies);
  EXPECT_EQ(d.response.decision, cedar::Decision::kAllow);
  auto o = derive_obligations(d.response);
  EXPECT_TRUE(o.ok());
  return o.ok() ? o->spotlight : std::nullopt;
}

TEST(Obligations, SpotlightComesFromDeterminingPermitsAndDatamarkWins) {
  EXPECT_EQ(spotlight_of(kPermitAll), std::nullopt);
  EXPECT_EQ(spotlight_of(R"(@spotlight("delimit") permit(principal, action, resource);)"), "delimit");
  EXPECT_EQ(spotlight_of(R"(@spotlight("") permit(principal, action, resource);)"), "");
  EXPECT_EQ(spotlight_of(R"(@spotlight("delimit") permit(principal, action, resource);
                            @spotlight("datamark") permit(principal, action, resource);
                            @spotlight("") permit(principal, action, resource);)"),
            "datamark");
  // A permit that is not satisfied asks for nothing.
  EXPECT_EQ(spotlight_of(std::string(kPermitAll) +
                         R"(@spotlight("datamark") permit(principal, action, resource) when { context has x };)"),
            std::nullopt);
}

TEST(Obligations, SpotlightIsValidatedAtLoad) {
  auto check = [](std::string_view text) {
    auto set = cedar::parse_policies(text);
    EXPECT_TRUE(set.ok());
    return validate_obligations(*set);
  };
  EXPECT_TRUE(check(R"(@spotlight("datamark") permit(principal, action, resource);)").ok());
  auto unknown = check(R"(@spotlight("glitter") permit(principal, action, resource);)");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "unknown_obligation");
  auto misplaced = check(R"(@spotlight("delimit") forbid(principal, action, resource);)");
  ASSERT_FALSE(misplaced.ok());
  EXPECT_EQ(misplaced.error().code, "misplaced_obligation");
}

}  // namespace
}  // namespace ztgate::pipeline

namespace ztgate::pipeline {
namespace {

TEST(Obligations, MinimizeComesFromAnyDeterminingPermitAndIsValidatedAtLoad) {
  auto minimize_of = [](std::string_view policies) {
    auto d = decide(policies);
    auto o = derive_obligations(d.response);
    EXPECT_TRUE(o.ok());
    return o.ok() ? o->minimize : std::nullopt;
  };
  EXPECT_EQ(minimize_of(kPermitAll), std::nullopt);
  EXPECT_EQ(minimize_of(std::string(kPermitAll) + R"(@minimize("summary_only") permit(principal, action, resource);)"),
            "summary_only");
  auto check = [](std::string_view text) {
    auto set = cedar::parse_policies(text);
    EXPECT_TRUE(set.ok());
    return validate_obligations(*set);
  };
  EXPECT_TRUE(check(R"(@minimize("summary_only") permit(principal, action, resource);)").ok());
  auto unknown = check(R"(@minimize("everything") permit(principal, action, resource);)");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "unknown_obligation");
  auto misplaced = check(R"(@minimize("summary_only") forbid(principal, action, resource);)");
  ASSERT_FALSE(misplaced.ok());
  EXPECT_EQ(misplaced.error().code, "misplaced_obligation");
}

}  // namespace
}  // namespace ztgate::pipeline
