// Policy templates and linking. Link errors and decisions were confirmed
// against the official implementation (cedar-wasm 4.13, isAuthorized with
// `templates` and `templateLinks`).
#include <gtest/gtest.h>

#include "test_support.h"

#include <map>
#include <memory>
#include <string>

#include "cedar/authorizer.h"
#include "cedar/policy_set.h"

namespace ztgate::cedar {
namespace {

constexpr std::string_view kEntities = R"([
  {"uid": {"type": "User", "id": "alice"}, "attrs": {}, "parents": [{"type": "Group", "id": "eng"}]},
  {"uid": {"type": "Doc", "id": "d"}, "attrs": {"public": false}, "parents": [{"type": "Folder", "id": "f"}]}
])";

const Entities& store() {
  static const Entities entities = testing::entities_or_fail(kEntities);
  return entities;
}

PolicySet parse(std::string_view text) { return testing::policies_or_fail(text); }

const std::map<SlotId, EntityUID> kAliceAndDoc = {
    {SlotId::kPrincipal, {"User", "alice"}}, {SlotId::kResource, {"Doc", "d"}}};

Response authorize(const PolicySet& set, EntityUID principal = {"User", "alice"},
                   EntityUID resource = {"Doc", "d"}) {
  Authorizer az(std::make_shared<const PolicySet>(set));
  return az.is_authorized({std::move(principal), {"Action", "view"}, std::move(resource), nullptr},
                          store());
}

// ------------------------------------------------------------- templates

TEST(Template, TemplateIsNotAPolicyUntilLinked) {
  PolicySet set = parse("permit(principal == ?principal, action, resource);");
  ASSERT_EQ(set.templates().size(), 1u);
  EXPECT_TRUE(set.policies().empty());
  EXPECT_TRUE(set.templates()[0]->is_template);
  EXPECT_TRUE(set.templates()[0]->principal.uses_slot);
  EXPECT_FALSE(set.templates()[0]->principal.entity.has_value());
  EXPECT_EQ(authorize(set).decision, Decision::kDeny);
}

TEST(Template, EitherSlotMakesATemplate) {
  EXPECT_EQ(parse("permit(principal, action, resource in ?resource);").templates().size(), 1u);
  EXPECT_EQ(parse("permit(principal is User in ?principal, action, resource);").templates().size(), 1u);
  EXPECT_EQ(parse("permit(principal == User::\"a\", action, resource);").templates().size(), 0u);
}

TEST(Template, TemplateLinkFillsSlots) {
  PolicySet set = parse(R"(permit(principal == ?principal, action, resource in ?resource);)");
  ASSERT_TRUE(set.link("policy0", "alice-docs", kAliceAndDoc).ok());
  ASSERT_EQ(set.policies().size(), 1u);
  const Policy& linked = *set.policies()[0];
  EXPECT_EQ(linked.id, "alice-docs");
  EXPECT_EQ(linked.template_id, "policy0");
  EXPECT_FALSE(linked.is_template);
  EXPECT_EQ(linked.principal.kind, EntityScope::Kind::kEq);
  EXPECT_EQ(linked.principal.entity, (EntityUID{"User", "alice"}));
  EXPECT_FALSE(linked.principal.uses_slot);
  EXPECT_EQ(linked.resource.kind, EntityScope::Kind::kIn);
  EXPECT_EQ(linked.resource.entity, (EntityUID{"Doc", "d"}));
  // The template itself is unchanged.
  EXPECT_TRUE(set.find_template("policy0")->principal.uses_slot);

  Response r = authorize(set);
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(r.determining, (std::vector<std::string>{"alice-docs"}));
  EXPECT_EQ(authorize(set, {"User", "bob"}).decision, Decision::kDeny);
}

TEST(Template, LinkedPolicyKeepsTheTemplatesEffectAnnotationsAndConditions) {
  PolicySet set = parse(R"(
    permit(principal, action, resource);
    @reason("private") forbid(principal == ?principal, action, resource) unless { resource.public };
  )");
  ASSERT_TRUE(set.link("policy1", "no-private", {{SlotId::kPrincipal, {"User", "alice"}}}).ok());
  const Policy* linked = set.find_policy("no-private");
  ASSERT_NE(linked, nullptr);
  EXPECT_EQ(linked->effect, Effect::kForbid);
  EXPECT_EQ(linked->annotation("reason"), "private");
  ASSERT_EQ(linked->conditions.size(), 1u);
  EXPECT_FALSE(linked->conditions[0].is_when);

  Response r = authorize(set);
  EXPECT_EQ(r.decision, Decision::kDeny);
  EXPECT_EQ(r.determining, (std::vector<std::string>{"no-private"}));
}

TEST(Template, LinksOfOneTemplateAreIndependent) {
  PolicySet set = parse("permit(principal == ?principal, action, resource);");
  ASSERT_TRUE(set.link("policy0", "for-alice", {{SlotId::kPrincipal, {"User", "alice"}}}).ok());
  ASSERT_TRUE(set.link("policy0", "for-bob", {{SlotId::kPrincipal, {"User", "bob"}}}).ok());
  EXPECT_EQ(authorize(set).determining, (std::vector<std::string>{"for-alice"}));
  EXPECT_EQ(authorize(set, {"User", "bob"}).determining, (std::vector<std::string>{"for-bob"}));
  EXPECT_EQ(authorize(set, {"User", "carol"}).decision, Decision::kDeny);
}

TEST(Template, InSlotFollowsTheHierarchy) {
  PolicySet set = parse("permit(principal in ?principal, action, resource);");
  ASSERT_TRUE(set.link("policy0", "eng", {{SlotId::kPrincipal, {"Group", "eng"}}}).ok());
  EXPECT_EQ(authorize(set).decision, Decision::kAllow);
  EXPECT_EQ(authorize(set, {"Group", "eng"}).decision, Decision::kAllow);
  EXPECT_EQ(authorize(set, {"User", "bob"}).decision, Decision::kDeny);
}

TEST(Template, IsInSlotChecksTypeAndHierarchy) {
  PolicySet set = parse("permit(principal is User in ?principal, action, resource is Doc in ?resource);");
  ASSERT_TRUE(set.link("policy0", "l", {{SlotId::kPrincipal, {"Group", "eng"}},
                                         {SlotId::kResource, {"Folder", "f"}}})
                  .ok());
  EXPECT_EQ(authorize(set).decision, Decision::kAllow);
  EXPECT_EQ(authorize(set, {"Group", "eng"}).decision, Decision::kDeny);  // not a User
  EXPECT_EQ(authorize(set, {"User", "alice"}, {"Folder", "f"}).decision, Decision::kDeny);
}

TEST(Template, ManyLinksAreIndexedByTheirFilledSlot) {
  // 1000 links of an erroring template: only the requester's link is evaluated.
  PolicySet set = parse("permit(principal == ?principal, action, resource) when { principal.nope };");
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE(set.link("policy0", "l" + std::to_string(i),
                         {{SlotId::kPrincipal, {"User", "u" + std::to_string(i)}}})
                    .ok());
  ASSERT_TRUE(set.link("policy0", "alice", {{SlotId::kPrincipal, {"User", "alice"}}}).ok());
  Response r = authorize(set);
  EXPECT_EQ(r.decision, Decision::kDeny);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].policy_id, "alice");
}

// ------------------------------------------------------------- link errors

TEST(TemplateLink, LinkMissingSlotIsError) {
  PolicySet set = parse("permit(principal == ?principal, action, resource in ?resource);");
  auto st = set.link("policy0", "l", {{SlotId::kPrincipal, {"User", "alice"}}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "missing_slot");
  EXPECT_NE(st.error().message.find("?resource"), std::string::npos) << st.error().message;
  EXPECT_TRUE(set.policies().empty());  // nothing half-linked
}

TEST(TemplateLink, LinkExtraSlotIsError) {
  PolicySet set = parse("permit(principal == ?principal, action, resource);");
  auto st = set.link("policy0", "l", kAliceAndDoc);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "unexpected_slot");
  EXPECT_NE(st.error().message.find("?resource"), std::string::npos) << st.error().message;
  EXPECT_TRUE(set.policies().empty());
}

TEST(TemplateLink, LinkUnknownTemplateIsError) {
  PolicySet set = parse(R"(
    permit(principal, action, resource);
    permit(principal == ?principal, action, resource);
  )");
  EXPECT_EQ(set.link("nope", "l", {{SlotId::kPrincipal, {"User", "a"}}}).error().code,
            "unknown_template");
  // A static policy is not a template.
  EXPECT_EQ(set.link("policy0", "l", {}).error().code, "unknown_template");
}

TEST(TemplateLink, LinkIdMustBeUniqueAcrossPoliciesTemplatesAndLinks) {
  PolicySet set = parse(R"(
    permit(principal, action, resource);
    permit(principal == ?principal, action, resource);
  )");
  const std::map<SlotId, EntityUID> alice = {{SlotId::kPrincipal, {"User", "alice"}}};
  EXPECT_EQ(set.link("policy1", "policy0", alice).error().code, "duplicate_policy_id");
  EXPECT_EQ(set.link("policy1", "policy1", alice).error().code, "duplicate_policy_id");
  ASSERT_TRUE(set.link("policy1", "l1", alice).ok());
  EXPECT_EQ(set.link("policy1", "l1", {{SlotId::kPrincipal, {"User", "bob"}}}).error().code,
            "duplicate_policy_id");
  EXPECT_EQ(set.policies().size(), 2u);
}

TEST(TemplateLink, AddingAPolicyWithATakenIdIsError) {
  PolicySet set = parse("permit(principal == ?principal, action, resource);");
  Policy p;
  p.id = "policy0";
  auto st = set.add(p);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "duplicate_policy_id");
  p.id = "other";
  EXPECT_TRUE(set.add(p).ok());
}

// ------------------------------------------------------------- printing

TEST(TemplatePrint, TemplatesPrintTheirSlotsAndLinksAreNotSourceText) {
  PolicySet set = parse("permit(principal in ?principal, action, resource == ?resource);");
  ASSERT_TRUE(set.link("policy0", "l", {{SlotId::kPrincipal, {"Group", "eng"}},
                                         {SlotId::kResource, {"Doc", "d"}}})
                  .ok());
  std::string text = format_policies(set);
  EXPECT_NE(text.find("principal in ?principal"), std::string::npos) << text;
  EXPECT_NE(text.find("resource == ?resource"), std::string::npos) << text;
  EXPECT_EQ(text.find("Group::"), std::string::npos) << text;  // the link is not printed
  EXPECT_EQ(format_policy(*set.find_policy("l")).find("?"), std::string::npos);
  EXPECT_NE(format_policy(*set.find_policy("l")).find("principal in Group::\"eng\""), std::string::npos);
  // The printed template parses back to a template.
  auto back = parse_policies(text);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->templates().size(), 1u);
}

}  // namespace
}  // namespace ztgate::cedar
