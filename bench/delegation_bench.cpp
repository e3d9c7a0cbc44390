// Benchmarks of delegation tokens (src/authn/delegation.h), beside their
// baseline in the same run:
//   exchange             mint: attenuation, claims JSON, Ed25519 signature
//   verify               signature, claims, registry and revocation checks
//   verify_jwt_eddsa     the baseline: a plain EdDSA JWT verification of a
//                        token of the same size (what any JWT costs)
//   revocation_check     RevocationList::revokes with 10,000 entries
//
//   build/bench/delegation_bench
#include <benchmark/benchmark.h>

#include "authn/delegation.h"
#include "authn/revocation.h"

namespace {

using namespace ztgate::authn;

constexpr int64_t kNow = 1'900'000'000;

struct Fixture {
  SigningKey key = SigningKey::generate().value();
  AgentRegistry agents = AgentRegistry::create({AgentRecord{
      "build-bot", "", ScopeSet::parse("docs:read tickets:write repo:read").value(), {"agents"}, {}, 0, true}}).value();
  std::unique_ptr<DelegationService> service;
  Identity user;
  std::vector<Jwk> keys;
  Fixture() {
    keys.push_back(key.public_jwk().value());
    std::vector<Jwk> own;
    own.push_back(key.public_jwk().value());
    service = std::make_unique<DelegationService>(DelegationConfig{}, key, agents, std::move(own));
    user.principal = {"User", "alice"};
    user.groups = {"engineering", "oncall"};
    user.scopes = ScopeSet::parse("docs:read tickets:write mail:send").value();
    user.authn = {"jwt", "corp", true, kNow - 60, {"pwd", "otp"}};
  }
  ExchangeRequest request() const {
    ExchangeRequest r;
    r.user = &user;
    r.actor = "build-bot";
    r.requested = ScopeSet::parse("docs:read tickets:write").value();
    r.task = "ticket-4711";
    return r;
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_Exchange(benchmark::State& state) {
  auto& f = fixture();
  auto req = f.request();
  for (auto _ : state) {
    auto minted = f.service->exchange(req, kNow);
    benchmark::DoNotOptimize(minted);
  }
}
BENCHMARK(BM_Exchange);

void BM_Verify(benchmark::State& state) {
  auto& f = fixture();
  std::string token = f.service->exchange(f.request(), kNow).value().token;
  std::vector<Revocation> entries;
  for (int i = 0; i < 10000; ++i) entries.push_back({RevocationKind::kJti, "j" + std::to_string(i), kNow, "", ""});
  RevocationList list(std::move(entries));
  auto revoked = [&](const Delegation& d) { return list.revokes(d); };
  for (auto _ : state) {
    auto d = f.service->verify(token, kNow + 1, revoked);
    if (!d) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_Verify);

void BM_VerifyJwtEdDSABaseline(benchmark::State& state) {
  auto& f = fixture();
  std::string token = f.service->exchange(f.request(), kNow).value().token;
  JwsPolicy jws;
  jws.allowed_algs = {"EdDSA"};
  JwtPolicy jwt;
  jwt.issuers = {"urn:ztgate:gateway"};
  jwt.audience = "ztgate";
  for (auto _ : state) {
    auto c = verify_jwt(token, f.keys, jws, jwt, kNow + 1);
    if (!c) state.SkipWithError("verify_jwt failed");
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_VerifyJwtEdDSABaseline);

void BM_RevocationCheck(benchmark::State& state) {
  std::vector<Revocation> entries;
  for (int i = 0; i < 10000; ++i) {
    entries.push_back({RevocationKind::kJti, "j" + std::to_string(i), kNow, "", ""});
    if (i % 10 == 0) entries.push_back({RevocationKind::kPrincipal, "Agent::\"a" + std::to_string(i) + "\"", kNow, "", ""});
  }
  RevocationList list(std::move(entries));
  Delegation d;
  d.user = {"User", "alice"};
  d.chain = {"build-bot", "summarizer"};
  d.task = "ticket-4711";
  d.jti = "not-revoked";
  d.iat = kNow;
  for (auto _ : state) benchmark::DoNotOptimize(list.revokes(d));
}
BENCHMARK(BM_RevocationCheck);

}  // namespace

BENCHMARK_MAIN();
