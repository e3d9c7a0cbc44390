// One normalization pass over a source text (internal): the input, or bytes
// decoded from a view.
//
// Pass reads the source once, left to right. It decodes UTF-8, recognizes
// HTML (when asked: tags, comments, CDATA, raw-text elements, character
// references), removes invisible characters (counting them in Flags and
// collecting tag characters and variation selectors as smuggled bytes), and
// feeds text to the TextBuilders of the views it produces. Then it lists
// Markdown link targets and image alt text from the normalized text.
//
// All offsets (builders' maps, smuggled bytes' maps) are in source bytes.
// Linear time: the ASCII fast path copies runs between markup and non-ASCII
// bytes; a tag that does not close within bounds disables tag recognition up
// to where the scan for it stopped, so no byte is scanned for markup twice
// more than a constant number of times.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "inspect/internal/decoders.h"
#include "inspect/internal/html.h"
#include "inspect/internal/text_builder.h"
#include "inspect/normalize.h"

namespace ztgate::inspect::internal {

class Pass {
 public:
  static constexpr size_t kMinSelectorRun = 4;  // variation selectors that can be a message

  Pass(std::string_view source, bool html, bool fold_confusables, Flags* flags);
  Pass(const Pass&) = delete;
  Pass& operator=(const Pass&) = delete;

  // Reads the whole source; afterwards every builder is finished and the
  // flags counted.
  void run();

  TextBuilder primary;         // the normalized text
  TextBuilder comments;        // HTML comments
  TextBuilder attrs;           // alt-like attributes and Markdown image alt text
  TextBuilder links;           // link attributes, Markdown targets, bare URLs
  TextBuilder hidden;          // text of hidden elements (also in primary)
  DecodedText tag_text;        // tag characters, as the ASCII they encode
  DecodedText selector_bytes;  // variation-selector runs that read as text

 private:
  enum class Sink : uint8_t { text, comment, attr, link };

  void scan(size_t begin, size_t end, Sink sink, bool char_refs, bool markup);
  void text_ascii(size_t begin, size_t end, Sink sink);
  void deliver(char32_t cp, Span src, Sink sink);
  void text_break(Span src);
  void end_smuggled_runs();
  size_t markup(size_t pos, size_t end);
  size_t start_tag(const Tag& tag, size_t end);
  void end_tag(const Tag& tag);
  void list_markdown_items();

  std::string_view source_;
  bool html_;
  Flags* flags_;
  size_t barrier_ = 0;  // no markup is recognized before this offset
  bool in_tag_run_ = false;
  DecodedText selector_run_;
  int hidden_depth_ = 0;     // open elements named hidden_name_ inside the hidden one
  std::string hidden_name_;  // lowercase
};

}  // namespace ztgate::inspect::internal
