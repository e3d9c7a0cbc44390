#include "cedar/authorizer.h"

#include <algorithm>
#include <unordered_map>

#include "cedar/eval.h"

namespace ztgate::cedar {

// Each policy is indexed once, under the most selective constraint of its
// scope (its "anchor"): a named principal or resource entity first, then the
// action, then an entity type; a policy with no constraint at all is always a
// candidate. For a request, the candidates are the anchor buckets the request
// hits in each dimension: the entity's own `==` and `in` buckets, the `in`
// buckets of each of its ancestors, and its type's bucket. So a policy whose
// scope names some other principal, resource or action is never looked at,
// however many there are.
struct Authorizer::Index {
  using Bucket = std::vector<uint32_t>;
  struct Dimension {
    std::unordered_map<EntityUID, Bucket, EntityUIDHash> eq;     // == uid
    std::unordered_map<EntityUID, Bucket, EntityUIDHash> in;     // in uid (also is-in)
    std::unordered_map<std::string, Bucket> is;                  // is Type

    // Appends the ids in the buckets that `uid` hits.
    void collect(const EntityUID& uid, const Entities& entities, Bucket& out) const {
      auto add = [&](const auto& map, const auto& key) {
        auto it = map.find(key);
        if (it != map.end()) out.insert(out.end(), it->second.begin(), it->second.end());
      };
      if (!eq.empty()) add(eq, uid);
      if (!is.empty()) add(is, uid.type);
      if (!in.empty()) {
        add(in, uid);
        if (const Entity* e = entities.find(uid))
          for (const auto& anc : e->ancestors) add(in, anc);
      }
    }
  };

  Dimension principal, action, resource;
  Bucket unconstrained;
  std::vector<const Policy*> policies;

  // Anchors an entity scope that names an entity; false when it names none.
  static bool anchor_entity(const EntityScope& s, Dimension& dim, uint32_t i) {
    switch (s.kind) {
      case EntityScope::Kind::kEq: dim.eq[*s.entity].push_back(i); return true;
      case EntityScope::Kind::kIn:
      case EntityScope::Kind::kIsIn: dim.in[*s.entity].push_back(i); return true;
      default: return false;
    }
  }

  void add(const Policy& p, uint32_t i) {
    if (anchor_entity(p.principal, principal, i)) return;
    if (anchor_entity(p.resource, resource, i)) return;
    switch (p.action.kind) {
      case ActionScope::Kind::kEq: action.eq[p.action.entities[0]].push_back(i); return;
      case ActionScope::Kind::kIn: action.in[p.action.entities[0]].push_back(i); return;
      case ActionScope::Kind::kInSet:
        for (const auto& a : p.action.entities) action.in[a].push_back(i);
        return;
      case ActionScope::Kind::kAny: break;
    }
    if (p.principal.kind == EntityScope::Kind::kIs) {
      principal.is[p.principal.type].push_back(i);
    } else if (p.resource.kind == EntityScope::Kind::kIs) {
      resource.is[p.resource.type].push_back(i);
    } else {
      unconstrained.push_back(i);
    }
  }
};

Authorizer::Authorizer(std::shared_ptr<const PolicySet> policies)
    : policies_(std::move(policies)), index_(std::make_unique<Index>()) {
  for (const auto& p : policies_->policies()) {
    auto i = static_cast<uint32_t>(index_->policies.size());
    index_->policies.push_back(p.get());
    index_->add(*p, i);
  }
}

Authorizer::~Authorizer() = default;
Authorizer::Authorizer(Authorizer&&) noexcept = default;
Authorizer& Authorizer::operator=(Authorizer&&) noexcept = default;

Response Authorizer::is_authorized(const Request& request, const Entities& entities) const {
  Index::Bucket candidates = index_->unconstrained;
  index_->principal.collect(request.principal, entities, candidates);
  index_->resource.collect(request.resource, entities, candidates);
  index_->action.collect(request.action, entities, candidates);
  // Policy order makes results deterministic; an action listed twice in an
  // `in [...]` set or reached through two ancestors yields duplicates.
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

  Evaluator eval(request, entities);
  Response resp;
  std::vector<const Policy*> permits, forbids;
  for (uint32_t i : candidates) {
    const Policy* p = index_->policies[i];
    if (!eval.scope_matches(*p)) continue;
    auto holds = eval.conditions_hold(*p);
    if (!holds) {
      resp.errors.push_back(PolicyError{p->id, holds.error().message});
      continue;
    }
    if (!*holds) continue;
    (p->effect == Effect::kForbid ? forbids : permits).push_back(p);
  }
  if (!forbids.empty()) {
    resp.decision = Decision::kDeny;
    resp.determining_policies = std::move(forbids);
  } else if (!permits.empty()) {
    resp.decision = Decision::kAllow;
    resp.determining_policies = std::move(permits);
  } else {
    resp.decision = Decision::kDeny;
  }
  for (const Policy* p : resp.determining_policies) resp.determining.push_back(p->id);
  return resp;
}

}  // namespace ztgate::cedar
