#include "inspect/internal/hs_scratch.h"

#include <atomic>
#include <cstddef>
#include <unordered_set>

namespace ztgate::inspect::internal {
namespace {

// A scratch only grows, so a serial it fitted once stays fitted. The set is
// not a ring: with the rules' own databases (rules.cpp) a thread may use
// more than a hundred serials, and evicting the pack's would re-validate
// its megabytes. Past kMaxSerials (reloads make new serials) it starts over.
constexpr size_t kMaxSerials = 4096;

struct ThreadScratch {
  hs_scratch_t* scratch = nullptr;
  std::unordered_set<uint64_t> fits;  // serials of the database sets it fits
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
  if (t.fits.count(serial) != 0) return t.scratch;
  for (const hs_database_t* d : databases)
    if (d != nullptr && hs_alloc_scratch(d, &t.scratch) != HS_SUCCESS) return nullptr;
  if (t.fits.size() >= kMaxSerials) t.fits.clear();
  t.fits.insert(serial);
  return t.scratch;
}

}  // namespace ztgate::inspect::internal
