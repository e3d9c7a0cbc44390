// Normalization: the text every detector reads, in the form a model would
// understand it, with every byte traceable to the original input.
//
// normalize() turns untrusted text (a prompt, a retrieved document, a tool
// result or description) into views:
//
//   normalized     the text itself after, in order:
//                  - UTF-8 decoding (an invalid sequence becomes U+FFFD and
//                    is counted, never dropped);
//                  - HTML to text (options.html): tags removed, block tags
//                    become a line break, character references decoded;
//                    script, style and hidden elements stay in as text
//                    (a model reads them); comments, alt/title-like
//                    attributes and link targets go to their own views;
//                  - removal of invisible characters: zero-width and other
//                    default-ignorable code points, bidi controls, Unicode
//                    tag characters (decoded into their own view), variation
//                    selectors (decoded too: a known byte-smuggling channel);
//                  - NFKC (fullwidth, mathematical, circled, ligature forms
//                    become their plain letters);
//                  - confusable folding: Cyrillic, Greek, Armenian, Cherokee
//                    and Latin-extension letters that look like a Latin
//                    letter become it, inside words that mix them with Latin
//                    letters or consist only of such look-alikes (a Russian
//                    or Greek sentence stays as it is).
//   html_comment   the text of HTML comments (and <!...>, <?...>), one per line
//   alt            alt, title, aria-label, placeholder, value, content...
//                  attributes and Markdown image alt text, one per line
//   link           href/src/action... attributes, Markdown link targets and
//                  bare URLs, one per line
//   html_hidden    the text of hidden elements (hidden attribute,
//                  display:none, visibility:hidden, opacity:0, font-size:0,
//                  <template>), also present in `normalized`
//   tag_chars      text smuggled as Unicode tag characters (U+E0020-E007E)
//   variation_selectors  bytes smuggled as variation selectors, when they
//                  read as text
//   base64, hex, url, rot13, quoted_printable
//                  embedded encodings decoded (options.decode): each view
//                  holds every accepted run of one encoding found in one
//                  parent view, one per line, itself normalized as above
//                  (without HTML) and decoded again up to max_decode_depth.
//
// Every view's `origin` maps its bytes to the input (see offset_map.h):
// map_to_input(view, b, e) is the input span to redact for a finding on
// bytes [b, e) of that view.
//
// Bounds: inputs over max_input_bytes are refused (the caller decides, and
// should fail closed); a run is decoded only when it is at least
// min_encoded_run characters long and the result is mostly printable UTF-8;
// all decoded views together hold at most min(2 x input, max_decoded_bytes)
// bytes (decoded_limit is set when that cut a run off); a cluster of more
// than 30 combining marks loses the rest (long_clusters counts it). Time is
// linear in the input.
//
// Not done: case folding (detectors match case-insensitively), digit and
// punctuation look-alikes ("0" for "o", leetspeak), CSS beyond inline
// style, off-screen positioning, other encodings (base32, uuencode,
// compression, Morse...), languages other than English for ROT13
// detection. See docs/DETECTION.md.
//
// Thread-safe: normalize() keeps no state between calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "inspect/offset_map.h"

namespace ztgate::inspect {

// Inputs of this size or more are refused whatever the options say: offsets
// are 32-bit and NFKC may lengthen text up to 11 times (U+FDFA).
inline constexpr size_t kMaxInputLimit = size_t{1} << 28;

struct NormalizeOptions {
  size_t max_input_bytes = size_t{4} << 20;
  int max_decode_depth = 2;                    // nested decodes (base64 inside URL-encoding: 2)
  size_t min_encoded_run = 16;                 // characters of an encoded run worth decoding
  size_t max_decoded_bytes = size_t{1} << 20;  // with 2 x input, whichever is smaller
  bool html = true;                            // HTML markup and character references
  bool decode = true;                          // base64, hex, URL, ROT13, quoted-printable
  bool fold_confusables = true;
};

// What normalization removed, rewrote or found: counts of code points or
// occurrences. Policy reads them (a prompt with tag characters is suspect
// whatever it says).
struct Flags {
  size_t zero_width = 0;           // zero-width and other default-ignorable code points removed
  size_t bidi_control = 0;         // bidi embedding/override/isolate/mark characters removed
  size_t tag_chars = 0;            // Unicode tag characters removed
  size_t variation_selectors = 0;  // variation selectors removed
  size_t confusables = 0;          // look-alike letters folded to Latin
  size_t compatibility = 0;        // code points NFKC rewrote (fullwidth, math letters...)
  size_t invalid_utf8 = 0;         // invalid sequences replaced by U+FFFD
  size_t html_comments = 0;
  size_t html_hidden = 0;      // hidden elements
  size_t encoded = 0;          // encoded runs decoded into views
  size_t long_clusters = 0;    // clusters of combining marks cut short
  bool decoded_limit = false;  // the decoded-bytes bound refused a run

  // Whether anything an attacker uses to hide text was seen (including a
  // run too large to decode: what it says is unknown).
  bool suspicious() const {
    return decoded_limit || zero_width + bidi_control + tag_chars + variation_selectors +
                                    confusables + invalid_utf8 + html_comments + html_hidden +
                                    encoded + long_clusters >
                                0;
  }
};

enum class ViewKind : uint8_t {
  normalized,
  html_comment,
  alt,
  link,
  html_hidden,
  tag_chars,
  variation_selectors,
  base64,
  hex,
  url,
  rot13,
  quoted_printable,
};

// "normalized", "html_comment", ..., "quoted_printable".
std::string_view view_kind_name(ViewKind kind);

struct View {
  ViewKind kind = ViewKind::normalized;
  int depth = 0;    // 0: the input's own text; n: found after n decodes
  int parent = -1;  // index of the view it was found in; -1 for views[0]
  std::string text;
  OffsetMap origin;  // text bytes -> input bytes
};

struct Normalized {
  // views[0] is the normalized text (possibly empty); other views follow,
  // only when they have text, each after its parent.
  std::vector<View> views;
  Flags flags;

  const View& text() const { return views.front(); }
  // The input span behind bytes [begin, end) of views[view] (see OffsetMap::map).
  Span map_to_input(size_t view, size_t begin, size_t end) const;
};

// Errors: "input_too_large" when input.size() > options.max_input_bytes (or
// kMaxInputLimit).
Result<Normalized> normalize(std::string_view input, const NormalizeOptions& options = {});

}  // namespace ztgate::inspect
