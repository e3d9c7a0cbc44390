// `ztgate inspect train|eval`: the injection classifier's training and
// evaluation (src/inspect/classifier*.h).
//
//   ztgate inspect train --data train.jsonl --dev dev.jsonl --out models/injection.bin [--seed 42]
//   ztgate inspect eval DATASET.jsonl [--model models/injection.bin] [--rules rules/injection]
//   ztgate inspect scan [FILE|-] [--channel tool_output] [--json] [--rules DIR] [--model FILE]
//
// train: normalizes every text (src/inspect/normalize.h), trains on --data,
// then, with --dev, scores the dev rows and stores per-channel calibration
// and thresholds (FPR <= --max-fpr on dev negatives) in the model file. The
// same data, options and seed give the same file, byte for byte.
// eval: per-kind and per-channel TPR, FPR, precision, ROC AUC and the
// confusion matrix at the model's thresholds, and TPR at <= 1% FPR.
// scan: the detector's verdict on one text (the whole file, or stdin) as
// the gateway computes it: combined score, flag, rule and model scores,
// categories, and each rule finding with its byte span in the input and
// the view it matched in, for people tuning rules. Exit 0 not flagged, 2
// flagged.
// Exit codes: 0 done, 1 usage, I/O or data error.
#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <cmath>
#include <algorithm>
#include <iterator>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "inspect/classifier.h"
#include "inspect/classifier_eval.h"
#include "inspect/classifier_train.h"
#include "inspect/injection.h"
#include "inspect/normalize.h"

namespace ztgate::cli {
namespace {

using namespace ztgate::inspect;

struct TrainArgs {
  std::string data;
  std::string dev;
  std::string out = "models/injection.bin";
  uint64_t seed = 42;
  double max_fpr = 0.01;
  float doc_negative_weight = 2.0f;
  TrainOptions options;
};

struct EvalArgs {
  std::string dataset;
  std::string model = "models/injection.bin";
  std::string scores;  // optional: one line per row, "logit value flagged"
  std::string rules;   // optional: evaluate the combined detector with this rule pack
  int rule_threshold = 60;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Rows of a dataset file with their normalized texts.
struct NormalizedRow {
  DatasetRow row;
  Normalized text;
};

Result<std::vector<NormalizedRow>> load_normalized(const std::string& path) {
  Result<std::vector<DatasetRow>> rows = read_dataset(path);
  if (!rows) return rows.error();
  std::vector<NormalizedRow> out;
  out.reserve(rows->size());
  for (DatasetRow& r : *rows) {
    Result<Normalized> n = normalize(r.text);
    if (!n) return n.error();
    out.push_back(NormalizedRow{std::move(r), std::move(n.value())});
  }
  return out;
}

int run_train(TrainArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  Result<std::vector<NormalizedRow>> data = load_normalized(a.data);
  if (!data) return fail(data.error(), false);
  std::vector<TrainExample> examples;
  examples.reserve(data->size());
  for (NormalizedRow& r : *data) {
    const bool doc = r.row.channel == Channel::retrieved_doc || r.row.channel == Channel::tool_output;
    examples.push_back(TrainExample{r.text.text().text, r.row.injection, r.row.channel,
                                    doc && !r.row.injection ? a.doc_negative_weight : 1.0f});
  }
  data->clear();
  a.options.seed = a.seed;
  Result<InjectionModel> model = train_injection_model(examples, a.options);
  if (!model) return fail(model.error(), false);
  std::cerr << "trained on " << examples.size() << " rows in " << seconds_since(t0) << " s\n";

  if (!a.dev.empty()) {
    Result<std::vector<NormalizedRow>> dev = load_normalized(a.dev);
    if (!dev) return fail(dev.error(), false);
    std::vector<CalibrationExample> cal;
    for (const NormalizedRow& r : *dev) {
      cal.push_back(CalibrationExample{model->score(r.text, r.row.channel).logit, r.row.injection,
                                       r.row.channel});
    }
    Result<std::vector<ChannelFit>> fits = calibrate_injection_model(*model, cal, a.max_fpr);
    if (!fits) return fail(fits.error(), false);
    std::cout << "calibration on " << cal.size() << " dev rows (FPR <= " << a.max_fpr << "):\n";
    for (const ChannelFit& f : *fits) {
      std::printf(
          "  %-16s pos %5zu neg %5zu  slope %8.4f intercept %8.4f (%s)  threshold %6.2f (%s)\n",
          std::string(channel_name(f.channel)).c_str(), f.positives, f.negatives,
          static_cast<double>(f.calibration.slope), static_cast<double>(f.calibration.intercept),
          f.own_scaling ? "own" : "all rows", static_cast<double>(f.calibration.threshold),
          f.own_threshold ? "own negatives" : "all negatives");
    }
    std::fflush(stdout);
  } else {
    std::cerr << "warning: no --dev: the model keeps the default calibration (threshold 50)\n";
  }
  if (Status s = model->save(a.out); !s) return fail(s.error(), false);
  std::cout << "wrote " << a.out << " (" << model->serialize().size() << " bytes)\n";
  return kExitOk;
}

int run_eval(const EvalArgs& a) {
  Result<InjectionModel> model = InjectionModel::load(a.model);
  if (!model) return fail(model.error(), false);
  Result<std::vector<NormalizedRow>> data = load_normalized(a.dataset);
  if (!data) return fail(data.error(), false);
  // With --rules: the combined detector (injection.h): ranked by the
  // log-odds of 1 - (1 - rules)(1 - model), flagged as the gateway flags.
  std::optional<InjectionDetector> combined;
  if (!a.rules.empty()) {
    auto rules = load_rule_set(a.rules);
    if (!rules) return fail(rules.error(), false);
    InjectionOptions o;
    o.rule_threshold = a.rule_threshold;
    combined.emplace(std::move(*rules), *model, o);
  }
  std::vector<ScoredRow> scored;
  scored.reserve(data->size());
  for (const NormalizedRow& r : *data) {
    // Rows of different channels are ranked together by their calibrated
    // log-odds: raw logits of different channels are not on one scale.
    const Score s = model->score(r.text, r.row.channel);
    const ChannelCalibration& c = model->params().calibration[static_cast<size_t>(r.row.channel)];
    float log_odds = c.slope * s.logit + c.intercept;
    bool flagged = s.flagged;
    if (combined) {
      auto v = combined->inspect(r.text, r.row.channel);
      if (!v) return fail(v.error(), false);
      const double p_model = 1.0 / (1.0 + std::exp(-static_cast<double>(log_odds)));
      const double p = std::clamp(1.0 - (1.0 - v->rule_score / 100.0) * (1.0 - p_model), 1e-12, 1.0 - 1e-12);
      log_odds = static_cast<float>(std::log(p / (1.0 - p)));
      flagged = v->flagged;
    }
    scored.push_back(ScoredRow{log_odds, flagged, r.row.injection, r.row.kind, r.row.channel});
  }
  if (!a.scores.empty()) {
    std::string lines;
    for (const ScoredRow& s : scored) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.6f %d\n", static_cast<double>(s.logit), s.flagged ? 1 : 0);
      lines += buf;
    }
    std::ofstream out(a.scores, std::ios::binary | std::ios::trunc);
    out << lines;
    if (!out) return fail(make_error("io_error", "cannot write " + a.scores), false);
  }
  std::cout << format_report(evaluate(scored));
  return kExitOk;
}

struct ScanArgs {
  std::string file = "-";
  std::string channel = "user_prompt";
  std::string rules = "rules/injection";
  std::string model = "models/injection.bin";
  bool json = false;
};

int run_scan(const ScanArgs& a) {
  auto channel = parse_channel(a.channel);
  if (!channel) return fail(make_error("usage", "unknown channel `" + a.channel + "`"), a.json, kExitError);
  std::string text;
  if (a.file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(a.file, std::ios::binary);
    if (!in) return fail(make_error("io_error", "cannot read " + a.file), a.json, kExitError);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  InjectionOptions o;
  o.rules_dir = a.rules;
  o.model_path = a.model;
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home == '/') o.cache_dir = std::string(home) + "/.cache/ztgate";
  auto detector = InjectionDetector::load(o);
  if (!detector) return fail(detector.error(), a.json, kExitError);
  auto v = (*detector)->inspect(text, *channel);
  if (!v) return fail(v.error(), a.json, kExitError);
  if (a.json) {
    boost::json::object out = verdict_context(*v);
    out["channel"] = a.channel;
    boost::json::array spans;
    for (const auto& s : v->spans)
      spans.push_back(boost::json::object{{"rule_id", s.rule_id}, {"category", s.category}, {"view", s.view},
                                          {"begin", s.begin}, {"end", s.end}});
    out["spans"] = std::move(spans);
    std::cout << boost::json::serialize(out) << "\n";
  } else {
    std::cout << "channel      " << a.channel << "\n"
              << "score        " << v->score << (v->flagged ? "  FLAGGED" : "  not flagged") << " (model threshold "
              << v->threshold << ", rule threshold " << o.rule_threshold << ")\n"
              << "rules        " << v->rule_score << "\n"
              << "model        " << v->model_score << "\n";
    std::string cats;
    for (const auto& c : v->categories) cats += (cats.empty() ? "" : ", ") + c;
    std::cout << "categories   " << (cats.empty() ? "-" : cats) << "\n"
              << "hidden text  " << (v->hidden.suspicious() ? "yes" : "no") << "\n";
    for (const auto& s : v->spans) {
      std::string excerpt = text.substr(s.begin, std::min<size_t>(s.end - s.begin, 80));
      for (char& c : excerpt)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
      std::cout << "  " << s.rule_id << " [" << s.category << "] bytes " << s.begin << ".." << s.end << " in " << s.view
                << ": " << excerpt << (s.end - s.begin > 80 ? "..." : "") << "\n";
    }
  }
  return v->flagged ? kExitRefused : kExitOk;
}

}  // namespace

void add_inspect_commands(CLI::App& app, int& exit_code) {
  auto* inspect = app.add_subcommand("inspect", "Content inspection: the injection classifier");
  inspect->require_subcommand(1);

  auto* train =
      inspect->add_subcommand("train", "Train the injection classifier (reproducible: fixed seed)");
  auto t = std::make_shared<TrainArgs>();
  train->add_option("--data", t->data, "training rows (JSONL: text, label, kind, source)")
      ->required();
  train->add_option("--dev", t->dev, "dev rows for per-channel calibration and thresholds");
  train->add_option("--out", t->out, "model file to write")->capture_default_str();
  train->add_option("--seed", t->seed, "seed of the example order")->capture_default_str();
  train->add_option("--max-fpr", t->max_fpr, "false-positive budget of the thresholds on dev")
      ->capture_default_str();
  train
      ->add_option("--doc-negative-weight", t->doc_negative_weight,
                   "weight of benign documents and tool results (rare in the data)")
      ->capture_default_str();
  TrainOptions& o = t->options;
  train->add_option("--epochs", o.epochs, "passes over the data")->capture_default_str();
  train->add_option("--runs", o.runs, "training runs (seed, seed+1, ...) whose weights are averaged")
      ->capture_default_str();
  train->add_option("--lr", o.learning_rate, "initial learning rate")->capture_default_str();
  train->add_option("--l2", o.l2, "weight decay")->capture_default_str();
  train->add_option("--bits", o.features.bucket_bits, "log2 of the number of weights")
      ->capture_default_str();
  train->add_option("--char-min", o.features.char_min, "shortest byte n-gram (0: none)")
      ->capture_default_str();
  train->add_option("--char-max", o.features.char_max, "longest byte n-gram")
      ->capture_default_str();
  train->add_option("--word-ngrams", o.features.word_ngrams, "0, 1 (words) or 2 (and word pairs)")
      ->capture_default_str();
  train->add_option("--window", o.features.window_bytes, "longer texts are scored per window")
      ->capture_default_str();
  train
      ->add_option("--channel-features", o.features.channel_features,
                   "1: features also per channel group, 0: channel-blind")
      ->capture_default_str();
  train->add_option("--lines", o.features.line_instances, "1: lines are scored on their own too")
      ->capture_default_str();
  train->callback([t, &exit_code] { exit_code = run_train(*t); });

  auto* eval = inspect->add_subcommand(
      "eval", "Evaluate the injection classifier on a labelled JSONL dataset");
  auto e = std::make_shared<EvalArgs>();
  eval->add_option("dataset", e->dataset, "rows (JSONL: text, label, kind, source[, channel])")
      ->required();
  eval->add_option("--model", e->model, "model file")->capture_default_str();
  eval->add_option("--scores", e->scores, "also write each row's logit and flag, one line per row");
  eval->add_option("--rules", e->rules, "evaluate the combined detector (this rule pack + the model)");
  eval->add_option("--rule-threshold", e->rule_threshold, "with --rules: a rule score this high flags")
      ->capture_default_str();
  eval->callback([e, &exit_code] { exit_code = run_eval(*e); });

  auto* scan = inspect->add_subcommand("scan", "Show the injection detector's verdict and findings on a text");
  auto sc = std::make_shared<ScanArgs>();
  scan->add_option("file", sc->file, "the text (default: stdin)")->capture_default_str();
  scan->add_option("--channel", sc->channel, "user_prompt, retrieved_doc, tool_output or tool_description")
      ->capture_default_str();
  scan->add_option("--rules", sc->rules, "rule pack directory")->capture_default_str();
  scan->add_option("--model", sc->model, "model file")->capture_default_str();
  scan->add_flag("--json", sc->json, "one JSON object");
  scan->callback([sc, &exit_code] { exit_code = run_scan(*sc); });
}

}  // namespace ztgate::cli
