#include "inspect/internal/markdown.h"

#include <algorithm>

#include "inspect/internal/utf8.h"

namespace ztgate::inspect::internal {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Where the target of "](" at `open` (the '(') ends: the first whitespace or
// unbalanced ')' (or '>' for "<target>"), bounded.
Span link_target(std::string_view t, size_t open) {
  size_t i = open + 1;
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t')) ++i;
  const size_t limit = std::min(t.size(), i + kMaxLinkBytes);
  if (i < t.size() && t[i] == '<') {
    size_t b = ++i;
    while (i < limit && t[i] != '>' && t[i] != '\n') ++i;
    return Span{b, i};
  }
  const size_t b = i;
  int depth = 0;
  while (i < limit && !is_space(t[i])) {
    if (t[i] == '(') ++depth;
    if (t[i] == ')' && depth-- == 0) break;
    ++i;
  }
  return Span{b, i};
}

// A bare URL around the "://" at `sep`: the scheme before it, up to the
// first whitespace or delimiter after it.
Span bare_url(std::string_view t, size_t sep) {
  size_t b = sep;
  while (b > 0 && sep - b < 16 &&
         (is_ascii_alnum(static_cast<unsigned char>(t[b - 1])) || t[b - 1] == '+' ||
          t[b - 1] == '-' || t[b - 1] == '.'))
    --b;
  while (b < sep && !is_ascii_alpha(static_cast<unsigned char>(t[b])))
    ++b;  // a scheme starts with a letter
  if (b == sep) return Span{sep, sep};
  size_t e = sep + 3;
  const size_t limit = std::min(t.size(), sep + kMaxLinkBytes);
  while (e < limit && !is_space(t[e]) && t[e] != '<' && t[e] != '>' && t[e] != '"' &&
         t[e] != '\'' && t[e] != '`' && t[e] != ')' && t[e] != ']')
    ++e;
  return Span{b, e};
}

}  // namespace

std::vector<MarkdownItem> find_markdown_items(std::string_view t) {
  std::vector<MarkdownItem> items;
  size_t covered = 0;  // end of the last target taken: a URL inside it is not listed twice
  size_t link = t.find("](");
  size_t scheme = t.find("://");
  while ((link != std::string_view::npos || scheme != std::string_view::npos) &&
         items.size() < kMaxMarkdownItems) {
    if (link < scheme) {
      const size_t i = link;
      const size_t lower = i > kMaxLinkTextBytes ? i - kMaxLinkTextBytes : 0;
      size_t open = i;
      while (open > lower && t[open - 1] != '[' && t[open - 1] != ']') --open;
      const bool has_text = open > lower && t[open - 1] == '[';
      const bool image = has_text && open >= 2 && t[open - 2] == '!';
      if (image && open < i) items.push_back(MarkdownItem{true, Span{open, i}});
      Span target = link_target(t, i + 1);
      if (!target.empty() && items.size() < kMaxMarkdownItems)
        items.push_back(MarkdownItem{false, target});
      covered = std::max(covered, target.end);
      link = t.find("](", std::max(i + 2, target.end));
    } else {
      const size_t i = scheme;
      Span url = bare_url(t, i);
      size_t next = i + 3;
      if (url.begin < url.end && url.end > i + 3 && url.begin >= covered) {
        items.push_back(MarkdownItem{false, url});
        covered = url.end;
        next = url.end;
      }
      scheme = t.find("://", next);
    }
    if (scheme < covered) scheme = t.find("://", covered);
  }
  return items;
}

}  // namespace ztgate::inspect::internal
