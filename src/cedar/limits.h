// Bounds on untrusted input. Every parser in src/cedar refuses input beyond
// these with a clear error, so no input can exhaust memory or the stack.
#pragma once

#include <cstddef>

namespace ztgate::cedar {

inline constexpr size_t kMaxPolicyTextBytes = size_t{32} << 20;   // one policy file
inline constexpr size_t kMaxSchemaTextBytes = size_t{16} << 20;   // one schema file
inline constexpr size_t kMaxJsonTextBytes = size_t{256} << 20;    // entities, values, contexts

}  // namespace ztgate::cedar
