#include "mcp/sessions.h"

#include <openssl/rand.h>

namespace ztgate::mcp {

std::string Sessions::create(const std::string& owner, const std::string& protocol_version) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "";
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += hex[b >> 4];
    id += hex[b & 15];
  }
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  evict_locked(now);
  while (lru_.size() >= max_) {
    by_id_.erase(lru_.back().id);
    lru_.pop_back();
  }
  lru_.push_front(Session{id, owner, protocol_version, now});
  by_id_[id] = lru_.begin();
  return id;
}

std::optional<Session> Sessions::find(const std::string& id, const std::string& owner) {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  if (now - it->second->last_used > idle_) {
    lru_.erase(it->second);
    by_id_.erase(it);
    return std::nullopt;
  }
  if (it->second->owner != owner) return std::nullopt;
  it->second->last_used = now;
  lru_.splice(lru_.begin(), lru_, it->second);
  return *it->second;
}

bool Sessions::end(const std::string& id, const std::string& owner) {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end() || it->second->owner != owner) return false;
  lru_.erase(it->second);
  by_id_.erase(it);
  return true;
}

size_t Sessions::size() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

void Sessions::evict_locked(std::chrono::steady_clock::time_point now) {
  while (!lru_.empty() && now - lru_.back().last_used > idle_) {
    by_id_.erase(lru_.back().id);
    lru_.pop_back();
  }
}

}  // namespace ztgate::mcp
