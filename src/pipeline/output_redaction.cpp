#include "pipeline/output_redaction.h"

#include <boost/json.hpp>

#include <algorithm>
#include <mutex>
#include <set>

#include "common/file_stamp.h"
#include "inspect/dlp_rules.h"
#include "pipeline/snapshot.h"

namespace ztgate::pipeline {
namespace {

namespace json = boost::json;

// A record names at most this many DLP findings per exchange; the count of
// the rest is kept.
constexpr size_t kMaxRecordedFindings = 256;

std::string category_of(const DlpRuntime& dlp, const std::string& kind) {
  if (kind == "canary") return "canary";
  if (kind.rfind("dictionary:", 0) == 0) return "custom";
  auto it = dlp.kind_category.find(kind);
  return it == dlp.kind_category.end() ? "" : it->second;
}

inspect::RedactMode mode_named(const std::string& name) {
  inspect::RedactMode m = inspect::RedactMode::mask;
  inspect::parse_redact_mode(name, m);  // validated when the config loaded
  return m;
}

void record(Exchange& x, const OutputRedaction& r, const inspect::DlpFinding& f, std::string_view source) {
  size_t recorded = 0;
  for (const auto& e : x.findings)
    if (const auto* o = e.if_object(); o && o->contains("dlp_kind")) ++recorded;
  if (recorded >= kMaxRecordedFindings) {
    auto& more = x.details["dlp_findings_not_recorded"];
    more = (more.is_int64() ? more.as_int64() : 0) + 1;
    return;
  }
  x.findings.push_back(json::object{{"kind", "dlp"},
                                    {"stage", "output"},
                                    {"source", source},
                                    {"dlp_kind", f.kind},
                                    {"category", f.category},
                                    {"rule_id", f.rule_id},
                                    {"begin", f.begin},
                                    {"end", f.end},
                                    {"action", inspect::redact_mode_name(inspect::mode_for(r.policy, f))}});
}

// What the scanner was built from: a reload with the same key reuses it.
std::string scanner_key(const config::DlpSettings& s, const std::vector<std::string>& canaries) {
  std::string key = s.rules_dir + dir_stamps(s.rules_dir);
  for (const auto& d : s.dictionaries) key += '\n' + file_stamp(d);
  for (const auto& c : canaries) key += "\ncanary " + c;
  return key;
}

Result<std::shared_ptr<const inspect::DlpScanner>> load_scanner(const config::DlpSettings& s,
                                                                const std::vector<std::string>& canaries) {
  static std::mutex mu;
  static std::string last_key;
  static std::shared_ptr<const inspect::DlpScanner> last;
  std::lock_guard lock(mu);
  std::string key = scanner_key(s, canaries);
  if (last && key == last_key) return last;
  inspect::DlpOptions o;
  o.rules_dir = s.rules_dir;
  o.dictionary_files = s.dictionaries;
  o.canaries = canaries;
  auto loaded = inspect::DlpScanner::load(o);
  if (!loaded) return make_error("config_invalid", "inspection.dlp: " + loaded.error().message);
  last_key = std::move(key);
  last = std::make_shared<const inspect::DlpScanner>(std::move(*loaded));
  return last;
}

}  // namespace

std::string dlp_category(std::string_view c) { return c == "secrets" ? "secret" : std::string(c); }

Result<std::shared_ptr<const OutputRedaction>> output_redaction_for(const Exchange& x) {
  static const std::vector<std::string> kNone;
  const auto& asked = x.verdict ? x.verdict->obligations.redact : kNone;
  const auto& pseudonymize = x.verdict ? x.verdict->obligations.pseudonymize : kNone;
  const std::shared_ptr<const DlpRuntime> dlp = x.snapshot ? x.snapshot->dlp : nullptr;
  if (!asked.empty() && (!dlp || !x.can_redact)) {
    return make_error("obligation_unfulfillable",
                      dlp ? "the policy allows this only with redaction, which this kind of request cannot carry"
                          : "the policy allows this only with redaction, and DLP is off (inspection.dlp)");
  }
  if (!pseudonymize.empty() && (!dlp || !x.can_pseudonymize)) {
    return make_error("obligation_unfulfillable",
                      dlp ? "the policy allows this only with pseudonymization, which this kind of request cannot carry"
                          : "the policy allows this only with pseudonymization, and DLP is off (inspection.dlp)");
  }
  if (!dlp || !x.can_redact) return std::shared_ptr<const OutputRedaction>();
  std::set<std::string> categories;
  for (const auto& c : asked) categories.insert(dlp_category(c));
  for (const auto& c : dlp->always) categories.insert(c);
  if (dlp->canaries.count(x.route)) categories.insert("canary");
  // Decided again (an MCP tool's answer, once inspected): tokens already
  // sent upstream must still come back as values, whatever the new decision.
  const OutputRedaction* before = x.redaction && x.redaction->vault ? x.redaction.get() : nullptr;
  if (categories.empty() && pseudonymize.empty() && !before) return std::shared_ptr<const OutputRedaction>();
  categories.insert("canary");  // any canary, whatever route it belongs to
  auto r = std::make_shared<OutputRedaction>();
  r->dlp = dlp;
  for (const auto& c : pseudonymize) r->pseudonymized.push_back(dlp_category(c));
  // One vault per exchange: tokens are HMACs under the DLP key, so the same
  // value gets the same token in every request of a conversation.
  if (before) {
    r->vault = before->vault;
    if (r->pseudonymized.empty()) r->pseudonymized = before->pseudonymized;
  } else if (!r->pseudonymized.empty()) {
    r->vault = std::make_shared<inspect::PseudonymVault>();
  }
  r->categories.assign(categories.begin(), categories.end());
  r->policy.fallback = inspect::RedactMode::keep;
  for (const auto& c : categories) {
    auto it = dlp->modes.find(c);
    r->policy.by_category[c] = it != dlp->modes.end() ? mode_named(it->second)
                               : c == "canary"        ? inspect::RedactMode::block
                                                      : inspect::RedactMode::mask;
  }
  // Per-kind modes only for kinds of the categories asked for: a kind's mode
  // must not redact what the decision chose to keep.
  for (const auto& [name, mode] : dlp->modes)
    if (categories.count(category_of(*dlp, name)) && !categories.count(name))
      r->policy.by_kind[name] = mode_named(mode);
  return std::shared_ptr<const OutputRedaction>(std::move(r));
}

std::string pseudonymize_request_text(Exchange& x, std::string_view text) {
  if (!x.redaction || !x.redaction->vault) return std::string(text);
  const OutputRedaction& r = *x.redaction;
  inspect::RedactionPolicy policy;
  policy.fallback = inspect::RedactMode::keep;
  for (const auto& c : r.pseudonymized) policy.by_category[c] = inspect::RedactMode::pseudonymize;
  auto findings = r.dlp->scanner->scan(text);
  int64_t replaced = 0;
  for (const auto& f : findings)
    if (inspect::mode_for(policy, f) == inspect::RedactMode::pseudonymize) ++replaced;
  if (replaced == 0) return std::string(text);
  auto& n = x.details["pseudonymized"];
  n = (n.is_int64() ? n.as_int64() : 0) + replaced;
  return inspect::redact(text, findings, policy, r.dlp->keys.redact, r.vault.get());
}

RedactedText redact_answer_text(Exchange& x, std::string_view original, std::string_view source) {
  RedactedText out;
  if (!x.redaction) {
    out.text = original;
    return out;
  }
  const OutputRedaction& r = *x.redaction;
  std::string restored;
  std::string_view text = original;
  if (r.vault) {
    restored = r.vault->restore(original);
    text = restored;
  }
  auto findings = r.dlp->scanner->scan(text);
  for (const auto& f : findings) record(x, r, f, source);
  out.blocked = inspect::blocks(findings, r.policy);
  out.text = out.blocked ? std::string() : inspect::redact(text, findings, r.policy, r.dlp->keys.redact, nullptr);
  return out;
}

namespace {

// Calls rewrite(value, text) for every string and number of `v` (numbers as
// their JSON text), depth first, until stop() says so. Depth-bounded: the
// parsers that built `v` bound it already.
template <class Rewrite, class Stop>
void for_each_scalar_text(json::value& v, const Rewrite& rewrite, const Stop& stop, int depth = 0) {
  if (stop() || depth > 64) return;
  switch (v.kind()) {
    case json::kind::string:
      if (!v.get_string().empty()) rewrite(v, std::string(v.get_string()));
      return;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      rewrite(v, json::serialize(v));
      return;
    case json::kind::array:
      for (auto& e : v.get_array()) for_each_scalar_text(e, rewrite, stop, depth + 1);
      return;
    case json::kind::object:
      for (auto& m : v.get_object()) for_each_scalar_text(m.value(), rewrite, stop, depth + 1);
      return;
    default:
      return;
  }
}

}  // namespace

bool pseudonymize_request_json(Exchange& x, json::value& part) {
  if (!x.redaction || !x.redaction->vault) return false;
  bool changed = false;
  for_each_scalar_text(
      part,
      [&](json::value& v, const std::string& text) {
        std::string out = pseudonymize_request_text(x, text);
        if (out == text) return;
        changed = true;
        v = std::move(out);  // a number that was a card becomes its token
      },
      [] { return false; });
  return changed;
}

RedactedJson redact_answer_json(Exchange& x, json::value& answer, std::string_view source) {
  RedactedJson out;
  if (!x.redaction) return out;
  for_each_scalar_text(
      answer,
      [&](json::value& v, const std::string& text) {
        auto r = redact_answer_text(x, text, source);
        out.blocked = out.blocked || r.blocked;
        if (r.text == text) return;
        out.changed = true;
        v = std::move(r.text);  // a number that was a card or an id becomes the redaction, as a string
      },
      [&] { return out.blocked; });
  return out;
}

std::unique_ptr<inspect::StreamRedactor> answer_stream_redactor(const Exchange& x) {
  if (!x.redaction) return nullptr;
  const OutputRedaction& r = *x.redaction;
  return std::make_unique<inspect::StreamRedactor>(*r.dlp->scanner, r.policy, r.dlp->keys.redact, nullptr);
}

std::unique_ptr<inspect::StreamRestorer> answer_stream_restorer(const Exchange& x) {
  if (!x.redaction || !x.redaction->vault) return nullptr;
  return std::make_unique<inspect::StreamRestorer>(*x.redaction->vault);
}

void record_stream_findings(Exchange& x, const inspect::StreamRedactor& redactor, std::string_view source) {
  if (!x.redaction) return;
  for (const auto& f : redactor.findings()) record(x, *x.redaction, f, source);
  if (const auto& b = redactor.block_finding()) record(x, *x.redaction, *b, source);
}

Result<std::shared_ptr<const DlpRuntime>> load_dlp_runtime(const config::GatewayConfig& config) {
  const config::DlpSettings& s = config.inspection.dlp;
  if (!s.enabled) return std::shared_ptr<const DlpRuntime>();
  auto rt = std::make_shared<DlpRuntime>();
  auto keys = inspect::load_or_create_dlp_keys(s.key_file);
  if (!keys) return make_error("config_invalid", "inspection.dlp.key_file: " + keys.error().message);
  rt->keys = std::move(*keys);
  std::vector<std::string> canaries;
  for (const auto& route : config.routes) {
    if (!route.canary) continue;
    auto token = inspect::make_canary(rt->keys.canary_key, route.path);
    if (!token) return token.error();
    rt->canaries[route.path] = *token;
    canaries.push_back(*token);
  }
  auto scanner = load_scanner(s, canaries);
  if (!scanner) return scanner.error();
  rt->scanner = std::move(*scanner);
  for (const auto& rule : rt->scanner->rules()) rt->kind_category.emplace(rule.kind, rule.category);
  rt->modes = s.modes;
  for (const auto& c : s.redact) rt->always.push_back(dlp_category(c));
  return std::shared_ptr<const DlpRuntime>(std::move(rt));
}

}  // namespace ztgate::pipeline
