// Fuzz target: the claims of delegation tokens (src/authn/delegation).
//
// The fuzzer writes the payload; the target signs it with ztgate's own key,
// so the signature is valid and every claim check is exercised.
//
// Properties checked, for any payload:
//   1. verify returns a value or an error; it never crashes or leaks.
//   2. What verifies is within the rules, whoever signed it: the chain is
//      non-empty, no deeper than the configured maximum, names registered
//      agents only; the scopes are within the current agent's maximum; the
//      lifetime is at most max TTL; the user is the subject.
#include <cstddef>
#include <cstdint>
#include <string>

#include "authn/delegation.h"
#include "property.h"

namespace {

using namespace ztgate::authn;
using ztgate::fuzz::require;

constexpr int64_t kNow = 1900000000;

struct Fixture {
  SigningKey key = SigningKey::generate().value();
  AgentRegistry agents = AgentRegistry::create(
      {AgentRecord{"a", "", ScopeSet::parse("s1 s2").value(), {}, {"b"}, 0, true},
       AgentRecord{"b", "", ScopeSet::parse("s1").value(), {}, {}, 0, true},
       AgentRecord{"off", "", ScopeSet::parse("s1").value(), {}, {}, 0, false}}).value();
  std::unique_ptr<DelegationService> service;
  Fixture() {
    std::vector<Jwk> keys;
    keys.push_back(key.public_jwk().value());
    service = std::make_unique<DelegationService>(DelegationConfig{}, key, agents, std::move(keys));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture f;
  if (size > 8192) return 0;
  std::string payload(reinterpret_cast<const char*>(data), size);
  auto token = f.key.sign_compact(kDelegationTyp, payload);
  require(token.ok(), "signing never fails");
  auto d = f.service->verify(*token, kNow);
  if (!d) return 0;
  require(!d->chain.empty() && d->depth() <= f.service->config().max_chain_depth, "chain bounded", payload);
  for (const auto& agent : d->chain) {
    const AgentRecord* a = f.agents.find(agent);
    require(a != nullptr && a->enabled, "only registered, enabled agents", payload);
  }
  require(d->scopes.subset_of(f.agents.find(d->agent())->max_scopes), "scopes within the agent maximum", payload);
  require(d->exp - d->iat <= f.service->config().max_ttl_s, "lifetime bounded", payload);
  require(!d->user.id.empty(), "a subject", payload);
  return 0;
}
