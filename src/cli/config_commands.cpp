// `ztgate config check`: load ztgate.yaml and everything it names, report
// every problem with file and line, start nothing.
#include <iostream>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "config/gateway_config.h"
#include "config/identity_runtime.h"
#include "data/catalog_jsonl.h"
#include "pipeline/obligations.h"

namespace ztgate::cli {
namespace {

int run_check(const std::string& path) {
  auto config = config::load_gateway_config(path);
  if (!config) return fail(config.error(), false);
  size_t policy_count = 0, entity_count = 0;
  if (config->policies) {
    auto bundle = config::load_policy_bundle(*config->policies);
    if (!bundle) return fail(bundle.error(), false);
    for (const auto& w : bundle->warnings) std::cout << "warning: " << w << "\n";
    // Obligation annotations the gateway could not honour are refused at load.
    if (auto st = pipeline::validate_obligations(*bundle->policies); !st) return fail(st.error(), false);
    policy_count = bundle->policies->policies().size();
    entity_count = bundle->entities->size();
  }
  // The identity pillar as the gateway would assemble it: issuers' key
  // sources, CA bundles, the delegation signing key, the stores.
  auto identity = config::IdentityRuntime::open(config->identity);
  if (!identity) return fail(identity.error(), false);
  // The document catalog (retrieval.documents): every line parsed and applied.
  size_t documents = 0;
  if (!config->retrieval.documents.empty()) {
    auto scale = data::ClassificationScale::make(config->retrieval.classifications);
    if (!scale) return fail(scale.error(), false);
    data::CatalogLimits limits;
    limits.max_documents = static_cast<size_t>(config->retrieval.max_documents);
    auto catalog = data::load_catalog(config->retrieval.documents, std::move(*scale), limits);
    if (!catalog) return fail(catalog.error(), false);
    documents = catalog->documents();
  }
  std::cout << path << ": ok — " << config->identity.issuers.size() << " issuer(s), "
            << config->identity.agents.size() << " agent(s), " << config->identity.models.size() << " model(s), "
            << policy_count << " polic" << (policy_count == 1 ? "y" : "ies") << ", " << entity_count
            << " entities\n";
  if (!config->retrieval.documents.empty()) std::cout << "retrieval catalog: " << documents << " documents\n";
  return kExitOk;
}

}  // namespace

void add_config_commands(CLI::App& app, int& exit_code) {
  auto* config = app.add_subcommand("config", "The configuration file");
  config->require_subcommand(1);
  auto path = std::make_shared<std::string>("ztgate.yaml");
  auto* check = config->add_subcommand(
      "check", "Validate ztgate.yaml and every file it names (policies against the schema, entities,\n"
               "keys, CA bundles) without starting anything. Exit 0 ok, 1 with every problem listed.");
  check->add_option("--config", *path, "ztgate.yaml")->capture_default_str();
  check->callback([path, &exit_code] { exit_code = run_check(*path); });
}

}  // namespace ztgate::cli
