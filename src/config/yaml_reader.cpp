#include "config/yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ztgate::config {
namespace {

constexpr size_t kMaxConfigBytes = 4 * 1024 * 1024;
constexpr int kMaxFlowDepth = 64;

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool parse_int(const std::string& text, int64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

void YamlErrors::add(const YAML::Mark& mark, const std::string& path, const std::string& message) {
  std::string where = file_;
  if (!mark.is_null()) where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  lines_.push_back(where + ": " + (path.empty() ? "" : "`" + path + "`: ") + message);
}

Error YamlErrors::to_error() const {
  std::string message;
  for (const auto& l : lines_) message += (message.empty() ? "" : "\n") + l;
  return make_error("config_invalid", message);
}

MapReader::MapReader(const YAML::Node& node, std::string path, YamlErrors& errors)
    : node_(node), path_(std::move(path)), errors_(&errors) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
    errors_->add(node_.Mark(), path_, "must be a mapping of keys to values");
    node_ = YAML::Node(YAML::NodeType::Map);
  }
}

std::string MapReader::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

YAML::Node MapReader::child(const std::string& key) {
  known_.insert(key);
  if (!node_.IsDefined() || node_.IsNull()) return YAML::Node();
  return const_cast<const YAML::Node&>(node_)[key];
}

bool MapReader::has(const std::string& key) const {
  if (!node_.IsDefined() || node_.IsNull()) return false;
  YAML::Node v = const_cast<const YAML::Node&>(node_)[key];
  return v.IsDefined() && !v.IsNull();
}

void MapReader::error(const std::string& key, const std::string& message) {
  YAML::Node v = key.empty() ? node_ : child(key);
  errors_->add(v.IsDefined() ? v.Mark() : node_.Mark(), key.empty() ? path_ : key_path(key), message);
}

std::string MapReader::string(const std::string& key, const std::string& fallback) {
  YAML::Node v = child(key);
  if (!v.IsDefined() || v.IsNull()) return fallback;
  if (!v.IsScalar()) {
    errors_->add(v.Mark(), key_path(key), "must be a string");
    return fallback;
  }
  return v.Scalar();
}

std::string MapReader::required_string(const std::string& key) {
  YAML::Node v = child(key);
  if (!v.IsDefined() || v.IsNull() || (v.IsScalar() && v.Scalar().empty())) {
    errors_->add(node_.Mark(), key_path(key), "is required");
    return {};
  }
  return string(key);
}

bool MapReader::boolean(const std::string& key, bool fallback) {
  YAML::Node v = child(key);
  if (!v.IsDefined() || v.IsNull()) return fallback;
  if (v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "false")) return v.Scalar() == "true";
  errors_->add(v.Mark(), key_path(key), "must be true or false");
  return fallback;
}

int64_t MapReader::integer(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  YAML::Node v = child(key);
  if (!v.IsDefined() || v.IsNull()) return fallback;
  int64_t out = 0;
  if (!v.IsScalar() || !parse_int(v.Scalar(), out) || out < min || out > max) {
    errors_->add(v.Mark(), key_path(key),
                 "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    return fallback;
  }
  return out;
}

int64_t MapReader::duration_s(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  YAML::Node v = child(key);
  if (!v.IsDefined() || v.IsNull()) return fallback;
  std::string text = v.IsScalar() ? v.Scalar() : "";
  int64_t unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's': unit = 1; text.pop_back(); break;
      case 'm': unit = 60; text.pop_back(); break;
      case 'h': unit = 3600; text.pop_back(); break;
      case 'd': unit = 86400; text.pop_back(); break;
      default: break;
    }
  }
  int64_t n = 0;
  if (!parse_int(text, n) || n < 0 || n > max / unit || n * unit < min) {
    errors_->add(v.Mark(), key_path(key),
                 "must be a duration like 30s, 10m, 2h or 7d, from " + std::to_string(min) + "s to " +
                     std::to_string(max) + "s");
    return fallback;
  }
  return n * unit;
}

int64_t MapReader::duration_ms(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  YAML::Node v = child(key);
  if (!v.IsDefined() || v.IsNull()) return fallback;
  std::string text = v.IsScalar() ? v.Scalar() : "";
  int64_t unit = 1;
  auto ends_with = [&](std::string_view suffix) {
    return text.size() > suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with("ms")) {
    text.resize(text.size() - 2);
  } else if (ends_with("s")) {
    unit = 1000;
    text.pop_back();
  } else if (ends_with("m")) {
    unit = 60'000;
    text.pop_back();
  }
  int64_t n = 0;
  if (!parse_int(text, n) || n < 0 || n > max / unit || n * unit < min) {
    errors_->add(v.Mark(), key_path(key),
                 "must be a duration like 250ms, 2s or 5m, from " + std::to_string(min) + "ms to " +
                     std::to_string(max) + "ms");
    return fallback;
  }
  return n * unit;
}

std::vector<std::string> MapReader::strings(const std::string& key, size_t max_items) {
  YAML::Node v = child(key);
  std::vector<std::string> out;
  if (!v.IsDefined() || v.IsNull()) return out;
  if (!v.IsSequence() || v.size() > max_items) {
    errors_->add(v.Mark(), key_path(key), "must be a list of at most " + std::to_string(max_items) + " strings");
    return out;
  }
  for (const auto& item : v) {
    if (!item.IsScalar()) {
      errors_->add(item.Mark(), key_path(key), "must hold only strings");
      return {};
    }
    out.push_back(item.Scalar());
  }
  return out;
}

std::map<std::string, std::vector<std::string>> MapReader::string_lists(const std::string& key) {
  YAML::Node v = child(key);
  std::map<std::string, std::vector<std::string>> out;
  if (!v.IsDefined() || v.IsNull()) return out;
  if (!v.IsMap()) {
    errors_->add(v.Mark(), key_path(key), "must map names to lists of strings");
    return out;
  }
  MapReader inner(v, key_path(key), *errors_);
  for (const auto& kv : v) {
    std::string name = kv.first.Scalar();
    out[name] = inner.strings(name);
  }
  return out;
}

std::map<std::string, std::string> MapReader::string_map(const std::string& key, size_t max_items) {
  YAML::Node v = child(key);
  std::map<std::string, std::string> out;
  if (!v.IsDefined() || v.IsNull()) return out;
  if (!v.IsMap() || v.size() > max_items) {
    errors_->add(v.Mark(), key_path(key), "must map at most " + std::to_string(max_items) + " names to strings");
    return out;
  }
  for (const auto& kv : v) {
    if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
      errors_->add(kv.first.Mark(), key_path(key), "must map names to strings");
      return {};
    }
    out[kv.first.Scalar()] = kv.second.Scalar();
  }
  return out;
}

MapReader MapReader::map(const std::string& key) { return MapReader(child(key), key_path(key), *errors_); }

std::vector<MapReader> MapReader::list(const std::string& key, size_t max_items) {
  YAML::Node v = child(key);
  std::vector<MapReader> out;
  if (!v.IsDefined() || v.IsNull()) return out;
  if (!v.IsSequence() || v.size() > max_items) {
    errors_->add(v.Mark(), key_path(key), "must be a list of at most " + std::to_string(max_items) + " items");
    return out;
  }
  for (size_t i = 0; i < v.size(); ++i)
    out.emplace_back(v[i], key_path(key) + "[" + std::to_string(i) + "]", *errors_);
  return out;
}

void MapReader::finish() {
  if (!node_.IsDefined() || !node_.IsMap()) return;
  for (const auto& kv : node_) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (known_.count(key)) continue;
    std::string hint;
    size_t best = 3;
    for (const auto& k : known_) {
      size_t d = edit_distance(key, k);
      if (d < best) {
        best = d;
        hint = k;
      }
    }
    errors_->add(kv.first.Mark(), key_path(key),
                 "unknown key" + (hint.empty() ? std::string() : "; did you mean `" + hint + "`?"));
  }
}

std::string resolve_path(const std::string& base_dir, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

Result<YAML::Node> load_yaml_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("config_invalid", "cannot read " + path);
  std::string text;
  text.resize(kMaxConfigBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return parse_yaml_text(text, path);
}

Result<YAML::Node> parse_yaml_text(std::string_view text, const std::string& label) {
  if (text.size() > kMaxConfigBytes) return make_error("config_invalid", label + " is larger than 4 MiB");
  // yaml-cpp parses flow collections recursively: bound their nesting so a
  // hostile file cannot exhaust the stack. (Quotes are not considered, so a
  // string full of brackets may be refused: the bound is generous.)
  int depth = 0;
  for (char c : text) {
    if (c == '[' || c == '{') {
      if (++depth > kMaxFlowDepth) return make_error("config_invalid", label + " nests [ ] or { } too deeply");
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return make_error("config_invalid", label + ":" + std::to_string(e.mark.line + 1) + ":" +
                                            std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

}  // namespace ztgate::config
