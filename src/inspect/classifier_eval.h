// Evaluation of the injection classifier on a labelled dataset: reading the
// JSONL format of ../shared/datasets/injection (SOURCES.md) and the metrics
// `ztgate inspect eval` prints.
//
// Dataset rows are JSON objects, one per line: "text" (string), "label" (0
// benign, 1 attack), "kind" (direct, indirect, jailbreak, benign,
// benign_hard), "source" (string) and optionally "channel" (a channel_name).
// The shared dataset has no channel: labels describe the text, not where it
// arrived. Without one, a row's channel is a proxy derived from its kind and
// source (proxy_channel below), which is what per-channel calibration and
// per-channel figures rest on; docs/DETECTION.md says what that can and
// cannot tell.
//
// Metrics: ROC AUC is the Mann-Whitney probability that a random positive
// scores above a random negative (ties count half). TPR at a false-positive
// budget uses the best logit threshold whose FPR on the negatives is within
// the budget. Per kind, a positive kind is measured against all negatives
// and a negative kind against all positives, so every kind has an AUC.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "inspect/channel.h"

namespace ztgate::inspect {

struct DatasetRow {
  std::string text;
  bool injection = false;
  std::string kind;    // direct, indirect, jailbreak, benign, benign_hard, or ""
  std::string source;  // may be ""
  Channel channel = Channel::user_prompt;
  bool channel_given = false;  // "channel" was in the row (else a proxy)
};

struct DatasetLimits {
  size_t max_file_bytes = size_t{512} << 20;
  size_t max_rows = 1'000'000;
  size_t max_text_bytes = size_t{4} << 20;
};

// Errors: "io_error", "parse_error" (with the line number: not JSON, a
// missing or mistyped field, a label other than 0/1, an unknown channel),
// "too_large" (a limit exceeded).
Result<std::vector<DatasetRow>> read_dataset(const std::string& path,
                                             const DatasetLimits& limits = {});

// The channel a row of the shared dataset most plausibly arrived on:
// direct and jailbreak -> user_prompt; garak (whole prompts with a document
// inside, injected or clean) -> user_prompt; indirect -> tool_output for
// AgentDojo (tool results), retrieved_doc otherwise (BIPIA emails, tables and
// code, CyberSecEval indirect); benign rows by source: BIPIA contexts ->
// retrieved_doc, AgentDojo environment records -> tool_output,
// GPTeacher "toolformer:" tool specs -> tool_description, anything else
// (questions, instructions, role prompts, system prompts) -> user_prompt.
Channel proxy_channel(const std::string& kind, const std::string& source, const std::string& text);

// One scored row.
struct ScoredRow {
  float logit = 0.0f;    // what rows are ranked by: the channel-calibrated log-odds
  bool flagged = false;  // at the model's channel threshold
  bool injection = false;
  std::string kind;
  Channel channel = Channel::user_prompt;
};

struct Confusion {
  size_t tp = 0, fn = 0, fp = 0, tn = 0;
};

struct GroupMetrics {
  std::string name;
  size_t positives = 0;
  size_t negatives = 0;
  Confusion at_threshold;     // with the channel thresholds stored in the model
  std::optional<double> auc;  // when the group (or its comparison set) has both classes
};

// ROC AUC of positive scores against negative scores; nullopt if either is empty.
std::optional<double> roc_auc(const std::vector<float>& positives,
                              const std::vector<float>& negatives);

struct OperatingPoint {
  float threshold = 0.0f;  // flagged when logit >= threshold
  double tpr = 0.0;
  double fpr = 0.0;
};
// The threshold with the highest TPR whose FPR is at most max_fpr.
OperatingPoint best_tpr_at_fpr(const std::vector<float>& positives,
                               const std::vector<float>& negatives, double max_fpr);

struct EvalReport {
  size_t rows = 0;
  GroupMetrics overall;
  std::vector<GroupMetrics> by_kind;     // in order of first appearance
  std::vector<GroupMetrics> by_channel;  // in Channel order, channels with rows
  OperatingPoint at_1pct;                // channel-blind, on all negatives
  std::vector<std::pair<std::string, double>> kind_rate_at_1pct;  // TPR or FPR per kind there
};

EvalReport evaluate(const std::vector<ScoredRow>& rows);
// The report as aligned text tables.
std::string format_report(const EvalReport& report);

}  // namespace ztgate::inspect
