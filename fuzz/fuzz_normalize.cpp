// Fuzz target: normalization (src/inspect/normalize), the first thing every
// untrusted text meets: UTF-8, HTML, invisible characters, NFKC, confusables
// and the decoders of embedded encodings.
//
// The first byte picks the options (HTML, decoding, depth, run length, the
// decoded-bytes bound); the rest is the text. Properties, for any input:
//   1. normalize() never crashes, hangs, leaks or hits undefined behavior,
//      and accepts any input within max_input_bytes.
//   2. views[0] is the normalized view; every other view has text, names an
//      earlier parent and is at most max(1, max_decode_depth) decodes deep.
//   3. Every view's map covers its text, and every byte maps inside the
//      input; the normalized view maps monotonically, each byte to at least
//      one input byte.
//   4. Views stay within a constant factor of the input (NFKC expands a
//      character at most 11 times).
//   5. NFKC and folding are idempotent: normalizing the normalized text again
//      (HTML and decoding off) changes nothing, unless a cluster of combining
//      marks was cut.
//   6. ASCII text without markup comes out unchanged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "inspect/normalize.h"
#include "property.h"

using ztgate::fuzz::require;
using namespace ztgate::inspect;

namespace {

NormalizeOptions options_from(uint8_t b) {
  NormalizeOptions o;
  o.html = (b & 1) == 0;
  o.decode = (b & 2) == 0;
  o.max_decode_depth = (b >> 2) & 3;
  o.min_encoded_run = (b & 16) ? 4 : 16;
  o.max_decoded_bytes = (b & 32) ? 64 : (size_t{1} << 20);
  o.fold_confusables = (b & 64) == 0;
  return o;
}

void check_maps(const Normalized& n, std::string_view input) {
  for (size_t v = 0; v < n.views.size(); ++v) {
    const View& view = n.views[v];
    require(view.origin.size() == view.text.size(), "a view's map covers its text", view.text);
    size_t last = 0;
    for (size_t i = 0; i < view.text.size(); ++i) {
      Span s = n.map_to_input(v, i, i + 1);
      require(s.begin <= s.end && s.end <= input.size(), "every byte maps inside the input",
              view.text);
      if (v == 0) {
        require(s.begin < s.end, "a normalized byte maps to input bytes", view.text);
        require(s.begin >= last, "the normalized view maps monotonically", view.text);
        last = s.begin;
      }
    }
    Span all = n.map_to_input(v, 0, view.text.size());
    require(all.end <= input.size(), "a whole view maps inside the input", view.text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 64 * 1024) return 0;
  const NormalizeOptions options = options_from(data[0]);
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto result = normalize(input, options);
  require(result.ok(), "inputs within max_input_bytes are accepted");
  const Normalized& n = *result;

  require(!n.views.empty() && n.views[0].kind == ViewKind::normalized && n.views[0].depth == 0,
          "views[0] is the normalized text");
  const int max_depth = std::max(1, options.max_decode_depth);
  size_t total = 0;
  for (size_t v = 1; v < n.views.size(); ++v) {
    const View& view = n.views[v];
    require(!view.text.empty(), "only views with text are listed",
            std::string(view_kind_name(view.kind)));
    require(view.parent >= 0 && static_cast<size_t>(view.parent) < v,
            "a view's parent comes before it");
    require(view.depth >= 0 && view.depth <= max_depth, "decoding depth is bounded");
    total += view.text.size();
  }
  total += n.views[0].text.size();
  require(total <= 64 * input.size() + 64, "views stay within a constant factor of the input");
  check_maps(n, input);

  NormalizeOptions again;
  again.html = false;
  again.decode = false;
  again.fold_confusables = options.fold_confusables;
  auto second = normalize(n.text().text, again);
  require(second.ok(), "normalized text is accepted again");
  if (n.flags.long_clusters == 0)
    require(second->text().text == n.text().text, "NFKC and folding are idempotent", n.text().text);

  bool plain_ascii = true;
  for (char c : input)
    plain_ascii &=
        static_cast<unsigned char>(c) < 0x80 && (!options.html || (c != '<' && c != '&'));
  if (plain_ascii)
    require(n.text().text == input, "ASCII text without markup is unchanged", n.text().text);
  return 0;
}
