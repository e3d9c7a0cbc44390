// PseudonymVault: tokens for values, and back (see pseudonym_vault.h).
#include "inspect/pseudonym_vault.h"

#include <algorithm>

#include "common/clock.h"
#include "inspect/internal/hmac.h"

namespace ztgate::inspect {
namespace {

constexpr std::string_view kOpen = "\xE2\x9F\xA6";   // U+27E6 ⟦
constexpr std::string_view kClose = "\xE2\x9F\xA7";  // U+27E7 ⟧
constexpr size_t kMaxTokenBytes = 128;

std::string token_kind(std::string_view kind) {
  std::string out;
  for (char c : kind) {
    if (c >= 'a' && c <= 'z')
      out.push_back(static_cast<char>(c - 'a' + 'A'));
    else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
      out.push_back(c);
    else if (!out.empty() && out.back() != '_')
      out.push_back('_');
    if (out.size() >= 64) break;
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "VALUE" : out;
}

}  // namespace

PseudonymVault::PseudonymVault(PseudonymVaultOptions options) : options_(std::move(options)) {
  options_.max_entries = std::max<size_t>(options_.max_entries, 1);
}

int64_t PseudonymVault::now() const { return options_.now_ms ? options_.now_ms() : now_ms(); }

void PseudonymVault::evict_locked(int64_t now_ms) {
  // Expired entries first (from the least recent end), then the least
  // recently used until there is room for one more.
  for (auto it = lru_.end(); it != lru_.begin();) {
    --it;
    auto found = by_token_.find(*it);
    if (found != by_token_.end() && found->second.expires_ms <= now_ms) {
      by_token_.erase(found);
      it = lru_.erase(it);
    }
  }
  while (by_token_.size() >= options_.max_entries && !lru_.empty()) {
    by_token_.erase(lru_.back());
    lru_.pop_back();
  }
}

std::string PseudonymVault::pseudonymize(std::string_view kind, std::string_view value,
                                         std::string_view key) {
  std::string message(kind);
  message.push_back('\0');
  message.append(value);
  std::array<unsigned char, 32> mac{};
  if (!internal::hmac_sha256(key, message, mac)) return "";
  const std::string prefix = std::string(kOpen) + token_kind(kind) + "_";
  const int64_t t = now();
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t bytes : {4, 8}) {
    const std::string token = prefix + internal::hex_prefix(mac, bytes) + std::string(kClose);
    auto found = by_token_.find(token);
    if (found != by_token_.end() && found->second.value != value) continue;  // a collision
    if (found != by_token_.end()) {
      found->second.expires_ms = t + options_.ttl_ms;
      lru_.splice(lru_.begin(), lru_, found->second.lru);
      return token;
    }
    evict_locked(t);
    lru_.push_front(token);
    by_token_.emplace(token, Entry{std::string(value), t + options_.ttl_ms, lru_.begin()});
    return token;
  }
  return "";
}

std::string PseudonymVault::restore(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  const int64_t t = now();
  std::lock_guard<std::mutex> lock(mutex_);
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find(kOpen, pos);
    if (open == std::string_view::npos) break;
    const size_t close = text.find(kClose, open + kOpen.size());
    if (close == std::string_view::npos) break;
    if (close - open > kMaxTokenBytes) {  // not a token: go on after the bracket
      out.append(text.substr(pos, open + kOpen.size() - pos));
      pos = open + kOpen.size();
      continue;
    }
    const std::string token(text.substr(open, close + kClose.size() - open));
    auto found = by_token_.find(token);
    out.append(text.substr(pos, open - pos));
    if (found != by_token_.end() && found->second.expires_ms > t)
      out.append(found->second.value);
    else
      out.append(token);
    pos = close + kClose.size();
  }
  out.append(text.substr(pos));
  return out;
}

size_t PseudonymVault::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return by_token_.size();
}

std::string StreamRestorer::feed(std::string_view chunk) {
  static constexpr std::string_view kOpen = "\u27e6";  // ⟦, 3 bytes
  held_.append(chunk);
  // Where a token may still be incomplete: an open bracket with no close
  // after it, or the first bytes of one at the very end.
  size_t keep = held_.size();
  size_t open = held_.rfind(kOpen);
  if (open != std::string::npos && held_.find("\u27e7", open) == std::string::npos &&
      held_.size() - open <= kMaxHeldBytes) {
    keep = open;
  } else {
    for (size_t n = kOpen.size() - 1; n > 0; --n)
      if (held_.size() >= n && std::string_view(held_).substr(held_.size() - n) == kOpen.substr(0, n)) {
        keep = held_.size() - n;
        break;
      }
  }
  std::string out = vault_->restore(std::string_view(held_).substr(0, keep));
  held_.erase(0, keep);
  return out;
}

std::string StreamRestorer::finish() {
  std::string out = vault_->restore(held_);
  held_.clear();
  return out;
}

}  // namespace ztgate::inspect
