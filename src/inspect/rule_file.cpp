// Strict reading of rule files (the format is in rules.h).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <system_error>

#include "inspect/internal/rule_pack.h"
#include "inspect/rules.h"

namespace ztgate::inspect {
namespace {

constexpr size_t kMaxLanguages = 16;
constexpr size_t kMaxDescriptionBytes = 1024;

using Failure = internal::YamlFailure;

const internal::PackLimits kLimits{"rules_invalid", "rule folder", kMaxRuleFileBytes, kMaxRules, kMaxRuleFiles};


bool valid_id(std::string_view id) { return internal::valid_rule_id(id, kMaxRuleIdBytes); }

bool valid_language(std::string_view code) {
  if (code == "any") return true;
  if (code.size() < 2 || code.size() > 3) return false;
  return std::all_of(code.begin(), code.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// Control characters in a pattern are almost always a "\b" that a
// double-quoted YAML string turned into a backspace.
bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

// Without `unicode`, a pattern is matched byte by byte: non-ASCII text is
// fine as a literal, but inside [ ] or under a quantifier it would stand for
// single bytes of a character. Returns what is wrong, or "".
std::string needs_unicode(std::string_view pattern) {
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const auto c = static_cast<unsigned char>(pattern[i]);
    if (c == '\\') {
      ++i;  // the escaped character is taken literally
      continue;
    }
    if (c < 0x80) {
      if (c == '[' && !in_class)
        in_class = true;
      else if (c == ']' && in_class)
        in_class = false;
      continue;
    }
    if (in_class) return "a non-ASCII character inside [ ]";
    size_t next = i + 1;
    while (next < pattern.size() && (static_cast<unsigned char>(pattern[next]) & 0xC0) == 0x80)
      ++next;
    if (next < pattern.size() &&
        std::string_view("*+?{").find(pattern[next]) != std::string_view::npos)
      return "a quantifier after a non-ASCII character";
    i = next - 1;
  }
  return "";
}

class FileReader {
 public:
  explicit FileReader(std::string file) : file_(std::move(file)) {}

  Result<std::vector<Rule>> read(std::string_view text) {
    return internal::read_pack_file<Rule>(
        text, file_, kLimits, [this](const YAML::Node& node, size_t index, Rule& rule) { return read_rule(node, index, rule); });
  }

 private:
  Failure read_rule(const YAML::Node& node, size_t index, Rule& rule) {
    rule.file = file_;
    rule.line = node.Mark().is_null() ? 0 : node.Mark().line + 1;
    // The id first, so that every other error can name the rule.
    std::string name = "rule #" + std::to_string(index + 1);
    if (!node.IsMap()) return {node.Mark(), name + ": must be a mapping"};
    if (const YAML::Node id = node["id"]; id.IsDefined()) {
      if (!id.IsScalar() || !valid_id(id.Scalar()))
        return {id.Mark(), name + ": id must be 1-" + std::to_string(kMaxRuleIdBytes) +
                               " characters of a-z 0-9 joined by single . _ or -"};
      rule.id = id.Scalar();
      name = "rule " + rule.id;
    } else {
      return {node.Mark(), name + ": id is required"};
    }
    std::set<std::string> seen;
    bool has_category = false, has_weight = false, has_pattern = false, has_languages = false;
    for (const auto& kv : node) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      const YAML::Node& value = kv.second;
      const YAML::Mark mark = value.Mark().is_null() ? kv.first.Mark() : value.Mark();
      if (!seen.insert(key).second)
        return {kv.first.Mark(), name + ": `" + key + "` appears twice"};
      Failure f;
      if (key == "id") {
        continue;
      } else if (key == "category") {
        has_category = true;
        if (!value.IsScalar() || !parse_rule_category(value.Scalar(), rule.category))
          f = {mark, name + ": category must be one of " + category_list()};
      } else if (key == "weight") {
        has_weight = true;
        f = read_weight(value, mark, name, rule.weight);
      } else if (key == "pattern") {
        has_pattern = true;
        f = read_pattern(value, mark, name, rule.pattern);
      } else if (key == "languages") {
        has_languages = true;
        f = read_languages(value, mark, name, rule.languages);
      } else if (key == "views") {
        f = read_views(value, mark, name, rule.views);
      } else if (key == "unicode") {
        if (!value.IsScalar() || (value.Scalar() != "true" && value.Scalar() != "false"))
          f = {mark, name + ": unicode must be true or false"};
        else
          rule.unicode = value.Scalar() == "true";
      } else if (key == "case_sensitive") {
        if (!value.IsScalar() || (value.Scalar() != "true" && value.Scalar() != "false"))
          f = {mark, name + ": case_sensitive must be true or false"};
        else
          rule.case_sensitive = value.Scalar() == "true";
      } else if (key == "description") {
        if (!value.IsScalar() || value.Scalar().size() > kMaxDescriptionBytes)
          f = {mark, name + ": description must be a string of at most " +
                         std::to_string(kMaxDescriptionBytes) + " bytes"};
        else
          rule.description = value.Scalar();
      } else if (key == "must_match" || key == "must_not_match") {
        f = read_examples(value, mark, name + ": " + key,
                          key == "must_match" ? rule.must_match : rule.must_not_match);
      } else {
        f = {kv.first.Mark(), name + ": unknown key `" + key +
                                  "` (id, category, languages, weight, pattern, views, "
                                  "unicode, case_sensitive, description, must_match, "
                                  "must_not_match)"};
      }
      if (!f.message.empty()) return f;
    }
    const char* missing = !has_category    ? "category"
                          : !has_weight    ? "weight"
                          : !has_pattern   ? "pattern"
                          : !has_languages ? "languages"
                                           : nullptr;
    if (missing != nullptr) return {node.Mark(), name + ": " + missing + " is required"};
    if (!rule.unicode) {
      if (const std::string why = needs_unicode(rule.pattern); !why.empty())
        return {node.Mark(), name + ": pattern has " + why +
                                 ", which only matches as intended with `unicode: true`"};
    }
    if (rule.must_match.empty())
      return {node.Mark(), name + ": must_match needs at least one example (rules are tested)"};
    if (rule.must_match.size() + rule.must_not_match.size() > kMaxExamples)
      return {node.Mark(), name + ": more than " + std::to_string(kMaxExamples) + " examples"};
    return {};
  }

  static std::string category_list() {
    std::string out;
    for (size_t i = 0; i < kRuleCategoryCount; ++i)
      out += (i ? ", " : "") + std::string(rule_category_name(static_cast<RuleCategory>(i)));
    return out;
  }

  static Failure read_weight(const YAML::Node& v, const YAML::Mark& mark, const std::string& name,
                             int& out) {
    const std::string s = v.IsScalar() ? v.Scalar() : "";
    int n = 0;
    bool digits = !s.empty() && s.size() <= 3;
    for (size_t i = 0; digits && i < s.size(); ++i) {
      digits = s[i] >= '0' && s[i] <= '9';
      n = n * 10 + (s[i] - '0');
    }
    if (!digits || n < 1 || n > 100)
      return {mark, name + ": weight must be a whole number from 1 to 100"};
    out = n;
    return {};
  }

  Failure read_pattern(const YAML::Node& v, const YAML::Mark& mark, const std::string& name,
                       std::string& out) {
    if (!v.IsScalar() || v.Scalar().empty() || v.Scalar().size() > kMaxPatternBytes)
      return {mark, name + ": pattern must be a string of 1-" + std::to_string(kMaxPatternBytes) +
                        " bytes"};
    if (has_control(v.Scalar()))
      return {mark, name +
                        ": pattern holds a control character (write patterns in 'single "
                        "quotes': in double quotes YAML reads \\b as a backspace)"};
    if (!charge(v.Scalar().size())) return expanded(mark);
    out = v.Scalar();
    return {};
  }

  static Failure read_languages(const YAML::Node& v, const YAML::Mark& mark,
                                const std::string& name, std::vector<std::string>& out) {
    const std::string message = name + ": languages must be a list of 1-" +
                                std::to_string(kMaxLanguages) +
                                " distinct ISO 639 codes (en, de...) or [any]";
    if (!v.IsSequence() || v.size() == 0 || v.size() > kMaxLanguages) return {mark, message};
    for (const auto& item : v) {
      if (!item.IsScalar() || !valid_language(item.Scalar())) return {item.Mark(), message};
      if (std::find(out.begin(), out.end(), item.Scalar()) != out.end())
        return {item.Mark(), message};
      out.push_back(item.Scalar());
    }
    if (out.size() > 1 && std::find(out.begin(), out.end(), "any") != out.end())
      return {mark, message};
    return {};
  }

  static Failure read_views(const YAML::Node& v, const YAML::Mark& mark, const std::string& name,
                            uint32_t& out) {
    const std::string message =
        name +
        ": views must be a non-empty list of view names (normalized, html_comment, alt, "
        "link, html_hidden, tag_chars, variation_selectors, base64, hex, url, rot13, "
        "quoted_printable)";
    if (!v.IsSequence() || v.size() == 0 || v.size() > 32) return {mark, message};
    for (const auto& item : v) {
      ViewKind kind{};
      if (!item.IsScalar() || !parse_view_kind(item.Scalar(), kind)) return {item.Mark(), message};
      out |= uint32_t{1} << static_cast<unsigned>(kind);
    }
    return {};
  }

  Failure read_examples(const YAML::Node& v, const YAML::Mark& mark, const std::string& name,
                        std::vector<std::string>& out) {
    const std::string message = name + " must be a list of at most " +
                                std::to_string(kMaxExamples) + " strings of 1-" +
                                std::to_string(kMaxExampleBytes) + " bytes";
    if (!v.IsSequence() || v.size() > kMaxExamples) return {mark, message};
    for (const auto& item : v) {
      const YAML::Mark at = item.Mark().is_null() ? mark : item.Mark();
      if (!item.IsScalar())
        return {at, name +
                        ": each example must be a string (quote it: unquoted, `text: more` "
                        "reads as a mapping)"};
      if (item.Scalar().empty() || item.Scalar().size() > kMaxExampleBytes) return {at, message};
      if (!charge(item.Scalar().size())) return expanded(mark);
      out.push_back(item.Scalar());
    }
    return {};
  }

  bool charge(size_t bytes) { return budget_.charge(bytes); }
  static Failure expanded(const YAML::Mark& mark) { return internal::ExpansionBudget::exceeded(mark); }

  std::string file_;
  internal::ExpansionBudget budget_;
};

}  // namespace

Result<std::vector<Rule>> parse_rule_file(std::string_view text, const std::string& file) {
  return FileReader(file).read(text);
}

Result<std::vector<Rule>> load_rule_dir(const std::string& dir) {
  return internal::load_pack_dir<Rule>(dir, kLimits, parse_rule_file);
}

}  // namespace ztgate::inspect
