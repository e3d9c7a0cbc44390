#include "cedar/authorizer.h"

#include <algorithm>
#include <unordered_map>

#include "cedar/eval.h"

namespace ztgate::cedar {

// Policies are indexed along each scope dimension. For a request, every
// dimension yields a candidate list (wildcards + exact buckets + the buckets
// of the entity's ancestors); the shortest list is evaluated. So a policy
// whose scope names another principal, action or resource costs nothing.
struct Authorizer::Index {
  using Bucket = std::vector<uint32_t>;
  struct Dimension {
    Bucket any;                                                  // unconstrained
    std::unordered_map<EntityUID, Bucket, EntityUIDHash> eq;     // == uid
    std::unordered_map<EntityUID, Bucket, EntityUIDHash> in;     // in uid (incl. is-in)
    std::unordered_map<std::string, Bucket> is;                  // is Type

    void add_entity_scope(const EntityScope& s, uint32_t i) {
      switch (s.kind) {
        case EntityScope::Kind::kAny: any.push_back(i); break;
        case EntityScope::Kind::kEq: eq[*s.entity].push_back(i); break;
        case EntityScope::Kind::kIn:
        case EntityScope::Kind::kIsIn: in[*s.entity].push_back(i); break;
        case EntityScope::Kind::kIs: is[s.type].push_back(i); break;
      }
    }

    // Appends the candidate buckets for `uid` to `out`; returns their total size.
    size_t collect(const EntityUID& uid, const Entities& entities,
                   std::vector<const Bucket*>& out) const {
      size_t n = 0;
      auto add = [&](const Bucket* b) {
        if (b && !b->empty()) {
          out.push_back(b);
          n += b->size();
        }
      };
      add(&any);
      if (!eq.empty()) {
        auto it = eq.find(uid);
        add(it == eq.end() ? nullptr : &it->second);
      }
      if (!is.empty()) {
        auto it = is.find(uid.type);
        add(it == is.end() ? nullptr : &it->second);
      }
      if (!in.empty()) {
        auto self = in.find(uid);
        add(self == in.end() ? nullptr : &self->second);
        if (const Entity* e = entities.find(uid)) {
          for (const auto& anc : e->ancestors) {
            auto it = in.find(anc);
            add(it == in.end() ? nullptr : &it->second);
          }
        }
      }
      return n;
    }
  };

  Dimension principal, action, resource;
  std::vector<const Policy*> policies;
};

Authorizer::Authorizer(std::shared_ptr<const PolicySet> policies)
    : policies_(std::move(policies)), index_(std::make_unique<Index>()) {
  for (const auto& p : policies_->policies()) {
    auto i = static_cast<uint32_t>(index_->policies.size());
    index_->policies.push_back(p.get());
    index_->principal.add_entity_scope(p->principal, i);
    index_->resource.add_entity_scope(p->resource, i);
    switch (p->action.kind) {
      case ActionScope::Kind::kAny: index_->action.any.push_back(i); break;
      case ActionScope::Kind::kEq: index_->action.eq[p->action.entities[0]].push_back(i); break;
      case ActionScope::Kind::kIn: index_->action.in[p->action.entities[0]].push_back(i); break;
      case ActionScope::Kind::kInSet:
        for (const auto& a : p->action.entities) index_->action.in[a].push_back(i);
        break;
    }
  }
}

Authorizer::~Authorizer() = default;
Authorizer::Authorizer(Authorizer&&) noexcept = default;
Authorizer& Authorizer::operator=(Authorizer&&) noexcept = default;

Response Authorizer::is_authorized(const Request& request, const Entities& entities) const {
  // Pick the most selective dimension.
  std::vector<const Index::Bucket*> buckets[3];
  size_t sizes[3] = {
      index_->principal.collect(request.principal, entities, buckets[0]),
      index_->action.collect(request.action, entities, buckets[1]),
      index_->resource.collect(request.resource, entities, buckets[2]),
  };
  size_t best = std::min_element(sizes, sizes + 3) - sizes;
  std::vector<uint32_t> candidates;
  candidates.reserve(sizes[best]);
  for (const auto* b : buckets[best]) candidates.insert(candidates.end(), b->begin(), b->end());
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
