#include "cedar/lexer.h"

#include <charconv>

namespace ztgate::cedar {
namespace {

bool is_ident_start(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> out;
    for (;;) {
      skip_space_and_comments();
      SourceLoc loc{line_, col_};
      if (pos_ >= src_.size()) {
        out.push_back(Token{Tok::kEnd, {}, loc});
        return out;
      }
      char c = src_[pos_];
      size_t start = pos_;
      if (is_ident_start(c)) {
        while (pos_ < src_.size() && is_ident_char(src_[pos_])) advance();
        out.push_back(Token{Tok::kIdent, src_.substr(start, pos_ - start), loc});
      } else if (is_digit(c)) {
        while (pos_ < src_.size() && is_digit(src_[pos_])) advance();
        out.push_back(Token{Tok::kInt, src_.substr(start, pos_ - start), loc});
      } else if (c == '"') {
        advance();
        size_t body = pos_;
        for (;;) {
          if (pos_ >= src_.size()) return make_error("parse_error", "unterminated string literal", loc);
          char d = src_[pos_];
          if (d == '\\') {
            advance();
            if (pos_ >= src_.size()) return make_error("parse_error", "unterminated string literal", loc);
            advance();
          } else if (d == '"') {
            break;
          } else {
            advance();
          }
        }
        out.push_back(Token{Tok::kString, src_.substr(body, pos_ - body), loc});
        advance();
      } else if (c == '?') {
        advance();
        size_t name = pos_;
        if (pos_ >= src_.size() || !is_ident_start(src_[pos_]))
          return make_error("parse_error", "expected a slot name after `?`", loc);
        while (pos_ < src_.size() && is_ident_char(src_[pos_])) advance();
        out.push_back(Token{Tok::kSlot, src_.substr(name, pos_ - name), loc});
      } else {
        Tok kind;
        if (!punctuation(kind)) {
          return make_error("parse_error",
                            std::string("unexpected character `") + printable(c) + "`", loc);
        }
        out.push_back(Token{kind, src_.substr(start, pos_ - start), loc});
      }
    }
  }

 private:
  static std::string printable(char c) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      char buf[8];
      auto r = std::to_chars(buf, buf + sizeof buf, static_cast<unsigned>(static_cast<unsigned char>(c)), 16);
      return "\\x" + std::string(buf, r.ptr);
    }
    return std::string(1, c);
  }

  void advance() {
    // Columns count code points: continuation bytes do not advance them.
    char c = src_[pos_++];
    if (c == '\n') {
      ++line_;
      col_ = 1;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++col_;
    }
  }

  void skip_space_and_comments() {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        advance();
      } else if (c == '/' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '/') {
        while (pos_ < src_.size() && src_[pos_] != '\n') advance();
      } else {
        return;
      }
    }
  }

  bool next_is(char c) const { return pos_ + 1 < src_.size() && src_[pos_ + 1] == c; }

  bool punctuation(Tok& kind) {
    char c = src_[pos_];
    int len = 1;
    switch (c) {
      case '(': kind = Tok::kLParen; break;
      case ')': kind = Tok::kRParen; break;
      case '[': kind = Tok::kLBracket; break;
      case ']': kind = Tok::kRBracket; break;
      case '{': kind = Tok::kLBrace; break;
      case '}': kind = Tok::kRBrace; break;
      case ',': kind = Tok::kComma; break;
      case ';': kind = Tok::kSemi; break;
      case '.': kind = Tok::kDot; break;
      case '@': kind = Tok::kAt; break;
      case '+': kind = Tok::kPlus; break;
      case '-': kind = Tok::kMinus; break;
      case '*': kind = Tok::kStar; break;
      case '/': kind = Tok::kSlash; break;
      case '%': kind = Tok::kPercent; break;
      case ':':
        if (next_is(':')) { kind = Tok::kColonColon; len = 2; } else { kind = Tok::kColon; }
        break;
      case '=':
        if (next_is('=')) { kind = Tok::kEq; len = 2; } else { kind = Tok::kAssign; }
        break;
      case '!':
        if (next_is('=')) { kind = Tok::kNotEq; len = 2; } else { kind = Tok::kNot; }
        break;
      case '<':
        if (next_is('=')) { kind = Tok::kLessEq; len = 2; } else { kind = Tok::kLess; }
        break;
      case '>':
        if (next_is('=')) { kind = Tok::kGreaterEq; len = 2; } else { kind = Tok::kGreater; }
        break;
      case '&':
        if (!next_is('&')) return false;
        kind = Tok::kAnd; len = 2;
        break;
      case '|':
        if (!next_is('|')) return false;
        kind = Tok::kOr; len = 2;
        break;
      default:
        return false;
    }
    for (int i = 0; i < len; ++i) advance();
    return true;
  }

  std::string_view src_;
  size_t pos_ = 0;
  int line_ = 1;
  int col_ = 1;
};

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::string_view token_description(Tok kind) {
  switch (kind) {
    case Tok::kEnd: return "end of input";
    case Tok::kIdent: return "identifier";
    case Tok::kInt: return "integer";
    case Tok::kString: return "string";
    case Tok::kSlot: return "slot";
    case Tok::kLParen: return "`(`";
    case Tok::kRParen: return "`)`";
    case Tok::kLBracket: return "`[`";
    case Tok::kRBracket: return "`]`";
    case Tok::kLBrace: return "`{`";
    case Tok::kRBrace: return "`}`";
    case Tok::kComma: return "`,`";
    case Tok::kSemi: return "`;`";
    case Tok::kColon: return "`:`";
    case Tok::kColonColon: return "`::`";
    case Tok::kDot: return "`.`";
    case Tok::kAt: return "`@`";
    case Tok::kAssign: return "`=`";
    case Tok::kEq: return "`==`";
    case Tok::kNotEq: return "`!=`";
    case Tok::kLess: return "`<`";
    case Tok::kLessEq: return "`<=`";
    case Tok::kGreater: return "`>`";
    case Tok::kGreaterEq: return "`>=`";
    case Tok::kAnd: return "`&&`";
    case Tok::kOr: return "`||`";
    case Tok::kNot: return "`!`";
    case Tok::kPlus: return "`+`";
    case Tok::kMinus: return "`-`";
    case Tok::kStar: return "`*`";
    case Tok::kSlash: return "`/`";
    case Tok::kPercent: return "`%`";
  }
  return "token";
}

Result<std::vector<Token>> tokenize(std::string_view src) { return Lexer(src).run(); }

namespace {

// Unescapes `raw`; in a pattern, an unescaped `*` ends a literal run and adds
// a wildcard, and `\*` is a literal star.
Status unescape_into(std::string_view raw, SourceLoc loc, bool is_pattern, std::string& out,
                     Pattern* pattern) {
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '*' && is_pattern) {
      if (!out.empty()) pattern->push_back(PatternElem{false, std::move(out)});
      out.clear();
      if (pattern->empty() || !pattern->back().wildcard) pattern->push_back(PatternElem{true, {}});
      continue;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= raw.size()) return make_error("parse_error", "string ends in a lone backslash", loc);
    if (raw[i] == '*' && is_pattern) {
      out += '*';
      continue;
    }
    switch (raw[i]) {
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case '0': out += '\0'; break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'x': {
        // \xHH: an ASCII code point (at most 0x7F), as in Rust string literals.
        if (i + 2 >= raw.size())
          return make_error("parse_error", "the input `\\x` is not a valid escape", loc);
        uint32_t v = 0;
        auto r = std::from_chars(raw.data() + i + 1, raw.data() + i + 3, v, 16);
        if (r.ptr != raw.data() + i + 3 || v > 0x7F)
          return make_error("parse_error",
                            "the input `\\x" + std::string(raw.substr(i + 1, 2)) + "` is not a valid escape", loc);
        out += static_cast<char>(v);
        i += 2;
        break;
      }
      case 'u': {
        size_t close = raw.find('}', i);
        if (i + 1 >= raw.size() || raw[i + 1] != '{' || close == std::string_view::npos ||
            close - i - 2 < 1 || close - i - 2 > 6)
          return make_error("parse_error", "invalid unicode escape: expected `\\u{X}` with 1 to 6 hex digits", loc);
        uint32_t cp = 0;
        auto r = std::from_chars(raw.data() + i + 2, raw.data() + close, cp, 16);
        if (r.ptr != raw.data() + close || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
          return make_error("parse_error", "invalid unicode escape `\\u{" +
                                               std::string(raw.substr(i + 2, close - i - 2)) + "}`", loc);
        append_utf8(out, cp);
        i = close;
        break;
      }
      default:
        return make_error("parse_error",
                          "the input `\\" + std::string(1, raw[i]) + "` is not a valid escape", loc);
    }
  }
  return Ok{};
}

}  // namespace

Result<std::string> unescape_string(std::string_view raw, SourceLoc loc) {
  std::string out;
  auto st = unescape_into(raw, loc, false, out, nullptr);
  if (!st) return st.error();
  return out;
}

Result<Pattern> unescape_pattern(std::string_view raw, SourceLoc loc) {
  std::string out;
  Pattern pattern;
  auto st = unescape_into(raw, loc, true, out, &pattern);
  if (!st) return st.error();
  if (!out.empty()) pattern.push_back(PatternElem{false, std::move(out)});
  return pattern;
}

}  // namespace ztgate::cedar
