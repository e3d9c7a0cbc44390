#include "pipeline/decision_cache.h"

#include <algorithm>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <string_view>

namespace ztgate::pipeline {

namespace {

// Node, list links, map node and allocator slack: a conservative estimate so
// the byte bound holds for real memory, not just payload.
constexpr size_t kEntryOverheadBytes = 256;

void append_segment(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

void append_uid(std::string& out, const cedar::EntityUID& uid) {
  append_segment(out, uid.type);
  append_segment(out, uid.id);
}

size_t entry_bytes(const std::string& request, const CachedDecision& d) {
  size_t n = kEntryOverheadBytes + request.size();
  for (const auto& id : d.determining) n += id.size() + sizeof(std::string);
  for (const auto& name : d.names) n += name.size() + sizeof(std::string);
  for (const auto& c : d.obligations.redact) n += c.size() + sizeof(std::string);
  for (const auto& c : d.obligations.pseudonymize) n += c.size() + sizeof(std::string);
  return n;
}

}  // namespace

std::optional<CachedDecision> cacheable_decision(const cedar::Response& response) {
  if (!response.errors.empty()) return std::nullopt;
  auto obligations = derive_obligations(response);
  if (!obligations) return std::nullopt;
  CachedDecision d;
  d.decision = response.decision;
  d.determining = response.determining;
  for (const cedar::Policy* p : response.determining_policies)
    if (auto name = p->annotation("id")) d.names.emplace_back(*name);
  d.obligations = std::move(*obligations);
  return d;
}

DecisionKey make_decision_key(const cedar::Request& request, const ContextPaths& paths,
                              const Versions& versions) {
  DecisionKey key;
  key.versions = versions;
  append_uid(key.request, request.principal);
  append_uid(key.request, request.action);
  append_uid(key.request, request.resource);
  append_segment(key.request, canonical_context(request.context, paths));
  return key;
}

struct DecisionCache::Shard {
  struct Node {
    std::string request;
    Versions versions;
    std::shared_ptr<const CachedDecision> decision;
    size_t bytes = 0;
  };
  using Lru = std::list<Node>;  // front: most recently used

  std::mutex mu;
  Lru lru;
  std::map<std::string_view, Lru::iterator, std::less<>> index;  // views into Node::request
  size_t bytes = 0;

  void erase(std::map<std::string_view, Lru::iterator, std::less<>>::iterator it) {
    Lru::iterator node = it->second;
    bytes -= node->bytes;
    index.erase(it);
    lru.erase(node);
  }
};

DecisionCache::DecisionCache(DecisionCacheLimits limits) : limits_(limits) {
  limits_.shards = std::max<size_t>(1, limits_.shards);
  for (size_t i = 0; i < limits_.shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

DecisionCache::~DecisionCache() = default;

DecisionCache::Shard& DecisionCache::shard_for(const std::string& request) {
  return *shards_[std::hash<std::string>{}(request) % shards_.size()];
}

std::shared_ptr<const CachedDecision> DecisionCache::find(const DecisionKey& key) {
  Shard& shard = shard_for(key.request);
  std::lock_guard lock(shard.mu);
  auto it = shard.index.find(key.request);
  if (it == shard.index.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  if (!(it->second->versions == key.versions)) {
    shard.erase(it);  // decided under other policies/entities/revocations
    stale_.fetch_add(1, std::memory_order_relaxed);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second->decision;
}

bool DecisionCache::insert(const DecisionKey& key, CachedDecision decision) {
  if (key.request.size() > kMaxDecisionKeyBytes) return false;
  const size_t max_entries = std::max<size_t>(1, limits_.max_entries / shards_.size());
  const size_t max_bytes = limits_.max_bytes / shards_.size();
  const size_t bytes = entry_bytes(key.request, decision);
  if (bytes > max_bytes) return false;

  Shard& shard = shard_for(key.request);
  std::lock_guard lock(shard.mu);
  if (auto it = shard.index.find(key.request); it != shard.index.end()) shard.erase(it);
  while (!shard.lru.empty() && (shard.lru.size() + 1 > max_entries || shard.bytes + bytes > max_bytes)) {
    shard.erase(shard.index.find(shard.lru.back().request));
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
  shard.lru.push_front(Shard::Node{key.request, key.versions,
                                   std::make_shared<const CachedDecision>(std::move(decision)), bytes});
  shard.index.emplace(shard.lru.front().request, shard.lru.begin());
  shard.bytes += bytes;
  return true;
}

bool DecisionCache::insert(const DecisionKey& key, const cedar::Response& response) {
  auto decision = cacheable_decision(response);
  return decision && insert(key, std::move(*decision));
}

void DecisionCache::clear() {
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    shard->index.clear();
    shard->lru.clear();
    shard->bytes = 0;
  }
}

DecisionCacheStats DecisionCache::stats() const {
  DecisionCacheStats s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.stale = stale_.load(std::memory_order_relaxed);
  s.evictions = evictions_.load(std::memory_order_relaxed);
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    s.entries += shard->lru.size();
    s.bytes += shard->bytes;
  }
  return s;
}

}  // namespace ztgate::pipeline
