#include "inspect/injection.h"

#include <algorithm>
#include <cmath>

#include "inspect/rule_score.h"

namespace ztgate::inspect {

namespace json = boost::json;

Result<std::shared_ptr<const InjectionDetector>> InjectionDetector::load(const InjectionOptions& options) {
  auto rules = load_rule_set(options.rules_dir, options.cache_dir);
  if (!rules) return rules.error();
  auto model = InjectionModel::load(options.model_path);
  if (!model) return model.error();
  return std::make_shared<const InjectionDetector>(std::move(*rules), std::move(*model), options);
}

InjectionDetector::InjectionDetector(RuleSet rules, InjectionModel model, InjectionOptions options)
    : rules_(std::move(rules)), model_(std::move(model)), options_(std::move(options)) {}

Result<InjectionVerdict> InjectionDetector::inspect(std::string_view text, Channel channel) const {
  auto normalized = normalize(text, options_.normalize);
  if (!normalized) return normalized.error();
  return inspect(*normalized, channel);
}

Result<InjectionVerdict> InjectionDetector::inspect(const Normalized& text, Channel channel) const {
  auto scan = rules_.scan(text, options_.scan);
  if (!scan) return scan.error();
  RuleScore rules = score(scan->findings);
  Score model = model_.score(text, channel);

  InjectionVerdict v;
  v.rule_score = rules.score;
  v.model_score = static_cast<int>(std::lround(std::clamp(model.value, 0.0f, 100.0f)));
  v.threshold = static_cast<int>(std::lround(model.threshold));
  const double miss = (1.0 - v.rule_score / 100.0) * (1.0 - std::clamp(model.value, 0.0f, 100.0f) / 100.0);
  v.score = static_cast<int>(std::lround(100.0 * (1.0 - miss)));
  v.flagged = model.flagged || v.rule_score >= options_.rule_threshold;
  for (const CategoryScore& c : rules.categories) v.categories.emplace_back(rule_category_name(c.category));
  std::sort(v.categories.begin(), v.categories.end());
  v.rule_ids = std::move(rules.rule_ids);
  for (const RuleFinding& f : scan->findings)
    v.spans.push_back({f.rule_id, std::string(rule_category_name(f.category)), std::string(view_kind_name(f.view)),
                       f.input.begin, f.input.end});
  v.hidden = text.flags;
  v.truncated = scan->truncated;
  return v;
}

json::object verdict_context(const InjectionVerdict& v) {
  json::array categories, rule_ids;
  for (const auto& c : v.categories) categories.emplace_back(c);
  for (const auto& r : v.rule_ids) rule_ids.emplace_back(r);
  return json::object{{"score", v.score},
                      {"flagged", v.flagged},
                      {"rule_score", v.rule_score},
                      {"model_score", v.model_score},
                      {"categories", std::move(categories)},
                      {"rule_ids", std::move(rule_ids)},
                      {"hidden_text", v.hidden.suspicious()}};
}

}  // namespace ztgate::inspect
