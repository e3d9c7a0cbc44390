// DlpScanner: loading and compiling rules, dictionaries and canaries; the
// canary tokens; the audit form of findings.
#include "inspect/dlp.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "inspect/internal/dlp_impl.h"
#include "inspect/internal/hs_scratch.h"
#include "inspect/internal/hmac.h"

namespace ztgate::inspect {
namespace {

// Rules whose matches may be longer must start with a literal marker: a
// stream then holds back from a marker on, not always this much.
constexpr size_t kMaxShortSpan = 256;
constexpr size_t kMinMarkerBytes = 3;


std::string where(const DlpRule& rule) {
  return rule.file + (rule.line > 0 ? ":" + std::to_string(rule.line) : std::string()) +
         ": rule " + rule.id;
}

Error rule_error(const DlpRule& rule, const std::string& message) {
  return make_error("dlp_rules_invalid", where(rule) + ": " + message, SourceLoc{rule.line, 0});
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// The literal a pattern's every match starts with (after a leading \b), or
// "" when it starts with anything else.
std::string leading_literal(std::string_view pattern) {
  if (pattern.substr(0, 2) == "\\b") pattern.remove_prefix(2);
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (std::string_view("\\[](){}.*+?|^$").find(c) != std::string_view::npos) {
      // A quantifier makes the previous character optional or repeated.
      if (!out.empty() && std::string_view("*+?{").find(c) != std::string_view::npos)
        out.pop_back();
      break;
    }
    out.push_back(c);
  }
  return out;
}

// The literals every match of `pattern` starts with: its leading literal,
// or one per alternative when it starts with a group of alternatives
// (`\b(?:postgres|mysql)://...`, nested groups too). Empty when some match
// could start without one (an alternative without a literal prefix, an
// optional group, a class...).
std::vector<std::string> leading_literals(std::string_view pattern) {
  if (pattern.substr(0, 2) == "\\b") pattern.remove_prefix(2);
  if (pattern.substr(0, 3) != "(?:") {
    std::string literal = leading_literal(pattern);
    if (literal.empty()) return {};
    return {literal};
  }
  // The group's extent and its top-level alternatives.
  std::vector<std::string_view> alternatives;
  int depth = 0;
  size_t start = 3, close = std::string_view::npos;
  for (size_t i = 3; i < pattern.size() && close == std::string_view::npos; ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      ++i;  // an escaped character never opens, closes or splits
    } else if (c == '[') {
      for (++i; i < pattern.size() && pattern[i] != ']'; ++i)
        if (pattern[i] == '\\') ++i;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if (c == ')') {
      alternatives.push_back(pattern.substr(start, i - start));
      close = i;
    } else if (c == '|' && depth == 0) {
      alternatives.push_back(pattern.substr(start, i - start));
      start = i + 1;
    }
  }
  if (close == std::string_view::npos) return {};
  if (close + 1 < pattern.size() && std::string_view("*?{").find(pattern[close + 1]) != std::string_view::npos)
    return {};  // the group may be absent
  std::vector<std::string> out;
  for (std::string_view alternative : alternatives) {
    std::vector<std::string> mine = leading_literals(alternative);
    if (mine.empty()) return {};
    out.insert(out.end(), mine.begin(), mine.end());
  }
  return out;
}

int category_rank(std::string_view category) {
  if (category == "canary") return 3;
  if (category == "secret") return 2;
  if (category == "pii") return 1;
  return 0;
}

Status compile_rules(DlpScanner::Impl& impl, std::vector<std::string>& keywords) {
  std::set<std::string_view> ids;
  std::map<std::string, unsigned> keyword_index;
  for (const DlpRule& rule : impl.rules) {
    if (!ids.insert(rule.id).second) return rule_error(rule, "id already used by another rule");
    const unsigned flags = rule.case_sensitive ? 0u : HS_FLAG_CASELESS;
    hs_expr_info_t* info = nullptr;
    hs_compile_error_t* e = nullptr;
    if (hs_expression_info(rule.pattern.c_str(), flags, &info, &e) != HS_SUCCESS) {
      std::string message = e != nullptr && e->message != nullptr ? e->message : "invalid";
      if (e != nullptr) hs_free_compile_error(e);
      return rule_error(rule, "pattern: " + message);
    }
    const unsigned max_width = info->max_width;
    free(info);  // NOLINT: hs_expression_info allocates with malloc
    if (max_width == UINT_MAX || max_width > kMaxDlpRuleWidth)
      return rule_error(rule, "pattern: matches must be at most " +
                                  std::to_string(kMaxDlpRuleWidth) +
                                  " bytes long (bound every repeat: {1,200}, not + or *)");
    RE2::Options options;
    options.set_longest_match(true);
    options.set_case_sensitive(rule.case_sensitive);
    options.set_log_errors(false);
    auto re = std::make_unique<RE2>(rule.pattern, options);
    if (!re->ok()) return rule_error(rule, "pattern (RE2): " + re->error());
    const size_t span = rule.max_bytes > 0 ? std::max<size_t>(rule.max_bytes, max_width) : max_width;
    if (span > kMaxShortSpan) {
      const std::vector<std::string> markers = leading_literals(rule.pattern);
      const bool marked = !markers.empty() && std::all_of(markers.begin(), markers.end(), [](const std::string& m) {
        return m.size() >= kMinMarkerBytes;
      });
      if (!marked)
        return rule_error(rule, "findings may be longer than " + std::to_string(kMaxShortSpan) +
                                    " bytes: the pattern must then start with a literal of at "
                                    "least " + std::to_string(kMinMarkerBytes) +
                                    " characters, or a group of alternatives that each do "
                                    "(streams hold back from it)");
      for (const std::string& marker : markers) impl.long_rules.push_back({lower(marker), span});
    } else {
      impl.max_short = std::max(impl.max_short, span);
    }
    impl.max_secret = std::max(impl.max_secret, span);
    impl.max_left = std::max(impl.max_left, rule.keyword_window);
    std::vector<unsigned> mine;
    for (const std::string& k : rule.keywords) {
      auto [it, added] = keyword_index.emplace(lower(k), static_cast<unsigned>(keywords.size()));
      if (added) keywords.push_back(it->first);
      if (std::find(mine.begin(), mine.end(), it->second) == mine.end()) mine.push_back(it->second);
    }
    impl.keywords.push_back(std::move(mine));
    impl.width.push_back(max_width);
    impl.re.push_back(std::move(re));
    impl.sources.push_back({rule.kind, rule.category, rule.id, category_rank(rule.category),
                            rule.priority});
  }
  impl.keyword_count = keywords.size();
  for (size_t i = 0; i < keywords.size(); ++i)
    impl.literals.push_back({DlpLiteral::Type::keyword, static_cast<unsigned>(i),
                             keywords[i].size()});
  return Ok{};
}

std::string trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// Terms of every dictionary file, one per line ('#' starts a comment line).
Status read_dictionaries(const DlpOptions& options, DlpScanner::Impl& impl,
                         std::vector<std::string>& literal_text) {
  size_t total = 0;
  for (const std::string& path : options.dictionary_files) {
    const std::string list = lower(std::filesystem::path(path).stem().string());
    const bool list_ok =
        !list.empty() && list.size() <= 64 && std::all_of(list.begin(), list.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        });
    if (!list_ok)
      return make_error("dlp_dictionary_invalid",
                        path + ": the file name (the list's name) must be 1-64 of a-z 0-9 _ -");
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error("dlp_dictionary_invalid", "cannot read dictionary " + path);
    std::string text(kMaxDictionaryFileBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxDictionaryFileBytes)
      return make_error("dlp_dictionary_invalid", path + " is larger than " +
                                                      std::to_string(kMaxDictionaryFileBytes >> 20) +
                                                      " MiB");
    const auto source = static_cast<unsigned>(impl.sources.size());
    impl.sources.push_back({"dictionary:" + list, "custom", "dictionary:" + list, 0, 50});
    std::set<std::string> seen;
    size_t line_no = 0;
    for (size_t pos = 0; pos < text.size();) {
      const size_t nl = std::min(text.find('\n', pos), text.size());
      const std::string term = trim(std::string_view(text).substr(pos, nl - pos));
      pos = nl + 1;
      ++line_no;
      if (term.empty() || term[0] == '#') continue;
      if (term.size() > kMaxDictionaryTermBytes)
        return make_error("dlp_dictionary_invalid", path + ":" + std::to_string(line_no) +
                                                        ": a term is longer than " +
                                                        std::to_string(kMaxDictionaryTermBytes) +
                                                        " bytes");
      if (!seen.insert(lower(term)).second) continue;
      if (++total > kMaxDictionaryTerms)
        return make_error("dlp_dictionary_invalid",
                          "the dictionaries hold more than " +
                              std::to_string(kMaxDictionaryTerms) + " terms");
      impl.literals.push_back({DlpLiteral::Type::dictionary, source, term.size()});
      literal_text.push_back(term);
      impl.max_short = std::max(impl.max_short, term.size());
    }
  }
  return Ok{};
}

Status read_canaries(const DlpOptions& options, DlpScanner::Impl& impl,
                     std::vector<std::string>& literal_text) {
  if (options.canaries.size() > kMaxCanaries)
    return make_error("dlp_canary_invalid",
                      "more than " + std::to_string(kMaxCanaries) + " canaries");
  if (options.canaries.empty()) return Ok{};
  const auto source = static_cast<unsigned>(impl.sources.size());
  impl.sources.push_back({"canary", "canary", "canary", 3, 100});
  for (const std::string& c : options.canaries) {
    if (c.size() < 8 || c.size() > kMaxCanaryBytes)
      return make_error("dlp_canary_invalid", "a canary must be 8-" +
                                                  std::to_string(kMaxCanaryBytes) +
                                                  " bytes (make them with make_canary())");
    impl.literals.push_back({DlpLiteral::Type::canary, source, c.size()});
    literal_text.push_back(c);
    impl.max_short = std::max(impl.max_short, c.size());
  }
  return Ok{};
}

Status compile_databases(DlpScanner::Impl& impl, const std::vector<std::string>& literal_text) {
  hs_compile_error_t* e = nullptr;
  if (!impl.rules.empty()) {
    std::vector<const char*> patterns;
    std::vector<unsigned> flags, ids;
    for (size_t i = 0; i < impl.rules.size(); ++i) {
      patterns.push_back(impl.rules[i].pattern.c_str());
      // Hyperscan only finds where to look (RE2 decides): prefilter mode
      // approximates what it could not compile exactly, never missing a match.
      flags.push_back(HS_FLAG_PREFILTER | (impl.rules[i].case_sensitive ? 0u : HS_FLAG_CASELESS));
      ids.push_back(static_cast<unsigned>(i));
    }
    if (hs_compile_multi(patterns.data(), flags.data(), ids.data(),
                         static_cast<unsigned>(patterns.size()), HS_MODE_BLOCK, nullptr,
                         &impl.rules_db, &e) != HS_SUCCESS) {
      std::string message = e != nullptr && e->message != nullptr ? e->message : "compile failed";
      const int bad = e != nullptr ? e->expression : -1;
      if (e != nullptr) hs_free_compile_error(e);
      if (bad >= 0 && static_cast<size_t>(bad) < impl.rules.size())
        return rule_error(impl.rules[static_cast<size_t>(bad)], "pattern: " + message);
      return make_error("dlp_rules_invalid", "Hyperscan refused the DLP rules: " + message);
    }
  }
  if (!literal_text.empty()) {
    std::vector<const char*> lits;
    std::vector<size_t> lens;
    std::vector<unsigned> flags, ids;
    for (size_t i = 0; i < literal_text.size(); ++i) {
      lits.push_back(literal_text[i].data());
      lens.push_back(literal_text[i].size());
      flags.push_back(HS_FLAG_CASELESS);
      ids.push_back(static_cast<unsigned>(i));
    }
    if (hs_compile_lit_multi(lits.data(), flags.data(), ids.data(), lens.data(),
                             static_cast<unsigned>(lits.size()), HS_MODE_BLOCK, nullptr,
                             &impl.literal_db, &e) != HS_SUCCESS) {
      std::string message = e != nullptr && e->message != nullptr ? e->message : "compile failed";
      if (e != nullptr) hs_free_compile_error(e);
      return make_error("dlp_dictionary_invalid",
                        "Hyperscan refused the keywords, dictionaries or canaries: " + message);
    }
  }
  return Ok{};
}

}  // namespace

bool known_dlp_validator(std::string_view name) {
  for (const char* v : {"luhn", "iban", "ssn_us", "nino_uk", "dni_es", "nir_fr", "steuer_id_de",
                        "ipv4", "ipv6", "jwt", "email", "phone_e164", "phone_nanp",
                        "phone_national", "pem_block"})
    if (name == v) return true;
  return false;
}

bool extending_dlp_validator(std::string_view name) { return name == "pem_block"; }

DlpScanner::DlpScanner(DlpScanner&&) noexcept = default;
DlpScanner& DlpScanner::operator=(DlpScanner&&) noexcept = default;
DlpScanner::~DlpScanner() = default;

Result<DlpScanner> DlpScanner::load(const DlpOptions& options) {
  std::vector<DlpRule> rules;
  if (!options.rules_dir.empty()) {
    auto loaded = load_dlp_rule_dir(options.rules_dir);
    if (!loaded.ok()) return loaded.error();
    rules = std::move(*loaded);
  }
  return compile(std::move(rules), options);
}

Result<DlpScanner> DlpScanner::compile(std::vector<DlpRule> rules, const DlpOptions& options) {
  if (hs_valid_platform() != HS_SUCCESS)
    return make_error("hyperscan_unavailable", "this CPU lacks SSSE3, which Hyperscan needs");
  if (rules.size() > kMaxDlpRules)
    return make_error("dlp_rules_invalid", "more than " + std::to_string(kMaxDlpRules) + " rules");
  auto impl = std::make_unique<Impl>();
  impl->rules = std::move(rules);
  impl->max_findings = std::max<size_t>(options.max_findings, 1);
  std::vector<std::string> literal_text;  // per literal id: keywords, terms, canaries
  if (auto s = compile_rules(*impl, literal_text); !s.ok()) return s.error();
  if (auto s = read_dictionaries(options, *impl, literal_text); !s.ok()) return s.error();
  if (auto s = read_canaries(options, *impl, literal_text); !s.ok()) return s.error();
  if (auto s = compile_databases(*impl, literal_text); !s.ok()) return s.error();
  impl->max_secret = std::max(impl->max_secret, impl->max_short);
  impl->max_left += 1;  // \b and whole-word checks look one byte back
  impl->serial = internal::new_database_serial();
  DlpScanner scanner;
  scanner.impl_ = std::move(impl);
  return scanner;
}

std::vector<DlpFinding> DlpScanner::scan(std::string_view text) const {
  return scan_dlp_window(*impl_, text, 0, impl_->max_findings, false).findings;
}

size_t DlpScanner::max_secret_bytes() const { return impl_->max_secret; }
size_t DlpScanner::max_short_bytes() const { return impl_->max_short; }
size_t DlpScanner::max_left_context() const { return impl_->max_left; }
const std::vector<DlpScanner::LongRule>& DlpScanner::long_rules() const {
  return impl_->long_rules;
}
const std::vector<DlpRule>& DlpScanner::rules() const { return impl_->rules; }

Result<std::string> make_canary(std::string_view secret_key, std::string_view route) {
  if (secret_key.empty()) return make_error("dlp_canary_invalid", "the canary key is empty");
  std::string message = "ztgate-canary-v1";
  message.push_back('\0');
  message.append(route);
  std::array<unsigned char, 32> mac{};
  if (!internal::hmac_sha256(secret_key, message, mac))
    return make_error("dlp_canary_invalid", "HMAC-SHA256 failed");
  // Base32 (RFC 4648 alphabet, lowercase) of the first 20 bytes: 32 characters.
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out(kCanaryPrefix);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < 20; ++i) {
    acc = (acc << 8) | mac[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kAlphabet[(acc >> bits) & 31]);
    }
  }
  return out;
}

double shannon_entropy(std::string_view s) {
  if (s.empty()) return 0;
  std::array<size_t, 256> count{};
  for (char c : s) ++count[static_cast<unsigned char>(c)];
  double h = 0;
  const double n = static_cast<double>(s.size());
  for (size_t c : count) {
    if (c == 0) continue;
    const double p = static_cast<double>(c) / n;
    h -= p * std::log2(p);
  }
  return h;
}

std::string to_json(const std::vector<DlpFinding>& findings) {
  auto quoted = [](std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(c);
      } else if (u < 0x20) {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out.push_back(kHex[u >> 4]);
        out.push_back(kHex[u & 0xF]);
      } else {
        out.push_back(c);
      }
    }
    return out + "\"";
  };
  std::string out = "[";
  for (size_t i = 0; i < findings.size(); ++i) {
    const DlpFinding& f = findings[i];
    out += (i ? ",{" : "{");
    out += "\"kind\":" + quoted(f.kind) + ",\"category\":" + quoted(f.category) +
           ",\"begin\":" + std::to_string(f.begin) + ",\"end\":" + std::to_string(f.end) +
           ",\"rule_id\":" + quoted(f.rule_id) + "}";
  }
  return out + "]";
}

}  // namespace ztgate::inspect
