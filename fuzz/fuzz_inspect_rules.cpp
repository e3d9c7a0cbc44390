// Fuzz target: the injection rule layer (src/inspect/rules.h): the rule-file
// parser, the compiler, and scanning arbitrary text with the shipped pack.
//
// The first byte picks the mode; the rest is the input.
//   even: the input is a rule file. parse_rule_file() never crashes and
//         either refuses it with "<file>:..." or returns rules within every
//         bound (id syntax, weight 1-100, pattern and example sizes, example
//         count). A small accepted file (at most 4 rules, patterns of at most
//         48 bytes: Hyperscan compile time grows fast) is compiled, or
//         refused naming a rule; compiled, it scans its own examples.
//   odd:  the input is text, scanned with the shipped pack
//         (ZTGATE_RULES_DIR, else rules/injection from the working
//         directory, else a small built-in pack). For any text: scan()
//         succeeds; findings stay within max_findings and max_per_rule; a
//         finding's span lies in its view (begin < end) and its input span
//         in the input; every view is valid UTF-8 (what `unicode` rules
//         assume); the score is 0-100 and never below a finding's weight.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "inspect/normalize.h"
#include "inspect/rule_score.h"
#include "inspect/rules.h"
#include "property.h"

using ztgate::fuzz::require;
using namespace ztgate::inspect;

namespace {

constexpr const char* kBuiltinPack = R"(rules:
  - id: fz.override
    category: instruction_override
    languages: [en]
    weight: 80
    pattern: '\bignore\s+(all\s+)?previous\s+instructions?\b'
    must_match: [ignore previous instructions]
  - id: fz.image
    category: exfiltration_markdown
    languages: [any]
    weight: 70
    pattern: '!\[[^\]\n]{0,100}\]\(https?://[^\s)]{1,200}[?&][a-z]+=\{'
    must_match: ['![a](https://e.example/?q={x})']
  - id: fz.comment
    category: hidden_instruction_marker
    languages: [any]
    weight: 60
    views: [html_comment]
    pattern: '^\s*ai\s*:'
    must_match: ['<!-- AI: x -->']
  - id: fz.ru
    category: instruction_override
    languages: [ru]
    weight: 60
    unicode: true
    pattern: 'игнорир[а-яё]*\s+правил'
    must_match: [игнорируй правила]
)";

const RuleSet& shipped_pack() {
  static const std::unique_ptr<RuleSet> set = [] {
    const char* env = std::getenv("ZTGATE_RULES_DIR");
    for (const std::string& dir :
         {std::string(env != nullptr ? env : ""), std::string("rules/injection")}) {
      if (dir.empty()) continue;
      if (auto loaded = load_rule_set(dir); loaded.ok())
        return std::make_unique<RuleSet>(std::move(*loaded));
    }
    auto rules = parse_rule_file(kBuiltinPack, "builtin.yaml");
    require(rules.ok(), "the built-in pack parses", rules.ok() ? "" : rules.error().message);
    auto compiled = RuleSet::compile(std::move(*rules));
    require(compiled.ok(), "the built-in pack compiles");
    return std::make_unique<RuleSet>(std::move(*compiled));
  }();
  return *set;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

void check_scan(const RuleSet& set, std::string_view input) {
  auto normalized = normalize(input);
  if (!normalized.ok()) return;  // over max_input_bytes: not this target's concern
  for (const View& v : normalized->views)
    require(valid_utf8(v.text), "every view is valid UTF-8", v.text);
  RuleScanOptions options;
  options.max_findings = 16;
  options.max_per_rule = 2;
  auto scan = set.scan(*normalized, options);
  require(scan.ok(), "scan succeeds", scan.ok() ? "" : scan.error().message);
  require(scan->findings.size() <= options.max_findings, "findings are bounded");
  std::map<std::string, size_t> per_rule;
  int max_weight = 0;
  for (const RuleFinding& f : scan->findings) {
    require(++per_rule[f.rule_id] <= options.max_per_rule, "findings per rule are bounded",
            f.rule_id);
    require(f.view_index < normalized->views.size(), "a finding names a view");
    const View& view = normalized->views[f.view_index];
    require(view.kind == f.view, "a finding's view kind is its view's");
    require(f.span.begin < f.span.end && f.span.end <= view.text.size(),
            "a finding's span lies in its view", f.rule_id);
    require(f.input.begin <= f.input.end && f.input.end <= input.size(),
            "a finding's input span lies in the input", f.rule_id);
    max_weight = std::max(max_weight, f.weight);
  }
  const RuleScore s = score(scan->findings);
  require(s.score >= 0 && s.score <= 100, "the score is 0-100");
  require(s.score >= max_weight, "the score is at least the strongest finding's weight");
}

void check_rule_file(std::string_view text) {
  auto rules = parse_rule_file(text, "fuzz.yaml");
  if (!rules.ok()) {
    require(rules.error().code == "rules_invalid", "a refused file says rules_invalid");
    require(rules.error().message.rfind("fuzz.yaml", 0) == 0, "errors name the file",
            rules.error().message);
    return;
  }
  size_t pattern_bytes = 0;
  for (const Rule& r : *rules) {
    require(!r.id.empty() && r.id.size() <= kMaxRuleIdBytes, "ids are bounded", r.id);
    require(r.weight >= 1 && r.weight <= 100, "weights are 1-100", r.id);
    require(!r.pattern.empty() && r.pattern.size() <= kMaxPatternBytes, "patterns are bounded",
            r.id);
    require(!r.languages.empty(), "rules name languages", r.id);
    require(!r.must_match.empty(), "rules have examples", r.id);
    require(r.must_match.size() + r.must_not_match.size() <= kMaxExamples, "examples are bounded",
            r.id);
    pattern_bytes = std::max(pattern_bytes, r.pattern.size());
  }
  if (rules->empty() || rules->size() > 4 || pattern_bytes > 48) return;
  const std::vector<Rule> copy = *rules;
  auto set = RuleSet::compile(std::move(*rules));
  if (!set.ok()) {
    require(set.error().code == "rules_invalid", "a refused set says rules_invalid",
            set.error().message);
    return;
  }
  for (const Rule& r : copy)
    for (const std::string& example : r.must_match) check_scan(*set, example);
}

}  // namespace

// The shipped pack takes seconds to compile under the sanitizers: do it before
// the first input so libFuzzer's per-input timeout measures only scanning.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)shipped_pack();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 64 * 1024) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    check_rule_file(input);
  } else {
    check_scan(shipped_pack(), input);
  }
  return 0;
}
