#include "inspect/internal/hs_scratch.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>

namespace ztgate::inspect::internal {
namespace {

struct ThreadScratch {
  hs_scratch_t* scratch = nullptr;
  std::array<uint64_t, 64> fits{};  // serials (a pack and its rules' own databases); 0 = none
  size_t next = 0;
  ~ThreadScratch() {
    if (scratch != nullptr) hs_free_scratch(scratch);
  }
};
thread_local ThreadScratch tls_scratch;
std::atomic<uint64_t> next_serial{1};

}  // namespace

uint64_t new_database_serial() { return next_serial.fetch_add(1); }

hs_scratch_t* thread_scratch(uint64_t serial, std::initializer_list<const hs_database_t*> databases) {
  ThreadScratch& t = tls_scratch;
  if (std::find(t.fits.begin(), t.fits.end(), serial) != t.fits.end()) return t.scratch;
  for (const hs_database_t* d : databases)
    if (d != nullptr && hs_alloc_scratch(d, &t.scratch) != HS_SUCCESS) return nullptr;
  t.fits[t.next++ % t.fits.size()] = serial;
  return t.scratch;
}

}  // namespace ztgate::inspect::internal
