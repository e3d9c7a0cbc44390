#include "pipeline/decider.h"

#include "pipeline/snapshot.h"

namespace ztgate::pipeline {
namespace {

Verdict from_cached(const CachedDecision& d, bool cached) {
  Verdict v;
  v.decision = d.decision;
  v.determining = d.determining;
  v.names = d.names;
  v.obligations = d.obligations;
  v.cached = cached;
  return v;
}

}  // namespace

Verdict Decider::decide(const cedar::Request& request, const cedar::Entities& entities,
                        std::string_view entities_key) const {
  return decide_lazily(request, entities_key, [&entities]() -> Result<std::shared_ptr<const cedar::Entities>> {
    // Not owned: the caller's entities outlive this call.
    return std::shared_ptr<const cedar::Entities>(std::shared_ptr<const cedar::Entities>{}, &entities);
  });
}

Verdict Decider::decide_lazily(
    const cedar::Request& request, std::string_view entities_key,
    const std::function<Result<std::shared_ptr<const cedar::Entities>>()>& get_entities) const {
  std::optional<DecisionKey> key;
  if (cache_) {
    key = make_decision_key(request, snapshot_.context_paths, snapshot_.versions);
    key->request += "|E";
    key->request += entities_key;
    if (auto hit = cache_->find(*key)) return from_cached(*hit, true);
  }
  auto entities = get_entities();
  if (!entities) {
    Verdict v;
    v.errors.push_back({"(entities)", entities.error().message});
    return v;  // deny
  }
  cedar::Response response = snapshot_.authorizer->is_authorized(request, **entities);
  if (auto cacheable = cacheable_decision(response)) {
    Verdict v = from_cached(*cacheable, false);
    if (key) cache_->insert(*key, std::move(*cacheable));
    return v;
  }
  // Not cacheable: evaluation errors, or obligations that do not parse.
  Verdict v;
  v.decision = response.decision;
  v.determining = response.determining;
  for (const cedar::Policy* p : response.determining_policies)
    if (auto name = p->annotation("id")) v.names.emplace_back(*name);
  v.errors = response.errors;
  auto obligations = derive_obligations(response);
  if (obligations) {
    v.obligations = std::move(*obligations);
  } else {
    v.decision = cedar::Decision::kDeny;
    v.errors.push_back({"(obligations)", obligations.error().message});
  }
  return v;
}

}  // namespace ztgate::pipeline
