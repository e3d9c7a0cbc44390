#include "inspect/internal/pass.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "inspect/internal/markdown.h"
#include "inspect/internal/utf8.h"

namespace ztgate::inspect::internal {
namespace {

using uchar = unsigned char;

// Bytes that end an ASCII text run: non-ASCII always, '<' and '&' in HTML.
constexpr std::array<bool, 256> make_stops(bool html) {
  std::array<bool, 256> t{};
  for (int c = 0x80; c < 256; ++c) t[c] = true;
  t['<'] = t['&'] = html;
  return t;
}
constexpr auto kStopsPlain = make_stops(false);
constexpr auto kStopsHtml = make_stops(true);

bool is_bidi_control(char32_t cp) {
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

bool is_tag_char(char32_t cp) { return cp >= 0xE0000 && cp <= 0xE007F; }

// The byte a variation selector carries (VS1-16: 0-15, VS17-256: 16-255), or -1.
int selector_byte(char32_t cp) {
  if (cp >= 0xFE00 && cp <= 0xFE0F) return static_cast<int>(cp - 0xFE00);
  if (cp >= 0xE0100 && cp <= 0xE01EF) return static_cast<int>(cp - 0xE0100 + 16);
  return -1;
}

bool starts_with_ignore_case(std::string_view s, size_t pos, std::string_view prefix) {
  return s.size() - std::min(pos, s.size()) >= prefix.size() &&
         equals_ignore_case(s.substr(pos, prefix.size()), prefix);
}

bool is_link_attribute(std::string_view n) {
  for (std::string_view a :
       {"href", "src", "action", "formaction", "poster", "cite", "background", "data", "srcset",
        "xlink:href", "ping", "longdesc", "manifest", "codebase", "lowsrc", "usemap"})
    if (equals_ignore_case(n, a)) return true;
  return false;
}

bool is_text_attribute(std::string_view n) {
  for (std::string_view a :
       {"alt", "title", "aria-label", "aria-description", "aria-placeholder", "aria-valuetext",
        "placeholder", "value", "content", "label", "summary", "abbr"})
    if (equals_ignore_case(n, a)) return true;
  return false;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(ascii_lower(static_cast<uchar>(c)));
  return out;
}

}  // namespace

Pass::Pass(std::string_view source, bool html, bool fold_confusables, Flags* flags)
    : primary(source, fold_confusables),
      comments(source, fold_confusables),
      attrs(source, fold_confusables),
      links(source, fold_confusables),
      hidden(source, fold_confusables),
      source_(source),
      html_(html),
      flags_(flags) {}

void Pass::run() {
  scan(0, source_.size(), Sink::text, html_, html_);
  end_smuggled_runs();
  primary.finish();
  list_markdown_items();
  for (TextBuilder* b : {&primary, &comments, &attrs, &links, &hidden}) b->finish();
  for (const TextBuilder* b :
       {&primary, &comments, &attrs, &links}) {  // hidden text is also in primary
    flags_->confusables += b->confusables();
    flags_->compatibility += b->compatibility();
    flags_->long_clusters += b->long_clusters();
  }
}

void Pass::scan(size_t begin, size_t end, Sink sink, bool char_refs, bool markup) {
  const auto* s = reinterpret_cast<const uchar*>(source_.data());
  const auto& stops = char_refs || markup ? kStopsHtml : kStopsPlain;
  size_t i = begin;
  while (i < end) {
    size_t j = i;
    while (j < end && !stops[s[j]]) ++j;
    if (j > i) {
      text_ascii(i, j, sink);
      i = j;
      if (i >= end) break;
    }
    if (s[i] == '<') {
      if (markup) {
        size_t next = this->markup(i, end);
        if (next > i) {
          i = next;
          continue;
        }
      }
      text_ascii(i, i + 1, sink);
      ++i;
      continue;
    }
    if (s[i] == '&') {
      if (char_refs) {
        CharRef ref = decode_char_ref(source_, i, end);
        if (ref.length > 0) {
          deliver(ref.cp, Span{i, i + ref.length}, sink);
          i += ref.length;
          continue;
        }
      }
      text_ascii(i, i + 1, sink);
      ++i;
      continue;
    }
    Utf8Char u = decode_utf8(s + i, end - i);
    if (!u.valid) ++flags_->invalid_utf8;
    deliver(u.cp, Span{i, i + u.length}, sink);
    i += u.length;
  }
}

void Pass::text_ascii(size_t begin, size_t end, Sink sink) {
  end_smuggled_runs();
  switch (sink) {
    case Sink::text:
      primary.push_ascii(begin, end);
      if (hidden_depth_ > 0) hidden.push_ascii(begin, end);
      break;
    case Sink::comment:
      comments.push_ascii(begin, end);
      break;
    case Sink::attr:
      attrs.push_ascii(begin, end);
      break;
    case Sink::link:
      links.push_ascii(begin, end);
      break;
  }
}

void Pass::deliver(char32_t cp, Span src, Sink sink) {
  if (cp >= 0x80) {
    if (is_tag_char(cp)) {
      ++flags_->tag_chars;
      if (cp >= 0xE0020 && cp <= 0xE007E) {  // the printable ASCII they mirror
        if (!in_tag_run_) tag_text.begin_run(src.begin);
        in_tag_run_ = true;
        tag_text.push(static_cast<char>(cp - 0xE0000), src);
      }
      return;
    }
    if (int byte = selector_byte(cp); byte >= 0) {
      ++flags_->variation_selectors;
      in_tag_run_ = false;
      selector_run_.push(static_cast<char>(byte), src);
      return;
    }
    end_smuggled_runs();
    if (is_bidi_control(cp)) {
      ++flags_->bidi_control;
      return;
    }
    if (utf8proc_get_property(static_cast<utf8proc_int32_t>(cp))->ignorable) {
      ++flags_->zero_width;
      return;
    }
  } else {
    end_smuggled_runs();
  }
  switch (sink) {
    case Sink::text:
      primary.push(cp, src);
      if (hidden_depth_ > 0) hidden.push(cp, src);
      break;
    case Sink::comment:
      comments.push(cp, src);
      break;
    case Sink::attr:
      attrs.push(cp, src);
      break;
    case Sink::link:
      links.push(cp, src);
      break;
  }
}

void Pass::end_smuggled_runs() {
  in_tag_run_ = false;
  if (selector_run_.bytes.empty()) return;
  if (selector_run_.bytes.size() >= kMinSelectorRun && mostly_printable(selector_run_.bytes)) {
    selector_bytes.begin_run(selector_run_.map.map(0, 0).begin);
    selector_bytes.bytes += selector_run_.bytes;
    selector_bytes.map.append_slice(selector_run_.map, 0, selector_run_.map.size());
  }
  selector_run_.bytes.clear();
  selector_run_.map = OffsetMap();
}

void Pass::text_break(Span src) {
  primary.push_break(src);
  if (hidden_depth_ > 0) hidden.push_break(src);
}

size_t Pass::markup(size_t pos, size_t end) {
  if (pos < barrier_) return pos;
  std::string_view s = source_;
  if (starts_with_ignore_case(s, pos, "<!--")) {
    size_t close = s.substr(0, end).find("-->", pos + 4);
    const size_t text_end = close == std::string_view::npos ? end : close;
    ++flags_->html_comments;
    comments.begin_item(pos);
    scan(pos + 4, text_end, Sink::comment, false, false);
    return close == std::string_view::npos ? end : close + 3;
  }
  if (starts_with_ignore_case(s, pos, "<![CDATA[")) {
    size_t close = s.substr(0, end).find("]]>", pos + 9);
    scan(pos + 9, close == std::string_view::npos ? end : close, Sink::text, false, false);
    return close == std::string_view::npos ? end : close + 3;
  }
  if (pos + 1 < end && (s[pos + 1] == '!' || s[pos + 1] == '?')) {
    // <!DOCTYPE ...> is skipped; any other <!...> or <?...> is a bogus
    // comment for a browser, so its text goes with the comments.
    const size_t limit = std::min(end, pos + kMaxTagBytes);
    const void* gt = std::memchr(s.data() + pos, '>', limit - pos);
    if (gt == nullptr) {
      barrier_ = std::max(barrier_, limit);
      return pos;
    }
    const size_t close = static_cast<size_t>(static_cast<const char*>(gt) - s.data());
    if (!starts_with_ignore_case(s, pos, "<!doctype")) {
      ++flags_->html_comments;
      comments.begin_item(pos);
      scan(pos + 2, close, Sink::comment, false, false);
    }
    return close + 1;
  }
  Tag tag;
  size_t scanned_to = pos;
  switch (scan_tag(s, pos, end, &tag, &scanned_to)) {
    case TagScan::not_a_tag:
      return pos;
    case TagScan::unterminated:
      barrier_ = std::max(barrier_, scanned_to);
      return pos;
    case TagScan::tag:
      break;
  }
  if (tag.end_tag) {
    end_tag(tag);
    return tag.span.end;
  }
  return start_tag(tag, end);
}

size_t Pass::start_tag(const Tag& tag, size_t end) {
  const Element& el = tag.element;
  bool hides = (el.flags & kHidden) != 0;
  for (int a = 0; a < tag.attribute_count; ++a) {
    const Attribute& attr = tag.attributes[a];
    if (equals_ignore_case(attr.name, "hidden")) hides = true;
    if (equals_ignore_case(attr.name, "style") &&
        style_hides(source_.substr(attr.value.begin, attr.value.size())))
      hides = true;
    if (equals_ignore_case(attr.name, "type") && equals_ignore_case(el.name, "input") &&
        equals_ignore_case(source_.substr(attr.value.begin, attr.value.size()), "hidden"))
      hides = true;
    if (attr.value.empty()) continue;
    if (is_link_attribute(attr.name)) {
      links.begin_item(attr.value.begin);
      scan(attr.value.begin, attr.value.end, Sink::link, true, false);
    } else if (is_text_attribute(attr.name)) {
      attrs.begin_item(attr.value.begin);
      scan(attr.value.begin, attr.value.end, Sink::attr, true, false);
    }
  }
  if (el.flags & kBlock) text_break(tag.span);
  const bool has_content = !tag.self_closing && (el.flags & kVoid) == 0;
  if (hides && (hidden_depth_ == 0 || !has_content)) ++flags_->html_hidden;
  if (!has_content) return tag.span.end;
  if (hidden_depth_ > 0) {
    if (equals_ignore_case(tag.name, hidden_name_)) ++hidden_depth_;
  } else if (hides) {
    hidden_depth_ = 1;
    hidden_name_ = lowercase(tag.name);
    hidden.begin_item(tag.span.end);
  }
  if (el.flags & (kRawText | kRcData)) {
    // Script and style text is text: a model reading the page reads it.
    const size_t close = find_raw_text_end(source_, tag.span.end, end, tag.name);
    scan(tag.span.end, close, Sink::text, (el.flags & kRcData) != 0, false);
    return close;  // the end tag is read as markup next
  }
  return tag.span.end;
}

void Pass::end_tag(const Tag& tag) {
  if (hidden_depth_ > 0 && equals_ignore_case(tag.name, hidden_name_)) --hidden_depth_;
  if (tag.element.flags & kBlock) text_break(tag.span);
}

void Pass::list_markdown_items() {
  const std::string& text = primary.text();
  for (const MarkdownItem& item : find_markdown_items(text)) {
    TextBuilder& to = item.alt ? attrs : links;
    to.begin_item(primary.map().map(item.span.begin, item.span.begin).begin);
    to.append_normalized(text, primary.map(), item.span.begin, item.span.end);
  }
}

}  // namespace ztgate::inspect::internal
