#include "config/posture_config.h"

#include <filesystem>
#include <set>

namespace ztgate::config {
namespace {

}  // namespace

std::optional<PostureSettings> read_posture(MapReader& identity) {
  if (!identity.has("posture")) {
    (void)identity.map("posture");
    return std::nullopt;
  }
  MapReader m = identity.map("posture");
  PostureSettings s;
  s.issuer_id = m.required_string("issuer");
  s.policy.audience = m.string("audience");
  s.policy.max_age_s = m.duration_s("max_age", s.policy.max_age_s, 60, 30 * 86400);
  s.policy.clock_skew_s = m.duration_s("clock_skew", s.policy.clock_skew_s, 0, 600);
  s.policy.required_typ = m.string("typ");
  if (m.has("algorithms")) s.policy.allowed_algs = m.strings("algorithms", 16);
  m.finish();
  return s;
}

std::vector<posture::ModelConfig> read_models(MapReader& root, const std::string& config_dir) {
  std::vector<posture::ModelConfig> out;
  std::set<std::string> ids;
  // 512: GET /v1/models overlays every listed model's integrity entity on
  // one request (cedar::Entities::kMaxOverlayEntities is 1024).
  for (auto& m : root.list("models", 512)) {
    posture::ModelConfig c;
    c.id = m.required_string("id");
    c.upstream = m.string("upstream");
    c.upstream_model = m.string("upstream_model");
    // Integrity needs all three, or none of them (an API-hosted model).
    if (m.has("weights_dir") || m.has("manifest") || m.has("publisher_key")) {
      c.weights_dir = resolve_path(config_dir, m.required_string("weights_dir"));
      c.manifest_path = resolve_path(config_dir, m.required_string("manifest"));
      c.publisher_key_path = resolve_path(config_dir, m.required_string("publisher_key"));
    }
    c.reverify_interval_s = m.duration_s("reverify_interval", c.reverify_interval_s, 60, 366 * 86400);
    c.allow_extra_files = m.boolean("allow_extra_files", false);
    if (!c.id.empty() && !ids.insert(c.id).second) m.error("id", "model `" + c.id + "` is listed twice");
    m.finish();
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<posture::ModelConfig>> load_models(const std::string& path) {
  auto doc = load_yaml_file(path);
  if (!doc) return doc.error();
  YamlErrors errors(path);
  MapReader root(*doc, "", errors);
  std::string dir = std::filesystem::path(path).parent_path().string();
  auto models = read_models(root, dir.empty() ? "." : dir);
  if (!errors.empty()) return errors.to_error();
  return models;
}

}  // namespace ztgate::config
