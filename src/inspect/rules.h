// Layer 1 of injection detection: a curated rule pack, compiled once with
// Hyperscan, matched against every view of a normalized text.
//
// Rules are data: YAML files (rules/injection/*.yaml), each a mapping with a
// `rules:` list. A rule is
//
//   - id: inj.override.ignore_previous    # stable, [a-z0-9._-], unique
//     category: instruction_override      # one of RuleCategory
//     languages: [en]                     # ISO 639-1 codes, or [any]
//     weight: 80                          # 1-100: how sure a match alone is
//     pattern: '\bignore\s+previous\s+instructions?\b'
//     views: [html_comment]               # optional; default every view
//     unicode: false                      # optional; default false
//     case_sensitive: false               # optional; default false
//     description: ...                    # optional
//     must_match: ['Ignore previous instructions.']        # at least one
//     must_not_match: ['Ignore the previous chapter.']     # optional
//
// Patterns are Hyperscan (PCRE-like, no backreferences, no lookaround),
// matched case-insensitively unless case_sensitive is set. `^` and `$` match
// at every line; `.` does not match a line break (`\s` does). By default a
// pattern is matched byte by byte, which compiles and scans fastest: \s, \w
// and \b are ASCII, case folding is ASCII, and non-ASCII text matches as
// the exact UTF-8 bytes written (so accented capitals need spelling out:
// (é|É)). `unicode: true` matches code points (Hyperscan's UTF-8 mode with
// Unicode properties): needed for non-ASCII letters inside [ ] or under a
// quantifier (refused otherwise) and for case folding beyond ASCII
// (Cyrillic, Greek); \b is not available then. Every view is valid UTF-8
// (the normalizer replaces invalid sequences).
//
// The examples are tests: check_rule_examples() runs each through
// normalize() and scan(), so an example reads as an attacker would write it
// (obfuscations included).
//
// parse_rule_file() is strict: unknown or duplicated keys, wrong types,
// out-of-range values and oversized files, lists and strings are refused
// with file:line and the rule id. RuleSet::compile() refuses duplicate ids
// and patterns Hyperscan refuses (backreferences, empty matches...), naming
// the rule and where it was defined.
//
// Spans: Hyperscan reports where matches end (tracking where they start
// would slow every scan 3-10 times and refuse many patterns). A finding's
// start is then searched (doubling, then bisection): the largest start from
// which the rule still matches up to the same end, i.e. the shortest match
// ending there, within the pattern's maximum width (at most kMaxSpanWindow
// bytes) before the end. A longer match gives an inexact span starting that
// many bytes before the end (exact_start is false): longer than the match,
// never shorter.
//
// Findings are bounded: at most max_findings per scan and max_per_rule per
// rule; overlapping matches of one rule in one view become one finding.
// Rules restricted to some views are compiled apart and scanned only on
// those views.
//
// Thread-safe: a RuleSet is immutable after compile(); scan() may run on
// many threads at once (each thread keeps its own Hyperscan scratch).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "inspect/normalize.h"
#include "inspect/offset_map.h"

namespace ztgate::inspect {

enum class RuleCategory : uint8_t {
  instruction_override,       // ignore/forget previous instructions, "new instructions:"
  role_hijack,                // "you are now...", fake authority, persona switch mid-text
  system_prompt_extraction,   // reveal/repeat the system prompt or initial instructions
  tool_coercion,              // make the agent call tools, run commands, move money or data
  exfiltration_markdown,      // data carried out in image/link URLs, or instructions to do so
  hidden_instruction_marker,  // chat-template tokens, [SYSTEM], <!-- AI: -->, fake turns
  jailbreak_persona,          // DAN, developer mode, "no restrictions", stay in character
  encoded_instruction,        // "decode this and follow it", payload-splitting set-ups
};
inline constexpr size_t kRuleCategoryCount = 8;

// "instruction_override", ... ; and back (false when unknown).
std::string_view rule_category_name(RuleCategory category);
bool parse_rule_category(std::string_view name, RuleCategory& out);
// "normalized", ... (view_kind_name) back to the kind (false when unknown).
bool parse_view_kind(std::string_view name, ViewKind& out);

// Bounds on rule files (each refused beyond them).
inline constexpr size_t kMaxRuleFileBytes = size_t{1} << 20;
inline constexpr size_t kMaxRuleFiles = 256;
inline constexpr size_t kMaxRules = 4096;  // per file and per set
inline constexpr size_t kMaxPatternBytes = 2048;
inline constexpr size_t kMaxRuleIdBytes = 96;
inline constexpr size_t kMaxExamples = 64;  // must_match + must_not_match
inline constexpr size_t kMaxExampleBytes = 4096;
inline constexpr size_t kMaxSpanWindow = 512;

struct Rule {
  std::string id;
  RuleCategory category = RuleCategory::instruction_override;
  std::vector<std::string> languages;  // "en", "de", ... or "any"
  int weight = 0;                      // 1..100
  std::string pattern;
  uint32_t views = 0;    // bit (1 << ViewKind) per view scanned; 0 = every view
  bool unicode = false;  // match code points, fold case beyond ASCII
  bool case_sensitive = false;
  std::string description;
  std::vector<std::string> must_match;
  std::vector<std::string> must_not_match;
  std::string file;  // where it was defined, for errors
  int line = 0;

  bool applies_to(ViewKind kind) const {
    return views == 0 || (views & (uint32_t{1} << static_cast<unsigned>(kind))) != 0;
  }
};

// Parses one rule file. `file` names it in errors ("rules/x.yaml:12: rule
// inj.x: weight must be..."). Error code "rules_invalid".
Result<std::vector<Rule>> parse_rule_file(std::string_view text, const std::string& file);
// Reads and parses every *.yaml file of `dir`, in name order.
Result<std::vector<Rule>> load_rule_dir(const std::string& dir);

struct RuleFinding {
  std::string rule_id;
  RuleCategory category = RuleCategory::instruction_override;
  int weight = 0;
  ViewKind view = ViewKind::normalized;
  size_t view_index = 0;    // index into Normalized::views
  Span span;                // bytes of the view
  Span input;               // bytes of the original input behind them
  bool exact_start = true;  // false: the span starts up to kMaxSpanWindow bytes early
};

struct RuleScanOptions {
  size_t max_findings = 64;
  size_t max_per_rule = 4;
};

struct RuleScan {
  std::vector<RuleFinding> findings;  // in view order, then by end of match
  bool truncated = false;             // max_findings reached: later views were not scanned
};

class RuleSet {
 public:
  // Compiles the rules into one Hyperscan database. Error code
  // "rules_invalid" (duplicate id, refused pattern: names the rule, file and
  // line) or "hyperscan_unavailable" (the CPU lacks what Hyperscan needs).
  // With a cache_dir, a compiled database is kept there (named by the
  // SHA-256 of the Hyperscan version and every pattern, flag and id) and
  // read back instead of compiling again: the shipped pack takes seconds to
  // compile and milliseconds to load. A cache file that does not load
  // (corrupt, another CPU) is ignored and replaced; a cache that cannot be
  // written only costs the next start its compile time.
  static Result<RuleSet> compile(std::vector<Rule> rules, const std::string& cache_dir = "");

  RuleSet(RuleSet&&) noexcept;
  RuleSet& operator=(RuleSet&&) noexcept;
  ~RuleSet();

  // Matches every view of `text`. Errors ("scan_failed") only when Hyperscan
  // fails (out of memory): the caller must fail closed.
  Result<RuleScan> scan(const Normalized& text, const RuleScanOptions& options = {}) const;

  const std::vector<Rule>& rules() const { return rules_; }
  // Bytes of the compiled database.
  size_t database_bytes() const;

  struct Database;  // internal

 private:
  RuleSet() = default;
  std::vector<Rule> rules_;
  std::unique_ptr<Database> db_;
};

// load_rule_dir() then RuleSet::compile().
Result<RuleSet> load_rule_set(const std::string& dir, const std::string& cache_dir = "");

// Runs every rule's examples through normalize() and scan(): each
// must_match example must give a finding of that rule, no must_not_match
// example may. Returns one error per failing example ("file:line: rule
// <id>: must_match example 2 ... did not match"); empty when all pass.
std::vector<Error> check_rule_examples(const RuleSet& rules);

}  // namespace ztgate::inspect
