// One authorization decision through the decision cache: what the authorize
// stage (and the PDP adapters, once per batch item) call.
//
// The cache key is the Cedar request as the policy set can observe it
// (decision_cache.h) plus `entities_key`, the serialized entities the
// request's credential brought (an overlay over the store: a token's groups
// change decisions, so they are part of the key), under the snapshot's
// versions. A response with evaluation errors is never cached, and a
// determining policy whose obligations do not parse turns the decision into
// a deny (fail closed).
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "cedar/authorizer.h"
#include "cedar/entities.h"
#include "pipeline/decision_cache.h"
#include "pipeline/exchange.h"

namespace ztgate::pipeline {

struct Snapshot;

class Decider {
 public:
  // `cache` may be null (no caching).
  Decider(const Snapshot& snapshot, DecisionCache* cache) : snapshot_(snapshot), cache_(cache) {}

  Verdict decide(const cedar::Request& request, const cedar::Entities& entities,
                 std::string_view entities_key = {}) const;
  // The same, building the entities only on a cache miss (an overlay costs
  // a parse; a hit needs only `entities_key`). `entities` returns null when
  // they cannot be built: the decision is then a deny with that error.
  Verdict decide_lazily(const cedar::Request& request, std::string_view entities_key,
                        const std::function<Result<std::shared_ptr<const cedar::Entities>>()>& entities) const;

 private:
  const Snapshot& snapshot_;
  DecisionCache* cache_;
};

}  // namespace ztgate::pipeline
