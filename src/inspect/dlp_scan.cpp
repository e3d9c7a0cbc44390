// DlpScanner::scan(): Hyperscan finds where rule matches end and where
// keywords, dictionary terms and canaries occur; RE2 finds exact spans in
// the windows before those ends; gates (keywords, entropy, validators) keep
// the real ones; overlapping candidates merge into findings.
#include <algorithm>
#include <array>
#include <cstdint>

#include "inspect/internal/dlp_impl.h"
#include "inspect/internal/dlp_validators.h"
#include "inspect/internal/hs_scratch.h"

namespace ztgate::inspect {
namespace {

constexpr size_t kMaxKeywordHits = 4096;  // per keyword; beyond, it counts as everywhere
constexpr size_t kMaxRefineCuts = 24;     // per side, for validator sub-spans

struct Candidate {
  size_t begin = 0, end = 0;
  unsigned source = 0;
};

struct Scan {
  const DlpScanner::Impl* impl = nullptr;
  std::string_view text;
  size_t min_start = 0;
  std::vector<std::vector<DlpSpan>> windows;  // per rule: where RE2 looks
  size_t window_count = 0;
  std::vector<std::vector<size_t>> keyword_hits;  // per keyword: starts, ascending
  std::vector<bool> keyword_everywhere;
  std::vector<Candidate> candidates;
  std::vector<DlpSpan>* decisive = nullptr;
  size_t incomplete_from = SIZE_MAX;  // fail closed from here on
};

bool word_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || u >= 0x80;
}

int on_literal(unsigned id, unsigned long long /*from*/, unsigned long long to, unsigned /*flags*/,
               void* ptr) {
  auto& s = *static_cast<Scan*>(ptr);
  const DlpLiteral& lit = s.impl->literals[id];
  const size_t end = static_cast<size_t>(to);
  const size_t begin = end - lit.length;
  if (lit.type == DlpLiteral::Type::keyword) {
    auto& hits = s.keyword_hits[lit.source];
    if (hits.size() < kMaxKeywordHits)
      hits.push_back(begin);
    else
      s.keyword_everywhere[lit.source] = true;
    return 0;
  }
  if (begin < s.min_start) return 0;
  if (lit.type == DlpLiteral::Type::dictionary) {  // whole words only
    if ((begin > 0 && word_byte(s.text[begin - 1]) && word_byte(s.text[begin])) ||
        (end < s.text.size() && word_byte(s.text[end]) && word_byte(s.text[end - 1])))
      return 0;
  }
  if (s.decisive != nullptr) s.decisive->push_back({begin, end});
  if (s.candidates.size() >= kMaxDlpCandidates) {
    s.incomplete_from = std::min(s.incomplete_from, begin);
    return 1;
  }
  s.candidates.push_back({begin, end, lit.source});
  return 0;
}

int on_rule_end(unsigned id, unsigned long long /*from*/, unsigned long long to,
                unsigned /*flags*/, void* ptr) {
  auto& s = *static_cast<Scan*>(ptr);
  const size_t end = static_cast<size_t>(to);
  if (end <= s.min_start) return 0;
  const size_t begin = std::max(s.min_start, end - std::min(end, s.impl->width[id]));
  auto& windows = s.windows[id];
  if (!windows.empty() && begin <= windows.back().end) {
    windows.back().end = std::max(windows.back().end, end);
    return 0;
  }
  if (s.window_count >= kMaxDlpCandidates) {
    s.incomplete_from = std::min(s.incomplete_from, begin);
    return 1;
  }
  ++s.window_count;
  windows.push_back({begin, end});
  return 0;
}

bool keyword_near(const Scan& s, const DlpRule& rule, const std::vector<unsigned>& keywords,
                  size_t begin, size_t end) {
  const size_t from = begin - std::min(begin, rule.keyword_window);
  for (unsigned k : keywords) {
    if (s.keyword_everywhere[k]) return true;
    const auto& hits = s.keyword_hits[k];
    const auto it = std::lower_bound(hits.begin(), hits.end(), from);
    if (it != hits.end() && *it < end) return true;
  }
  return false;
}

bool any_keyword(const Scan& s, const std::vector<unsigned>& keywords) {
  return std::any_of(keywords.begin(), keywords.end(), [&](unsigned k) {
    return s.keyword_everywhere[k] || !s.keyword_hits[k].empty();
  });
}

bool separator(char c) { return c == ' ' || c == '-'; }

// The value passes the validator, or its longest sub-span cut at spaces and
// dashes that does. False when none does.
bool validate_span(std::string_view text, const std::string& validator, DlpSpan& value) {
  const std::string_view whole = text.substr(value.begin, value.end - value.begin);
  if (internal::validate_dlp_value(validator, whole)) return true;
  std::vector<size_t> starts{value.begin}, ends{value.end};
  for (size_t i = value.begin + 1; i < value.end; ++i) {
    if (separator(text[i - 1]) && !separator(text[i]) && starts.size() < kMaxRefineCuts)
      starts.push_back(i);
    if (separator(text[i]) && !separator(text[i - 1]) && ends.size() < kMaxRefineCuts)
      ends.push_back(i);
  }
  if (starts.size() == 1 && ends.size() == 1) return false;
  DlpSpan best{0, 0};
  for (size_t b : starts) {
    for (size_t e : ends) {
      if (e <= b || e - b <= best.end - best.begin) continue;
      if (internal::validate_dlp_value(validator, text.substr(b, e - b))) best = {b, e};
    }
  }
  if (best.end == 0) return false;
  value = best;
  return true;
}

// RE2 over one window of rule `r`: every match, gated.
void confirm_window(Scan& s, unsigned r, DlpSpan window) {
  const DlpScanner::Impl& impl = *s.impl;
  const DlpRule& rule = impl.rules[r];
  const RE2& re = *impl.re[r];
  const int groups = std::min(re.NumberOfCapturingGroups(), 1);
  std::array<re2::StringPiece, 2> m;
  size_t pos = window.begin;
  while (pos < window.end) {
    if (!re.Match(s.text, pos, window.end, RE2::UNANCHORED, m.data(), groups + 1)) return;
    const size_t begin = static_cast<size_t>(m[0].data() - s.text.data());
    const size_t end = begin + m[0].size();
    pos = end > pos ? end : pos + 1;
    if (end == begin) continue;
    if (s.decisive != nullptr) s.decisive->push_back({begin, end});
    DlpSpan value{begin, end};
    if (groups == 1) {
      if (m[1].data() == nullptr || m[1].empty()) continue;
      value.begin = static_cast<size_t>(m[1].data() - s.text.data());
      value.end = value.begin + m[1].size();
    }
    if (!impl.keywords[r].empty() && !keyword_near(s, rule, impl.keywords[r], begin, end)) continue;
    if (rule.min_entropy > 0 &&
        shannon_entropy(s.text.substr(value.begin, value.end - value.begin)) < rule.min_entropy)
      continue;
    if (extending_dlp_validator(rule.validator)) {
      value.end = internal::extend_pem_block(s.text, begin, value.end, rule.max_bytes);
      if (s.decisive != nullptr) s.decisive->push_back(value);
    } else if (!rule.validator.empty() && !validate_span(s.text, rule.validator, value)) {
      continue;
    }
    if (s.candidates.size() >= kMaxDlpCandidates) {
      s.incomplete_from = std::min(s.incomplete_from, begin);
      return;
    }
    s.candidates.push_back({value.begin, value.end, r});
  }
}

// Overlapping candidates become one finding: the union of their spans, the
// kind of the strongest (rank, priority, length, first rule).
std::vector<DlpFinding> resolve(const DlpScanner::Impl& impl, std::vector<Candidate>& candidates) {
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  auto stronger = [&](const Candidate& a, const Candidate& b) {
    const DlpSource& x = impl.sources[a.source];
    const DlpSource& y = impl.sources[b.source];
    if (x.rank != y.rank) return x.rank > y.rank;
    if (x.priority != y.priority) return x.priority > y.priority;
    if (a.end - a.begin != b.end - b.begin) return a.end - a.begin > b.end - b.begin;
    return a.source < b.source;
  };
  std::vector<DlpFinding> out;
  for (size_t i = 0; i < candidates.size();) {
    Candidate best = candidates[i];
    size_t end = best.end;
    size_t j = i + 1;
    for (; j < candidates.size() && candidates[j].begin < end; ++j) {
      end = std::max(end, candidates[j].end);
      if (stronger(candidates[j], best)) best = candidates[j];
    }
    const DlpSource& src = impl.sources[best.source];
    out.push_back({src.kind, src.category, candidates[i].begin, end, src.rule_id});
    i = j;
  }
  return out;
}

DlpFinding fail_closed(const char* kind, size_t begin, size_t end) {
  return {kind, "secret", begin, end, kind};
}

}  // namespace

DlpWindowScan scan_dlp_window(const DlpScanner::Impl& impl, std::string_view text,
                              size_t min_start, size_t max_findings, bool decisive) {
  DlpWindowScan out;
  if (min_start >= text.size()) return out;
  if (text.size() > kMaxDlpScanBytes) {
    out.findings.push_back(fail_closed("dlp_incomplete", min_start, text.size()));
    if (decisive) out.decisive.push_back({min_start, text.size()});
    return out;
  }
  Scan s;
  s.impl = &impl;
  s.text = text;
  s.min_start = min_start;
  s.windows.resize(impl.rules.size());
  s.keyword_hits.resize(impl.keyword_count);
  s.keyword_everywhere.assign(impl.keyword_count, false);
  if (decisive) s.decisive = &out.decisive;
  hs_scratch_t* scratch = internal::thread_scratch(impl.serial, {impl.rules_db, impl.literal_db});
  bool failed = scratch == nullptr && (impl.rules_db != nullptr || impl.literal_db != nullptr);
  const auto size = static_cast<unsigned>(text.size());
  if (!failed && impl.literal_db != nullptr) {
    const hs_error_t rc = hs_scan(impl.literal_db, text.data(), size, 0, scratch, on_literal, &s);
    failed = rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED;
  }
  if (!failed && impl.rules_db != nullptr) {
    const hs_error_t rc = hs_scan(impl.rules_db, text.data(), size, 0, scratch, on_rule_end, &s);
    failed = rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED;
  }
  if (failed) s.incomplete_from = min_start;
  for (unsigned r = 0; r < impl.rules.size() && s.incomplete_from == SIZE_MAX; ++r) {
    if (!impl.keywords[r].empty() && !any_keyword(s, impl.keywords[r])) continue;  // prefilter
    for (const DlpSpan& w : s.windows[r]) confirm_window(s, r, w);
  }
  out.findings = resolve(impl, s.candidates);
  if (s.incomplete_from != SIZE_MAX) {
    // Drop what starts after the point of failure; fail closed from there.
    while (!out.findings.empty() && out.findings.back().end > s.incomplete_from) {
      s.incomplete_from = std::min(s.incomplete_from, out.findings.back().begin);
      out.findings.pop_back();
    }
    out.findings.push_back(fail_closed("dlp_incomplete", s.incomplete_from, text.size()));
    if (decisive) out.decisive.push_back({s.incomplete_from, text.size()});
  }
  if (out.findings.size() > max_findings) {
    const size_t from = out.findings[max_findings - 1].begin;
    out.findings.resize(max_findings - 1);
    out.findings.push_back(fail_closed("dlp_too_many_findings", from, text.size()));
  }
  return out;
}

}  // namespace ztgate::inspect
