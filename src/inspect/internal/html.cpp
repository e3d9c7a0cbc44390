#include "inspect/internal/html.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "inspect/internal/utf8.h"

namespace ztgate::inspect::internal {
namespace {

constexpr uint8_t B = kBlock, V = kVoid, R = kRawText, RC = kRcData, H = kHidden;

// HTML elements (WHATWG, plus a few obsolete ones still rendered), sorted.
constexpr Element kElements[] = {
    {"a", 0},        {"abbr", 0},       {"address", B},    {"area", V},    {"article", B},
    {"aside", B},    {"audio", 0},      {"b", 0},          {"base", V},    {"bdi", 0},
    {"bdo", 0},      {"big", 0},        {"blockquote", B}, {"body", B},    {"br", B | V},
    {"button", 0},   {"canvas", 0},     {"caption", B},    {"center", B},  {"cite", 0},
    {"code", 0},     {"col", V},        {"colgroup", 0},   {"data", 0},    {"datalist", 0},
    {"dd", B},       {"del", 0},        {"details", B},    {"dfn", 0},     {"dialog", B},
    {"div", B},      {"dl", B},         {"dt", B},         {"em", 0},      {"embed", V},
    {"fieldset", B}, {"figcaption", B}, {"figure", B},     {"font", 0},    {"footer", B},
    {"form", B},     {"frame", V},      {"frameset", 0},   {"h1", B},      {"h2", B},
    {"h3", B},       {"h4", B},         {"h5", B},         {"h6", B},      {"head", B},
    {"header", B},   {"hgroup", B},     {"hr", B | V},     {"html", B},    {"i", 0},
    {"iframe", R},   {"image", V},      {"img", V},        {"input", V},   {"ins", 0},
    {"kbd", 0},      {"label", 0},      {"legend", B},     {"li", B},      {"link", V},
    {"main", B},     {"map", 0},        {"mark", 0},       {"marquee", 0}, {"math", 0},
    {"menu", B},     {"meta", V},       {"meter", 0},      {"nav", B},     {"noembed", R},
    {"noframes", R}, {"noscript", 0},   {"object", 0},     {"ol", B},      {"optgroup", 0},
    {"option", B},   {"output", 0},     {"p", B},          {"param", V},   {"picture", 0},
    {"pre", B},      {"progress", 0},   {"q", 0},          {"rp", 0},      {"rt", 0},
    {"ruby", 0},     {"s", 0},          {"samp", 0},       {"script", R},  {"section", B},
    {"select", 0},   {"slot", 0},       {"small", 0},      {"source", V},  {"span", 0},
    {"strike", 0},   {"strong", 0},     {"style", R},      {"sub", 0},     {"summary", B},
    {"sup", 0},      {"svg", 0},        {"table", B},      {"tbody", 0},   {"td", B},
    {"template", H}, {"textarea", RC},  {"tfoot", 0},      {"th", B},      {"thead", 0},
    {"time", 0},     {"title", B | RC}, {"tr", B},         {"track", V},   {"tt", 0},
    {"u", 0},        {"ul", B},         {"var", 0},        {"video", 0},   {"wbr", V},
    {"xmp", R},
};

constexpr bool elements_sorted() {
  for (size_t i = 1; i < std::size(kElements); ++i)
    if (!(kElements[i - 1].name < kElements[i].name)) return false;
  return true;
}
static_assert(elements_sorted(), "kElements must stay sorted for the binary search");

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

// Looks a tag name up; false when it is neither an HTML nor a custom element.
bool find_element(std::string_view name, Element* out) {
  char lower[16];
  if (name.size() > sizeof(lower)) {
    if (name.find('-') == std::string_view::npos) return false;
    *out = Element{};
    return true;
  }
  for (size_t i = 0; i < name.size(); ++i)
    lower[i] = static_cast<char>(ascii_lower(static_cast<unsigned char>(name[i])));
  std::string_view key(lower, name.size());
  auto it = std::lower_bound(std::begin(kElements), std::end(kElements), key,
                             [](const Element& e, std::string_view k) { return e.name < k; });
  if (it != std::end(kElements) && it->name == key) {
    *out = *it;
    return true;
  }
  if (key.find('-') != std::string_view::npos) {  // custom element: inline, not hidden
    *out = Element{};
    return true;
  }
  return false;
}

struct NamedRef {
  std::string_view name;
  char32_t cp;
};

// The named references text uses, and those used to disguise punctuation
// ("javascript&colon;").
constexpr NamedRef kNamedRefs[] = {
    {"amp", '&'},       {"lt", '<'},       {"gt", '>'},       {"quot", '"'},      {"apos", '\''},
    {"nbsp", 0xA0},     {"shy", 0xAD},     {"zwj", 0x200D},   {"zwnj", 0x200C},   {"lrm", 0x200E},
    {"rlm", 0x200F},    {"ensp", 0x2002},  {"emsp", 0x2003},  {"thinsp", 0x2009}, {"ndash", 0x2013},
    {"mdash", 0x2014},  {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C},  {"rdquo", 0x201D},
    {"hellip", 0x2026}, {"bull", 0x2022},  {"middot", 0xB7},  {"laquo", 0xAB},    {"raquo", 0xBB},
    {"copy", 0xA9},     {"reg", 0xAE},     {"trade", 0x2122}, {"times", 0xD7},    {"divide", 0xF7},
    {"euro", 0x20AC},   {"colon", ':'},    {"semi", ';'},     {"comma", ','},     {"period", '.'},
    {"excl", '!'},      {"quest", '?'},    {"num", '#'},      {"percnt", '%'},    {"equals", '='},
    {"sol", '/'},       {"bsol", '\\'},    {"lpar", '('},     {"rpar", ')'},      {"lsqb", '['},
    {"rsqb", ']'},      {"lowbar", '_'},   {"Tab", '\t'},     {"NewLine", '\n'},  {"AMP", '&'},
    {"LT", '<'},        {"GT", '>'},       {"QUOT", '"'},
};

// Parses a CSS number after a property name; true when it is zero ("0",
// "0.0", ".0", "0px", "0%").
bool is_zero_number(std::string_view s) {
  size_t i = 0;
  bool digit = false;
  while (i < s.size() && (is_ascii_digit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
    if (s[i] != '0' && s[i] != '.') return false;
    digit |= s[i] == '0';
    ++i;
  }
  return digit;
}

}  // namespace

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(static_cast<unsigned char>(a[i])) !=
        ascii_lower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

TagScan scan_tag(std::string_view s, size_t pos, size_t end, Tag* tag, size_t* scanned_to) {
  end = std::min(end, s.size());
  size_t i = pos + 1;
  tag->end_tag = false;
  tag->self_closing = false;
  tag->attribute_count = 0;
  if (i < end && s[i] == '/') {
    tag->end_tag = true;
    ++i;
  }
  const size_t name_begin = i;
  while (i < end && i - name_begin <= 64 &&
         (is_ascii_alnum(static_cast<unsigned char>(s[i])) || s[i] == '-'))
    ++i;
  if (i == name_begin || !is_ascii_alpha(static_cast<unsigned char>(s[name_begin])))
    return TagScan::not_a_tag;
  if (i < end && !is_space(static_cast<unsigned char>(s[i])) && s[i] != '/' && s[i] != '>')
    return TagScan::not_a_tag;
  tag->name = s.substr(name_begin, i - name_begin);
  if (!find_element(tag->name, &tag->element)) return TagScan::not_a_tag;

  const size_t limit = std::min(end, pos + kMaxTagBytes);
  for (;;) {
    while (i < limit && is_space(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= limit) {
      *scanned_to = i;
      return TagScan::unterminated;
    }
    const char c = s[i];
    if (c == '>') {
      ++i;
      break;
    }
    if (c == '/') {
      if (i + 1 < limit && s[i + 1] == '>') {
        tag->self_closing = true;
        i += 2;
        break;
      }
      ++i;
      continue;
    }
    const size_t attr_begin = i++;  // the first character may be anything, even '='
    while (i < limit && !is_space(static_cast<unsigned char>(s[i])) && s[i] != '=' && s[i] != '>' &&
           s[i] != '/')
      ++i;
    Attribute attr{s.substr(attr_begin, i - attr_begin), Span{i, i}};
    size_t j = i;
    while (j < limit && is_space(static_cast<unsigned char>(s[j]))) ++j;
    if (j < limit && s[j] == '=') {
      i = j + 1;
      while (i < limit && is_space(static_cast<unsigned char>(s[i]))) ++i;
      if (i < limit && (s[i] == '"' || s[i] == '\'')) {
        const char quote = s[i];
        const size_t value_begin = ++i;
        const void* close = std::memchr(s.data() + i, quote, limit - std::min(i, limit));
        if (close == nullptr) {
          *scanned_to = limit;
          return TagScan::unterminated;
        }
        i = static_cast<size_t>(static_cast<const char*>(close) - s.data());
        attr.value = Span{value_begin, i};
        ++i;
      } else {
        const size_t value_begin = i;
        while (i < limit && !is_space(static_cast<unsigned char>(s[i])) && s[i] != '>') ++i;
        attr.value = Span{value_begin, i};
      }
    }
    if (tag->attribute_count < kMaxAttributes) tag->attributes[tag->attribute_count++] = attr;
  }
  tag->span = Span{pos, i};
  return TagScan::tag;
}

size_t find_raw_text_end(std::string_view s, size_t from, size_t end, std::string_view name) {
  end = std::min(end, s.size());
  size_t i = from;
  while (i < end) {
    const void* lt = std::memchr(s.data() + i, '<', end - i);
    if (lt == nullptr) return end;
    i = static_cast<size_t>(static_cast<const char*>(lt) - s.data());
    const size_t after = i + 2 + name.size();
    if (after <= end && s[i + 1] == '/' && equals_ignore_case(s.substr(i + 2, name.size()), name) &&
        (after == end || is_space(static_cast<unsigned char>(s[after])) || s[after] == '>' ||
         s[after] == '/'))
      return i;
    ++i;
  }
  return end;
}

bool style_hides(std::string_view style) {
  char buf[4096];
  size_t n = 0;
  for (size_t i = 0; i < style.size() && n < sizeof(buf); ++i) {
    auto c = static_cast<unsigned char>(style[i]);
    if (!is_space(c)) buf[n++] = static_cast<char>(ascii_lower(c));
  }
  std::string_view css(buf, n);
  if (css.find("display:none") != std::string_view::npos) return true;
  if (css.find("visibility:hidden") != std::string_view::npos) return true;
  if (css.find("visibility:collapse") != std::string_view::npos) return true;
  for (std::string_view property : {std::string_view("opacity:"), std::string_view("font-size:")}) {
    for (size_t at = css.find(property); at != std::string_view::npos;
         at = css.find(property, at + 1)) {
      if (at > 0 && (css[at - 1] == '-' || is_ascii_alpha(static_cast<unsigned char>(css[at - 1]))))
        continue;
      if (is_zero_number(css.substr(at + property.size()))) return true;
    }
  }
  return false;
}

CharRef decode_char_ref(std::string_view s, size_t pos, size_t end) {
  end = std::min(end, s.size());
  size_t i = pos + 1;
  if (i < end && s[i] == '#') {
    ++i;
    bool hex = false;
    if (i < end && (s[i] | 0x20) == 'x') {
      hex = true;
      ++i;
    }
    const size_t digits_begin = i;
    uint32_t value = 0;
    bool too_long = false;
    while (i < end) {
      int d = hex ? hex_value(static_cast<unsigned char>(s[i]))
                  : (is_ascii_digit(static_cast<unsigned char>(s[i])) ? s[i] - '0' : -1);
      if (d < 0) break;
      if (i - digits_begin >= 8) {
        too_long = true;
      } else {
        value = value * (hex ? 16 : 10) + static_cast<uint32_t>(d);
      }
      ++i;
      if (i - digits_begin > 32) break;  // bound the scan; the rest is text
    }
    if (i == digits_begin) return {};
    if (i < end && s[i] == ';') ++i;
    char32_t cp = value;
    if (too_long || value == 0 || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
      cp = 0xFFFD;
    return {cp, i - pos};
  }
  const size_t name_begin = i;
  while (i < end && i - name_begin < 10 && is_ascii_alnum(static_cast<unsigned char>(s[i]))) ++i;
  if (i == name_begin || i >= end || s[i] != ';') return {};
  std::string_view name = s.substr(name_begin, i - name_begin);
  for (const NamedRef& r : kNamedRefs)
    if (r.name == name) return {r.cp, i + 1 - pos};
  return {};
}

}  // namespace ztgate::inspect::internal
