#include "posture/model_registry.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include "posture/model_directory.h"

namespace ztgate::posture {
namespace {

int64_t system_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Reads a small text file (keys, signed manifests) with a size bound.
Result<std::string> read_bounded(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("manifest_io_error", "cannot read " + path);
  std::string out(max_bytes + 1, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  if (in.bad()) return make_error("manifest_io_error", "cannot read " + path);
  out.resize(static_cast<size_t>(in.gcount()));
  if (out.size() > max_bytes) return make_error("manifest_too_large", path + " is too large");
  return out;
}

ModelStatus failed(ModelStatus s, const Error& e) {
  s.verified = false;
  s.failure_code = e.code;
  s.failure = e.message;
  return s;
}

}  // namespace

ModelRegistry::ModelRegistry(std::vector<ModelConfig> models, Clock clock)
    : clock_(clock ? std::move(clock) : Clock(system_now)) {
  auto initial = std::make_shared<Snapshot>();
  for (auto& m : models) {
    (*initial)[m.id] = ModelStatus{};
    configs_.emplace(m.id, std::move(m));
  }
  snapshot_.store(std::move(initial));
}

ModelStatus ModelRegistry::run_verification(const ModelConfig& config) const {
  ModelStatus s;
  s.checked_at = clock_();
  auto key_text = read_bounded(config.publisher_key_path, 64 * 1024);
  if (!key_text) return failed(s, key_text.error());
  auto key = parse_publisher_key(*key_text);
  if (!key) return failed(s, key.error());
  auto jws = read_bounded(config.manifest_path, kMaxManifestBytes / 3 * 4 + 8192);
  if (!jws) return failed(s, jws.error());
  DirectoryOptions options;
  options.allow_extra = config.allow_extra_files;
  options.ignore = path_inside(config.weights_dir, config.manifest_path);
  auto result = verify_model(config.weights_dir, *jws, *key, options);
  if (!result) return failed(s, result.error());
  s.manifest_version = result->signed_manifest.manifest.version;
  s.manifest_sha256 = result->signed_manifest.sha256;
  if (!result->ok()) {
    s.failure_code = result->report.problems.front().code;
    for (const auto& p : result->report.problems)
      s.failure += (s.failure.empty() ? "" : "\n") + p.message;
    return s;
  }
  s.verified = true;
  // The state proven is the one at the start: files could change while hashing.
  s.verified_at = s.checked_at;
  return s;
}

size_t ModelRegistry::verify_all() {
  size_t ok = 0;
  for (const auto& [id, config] : configs_) {
    auto s = verify(id);
    if (s && s->verified) ++ok;
  }
  return ok;
}

Result<ModelStatus> ModelRegistry::verify(const std::string& id) {
  auto it = configs_.find(id);
  if (it == configs_.end()) return make_error("model_unknown", "no model \"" + id + "\" in the registry");
  ModelStatus s = run_verification(it->second);  // slow: no lock held
  std::lock_guard lock(publish_mu_);
  auto next = std::make_shared<Snapshot>(*snapshot_.load());
  (*next)[id] = s;
  snapshot_.store(std::move(next));
  return s;
}

std::optional<ModelStatus> ModelRegistry::status(const std::string& id) const {
  auto snap = snapshot_.load();
  auto it = snap->find(id);
  if (it == snap->end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> ModelRegistry::ids() const {
  std::vector<std::string> out;
  for (const auto& [id, config] : configs_) out.push_back(id);
  return out;
}

bool ModelRegistry::integrity_verified(const std::string& id, int64_t now_s) const {
  auto cfg = configs_.find(id);
  auto s = status(id);
  if (cfg == configs_.end() || !s || !s->verified) return false;
  int64_t age = now_s - s->verified_at;
  return age >= 0 && age <= cfg->second.reverify_interval_s;
}

boost::json::object ModelRegistry::entity_attributes(const std::string& id, int64_t now_s) const {
  boost::json::object o{{"integrity_verified", integrity_verified(id, now_s)}};
  if (auto s = status(id)) {
    o["manifest_version"] = s->manifest_version;
    o["manifest_sha256"] = s->manifest_sha256;
    o["verified_at"] = s->verified_at;
  }
  return o;
}

}  // namespace ztgate::posture
