// RuleSet: the rule pack compiled into one Hyperscan block-mode database.
#include "inspect/rules.h"

#include <hs.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>

#include "inspect/internal/hs_scratch.h"

namespace ztgate::inspect {
namespace {

constexpr std::array<std::string_view, kRuleCategoryCount> kCategoryNames = {
    "instruction_override", "role_hijack",           "system_prompt_extraction",
    "tool_coercion",        "exfiltration_markdown", "hidden_instruction_marker",
    "jailbreak_persona",    "encoded_instruction",
};

constexpr ViewKind kViewKinds[] = {
    ViewKind::normalized,
    ViewKind::html_comment,
    ViewKind::alt,
    ViewKind::link,
    ViewKind::html_hidden,
    ViewKind::tag_chars,
    ViewKind::variation_selectors,
    ViewKind::base64,
    ViewKind::hex,
    ViewKind::url,
    ViewKind::rot13,
    ViewKind::quoted_printable,
};

unsigned flags_of(const Rule& rule) {
  unsigned flags = HS_FLAG_MULTILINE;
  if (!rule.case_sensitive) flags |= HS_FLAG_CASELESS;
  if (rule.unicode) flags |= HS_FLAG_UTF8 | HS_FLAG_UCP;
  return flags;
}

std::string where(const Rule& rule) {
  return rule.file + (rule.line > 0 ? ":" + std::to_string(rule.line) : std::string()) + ": rule " +
         rule.id;
}

struct CompileError {
  int index = -1;  // the expression Hyperscan refused, or -1
  std::string message;
};

// Compiles patterns[i] with flags[i]; on failure says which pattern.
hs_database_t* compile_uncached(const std::vector<const char*>& patterns,
                                const std::vector<unsigned>& flags, const std::vector<unsigned>& ids,
                                CompileError& err) {
  hs_database_t* db = nullptr;
  hs_compile_error_t* e = nullptr;
  const hs_error_t rc =
      hs_compile_multi(patterns.data(), flags.data(), ids.data(),
                       static_cast<unsigned>(patterns.size()), HS_MODE_BLOCK, nullptr, &db, &e);
  if (rc == HS_SUCCESS) return db;
  err.index = e != nullptr ? e->expression : -1;
  err.message = e != nullptr && e->message != nullptr ? e->message : "compile failed";
  if (e != nullptr) hs_free_compile_error(e);
  return nullptr;
}

// The cache file of a database: SHA-256 of the Hyperscan version and every
// (id, flags, pattern), so any change to a rule or the library misses.
std::string cache_path(const std::string& dir, const std::vector<const char*>& patterns,
                       const std::vector<unsigned>& flags, const std::vector<unsigned>& ids) {
  std::string key = hs_version();
  for (size_t i = 0; i < patterns.size(); ++i)
    key += "\n" + std::to_string(ids[i]) + " " + std::to_string(flags[i]) + " " + std::string(patterns[i]) + '\0';
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "hs-";
  for (unsigned char b : digest) {
    name += kHex[b >> 4];
    name += kHex[b & 15];
  }
  return (std::filesystem::path(dir) / (name + ".db")).string();
}

hs_database_t* load_cached(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return nullptr;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  hs_database_t* db = nullptr;
  // Hyperscan checks the bytes (magic, version, CRC, platform) itself.
  if (hs_deserialize_database(bytes.data(), bytes.size(), &db) != HS_SUCCESS) return nullptr;
  return db;
}

void store_cached(const std::string& path, const hs_database_t* db) {
  char* bytes = nullptr;
  size_t size = 0;
  if (hs_serialize_database(db, &bytes, &size) != HS_SUCCESS) return;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  bool written = false;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes, static_cast<std::streamsize>(size));
    written = static_cast<bool>(out.flush());
  }
  free(bytes);  // NOLINT: hs_serialize_database allocates with malloc
  if (written) std::filesystem::rename(tmp, path, ec);
  if (!written || ec) std::filesystem::remove(tmp, ec);
}

// compile_uncached() through the cache in `cache_dir` ("" = none).
hs_database_t* compile_all(const std::vector<const char*>& patterns, const std::vector<unsigned>& flags,
                           const std::vector<unsigned>& ids, CompileError& err, const std::string& cache_dir) {
  const std::string cached = cache_dir.empty() ? std::string() : cache_path(cache_dir, patterns, flags, ids);
  if (!cached.empty())
    if (hs_database_t* db = load_cached(cached)) return db;
  hs_database_t* db = compile_uncached(patterns, flags, ids, err);
  if (db != nullptr && !cached.empty()) store_cached(cached, db);
  return db;
}


}  // namespace

std::string_view rule_category_name(RuleCategory category) {
  const auto i = static_cast<size_t>(category);
  return i < kCategoryNames.size() ? kCategoryNames[i] : std::string_view("unknown");
}

bool parse_rule_category(std::string_view name, RuleCategory& out) {
  for (size_t i = 0; i < kCategoryNames.size(); ++i) {
    if (kCategoryNames[i] == name) {
      out = static_cast<RuleCategory>(i);
      return true;
    }
  }
  return false;
}

bool parse_view_kind(std::string_view name, ViewKind& out) {
  for (ViewKind kind : kViewKinds) {
    if (view_kind_name(kind) == name) {
      out = kind;
      return true;
    }
  }
  return false;
}

struct RuleSet::Database {
  // Rules for every view, and rules restricted to some views (scanned only
  // on views one of them applies to: a rule meant for HTML comments would
  // otherwise match, and be filtered out, all over the text).
  hs_database_t* general = nullptr;
  hs_database_t* restricted = nullptr;
  uint32_t restricted_views = 0;    // union of the restricted rules' view masks
  std::vector<uint32_t> min_width;  // per rule: the shortest match, in bytes
  std::vector<uint32_t> window;     // per rule: how far before a match end its start may lie
  uint64_t serial = internal::new_database_serial();  // identifies the databases per thread

  // Per rule, compiled the first time one of its findings needs a start:
  // the rule alone, for the start searches. A probe of a few dozen bytes
  // against one pattern costs a fraction of one against the whole pack
  // (its per-scan set-up dominated texts with findings: -27% scan time at
  // 16 KiB), and compiling lazily keeps loading the pack as fast as before
  // (all of them: +3.6 s of CPU). Null when Hyperscan refuses the rule
  // alone: its probes use the shared database.
  struct Single {
    std::once_flag once;
    hs_database_t* db = nullptr;
    uint64_t serial = 0;
  };
  std::unique_ptr<Single[]> single;
  std::string cache_dir;

  ~Database() {
    if (general != nullptr) hs_free_database(general);
    if (restricted != nullptr) hs_free_database(restricted);
    for (size_t i = 0; single && i < min_width.size(); ++i)
      if (single[i].db != nullptr) hs_free_database(single[i].db);
  }
  const hs_database_t* shared(const Rule& rule) const { return rule.views == 0 ? general : restricted; }
  // Rule `id` alone (compiled on first use), or null.
  const Single& alone(unsigned id, const Rule& rule) const {
    Single& s = single[id];
    std::call_once(s.once, [&] {
      CompileError ignored;  // the rule compiled within the pack: probes fall back to that
      const unsigned flags = flags_of(rule);
      s.db = compile_all({rule.pattern.c_str()}, {flags}, {id}, ignored, cache_dir);
      s.serial = internal::new_database_serial();
    });
    return s;
  }
};


RuleSet::RuleSet(RuleSet&&) noexcept = default;
RuleSet& RuleSet::operator=(RuleSet&&) noexcept = default;
RuleSet::~RuleSet() = default;

size_t RuleSet::database_bytes() const {
  size_t total = 0;
  if (!db_) return total;
  for (const hs_database_t* d : {db_->general, db_->restricted}) {
    size_t size = 0;
    if (d != nullptr && hs_database_size(d, &size) == HS_SUCCESS) total += size;
  }
  return total;
}

Result<RuleSet> RuleSet::compile(std::vector<Rule> rules, const std::string& cache_dir) {
  if (hs_valid_platform() != HS_SUCCESS)
    return make_error("hyperscan_unavailable", "this CPU lacks SSSE3, which Hyperscan needs");
  if (rules.empty()) return make_error("rules_invalid", "no rules to compile");
  if (rules.size() > kMaxRules)
    return make_error("rules_invalid", "more than " + std::to_string(kMaxRules) + " rules");
  std::set<std::string_view> ids;
  for (const Rule& r : rules) {
    if (!ids.insert(r.id).second) {
      const auto first =
          std::find_if(rules.begin(), rules.end(), [&](const Rule& o) { return o.id == r.id; });
      return make_error(
          "rules_invalid",
          where(r) + ": id already used at " + first->file + ":" + std::to_string(first->line),
          SourceLoc{r.line, 0});
    }
  }

  auto db = std::make_unique<Database>();
  db->window.assign(rules.size(), static_cast<uint32_t>(kMaxSpanWindow));
  db->min_width.assign(rules.size(), 1);
  std::vector<const char*> patterns;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids_of;
  for (size_t i = 0; i < rules.size(); ++i) {
    patterns.push_back(rules[i].pattern.c_str());
    flags.push_back(flags_of(rules[i]));
    ids_of.push_back(static_cast<unsigned>(i));
    // A pattern's own errors first, so that they name their rule.
    hs_expr_info_t* info = nullptr;
    hs_compile_error_t* e = nullptr;
    if (hs_expression_info(patterns[i], flags[i], &info, &e) != HS_SUCCESS) {
      std::string message = e != nullptr && e->message != nullptr ? e->message : "invalid";
      if (e != nullptr) hs_free_compile_error(e);
      if (message.find("UCP") != std::string::npos)
        message += " (\\b is not available with `unicode: true`)";
      return make_error("rules_invalid", where(rules[i]) + ": pattern: " + message,
                        SourceLoc{rules[i].line, 0});
    }
    if (info->max_width < kMaxSpanWindow) db->window[i] = info->max_width;
    db->min_width[i] = std::max(1u, std::min(info->min_width, db->window[i]));
    free(info);  // NOLINT: hs_expression_info allocates with malloc
  }
  // Two databases: rules for every view, rules for some views only.
  for (const bool restricted : {false, true}) {
    std::vector<const char*> p;
    std::vector<unsigned> f, id;
    for (size_t i = 0; i < rules.size(); ++i) {
      if ((rules[i].views != 0) != restricted) continue;
      p.push_back(patterns[i]);
      f.push_back(flags[i]);
      id.push_back(ids_of[i]);
      if (restricted) db->restricted_views |= rules[i].views;
    }
    if (p.empty()) continue;
    CompileError err;
    hs_database_t* compiled = compile_all(p, f, id, err, cache_dir);
    if (compiled == nullptr) {
      if (err.index >= 0 && static_cast<size_t>(err.index) < p.size()) {
        const Rule& bad = rules[id[static_cast<size_t>(err.index)]];
        return make_error("rules_invalid", where(bad) + ": pattern: " + err.message,
                          SourceLoc{bad.line, 0});
      }
      return make_error("rules_invalid", "Hyperscan refused the rule set: " + err.message);
    }
    (restricted ? db->restricted : db->general) = compiled;
  }
  db->single = std::make_unique<Database::Single[]>(rules.size());
  db->cache_dir = cache_dir;
  RuleSet set;
  set.rules_ = std::move(rules);
  set.db_ = std::move(db);
  return set;
}

namespace {

struct ScanContext {
  const std::vector<Rule>* rules = nullptr;
  const RuleSet::Database* db = nullptr;
  const RuleScanOptions* options = nullptr;
  RuleScan* out = nullptr;
  std::vector<size_t>* first_end = nullptr;   // per finding: the end of its first match
  std::vector<unsigned>* rule_of = nullptr;   // per finding: the rule's index
  std::vector<uint16_t>* per_rule = nullptr;  // findings per rule in this scan
  ViewKind kind = ViewKind::normalized;
  size_t view_index = 0;
  size_t view_first = 0;  // index of this view's first finding
};

int on_match(unsigned id, unsigned long long /*from*/, unsigned long long to, unsigned /*flags*/,
             void* ctx_ptr) {
  auto& ctx = *static_cast<ScanContext*>(ctx_ptr);
  const Rule& rule = (*ctx.rules)[id];
  if (!rule.applies_to(ctx.kind)) return 0;
  const size_t end = static_cast<size_t>(to);
  const size_t begin = end - std::min<size_t>(end, ctx.db->window[id]);
  std::vector<RuleFinding>& found = ctx.out->findings;
  // Matches of one rule in one view that may overlap (the shortest match
  // ending here would start before the last finding's end) are one finding:
  // Hyperscan reports every end ("instruction" and "instructions").
  const size_t latest_start = end - std::min<size_t>(end, ctx.db->min_width[id]);
  for (size_t i = found.size(); i > ctx.view_first; --i) {
    if ((*ctx.rule_of)[i - 1] != id) continue;
    RuleFinding& f = found[i - 1];
    if (latest_start <= f.span.end) {
      f.span.end = std::max(f.span.end, end);
      return 0;
    }
    break;
  }
  uint16_t& count = (*ctx.per_rule)[id];
  if (count >= ctx.options->max_per_rule) return 0;
  if (found.size() >= ctx.options->max_findings) {
    ctx.out->truncated = true;
    return 1;  // stop scanning
  }
  ++count;
  RuleFinding f;
  f.rule_id = rule.id;
  f.category = rule.category;
  f.weight = rule.weight;
  f.view = ctx.kind;
  f.view_index = ctx.view_index;
  f.span = Span{begin, end};
  f.exact_start = false;
  found.push_back(std::move(f));
  ctx.first_end->push_back(end);
  ctx.rule_of->push_back(id);
  return 0;
}

// Whether rule `id` has a match ending exactly at the end of `text`.
struct EndProbe {
  unsigned id = 0;
  unsigned long long end = 0;
  bool found = false;
};

int on_probe_match(unsigned id, unsigned long long /*from*/, unsigned long long to,
                   unsigned /*flags*/, void* ptr) {
  auto& probe = *static_cast<EndProbe*>(ptr);
  if (id != probe.id || to != probe.end) return 0;
  probe.found = true;
  return 1;  // stop
}

// The start of the shortest match of rule `id` ending at `end` in `view`:
// the largest s in [end - window, end - min_width] such that view[s, end)
// still holds a match ending at `end` (then every smaller s does too). Found
// from the right, with buffers doubling from the shortest match (short
// probes for short matches), then by bisection: ~2 log2(match / min_width)
// scans. Returns false when there is none inside the window (the match
// starts before it).
bool shortest_match_start(const hs_database_t* db, hs_scratch_t* scratch, std::string_view view,
                          unsigned id, size_t end, size_t min_width, size_t window, size_t& start,
                          hs_error_t& error) {
  auto holds = [&](size_t s) {
    EndProbe probe{id, end - s, false};
    const hs_error_t rc = hs_scan(db, view.data() + s, static_cast<unsigned>(end - s), 0, scratch,
                                  on_probe_match, &probe);
    if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) error = rc;
    return probe.found;
  };
  window = std::min(end, window);
  min_width = std::min(min_width, window);
  // Grow the buffer [end - len, end) until it holds the match.
  size_t fails = 0;  // a length known not to hold it (0: none tried)
  size_t len = std::max<size_t>(min_width, 1);
  while (!holds(end - len)) {
    if (len >= window || error != HS_SUCCESS) return false;
    fails = len;
    len = std::min(window, 2 * len);
  }
  // The shortest length in (fails, len] that holds it.
  size_t lo = fails, hi = len;  // !holds(end - lo) (or lo == 0), holds(end - hi)
  while (hi - lo > 1) {
    const size_t mid = lo + (hi - lo) / 2;
    if (holds(end - mid)) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  start = end - hi;
  return true;
}

}  // namespace

Result<RuleScan> RuleSet::scan(const Normalized& text, const RuleScanOptions& options) const {
  RuleScan out;
  if (!db_) return make_error("scan_failed", "the rule set is not compiled");
  hs_scratch_t* scratch = internal::thread_scratch(db_->serial, {db_->general, db_->restricted});
  if (scratch == nullptr)
    return make_error("scan_failed", "cannot allocate Hyperscan scratch space");
  std::vector<uint16_t> per_rule(rules_.size(), 0);
  std::vector<size_t> first_end;
  std::vector<unsigned> rule_of;
  ScanContext ctx;
  ctx.rules = &rules_;
  ctx.db = db_.get();
  ctx.options = &options;
  ctx.out = &out;
  ctx.first_end = &first_end;
  ctx.rule_of = &rule_of;
  ctx.per_rule = &per_rule;
  for (size_t v = 0; v < text.views.size() && !out.truncated; ++v) {
    const View& view = text.views[v];
    if (view.text.empty()) continue;
    ctx.kind = view.kind;
    ctx.view_index = v;
    ctx.view_first = out.findings.size();
    // Views are below 4 GiB: the normalizer refuses inputs of 256 MiB.
    const auto size = static_cast<unsigned>(view.text.size());
    const bool restricted =
        db_->restricted != nullptr &&
        (db_->restricted_views & (uint32_t{1} << static_cast<unsigned>(view.kind))) != 0;
    for (const hs_database_t* d : {db_->general, restricted ? db_->restricted : nullptr}) {
      if (d == nullptr || out.truncated) continue;
      const hs_error_t rc = hs_scan(d, view.text.data(), size, 0, scratch, on_match, &ctx);
      if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED)
        return make_error("scan_failed", "Hyperscan scan failed (" + std::to_string(rc) + ")");
    }
  }
  // Exact starts: the start of the shortest match ending where each
  // finding's first match ends (the scan reports ends only).
  for (size_t i = 0; i < out.findings.size(); ++i) {
    RuleFinding& f = out.findings[i];
    const unsigned id = rule_of[i];
    size_t start = 0;
    hs_error_t error = HS_SUCCESS;
    const Database::Single& alone = db_->alone(id, rules_[id]);
    const hs_database_t* probe_db = db_->shared(rules_[id]);
    if (alone.db != nullptr) {
      // A scratch only grows: it still fits the pack's databases after this.
      if (hs_scratch_t* fitted = internal::thread_scratch(alone.serial, {alone.db})) {
        scratch = fitted;
        probe_db = alone.db;
      }
    }
    if (shortest_match_start(probe_db, scratch, text.views[f.view_index].text, id,
                             first_end[i], db_->min_width[id], db_->window[id], start, error)) {
      f.span.begin = start;
      f.exact_start = true;
    }
    if (error != HS_SUCCESS)
      return make_error("scan_failed", "Hyperscan scan failed (" + std::to_string(error) + ")");
  }
  for (RuleFinding& f : out.findings)
    f.input = text.map_to_input(f.view_index, f.span.begin, f.span.end);
  return out;
}

Result<RuleSet> load_rule_set(const std::string& dir, const std::string& cache_dir) {
  auto rules = load_rule_dir(dir);
  if (!rules.ok()) return rules.error();
  return RuleSet::compile(std::move(*rules), cache_dir);
}

}  // namespace ztgate::inspect
