// API keys for services and agents: long-lived bearer credentials that are
// stored only as a salted HMAC, scoped, expiring and revocable.
//
// A key reads `ztg_<key id>_<secret>`: the fixed `ztg_` prefix lets secret
// scanners find leaked keys; the key id is kApiKeyIdHexChars lowercase hex
// (public, names the key in lists and logs); the secret is kApiKeySecretBytes
// from RAND_bytes in unpadded base64url (43 characters). The key is shown once,
// at creation; the store keeps HMAC-SHA256(key = a random per-key salt,
// message = the secret bytes), never the secret.
//
// The store is SQLite at <data dir>/identity.db (table `api_keys`; the
// directory is created 0700, the file 0600). verify() reads an in-memory
// snapshot and reloads it whenever PRAGMA data_version says another
// connection (another process, e.g. `ztgate keys revoke`) wrote. The version
// is read at most every kRecheckInterval (100 ms), so another process's
// revocation takes effect within 100 ms; this process's own revoke() at once.
//
// verify() order: parse -> look up the id -> HMAC -> CRYPTO_memcmp. An unknown
// id costs the same HMAC (with a dummy salt) as a wrong secret and gets the
// same error, so timing and answers do not reveal which ids exist. Only a key
// whose secret matched learns that it is revoked or expired.
//
// Error codes (stable):
//   api_key_malformed     not of the form ztg_<16 hex>_<43 base64url>
//   api_key_invalid       unknown key id or wrong secret (one message for both)
//   api_key_expired       the secret matched but now >= expires_at
//   api_key_revoked       the secret matched but the key was revoked
//   api_key_unknown       revoke() of an id that does not exist (management only)
//   api_key_spec_invalid  create(): bad name, principal, scope or lifetime
//   api_key_store         the database failed (message has the SQLite reason)
//   principal_invalid     parse_service_principal() alone (create() reports
//                         it as api_key_spec_invalid)
//
// Bounds: name 1..kMaxApiKeyNameBytes printable ASCII; principal
// `Service::"id"` or `Agent::"id"` with an id of 1..kMaxPrincipalIdBytes
// printable ASCII other than `"` and `\`; scopes as ScopeSet (kMaxScopes);
// lifetime 1 s..kMaxApiKeyTtlSeconds; at most kMaxApiKeys keys in a store.
//
// Thread safety: an ApiKeyStore may be shared by threads; a mutex guards the
// connection and the snapshot pointer, the HMAC runs outside it.
#pragma once

#include <cstdint>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "authn/identity.h"
#include "authn/scopes.h"
#include "store/sqlite.h"

namespace ztgate::authn {

inline constexpr std::chrono::milliseconds kRecheckInterval{100};

inline constexpr size_t kApiKeyIdHexChars = 16;
inline constexpr size_t kApiKeySecretBytes = 32;
inline constexpr size_t kMaxApiKeyNameBytes = 128;
inline constexpr size_t kMaxPrincipalIdBytes = 256;
inline constexpr int64_t kMaxApiKeyTtlSeconds = int64_t{10} * 366 * 24 * 3600;
inline constexpr size_t kMaxApiKeys = 100'000;
inline constexpr std::string_view kApiKeyPrefix = "ztg_";

// A key split into its parts (no lookup, no crypto).
struct ApiKeyToken {
  std::string id;      // 16 lowercase hex
  std::string secret;  // 32 raw bytes
  std::string to_string() const;  // ztg_<id>_<base64url secret>
};
Result<ApiKeyToken> parse_api_key(std::string_view text);

// `Service::"billing"` / `Agent::"build-bot"` (no escapes; see Bounds).
Result<EntityRef> parse_service_principal(std::string_view text);

enum class ApiKeyState { kActive, kExpired, kRevoked };
std::string_view to_string(ApiKeyState state);  // "active", "expired", "revoked"

// What is known about a key; never its secret or digest.
struct ApiKeyRecord {
  std::string id;
  std::string name;
  EntityRef principal;
  ScopeSet scopes;
  int64_t created_at = 0;
  std::optional<int64_t> expires_at;
  std::optional<int64_t> revoked_at;
  std::optional<int64_t> last_used_at;  // best effort, updated at most once a minute

  ApiKeyState state(int64_t now_s) const;
};

struct ApiKeySpec {
  std::string name;
  std::string principal;  // Cedar uid text, e.g. Service::"billing"
  std::vector<std::string> scopes;
  std::optional<int64_t> ttl_s;  // none: never expires
};

struct CreatedApiKey {
  std::string key;  // the full key: shown once, never stored
  ApiKeyRecord record;
};

class ApiKeyStore {
 public:
  // Opens <data_dir>/identity.db, creating the directory (0700), the file
  // (0600) and the table as needed; tightens a looser existing file to 0600.
  static Result<std::unique_ptr<ApiKeyStore>> open(const std::string& data_dir);

  Result<CreatedApiKey> create(const ApiKeySpec& spec, int64_t now_s);
  Result<std::vector<ApiKeyRecord>> list();  // by creation time
  // Marks the key revoked; revoking an already revoked key keeps the first time.
  Status revoke(std::string_view id, int64_t now_s);
  // The key's record when `key` is a live key at now_s; see the error codes.
  Result<ApiKeyRecord> verify(std::string_view key, int64_t now_s);

 private:
  struct Entry {
    ApiKeyRecord record;
    std::string salt, digest;
  };
  using Snapshot = std::unordered_map<std::string, Entry>;

  explicit ApiKeyStore(store::Db db) : db_(std::move(db)) {}
  Result<std::shared_ptr<const Snapshot>> snapshot_locked();
  void touch_locked(const std::string& id, int64_t now_s);

  std::mutex mu_;
  store::Db db_;
  std::shared_ptr<const Snapshot> snapshot_;
  int64_t seen_version_ = -1;
  bool stale_ = true;  // our own writes do not move data_version
  std::chrono::steady_clock::time_point checked_at_{};  // last data_version read
  std::map<std::string, int64_t> last_touch_;
};

}  // namespace ztgate::authn
