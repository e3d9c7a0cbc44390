// API keys: created once, stored only as a salted HMAC, verified in constant
// time, and refused once expired or revoked (also by another connection).
#include "authn/api_keys.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <fstream>
#include <sstream>

#include "authn/base64url.h"

namespace ztgate::authn {
namespace {

constexpr int64_t kNow = 1'900'000'000;

class ApiKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ztgate-apikeys-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto s = ApiKeyStore::open((dir_ / "data").string());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  CreatedApiKey create(ApiKeySpec spec = {"billing-prod", R"(Service::"billing")", {"invoices:read"}, {}}) {
    auto k = store_->create(spec, kNow);
    EXPECT_TRUE(k) << k.error().message;
    return std::move(*k);
  }

  std::string data_dir() const { return (dir_ / "data").string(); }

  std::filesystem::path dir_;
  std::unique_ptr<ApiKeyStore> store_;
};

// The same key with one character of the secret changed (still well-formed).
std::string flip_secret(std::string key) {
  char& c = key[key.size() - 2];
  c = c == 'A' ? 'B' : 'A';
  return key;
}

TEST_F(ApiKeysTest, CreatedKeyVerifiesToItsPrincipalAndScopes) {
  auto created = create();
  EXPECT_EQ(created.key.substr(0, 4), "ztg_");
  EXPECT_EQ(created.key.size(), 4 + kApiKeyIdHexChars + 1 + 43);
  EXPECT_EQ(created.key.substr(4, kApiKeyIdHexChars), created.record.id);
  auto record = store_->verify(created.key, kNow + 10);
  ASSERT_TRUE(record) << record.error().message;
  EXPECT_EQ(record->id, created.record.id);
  EXPECT_EQ(record->name, "billing-prod");
  EXPECT_EQ(record->principal, (EntityRef{"Service", "billing"}));
  EXPECT_EQ(record->scopes.to_string(), "invoices:read");
  EXPECT_FALSE(record->expires_at);
}

TEST_F(ApiKeysTest, WrongSecretAndUnknownIdGetTheSameAnswer) {
  auto created = create();
  auto wrong = store_->verify(flip_secret(created.key), kNow);
  ASSERT_FALSE(wrong);
  std::string unknown_key = created.key;
  unknown_key[4] = unknown_key[4] == 'a' ? 'b' : 'a';
  auto unknown = store_->verify(unknown_key, kNow);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(wrong.error().code, "api_key_invalid");
  EXPECT_EQ(unknown.error().code, "api_key_invalid");
  EXPECT_EQ(wrong.error().message, unknown.error().message);
}

TEST_F(ApiKeysTest, MalformedKeysAreRefusedWithoutEchoingThem) {
  auto created = create();
  std::string upper_id = created.key;
  upper_id[4] = 'F';
  for (const std::string& bad :
       {std::string(), std::string("ztg_"), created.key + "A", created.key.substr(1), "xtg" + created.key.substr(3),
        upper_id, created.key.substr(0, 20) + "-" + created.key.substr(21), created.key.substr(0, 63) + "=",
        created.key.substr(0, 63) + "B" /* non-zero trailing bits */}) {
    auto r = store_->verify(bad, kNow);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "api_key_malformed") << bad;
    if (bad.size() > 21) {
      EXPECT_EQ(r.error().message.find(bad.substr(21)), std::string::npos);
    }
  }
}

TEST_F(ApiKeysTest, ExpiredKeyIsRefusedButOnlyToItsHolder) {
  auto created = create({"short", R"(Agent::"build-bot")", {}, 3600});
  ASSERT_EQ(created.record.expires_at, kNow + 3600);
  EXPECT_TRUE(store_->verify(created.key, kNow + 3599));
  EXPECT_EQ(store_->verify(created.key, kNow + 3600).error().code, "api_key_expired");
  // Without the secret nobody learns the key's state.
  EXPECT_EQ(store_->verify(flip_secret(created.key), kNow + 3600).error().code, "api_key_invalid");
}

TEST_F(ApiKeysTest, RevocationByAnotherConnectionTakesEffectWithinTheRecheckInterval) {
  auto created = create();
  ASSERT_TRUE(store_->verify(created.key, kNow));  // snapshot loaded
  auto cli = ApiKeyStore::open(data_dir());        // another connection, as `ztgate keys revoke`
  ASSERT_TRUE(cli);
  ASSERT_TRUE((*cli)->revoke(created.record.id, kNow + 5));
  std::this_thread::sleep_for(kRecheckInterval + std::chrono::milliseconds(20));
  auto r = store_->verify(created.key, kNow + 6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "api_key_revoked");
  EXPECT_EQ(store_->verify(flip_secret(created.key), kNow + 6).error().code, "api_key_invalid");
}

TEST_F(ApiKeysTest, RevokeKeepsTheFirstTimeAndRejectsUnknownIds) {
  auto created = create();
  ASSERT_TRUE(store_->revoke(created.record.id, kNow + 1));
  ASSERT_TRUE(store_->revoke(created.record.id, kNow + 99));
  EXPECT_EQ(store_->verify(created.key, kNow + 100).error().code, "api_key_revoked");
  auto listed = store_->list();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].revoked_at, kNow + 1);
  EXPECT_EQ(store_->revoke("0123456789abcdef", kNow).error().code, "api_key_unknown");
  EXPECT_EQ(store_->revoke("'; DROP TABLE api_keys; --", kNow).error().code, "api_key_unknown");
}

TEST_F(ApiKeysTest, ListShowsStatesAndLastUse) {
  auto active = create();
  auto expiring = create({"temp", R"(Service::"etl")", {"a", "b"}, 60});
  auto revoked = create({"old", R"(Agent::"bot")", {}, {}});
  ASSERT_TRUE(store_->revoke(revoked.record.id, kNow));
  ASSERT_TRUE(store_->verify(active.key, kNow + 30));
  auto listed = store_->list();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 3u);
  std::map<std::string, ApiKeyRecord> by_name;
  for (auto& r : *listed) by_name[r.name] = r;
  EXPECT_EQ(by_name["billing-prod"].state(kNow + 90), ApiKeyState::kActive);
  EXPECT_EQ(by_name["billing-prod"].last_used_at, kNow + 30);
  EXPECT_EQ(by_name["temp"].state(kNow + 90), ApiKeyState::kExpired);
  EXPECT_EQ(by_name["temp"].scopes.to_string(), "a b");
  EXPECT_EQ(by_name["old"].state(kNow + 90), ApiKeyState::kRevoked);
}

TEST_F(ApiKeysTest, SameSecretUnderTwoKeysNeverGivesTheSameDigest) {
  auto a = create();
  auto b = create();
  auto secret_a = parse_api_key(a.key)->secret;
  auto db = store::Db::open(data_dir() + "/identity.db");
  ASSERT_TRUE(db);
  std::map<std::string, std::pair<std::string, std::string>> rows;  // id -> (salt, digest)
  auto st = db->prepare("SELECT id, salt, digest FROM api_keys");
  ASSERT_TRUE(st);
  while (*st->step()) rows[st->text(0)] = {st->text(1), st->text(2)};
  ASSERT_EQ(rows.size(), 2u);
  auto hmac = [](const std::string& salt, const std::string& secret) {
    unsigned char out[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()),
         reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), out, &len);
    return std::string(reinterpret_cast<char*>(out), len);
  };
  const auto& [salt_a, digest_a] = rows[a.record.id];
  const auto& [salt_b, digest_b] = rows[b.record.id];
  EXPECT_EQ(salt_a.size(), 32u);
  EXPECT_NE(salt_a, salt_b);
  EXPECT_EQ(hmac(salt_a, secret_a), digest_a);  // what is stored is HMAC(salt, secret)
  EXPECT_NE(hmac(salt_b, secret_a), digest_a);  // the same secret under b's salt differs
  EXPECT_NE(digest_a, digest_b);
}

TEST_F(ApiKeysTest, StoreFilesNeverContainTheSecretAndArePrivate) {
  std::vector<std::string> secrets;
  for (int i = 0; i < 3; ++i) {
    auto k = create();
    secrets.push_back(k.key.substr(4 + kApiKeyIdHexChars + 1));  // base64url text
    secrets.push_back(parse_api_key(k.key)->secret);              // raw bytes
    ASSERT_TRUE(store_->verify(k.key, kNow));
  }
  size_t scanned = 0;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir())) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    scanned += bytes.str().size();
    for (const auto& s : secrets) EXPECT_EQ(bytes.str().find(s), std::string::npos) << entry.path();
    struct stat st {};
    ASSERT_EQ(::stat(entry.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << entry.path();
  }
  EXPECT_GT(scanned, 0u);
  struct stat dir {};
  ASSERT_EQ(::stat(data_dir().c_str(), &dir), 0);
  EXPECT_EQ(dir.st_mode & 0777, 0700u);
}

TEST_F(ApiKeysTest, ExistingLooseDatabaseFileIsTightened) {
  store_.reset();
  std::string path = data_dir() + "/identity.db";
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_TRUE(ApiKeyStore::open(data_dir()));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ApiKeysTest, CreateValidatesNamePrincipalScopesAndLifetime) {
  auto code = [&](ApiKeySpec spec) {
    auto k = store_->create(spec, kNow);
    return k ? std::string("ok") : k.error().code;
  };
  EXPECT_EQ(code({"n", R"(User::"alice")", {}, {}}), "api_key_spec_invalid");
  EXPECT_EQ(code({"n", R"(Service::"")", {}, {}}), "api_key_spec_invalid");
  EXPECT_EQ(code({"n", R"(Service::"a"b")", {}, {}}), "api_key_spec_invalid");
  EXPECT_EQ(code({"n", R"(Service::"a\"b")", {}, {}}), "api_key_spec_invalid");
  EXPECT_EQ(code({"n", "Service::billing", {}, {}}), "api_key_spec_invalid");
  EXPECT_EQ(code({"n", R"(Service::")" + std::string(kMaxPrincipalIdBytes + 1, 'x') + "\"", {}, {}}),
            "api_key_spec_invalid");
  EXPECT_EQ(code({"", R"(Service::"a")", {}, {}}), "api_key_spec_invalid");
  EXPECT_EQ(code({"line\nbreak", R"(Service::"a")", {}, {}}), "api_key_spec_invalid");
  EXPECT_EQ(code({"n", R"(Service::"a")", {"bad scope"}, {}}), "api_key_spec_invalid");
  EXPECT_EQ(code({"n", R"(Service::"a")", {}, 0}), "api_key_spec_invalid");
  EXPECT_EQ(code({"n", R"(Service::"a")", {}, kMaxApiKeyTtlSeconds + 1}), "api_key_spec_invalid");
  EXPECT_EQ(code({"n", R"(Agent::"a")", {}, kMaxApiKeyTtlSeconds}), "ok");
}

TEST_F(ApiKeysTest, SharedStoreVerifiesFromManyThreads) {
  auto created = create();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i)
        if (store_->verify(created.key, kNow + t * 100 + i)) ++ok;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 200);
}

TEST(ApiKeyToken, ParseAndFormatRoundTrip) {
  ApiKeyToken token{"00ff00ff00ff00ff", std::string(32, '\x7f')};
  auto parsed = parse_api_key(token.to_string());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->id, token.id);
  EXPECT_EQ(parsed->secret, token.secret);
}

}  // namespace
}  // namespace ztgate::authn
