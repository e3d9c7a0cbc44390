#include "inspect/normalize.h"

#include <algorithm>
#include <utility>

#include "inspect/internal/decoders.h"
#include "inspect/internal/pass.h"

namespace ztgate::inspect {
namespace {

using internal::DecodedText;
using internal::Pass;
using internal::TextBuilder;

class Normalizer {
 public:
  Normalizer(std::string_view input, const NormalizeOptions& options)
      : input_(input), options_(options) {
    options_.max_decode_depth = std::max(options_.max_decode_depth, 0);
    budget_.remaining = std::min(2 * input.size(), options_.max_decoded_bytes);
  }

  Normalized run() {
    add_pass(input_, nullptr, options_.html, ViewKind::normalized, 0, -1);
    // Views appended while decoding are decoded in turn, up to the depth bound.
    for (size_t v = 0; v < out_.views.size(); ++v) decode_view(v);
    out_.flags.decoded_limit = budget_.exhausted;
    return std::move(out_);
  }

 private:
  // Normalizes `source` (the input, or bytes whose map to the input is
  // `to_input`) into a view of `kind` and its side views.
  void add_pass(std::string_view source, const OffsetMap* to_input, bool html, ViewKind kind,
                int depth, int parent) {
    Pass pass(source, html, options_.fold_confusables, &out_.flags);
    pass.run();
    int primary = parent;
    if (parent < 0 || !pass.primary.text().empty()) {
      primary = static_cast<int>(out_.views.size());
      add_view(kind, depth, parent, pass.primary, to_input);
    }
    const std::pair<ViewKind, TextBuilder*> sides[] = {{ViewKind::html_comment, &pass.comments},
                                                       {ViewKind::alt, &pass.attrs},
                                                       {ViewKind::link, &pass.links},
                                                       {ViewKind::html_hidden, &pass.hidden}};
    for (const auto& [side_kind, builder] : sides)
      if (!builder->text().empty()) add_view(side_kind, depth, primary, *builder, to_input);
    // Smuggled text is shown even when decoding is off: hiding it is the attack.
    if (depth > 0 && depth >= options_.max_decode_depth) return;
    const std::pair<ViewKind, DecodedText*> smuggled[] = {
        {ViewKind::tag_chars, &pass.tag_text},
        {ViewKind::variation_selectors, &pass.selector_bytes}};
    for (const auto& [smuggled_kind, text] : smuggled) {
      if (text->bytes.empty()) continue;
      OffsetMap map = to_input != nullptr ? text->map.compose(*to_input) : std::move(text->map);
      add_pass(text->bytes, &map, false, smuggled_kind, depth + 1, primary);
    }
  }

  void add_view(ViewKind kind, int depth, int parent, TextBuilder& builder,
                const OffsetMap* to_input) {
    View view;
    view.kind = kind;
    view.depth = depth;
    view.parent = parent;
    view.text = builder.take_text();
    view.origin = to_input != nullptr ? builder.map().compose(*to_input) : builder.take_map();
    out_.views.push_back(std::move(view));
  }

  void decode_view(size_t v) {
    if (!options_.decode) return;
    struct Found {
      ViewKind kind;
      DecodedText text;
    };
    std::vector<Found> found;
    {
      const View& view = out_.views[v];
      if (view.depth >= options_.max_decode_depth || view.kind == ViewKind::html_hidden) return;
      using Finder = void (*)(std::string_view, size_t, internal::DecodeBudget&, DecodedText&);
      const std::pair<ViewKind, Finder> finders[] = {
          {ViewKind::base64, internal::find_base64},
          {ViewKind::hex, internal::find_hex},
          {ViewKind::url, internal::find_url},
          {ViewKind::quoted_printable, internal::find_quoted_printable},
          {ViewKind::rot13, internal::find_rot13},
      };
      for (const auto& [kind, find] : finders) {
        if (kind == ViewKind::rot13 && view.kind == ViewKind::rot13) continue;  // would undo itself
        DecodedText text;
        find(view.text, options_.min_encoded_run, budget_, text);
        if (text.bytes.empty()) continue;
        out_.flags.encoded += text.runs;
        text.map = text.map.compose(view.origin);
        found.push_back(Found{kind, std::move(text)});
      }
    }
    // Views grow from here on: `view` above may dangle.
    const int depth = out_.views[v].depth + 1;
    for (Found& f : found)
      add_pass(f.text.bytes, &f.text.map, false, f.kind, depth, static_cast<int>(v));
  }

  std::string_view input_;
  NormalizeOptions options_;
  internal::DecodeBudget budget_;
  Normalized out_;
};

}  // namespace

std::string_view view_kind_name(ViewKind kind) {
  switch (kind) {
    case ViewKind::normalized:
      return "normalized";
    case ViewKind::html_comment:
      return "html_comment";
    case ViewKind::alt:
      return "alt";
    case ViewKind::link:
      return "link";
    case ViewKind::html_hidden:
      return "html_hidden";
    case ViewKind::tag_chars:
      return "tag_chars";
    case ViewKind::variation_selectors:
      return "variation_selectors";
    case ViewKind::base64:
      return "base64";
    case ViewKind::hex:
      return "hex";
    case ViewKind::url:
      return "url";
    case ViewKind::rot13:
      return "rot13";
    case ViewKind::quoted_printable:
      return "quoted_printable";
  }
  return "unknown";
}

Span Normalized::map_to_input(size_t view, size_t begin, size_t end) const {
  if (view >= views.size()) return {};
  return views[view].origin.map(begin, end);
}

Result<Normalized> normalize(std::string_view input, const NormalizeOptions& options) {
  const size_t limit = std::min(options.max_input_bytes, kMaxInputLimit - 1);
  if (input.size() > limit) {
    return make_error("input_too_large", "the text to inspect is " + std::to_string(input.size()) +
                                             " bytes, over the limit of " + std::to_string(limit) +
                                             " bytes (max_input_bytes)");
  }
  return Normalizer(input, options).run();
}

}  // namespace ztgate::inspect
