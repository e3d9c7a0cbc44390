// Reversible pseudonymization: a value going to a model is replaced by a
// token, and the token coming back is replaced by the value again, for the
// user who is allowed to see it.
//
// Token format: U+27E6 "⟦", the kind in capitals (letters, digits and _;
// "dictionary:codenames" becomes DICTIONARY_CODENAMES), "_", 8 lowercase hex
// digits of HMAC-SHA256(pseudonym_key, kind NUL value), U+27E7 "⟧":
//
//     ⟦EMAIL_7f3a9c2e⟧   ⟦PAYMENT_CARD_0b1d22e4⟧
//
// The mathematical white square brackets almost never occur in real text,
// survive tokenizers and copying (models reproduce them verbatim), and read
// as a placeholder to a model; the ASCII inside keeps the kind visible so
// the model can still reason about it ("the customer's email"). The same
// value gets the same token (within a vault), so a conversation stays
// consistent. Should two values share the 8 hex digits, the second gets 16.
//
// A vault belongs to one session or conversation: restore() only knows its
// own tokens, so a token forged or copied from elsewhere stays as it is.
// Bounded: at most max_entries values, each kept for ttl_ms after it was
// last pseudonymized; beyond max_entries the least recently used goes.
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ztgate::inspect {

struct PseudonymVaultOptions {
  size_t max_entries = 10000;
  int64_t ttl_ms = 3600 * 1000;
  std::function<int64_t()> now_ms;  // default: the wall clock
};

class PseudonymVault {
 public:
  explicit PseudonymVault(PseudonymVaultOptions options = {});

  // The token standing for `value` of `kind`; "" only when HMAC fails
  // (the caller then masks).
  std::string pseudonymize(std::string_view kind, std::string_view value, std::string_view key);

  // `text` with every token of this vault (still alive) replaced by its value.
  std::string restore(std::string_view text) const;

  size_t size() const;

 private:
  struct Entry {
    std::string value;
    int64_t expires_ms = 0;
    std::list<std::string>::iterator lru;  // position in lru_ (front: most recent)
  };
  int64_t now() const;
  void evict_locked(int64_t now_ms);

  PseudonymVaultOptions options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> by_token_;
  std::list<std::string> lru_;
};

// restore() over a stream (a model's answer arriving in pieces): a token cut
// across chunks is held back until it is complete, then restored; text
// without an open "⟦" is released at once. A "⟦" not closed within
// kMaxHeldBytes is let go as it is (no token is that long). Not thread-safe
// (one per stream); the vault may be shared.
class StreamRestorer {
 public:
  explicit StreamRestorer(const PseudonymVault& vault) : vault_(&vault) {}
  std::string feed(std::string_view chunk);
  std::string finish();

  static constexpr size_t kMaxHeldBytes = 160;

 private:
  const PseudonymVault* vault_;
  std::string held_;
};

}  // namespace ztgate::inspect
