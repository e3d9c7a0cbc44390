// `ztgate docs ingest`: a folder of documents with metadata sidecars into
// the retrieval proxy's index and the catalog file the gateway loads
// (data/doc_ingest.h, docs/RETRIEVAL.md "Ingest").
#include <iostream>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "config/gateway_config.h"
#include "data/doc_ingest.h"

namespace ztgate::cli {
namespace {

int run_ingest(const std::string& config_path, const std::string& from, bool as_json) {
  auto config = config::load_gateway_config(config_path);
  if (!config) return fail(config.error(), as_json);
  const auto& r = config->retrieval;
  if (r.search.index.empty())
    return fail(make_error("config_invalid", "retrieval.search.index names no folder for the index"), as_json);
  auto scale = data::ClassificationScale::make(r.classifications);
  if (!scale) return fail(scale.error(), as_json);
  data::IngestOptions options;
  options.from = from;
  options.index_dir = r.search.index;
  options.max_document_bytes = static_cast<size_t>(r.search.max_document_bytes);
  options.scale = std::move(*scale);
  auto report = data::ingest_folder(options);
  if (!report) return fail(report.error(), as_json);
  if (as_json) {
    boost::json::array refused;
    for (const auto& s : report->refused) refused.emplace_back(s);
    boost::json::object out{{"documents", report->documents}, {"added", report->added},
                            {"updated", report->updated},     {"unchanged", report->unchanged},
                            {"removed", report->removed},     {"ignored", report->ignored},
                            {"refused", std::move(refused)},  {"catalog_written", report->catalog_written},
                            {"index", r.search.index + "/index.db"}, {"catalog", r.search.index + "/catalog.jsonl"}};
    std::cout << boost::json::serialize(out) << "\n";
  } else {
    std::cout << "indexed " << report->documents << " document(s) in " << r.search.index << "/index.db: " << report->added
              << " added, " << report->updated << " updated, " << report->unchanged << " unchanged, " << report->removed
              << " removed, " << report->ignored << " other file(s) ignored\n"
              << "catalog " << r.search.index << "/catalog.jsonl " << (report->catalog_written ? "written" : "unchanged")
              << "\n";
    for (const auto& s : report->refused) std::cerr << "refused: " << s << "\n";
  }
  // Refused files are not in the index; the exit code says some were left out.
  return report->refused.empty() ? kExitOk : kExitRefused;
}

}  // namespace

void add_docs_commands(CLI::App& app, int& exit_code) {
  auto* docs = app.add_subcommand("docs", "Documents for the retrieval proxy (POST /v1/retrieval/search)");
  docs->require_subcommand(1);
  auto config = std::make_shared<std::string>("ztgate.yaml");
  auto from = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto* ingest = docs->add_subcommand(
      "ingest", "Index a folder of .txt/.md/.html files, each with a <file>.meta.json sidecar (owner, readers,\n"
                "classification, tenant...), into retrieval.search.index, and write the documents' catalog lines\n"
                "to <index>/catalog.jsonl. Re-ingest updates changed and removes deleted files. Exit 0 ok,\n"
                "1 on error, 2 when some files were refused (listed; the others are indexed).");
  ingest->add_option("--config", *config, "ztgate.yaml")->capture_default_str();
  ingest->add_option("--from", *from, "the folder of documents")->required();
  ingest->add_flag("--json", *as_json, "print the report as JSON");
  ingest->callback([config, from, as_json, &exit_code] { exit_code = run_ingest(*config, *from, *as_json); });
}

}  // namespace ztgate::cli
