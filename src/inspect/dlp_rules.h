// DLP rules as data: rules/dlp/*.yaml, each a mapping with a `rules:` list.
// A rule is
//
//   - id: dlp.secret.github_pat          # stable, [a-z0-9._-], unique
//     kind: github_token                 # what a finding says: [a-z0-9_]
//     category: secret                   # secret | pii
//     pattern: '\bghp_[A-Za-z0-9]{36}\b' # RE2 and Hyperscan syntax
//     case_sensitive: true               # optional; default true
//     keywords: [github, gh_token]       # optional: one must occur in the match
//     keyword_window: 64                 #   or this many bytes before it (default 64)
//     min_entropy: 3.5                   # optional: bits per byte of the value
//     validator: luhn                    # optional: a checksum or format check
//     max_bytes: 16384                   # only with an extending validator (pem_block)
//     priority: 50                       # optional 0-100 (default 50): wins ties
//     description: ...                   # optional
//     must_match: ['ghp_...']            # at least one
//     must_not_match: ['ghp_short']      # optional
//
// The pattern must be accepted by both RE2 and Hyperscan: no lookaround, no
// backreferences, repeats of at most 1000, and a bounded width (no * or +:
// write {1,200}); `^`/`$` mean the start/end of the text. If the pattern has
// a capture group, group 1 is the value: the finding's span, and what the
// entropy and validator gates see (`password=(...)` redacts the password,
// not the word). Matches are leftmost-longest.
//
// Validators (see internal/dlp_validators.h): luhn, iban, ssn_us, nino_uk,
// dni_es, nir_fr, steuer_id_de, ipv4, ipv6, jwt, phone_e164, phone_nanp,
// phone_national, email, pem_block. A validator that fails on the whole
// value is retried on its sub-spans cut at spaces and dashes (longest
// first): "ref 12 4111 1111 1111 1111" still finds the card.
//
// Examples are tests: check_dlp_rule_examples() scans each with the rule
// compiled alone; must_match needs a finding of that rule, must_not_match
// none. parse_dlp_rule_file() is strict like the injection reader: unknown
// or duplicated keys, wrong types and oversized values are refused with
// file:line and the rule id (error code "dlp_rules_invalid").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ztgate::inspect {

inline constexpr size_t kMaxDlpRuleFileBytes = size_t{1} << 20;
inline constexpr size_t kMaxDlpRuleFiles = 256;
inline constexpr size_t kMaxDlpRules = 2048;
inline constexpr size_t kMaxDlpPatternBytes = 2048;
inline constexpr size_t kMaxDlpKeywords = 64;
inline constexpr size_t kMaxDlpKeywordWindow = 1024;
inline constexpr size_t kMaxDlpRuleWidth = 4096;      // a pattern's longest match
inline constexpr size_t kMaxDlpExtendedBytes = 65536;  // max_bytes of an extending rule

struct DlpRule {
  std::string id;
  std::string kind;
  std::string category;  // "secret" | "pii"
  std::string pattern;
  bool case_sensitive = true;
  std::vector<std::string> keywords;
  size_t keyword_window = 64;
  double min_entropy = 0;
  std::string validator;  // "" = none
  size_t max_bytes = 0;   // extending validators only
  int priority = 50;
  std::string description;
  std::vector<std::string> must_match;
  std::vector<std::string> must_not_match;
  std::string file;  // where it was defined, for errors
  int line = 0;
};

Result<std::vector<DlpRule>> parse_dlp_rule_file(std::string_view text, const std::string& file);
// Every *.yaml of `dir`, in name order.
Result<std::vector<DlpRule>> load_dlp_rule_dir(const std::string& dir);

// Whether `name` is a known validator, and whether it extends spans.
bool known_dlp_validator(std::string_view name);
bool extending_dlp_validator(std::string_view name);

class DlpScanner;
// One error per failing example ("file:line: rule <id>: must_match example
// 2 did not match: ..."); empty when all pass.
std::vector<Error> check_dlp_rule_examples(const std::vector<DlpRule>& rules);

}  // namespace ztgate::inspect
