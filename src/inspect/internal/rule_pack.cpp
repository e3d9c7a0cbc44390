#include "inspect/internal/rule_pack.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace ztgate::inspect::internal {

bool valid_rule_id(std::string_view id, size_t max_bytes) {
  if (id.empty() || id.size() > max_bytes) return false;
  bool after_separator = true;  // no leading, trailing or doubled separator
  for (char c : id) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    const bool separator = c == '.' || c == '_' || c == '-';
    if (!alnum && !separator) return false;
    if (separator && after_separator) return false;
    after_separator = separator;
  }
  return !after_separator;
}

Error pack_error(const PackLimits& limits, const std::string& file, const YAML::Mark& mark,
                 const std::string& message) {
  std::string where = file;
  SourceLoc loc;
  if (!mark.is_null()) {
    loc = SourceLoc{mark.line + 1, mark.column + 1};
    where += ":" + std::to_string(loc.line);
  }
  return make_error(limits.error_code, where + ": " + message, loc);
}

YamlFailure ExpansionBudget::exceeded(const YAML::Mark& mark) {
  return {mark, "the file expands (through aliases) to more than " + std::to_string(kMaxBytes >> 20) +
                    " MiB of patterns and examples"};
}

YamlFailure root_shape_failure(const YAML::Node& root, YAML::Node& list, size_t max_rules) {
  if (!root.IsMap()) return {root.Mark(), "must be a mapping with a `rules:` list"};
  bool has_list = false;
  for (const auto& kv : root) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (key != "rules") return {kv.first.Mark(), "unknown key `" + key + "` (only `rules`)"};
    if (has_list) return {kv.first.Mark(), "`rules` appears twice"};
    has_list = true;
    list = kv.second;
  }
  if (!has_list || !list.IsSequence()) return {root.Mark(), "`rules` must be a list of rules"};
  if (list.size() > max_rules) return {list.Mark(), "holds more than " + std::to_string(max_rules) + " rules"};
  return {};
}

Result<std::vector<std::string>> pack_files(const std::string& dir, const PackLimits& limits) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".yaml" || !it->is_regular_file(ec)) continue;
    if (files.size() == limits.max_files)
      return make_error(limits.error_code, dir + ": more than " + std::to_string(limits.max_files) + " rule files");
    files.push_back(it->path().string());
  }
  if (ec) return make_error(limits.error_code, "cannot read the " + limits.folder + " " + dir + ": " + ec.message());
  if (files.empty()) return make_error(limits.error_code, dir + " holds no *.yaml rule file");
  std::sort(files.begin(), files.end());
  return files;
}

Result<std::string> read_pack_text(const std::string& path, const PackLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(limits.error_code, "cannot read " + path);
  std::string text(limits.max_file_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

}  // namespace ztgate::inspect::internal
