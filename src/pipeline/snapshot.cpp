#include "pipeline/snapshot.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <filesystem>
#include <mutex>

#include "common/file_stamp.h"
#include "data/catalog_jsonl.h"
#include "inspect/injection.h"
#include "pipeline/obligations.h"
#include "pipeline/output_redaction.h"

// gperftools' C API, present when the binary links tcmalloc (src/cli): weak,
// so other binaries (tests, sanitizer builds) link without it.
extern "C" void MallocExtension_ReleaseFreeMemory(void) __attribute__((weak));

namespace ztgate::pipeline {
namespace {

// Parsing entity files leaves most of their transient JSON in freed heap
// that the allocator keeps: measured 405 MiB resident with 100k entities
// before, 157 MiB after. Give it back once per load, to whichever
// allocator the binary runs on.
void release_free_heap() {
  if (MallocExtension_ReleaseFreeMemory != nullptr) {
    MallocExtension_ReleaseFreeMemory();
    return;
  }
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}



// What the detector was loaded from: the settings and every file's size and
// time. A reload with the same key reuses the detector (compiling the rule
// pack takes seconds without the cache).
std::string detector_key(const config::InspectionSettings& s) {
  std::string key = s.rules_dir + '\n' + s.model_path + '\n' + s.cache_dir + '\n' + std::to_string(s.rule_threshold);
  key += '\n' + file_stamp(s.model_path) + dir_stamps(s.rules_dir);
  return key;
}

Result<std::shared_ptr<const inspect::InjectionDetector>> load_detector(const config::InspectionSettings& s) {
  static std::mutex mu;
  static std::string last_key;
  static std::shared_ptr<const inspect::InjectionDetector> last;
  std::lock_guard lock(mu);
  std::string key = detector_key(s);
  if (last && key == last_key) return last;
  inspect::InjectionOptions o;
  o.rules_dir = s.rules_dir;
  o.model_path = s.model_path;
  o.cache_dir = s.cache_dir;
  o.rule_threshold = static_cast<int>(s.rule_threshold);
  o.normalize.max_input_bytes = static_cast<size_t>(s.max_text_bytes);
  auto loaded = inspect::InjectionDetector::load(o);
  if (!loaded) return make_error("config_invalid", "inspection: " + loaded.error().message);
  last_key = std::move(key);
  last = *loaded;
  return last;
}

// What the catalog was loaded from. A reload with the same key keeps the
// catalog it has, with the changes applied since (POST /admin/v1/catalog):
// the files are the bulk source, the admin API syncs increments on top
// until the files themselves change.
std::string catalog_key(const config::RetrievalSettings& r) {
  std::string key = std::to_string(r.max_documents);
  for (const auto& l : r.classifications) key += '\n' + l;
  for (const auto& f : r.documents) key += '\n' + file_stamp(f);
  return key;
}

Result<std::shared_ptr<data::CatalogHolder>> load_document_catalog(const config::RetrievalSettings& r) {
  static std::mutex mu;
  static std::string last_key;
  static std::shared_ptr<data::CatalogHolder> last;
  std::lock_guard lock(mu);
  std::string key = catalog_key(r);
  if (last && key == last_key) return last;
  auto scale = data::ClassificationScale::make(r.classifications);
  if (!scale) return make_error("config_invalid", "retrieval.classifications: " + scale.error().message);
  data::CatalogLimits limits;
  limits.max_documents = static_cast<size_t>(r.max_documents);
  auto catalog = data::load_catalog(r.documents, std::move(*scale), limits);
  if (!catalog) return make_error("config_invalid", "retrieval.documents: " + catalog.error().message);
  last_key = std::move(key);
  last = std::make_shared<data::CatalogHolder>(std::move(*catalog));
  return last;
}

}  // namespace

Result<std::shared_ptr<const Snapshot>> load_snapshot(config::GatewayConfig config, uint64_t version) {
  auto s = std::make_shared<Snapshot>();
  if (!config.policies) return make_error("config_invalid", "the gateway needs a `policies` section");
  auto bundle = config::load_policy_bundle(*config.policies);
  if (!bundle) return bundle.error();
  // Obligation annotations are checked when policies load, not on the first
  // request that happens to hit them.
  if (auto ok = validate_obligations(*bundle->policies); !ok) return ok.error();
  s->bundle = std::move(*bundle);
  s->authorizer = std::make_shared<const cedar::Authorizer>(s->bundle.policies);
  s->context_paths = context_paths(*s->bundle.policies);
  s->version = version;
  // Every reload re-reads policies and entities, so both versions move with
  // it: the decision cache can never serve a decision from before.
  s->versions = Versions{version, version, 0};
  auto identity = config::IdentityRuntime::open(config.identity);
  if (!identity) return identity.error();
  s->identity = std::move(*identity);
  std::vector<posture::ModelConfig> managed;
  for (const auto& m : config.identity.models)
    if (m.integrity_managed()) managed.push_back(m);
  s->models = std::make_shared<posture::ModelRegistry>(std::move(managed));
  s->models->verify_all();
  if (config.inspection.enabled) {
    auto detector = load_detector(config.inspection);
    if (!detector) return detector.error();
    s->injection = std::move(*detector);
  }
  auto dlp = load_dlp_runtime(config);
  if (!dlp) return dlp.error();
  s->dlp = std::move(*dlp);
  auto catalog = load_document_catalog(config.retrieval);
  if (!catalog) return catalog.error();
  s->catalog = std::move(*catalog);
  s->config = std::move(config);
  release_free_heap();
  return std::shared_ptr<const Snapshot>(std::move(s));
}

}  // namespace ztgate::pipeline
