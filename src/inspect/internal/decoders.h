// Embedded encodings a model can read, found and decoded (internal).
//
// Each finder scans one view's text for runs of one encoding and appends
// every accepted run's decoded bytes to a DecodedText (runs separated by
// "\n"), mapped back to the scanned text. A run is accepted when:
//   - it is at least min_run characters long (base64, hex, URL, QP) or has
//     at least min_run letters (ROT13);
//   - the decoded bytes are mostly printable UTF-8 (mostly_printable): a
//     hash, a key or an image is not text a model would follow;
//   - the budget has room for it (otherwise budget.exhausted is set).
//
//   base64   [A-Za-z0-9+/] or URL-safe [-_] runs with optional '=' padding,
//            continued across line breaks after a full 4-character line
//            (MIME); 3 bytes per 4 characters
//   hex      a whole token of hex digits (optionally "0x"), "\xHH" escapes,
//            or byte pairs separated by one of " :,-"
//   url      a token (up to space, quotes, brackets) with at least 2 %HH
//            escapes; '+' is a space
//   qp       quoted-printable: lines with at least 3 =HH escapes between
//            them within 76 characters; "=" at a line end joins lines
//   rot13    a stretch of words (letters, spaces, simple punctuation) whose
//            letter frequencies look like rotated English, confirmed by
//            common English words appearing only after rotation
//
// Linear in the text; no regex.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "inspect/offset_map.h"

namespace ztgate::inspect::internal {

// Bytes decoded from (or smuggled in) a text, with where each came from.
struct DecodedText {
  std::string bytes;
  OffsetMap map;  // bytes -> offsets in the text they were found in
  size_t runs = 0;

  // Starts a run at text offset `at`: a "\n" (mapped to an empty span) when
  // bytes already hold a run.
  void begin_run(size_t at);
  void push(char byte, Span src) {
    bytes.push_back(byte);
    map.append(1, src.begin, 1, src.size());
  }
  // Drops a run begun at byte `size` (and its separator).
  void cancel_run(size_t size);
};

struct DecodeBudget {
  size_t remaining = 0;
  bool exhausted = false;
};

// Whether bytes read as text: valid UTF-8 for at least 90% of the code
// points, and at most 10% control characters (other than tab and line breaks).
bool mostly_printable(std::string_view bytes);

void find_base64(std::string_view text, size_t min_run, DecodeBudget& budget, DecodedText& out);
void find_hex(std::string_view text, size_t min_run, DecodeBudget& budget, DecodedText& out);
void find_url(std::string_view text, size_t min_run, DecodeBudget& budget, DecodedText& out);
void find_quoted_printable(std::string_view text, size_t min_run, DecodeBudget& budget,
                           DecodedText& out);
void find_rot13(std::string_view text, size_t min_run, DecodeBudget& budget, DecodedText& out);

}  // namespace ztgate::inspect::internal
