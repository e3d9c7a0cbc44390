#include "authn/api_keys.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

#include "authn/base64url.h"

namespace ztgate::authn {
namespace {

constexpr size_t kSaltBytes = 32;
constexpr size_t kDigestBytes = 32;  // SHA-256
constexpr size_t kSecretChars = 43;  // base64url of 32 bytes, unpadded
constexpr size_t kKeyChars = kApiKeyPrefix.size() + kApiKeyIdHexChars + 1 + kSecretChars;
constexpr int64_t kTouchIntervalSeconds = 60;

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS api_keys (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  principal    TEXT NOT NULL,
  scopes       TEXT NOT NULL,
  salt         BLOB NOT NULL,
  digest       BLOB NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  revoked_at   INTEGER,
  last_used_at INTEGER
);)sql";

constexpr std::string_view kSelectColumns =
    "SELECT id, name, principal, scopes, salt, digest, created_at, expires_at, revoked_at, "
    "last_used_at FROM api_keys";

Error store_error(const Error& e) { return make_error("api_key_store", "API key store: " + e.message); }
Error spec_error(std::string message) { return make_error("api_key_spec_invalid", std::move(message)); }

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Result<std::string> random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    return make_error("api_key_store", "the random number generator failed");
  return out;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

// One HMAC context per thread, re-keyed per call: OpenSSL 3's one-shot
// HMAC() fetches the algorithm and allocates a context every time, which
// was most of a verification's cost.
std::array<unsigned char, kDigestBytes> hmac_sha256(std::string_view salt, std::string_view secret) {
  std::array<unsigned char, kDigestBytes> out{};
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  thread_local std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx = [] {
    std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> c(mac ? EVP_MAC_CTX_new(mac) : nullptr, &EVP_MAC_CTX_free);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    if (c && EVP_MAC_CTX_set_params(c.get(), params) != 1) c.reset();
    return c;
  }();
  size_t len = 0;
  if (ctx && EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), nullptr) == 1 &&
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(secret.data()), secret.size()) == 1 &&
      EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) == 1 && len == kDigestBytes)
    return out;
  unsigned int one_shot_len = 0;  // fallback: the slow, always-available path
  HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()),
       reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), out.data(), &one_shot_len);
  return out;
}

// A random salt and digest no key has: verification of an unknown id runs the
// same HMAC and comparison as that of a known one.
const std::string& dummy_salt() {
  static const std::string salt = [] {
    auto r = random_bytes(kSaltBytes);
    return r ? *r : std::string(kSaltBytes, '\x5a');
  }();
  return salt;
}

// Creates the file 0600 before SQLite sees it (SQLite gives its -wal and -shm
// files the database file's mode) and tightens files created looser by others.
Status prepare_private_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return make_error("api_key_store", "cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0 && ((st.st_mode & 077) == 0 || ::fchmod(fd, 0600) == 0);
  int saved = errno;
  ::close(fd);
  if (!ok) return make_error("api_key_store", "cannot restrict " + path + " to 0600: " + std::strerror(saved));
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string side = path + suffix;
    if (::stat(side.c_str(), &st) == 0 && (st.st_mode & 077) != 0 && ::chmod(side.c_str(), 0600) != 0)
      return make_error("api_key_store", "cannot restrict " + side + " to 0600: " + std::strerror(errno));
  }
  return Ok{};
}

std::optional<int64_t> optional_int(const store::Stmt& st, int column) {
  if (st.is_null(column)) return std::nullopt;
  return st.int64(column);
}

// One row as a record; nullopt when the row is not one this code wrote
// (such a key cannot verify: fail closed for it, keep the others working).
std::optional<ApiKeyRecord> read_record(const store::Stmt& st) {
  ApiKeyRecord r;
  r.id = st.text(0);
  r.name = st.text(1);
  auto principal = parse_service_principal(st.text(2));
  auto scopes = ScopeSet::parse(st.text(3));
  if (!principal || !scopes) return std::nullopt;
  r.principal = std::move(*principal);
  r.scopes = std::move(*scopes);
  r.created_at = st.int64(6);
  r.expires_at = optional_int(st, 7);
  r.revoked_at = optional_int(st, 8);
  r.last_used_at = optional_int(st, 9);
  return r;
}

}  // namespace

std::string ApiKeyToken::to_string() const {
  return std::string(kApiKeyPrefix) + id + "_" + base64url_encode(secret);
}

Result<ApiKeyToken> parse_api_key(std::string_view text) {
  // The message never repeats the input: it may be a real secret.
  auto malformed = [] {
    return make_error("api_key_malformed", "not an API key (expected ztg_<16 hex>_<43 base64url>)");
  };
  if (text.size() != kKeyChars || text.substr(0, kApiKeyPrefix.size()) != kApiKeyPrefix)
    return malformed();
  std::string_view id = text.substr(kApiKeyPrefix.size(), kApiKeyIdHexChars);
  if (!is_lower_hex(id) || text[kApiKeyPrefix.size() + kApiKeyIdHexChars] != '_') return malformed();
  auto secret = base64url_decode(text.substr(kKeyChars - kSecretChars));
  if (!secret || secret->size() != kApiKeySecretBytes) return malformed();
  return ApiKeyToken{std::string(id), std::move(*secret)};
}

Result<EntityRef> parse_service_principal(std::string_view text) {
  auto bad = [&](std::string why) {
    return make_error("principal_invalid", "principal must look like Service::\"id\" or Agent::\"id\": " + why);
  };
  size_t sep = text.find("::\"");
  if (sep == std::string_view::npos || text.size() < sep + 4 || text.back() != '"')
    return bad("not a Cedar entity uid");
  std::string_view type = text.substr(0, sep);
  if (type != "Service" && type != "Agent") return bad("the type must be Service or Agent");
  std::string_view id = text.substr(sep + 3, text.size() - sep - 4);
  if (id.empty() || id.size() > kMaxPrincipalIdBytes)
    return bad("the id must be 1.." + std::to_string(kMaxPrincipalIdBytes) + " bytes");
  for (char c : id)
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
      return bad("the id may only hold printable ASCII without spaces, '\"' and '\\'");
  return EntityRef{std::string(type), std::string(id)};
}

std::string_view to_string(ApiKeyState state) {
  switch (state) {
    case ApiKeyState::kActive: return "active";
    case ApiKeyState::kExpired: return "expired";
    case ApiKeyState::kRevoked: return "revoked";
  }
  return "revoked";
}

ApiKeyState ApiKeyRecord::state(int64_t now_s) const {
  if (revoked_at) return ApiKeyState::kRevoked;
  if (expires_at && now_s >= *expires_at) return ApiKeyState::kExpired;
  return ApiKeyState::kActive;
}

Result<std::unique_ptr<ApiKeyStore>> ApiKeyStore::open(const std::string& data_dir) {
  if (auto st = store::ensure_private_dir(data_dir); !st) return store_error(st.error());
  std::string path = data_dir + "/identity.db";
  if (auto st = prepare_private_file(path); !st) return st.error();
  auto db = store::Db::open(path);
  if (!db) return store_error(db.error());
  if (auto st = db->exec(kSchema); !st) return store_error(st.error());
  return std::unique_ptr<ApiKeyStore>(new ApiKeyStore(std::move(*db)));
}

Result<CreatedApiKey> ApiKeyStore::create(const ApiKeySpec& spec, int64_t now_s) {
  if (spec.name.empty() || spec.name.size() > kMaxApiKeyNameBytes)
    return spec_error("the name must be 1.." + std::to_string(kMaxApiKeyNameBytes) + " bytes");
  for (char c : spec.name)
    if (c < 0x20 || c > 0x7e) return spec_error("the name may only hold printable ASCII");
  auto principal = parse_service_principal(spec.principal);
  if (!principal) return spec_error(principal.error().message);
  auto scopes = ScopeSet::from_list(spec.scopes);
  if (!scopes) return spec_error(scopes.error().message);
  if (spec.ttl_s && (*spec.ttl_s < 1 || *spec.ttl_s > kMaxApiKeyTtlSeconds))
    return spec_error("the lifetime must be 1 s.." + std::to_string(kMaxApiKeyTtlSeconds / 86400) + " days");

  ApiKeyRecord record;
  record.name = spec.name;
  record.principal = std::move(*principal);
  record.scopes = std::move(*scopes);
  record.created_at = now_s;
  if (spec.ttl_s) record.expires_at = now_s + *spec.ttl_s;

  auto secret = random_bytes(kApiKeySecretBytes);
  auto salt = random_bytes(kSaltBytes);
  if (!secret || !salt) return secret ? salt.error() : secret.error();
  auto digest = hmac_sha256(*salt, *secret);

  std::lock_guard lock(mu_);
  auto count = db_.prepare("SELECT COUNT(*) FROM api_keys");
  if (!count) return store_error(count.error());
  if (auto row = count->step(); !row) return store_error(row.error());
  if (static_cast<size_t>(count->int64(0)) >= kMaxApiKeys)
    return make_error("api_key_store", "the store already holds " + std::to_string(kMaxApiKeys) + " keys");
  // A 64-bit id collides about never; a collision just draws again.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto raw_id = random_bytes(kApiKeyIdHexChars / 2);
    if (!raw_id) return raw_id.error();
    record.id = to_hex(*raw_id);
    auto insert = db_.prepare(
        "INSERT INTO api_keys (id, name, principal, scopes, salt, digest, created_at, expires_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!insert) return store_error(insert.error());
    insert->bind(1, record.id).bind(2, record.name).bind(3, record.principal.to_cedar());
    insert->bind(4, record.scopes.to_string()).bind_blob(5, *salt);
    insert->bind_blob(6, std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
    insert->bind(7, now_s);
    if (record.expires_at) insert->bind(8, *record.expires_at);
    else insert->bind_null(8);
    auto st = insert->run();
    if (!st && st.error().code == "store_constraint") continue;
    if (!st) return store_error(st.error());
    stale_ = true;
    std::string key = ApiKeyToken{record.id, *secret}.to_string();
    OPENSSL_cleanse(secret->data(), secret->size());
    return CreatedApiKey{std::move(key), std::move(record)};
  }
  return make_error("api_key_store", "could not draw an unused key id");
}

Result<std::vector<ApiKeyRecord>> ApiKeyStore::list() {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(std::string(kSelectColumns) + " ORDER BY created_at, id");
  if (!st) return store_error(st.error());
  std::vector<ApiKeyRecord> out;
  for (;;) {
    auto row = st->step();
    if (!row) return store_error(row.error());
    if (!*row) break;
    if (auto record = read_record(*st)) out.push_back(std::move(*record));
  }
  return out;
}

Status ApiKeyStore::revoke(std::string_view id, int64_t now_s) {
  if (id.size() != kApiKeyIdHexChars || !is_lower_hex(id))
    return make_error("api_key_unknown", "not an API key id (16 lowercase hex characters)");
  std::lock_guard lock(mu_);
  auto update = db_.prepare("UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL");
  if (!update) return store_error(update.error());
  update->bind(1, id).bind(2, now_s);
  if (auto st = update->run(); !st) return store_error(st.error());
  stale_ = true;
  if (db_.changes() > 0) return Ok{};
  auto exists = db_.prepare("SELECT 1 FROM api_keys WHERE id = ?1");
  if (!exists) return store_error(exists.error());
  exists->bind(1, id);
  auto row = exists->step();
  if (!row) return store_error(row.error());
  if (!*row) return make_error("api_key_unknown", "no API key with id " + std::string(id));
  return Ok{};  // already revoked
}

Result<std::shared_ptr<const ApiKeyStore::Snapshot>> ApiKeyStore::snapshot_locked() {
  // Another process's write (a revocation) is seen within
  // kRecheckInterval: data_version costs two syscalls, too much for every
  // request at tens of thousands per second.
  auto now = std::chrono::steady_clock::now();
  if (snapshot_ && !stale_ && now - checked_at_ < kRecheckInterval) return snapshot_;
  checked_at_ = now;
  // Read the version first: a write racing the SELECT below moves it again,
  // so the next call reloads.
  auto version = db_.data_version();
  if (!version) return store_error(version.error());
  if (snapshot_ && !stale_ && *version == seen_version_) return snapshot_;
  auto st = db_.prepare(std::string(kSelectColumns) + " LIMIT " + std::to_string(kMaxApiKeys + 1));
  if (!st) return store_error(st.error());
  auto next = std::make_shared<Snapshot>();
  for (;;) {
    auto row = st->step();
    if (!row) return store_error(row.error());
    if (!*row) break;
    if (next->size() == kMaxApiKeys)
      return make_error("api_key_store", "the store holds more than " + std::to_string(kMaxApiKeys) + " keys");
    auto record = read_record(*st);
    std::string salt = st->text(4), digest = st->text(5);
    if (!record || salt.size() != kSaltBytes || digest.size() != kDigestBytes) continue;
    std::string id = record->id;
    next->emplace(std::move(id), Entry{std::move(*record), std::move(salt), std::move(digest)});
  }
  snapshot_ = std::move(next);
  seen_version_ = *version;
  stale_ = false;
  return snapshot_;
}

void ApiKeyStore::touch_locked(const std::string& id, int64_t now_s) {
  int64_t& last = last_touch_[id];
  if (now_s - last < kTouchIntervalSeconds) return;
  last = now_s;
  auto update = db_.prepare("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1");
  if (!update) return;
  update->bind(1, id).bind(2, now_s);
  (void)update->run();  // best effort: a busy database must not fail a request
}

Result<ApiKeyRecord> ApiKeyStore::verify(std::string_view key, int64_t now_s) {
  auto token = parse_api_key(key);
  if (!token) return token.error();
  std::shared_ptr<const Snapshot> snapshot;
  {
    std::lock_guard lock(mu_);
    auto s = snapshot_locked();
    if (!s) return s.error();
    snapshot = std::move(*s);
  }
  auto it = snapshot->find(token->id);
  const Entry* entry = it == snapshot->end() ? nullptr : &it->second;
  static const std::string kDummyDigest(kDigestBytes, '\0');
  const std::string& salt = entry != nullptr ? entry->salt : dummy_salt();
  const std::string& expected = entry != nullptr ? entry->digest : kDummyDigest;
  auto actual = hmac_sha256(salt, token->secret);
  OPENSSL_cleanse(token->secret.data(), token->secret.size());
  bool match = CRYPTO_memcmp(actual.data(), expected.data(), kDigestBytes) == 0;
  if (!match || entry == nullptr) return make_error("api_key_invalid", "the API key is not valid");
  switch (entry->record.state(now_s)) {
    case ApiKeyState::kRevoked:
      return make_error("api_key_revoked", "API key " + token->id + " was revoked");
    case ApiKeyState::kExpired:
      return make_error("api_key_expired", "API key " + token->id + " has expired");
    case ApiKeyState::kActive: break;
  }
  ApiKeyRecord record = entry->record;
  std::lock_guard lock(mu_);
  touch_locked(record.id, now_s);
  return record;
}

}  // namespace ztgate::authn
