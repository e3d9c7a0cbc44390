// The validators a DLP rule may name (`validator:` in rules/dlp/*.yaml): a
// check of the value a pattern matched, beyond what a regex can say
// (checksums, ranges, decodings). Pure.
#pragma once

#include <cstddef>
#include <string_view>

namespace ztgate::inspect::internal {

// Whether `value` passes validator `name` (false for an unknown name, and
// for pem_block, which extends instead: see extend_pem_block()).
bool validate_dlp_value(std::string_view name, std::string_view value);

// pem_block: a PEM private key's span from its BEGIN line to the end of its
// END line, when one follows within max_bytes of `begin`; otherwise through
// the base64 body that follows (a truncated key is still a key). Returns the
// new end (at least `end`, at most begin + max_bytes).
size_t extend_pem_block(std::string_view text, size_t begin, size_t end, size_t max_bytes);

}  // namespace ztgate::inspect::internal
