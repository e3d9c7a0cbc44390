#include "inspect/rule_score.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace ztgate::inspect {

RuleScore score(const std::vector<RuleFinding>& findings) {
  RuleScore out;
  // Distinct rules, each with its category and weight.
  std::vector<const RuleFinding*> distinct;
  for (const RuleFinding& f : findings) {
    if (std::none_of(distinct.begin(), distinct.end(),
                     [&](const RuleFinding* d) { return d->rule_id == f.rule_id; }))
      distinct.push_back(&f);
  }
  std::array<double, kRuleCategoryCount>
      miss{};  // probability that no rule of the category is right
  miss.fill(1.0);
  std::array<bool, kRuleCategoryCount> seen{};
  for (const RuleFinding* f : distinct) {
    const auto c = static_cast<size_t>(f->category);
    if (c >= kRuleCategoryCount) continue;
    miss[c] *= 1.0 - std::clamp(f->weight, 0, 100) / 100.0;
    seen[c] = true;
    out.rule_ids.push_back(f->rule_id);
  }
  std::sort(out.rule_ids.begin(), out.rule_ids.end());
  double all_miss = 1.0;
  for (size_t c = 0; c < kRuleCategoryCount; ++c) {
    if (!seen[c]) continue;
    const int s = static_cast<int>(std::lround(100.0 * (1.0 - miss[c])));
    out.categories.push_back(CategoryScore{static_cast<RuleCategory>(c), std::max(s, 1)});
    all_miss *= miss[c];
  }
  out.score = static_cast<int>(std::lround(100.0 * (1.0 - all_miss)));
  if (!out.categories.empty()) out.score = std::max(out.score, 1);
  return out;
}

}  // namespace ztgate::inspect
