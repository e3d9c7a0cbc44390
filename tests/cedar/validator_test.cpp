// Strict validation, pinned to the reference validator (cedar-policy-core
// validator/typecheck.rs, rbac.rs). Every verdict below was cross-checked
// with cedar-wasm's `validate` (strict mode); the one deliberate difference
// is named in PolicyThatNoActionAppliesToIsAnError.
#include <gtest/gtest.h>

#include <algorithm>

#include "cedar/entities.h"
#include "cedar/policy_set.h"
#include "cedar/schema.h"
#include "cedar/validator.h"

namespace ztgate::cedar {
namespace {

constexpr std::string_view kSchema = R"(
  entity User in [Group] {
    name: String, age: Long, manager?: User, tags: Set<String>,
    profile: { email?: String, score: Long },
  } tags String;
  entity Group { owner: User };
  entity Doc {
    owner: User, readers: Set<User>, level?: Long,
    ip: ipaddr, price: decimal, created: datetime, ttl: duration,
  };
  entity Tagless;
  entity Color enum ["red", "green"];
  namespace NS { entity R; action act appliesTo { principal: [R], resource: [R] }; }
  action view, edit appliesTo {
    principal: [User], resource: [Doc],
    context: { ip: ipaddr, authenticated: Bool, level?: Long, when: datetime },
  };
  action manage in view appliesTo { principal: [User, Group], resource: [Group, Doc] };
  action tagless appliesTo { principal: Tagless, resource: [Tagless, Color] };
)";

const Schema& schema() {
  static const Schema s = [] {
    auto r = parse_schema(kSchema);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? *r : Schema{};
  }();
  return s;
}

ValidationResult validate(std::string_view policy_text) {
  auto policies = parse_policies(policy_text);
  EXPECT_TRUE(policies.ok()) << (policies.ok() ? "" : policies.error().to_string());
  if (!policies.ok()) return {};
  return validate_policies(schema(), *policies);
}

std::string codes(const ValidationResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.code + ";";
  return out;
}

bool has_error(const ValidationResult& r, std::string_view code) {
  return std::any_of(r.errors.begin(), r.errors.end(),
                     [&](const ValidationIssue& e) { return e.code == code; });
}

// A `when` clause on `view`, whose principal is a User and resource a Doc.
std::string on_view(std::string_view condition) {
  return "permit(principal, action == Action::\"view\", resource) when { " +
         std::string(condition) + " };";
}

#define EXPECT_VALID(text)                                   \
  do {                                                       \
    auto r_ = validate(text);                                \
    EXPECT_TRUE(r_.ok()) << (text) << "\n" << codes(r_);     \
  } while (0)

#define EXPECT_ERROR(text, code)                                                 \
  do {                                                                           \
    auto r_ = validate(text);                                                    \
    EXPECT_TRUE(has_error(r_, code)) << (text) << "\nexpected " << (code)        \
                                     << ", got: " << codes(r_);                  \
  } while (0)

TEST(Validator, AcceptsWellTypedPolicies) {
  EXPECT_VALID("permit(principal, action, resource);");
  EXPECT_VALID(on_view("context.authenticated && principal.age >= 18"));
  EXPECT_VALID(on_view("resource.readers.contains(principal) || resource.owner == principal"));
  EXPECT_VALID(on_view("principal.profile.score * 2 - 1 + principal.age == 3"));
  EXPECT_VALID(on_view("principal.name like \"a*\" && principal in Group::\"admins\""));
}

TEST(Validator, OptionalAttributeNeedsAHasGuard) {
  EXPECT_ERROR(on_view("principal.manager == resource.owner"), "unsafe_optional_attribute_access");
  EXPECT_ERROR(on_view("context.level > 3"), "unsafe_optional_attribute_access");
  EXPECT_ERROR(on_view("principal.profile.email like \"*@x.com\""),
               "unsafe_optional_attribute_access");
}

TEST(Validator, HasGuardCarriesThroughAndAndIfThen) {
  EXPECT_VALID(on_view("principal has manager && principal.manager == resource.owner"));
  EXPECT_VALID(on_view("context has level && context.level > 3"));
  EXPECT_VALID(on_view("if principal has manager then principal.manager == resource.owner else false"));
  EXPECT_VALID(on_view("principal has manager.manager && principal.manager.manager == principal"));
  // `||` keeps what both of its operands guarantee.
  EXPECT_VALID(on_view("(principal has manager && principal.age > 1 || principal has manager) && "
                       "principal.manager == principal"));
}

TEST(Validator, HasGuardDoesNotCarryIntoTheRightOfOrNorTheElseBranch) {
  EXPECT_ERROR(on_view("principal has manager || principal.manager == resource.owner"),
               "unsafe_optional_attribute_access");
  EXPECT_ERROR(on_view("if principal has manager then true else principal.manager == principal"),
               "unsafe_optional_attribute_access");
  EXPECT_ERROR(on_view("(if principal has manager then true else false) && principal.manager == principal"),
               "unsafe_optional_attribute_access");
}

TEST(Validator, UndeclaredAttributeIsAnError) {
  EXPECT_ERROR(on_view("principal.nickname == \"x\""), "unsafe_attribute_access");
  EXPECT_ERROR("permit(principal, action, resource) when { context.authenticated };",
               "unsafe_attribute_access");
}

TEST(Validator, HasOnAnUndeclaredAttributeIsFalseNotAnError) {
  EXPECT_VALID(on_view("principal has nickname"));
  EXPECT_VALID(on_view("principal has nickname && principal.nickname == 1"));
}

TEST(Validator, UnknownEntityTypesActionsAndEnumIdsAreErrors) {
  EXPECT_ERROR(on_view("principal in Unknown::\"x\""), "unrecognized_entity_type");
  EXPECT_ERROR("permit(principal, action == Action::\"nope\", resource);", "unrecognized_action_id");
  EXPECT_ERROR("permit(principal, action, resource is Color) when { resource == Color::\"blue\" };",
               "invalid_enum_entity");
  EXPECT_VALID("permit(principal, action, resource is Color) when { resource == Color::\"red\" };");
}

// Cedar 4.10 (the corpus) reports a policy that no action applies to as an
// error; 4.13 made it a warning. We follow 4.10.
TEST(Validator, PolicyThatNoActionAppliesToIsAnError) {
  EXPECT_ERROR("permit(principal is Group, action == Action::\"view\", resource);",
               "invalid_action_application");
  EXPECT_ERROR("permit(principal in Doc::\"d\", action == Action::\"view\", resource);",
               "invalid_action_application");
  EXPECT_VALID("permit(principal is Group, action, resource);");
}

TEST(Validator, ErrorsInOperandsThatCannotRunAreNotReported) {
  EXPECT_VALID("permit(principal, action, resource) when { false && principal.foo };");
  EXPECT_VALID("permit(principal, action, resource) when { true || principal.foo };");
  EXPECT_VALID("permit(principal, action, resource) when { if true then true else principal.foo };");
  // The scope rules out every environment but `manage`'s where `action in view` holds.
  EXPECT_VALID(on_view("action == Action::\"edit\" && principal.foo"));
  EXPECT_VALID(on_view("principal is Group && principal.foo"));
  EXPECT_ERROR("permit(principal, action == Action::\"manage\", resource) when { "
               "action in Action::\"view\" && principal.foo };",
               "unsafe_attribute_access");
}

TEST(Validator, ReportsErrorsFromEveryRequestEnvironment) {
  // `name` exists on User but not on Group, which `manage` also allows.
  EXPECT_ERROR("permit(principal, action == Action::\"manage\", resource) when { principal.name == \"a\" };",
               "unsafe_attribute_access");
  EXPECT_VALID("permit(principal, action == Action::\"manage\", resource) when { "
               "principal is Group && principal.owner == resource.owner };");
}

TEST(Validator, StrictModeRejectsIncompatibleOperands) {
  EXPECT_ERROR(on_view("principal.age == \"a\""), "incompatible_types");
  EXPECT_ERROR(on_view("principal in [Group::\"g\", User::\"u\"]"), "incompatible_types");
  EXPECT_ERROR(on_view("(if context.authenticated then principal else resource).age > 0"),
               "incompatible_types");
  EXPECT_ERROR(on_view("resource.readers.contains(resource)"), "incompatible_types");
  EXPECT_ERROR(on_view("resource.readers.containsAll(principal.tags)"), "incompatible_types");
  EXPECT_ERROR(on_view("{a: 1} == {a: 2, b: 1}"), "incompatible_types");
  // Actions of different namespaces in one scope list form a mixed set.
  EXPECT_ERROR("permit(principal, action in [Action::\"view\", NS::Action::\"act\"], resource);",
               "incompatible_types");
}

TEST(Validator, ComparisonsKnownFromTypesAloneAreNotErrors) {
  EXPECT_VALID(on_view("principal == resource"));  // different entity types: always false
  EXPECT_VALID(on_view("1 == \"a\""));             // two literals: decided now
  EXPECT_VALID(on_view("principal in resource"));  // a User is never in a Doc: false
}

TEST(Validator, ArithmeticAndOrderingNeedTheirOperandTypes) {
  EXPECT_ERROR(on_view("principal.age + 1 > principal.name"), "unexpected_type");
  EXPECT_ERROR(on_view("-principal.name == 1"), "unexpected_type");
  EXPECT_ERROR(on_view("resource.price < decimal(\"1.0\")"), "unexpected_type");
  EXPECT_VALID(on_view("resource.price.lessThan(decimal(\"1.0\"))"));
  EXPECT_VALID(on_view("context.when > datetime(\"2024-01-01\")"));
  EXPECT_VALID(on_view("context.when < context.when.offset(duration(\"1h\"))"));
  EXPECT_VALID(on_view("resource.ttl.toHours() > 2"));
}

TEST(Validator, EmptySetLiteralIsAnError) {
  EXPECT_ERROR(on_view("[] == principal.tags"), "empty_set_forbidden");
}

TEST(Validator, ExtensionConstructorsNeedValidLiteralArguments) {
  EXPECT_VALID(on_view("context.ip.isInRange(ip(\"10.0.0.0/8\"))"));
  EXPECT_ERROR(on_view("context.ip.isInRange(ip(\"10.0.0.0/88\"))"), "function_argument_validation");
  EXPECT_ERROR(on_view("decimal(\"1.23456\") == decimal(\"1.0\")"), "function_argument_validation");
  EXPECT_ERROR(on_view("datetime(\"nope\") == context.when"), "function_argument_validation");
  EXPECT_ERROR(on_view("context.ip.isInRange(ip(principal.name))"),
               "non_literal_extension_constructor");
  EXPECT_ERROR(on_view("ip(\"1.2.3.4\").isIpv4(1)"), "wrong_number_arguments");
  EXPECT_ERROR(on_view("principal.age.isIpv4()"), "unexpected_type");
}

TEST(Validator, GetTagNeedsAHasTagGuardOnTheSameKey) {
  EXPECT_VALID(on_view("principal.hasTag(\"k\") && principal.getTag(\"k\") == \"v\""));
  EXPECT_ERROR(on_view("principal.getTag(\"k\") == \"v\""), "unsafe_tag_access");
  EXPECT_ERROR(on_view("principal.hasTag(\"k\") && principal.getTag(\"j\") == \"v\""),
               "unsafe_tag_access");
  // The tag type is the declared one: String.
  EXPECT_ERROR(on_view("principal.hasTag(\"k\") && principal.getTag(\"k\") == 1"),
               "incompatible_types");
  // An entity type without tags: hasTag is always false, so the rest never runs.
  EXPECT_VALID("permit(principal, action == Action::\"tagless\", resource) when { "
               "principal.hasTag(\"a\") && principal.getTag(\"a\") == 1 };");
}

TEST(Validator, ErrorsCarryThePolicyIdAndTheOffendingExpression) {
  auto r = validate("permit(principal, action, resource);\n"
                    "permit(principal, action == Action::\"view\", resource)\n"
                    "  when { principal.nickname == \"x\" };");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].policy_id, "policy1");
  EXPECT_EQ(r.errors[0].code, "unsafe_attribute_access");
  EXPECT_EQ(r.errors[0].loc.line, 3);
  EXPECT_NE(r.errors[0].message.find("nickname"), std::string::npos);
}

TEST(Validator, PolicyThatIsAlwaysFalseIsOnlyAWarning) {
  auto r = validate("permit(principal, action, resource) when { false };");
  EXPECT_TRUE(r.ok()) << codes(r);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].code, "impossible_policy");
}

TEST(Validator, TemplatesAreCheckedForEverySlotTypeTheScopeAllows) {
  EXPECT_VALID("permit(principal == ?principal, action == Action::\"view\", resource in ?resource) "
               "when { resource.owner == principal };");
  // `principal in ?principal` allows every principal type, including ones
  // without `age`.
  EXPECT_ERROR("permit(principal in ?principal, action, resource) when { principal.age > 1 };",
               "unsafe_attribute_access");
}

TEST(Validator, LinkedPoliciesMustApplyToSomeAction) {
  auto policies = parse_policies(
      "permit(principal == ?principal, action == Action::\"view\", resource);");
  ASSERT_TRUE(policies.ok());
  const std::string tid = policies->templates().front()->id;
  ASSERT_TRUE(policies->link(tid, "ok", {{SlotId::kPrincipal, EntityUID{"User", "u"}}}).ok());
  EXPECT_TRUE(validate_policies(schema(), *policies).ok());
  ASSERT_TRUE(policies->link(tid, "bad", {{SlotId::kPrincipal, EntityUID{"Doc", "d"}}}).ok());
  auto r = validate_policies(schema(), *policies);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0].policy_id, "bad");
  EXPECT_EQ(r.errors[0].code, "invalid_action_application");
}

// --- requests and entities ------------------------------------------------------

RecordPtr record(ValueRecord fields) {
  return std::make_shared<const ValueRecord>(std::move(fields));
}

ValueRecord view_context() {
  return ValueRecord{{"ip", Value(IpAddr{})},
                     {"authenticated", Value(true)},
                     {"when", Value(Datetime{0})}};
}

TEST(ValidateRequest, AcceptsTypesAndContextTheActionAllows) {
  Request req{{"User", "u"}, {"Action", "view"}, {"Doc", "d"}, record(view_context())};
  EXPECT_TRUE(validate_request(schema(), req).ok());
}

TEST(ValidateRequest, RejectsWrongTypesUnknownActionsAndBadContext) {
  Request wrong_principal{{"Doc", "x"}, {"Action", "view"}, {"Doc", "d"}, record(view_context())};
  EXPECT_FALSE(validate_request(schema(), wrong_principal).ok());
  Request unknown_action{{"User", "u"}, {"Action", "fly"}, {"Doc", "d"}, record(view_context())};
  EXPECT_FALSE(validate_request(schema(), unknown_action).ok());
  ValueRecord missing = view_context();
  missing.erase("authenticated");
  Request missing_attr{{"User", "u"}, {"Action", "view"}, {"Doc", "d"}, record(missing)};
  EXPECT_FALSE(validate_request(schema(), missing_attr).ok());
  ValueRecord extra = view_context();
  extra.emplace("other", Value(1));
  Request extra_attr{{"User", "u"}, {"Action", "view"}, {"Doc", "d"}, record(extra)};
  EXPECT_FALSE(validate_request(schema(), extra_attr).ok());
  Request bad_enum{{"Tagless", "t"}, {"Action", "tagless"}, {"Color", "blue"}, nullptr};
  EXPECT_FALSE(validate_request(schema(), bad_enum).ok());
}

Entity user(std::string id, ValueRecord attrs, std::vector<EntityUID> parents = {}) {
  Entity e;
  e.uid = EntityUID{"User", std::move(id)};
  e.attrs = std::move(attrs);
  e.parents = std::move(parents);
  return e;
}

ValueRecord user_attrs() {
  return ValueRecord{{"name", Value("n")},
                     {"age", Value(3)},
                     {"tags", Value::set({})},
                     {"profile", Value::record({{"score", Value(1)}})}};
}

Status check(std::vector<Entity> list) {
  auto entities = Entities::build(std::move(list));
  EXPECT_TRUE(entities.ok());
  return entities.ok() ? validate_entities(schema(), *entities) : Status(Ok{});
}

TEST(ValidateEntities, AcceptsEntitiesMatchingTheirDeclaration) {
  Entity u = user("u", user_attrs(), {EntityUID{"Group", "g"}});
  u.tags = ValueRecord{{"k", Value("v")}};
  EXPECT_TRUE(check({u}).ok());
}

TEST(ValidateEntities, RejectsEntitiesThatDoNotMatch) {
  Entity undeclared;
  undeclared.uid = EntityUID{"Nope", "x"};
  EXPECT_FALSE(check({undeclared}).ok());

  ValueRecord missing = user_attrs();
  missing.erase("age");
  EXPECT_FALSE(check({user("u", missing)}).ok());

  ValueRecord wrong = user_attrs();
  wrong["age"] = Value("three");
  EXPECT_FALSE(check({user("u", wrong)}).ok());

  EXPECT_FALSE(check({user("u", user_attrs(), {EntityUID{"Doc", "d"}})}).ok());

  Entity tagged;
  tagged.uid = EntityUID{"Tagless", "t"};
  tagged.tags = ValueRecord{{"k", Value("v")}};
  EXPECT_FALSE(check({tagged}).ok());

  Entity color;
  color.uid = EntityUID{"Color", "blue"};
  EXPECT_FALSE(check({color}).ok());
}

}  // namespace
}  // namespace ztgate::cedar
