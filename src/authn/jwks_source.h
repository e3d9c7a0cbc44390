// Verification keys for one issuer, from a JWKS file, a JWKS URL or OIDC
// discovery, cached and refreshed. Key rotation is picked up two ways: on the
// cache lifetime, and on demand when a token names a kid we do not hold.
//
// Cache rules (JwksCachePolicy, all times on the injected steady clock):
//   - A fetched set is fresh for Cache-Control max-age clamped to
//     [min_ttl, max_ttl] (no-store/no-cache: min_ttl; no max-age: default_ttl,
//     also clamped). A file is re-checked (mtime and size) every
//     file_check_interval and re-parsed only when either changed.
//   - At most one fetch per min_refresh_interval (file_check_interval for a
//     file), whatever asks for it: an unknown-kid flood or a failing IdP costs
//     the IdP one request per interval, and callers get the keys we hold.
//   - stale-if-error: when refreshing fails, the last good set is served until
//     stale_if_error past its freshness; after that keys() fails closed.
//   - Single flight: one thread refreshes; while it does, others are served
//     the current set if it is still usable, otherwise they wait for it.
//   - Lazy: nothing is fetched until the first keys().
// A document that fails to parse, or holds no usable key, never replaces a
// good set. Bounds: documents ≤ 1 MiB (the fetcher's body bound for URLs), at
// most kMaxJwksKeys keys.
//
// Thread-safe. keys() on a fresh cache takes no lock (an atomic shared_ptr
// load). The fetcher is called under the refresh lock, one call at a time; the
// clock must be thread-safe.
//
// Error codes (stable):
//   jwks_config_invalid   bad configuration: empty location, a URL or issuer
//                         that is not https, inconsistent cache bounds
//   jwks_unavailable      no usable keys: never loaded, or stale beyond the
//                         window. The message names the last failure's code.
// Causes reported through last_error(): net_* (fetch), jwks_file_unreadable,
// jwks_invalid (no usable key, too many keys), jwk_* (parse_jwks),
// jwks_discovery_invalid, jwks_issuer_mismatch, jwks_insecure_uri
// (oidc_discovery.h).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "authn/jwk.h"
#include "common/result.h"
#include "net/https_client.h"

namespace ztgate::authn {

using KeySet = std::shared_ptr<const std::vector<Jwk>>;

inline constexpr size_t kMaxJwksKeys = 256;

enum class JwksSourceKind {
  kFile,       // location: a path to a JWKS file
  kUrl,        // location: an https JWKS URL
  kDiscovery,  // location: the issuer URL; jwks_uri comes from its discovery document
};

struct JwksCachePolicy {
  std::chrono::seconds min_ttl{5 * 60};
  std::chrono::seconds max_ttl{24 * 3600};
  std::chrono::seconds default_ttl{3600};
  std::chrono::seconds min_refresh_interval{30};
  std::chrono::seconds stale_if_error{24 * 3600};
  std::chrono::seconds file_check_interval{1};
};

struct JwksSourceConfig {
  JwksSourceKind kind = JwksSourceKind::kFile;
  std::string location;
  JwksCachePolicy cache;
  net::HttpsClientOptions http;  // used by the default fetcher
};

class JwksSource {
 public:
  using Fetcher = std::function<Result<net::HttpResponse>(const std::string& url)>;
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // Empty fetcher: net::https_get with config.http. Empty clock: steady_clock.
  static Result<std::shared_ptr<JwksSource>> create(JwksSourceConfig config, Fetcher fetcher = {},
                                                    Clock clock = {});

  // The keys to verify with now (see the cache rules above).
  Result<KeySet> keys();

  // A token named a kid we do not hold: refresh now unless a fetch happened
  // within the rate-limit interval, then return the keys we hold.
  Result<KeySet> refresh_after_unknown_kid();

  // Why the last refresh failed; nullopt after a success.
  std::optional<Error> last_error() const;
  // Fetch (or file read) attempts so far, for metrics and tests.
  uint64_t attempts() const { return attempts_.load(); }
  const JwksSourceConfig& config() const { return config_; }

  JwksSource(JwksSourceConfig config, Fetcher fetcher, Clock clock);  // use create()

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Snapshot {
    KeySet keys;
    TimePoint fresh_until;
    TimePoint usable_until;  // fresh_until + stale_if_error
  };
  struct FileStamp {
    std::filesystem::file_time_type mtime;
    uintmax_t size = 0;
    bool operator==(const FileStamp&) const = default;
  };
  struct Loaded {
    KeySet keys;  // null: file unchanged, keep the current set
    std::chrono::seconds ttl{0};
  };
  enum class Reason { kExpired, kUnknownKid };

  Result<KeySet> refresh_locked(Reason reason);
  Result<KeySet> serve(const std::shared_ptr<const Snapshot>& snap, TimePoint now) const;
  std::chrono::seconds rate_interval() const;
  Result<Loaded> load(Reason reason);
  Result<Loaded> load_file();
  Result<Loaded> load_url(const std::string& url);
  Status discover();

  const JwksSourceConfig config_;
  const Fetcher fetcher_;
  const Clock clock_;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
  std::atomic<uint64_t> attempts_{0};

  mutable std::mutex refresh_mutex_;  // single flight; guards the members below
  std::optional<TimePoint> last_attempt_;
  std::optional<Error> last_error_;
  std::string jwks_uri_;  // discovery result
  std::optional<FileStamp> file_stamp_;
};

}  // namespace ztgate::authn
