// The rule layer's verdict on one text: a score from 0 to 100, per category
// and overall, from the findings of RuleSet::scan().
//
// A rule's weight w (1-100) reads as "a text matching this rule alone is an
// attack with confidence w%". Independent pieces of evidence combine like a
// noisy OR:
//
//   category score = 100 * (1 - prod over distinct rules r of the category (1 - w_r / 100))
//   overall score  = 100 * (1 - prod over categories c (1 - score_c / 100))
//
// so a score never falls when a finding is added, never exceeds 100, one
// rule counts once however often (and in however many views) it matched,
// and two weak rules of different families (say 40 and 40) give 64: more
// than either, less than a strong rule alone. Scores are rounded to whole
// numbers. This is the rule layer alone; the classifier's score is combined
// with it elsewhere.
#pragma once

#include <string>
#include <vector>

#include "inspect/rules.h"

namespace ztgate::inspect {

struct CategoryScore {
  RuleCategory category = RuleCategory::instruction_override;
  int score = 0;  // 1..100
};

struct RuleScore {
  int score = 0;                          // 0..100
  std::vector<CategoryScore> categories;  // those with findings, in enum order
  std::vector<std::string> rule_ids;      // distinct, sorted
};

RuleScore score(const std::vector<RuleFinding>& findings);

}  // namespace ztgate::inspect
