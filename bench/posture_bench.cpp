// Model-weight hashing throughput (src/posture/file_digest.h).
//
//   BM_DigestFile      digest_file on a large file already in the page cache
//   BM_Sha256InMemory  EVP SHA-256 over a buffer in RAM: the upper bound
//   BM_Sha256sum       coreutils sha256sum on the same file, for comparison
// Bytes/s in the output is the throughput. The file (ZTGATE_BENCH_HASH_MIB,
// default 1024 MiB) is written to a temp dir at start and removed at exit.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "posture/file_digest.h"

namespace {

std::string g_file;
uint64_t g_bytes = 0;

void write_test_file(const std::string& path, uint64_t bytes) {
  std::vector<char> chunk(size_t{1} << 20);
  std::mt19937_64 rng(42);
  for (size_t i = 0; i + 8 <= chunk.size(); i += 8) {
    uint64_t v = rng();
    std::memcpy(chunk.data() + i, &v, 8);
  }
  std::ofstream out(path, std::ios::binary);
  for (uint64_t done = 0; done < bytes; done += chunk.size()) {
    chunk[0] = static_cast<char>(done >> 20);  // no two chunks alike
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  }
}

void BM_DigestFile(benchmark::State& state) {
  for (auto _ : state) {
    auto d = ztgate::posture::digest_file(g_file);
    if (!d) state.SkipWithError(d.error().message.c_str());
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_bytes));
}
// CPU time (user + system, incl. the kernel copy): on a shared machine wall
// time measures the neighbours; Time vs CPU in the output shows both.
BENCHMARK(BM_DigestFile)->Unit(benchmark::kMillisecond)->MinTime(3.0);

void BM_Sha256InMemory(benchmark::State& state) {
  std::string buf(size_t{64} << 20, '\x5a');
  unsigned char md[32];
  unsigned int len = 0;
  for (auto _ : state) {
    EVP_Digest(buf.data(), buf.size(), md, &len, EVP_sha256(), nullptr);
    benchmark::DoNotOptimize(md);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * buf.size()));
}
BENCHMARK(BM_Sha256InMemory)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_Sha256sum(benchmark::State& state) {
  std::string cmd = "sha256sum '" + g_file + "' > /dev/null";
  for (auto _ : state) {
    if (std::system(cmd.c_str()) != 0) state.SkipWithError("sha256sum failed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_bytes));
}
BENCHMARK(BM_Sha256sum)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  const char* mib = std::getenv("ZTGATE_BENCH_HASH_MIB");
  g_bytes = (mib ? std::strtoull(mib, nullptr, 10) : 1024) << 20;
  auto dir = std::filesystem::temp_directory_path() / ("ztgate-posture-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  g_file = (dir / "weights.bin").string();
  write_test_file(g_file, g_bytes);
  (void)ztgate::posture::digest_file(g_file);  // warm the page cache
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(dir);
  return 0;
}
