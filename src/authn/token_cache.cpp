#include "authn/token_cache.h"

#include <openssl/rand.h>

#include <cstring>

namespace ztgate::authn {
namespace {

// 64x64 -> 128-bit multiply folded to 64 bits (the "mum" mix of wyhash).
uint64_t mum(uint64_t a, uint64_t b) {
  __extension__ using U128 = unsigned __int128;
  U128 r = static_cast<U128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

uint64_t process_seed() {
  static const uint64_t seed = [] {
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&s), sizeof s) != 1) s ^= reinterpret_cast<uintptr_t>(&s);
    return s;
  }();
  return seed;
}

constexpr uint64_t kP0 = 0xa0761d6478bd642fULL;
constexpr uint64_t kP1 = 0xe7037ed1a0b428dbULL;
constexpr uint64_t kP2 = 0x8ebc6af09c88c6e3ULL;

}  // namespace

uint64_t token_hash(std::string_view bytes) {
  const char* p = bytes.data();
  size_t n = bytes.size();
  uint64_t h = process_seed() ^ mum(n ^ kP0, kP1);
  // Two independent lanes per 32 bytes keep the multiplier busy.
  uint64_t a = h, b = h ^ kP2;
  for (; n >= 32; n -= 32, p += 32) {
    a = mum(load64(p) ^ kP0 ^ a, load64(p + 8) ^ kP1);
    b = mum(load64(p + 16) ^ kP2 ^ b, load64(p + 24) ^ kP0);
  }
  h = a ^ b;
  for (; n >= 8; n -= 8, p += 8) h = mum(load64(p) ^ kP0 ^ h, kP1);
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  return mum(mum(tail ^ kP2 ^ h, kP0) ^ bytes.size(), kP1);
}

}  // namespace ztgate::authn
