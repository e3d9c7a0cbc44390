// Tokenizer for Cedar policy text. Internal to src/cedar (used by the policy
// and schema parsers).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cedar/ast.h"
#include "cedar/result.h"

namespace ztgate::cedar {

enum class Tok : uint8_t {
  kEnd, kIdent, kInt, kString, kSlot,  // kSlot: `?name`, text holds the name
  kLParen, kRParen, kLBracket, kRBracket, kLBrace, kRBrace,
  kComma, kSemi, kColon, kColonColon, kDot, kAt, kAssign,
  kEq, kNotEq, kLess, kLessEq, kGreater, kGreaterEq,
  kAnd, kOr, kNot, kPlus, kMinus, kStar, kSlash, kPercent,
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string_view text;  // for kString: the raw text between the quotes
  SourceLoc loc;
};

std::string_view token_description(Tok kind);

// Splits `src` into tokens. Fails on an unterminated string or a character
// that cannot start a token. The last token is always kEnd.
Result<std::vector<Token>> tokenize(std::string_view src);

// Processes the escapes of a raw string literal body (\n \r \t \0 \\ \' \" \xHH \u{H..}).
Result<std::string> unescape_string(std::string_view raw, SourceLoc loc);
// The same for a `like` pattern: `*` is a wildcard and `\*` a literal star.
Result<Pattern> unescape_pattern(std::string_view raw, SourceLoc loc);

}  // namespace ztgate::cedar
