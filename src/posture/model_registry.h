// The model registry: which models the gateway serves, and whether each one's
// weights are known to be exactly what its publisher signed.
//
// Built from plain config values. verify_all() (at startup) and verify(id)
// (on demand, e.g. from a timer or an admin call) read the signed manifest,
// check it with the model's publisher key and hash every weight file
// (model_directory.h). A model is trusted — integrity_verified(id, now) —
// only while its last verification succeeded and is at most
// reverify_interval_s old: a failed, never-run or stale verification all
// mean untrusted, and that is a fact for policy (`resource.integrity_verified`),
// not an error.
//
// Thread safety: reads (status, integrity_verified, entity_attributes) take
// an immutable snapshot and no lock; verifications may run concurrently with
// reads and with each other (results are published one model at a time).
//
// Bounds: publisher key files 64 KiB, signed manifests as model_manifest.h,
// directories as model_directory.h.
//
// Error codes: model_unknown (verify of an id not in the registry). Failure
// reasons in ModelStatus carry the manifest_* codes.
#pragma once

#include <boost/json/object.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace ztgate::posture {

struct ModelConfig {
  std::string id;                  // the Cedar Model entity id
  // Integrity: all three set (weights we can hash), or none (a model served
  // by someone else's API: its integrity is not verifiable, so
  // integrity_verified reads false).
  std::string weights_dir;
  std::string manifest_path;       // the signed manifest (compact JWS)
  std::string publisher_key_path;  // Ed25519 public key: JWK or PEM
  int64_t reverify_interval_s = 24 * 3600;
  bool allow_extra_files = false;
  // Where the gateway sends requests for it (an upstreams id; "" = not proxied)
  // and the name the upstream knows it by ("" = id).
  std::string upstream;
  std::string upstream_model;
  bool integrity_managed() const { return !weights_dir.empty(); }
};

struct ModelStatus {
  bool verified = false;        // the last verification succeeded
  int64_t verified_at = 0;      // when it succeeded (0: never)
  int64_t checked_at = 0;       // when the last verification ran (0: never)
  std::string manifest_version;
  std::string manifest_sha256;  // of the canonical manifest last verified
  std::string failure_code;     // "" when verified
  std::string failure;          // every problem, one per line
};

class ModelRegistry {
 public:
  using Clock = std::function<int64_t()>;  // seconds since the epoch

  // `clock` defaults to the system clock; tests inject their own.
  explicit ModelRegistry(std::vector<ModelConfig> models, Clock clock = {});

  // Verifies every model; returns how many verified.
  size_t verify_all();
  // Verifies one model now and publishes its status.
  Result<ModelStatus> verify(const std::string& id);

  std::optional<ModelStatus> status(const std::string& id) const;
  std::vector<std::string> ids() const;
  // Verified and not stale: now - verified_at <= reverify_interval_s.
  bool integrity_verified(const std::string& id, int64_t now_s) const;
  // Cedar attributes for Model::"id": {integrity_verified, manifest_version,
  // manifest_sha256, verified_at}; {integrity_verified: false} for an unknown id.
  boost::json::object entity_attributes(const std::string& id, int64_t now_s) const;

 private:
  using Snapshot = std::map<std::string, ModelStatus, std::less<>>;
  ModelStatus run_verification(const ModelConfig& config) const;

  std::map<std::string, ModelConfig, std::less<>> configs_;  // immutable after construction
  Clock clock_;
  std::mutex publish_mu_;  // serializes snapshot replacement, never held by readers
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
};

}  // namespace ztgate::posture
