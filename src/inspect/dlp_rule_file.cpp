// Strict reading of DLP rule files (the format is in dlp_rules.h).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <system_error>

#include "inspect/dlp_rules.h"
#include "inspect/internal/rule_pack.h"
#include "inspect/rules.h"

namespace ztgate::inspect {
namespace {

constexpr size_t kMaxDescriptionBytes = 1024;
constexpr size_t kMaxKindBytes = 64;
constexpr size_t kMaxKeywordBytes = 64;

using Failure = internal::YamlFailure;

const internal::PackLimits kLimits{"dlp_rules_invalid", "DLP rule folder", kMaxDlpRuleFileBytes, kMaxDlpRules,
                                   kMaxDlpRuleFiles};


bool valid_id(std::string_view id) { return internal::valid_rule_id(id, kMaxRuleIdBytes); }

bool valid_kind(std::string_view kind) {
  return !kind.empty() && kind.size() <= kMaxKindBytes &&
         std::all_of(kind.begin(), kind.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

// Reads a whole number in [lo, hi].
bool read_number(const YAML::Node& v, long lo, long hi, long& out) {
  const std::string s = v.IsScalar() ? v.Scalar() : "";
  if (s.empty() || s.size() > 9) return false;
  long n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  if (n < lo || n > hi) return false;
  out = n;
  return true;
}

class DlpFileReader {
 public:
  explicit DlpFileReader(std::string file) : file_(std::move(file)) {}

  Result<std::vector<DlpRule>> read(std::string_view text) {
    return internal::read_pack_file<DlpRule>(
        text, file_, kLimits, [this](const YAML::Node& node, size_t index, DlpRule& rule) { return read_rule(node, index, rule); });
  }

 private:
  Failure read_rule(const YAML::Node& node, size_t index, DlpRule& rule) {
    rule.file = file_;
    rule.line = node.Mark().is_null() ? 0 : node.Mark().line + 1;
    std::string name = "rule #" + std::to_string(index + 1);
    if (!node.IsMap()) return {node.Mark(), name + ": must be a mapping"};
    const YAML::Node id = node["id"];
    if (!id.IsDefined()) return {node.Mark(), name + ": id is required"};
    if (!id.IsScalar() || !valid_id(id.Scalar()))
      return {id.Mark(), name + ": id must be 1-" + std::to_string(kMaxRuleIdBytes) +
                             " characters of a-z 0-9 joined by single . _ or -"};
    rule.id = id.Scalar();
    name = "rule " + rule.id;
    std::set<std::string> seen;
    for (const auto& kv : node) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      const YAML::Node& value = kv.second;
      const YAML::Mark mark = value.Mark().is_null() ? kv.first.Mark() : value.Mark();
      if (!seen.insert(key).second)
        return {kv.first.Mark(), name + ": `" + key + "` appears twice"};
      if (Failure f = read_field(key, value, mark, name, rule); !f.message.empty()) return f;
    }
    for (const char* required : {"kind", "category", "pattern"})
      if (seen.count(required) == 0) return {node.Mark(), name + ": " + required + " is required"};
    if (extending_dlp_validator(rule.validator) != (rule.max_bytes > 0))
      return {node.Mark(), name + ": max_bytes is required with validator " + rule.validator +
                               " and allowed with no other"};
    if (rule.must_match.empty())
      return {node.Mark(), name + ": must_match needs at least one example (rules are tested)"};
    if (rule.must_match.size() + rule.must_not_match.size() > kMaxExamples)
      return {node.Mark(), name + ": more than " + std::to_string(kMaxExamples) + " examples"};
    return {};
  }

  Failure read_field(const std::string& key, const YAML::Node& value, const YAML::Mark& mark,
                     const std::string& name, DlpRule& rule) {
    long n = 0;
    if (key == "id") return {};
    if (key == "kind") {
      if (!value.IsScalar() || !valid_kind(value.Scalar()))
        return {mark, name + ": kind must be 1-" + std::to_string(kMaxKindBytes) +
                          " characters of a-z 0-9 _"};
      rule.kind = value.Scalar();
    } else if (key == "category") {
      if (!value.IsScalar() || (value.Scalar() != "secret" && value.Scalar() != "pii"))
        return {mark, name + ": category must be secret or pii"};
      rule.category = value.Scalar();
    } else if (key == "pattern") {
      if (!value.IsScalar() || value.Scalar().empty() ||
          value.Scalar().size() > kMaxDlpPatternBytes || !printable_ascii(value.Scalar()))
        return {mark, name + ": pattern must be 1-" + std::to_string(kMaxDlpPatternBytes) +
                          " bytes of printable ASCII (write patterns in 'single quotes': in "
                          "double quotes YAML reads \\b as a backspace)"};
      if (!charge(value.Scalar().size())) return expanded(mark);
      rule.pattern = value.Scalar();
    } else if (key == "case_sensitive") {
      if (!value.IsScalar() || (value.Scalar() != "true" && value.Scalar() != "false"))
        return {mark, name + ": case_sensitive must be true or false"};
      rule.case_sensitive = value.Scalar() == "true";
    } else if (key == "keywords") {
      return read_keywords(value, mark, name, rule.keywords);
    } else if (key == "keyword_window") {
      if (!read_number(value, 0, static_cast<long>(kMaxDlpKeywordWindow), n))
        return {mark, name + ": keyword_window must be 0-" +
                          std::to_string(kMaxDlpKeywordWindow)};
      rule.keyword_window = static_cast<size_t>(n);
    } else if (key == "min_entropy") {
      return read_entropy(value, mark, name, rule.min_entropy);
    } else if (key == "validator") {
      if (!value.IsScalar() || !known_dlp_validator(value.Scalar()))
        return {mark, name + ": unknown validator (see dlp_rules.h for the list)"};
      rule.validator = value.Scalar();
    } else if (key == "max_bytes") {
      if (!read_number(value, 1, static_cast<long>(kMaxDlpExtendedBytes), n))
        return {mark, name + ": max_bytes must be 1-" + std::to_string(kMaxDlpExtendedBytes)};
      rule.max_bytes = static_cast<size_t>(n);
    } else if (key == "priority") {
      if (!read_number(value, 0, 100, n)) return {mark, name + ": priority must be 0-100"};
      rule.priority = static_cast<int>(n);
    } else if (key == "description") {
      if (!value.IsScalar() || value.Scalar().size() > kMaxDescriptionBytes)
        return {mark, name + ": description must be a string of at most " +
                          std::to_string(kMaxDescriptionBytes) + " bytes"};
      rule.description = value.Scalar();
    } else if (key == "must_match" || key == "must_not_match") {
      return read_examples(value, mark, name + ": " + key,
                           key == "must_match" ? rule.must_match : rule.must_not_match);
    } else {
      return {mark, name + ": unknown key `" + key +
                        "` (id, kind, category, pattern, case_sensitive, keywords, "
                        "keyword_window, min_entropy, validator, max_bytes, priority, "
                        "description, must_match, must_not_match)"};
    }
    return {};
  }

  static Failure read_keywords(const YAML::Node& v, const YAML::Mark& mark,
                               const std::string& name, std::vector<std::string>& out) {
    const std::string message = name + ": keywords must be a list of 1-" +
                                std::to_string(kMaxDlpKeywords) + " strings of 2-" +
                                std::to_string(kMaxKeywordBytes) + " printable ASCII bytes";
    if (!v.IsSequence() || v.size() == 0 || v.size() > kMaxDlpKeywords) return {mark, message};
    for (const auto& item : v) {
      if (!item.IsScalar() || item.Scalar().size() < 2 ||
          item.Scalar().size() > kMaxKeywordBytes || !printable_ascii(item.Scalar()))
        return {item.Mark().is_null() ? mark : item.Mark(), message};
      out.push_back(item.Scalar());
    }
    return {};
  }

  static Failure read_entropy(const YAML::Node& v, const YAML::Mark& mark,
                              const std::string& name, double& out) {
    const std::string s = v.IsScalar() ? v.Scalar() : "";
    const bool shape = !s.empty() && s.size() <= 6 &&
                       std::all_of(s.begin(), s.end(), [](char c) {
                         return (c >= '0' && c <= '9') || c == '.';
                       }) &&
                       std::count(s.begin(), s.end(), '.') <= 1 && s.front() != '.';
    const double value = shape ? std::strtod(s.c_str(), nullptr) : -1;
    if (!shape || value < 0 || value > 8)
      return {mark, name + ": min_entropy must be a number from 0 to 8 (bits per byte)"};
    out = value;
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
        return {at, name + ": each example must be a string (quote it)"};
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

Result<std::vector<DlpRule>> parse_dlp_rule_file(std::string_view text, const std::string& file) {
  return DlpFileReader(file).read(text);
}

Result<std::vector<DlpRule>> load_dlp_rule_dir(const std::string& dir) {
  return internal::load_pack_dir<DlpRule>(dir, kLimits, parse_dlp_rule_file);
}

}  // namespace ztgate::inspect
