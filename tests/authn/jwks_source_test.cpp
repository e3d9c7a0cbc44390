// JwksSource cache rules, with a manual clock and an in-memory IdP serving
// JWKS made from real keys.
#include "authn/jwks_source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "authn/oidc_discovery.h"
#include "jwks_fake_idp.h"
#include "test_keys.h"

namespace ztgate::authn {
namespace {

using namespace std::chrono_literals;
using testing::FakeIdp;
using testing::ManualClock;

const std::string kJwksUrl = "https://idp.example/jwks.json";
const std::string kIssuer = "https://idp.example/tenant";
const std::string kDiscoveryUrl = "https://idp.example/tenant/.well-known/openid-configuration";

std::string jwks_of(const std::vector<std::pair<EVP_PKEY*, std::string>>& keys) {
  std::string out = "{\"keys\":[";
  for (size_t i = 0; i < keys.size(); ++i)
    out += (i ? "," : "") + testing::public_jwk(keys[i].first, keys[i].second);
  return out + "]}";
}

std::vector<std::string> kids(const KeySet& set) {
  std::vector<std::string> out;
  for (const auto& k : *set) out.push_back(k.kid);
  return out;
}

struct JwksSourceTest : ::testing::Test {
  EvpPkeyPtr key1 = testing::make_ed25519();
  EvpPkeyPtr key2 = testing::make_ec("P-256");
  FakeIdp idp;
  ManualClock clock;

  std::shared_ptr<JwksSource> url_source(JwksCachePolicy cache = {}) {
    auto s = JwksSource::create({JwksSourceKind::kUrl, kJwksUrl, cache, {}}, idp.fn(), clock.fn());
    EXPECT_TRUE(s.ok()) << s.error().message;
    return *s;
  }
};

TEST_F(JwksSourceTest, ServesFromCacheUntilMaxAgeThenRefetches) {
  idp.serve(kJwksUrl, jwks_of({{key1.get(), "a"}}), "public, max-age=600");
  auto source = url_source();
  ASSERT_TRUE(source->keys().ok());
  ASSERT_TRUE(source->keys().ok());
  clock.advance(599s);
  ASSERT_TRUE(source->keys().ok());
  EXPECT_EQ(idp.hits(kJwksUrl), 1);
  clock.advance(2s);
  ASSERT_TRUE(source->keys().ok());
  EXPECT_EQ(idp.hits(kJwksUrl), 2);
}

TEST_F(JwksSourceTest, MaxAgeIsClampedToMinTtl) {
  idp.serve(kJwksUrl, jwks_of({{key1.get(), "a"}}), "max-age=1");
  auto source = url_source();
  ASSERT_TRUE(source->keys().ok());
  clock.advance(299s);
  ASSERT_TRUE(source->keys().ok());
  EXPECT_EQ(idp.hits(kJwksUrl), 1);
  clock.advance(2s);
  ASSERT_TRUE(source->keys().ok());
  EXPECT_EQ(idp.hits(kJwksUrl), 2);
}

TEST_F(JwksSourceTest, MaxAgeIsClampedToMaxTtl) {
  idp.serve(kJwksUrl, jwks_of({{key1.get(), "a"}}), "max-age=999999999999");
  auto source = url_source();
  ASSERT_TRUE(source->keys().ok());
  clock.advance(24h + 1s);
  ASSERT_TRUE(source->keys().ok());
  EXPECT_EQ(idp.hits(kJwksUrl), 2);
}

TEST_F(JwksSourceTest, NoMaxAgeMeansDefaultTtlAndNoStoreMeansMinTtl) {
  idp.serve(kJwksUrl, jwks_of({{key1.get(), "a"}}));
  auto source = url_source();
  ASSERT_TRUE(source->keys().ok());
  clock.advance(3599s);
  ASSERT_TRUE(source->keys().ok());
  EXPECT_EQ(idp.hits(kJwksUrl), 1);
  idp.serve(kJwksUrl, jwks_of({{key1.get(), "a"}}), "no-store, max-age=86400");
  clock.advance(2s);
  ASSERT_TRUE(source->keys().ok());
  EXPECT_EQ(idp.hits(kJwksUrl), 2);
  clock.advance(301s);
  ASSERT_TRUE(source->keys().ok());
  EXPECT_EQ(idp.hits(kJwksUrl), 3);
}

TEST_F(JwksSourceTest, UnknownKidRefreshPicksUpRotatedKeys) {
  idp.serve(kJwksUrl, jwks_of({{key1.get(), "a"}}), "max-age=3600");
  auto source = url_source();
  ASSERT_TRUE(source->keys().ok());
  idp.serve(kJwksUrl, jwks_of({{key1.get(), "a"}, {key2.get(), "b"}}), "max-age=3600");
  clock.advance(31s);
  auto keys = source->refresh_after_unknown_kid();
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(kids(*keys), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(kids(*source->keys()), (std::vector<std::string>{"a", "b"}));
}

TEST_F(JwksSourceTest, UnknownKidRefreshesAreRateLimited) {
  idp.serve(kJwksUrl, jwks_of({{key1.get(), "a"}}), "max-age=3600");
  auto source = url_source();
  ASSERT_TRUE(source->keys().ok());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(source->refresh_after_unknown_kid().ok());
  EXPECT_EQ(idp.hits(kJwksUrl), 1);  // the initial load was < 30 s ago
  clock.advance(30s);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(source->refresh_after_unknown_kid().ok());
  EXPECT_EQ(idp.hits(kJwksUrl), 2);
  clock.advance(29s);
  ASSERT_TRUE(source->refresh_after_unknown_kid().ok());
  EXPECT_EQ(idp.hits(kJwksUrl), 2);
}

TEST_F(JwksSourceTest, StaleIfErrorServesLastGoodKeysThenFailsClosed) {
  idp.serve(kJwksUrl, jwks_of({{key1.get(), "a"}}), "max-age=600");
  auto source = url_source();
  ASSERT_TRUE(source->keys().ok());
  idp.fail(kJwksUrl);
  clock.advance(601s);
  auto stale = source->keys();
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(kids(*stale), std::vector<std::string>{"a"});
  ASSERT_TRUE(source->last_error().has_value());
  EXPECT_EQ(source->last_error()->code, "net_http_status");

  clock.advance(24h - 2s);  // 1 s before the window closes
  EXPECT_TRUE(source->keys().ok());
  clock.advance(2s);
  auto closed = source->keys();
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code, "jwks_unavailable");
  EXPECT_NE(closed.error().message.find("net_http_status"), std::string::npos);

  idp.serve(kJwksUrl, jwks_of({{key2.get(), "b"}}), "max-age=600");
  clock.advance(31s);
  auto recovered = source->keys();
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(kids(*recovered), std::vector<std::string>{"b"});
  EXPECT_FALSE(source->last_error().has_value());
}

TEST_F(JwksSourceTest, FailingIdpIsAskedAtMostOncePerInterval) {
  idp.fail(kJwksUrl);
  auto source = url_source();
  for (int i = 0; i < 100; ++i) {
    auto keys = source->keys();
    ASSERT_FALSE(keys.ok());
    EXPECT_EQ(keys.error().code, "jwks_unavailable");
  }
  EXPECT_EQ(idp.hits(kJwksUrl), 1);
  clock.advance(30s);
  EXPECT_FALSE(source->keys().ok());
  EXPECT_EQ(idp.hits(kJwksUrl), 2);
}

TEST_F(JwksSourceTest, BadDocumentNeverReplacesGoodKeys) {
  idp.serve(kJwksUrl, jwks_of({{key1.get(), "a"}}), "max-age=300");
  auto source = url_source();
  ASSERT_TRUE(source->keys().ok());
  for (const std::string& bad : {std::string("not json"), std::string("{\"keys\":[]}"),
                                 std::string("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\"}]}")}) {
    idp.serve(kJwksUrl, bad, "max-age=300");
    clock.advance(301s);
    auto keys = source->keys();
    ASSERT_TRUE(keys.ok()) << bad;
    EXPECT_EQ(kids(*keys), std::vector<std::string>{"a"}) << bad;
    ASSERT_TRUE(source->last_error().has_value());
  }
  EXPECT_EQ(source->last_error()->code, "jwk_invalid");
}

TEST_F(JwksSourceTest, EmptyKeySetIsAnError) {
  idp.serve(kJwksUrl, "{\"keys\":[]}");
  auto source = url_source();
  EXPECT_FALSE(source->keys().ok());
  EXPECT_EQ(source->last_error()->code, "jwks_invalid");
}

TEST_F(JwksSourceTest, DiscoveryFindsJwksUriAndChecksIssuerExactly) {
  idp.serve(kDiscoveryUrl, R"({"issuer":")" + kIssuer + R"(","jwks_uri":")" + kJwksUrl + "\"}");
  idp.serve(kJwksUrl, jwks_of({{key1.get(), "a"}}), "max-age=3600");
  auto source =
      JwksSource::create({JwksSourceKind::kDiscovery, kIssuer + "/", {}, {}}, idp.fn(), clock.fn());
  ASSERT_TRUE(source.ok());
  // Configured with a trailing slash: the document's issuer must then carry it too.
  EXPECT_FALSE((*source)->keys().ok());
  EXPECT_EQ((*source)->last_error()->code, "jwks_issuer_mismatch");

  auto exact =
      JwksSource::create({JwksSourceKind::kDiscovery, kIssuer, {}, {}}, idp.fn(), clock.fn());
  ASSERT_TRUE(exact.ok());
  auto keys = (*exact)->keys();
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(kids(*keys), std::vector<std::string>{"a"});
}

TEST_F(JwksSourceTest, DiscoveryRefusesPlainHttpJwksUri) {
  idp.serve(kDiscoveryUrl,
            R"({"issuer":")" + kIssuer + R"(","jwks_uri":"http://idp.example/jwks.json"})");
  auto source =
      JwksSource::create({JwksSourceKind::kDiscovery, kIssuer, {}, {}}, idp.fn(), clock.fn());
  ASSERT_TRUE(source.ok());
  EXPECT_FALSE((*source)->keys().ok());
  EXPECT_EQ((*source)->last_error()->code, "jwks_insecure_uri");
  EXPECT_EQ(idp.hits("http://idp.example/jwks.json"), 0);
}

TEST_F(JwksSourceTest, UnknownKidRefreshInDiscoveryModeRefetchesOnlyTheJwks) {
  idp.serve(kDiscoveryUrl, R"({"issuer":")" + kIssuer + R"(","jwks_uri":")" + kJwksUrl + "\"}");
  idp.serve(kJwksUrl, jwks_of({{key1.get(), "a"}}), "max-age=3600");
  auto source =
      JwksSource::create({JwksSourceKind::kDiscovery, kIssuer, {}, {}}, idp.fn(), clock.fn());
  ASSERT_TRUE((*source)->keys().ok());
  clock.advance(31s);
  ASSERT_TRUE((*source)->refresh_after_unknown_kid().ok());
  EXPECT_EQ(idp.hits(kDiscoveryUrl), 1);
  EXPECT_EQ(idp.hits(kJwksUrl), 2);
  clock.advance(3600s);
  ASSERT_TRUE((*source)->keys().ok());
  EXPECT_EQ(idp.hits(kDiscoveryUrl), 2);
}

TEST_F(JwksSourceTest, FileSourceReloadsWhenTheFileChanges) {
  auto dir =
      std::filesystem::temp_directory_path() / ("jwks_source_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / "jwks.json";
  auto write = [&](const std::string& text) { std::ofstream(path, std::ios::trunc) << text; };
  write(jwks_of({{key1.get(), "a"}}));
  auto source = JwksSource::create({JwksSourceKind::kFile, path.string(), {}, {}}, {}, clock.fn());
  ASSERT_TRUE(source.ok());
  ASSERT_EQ(kids(*(*source)->keys()), std::vector<std::string>{"a"});

  write(jwks_of({{key1.get(), "a"}, {key2.get(), "b"}}));
  EXPECT_EQ(kids(*(*source)->keys()), std::vector<std::string>{"a"});  // checked every 1 s
  clock.advance(2s);
  EXPECT_EQ(kids(*(*source)->keys()), (std::vector<std::string>{"a", "b"}));

  write("{\"keys\": broken");  // a bad edit keeps the last good keys
  clock.advance(2s);
  EXPECT_EQ(kids(*(*source)->keys()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ((*source)->last_error()->code, "jwk_invalid");

  std::filesystem::remove(path);
  clock.advance(2s);
  EXPECT_TRUE((*source)->keys().ok());
  EXPECT_EQ((*source)->last_error()->code, "jwks_file_unreadable");
  std::filesystem::remove_all(dir);
}

TEST_F(JwksSourceTest, MissingFileIsUnavailable) {
  auto source =
      JwksSource::create({JwksSourceKind::kFile, "/nonexistent/jwks.json", {}, {}}, {}, clock.fn());
  ASSERT_TRUE(source.ok());
  auto keys = (*source)->keys();
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.error().code, "jwks_unavailable");
  EXPECT_NE(keys.error().message.find("jwks_file_unreadable"), std::string::npos);
}

TEST_F(JwksSourceTest, ConfigurationIsChecked) {
  auto code = [](JwksSourceConfig c) {
    auto s = JwksSource::create(std::move(c));
    return s.ok() ? std::string("ok") : s.error().code;
  };
  EXPECT_EQ(code({JwksSourceKind::kUrl, "http://idp.example/jwks", {}, {}}), "jwks_config_invalid");
  EXPECT_EQ(code({JwksSourceKind::kDiscovery, "idp.example", {}, {}}), "jwks_config_invalid");
  EXPECT_EQ(code({JwksSourceKind::kFile, "", {}, {}}), "jwks_config_invalid");
  JwksCachePolicy inverted;
  inverted.min_ttl = 2h;
  inverted.max_ttl = 1h;
  EXPECT_EQ(code({JwksSourceKind::kUrl, kJwksUrl, inverted, {}}), "jwks_config_invalid");
  EXPECT_EQ(code({JwksSourceKind::kUrl, kJwksUrl, {}, {}}), "ok");
}

TEST_F(JwksSourceTest, ConcurrentCallersShareOneFetch) {
  std::atomic<int> calls{0};
  std::string body = jwks_of({{key1.get(), "a"}});
  auto slow = [&](const std::string&) -> Result<net::HttpResponse> {
    ++calls;
    std::this_thread::sleep_for(50ms);
    return net::HttpResponse{200, "max-age=600", "application/json", body, ""};
  };
  auto source = JwksSource::create({JwksSourceKind::kUrl, kJwksUrl, {}, {}}, slow, clock.fn());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      if ((*source)->keys().ok()) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(calls.load(), 1);
}

TEST(OidcDiscoveryTest, ParsesAndChecksTheDocument) {
  auto code = [](std::string_view json) {
    auto d = parse_oidc_discovery(json, "https://idp.example");
    return d.ok() ? std::string("ok") : d.error().code;
  };
  EXPECT_EQ(code(R"({"issuer":"https://idp.example","jwks_uri":"https://idp.example/k"})"), "ok");
  EXPECT_EQ(code(R"({"issuer":"https://idp.example/","jwks_uri":"https://idp.example/k"})"),
            "jwks_issuer_mismatch");
  EXPECT_EQ(code(R"({"issuer":"https://IDP.example","jwks_uri":"https://idp.example/k"})"),
            "jwks_issuer_mismatch");
  EXPECT_EQ(code(R"({"issuer":"https://idp.example","jwks_uri":"https://u@idp.example/k"})"),
            "jwks_insecure_uri");
  EXPECT_EQ(code(R"({"issuer":"https://idp.example","jwks_uri":"https://idp.example/k",)"
                 R"("issuer":"https://evil.example"})"),
            "jwks_discovery_invalid");
  EXPECT_EQ(code(R"({"issuer":"https://idp.example"})"), "jwks_discovery_invalid");
  EXPECT_EQ(code(R"({"issuer":1,"jwks_uri":"https://idp.example/k"})"), "jwks_discovery_invalid");
  EXPECT_EQ(code(R"(["issuer"])"), "jwks_discovery_invalid");
  EXPECT_EQ(code(std::string(100, '[')), "jwks_discovery_invalid");
  EXPECT_EQ(discovery_url("https://a.example/t/"),
            "https://a.example/t/.well-known/openid-configuration");
}

}  // namespace
}  // namespace ztgate::authn
