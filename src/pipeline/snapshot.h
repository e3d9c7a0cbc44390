// One loaded configuration: everything a request is decided with, immutable
// once built and shared by every request that started on it. Hot reload
// builds a whole new Snapshot (parsed and validated first) and swaps it in
// atomically (SnapshotHolder); requests in flight finish on the one they
// began with, so a request never mixes two versions.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "cedar/authorizer.h"
#include "config/gateway_config.h"
#include "config/identity_runtime.h"
#include "data/catalog.h"
#include "pipeline/context_paths.h"
#include "pipeline/decision_cache.h"
#include "posture/model_registry.h"

namespace ztgate::inspect {
class InjectionDetector;
}

namespace ztgate::pipeline {

struct DlpRuntime;  // output_redaction.h

struct Snapshot {
  uint64_t version = 0;  // bumps on every successful (re)load
  config::GatewayConfig config;
  config::PolicyBundle bundle;
  std::shared_ptr<const cedar::Authorizer> authorizer;
  ContextPaths context_paths;  // of bundle.policies: what the decision cache keys on
  Versions versions;           // policies/entities versions for the decision cache
  std::shared_ptr<config::IdentityRuntime> identity;
  std::shared_ptr<posture::ModelRegistry> models;  // verified in the background
  // The injection detector (inspection.enabled); null when inspection is off.
  std::shared_ptr<const inspect::InjectionDetector> injection;
  // DLP (inspection.dlp): scanner, modes, keys, route canaries; null when off.
  std::shared_ptr<const DlpRuntime> dlp;
  // The document catalog (retrieval.documents; empty when none). Its
  // version joins every retrieval decision's cache key.
  std::shared_ptr<data::CatalogHolder> catalog;
};

// Builds a snapshot from a loaded configuration: policies (validated),
// entities, the identity pillar (stores opened, signing key loaded), the
// models (integrity verified now). Nothing is shared with the previous
// snapshot except on-disk stores, so a failure leaves the running one as is.
// `version` becomes Snapshot::version and the policy/entity versions.
Result<std::shared_ptr<const Snapshot>> load_snapshot(config::GatewayConfig config, uint64_t version);

class SnapshotHolder {
 public:
  std::shared_ptr<const Snapshot> current() const { return current_.load(std::memory_order_acquire); }
  void publish(std::shared_ptr<const Snapshot> next) { current_.store(std::move(next), std::memory_order_release); }

 private:
  std::atomic<std::shared_ptr<const Snapshot>> current_;
};

}  // namespace ztgate::pipeline
