// Data-loss prevention: finds secrets, personal data, custom terms and canary
// tokens in text, so that an output can be redacted, blocked or audited
// before it leaves the gateway.
//
// What is found, and how:
//   secret   API keys and tokens (OpenAI, Anthropic, AWS, GitHub, GitLab,
//            Slack, Stripe, Google, Azure, Twilio, SendGrid, npm...), PEM
//            private keys, JWTs, passwords in connection strings, and
//            high-entropy values after keywords (password=, api_key: ...).
//   pii      emails, phone numbers, payment cards (Luhn + IIN), IBANs
//            (mod-97 + per-country length), national ids (US SSN, UK NINO,
//            ES DNI/NIE, FR NIR, DE Steuer-ID), IPv4/IPv6 addresses.
//   custom   terms of dictionaries loaded from files ("dictionary:<list>").
//   canary   the configured canary tokens (make_canary()): one in an output
//            proves the system prompt leaked.
// Secrets and PII are rules as data (rules/dlp/*.yaml, format in
// dlp_rules.h): a pattern, then keyword, entropy and checksum gates.
//
// Matching: every rule pattern is compiled into one Hyperscan database that
// finds where matches END in one pass; RE2 (leftmost-longest) then finds the
// exact spans in a window of the rule's maximum width before each end.
// Hyperscan is only a prefilter: RE2 decides, so the two engines' small
// differences cannot create findings. No backtracking engine is used.
//
// Overlaps: candidates that overlap form one finding whose span is the union
// of theirs (no byte of any candidate escapes redaction); its kind is the
// strongest candidate's: canary > secret > pii > custom, then the rule's
// priority, then the longest ("longest wins" among equals).
//
// Fail closed: if a scan cannot finish (Hyperscan out of memory, more than
// kMaxDlpCandidates candidates, an input over kMaxDlpScanBytes), the
// unscanned rest of the text becomes one finding of kind "dlp_incomplete",
// category "secret"; past max_findings the last finding likewise extends
// to the end of the text (kind "dlp_too_many_findings").
//
// Findings never carry the matched value: the caller has the text and the
// span. to_json() writes kind, category, span and rule id only (audit).
//
// Thread-safe: a DlpScanner is immutable after load(); scan() may run on many
// threads at once (each thread keeps its own Hyperscan scratch).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ztgate::inspect {

struct DlpFinding {
  std::string kind;      // e.g. "openai_api_key", "payment_card", "iban", "email",
                         // "canary", "dictionary:<list>"
  std::string category;  // "secret" | "pii" | "canary" | "custom"
  size_t begin = 0, end = 0;  // byte span in the scanned text
  std::string rule_id;        // the rule, "canary", or "dictionary:<list>"
};

struct DlpOptions {
  std::string rules_dir;                       // rules/dlp; empty: no rules
  std::vector<std::string> dictionary_files;   // one term per line; list = file stem
  std::vector<std::string> canaries;           // tokens from make_canary()
  size_t max_findings = 256;
};

inline constexpr size_t kMaxDlpScanBytes = size_t{64} << 20;
inline constexpr size_t kMaxDlpCandidates = size_t{1} << 16;
inline constexpr size_t kMaxDictionaryFileBytes = size_t{8} << 20;
inline constexpr size_t kMaxDictionaryTerms = 100000;  // over all files
inline constexpr size_t kMaxDictionaryTermBytes = 256;
inline constexpr size_t kMaxCanaries = 1024;
inline constexpr size_t kMaxCanaryBytes = 256;

struct DlpRule;  // dlp_rules.h

class DlpScanner {
 public:
  // Reads the rules, dictionaries and canaries and compiles them. Errors:
  // "dlp_rules_invalid" (a rule file; names file:line and rule id),
  // "dlp_dictionary_invalid", "dlp_canary_invalid", "hyperscan_unavailable".
  static Result<DlpScanner> load(const DlpOptions& options);
  // The same from rules already parsed (tests, tools).
  static Result<DlpScanner> compile(std::vector<DlpRule> rules, const DlpOptions& options);

  DlpScanner(DlpScanner&&) noexcept;
  DlpScanner& operator=(DlpScanner&&) noexcept;
  ~DlpScanner();

  // Findings sorted by begin, disjoint (overlaps resolved as above).
  std::vector<DlpFinding> scan(std::string_view text) const;

  // The longest span a finding can have: what a stream must hold back.
  size_t max_secret_bytes() const;
  // Streaming detail (stream_redactor.h): the longest span of any rule that
  // has no begin marker (rules whose matches start with a literal marker,
  // such as PEM keys, may be longer: see long_rule_markers()).
  size_t max_short_bytes() const;
  // The longest text before a match that decides it (keyword windows, \b).
  size_t max_left_context() const;
  struct LongRule {
    std::string marker;  // the literal every match starts with (ASCII, matched caselessly)
    size_t max_bytes = 0;
  };
  const std::vector<LongRule>& long_rules() const;

  const std::vector<DlpRule>& rules() const;

  struct Impl;  // internal

 private:
  friend class StreamRedactor;  // scans windows of a stream
  DlpScanner() = default;
  std::unique_ptr<Impl> impl_;
};

// A canary token for `route`: "ztgc-" + 32 lowercase base32 characters of
// HMAC-SHA256(secret_key, "ztgate-canary-v1" NUL route). Deterministic (the
// same key and route give the same token on every replica) and unforgeable
// without the key. Error "dlp_canary_invalid" for an empty key.
Result<std::string> make_canary(std::string_view secret_key, std::string_view route);
inline constexpr std::string_view kCanaryPrefix = "ztgc-";

// [{"kind":..,"category":..,"begin":..,"end":..,"rule_id":..}, ...]: what the
// audit trail records. Never the values.
std::string to_json(const std::vector<DlpFinding>& findings);

// Shannon entropy of the bytes of `s`, in bits per byte (0 for empty).
double shannon_entropy(std::string_view s);

}  // namespace ztgate::inspect
