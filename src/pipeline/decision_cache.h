// The decision cache: authorization decisions keyed by everything that can
// change them, so that a cached allow can never outlive its reasons.
//
// Key = principal uid, action uid, resource uid, the canonical form of ONLY
// the context fields the policy set reads (see context_paths.h), and the
// Versions of the policies, entities and revocations. Whoever changes one of
// those bumps its version (a monotonic counter, never reused); a lookup with
// other versions is a miss and drops the stale entry, so a stale allow is
// impossible even before eviction gets to it.
//
// Never cached: a response with evaluation errors. An erroring policy is
// skipped by Cedar; if it was a forbid, the result is an allow that holds
// only because something was broken (a missing attribute, an overflow). Each
// such request must be evaluated and its errors reported (audit, metrics) on
// its own, and error-provoking requests are the ones an attacker would use to
// fill the cache.
//
// The caller must take the Versions from the same snapshots (policies,
// entities, revocations) it evaluates with, e.g. read them together with the
// shared_ptr snapshots, so a decision is never filed under newer versions.
//
// Bounds: at most `max_entries` entries and `max_bytes` bytes (key, stored
// decision and a fixed per-entry overhead), split evenly over `shards` shards;
// each shard evicts least-recently-used first. Keys longer than
// kMaxDecisionKeyBytes are not cached.
//
// Thread-safe: each shard has its own mutex; counters are atomics.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cedar/authorizer.h"
#include "pipeline/context_paths.h"
#include "pipeline/obligations.h"

namespace ztgate::pipeline {

inline constexpr size_t kMaxDecisionKeyBytes = 16 * 1024;

struct Versions {
  uint64_t policies = 0;
  uint64_t entities = 0;
  uint64_t revocations = 0;

  friend bool operator==(const Versions&, const Versions&) = default;
};

// What a caller needs of a decision, by value (no pointers into a PolicySet
// that a reload may free).
struct CachedDecision {
  cedar::Decision decision = cedar::Decision::kDeny;
  std::vector<std::string> determining;  // policy ids
  Obligations obligations;
  std::vector<std::string> names;  // the determining policies' @id annotations, where given

  friend bool operator==(const CachedDecision&, const CachedDecision&) = default;
};

// The cacheable form of a response, or nullopt when it must not be cached
// (evaluation errors, or obligations that do not parse).
std::optional<CachedDecision> cacheable_decision(const cedar::Response& response);

struct DecisionKey {
  std::string request;  // unambiguous serialization of uids + observed context
  Versions versions;
};

// `paths` must come from the policy set the decision will be made with.
DecisionKey make_decision_key(const cedar::Request& request, const ContextPaths& paths,
                              const Versions& versions);

struct DecisionCacheLimits {
  size_t max_entries = 100'000;
  size_t max_bytes = size_t{64} << 20;
  size_t shards = 16;  // at least 1
};

struct DecisionCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;     // including stale ones
  uint64_t stale = 0;      // found with other versions and dropped
  uint64_t evictions = 0;  // dropped to stay within the bounds
  uint64_t entries = 0;
  uint64_t bytes = 0;
};

class DecisionCache {
 public:
  explicit DecisionCache(DecisionCacheLimits limits = {});
  ~DecisionCache();
  DecisionCache(const DecisionCache&) = delete;
  DecisionCache& operator=(const DecisionCache&) = delete;

  // The cached decision for exactly these request and versions, or null. The
  // decision is shared and immutable: a hit costs no copy.
  std::shared_ptr<const CachedDecision> find(const DecisionKey& key);
  // Stores (or replaces) a decision. Returns false if it was not stored: the
  // key is too long, or the entry alone exceeds a shard's byte budget.
  bool insert(const DecisionKey& key, CachedDecision decision);
  // Stores a response if cacheable_decision() accepts it.
  bool insert(const DecisionKey& key, const cedar::Response& response);
  void clear();

  DecisionCacheStats stats() const;
  const DecisionCacheLimits& limits() const { return limits_; }

 private:
  struct Shard;
  Shard& shard_for(const std::string& request);

  DecisionCacheLimits limits_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
  std::atomic<uint64_t> stale_{0};
  std::atomic<uint64_t> evictions_{0};
};

}  // namespace ztgate::pipeline
