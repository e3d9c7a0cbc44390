// The human-readable Cedar schema syntax (.cedarschema), Cedar 4.x:
//
//   Schema    := {Namespace}
//   Namespace := Annotations 'namespace' Path '{' {Annotations Decl} '}' | Annotations Decl
//   Decl      := Entity | Action | TypeDecl
//   Entity    := 'entity' Idents ['in' EntTypes] [['='] RecType] ['tags' Type] ';'
//              | 'entity' Idents 'enum' '[' STR {',' STR} ']' ';'
//   Action    := 'action' Names ['in' QualName | '[' QualName {',' QualName} ']']
//                ['appliesTo' '{' AppDecls '}'] ';'
//   TypeDecl  := 'type' Ident '=' Type ';'
//   Type      := Path | 'Set' '<' Type '>' | RecType
//   RecType   := '{' [AttrDecls] '}'
//   AttrDecls := Annotations Name ['?'] ':' Type [',' [AttrDecls]]
//   AppDecls  := ('principal' | 'resource') ':' EntTypes [',' [AppDecls]]
//              | 'context' ':' (Path | RecType) [',' [AppDecls]]
//   EntTypes  := Path | '[' [Path {',' Path}] ']'
//   QualName  := Name | Path '::' STR
//   Annotation:= '@' AnyIdent ['(' STR ')']
//
// The schema has its own small tokenizer (a bare `?` marks an optional
// attribute, which the policy lexer reads as a slot) but shares the policy
// lexer's string unescaping. Keywords are contextual: `entity`, `action`,
// `principal`... are ordinary identifiers wherever a name is expected. Only the policy language's
// reserved words (true, false, if, then, else, in, is, like, has) cannot be
// identifiers. Declarations outside any `namespace` block form the empty
// namespace, wherever they appear.
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cedar/internal/schema_raw.h"
#include "cedar/lexer.h"
#include "cedar/limits.h"
#include "cedar/schema.h"

namespace ztgate::cedar {
namespace {

using internal::Annotations;
using internal::RawAction;
using internal::RawActionRef;
using internal::RawAttr;
using internal::RawCommonType;
using internal::RawEntityType;
using internal::RawNamespace;
using internal::RawSchema;
using internal::RawType;
using internal::RefKind;

// Nesting of Set<..> and record types; deeper input is rejected rather than
// risking the stack.
constexpr int kMaxNesting = 64;

bool is_reserved_word(std::string_view s) {
  static constexpr std::array<std::string_view, 9> kReserved = {
      "true", "false", "if", "then", "else", "in", "is", "like", "has"};
  for (auto r : kReserved)
    if (s == r) return true;
  return false;
}

struct SchemaToken {
  enum class Kind : uint8_t { kIdent, kString, kNumber, kPunct, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;  // identifier, punctuation, or the unescaped string
  SourceLoc loc;
};

class SchemaLexer {
 public:
  explicit SchemaLexer(std::string_view src) : src_(src) {}

  // Tokenizes everything; on error fills `error` and returns false.
  bool run(std::vector<SchemaToken>& out, Error& error) {
    while (true) {
      skip_space_and_comments();
      SchemaToken t;
      t.loc = here();
      if (pos_ >= src_.size()) {
        t.kind = SchemaToken::Kind::kEnd;
        out.push_back(std::move(t));
        return true;
      }
      char c = src_[pos_];
      if (c == '_' || std::isalpha(static_cast<unsigned char>(c))) {
        size_t start = pos_;
        while (pos_ < src_.size() && (src_[pos_] == '_' || std::isalnum(static_cast<unsigned char>(src_[pos_]))))
          advance();
        t.kind = SchemaToken::Kind::kIdent;
        t.text = std::string(src_.substr(start, pos_ - start));
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        size_t start = pos_;
        while (pos_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos_]))) advance();
        t.kind = SchemaToken::Kind::kNumber;
        t.text = std::string(src_.substr(start, pos_ - start));
      } else if (c == '"') {
        if (!lex_string(t, error)) return false;
      } else if (c == ':' && pos_ + 1 < src_.size() && src_[pos_ + 1] == ':') {
        advance();
        advance();
        t.kind = SchemaToken::Kind::kPunct;
        t.text = "::";
      } else if (std::string_view(",;:{}[]<>=?@()").find(c) != std::string_view::npos) {
        advance();
        t.kind = SchemaToken::Kind::kPunct;
        t.text = std::string(1, c);
      } else {
        error = make_error("parse_error", "unexpected character `" + printable(c) + "`", t.loc);
        return false;
      }
      out.push_back(std::move(t));
    }
  }

 private:
  static std::string printable(char c) {
    if (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F)
      return std::string(1, c);
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(c));
    return buf;
  }

  SourceLoc here() const { return SourceLoc{line_, column_}; }

  void advance() {
    char c = src_[pos_++];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++column_;  // count code points, not UTF-8 continuation bytes
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

  bool lex_string(SchemaToken& t, Error& error) {
    advance();  // opening quote
    size_t start = pos_;
    while (pos_ < src_.size() && src_[pos_] != '"') {
      if (src_[pos_] == '\\' && pos_ + 1 < src_.size()) advance();
      advance();
    }
    if (pos_ >= src_.size()) {
      error = make_error("parse_error", "unterminated string literal", t.loc);
      return false;
    }
    std::string_view body = src_.substr(start, pos_ - start);
    advance();  // closing quote
    t.kind = SchemaToken::Kind::kString;
    auto text = unescape_string(body, t.loc);
    if (!text) {
      error = text.error();
      return false;
    }
    t.text = std::move(*text);
    return true;
  }

  std::string_view src_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

class Parser {
 public:
  explicit Parser(std::vector<SchemaToken> tokens) : toks_(std::move(tokens)) {}

  Result<RawSchema> run() {
    RawSchema schema;
    std::optional<size_t> empty_ns;
    while (!at_end()) {
      Annotations annotations;
      if (!parse_annotations(annotations)) return *err_;
      if (is_ident("namespace")) {
        RawNamespace ns;
        ns.annotations = std::move(annotations);
        if (!parse_namespace(ns)) return *err_;
        schema.namespaces.push_back(std::move(ns));
        continue;
      }
      if (!empty_ns) {
        empty_ns = schema.namespaces.size();
        schema.namespaces.emplace_back();
      }
      if (!parse_decl(schema.namespaces[*empty_ns], std::move(annotations))) return *err_;
    }
    return schema;
  }

 private:
  // --- token helpers -------------------------------------------------------
  const SchemaToken& peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, toks_.size() - 1);
    return toks_[i];
  }
  bool at_end() const { return peek().kind == SchemaToken::Kind::kEnd; }
  bool is_punct(std::string_view p, size_t ahead = 0) const {
    return peek(ahead).kind == SchemaToken::Kind::kPunct && peek(ahead).text == p;
  }
  bool is_ident(std::string_view word, size_t ahead = 0) const {
    return peek(ahead).kind == SchemaToken::Kind::kIdent && peek(ahead).text == word;
  }
  const SchemaToken& next() {
    const SchemaToken& t = peek();
    if (pos_ < toks_.size() - 1) ++pos_;
    return t;
  }

  static std::string describe(const SchemaToken& t) {
    switch (t.kind) {
      case SchemaToken::Kind::kEnd: return "end of input";
      case SchemaToken::Kind::kString: return "string literal";
      case SchemaToken::Kind::kNumber: return "number `" + t.text + "`";
      case SchemaToken::Kind::kIdent: return "`" + t.text + "`";
      case SchemaToken::Kind::kPunct: return "`" + t.text + "`";
    }
    return "token";
  }

  bool fail(std::string message, SourceLoc loc) {
    if (!err_) err_ = make_error("parse_error", std::move(message), loc);
    return false;
  }
  bool fail_expected(std::string_view what) {
    return fail("expected " + std::string(what) + ", found " + describe(peek()), peek().loc);
  }
  bool expect_punct(std::string_view p) {
    if (!is_punct(p)) return fail_expected("`" + std::string(p) + "`");
    next();
    return true;
  }

  // --- names ---------------------------------------------------------------
  bool parse_any_ident(std::string& out) {
    if (peek().kind != SchemaToken::Kind::kIdent) return fail_expected("an identifier");
    out = next().text;
    return true;
  }

  bool parse_ident(std::string& out) {
    if (peek().kind != SchemaToken::Kind::kIdent) return fail_expected("an identifier");
    if (is_reserved_word(peek().text))
      return fail("`" + peek().text + "` is a reserved word and cannot be used as an identifier",
                  peek().loc);
    out = next().text;
    return true;
  }

  bool parse_path(std::string& out) {
    if (!parse_ident(out)) return false;
    while (is_punct("::") && peek(1).kind == SchemaToken::Kind::kIdent) {
      next();
      std::string part;
      if (!parse_ident(part)) return false;
      out += "::";
      out += part;
    }
    return true;
  }

  // Name := IDENT | STR
  bool parse_name(std::string& out) {
    if (peek().kind == SchemaToken::Kind::kString) {
      out = next().text;
      return true;
    }
    if (peek().kind != SchemaToken::Kind::kIdent) return fail_expected("a name (identifier or string)");
    return parse_ident(out);
  }

  bool parse_annotations(Annotations& out) {
    while (is_punct("@")) {
      SourceLoc loc = next().loc;
      std::string key;
      if (!parse_any_ident(key)) return false;
      std::string value;
      if (is_punct("(")) {
        next();
        if (peek().kind != SchemaToken::Kind::kString) return fail_expected("a string literal");
        value = next().text;
        if (!expect_punct(")")) return false;
      }
      if (!out.emplace(key, std::move(value)).second)
        return fail("duplicate annotation `@" + key + "`", loc);
    }
    return true;
  }

  // --- declarations ------------------------------------------------------------
  bool parse_namespace(RawNamespace& ns) {
    ns.loc = next().loc;  // `namespace`
    if (!parse_path(ns.name)) return false;
    if (!expect_punct("{")) return false;
    while (!is_punct("}")) {
      if (at_end()) return fail_expected("`}` closing namespace `" + ns.name + "`");
      Annotations annotations;
      if (!parse_annotations(annotations)) return false;
      if (!parse_decl(ns, std::move(annotations))) return false;
    }
    next();
    return true;
  }

  bool parse_decl(RawNamespace& ns, Annotations annotations) {
    if (is_ident("entity")) return parse_entity(ns, std::move(annotations));
    if (is_ident("action")) return parse_action(ns, std::move(annotations));
    if (is_ident("type")) return parse_type_decl(ns, std::move(annotations));
    if (is_ident("namespace"))
      return fail("namespaces cannot be nested or annotated this way; write `namespace A::B`",
                  peek().loc);
    return fail_expected("`entity`, `action`, `type` or `namespace`");
  }

  bool parse_entity(RawNamespace& ns, Annotations annotations) {
    SourceLoc loc = next().loc;  // `entity`
    std::vector<std::string> names(1);
    if (!parse_ident(names.back())) return false;
    while (is_punct(",")) {
      next();
      names.emplace_back();
      if (!parse_ident(names.back())) return false;
    }
    RawEntityType proto;
    proto.loc = loc;
    proto.annotations = std::move(annotations);
    if (is_ident("enum")) {
      next();
      if (!parse_enum_ids(proto)) return false;
    } else {
      if (is_ident("in")) {
        next();
        if (!parse_entity_types(proto.parents)) return false;
      }
      if (is_punct("=")) {
        next();
        if (!is_punct("{")) return fail_expected("`{` starting the entity's attributes");
      }
      if (is_punct("{")) {
        RawType shape;
        if (!parse_record(shape, 0)) return false;
        proto.shape = std::move(shape);
      }
      if (is_ident("tags")) {
        next();
        RawType tags;
        if (!parse_type(tags, 0)) return false;
        proto.tags = std::move(tags);
      }
    }
    if (!expect_punct(";")) return false;
    for (auto& name : names) {
      RawEntityType e = proto;
      e.name = std::move(name);
      ns.entity_types.push_back(std::move(e));
    }
    return true;
  }

  bool parse_enum_ids(RawEntityType& e) {
    if (!expect_punct("[")) return false;
    e.enum_ids.emplace();
    do {
      if (peek().kind != SchemaToken::Kind::kString) return fail_expected("a string literal");
      e.enum_ids->push_back(next().text);
    } while (is_punct(",") && (next(), true));
    return expect_punct("]");
  }

  // EntTypes := Path | '[' [Path {',' Path}] ']'
  bool parse_entity_types(std::vector<RawType>& out) {
    auto one = [&]() {
      RawType t;
      t.loc = peek().loc;
      t.ref = RefKind::kEntity;
      if (!parse_path(t.name)) return false;
      out.push_back(std::move(t));
      return true;
    };
    if (!is_punct("[")) return one();
    next();
    if (is_punct("]")) {
      next();
      return true;
    }
    if (!one()) return false;
    while (is_punct(",")) {
      next();
      if (!one()) return false;
    }
    return expect_punct("]");
  }

  bool parse_action(RawNamespace& ns, Annotations annotations) {
    SourceLoc loc = next().loc;  // `action`
    std::vector<std::pair<std::string, SourceLoc>> names;
    do {
      names.emplace_back(std::string(), peek().loc);
      if (!parse_name(names.back().first)) return false;
    } while (is_punct(",") && (next(), true));
    RawAction proto;
    proto.loc = loc;
    proto.annotations = std::move(annotations);
    if (is_ident("in")) {
      next();
      if (!parse_action_parents(proto.parents)) return false;
    }
    if (is_ident("appliesTo")) {
      next();
      if (!parse_applies_to(proto, names.front().first)) return false;
    }
    // `attributes {}`: accepted for compatibility, action attributes are not supported.
    if (is_ident("attributes")) {
      next();
      if (!expect_punct("{")) return false;
      if (!is_punct("}")) return fail("action attributes are not supported", peek().loc);
      next();
    }
    if (!expect_punct(";")) return false;
    for (auto& [name, name_loc] : names) {
      RawAction a = proto;
      a.id = std::move(name);
      ns.actions.push_back(std::move(a));
    }
    return true;
  }

  // QualName := Name | Path '::' STR
  bool parse_qual_name(RawActionRef& out) {
    out.loc = peek().loc;
    if (peek().kind == SchemaToken::Kind::kString) {
      out.id = next().text;
      return true;
    }
    std::string path;
    if (!parse_ident(path)) return false;
    while (is_punct("::")) {
      next();
      if (peek().kind == SchemaToken::Kind::kString) {
        out.type = std::move(path);
        out.id = next().text;
        return true;
      }
      std::string part;
      if (!parse_ident(part)) return false;
      path += "::" + part;
    }
    if (path.find("::") != std::string::npos)
      return fail("expected `::\"action id\"` after `" + path + "`", peek().loc);
    out.id = std::move(path);
    return true;
  }

  bool parse_action_parents(std::vector<RawActionRef>& out) {
    if (!is_punct("[")) {
      out.emplace_back();
      return parse_qual_name(out.back());
    }
    next();
    do {
      out.emplace_back();
      if (!parse_qual_name(out.back())) return false;
    } while (is_punct(",") && (next(), true));
    return expect_punct("]");
  }

  bool parse_applies_to(RawAction& a, const std::string& first_name) {
    if (!expect_punct("{")) return false;
    bool seen_principal = false, seen_resource = false, seen_context = false;
    do {
      if (is_punct("}") && (seen_principal || seen_resource || seen_context)) break;  // trailing comma
      SourceLoc loc = peek().loc;
      if (is_ident("principal") || is_ident("resource")) {
        bool principal = peek().text == "principal";
        bool& seen = principal ? seen_principal : seen_resource;
        if (seen)
          return fail(std::string("duplicate `") + (principal ? "principal" : "resource") +
                          "` declaration in action \"" + first_name + "\"",
                      loc);
        seen = true;
        next();
        if (!expect_punct(":")) return false;
        auto& list = principal ? a.principal_types : a.resource_types;
        if (!parse_entity_types(list)) return false;
        if (list.empty())
          return fail(std::string("`") + (principal ? "principal" : "resource") +
                          "` must list at least one entity type in action \"" + first_name + "\"",
                      loc);
      } else if (is_ident("context")) {
        if (seen_context)
          return fail("duplicate `context` declaration in action \"" + first_name + "\"", loc);
        seen_context = true;
        next();
        if (!expect_punct(":")) return false;
        RawType ctx;
        if (is_punct("{")) {
          if (!parse_record(ctx, 0)) return false;
        } else {
          ctx.loc = peek().loc;
          ctx.ref = RefKind::kCommon;
          if (!parse_path(ctx.name)) return false;
        }
        a.context = std::move(ctx);
      } else {
        return fail_expected("`principal`, `resource` or `context`");
      }
    } while (is_punct(",") && (next(), true));
    if (!expect_punct("}")) return false;
    if (!seen_principal)
      return fail("action \"" + first_name + "\" has `appliesTo` without `principal`", a.loc);
    if (!seen_resource)
      return fail("action \"" + first_name + "\" has `appliesTo` without `resource`", a.loc);
    return true;
  }

  bool parse_type_decl(RawNamespace& ns, Annotations annotations) {
    RawCommonType c;
    c.loc = next().loc;  // `type`
    c.annotations = std::move(annotations);
    if (!parse_ident(c.name)) return false;
    if (!expect_punct("=")) return false;
    if (!parse_type(c.type, 0)) return false;
    if (!expect_punct(";")) return false;
    ns.common_types.push_back(std::move(c));
    return true;
  }

  // --- types -------------------------------------------------------------------
  bool parse_type(RawType& out, int depth) {
    if (depth > kMaxNesting) return fail("types nest too deeply", peek().loc);
    out.loc = peek().loc;
    if (is_ident("Set") && is_punct("<", 1)) {
      next();
      next();
      out.kind = RawType::Kind::kSet;
      out.element = std::make_shared<RawType>();
      if (!parse_type(*out.element, depth + 1)) return false;
      return expect_punct(">");
    }
    if (is_punct("{")) return parse_record(out, depth);
    if (peek().kind != SchemaToken::Kind::kIdent) return fail_expected("a type");
    out.kind = RawType::Kind::kNamed;
    out.ref = RefKind::kCommonOrEntity;
    return parse_path(out.name);
  }

  bool parse_record(RawType& out, int depth) {
    if (depth > kMaxNesting) return fail("types nest too deeply", peek().loc);
    out.loc = peek().loc;
    out.kind = RawType::Kind::kRecord;
    if (!expect_punct("{")) return false;
    while (!is_punct("}")) {
      RawAttr attr;
      Annotations ignored;  // attribute annotations are documentation only
      if (!parse_annotations(ignored)) return false;
      attr.loc = peek().loc;
      if (!parse_name(attr.name)) return false;
      if (is_punct("?")) {
        next();
        attr.required = false;
      }
      if (!expect_punct(":")) return false;
      if (!parse_type(attr.type, depth + 1)) return false;
      // A repeated attribute replaces the earlier declaration, as in the
      // reference implementation.
      std::erase_if(out.attributes, [&](const RawAttr& other) { return other.name == attr.name; });
      out.attributes.push_back(std::move(attr));
      if (is_punct(",")) {
        next();
      } else if (!is_punct("}")) {
        return fail_expected("`,` or `}`");
      }
    }
    next();
    return true;
  }

  std::vector<SchemaToken> toks_;
  size_t pos_ = 0;
  std::optional<Error> err_;
};

}  // namespace

Result<Schema> parse_schema(std::string_view text) {
  if (text.size() > kMaxSchemaTextBytes)
    return make_error("parse_error", "the schema is larger than " +
                                         std::to_string(kMaxSchemaTextBytes >> 20) + " MiB");
  std::vector<SchemaToken> tokens;
  Error error;
  if (!SchemaLexer(text).run(tokens, error)) return error;
  auto raw = Parser(std::move(tokens)).run();
  if (!raw) return raw.error();
  return internal::resolve_schema(*raw);
}

}  // namespace ztgate::cedar
