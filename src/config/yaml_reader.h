// Strict reading of YAML configuration: every key is known, every value has
// the right type and range, and every mistake is reported with the file,
// line and column and, for an unknown key, the closest known one.
//
//   YamlErrors errors("ztgate.yaml");
//   MapReader gateway(root["gateway"], "gateway", errors);
//   std::string issuer = gateway.string("issuer", "urn:ztgate:gateway");
//   gateway.finish();                       // unknown keys → errors
//   if (!errors.empty()) return errors.to_error();
//
// Readers never throw; a wrong value records an error and returns the default.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace ztgate::config {

class YamlErrors {
 public:
  explicit YamlErrors(std::string file) : file_(std::move(file)) {}
  void add(const YAML::Mark& mark, const std::string& path, const std::string& message);
  bool empty() const { return lines_.empty(); }
  const std::vector<std::string>& lines() const { return lines_; }
  // One Error (code config_invalid) whose message lists every problem.
  Error to_error() const;
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<std::string> lines_;
};

// Reads a YAML mapping; remembers which keys were read so finish() can
// report the rest as unknown.
class MapReader {
 public:
  // A missing (null) node reads as an empty mapping.
  MapReader(const YAML::Node& node, std::string path, YamlErrors& errors);

  bool has(const std::string& key) const;
  std::string string(const std::string& key, const std::string& fallback = "");
  std::string required_string(const std::string& key);
  bool boolean(const std::string& key, bool fallback);
  int64_t integer(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  // "90s", "10m", "2h", "7d" or a plain number of seconds.
  int64_t duration_s(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  // "250ms", "2s", "5m" or a plain number of milliseconds.
  int64_t duration_ms(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  std::vector<std::string> strings(const std::string& key, size_t max_items = 4096);
  std::map<std::string, std::vector<std::string>> string_lists(const std::string& key);
  // A mapping of names to strings (at most max_items).
  std::map<std::string, std::string> string_map(const std::string& key, size_t max_items = 4096);
  MapReader map(const std::string& key);
  // Each item of a sequence of mappings.
  std::vector<MapReader> list(const std::string& key, size_t max_items = 100000);
  // Accepts `key` unread, whatever its shape: a section another reader owns.
  void skip(const std::string& key) { known_.insert(key); }
  // Records an error at this mapping (or at `key` when present).
  void error(const std::string& key, const std::string& message);

  void finish();
  const std::string& path() const { return path_; }

 private:
  YAML::Node child(const std::string& key);
  std::string key_path(const std::string& key) const;
  YAML::Node node_;
  std::string path_;
  YamlErrors* errors_;
  std::set<std::string> known_;
};

// `path` relative to `base_dir` (the configuration file's folder) unless it
// is absolute or empty.
std::string resolve_path(const std::string& base_dir, const std::string& path);

// Loads a YAML document from a file, bounded in size (4 MiB). Error code
// config_invalid with the parser's line and column.
Result<YAML::Node> load_yaml_file(const std::string& path);
// The same for text already in memory; `label` names it in errors.
Result<YAML::Node> parse_yaml_text(std::string_view text, const std::string& label);

}  // namespace ztgate::config
