#include "authn/delegation.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <random>

#include "authn/base64url.h"
#include "authn/revocation.h"
#include "test_keys.h"

namespace ztgate::authn {
namespace {

constexpr int64_t kNow = 1'900'000'000;

ScopeSet scopes(std::string_view text) { return *ScopeSet::parse(text); }

std::vector<Jwk> own_keys(const SigningKey& key) {
  std::vector<Jwk> keys;
  keys.push_back(key.public_jwk().value());
  return keys;
}

AgentRegistry make_agents() {
  std::vector<AgentRecord> agents;
  agents.push_back({"build-bot", "CI helper", scopes("docs:read tickets:write repo:read"), {"agents"},
                    {"summarizer"}, 0, true});
  agents.push_back({"summarizer", "summaries", scopes("docs:read"), {"agents"}, {}, 120, true});
  agents.push_back({"retired", "", scopes("docs:read"), {}, {}, 0, false});
  return *AgentRegistry::create(std::move(agents));
}

Identity alice() {
  Identity id;
  id.principal = {"User", "alice"};
  id.groups = {"engineering"};
  id.scopes = scopes("docs:read tickets:write mail:send");
  id.authn = {"jwt", "corp", true, kNow - 100, {"pwd", "otp"}};
  return id;
}

class DelegationTest : public ::testing::Test {
 protected:
  DelegationTest()
      : key_(SigningKey::generate().value()),
        agents_(make_agents()),
        service_(DelegationConfig{}, key_, agents_, own_keys(key_)) {}

  ExchangeRequest request(std::string_view requested, const Identity* user) {
    ExchangeRequest r;
    r.user = user;
    r.actor = "build-bot";
    r.requested = scopes(requested);
    r.task = "task-42";
    return r;
  }

  SigningKey key_;
  AgentRegistry agents_;
  DelegationService service_;
  Identity alice_ = alice();
};

TEST_F(DelegationTest, MintsAndVerifiesATaskScopedToken) {
  auto minted = service_.exchange(request("docs:read tickets:write", &alice_), kNow);
  ASSERT_TRUE(minted) << minted.error().message;
  EXPECT_EQ(minted->claims.scopes, scopes("docs:read tickets:write"));
  EXPECT_EQ(minted->claims.exp - minted->claims.iat, 600);  // default max TTL
  auto d = service_.verify(minted->token, kNow + 10);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->user.to_cedar(), "User::\"alice\"");
  EXPECT_EQ(d->chain, std::vector<std::string>{"build-bot"});
  EXPECT_EQ(d->task, "task-42");
  EXPECT_EQ(d->scopes, scopes("docs:read tickets:write"));
  EXPECT_TRUE(d->user_mfa);
  EXPECT_EQ(d->jti, minted->claims.jti);
}

TEST_F(DelegationTest, PayloadCarriesRfc8693ActAndRegisteredClaims) {
  auto minted = service_.exchange(request("docs:read", &alice_), kNow);
  ASSERT_TRUE(minted);
  auto dot1 = minted->token.find('.');
  auto dot2 = minted->token.find('.', dot1 + 1);
  auto header = boost::json::parse(*base64url_decode(minted->token.substr(0, dot1))).as_object();
  auto payload = boost::json::parse(*base64url_decode(minted->token.substr(dot1 + 1, dot2 - dot1 - 1))).as_object();
  EXPECT_EQ(header.at("alg").as_string(), "EdDSA");
  EXPECT_EQ(header.at("typ").as_string(), kDelegationTyp);
  EXPECT_EQ(header.at("kid").as_string(), key_.kid());
  EXPECT_EQ(payload.at("sub").as_string(), "alice");
  EXPECT_EQ(payload.at("act").as_object().at("sub").as_string(), "build-bot");
  EXPECT_FALSE(payload.at("act").as_object().contains("act"));
  EXPECT_EQ(payload.at("aud").as_string(), "ztgate");
  EXPECT_EQ(payload.at("scope").as_string(), "docs:read");
  EXPECT_EQ(payload.at("jti").as_string().size(), 22u);  // 128 random bits
}

TEST_F(DelegationTest, JtiIsUniquePerMint) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto minted = service_.exchange(request("docs:read", &alice_), kNow);
    ASSERT_TRUE(minted);
    EXPECT_TRUE(seen.insert(minted->claims.jti).second);
  }
}

TEST_F(DelegationTest, RefusesScopesBeyondTheIntersectionNamingEachReason) {
  // mail:send: the user has it, the agent's maximum does not.
  // repo:read: the agent may hold it, the user does not.
  auto minted = service_.exchange(request("docs:read mail:send repo:read", &alice_), kNow);
  ASSERT_FALSE(minted);
  EXPECT_EQ(minted.error().code, "delegation_scope_exceeded");
  EXPECT_NE(minted.error().message.find("mail:send (beyond agent `build-bot`'s maximum)"), std::string::npos)
      << minted.error().message;
  EXPECT_NE(minted.error().message.find("repo:read (not held by the user)"), std::string::npos);
}

TEST_F(DelegationTest, NarrowsOnlyWhenAsked) {
  auto req = request("docs:read mail:send", &alice_);
  req.allow_narrowing = true;
  auto minted = service_.exchange(req, kNow);
  ASSERT_TRUE(minted) << minted.error().message;
  EXPECT_EQ(minted->claims.scopes, scopes("docs:read"));
  EXPECT_EQ(minted->narrowed_away, scopes("mail:send"));
  req.requested = scopes("mail:send");
  auto empty = service_.exchange(req, kNow);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, "delegation_scope_empty");
}

TEST_F(DelegationTest, TtlIsCappedByConfigAndAgent) {
  auto req = request("docs:read", &alice_);
  req.ttl_s = 601;
  EXPECT_EQ(service_.exchange(req, kNow).error().code, "delegation_ttl_exceeded");
  req.ttl_s = 60;
  EXPECT_EQ(service_.exchange(req, kNow)->claims.exp, kNow + 60);
  req.actor = "summarizer";  // its own maximum is 120 s
  req.ttl_s = 0;
  EXPECT_EQ(service_.exchange(req, kNow)->claims.exp, kNow + 120);
}

TEST_F(DelegationTest, UnknownOrDisabledAgentsGetNothing) {
  auto req = request("docs:read", &alice_);
  req.actor = "stranger";
  EXPECT_EQ(service_.exchange(req, kNow).error().code, "delegation_agent_unknown");
  req.actor = "retired";
  EXPECT_EQ(service_.exchange(req, kNow).error().code, "delegation_agent_disabled");
}

TEST_F(DelegationTest, AgentToAgentChainNestsActAndOnlyNarrows) {
  auto first = service_.exchange(request("docs:read tickets:write", &alice_), kNow);
  ASSERT_TRUE(first);
  auto parent = service_.verify(first->token, kNow);
  ASSERT_TRUE(parent);
  ExchangeRequest next;
  next.parent = &*parent;
  next.actor = "summarizer";
  next.requested = scopes("docs:read");
  auto second = service_.exchange(next, kNow + 5);
  ASSERT_TRUE(second) << second.error().message;
  auto d = service_.verify(second->token, kNow + 6);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->chain, (std::vector<std::string>{"summarizer", "build-bot"}));
  EXPECT_EQ(d->task, "task-42");
  EXPECT_EQ(d->depth(), 2);
  EXPECT_LE(d->exp, parent->exp);
  // The parent had tickets:write, but the summarizer's maximum does not.
  next.requested = scopes("tickets:write");
  EXPECT_EQ(service_.exchange(next, kNow).error().code, "delegation_scope_exceeded");
  // The summarizer may not delegate onwards to build-bot.
  ExchangeRequest back;
  back.parent = &*d;
  back.actor = "build-bot";
  back.requested = scopes("docs:read");
  EXPECT_EQ(service_.exchange(back, kNow).error().code, "delegation_chain_forbidden");
}

TEST_F(DelegationTest, VerifyRefusesTamperingForeignKeysAndOtherTokenTypes) {
  auto minted = service_.exchange(request("docs:read", &alice_), kNow);
  ASSERT_TRUE(minted);
  std::string tampered = minted->token;
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_FALSE(service_.verify(tampered, kNow));

  SigningKey other = SigningKey::generate().value();
  DelegationService forger(DelegationConfig{}, other, agents_, own_keys(other));
  auto forged = forger.exchange(request("docs:read", &alice_), kNow);
  ASSERT_TRUE(forged);
  auto r = service_.verify(forged->token, kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "jws_unknown_kid");

  // A token signed by our key but with another typ (e.g. a model manifest) is not a delegation.
  auto wrong_typ = key_.sign_compact("JWT", R"({"iss":"urn:ztgate:gateway","aud":"ztgate","exp":1900000600,"iat":1900000000})");
  EXPECT_EQ(service_.verify(*wrong_typ, kNow).error().code, "jws_typ_mismatch");
}

TEST_F(DelegationTest, ExpiryAndAudienceAreEnforced) {
  auto minted = service_.exchange(request("docs:read", &alice_), kNow);
  ASSERT_TRUE(minted);
  EXPECT_EQ(service_.verify(minted->token, kNow + 600 + 31).error().code, "jwt_expired");
  DelegationConfig other_gateway;
  other_gateway.audience = "another-gateway";
  DelegationService other(other_gateway, key_, agents_, own_keys(key_));
  EXPECT_EQ(other.verify(minted->token, kNow).error().code, "jwt_audience_mismatch");
}

TEST_F(DelegationTest, ALongLivedTokenSignedWithOurKeyIsRefused) {
  // Even our own signature cannot make a token live longer than max TTL.
  auto payload = R"({"iss":"urn:ztgate:gateway","aud":"ztgate","sub":"alice","act":{"sub":"build-bot"},
    "scope":"docs:read","task":"t","jti":"j","iat":1900000000,"exp":1900086400,
    "ztg":{"v":1,"user":{"type":"User","id":"alice"},"depth":1}})";
  auto token = key_.sign_compact(kDelegationTyp, payload);
  auto r = service_.verify(*token, kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "delegation_invalid");
}

TEST_F(DelegationTest, RevocationByJtiPrincipalAndTaskTakesEffectAtOnce) {
  auto minted = service_.exchange(request("docs:read", &alice_), kNow);
  ASSERT_TRUE(minted);
  for (auto [kind, value] : {std::pair{RevocationKind::kJti, minted->claims.jti},
                             {RevocationKind::kPrincipal, std::string("Agent::\"build-bot\"")},
                             {RevocationKind::kPrincipal, std::string("User::\"alice\"")},
                             {RevocationKind::kTask, std::string("task-42")}}) {
    RevocationList list({Revocation{kind, value, kNow + 1, "test", "ops"}});
    auto r = service_.verify(minted->token, kNow + 2, [&](const Delegation& d) { return list.revokes(d); });
    ASSERT_FALSE(r) << value;
    EXPECT_EQ(r.error().code, "delegation_revoked");
  }
  // A principal revocation covers tokens issued before it, not after.
  RevocationList earlier({Revocation{RevocationKind::kPrincipal, "Agent::\"build-bot\"", kNow - 1, "", ""}});
  EXPECT_TRUE(service_.verify(minted->token, kNow + 2, [&](const Delegation& d) { return earlier.revokes(d); }));
}

TEST_F(DelegationTest, DisablingAnAgentStopsItsLiveTokens) {
  auto minted = service_.exchange(request("docs:read", &alice_), kNow);
  ASSERT_TRUE(minted);
  std::vector<AgentRecord> changed;
  for (const auto* a : agents_.all()) {
    changed.push_back(*a);
    if (a->id == "build-bot") changed.back().enabled = false;
  }
  auto registry = *AgentRegistry::create(changed);
  DelegationService after_reload(DelegationConfig{}, key_, registry, own_keys(key_));
  EXPECT_EQ(after_reload.verify(minted->token, kNow).error().code, "delegation_agent_disabled");
}

TEST_F(DelegationTest, JustInTimeGrantsWidenOnlyWhileActive) {
  auto req = request("repo:read", &alice_);
  EXPECT_EQ(service_.exchange(req, kNow).error().code, "delegation_scope_exceeded");
  req.user_grants = scopes("repo:read");
  auto minted = service_.exchange(req, kNow);
  ASSERT_TRUE(minted) << minted.error().message;
  // mail:send is beyond the agent's maximum; an agent grant lifts the ceiling.
  auto mail = request("mail:send", &alice_);
  mail.agent_grants = scopes("mail:send");
  auto with_grant = service_.exchange(mail, kNow);
  ASSERT_TRUE(with_grant);
  auto granted = [](const EntityRef&) { return scopes("mail:send"); };
  EXPECT_EQ(service_.verify(with_grant->token, kNow, {}, granted)->scopes, scopes("mail:send"));
  // When the agent's grant has expired, the scope drops out on the next verification.
  auto none = [](const EntityRef&) { return ScopeSet{}; };
  EXPECT_TRUE(service_.verify(with_grant->token, kNow, {}, none)->scopes.empty());
}

// Property: for random user scopes, agent maxima and requests, a minted
// scope is a subset of each of them; a refusal happens exactly when the
// request is not within their intersection.
TEST(DelegationProperty, MintedScopeIsWithinEveryBound) {
  std::mt19937_64 rng(20261124);
  std::vector<std::string> universe;
  for (int i = 0; i < 12; ++i) universe.push_back("s" + std::to_string(i));
  auto random_set = [&](double p) {
    std::vector<std::string> out;
    std::bernoulli_distribution pick(p);
    for (const auto& s : universe)
      if (pick(rng)) out.push_back(s);
    return *ScopeSet::from_list(out);
  };
  SigningKey key = SigningKey::generate().value();
  int minted_count = 0, refused = 0;
  for (int round = 0; round < 3000; ++round) {
    ScopeSet agent_max = random_set(0.5), user_scopes = random_set(0.5), requested = random_set(0.3);
    ScopeSet user_grants = random_set(0.1), agent_grants = random_set(0.1);
    auto registry = *AgentRegistry::create({AgentRecord{"a", "", agent_max, {}, {}, 0, true}});
    DelegationService service(DelegationConfig{}, key, registry, own_keys(key));
    Identity user;
    user.principal = {"User", "u"};
    user.scopes = user_scopes;
    ExchangeRequest req;
    req.user = &user;
    req.actor = "a";
    req.requested = requested;
    req.task = "t";
    req.allow_narrowing = round % 2 == 0;
    req.user_grants = user_grants;
    req.agent_grants = agent_grants;
    auto minted = service.exchange(req, kNow);
    ScopeSet bound = user_scopes.unite(user_grants).intersect(agent_max.unite(agent_grants));
    bool must_refuse = req.allow_narrowing ? requested.intersect(bound).empty()
                                           : requested.empty() || !requested.subset_of(bound);
    ASSERT_EQ(!minted, must_refuse) << (minted ? "minted" : minted.error().message);
    if (!minted) {
      ++refused;
      continue;
    }
    ++minted_count;
    const ScopeSet& got = minted->claims.scopes;
    ASSERT_TRUE(got.subset_of(requested));
    ASSERT_TRUE(got.subset_of(user_scopes.unite(user_grants)));
    ASSERT_TRUE(got.subset_of(agent_max.unite(agent_grants)));
    if (!req.allow_narrowing) {
      ASSERT_EQ(got, requested);
    }
    // What verification reports is bounded by the same sets.
    auto verified = service.verify(minted->token, kNow, {}, [&](const EntityRef&) { return agent_grants; });
    ASSERT_TRUE(verified) << verified.error().message;
    ASSERT_TRUE(verified->scopes.subset_of(got));
  }
  EXPECT_GT(minted_count, 300);
  EXPECT_GT(refused, 300);
}

}  // namespace
}  // namespace ztgate::authn
