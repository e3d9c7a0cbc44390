// check_dlp_rule_examples(): every DLP rule's inline tests, each rule
// compiled alone (a stronger overlapping rule cannot hide its findings).
#include <algorithm>

#include "inspect/dlp.h"
#include "inspect/dlp_rules.h"

namespace ztgate::inspect {

std::vector<Error> check_dlp_rule_examples(const std::vector<DlpRule>& rules) {
  std::vector<Error> errors;
  for (const DlpRule& rule : rules) {
    const std::string where =
        rule.file + ":" + std::to_string(rule.line) + ": rule " + rule.id + ": ";
    auto scanner = DlpScanner::compile({rule}, DlpOptions{});
    if (!scanner.ok()) {
      errors.push_back(scanner.error());
      continue;
    }
    auto check = [&](const std::vector<std::string>& examples, bool want, const char* list) {
      for (size_t i = 0; i < examples.size(); ++i) {
        const auto findings = scanner->scan(examples[i]);
        const bool found = std::any_of(findings.begin(), findings.end(),
                                       [&](const DlpFinding& f) { return f.rule_id == rule.id; });
        if (found != want)
          errors.push_back(make_error(
              "rule_example_failed",
              where + list + " example " + std::to_string(i + 1) +
                  (want ? " did not match: " : " matched: ") + examples[i],
              SourceLoc{rule.line, 0}));
      }
    };
    check(rule.must_match, true, "must_match");
    check(rule.must_not_match, false, "must_not_match");
  }
  return errors;
}

}  // namespace ztgate::inspect
