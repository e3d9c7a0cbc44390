// What the injection rule pack (rule_file.cpp) and the DLP rule pack
// (dlp_rule_file.cpp) read alike: a folder of *.yaml files, each
// `{rules: [<mapping>, ...]}`, bounded in size and count, rule ids unique
// per file, errors "<file>:<line>: <message>" with their SourceLoc, and a
// budget on what YAML aliases may expand a file to. Each pack reads its
// own rule mappings.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ztgate::inspect::internal {

struct YamlFailure {
  YAML::Mark mark;
  std::string message;  // "" = no failure
};

struct PackLimits {
  std::string error_code;  // "rules_invalid", "dlp_rules_invalid"
  std::string folder;      // "rule folder", "DLP rule folder" (in messages)
  size_t max_file_bytes = 0;
  size_t max_rules = 0;  // per file and per folder
  size_t max_files = 0;
};

// 1 to max_bytes characters of a-z 0-9 joined by single . _ or -.
bool valid_rule_id(std::string_view id, size_t max_bytes);

// The error for `mark` in `file` ("file:line: message").
Error pack_error(const PackLimits& limits, const std::string& file, const YAML::Mark& mark,
                 const std::string& message);

// Reads one rule mapping; `rule.id` must be set when it succeeds.
template <class RuleT>
using ReadRule = std::function<YamlFailure(const YAML::Node& node, size_t index, RuleT& rule)>;

// Parses `text` as a pack file, each rule through `read_rule`.
template <class RuleT>
Result<std::vector<RuleT>> read_pack_file(std::string_view text, const std::string& file, const PackLimits& limits,
                                          const ReadRule<RuleT>& read_rule);

// Every *.yaml of `dir`, in name order, through `parse(text, path)`.
template <class RuleT>
Result<std::vector<RuleT>> load_pack_dir(
    const std::string& dir, const PackLimits& limits,
    const std::function<Result<std::vector<RuleT>>(std::string_view, const std::string&)>& parse);

// What a file's patterns and examples may expand to through aliases.
class ExpansionBudget {
 public:
  static constexpr size_t kMaxBytes = size_t{8} << 20;
  bool charge(size_t bytes) {
    used_ += bytes;
    return used_ <= kMaxBytes;
  }
  static YamlFailure exceeded(const YAML::Mark& mark);

 private:
  size_t used_ = 0;
};

// Root document errors, shared by the template below.
YamlFailure root_shape_failure(const YAML::Node& root, YAML::Node& list, size_t max_rules);

template <class RuleT>
Result<std::vector<RuleT>> read_pack_file(std::string_view text, const std::string& file, const PackLimits& limits,
                                          const ReadRule<RuleT>& read_rule) {
  if (text.size() > limits.max_file_bytes)
    return pack_error(limits, file, YAML::Mark::null_mark(),
                      "is larger than " + std::to_string(limits.max_file_bytes >> 10) + " KiB");
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return pack_error(limits, file, e.mark, e.msg);
  }
  YAML::Node list;
  if (auto f = root_shape_failure(root, list, limits.max_rules); !f.message.empty())
    return pack_error(limits, file, f.mark, f.message);
  std::vector<RuleT> rules;
  std::set<std::string> ids;
  for (size_t i = 0; i < list.size(); ++i) {
    RuleT rule;
    if (auto f = read_rule(list[i], i, rule); !f.message.empty()) return pack_error(limits, file, f.mark, f.message);
    if (!ids.insert(rule.id).second)
      return pack_error(limits, file, list[i].Mark(), "rule " + rule.id + ": id appears twice in this file");
    rules.push_back(std::move(rule));
  }
  return rules;
}

// The folder's *.yaml files in name order, or the error.
Result<std::vector<std::string>> pack_files(const std::string& dir, const PackLimits& limits);
// A file's text, at most max_file_bytes + 1 bytes (so an oversized file is refused by its parser).
Result<std::string> read_pack_text(const std::string& path, const PackLimits& limits);

template <class RuleT>
Result<std::vector<RuleT>> load_pack_dir(
    const std::string& dir, const PackLimits& limits,
    const std::function<Result<std::vector<RuleT>>(std::string_view, const std::string&)>& parse) {
  auto files = pack_files(dir, limits);
  if (!files) return files.error();
  std::vector<RuleT> all;
  for (const std::string& path : *files) {
    auto text = read_pack_text(path, limits);
    if (!text) return text.error();
    auto rules = parse(*text, path);
    if (!rules.ok()) return rules.error();
    if (all.size() + rules->size() > limits.max_rules)
      return make_error(limits.error_code, dir + ": more than " + std::to_string(limits.max_rules) + " rules");
    for (RuleT& r : *rules) all.push_back(std::move(r));
  }
  return all;
}

}  // namespace ztgate::inspect::internal
