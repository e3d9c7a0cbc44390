#include "state/session_facts.h"

#include <algorithm>
#include <array>
#include <limits>
#include <list>
#include <mutex>
#include <unordered_map>

namespace ztgate::state {
namespace {

namespace json = boost::json;

constexpr int64_t kWindowSeconds = 60;
constexpr size_t kShardedFrom = 1024;  // fewer keys: one shard, exact LRU
constexpr size_t kShards = 16;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

void add_sorted(std::vector<std::string>& list, std::string_view item, bool& overflow) {
  if (item.empty()) return;
  if (item.size() > kMaxItemBytes) {
    overflow = true;
    return;
  }
  auto it = std::lower_bound(list.begin(), list.end(), item);
  if (it != list.end() && *it == item) return;
  if (list.size() >= kMaxListItems) {
    overflow = true;
    return;
  }
  list.insert(it, std::string(item));
}

struct Session {
  SessionFacts facts;  // calls_last_minute is computed on read
  std::array<int64_t, kWindowSeconds> bucket_second;
  std::array<int64_t, kWindowSeconds> bucket_calls{};
  int64_t last_ms = 0;
  std::list<const std::string*>::iterator lru;  // its place in Shard::lru

  Session() { bucket_second.fill(std::numeric_limits<int64_t>::min()); }

  void count_call(int64_t now_ms) {
    int64_t second = floor_div(now_ms, 1000);
    auto i = static_cast<size_t>(second - floor_div(second, kWindowSeconds) * kWindowSeconds);
    if (bucket_second[i] != second) {
      bucket_second[i] = second;
      bucket_calls[i] = 0;
    }
    ++bucket_calls[i];
  }

  // Calls in the seconds (now - 60 s, now]; a bucket from the future (the
  // clock stepped back) still counts: a rate limit must not be reset by it.
  int64_t calls_last_minute(int64_t now_ms) const {
    int64_t second = floor_div(now_ms, 1000);
    int64_t sum = 0;
    for (size_t i = 0; i < bucket_second.size(); ++i)
      if (bucket_second[i] > second - kWindowSeconds) sum += bucket_calls[i];
    return sum;
  }
};

struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Shard {
  std::mutex mu;
  std::unordered_map<std::string, Session, KeyHash, std::equal_to<>> sessions;
  std::list<const std::string*> lru;  // most recently observed first; points at the map's keys
};

class MemorySessionStore final : public SessionStore {
 public:
  MemorySessionStore(size_t max_keys, std::chrono::milliseconds idle_ttl)
      : shards_(std::max<size_t>(max_keys, 1) >= kShardedFrom ? kShards : 1),
        per_shard_((std::max<size_t>(max_keys, 1) + shards_.size() - 1) / shards_.size()),
        idle_ttl_ms_(std::max<int64_t>(idle_ttl.count(), 1)) {}

  SessionFacts facts(std::string_view key, int64_t now_ms) override {
    SessionFacts out;
    if (key.empty() || key.size() > kMaxKeyBytes) {
      out.overflow = true;
      return out;
    }
    Shard& shard = shard_of(key);
    std::lock_guard lock(shard.mu);
    auto it = shard.sessions.find(key);
    if (it == shard.sessions.end() || expired(it->second, now_ms)) return out;
    out = it->second.facts;
    out.calls_last_minute = it->second.calls_last_minute(now_ms);
    return out;
  }

  void observe(std::string_view key, const Observation& o, int64_t now_ms) override {
    if (key.empty() || key.size() > kMaxKeyBytes) return;
    Shard& shard = shard_of(key);
    std::lock_guard lock(shard.mu);
    evict_idle(shard, now_ms);
    auto it = shard.sessions.find(key);
    if (it != shard.sessions.end() && expired(it->second, now_ms)) {
      shard.lru.erase(it->second.lru);
      shard.sessions.erase(it);
      it = shard.sessions.end();
    }
    if (it == shard.sessions.end()) {
      while (shard.sessions.size() >= per_shard_ && !shard.lru.empty()) erase_oldest(shard);
      it = shard.sessions.emplace(std::string(key), Session{}).first;
      shard.lru.push_front(&it->first);
      it->second.lru = shard.lru.begin();
      it->second.facts.started_ms = now_ms;
    } else {
      shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);
    }
    apply(it->second, o, now_ms);
  }

 private:
  Shard& shard_of(std::string_view key) { return shards_[KeyHash{}(key) % shards_.size()]; }

  bool expired(const Session& s, int64_t now_ms) const { return now_ms - s.last_ms >= idle_ttl_ms_; }

  static void erase_oldest(Shard& shard) {
    const std::string* key = shard.lru.back();
    shard.lru.pop_back();
    shard.sessions.erase(*key);
  }

  // The LRU order is also the idle order: expired sessions sit at the back.
  void evict_idle(Shard& shard, int64_t now_ms) {
    while (!shard.lru.empty()) {
      auto it = shard.sessions.find(*shard.lru.back());
      if (!expired(it->second, now_ms)) return;
      erase_oldest(shard);
    }
  }

  static void apply(Session& s, const Observation& o, int64_t now_ms) {
    SessionFacts& f = s.facts;
    if (f.calls < std::numeric_limits<int64_t>::max()) ++f.calls;
    s.count_call(now_ms);
    s.last_ms = std::max(s.last_ms, now_ms);
    if (o.data_rank > f.data_rank) {
      f.data_rank = o.data_rank;
      if (o.data_label.size() > kMaxItemBytes) {
        f.overflow = true;
        f.data_label.clear();
      } else {
        f.data_label = o.data_label;
      }
    }
    f.untrusted_seen = f.untrusted_seen || o.untrusted;
    add_sorted(f.tools_used, o.tool, f.overflow);
    add_sorted(f.destinations, o.destination, f.overflow);
  }

  std::vector<Shard> shards_;
  const size_t per_shard_;
  const int64_t idle_ttl_ms_;
};

}  // namespace

std::unique_ptr<SessionStore> make_memory_session_store(size_t max_keys, std::chrono::milliseconds idle_ttl) {
  return std::make_unique<MemorySessionStore>(max_keys, idle_ttl);
}

json::object session_context(const SessionFacts& f) {
  json::array tools(f.tools_used.begin(), f.tools_used.end());
  json::array destinations(f.destinations.begin(), f.destinations.end());
  return json::object{{"data_rank", f.data_rank},
                      {"data_label", f.data_label},
                      {"untrusted_seen", f.untrusted_seen},
                      {"tools_used", std::move(tools)},
                      {"destinations", std::move(destinations)},
                      {"calls", f.calls},
                      {"calls_last_minute", f.calls_last_minute},
                      {"overflow", f.overflow}};
}

}  // namespace ztgate::state
