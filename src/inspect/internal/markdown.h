// Link targets and image alt text in normalized text (internal).
//
// Markdown stays in the normalized view as the model reads it; this finds
// what an exfiltration or hidden-instruction detector wants listed on its
// own: the target of every [text](target) and ![alt](target), the alt text
// of images, and bare URLs (scheme://...). A linear scan with bounded
// look-behind and look-ahead, no regex.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "inspect/offset_map.h"

namespace ztgate::inspect::internal {

inline constexpr size_t kMaxLinkBytes = 8 * 1024;  // a longer target is cut there
inline constexpr size_t kMaxLinkTextBytes = 1024;  // how far back '[' is looked for
inline constexpr size_t kMaxMarkdownItems = 4096;  // per text; more are ignored

struct MarkdownItem {
  bool alt = false;  // image alt text; otherwise a link target
  Span span;         // offsets in the scanned text
};

std::vector<MarkdownItem> find_markdown_items(std::string_view text);

}  // namespace ztgate::inspect::internal
