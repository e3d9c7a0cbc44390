// The compiled form of a DlpScanner, shared by the scanner (dlp_scan.cpp),
// its compiler (dlp.cpp) and the stream redactor, which scans windows of a
// stream (scan_dlp_window()).
#pragma once

#include <hs.h>
#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "inspect/dlp.h"
#include "inspect/dlp_rules.h"

namespace ztgate::inspect {

// Where a finding comes from: a rule, a dictionary, or the canaries.
struct DlpSource {
  std::string kind;
  std::string category;
  std::string rule_id;
  int rank = 0;  // canary 3 > secret 2 > pii 1 > custom 0
  int priority = 50;
};

struct DlpLiteral {
  enum class Type : uint8_t { keyword, dictionary, canary };
  Type type = Type::keyword;
  unsigned source = 0;  // sources index (dictionary, canary); keyword: keyword index
  size_t length = 0;
};

struct DlpScanner::Impl {
  std::vector<DlpRule> rules;
  std::vector<std::unique_ptr<RE2>> re;         // per rule
  std::vector<size_t> width;                    // per rule: longest raw match
  std::vector<std::vector<unsigned>> keywords;  // per rule: keyword indexes
  std::vector<DlpSource> sources;               // rules first (same index), then lists, canary
  std::vector<DlpLiteral> literals;             // per literal id of literal_db
  size_t keyword_count = 0;
  hs_database_t* rules_db = nullptr;
  hs_database_t* literal_db = nullptr;
  uint64_t serial = 0;  // identifies the databases for per-thread scratch
  size_t max_findings = 256;
  size_t max_secret = 0, max_short = 0, max_left = 0;
  std::vector<LongRule> long_rules;

  ~Impl() {
    if (rules_db != nullptr) hs_free_database(rules_db);
    if (literal_db != nullptr) hs_free_database(literal_db);
  }
};

struct DlpSpan {
  size_t begin = 0, end = 0;
};

struct DlpWindowScan {
  std::vector<DlpFinding> findings;  // begin >= min_start, resolved
  // Every span that decides findings (raw pattern matches, whether or not
  // they passed the gates, and literal hits): a stream must not cut inside one.
  std::vector<DlpSpan> decisive;
};

// Scans `text`, reporting only candidates that start at or after
// `min_start` (the text before it is context: keyword windows, \b). With
// `decisive`, also returns the raw spans.
DlpWindowScan scan_dlp_window(const DlpScanner::Impl& impl, std::string_view text,
                              size_t min_start, size_t max_findings, bool decisive);

}  // namespace ztgate::inspect
