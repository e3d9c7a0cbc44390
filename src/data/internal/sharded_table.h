// A string-keyed table split into shards that are shared between versions:
// copying a table copies its shard pointers (256 by default), and a writer
// clones only the shards it touches (copy-on-write). A catalog with a
// million documents (4,096 document shards) thus takes an upsert in time
// proportional to one shard (~250 entries), and readers of the previous
// version keep theirs untouched.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ztgate::data::internal {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// 2^kBits shards (default 256). More shards make a scattered batch copy
// less (it copies the shards it touches) and every version's copy of the
// shard array a little dearer.
template <class T, unsigned kBits = 8>
class ShardedTable {
 public:
  static constexpr size_t kShards = size_t{1} << kBits;
  using Shard = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

  ShardedTable() {
    auto empty = std::make_shared<Shard>();
    shards_.fill(empty);
  }
  // A copy shares every shard and owns none: its first write to a shard clones it.
  ShardedTable(const ShardedTable& o) : shards_(o.shards_), size_(o.size_) {}
  ShardedTable& operator=(const ShardedTable& o) {
    shards_ = o.shards_;
    size_ = o.size_;
    owned_.reset();
    return *this;
  }

  const T* find(std::string_view key) const {
    const Shard& s = *shards_[index(key)];
    auto it = s.find(key);
    return it == s.end() ? nullptr : &it->second;
  }
  size_t size() const { return size_; }

  void put(std::string key, T value) {
    Shard& s = writable(index(key));
    auto [it, inserted] = s.insert_or_assign(std::move(key), std::move(value));
    if (inserted) ++size_;
  }
  bool erase(std::string_view key) {
    size_t i = index(key);
    if (!shards_[i]->count(key)) return false;
    Shard& s = writable(i);
    s.erase(s.find(key));
    --size_;
    return true;
  }

  template <class F>
  void for_each(F&& f) const {
    for (const auto& s : shards_)
      for (const auto& [k, v] : *s) f(k, v);
  }

 private:
  static size_t index(std::string_view key) {
    // The shard takes the top bits of a remixed hash; the shard's own
    // buckets use the hash's low bits.
    return static_cast<size_t>((StringHash{}(key) * 0x9E3779B97F4A7C15ULL) >> (64 - kBits));
  }
  Shard& writable(size_t i) {
    if (!owned_[i]) {
      shards_[i] = std::make_shared<Shard>(*shards_[i]);
      owned_[i] = true;
    }
    return *shards_[i];
  }

  std::array<std::shared_ptr<Shard>, kShards> shards_;
  std::bitset<kShards> owned_;  // shards this copy cloned (only it points to them)
  size_t size_ = 0;
};

}  // namespace ztgate::data::internal
