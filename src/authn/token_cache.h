// A bounded, thread-safe cache of verified tokens, so a token presented again
// (every request of an agent session carries the same bearer token) skips the
// signature check and the JSON parse.
//
// Key: the token's exact bytes. A fast keyed 64-bit hash picks the shard and
// the table slot; a hit also compares the full token, so a hash collision can
// never return another token's identity.
// Value: any immutable verified result, held as std::shared_ptr<const Value>
// (JwtClaims here; delegation caches its own verified type).
//
// Guarantees and bounds:
//   - An entry is returned only while now < expires_at, where expires_at =
//     min(valid_until, inserted_at + Options::max_ttl_s). The caller passes as
//     valid_until the first second the verified result stops being valid (the
//     token's `exp`; earlier if it also has a max age): a cached token is never
//     accepted later than verification would have accepted it.
//   - At most Options::max_entries entries (least recently used evicted first,
//     per shard); tokens longer than Options::max_token_bytes are not cached.
//     Memory is therefore at most about max_entries * max_token_bytes.
//   - clear() drops everything: call it on key rotation, JWKS refresh that
//     removes a key, or any change of the verification policy. One cache
//     serves exactly one verifier configuration (keys + policies).
//   - All members are safe to call concurrently; a hit takes one shard mutex.
//
// A hit means "this token verified earlier"; it does NOT mean "not revoked".
// Revocation (jti / subject / agent lists) must still be checked after a hit.
//
// Use:
//   std::shared_ptr<const JwtClaims> claims = cache.find(token, now);
//   if (!claims) {
//     auto verified = verify_jwt(token, keys, jws_policy, jwt_policy, now);
//     if (!verified) return verified.error();          // failures are not cached
//     int64_t until = verified->exp;                   // not exp + skew: stricter
//     claims = std::make_shared<const JwtClaims>(std::move(verified).value());
//     cache.insert(token, claims, until, now);
//   }
//   check_revocation(*claims);                         // on every request
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ztgate::authn {

// A fast, non-cryptographic 64-bit hash of `bytes`, keyed with a per-process
// random seed so outsiders cannot aim tokens at one table slot.
uint64_t token_hash(std::string_view bytes);

struct TokenCacheOptions {
  size_t max_entries = 4096;        // total bound across shards (>= 1)
  int64_t max_ttl_s = 300;          // an entry lives at most this long after insertion
  size_t max_token_bytes = 16 * 1024;
  size_t shards = 16;               // lock striping; reduced if > max_entries
};

template <class Value>
class TokenCache {
 public:
  using Hasher = std::function<uint64_t(std::string_view)>;

  // `hasher` is injectable for tests (e.g. a constant, to force collisions).
  explicit TokenCache(TokenCacheOptions options = {}, Hasher hasher = token_hash)
      : options_(options), hasher_(std::move(hasher)) {
    options_.max_entries = std::max<size_t>(options_.max_entries, 1);
    options_.max_ttl_s = std::max<int64_t>(options_.max_ttl_s, 0);
    size_t shard_count = std::clamp<size_t>(options_.shards, 1, options_.max_entries);
    per_shard_ = options_.max_entries / shard_count;  // shard_count * per_shard_ <= max_entries
    shards_ = std::vector<Shard>(shard_count);
  }

  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;

  // The cached value for exactly this token, or nullptr (miss or expired).
  std::shared_ptr<const Value> find(std::string_view token, int64_t now_s) {
    if (token.size() > options_.max_token_bytes) return nullptr;
    uint64_t h = hasher_(token);
    Shard& shard = shard_for(h);
    std::lock_guard lock(shard.mutex);
    auto it = shard.lookup(h, token);
    if (it == shard.lru.end()) return nullptr;
    if (now_s >= it->expires_at) {
      shard.erase(it);
      return nullptr;
    }
    shard.lru.splice(shard.lru.begin(), shard.lru, it);  // most recently used
    return it->value;
  }

  // Caches `value` for `token` until min(valid_until_s, now_s + max_ttl_s).
  // Nothing is cached when that is not after now_s, or the token is too long.
  void insert(std::string_view token, std::shared_ptr<const Value> value, int64_t valid_until_s,
              int64_t now_s) {
    if (token.size() > options_.max_token_bytes || value == nullptr) return;
    int64_t ttl_end = now_s > INT64_MAX - options_.max_ttl_s ? INT64_MAX : now_s + options_.max_ttl_s;
    int64_t expires_at = std::min(valid_until_s, ttl_end);
    if (expires_at <= now_s) return;
    uint64_t h = hasher_(token);
    Shard& shard = shard_for(h);
    std::lock_guard lock(shard.mutex);
    if (auto it = shard.lookup(h, token); it != shard.lru.end()) shard.erase(it);
    shard.lru.push_front(Entry{h, std::string(token), std::move(value), expires_at});
    shard.index.emplace(h, shard.lru.begin());
    while (shard.lru.size() > per_shard_) shard.erase(std::prev(shard.lru.end()));
  }

  void clear() {
    for (Shard& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      shard.index.clear();
      shard.lru.clear();
    }
  }

  size_t size() const {
    size_t n = 0;
    for (const Shard& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      n += shard.lru.size();
    }
    return n;
  }

  size_t capacity() const { return per_shard_ * shards_.size(); }

 private:
  struct Entry {
    uint64_t hash;
    std::string token;
    std::shared_ptr<const Value> value;
    int64_t expires_at;
  };
  using List = std::list<Entry>;

  struct Shard {
    mutable std::mutex mutex;
    List lru;  // front = most recently used
    std::unordered_multimap<uint64_t, typename List::iterator> index;

    typename List::iterator lookup(uint64_t h, std::string_view token) {
      auto [first, last] = index.equal_range(h);
      for (auto it = first; it != last; ++it)
        if (it->second->token == token) return it->second;
      return lru.end();
    }
    void erase(typename List::iterator entry) {
      auto [first, last] = index.equal_range(entry->hash);
      for (auto it = first; it != last; ++it) {
        if (it->second == entry) {
          index.erase(it);
          break;
        }
      }
      lru.erase(entry);
    }
  };

  Shard& shard_for(uint64_t h) { return shards_[(h >> 32) % shards_.size()]; }

  TokenCacheOptions options_;
  Hasher hasher_;
  size_t per_shard_ = 1;
  std::vector<Shard> shards_;
};

}  // namespace ztgate::authn
