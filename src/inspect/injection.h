// The injection detector: normalization, the rule layer and the classifier
// combined into one verdict per text and channel, the thing the pipeline's
// inspection stage and `ztgate inspect scan` call.
//
//   score    = 100 * (1 - (1 - rules/100) * (1 - model/100))   (noisy OR)
//   flagged  = model >= the channel's threshold (model file)
//              or rules >= rule_threshold
//
// The two layers are independent evidence: a strong rule (an exact
// "ignore all previous instructions") flags on its own; the classifier
// catches paraphrases no rule names. Policy reads `score` and `flagged`
// per channel (context.content.injection, docs/POLICY_GUIDE.md), so the
// action (block, approval, spotlighting) is Cedar's, not this module's.
//
// Thread-safe and immutable after load(); inspect() keeps no state.
#pragma once

#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "inspect/channel.h"
#include "inspect/classifier.h"
#include "inspect/normalize.h"
#include "inspect/rules.h"

namespace ztgate::inspect {

struct InjectionOptions {
  std::string rules_dir;   // rules/injection
  std::string model_path;  // models/injection.bin
  std::string cache_dir;   // compiled rule databases (RuleSet::compile); "" = none
  int rule_threshold = 60;  // a rule score this high flags by itself
  NormalizeOptions normalize;
  RuleScanOptions scan;
};

// Where a finding sits in the inspected text (bytes of the input).
struct InjectionSpan {
  std::string rule_id;
  std::string category;
  std::string view;  // "normalized", "base64", ... where it matched
  size_t begin = 0;
  size_t end = 0;
};

struct InjectionVerdict {
  int score = 0;         // 0..100, the combined score
  int threshold = 0;     // the channel's model threshold (for display)
  bool flagged = false;  // see the header comment
  int rule_score = 0;    // 0..100
  int model_score = 0;   // 0..100, calibrated for the channel
  std::vector<std::string> categories;  // rule categories with findings, sorted
  std::vector<std::string> rule_ids;    // distinct, sorted
  std::vector<InjectionSpan> spans;     // for people tuning rules (scan command)
  Flags hidden;                         // what normalization removed or decoded
  bool truncated = false;               // the scan stopped at max_findings
};

class InjectionDetector {
 public:
  // Compiles the rule pack and reads the model. Errors: those of
  // load_rule_set() and InjectionModel::load().
  static Result<std::shared_ptr<const InjectionDetector>> load(const InjectionOptions& options);
  // From parts already loaded (tests, the trainer).
  InjectionDetector(RuleSet rules, InjectionModel model, InjectionOptions options);

  // The verdict on one text. Errors ("input_too_large", "scan_failed"): the
  // caller fails closed.
  Result<InjectionVerdict> inspect(std::string_view text, Channel channel) const;
  // The same on a text already normalized.
  Result<InjectionVerdict> inspect(const Normalized& text, Channel channel) const;

  const RuleSet& rules() const { return rules_; }
  const InjectionModel& model() const { return model_; }
  const InjectionOptions& options() const { return options_; }

 private:
  RuleSet rules_;
  InjectionModel model_;
  InjectionOptions options_;
};

// {score, flagged, rule_score, model_score, categories, rule_ids, hidden_text}
// as Cedar-ready JSON (no spans: those are for people, not policy).
boost::json::object verdict_context(const InjectionVerdict& v);

}  // namespace ztgate::inspect
