#include "authn/identity.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace ztgate::authn {
namespace {

constexpr int64_t kNow = 1'900'000'000;

JwtClaims claims(std::string_view json) {
  JwtClaims c;
  c.all = boost::json::parse(json).as_object();
  if (auto* iat = c.all.if_contains("iat")) c.iat = iat->as_int64();
  return c;
}

TEST(Identity, MapsClaimsToAUserWithGroupsRolesAttributesAndScopes) {
  ClaimMapping m;
  m.group_scopes["engineering"] = {"docs:read"};
  auto id = map_claims(claims(R"({"sub":"alice","groups":["engineering","oncall"],"roles":"admin",
      "email":"alice@example.com","tenant":"acme","scope":"tickets:write","scp":["mail:send"],
      "amr":["pwd","otp"],"auth_time":1899999000,"iat":1899999900})"), m, "corp");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->principal.to_cedar(), "User::\"alice\"");
  EXPECT_EQ(id->groups, (std::vector<std::string>{"engineering", "oncall", "role:admin"}));
  EXPECT_EQ(id->attrs.at("email").as_string(), "alice@example.com");
  EXPECT_EQ(id->attrs.at("tenant").as_string(), "acme");
  EXPECT_EQ(id->scopes.to_string(), "docs:read mail:send tickets:write");
  auto ctx = authn_context(id->authn, kNow);
  EXPECT_EQ(ctx.at("mfa").as_bool(), true);
  EXPECT_EQ(ctx.at("age_s").as_int64(), 1000);
  EXPECT_EQ(ctx.at("method").as_string(), "jwt");
  EXPECT_EQ(ctx.at("issuer").as_string(), "corp");

  auto entity = principal_entity(*id);
  EXPECT_EQ(entity.at("parents").as_array().size(), 3u);
  EXPECT_EQ(entity.at("parents").as_array()[0].as_object().at("type").as_string(), "Group");
}

TEST(Identity, MfaNeedsTwoFactorCategoriesOrAnExplicitValue) {
  ClaimMapping m;
  auto pwd_only = map_claims(claims(R"({"sub":"a","amr":["pwd"]})"), m, "i");
  EXPECT_FALSE(pwd_only->authn.mfa);
  auto two_knowledge = map_claims(claims(R"({"sub":"a","amr":["pwd","pin"]})"), m, "i");
  EXPECT_FALSE(two_knowledge->authn.mfa);
  auto explicit_mfa = map_claims(claims(R"({"sub":"a","amr":["mfa"]})"), m, "i");
  EXPECT_TRUE(explicit_mfa->authn.mfa);
  auto hardware = map_claims(claims(R"({"sub":"a","amr":["hwk"]})"), m, "i");
  EXPECT_TRUE(hardware->authn.mfa);
}

TEST(Identity, UnknownAuthenticationTimeReadsAsVeryOld) {
  auto id = map_claims(claims(R"({"sub":"a"})"), ClaimMapping{}, "i");
  ASSERT_TRUE(id);
  EXPECT_EQ(authn_context(id->authn, kNow).at("age_s").as_int64(), kUnknownAuthAge);
}

TEST(Identity, RefusesMissingSubjectAndMistypedClaims) {
  EXPECT_EQ(map_claims(claims(R"({"email":"x"})"), ClaimMapping{}, "i").error().code, "identity_invalid");
  EXPECT_EQ(map_claims(claims(R"({"sub":"a","groups":[1]})"), ClaimMapping{}, "i").error().code,
            "identity_invalid");
  EXPECT_EQ(map_claims(claims(R"({"sub":"a","groups":{"x":1}})"), ClaimMapping{}, "i").error().code,
            "identity_invalid");
  EXPECT_EQ(map_claims(claims(R"({"sub":"a","scope":"bad\"scope"})"), ClaimMapping{}, "i").error().code,
            "scope_invalid");
  std::string many = R"({"sub":"a","groups":[)";
  for (int i = 0; i < 1100; ++i) many += (i ? ",\"g" : "\"g") + std::to_string(i) + "\"";
  EXPECT_EQ(map_claims(claims(many + "]}"), ClaimMapping{}, "i").error().code, "identity_invalid");
}

TEST(Identity, CustomMappingUsesOtherClaimNamesAndTypes) {
  ClaimMapping m;
  m.user_type = "Acme::Employee";
  m.id_claim = "email";
  m.groups_claim = "teams";
  auto id = map_claims(claims(R"({"sub":"00u1","email":"bob@acme.test","teams":"sales"})"), m, "okta");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->principal.to_cedar(), "Acme::Employee::\"bob@acme.test\"");
  EXPECT_EQ(id->groups, std::vector<std::string>{"sales"});
}

TEST(Identity, EntityIdsAreEscapedForCedar) {
  EntityRef r{"User", "a\"b\\c"};
  EXPECT_EQ(r.to_cedar(), "User::\"a\\\"b\\\\c\"");
}

TEST(Scopes, ParsesValidatesAndComputesSetAlgebra) {
  auto a = ScopeSet::parse("  b a  a c ");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->to_string(), "a b c");
  auto b = *ScopeSet::parse("b c d");
  EXPECT_EQ(a->intersect(b).to_string(), "b c");
  EXPECT_EQ(a->minus(b).to_string(), "a");
  EXPECT_EQ(a->unite(b).to_string(), "a b c d");
  EXPECT_TRUE(a->intersect(b).subset_of(*a));
  EXPECT_FALSE(ScopeSet::parse("a\\b"));
  EXPECT_FALSE(ScopeSet::parse(std::string(129, 'x')));
  EXPECT_FALSE(ScopeSet::from_list({""}));
  std::string many;
  for (int i = 0; i < 300; ++i) many += "s" + std::to_string(i) + " ";
  EXPECT_EQ(ScopeSet::parse(many).error().code, "scope_invalid");
}

}  // namespace
}  // namespace ztgate::authn
