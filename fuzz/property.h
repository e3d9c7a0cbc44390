// What every fuzz target shares: how a violated property is reported, and
// how one input is cut into the parts a target needs.
//
// A violated property prints what was expected, what happened and the text
// involved, then aborts, so libFuzzer saves the input as a crash artifact.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace ztgate::fuzz {

// Aborts with `what` and `detail` unless `holds`.
inline void require(bool holds, std::string_view what, std::string_view detail = {}) {
  if (holds) return;
  std::fprintf(stderr, "\n*** fuzz property violated: %.*s\n%.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// Splits `input` at every occurrence of `separator` (a line of its own in
// the seeds, e.g. "\n---\n"); at most `max_parts` parts, the last one keeps
// the rest.
inline std::vector<std::string_view> split_parts(std::string_view input, std::string_view separator,
                                                 size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    size_t at = input.find(separator);
    if (at == std::string_view::npos) break;
    parts.push_back(input.substr(0, at));
    input.remove_prefix(at + separator.size());
  }
  parts.push_back(input);
  return parts;
}

}  // namespace ztgate::fuzz
