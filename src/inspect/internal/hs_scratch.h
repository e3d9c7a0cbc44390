// One Hyperscan scratch per thread, grown to fit every database the thread
// scans with (injection rules, DLP), freed when the thread ends.
// hs_alloc_scratch() validates the whole database (a checksum: ~1 ms for
// 10 MB), so the scratch remembers the serial numbers of the database sets
// it already fits (a scratch only grows).
#pragma once

#include <hs.h>

#include <cstdint>
#include <initializer_list>

namespace ztgate::inspect::internal {

// A serial for a new set of databases; never reused.
uint64_t new_database_serial();

// The calling thread's scratch, fitted to `databases` (nulls skipped) once
// per serial; nullptr when Hyperscan cannot allocate it (fail closed).
// Not for nested scans: one scan at a time per thread.
hs_scratch_t* thread_scratch(uint64_t serial, std::initializer_list<const hs_database_t*> databases);

}  // namespace ztgate::inspect::internal
