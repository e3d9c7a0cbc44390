// A small, bounded HTML tag scanner (internal): no DOM, no regex, no
// backtracking. It recognizes what the normalizer needs to turn markup into
// text a detector can read:
//
//   - start and end tags of known HTML elements (and custom elements, whose
//     names contain '-'); anything else after '<' ("a < b", "vector<int>",
//     "<https://...>") is text, so code and prose survive;
//   - attributes, quoted or not, with their value spans;
//   - character references (&amp; &#105; &#x69; and a few named ones).
//
// A tag longer than kMaxTagBytes, or without its '>', is not a tag. Comments,
// CDATA and raw-text elements are handled by the caller (Pass), which owns
// the document-level state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "inspect/offset_map.h"

namespace ztgate::inspect::internal {

inline constexpr size_t kMaxTagBytes = 64 * 1024;
inline constexpr int kMaxAttributes = 64;  // more are skipped, not an error

enum ElementFlag : uint8_t {
  kBlock = 1,    // rendered on its own line: becomes a line break
  kVoid = 2,     // has no content and no end tag
  kRawText = 4,  // content is text up to its end tag (script, style)
  kRcData = 8,   // like kRawText, with character references (textarea, title)
  kHidden = 16,  // content never rendered (template)
};

struct Element {
  std::string_view name;  // lowercase; empty for a custom element
  uint8_t flags = 0;
};

struct Attribute {
  std::string_view name;  // as written
  Span value;             // source offsets, without quotes; empty when absent
};

struct Tag {
  bool end_tag = false;
  bool self_closing = false;
  std::string_view name;  // as written
  Element element;
  Span span;  // '<' to '>' inclusive
  Attribute attributes[kMaxAttributes];
  int attribute_count = 0;
};

enum class TagScan {
  tag,           // *tag is filled
  not_a_tag,     // not markup: the '<' is text
  unterminated,  // looked like a tag but has no '>' within bounds; *scanned_to says how far it
                 // looked
};

// Scans the tag starting at s[pos] == '<' (and ending before `end`).
TagScan scan_tag(std::string_view s, size_t pos, size_t end, Tag* tag, size_t* scanned_to);

// Where the raw-text content of element `name` starting at `from` ends: the
// position of its "</name" end tag (case-insensitive), or `end`.
size_t find_raw_text_end(std::string_view s, size_t from, size_t end, std::string_view name);

// Whether an inline style hides its element: display:none,
// visibility:hidden|collapse, opacity:0, font-size:0 (spaces and case ignored;
// the first 4 KiB are read).
bool style_hides(std::string_view style);

// Case-insensitive ASCII comparison.
bool equals_ignore_case(std::string_view a, std::string_view b);

struct CharRef {
  char32_t cp = 0;
  size_t length = 0;  // 0: not a character reference
};

// The character reference at s[pos] == '&': numeric (&#105; &#x69;, the ';'
// optional) or one of a small set of named ones (';' required). An invalid
// number gives U+FFFD.
CharRef decode_char_ref(std::string_view s, size_t pos, size_t end);

}  // namespace ztgate::inspect::internal
