#include "config/policy_config.h"

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cedar/validator.h"

namespace ztgate::config {
namespace {

constexpr size_t kMaxPolicyFiles = 256;
constexpr size_t kMaxEntityFiles = 256;

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("config_invalid", "cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Error in_file(const std::string& path, const Error& e) {
  return make_error("config_invalid", path + ":" + e.to_string() + " (" + e.code + ")");
}

}  // namespace

std::optional<PolicySettings> read_policy_settings(MapReader& root, const std::string& config_dir) {
  if (!root.has("policies")) {
    (void)root.map("policies");
    return std::nullopt;
  }
  MapReader m = root.map("policies");
  PolicySettings s;
  s.schema = resolve_path(config_dir, m.string("schema"));
  for (const auto& f : m.strings("files", kMaxPolicyFiles)) s.files.push_back(resolve_path(config_dir, f));
  if (s.files.empty()) m.error("files", "list at least one .cedar file");
  for (const auto& f : m.strings("entities", kMaxEntityFiles)) s.entities.push_back(resolve_path(config_dir, f));
  m.finish();
  return s;
}

Result<PolicyBundle> load_policy_bundle(const PolicySettings& settings) {
  PolicyBundle bundle;
  if (!settings.schema.empty()) {
    auto text = read_file(settings.schema);
    if (!text) return text.error();
    bool json = settings.schema.size() > 5 && settings.schema.ends_with(".json");
    auto schema = json ? cedar::parse_schema_json(*text) : cedar::parse_schema(*text);
    if (!schema) return in_file(settings.schema, schema.error());
    bundle.schema = std::make_shared<const cedar::Schema>(std::move(*schema));
  }

  cedar::PolicySet all;
  // Which file each policy came from, for validation messages.
  std::map<std::string, std::string, std::less<>> origin;
  for (const auto& path : settings.files) {
    auto text = read_file(path);
    if (!text) return text.error();
    std::string prefix = std::filesystem::path(path).stem().string() + ".";
    auto set = cedar::parse_policies(*text, prefix);
    if (!set) return in_file(path, set.error());
    for (const auto& p : set->templates()) {
      if (auto st = all.add(*p); !st) return in_file(path, st.error());
      origin[p->id] = path;
    }
    for (const auto& p : set->policies()) {
      if (auto st = all.add(*p); !st) return in_file(path, st.error());
      origin[p->id] = path;
    }
  }
  if (bundle.schema) {
    cedar::ValidationResult vr = cedar::validate_policies(*bundle.schema, all);
    auto where = [&](const cedar::ValidationIssue& i) {
      auto it = origin.find(i.policy_id);
      std::string file = it == origin.end() ? "?" : it->second;
      return file + ":" + std::to_string(i.loc.line) + ":" + std::to_string(i.loc.column) + ": [" + i.policy_id +
             "] " + i.message;
    };
    for (const auto& w : vr.warnings) bundle.warnings.push_back(where(w));
    if (!vr.ok()) {
      std::string message = "policies do not validate against " + settings.schema + ":";
      for (const auto& e : vr.errors) message += "\n" + where(e);
      return make_error("config_invalid", message);
    }
  }
  bundle.policies = std::make_shared<const cedar::PolicySet>(std::move(all));

  boost::json::array merged;
  for (const auto& path : settings.entities) {
    auto text = read_file(path);
    if (!text) return text.error();
    // Each file on its own first, so an error names its file and line.
    auto one = cedar::parse_entities_json(*text, bundle.schema.get());
    if (!one) return in_file(path, one.error());
    boost::system::error_code ec;
    auto value = boost::json::parse(*text, ec);
    if (ec || !value.is_array()) return make_error("config_invalid", path + ": not a JSON array of entities");
    for (auto& e : value.as_array()) merged.push_back(std::move(e));
  }
  auto entities = cedar::parse_entities_json(boost::json::serialize(merged), bundle.schema.get());
  if (!entities) return make_error("config_invalid", "entity files together: " + entities.error().message);
  bundle.entities = std::make_shared<const cedar::Entities>(std::move(*entities));
  return bundle;
}

}  // namespace ztgate::config
