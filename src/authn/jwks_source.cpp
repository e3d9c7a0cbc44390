#include "authn/jwks_source.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <system_error>

#include "authn/oidc_discovery.h"
#include "net/cache_control.h"

namespace ztgate::authn {
namespace {

constexpr uintmax_t kMaxJwksFileBytes = 1 << 20;

Error config_error(std::string message) {
  return make_error("jwks_config_invalid", std::move(message));
}

Status check_config(const JwksSourceConfig& c) {
  if (c.location.empty()) return config_error("JWKS source has an empty location");
  if (c.kind != JwksSourceKind::kFile && !net::parse_https_url(c.location))
    return config_error("JWKS URL or issuer must be an https URL: " + c.location);
  const auto& p = c.cache;
  if (p.min_ttl.count() < 0 || p.max_ttl < p.min_ttl || p.min_refresh_interval.count() < 0 ||
      p.stale_if_error.count() < 0 || p.file_check_interval.count() < 0)
    return config_error("JWKS cache bounds must be >= 0 and min_ttl <= max_ttl");
  return Ok{};
}

Result<KeySet> parse_key_set(std::string_view text, const std::string& where) {
  auto keys = parse_jwks(text);
  if (!keys) return keys.error();
  if (keys->empty())
    return make_error("jwks_invalid", "JWKS from " + where + " holds no usable verification key");
  if (keys->size() > kMaxJwksKeys)
    return make_error("jwks_invalid", "JWKS from " + where + " holds more than " +
                                          std::to_string(kMaxJwksKeys) + " keys");
  return KeySet(std::make_shared<const std::vector<Jwk>>(std::move(*keys)));
}

}  // namespace

Result<std::shared_ptr<JwksSource>> JwksSource::create(JwksSourceConfig config, Fetcher fetcher,
                                                       Clock clock) {
  if (auto ok = check_config(config); !ok) return ok.error();
  if (!fetcher)
    fetcher = [http = config.http](const std::string& url) { return net::https_get(url, http); };
  if (!clock) clock = [] { return std::chrono::steady_clock::now(); };
  return std::make_shared<JwksSource>(std::move(config), std::move(fetcher), std::move(clock));
}

JwksSource::JwksSource(JwksSourceConfig config, Fetcher fetcher, Clock clock)
    : config_(std::move(config)), fetcher_(std::move(fetcher)), clock_(std::move(clock)) {}

Result<KeySet> JwksSource::keys() {
  auto snap = snapshot_.load();
  if (snap && clock_() < snap->fresh_until) return snap->keys;
  std::unique_lock lock(refresh_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) {
    // Someone is refreshing: serve what we hold while it is usable.
    if (snap && clock_() < snap->usable_until) return snap->keys;
    lock.lock();
  }
  return refresh_locked(Reason::kExpired);
}

Result<KeySet> JwksSource::refresh_after_unknown_kid() {
  std::lock_guard lock(refresh_mutex_);
  return refresh_locked(Reason::kUnknownKid);
}

std::optional<Error> JwksSource::last_error() const {
  std::lock_guard lock(refresh_mutex_);
  return last_error_;
}

std::chrono::seconds JwksSource::rate_interval() const {
  return config_.kind == JwksSourceKind::kFile ? config_.cache.file_check_interval
                                               : config_.cache.min_refresh_interval;
}

Result<KeySet> JwksSource::refresh_locked(Reason reason) {
  const TimePoint now = clock_();
  auto snap = snapshot_.load();
  // Another thread refreshed while we waited for the lock.
  if (reason == Reason::kExpired && snap && now < snap->fresh_until) return snap->keys;
  if (last_attempt_ && now - *last_attempt_ < rate_interval()) return serve(snap, now);

  last_attempt_ = now;
  attempts_.fetch_add(1);
  auto loaded = load(reason);
  if (!loaded) {
    last_error_ = loaded.error();
    return serve(snap, now);
  }
  last_error_.reset();
  KeySet keys = loaded->keys ? loaded->keys : snap->keys;  // null: unchanged file
  auto fresh = std::make_shared<const Snapshot>(
      Snapshot{keys, now + loaded->ttl, now + loaded->ttl + config_.cache.stale_if_error});
  snapshot_.store(fresh);
  return keys;
}

Result<KeySet> JwksSource::serve(const std::shared_ptr<const Snapshot>& snap, TimePoint now) const {
  if (snap && now < snap->usable_until) return snap->keys;
  std::string cause = last_error_ ? last_error_->code + ": " + last_error_->message
                                  : "no fetch allowed yet (rate limited)";
  return make_error("jwks_unavailable",
                    "no usable keys from " + config_.location + " (" +
                        (snap ? "stale beyond the stale-if-error window; " : "never loaded; ") +
                        cause + ")");
}

Result<JwksSource::Loaded> JwksSource::load(Reason reason) {
  switch (config_.kind) {
    case JwksSourceKind::kFile:
      return load_file();
    case JwksSourceKind::kUrl:
      return load_url(config_.location);
    case JwksSourceKind::kDiscovery:
      // Re-read the metadata on the schedule; an unknown kid only re-fetches keys.
      if (reason == Reason::kExpired || jwks_uri_.empty()) {
        if (auto ok = discover(); !ok) return ok.error();
      }
      return load_url(jwks_uri_);
  }
  return make_error("jwks_config_invalid", "unknown JWKS source kind");
}

Status JwksSource::discover() {
  auto response = fetcher_(discovery_url(config_.location));
  if (!response) return response.error();
  auto doc = parse_oidc_discovery(response->body, config_.location);
  if (!doc) return doc.error();
  jwks_uri_ = doc->jwks_uri;
  return Ok{};
}

Result<JwksSource::Loaded> JwksSource::load_url(const std::string& url) {
  auto response = fetcher_(url);
  if (!response) return response.error();
  auto keys = parse_key_set(response->body, url);
  if (!keys) return keys.error();
  const auto& p = config_.cache;
  auto directives = net::parse_cache_control(response->cache_control);
  std::chrono::seconds ttl = directives.no_store  ? p.min_ttl
                             : directives.max_age ? std::chrono::seconds(*directives.max_age)
                                                  : p.default_ttl;
  return Loaded{std::move(*keys), std::clamp(ttl, p.min_ttl, p.max_ttl)};
}

Result<JwksSource::Loaded> JwksSource::load_file() {
  const std::filesystem::path path(config_.location);
  std::error_code ec;
  FileStamp stamp{std::filesystem::last_write_time(path, ec), 0};
  if (!ec) stamp.size = std::filesystem::file_size(path, ec);
  if (ec) return make_error("jwks_file_unreadable", "cannot stat JWKS file " + path.string());
  const auto ttl = config_.cache.file_check_interval;
  if (file_stamp_ && *file_stamp_ == stamp && snapshot_.load()) return Loaded{nullptr, ttl};
  if (stamp.size > kMaxJwksFileBytes)
    return make_error("jwks_invalid", "JWKS file " + path.string() + " is larger than 1 MiB");
  std::ifstream in(path, std::ios::binary);
  std::string text;
  if (in) text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return make_error("jwks_file_unreadable", "cannot read " + path.string());
  if (text.size() > kMaxJwksFileBytes)
    return make_error("jwks_invalid", "JWKS file " + path.string() + " is larger than 1 MiB");
  auto keys = parse_key_set(text, path.string());
  if (!keys) return keys.error();
  file_stamp_ = stamp;
  return Loaded{std::move(*keys), ttl};
}

}  // namespace ztgate::authn
