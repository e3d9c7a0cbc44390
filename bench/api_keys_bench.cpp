// API key verification (src/authn/api_keys.h) with 1,000 keys in the store:
//   verify_valid      parse, snapshot check (PRAGMA data_version), HMAC, compare
//   verify_wrong      a wrong secret: must cost the same (no timing oracle)
//   verify_unknown    an unknown id: must cost the same too
//   hmac_baseline     HMAC-SHA256 of a 32-byte secret alone
//
//   build/bench/api_keys_bench
#include <benchmark/benchmark.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <filesystem>

#include "authn/api_keys.h"

namespace {

using namespace ztgate::authn;

constexpr int64_t kNow = 1'900'000'000;

struct Fixture {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ztgate-apikey-bench-" + std::to_string(::getpid()));
  std::unique_ptr<ApiKeyStore> store;
  std::string valid, wrong, unknown;
  Fixture() {
    std::filesystem::remove_all(dir);
    store = ApiKeyStore::open(dir.string()).value();
    for (int i = 0; i < 1000; ++i) {
      auto created = store->create({"k" + std::to_string(i), "Service::\"svc\"", {"a"}, std::nullopt}, kNow).value();
      if (i == 500) valid = created.key;
    }
    wrong = valid;
    wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
    unknown = "ztg_0123456789abcdef_" + valid.substr(21);  // ztg_ + 16 hex + _
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void run(benchmark::State& state, const std::string& key, bool expect_ok) {
  auto& f = fixture();
  for (auto _ : state) {
    auto r = f.store->verify(key, kNow + 1);
    if (r.ok() != expect_ok) state.SkipWithError("unexpected verification result");
    benchmark::DoNotOptimize(r);
  }
}

void BM_VerifyValid(benchmark::State& state) { run(state, fixture().valid, true); }
void BM_VerifyWrongSecret(benchmark::State& state) { run(state, fixture().wrong, false); }
void BM_VerifyUnknownId(benchmark::State& state) { run(state, fixture().unknown, false); }
BENCHMARK(BM_VerifyValid);
BENCHMARK(BM_VerifyWrongSecret);
BENCHMARK(BM_VerifyUnknownId);

void BM_HmacBaseline(benchmark::State& state) {
  unsigned char salt[32] = {1}, secret[32] = {2}, out[32];
  unsigned int len = 0;
  for (auto _ : state) {
    HMAC(EVP_sha256(), salt, sizeof salt, secret, sizeof secret, out, &len);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_HmacBaseline);

}  // namespace

BENCHMARK_MAIN();
