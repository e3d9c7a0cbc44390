// check_rule_examples(): every rule's inline tests, through the real path.
#include <algorithm>

#include "inspect/rules.h"

namespace ztgate::inspect {
namespace {

bool found(const RuleScan& scan, const std::string& id) {
  return std::any_of(scan.findings.begin(), scan.findings.end(),
                     [&](const RuleFinding& f) { return f.rule_id == id; });
}

}  // namespace

std::vector<Error> check_rule_examples(const RuleSet& rules) {
  std::vector<Error> errors;
  RuleScanOptions options;
  options.max_findings = 1024;  // an example may trip many rules: see them all
  for (const Rule& rule : rules.rules()) {
    const std::string where =
        rule.file + ":" + std::to_string(rule.line) + ": rule " + rule.id + ": ";
    auto check = [&](const std::vector<std::string>& examples, bool want, const char* list) {
      for (size_t i = 0; i < examples.size(); ++i) {
        const std::string what = std::string(list) + " example " + std::to_string(i + 1) + " ";
        auto normalized = normalize(examples[i]);
        if (!normalized.ok()) {
          errors.push_back(make_error("rule_example_failed",
                                      where + what + normalized.error().message,
                                      SourceLoc{rule.line, 0}));
          continue;
        }
        auto scan = rules.scan(*normalized, options);
        if (!scan.ok()) {
          errors.push_back(make_error("rule_example_failed", where + what + scan.error().message,
                                      SourceLoc{rule.line, 0}));
        } else if (found(*scan, rule.id) != want) {
          errors.push_back(
              make_error("rule_example_failed",
                         where + what + (want ? "did not match: " : "matched: ") + examples[i],
                         SourceLoc{rule.line, 0}));
        }
      }
    };
    check(rule.must_match, true, "must_match");
    check(rule.must_not_match, false, "must_not_match");
  }
  return errors;
}

}  // namespace ztgate::inspect
