#include "pipeline/inspect_stage.h"

#include <boost/json.hpp>

#include <algorithm>
#include <set>

#include "inspect/dlp.h"
#include "inspect/injection.h"
#include "pipeline/output_redaction.h"
#include "pipeline/snapshot.h"

namespace ztgate::pipeline {
namespace {

namespace json = boost::json;

constexpr size_t kMaxSpansPerFinding = 16;

json::object zero_verdict() { return inspect::verdict_context(inspect::InjectionVerdict{}); }

// The channel entry after another verdict: the higher score wins, sets join
// (sorted, each once). The entry's lists are already sorted and unique (the
// zero verdict's are empty, a merge leaves them so): a verdict that adds
// nothing to a list leaves it as it is.
void merge(json::object& into, const inspect::InjectionVerdict& v) {
  auto raise = [&](const char* k, int64_t n) {
    json::value& cur = into.at(k);
    if (n > cur.as_int64()) cur = n;
  };
  raise("score", static_cast<int64_t>(v.score));
  raise("rule_score", static_cast<int64_t>(v.rule_score));
  raise("model_score", static_cast<int64_t>(v.model_score));
  if (v.flagged) into.at("flagged") = true;
  if (v.hidden.suspicious()) into.at("hidden_text") = true;
  for (const auto& [k, added] : {std::pair{"categories", &v.categories}, std::pair{"rule_ids", &v.rule_ids}}) {
    if (added->empty()) continue;
    json::array& list = into.at(k).as_array();
    std::set<std::string> all(added->begin(), added->end());
    for (const auto& s : list) all.emplace(s.as_string());
    json::array out;
    out.reserve(all.size());
    for (const auto& s : all) out.emplace_back(s);
    list = std::move(out);
  }
}

json::object& injection_context(Exchange& x) {
  json::value& content = x.context["content"];
  if (!content.is_object()) content = json::object{};
  json::value& injection = content.as_object()["injection"];
  if (!injection.is_object()) {
    // The same for every request: built once, copied.
    static const json::object kFresh = [] {
      json::object fresh;
      for (inspect::Channel c : inspect::kAllChannels) fresh[inspect::channel_name(c)] = zero_verdict();
      fresh["max_score"] = 0;
      fresh["flagged"] = false;
      return fresh;
    }();
    injection = kFresh;
  }
  return injection.as_object();
}

json::object finding_of(const InspectText& t, const inspect::InjectionVerdict& v) {
  json::object f = inspect::verdict_context(v);
  f["kind"] = "injection";
  f["channel"] = inspect::channel_name(t.channel);
  if (!t.source.empty()) f["source"] = t.source;
  json::array spans;
  for (const auto& s : v.spans) {
    if (spans.size() == kMaxSpansPerFinding) break;
    spans.push_back(json::object{{"rule_id", s.rule_id}, {"begin", s.begin}, {"end", s.end}, {"view", s.view}});
  }
  if (!spans.empty()) f["spans"] = std::move(spans);
  return f;
}

json::object& dlp_context(Exchange& x) {
  json::value& content = x.context["content"];
  if (!content.is_object()) content = json::object{};
  json::value& dlp = content.as_object()["dlp"];
  if (!dlp.is_object()) {
    static const json::object kEmpty{{"categories", json::array{}}, {"kinds", json::array{}}, {"count", 0}};
    dlp = kEmpty;
  }
  return dlp.as_object();
}

// DLP over the input texts: what they carry, for policy (context.content.dlp)
// and the record (kind "dlp", stage "input"). Nothing is redacted here.
void scan_inputs(Exchange& x, const std::vector<InspectText>& texts) {
  if (!x.snapshot || !x.snapshot->dlp) return;
  const inspect::DlpScanner& scanner = *x.snapshot->dlp->scanner;
  json::object& dlp = dlp_context(x);
  // The lists are rebuilt (sorted, each once) only when a text has findings.
  std::set<std::string> categories, kinds;
  bool found = false;
  int64_t count = dlp.at("count").as_int64();
  for (const InspectText& t : texts) {
    if (t.text.empty()) continue;
    for (const auto& f : scanner.scan(t.text)) {
      if (f.category == "canary") continue;  // a canary in a request is not a leak of ours
      if (!found) {
        found = true;
        for (const char* k : {"categories", "kinds"})
          for (const auto& v : dlp.at(k).as_array()) (k[0] == 'c' ? categories : kinds).emplace(v.as_string());
      }
      categories.insert(f.category);
      kinds.insert(f.kind);
      ++count;
      if (count <= 64)
        x.findings.push_back(json::object{{"kind", "dlp"}, {"stage", "input"}, {"channel", inspect::channel_name(t.channel)},
                                          {"source", t.source}, {"dlp_kind", f.kind}, {"category", f.category},
                                          {"rule_id", f.rule_id}, {"begin", f.begin}, {"end", f.end}});
    }
  }
  if (!found) return;
  json::array c, k;
  for (const auto& v : categories) c.emplace_back(v);
  for (const auto& v : kinds) k.emplace_back(v);
  dlp["categories"] = std::move(c);
  dlp["kinds"] = std::move(k);
  dlp["count"] = count;
}

void refuse(Exchange& x, int status, const char* code, std::string message) {
  x.ending = Ending{status, code, std::move(message), {}, ""};
}

class InspectInputStage final : public Stage {
 public:
  const char* name() const override { return "inspect_input"; }
  Flow on_request(Exchange& x) override { return inspect_texts(x, x.inspect_texts) ? Flow::kContinue : Flow::kStop; }
};

}  // namespace

bool inspect_texts(Exchange& x, const std::vector<InspectText>& texts) {
  if (!x.snapshot || !x.snapshot->injection) return true;
  const auto& settings = x.snapshot->config.inspection;
  if (x.snapshot->dlp) dlp_context(x);  // present (empty) whatever the texts
  const inspect::InjectionDetector& detector = *x.snapshot->injection;
  json::object& injection = injection_context(x);
  if (texts.size() > static_cast<size_t>(settings.max_texts)) {
    refuse(x, 413, "inspection_too_large",
           "more than " + std::to_string(settings.max_texts) + " texts to inspect in one request");
    return false;
  }
  for (const InspectText& t : texts) {
    if (t.text.size() > static_cast<size_t>(settings.max_text_bytes)) {
      refuse(x, 413, "inspection_too_large",
             "a text of " + std::to_string(t.text.size()) + " bytes is over the inspection bound of " +
                 std::to_string(settings.max_text_bytes));
      return false;
    }
    if (t.text.empty()) continue;
    auto verdict = detector.inspect(t.text, t.channel);
    if (!verdict) {
      refuse(x, verdict.error().code == "input_too_large" ? 413 : 500,
             verdict.error().code == "input_too_large" ? "inspection_too_large" : "inspection_failed",
             "the content could not be inspected");
      return false;
    }
    merge(injection.at(inspect::channel_name(t.channel)).as_object(), *verdict);
    json::value& max_score = injection.at("max_score");
    if (static_cast<int64_t>(verdict->score) > max_score.as_int64()) max_score = static_cast<int64_t>(verdict->score);
    if (verdict->flagged) injection.at("flagged") = true;
    if (verdict->flagged || !verdict->rule_ids.empty() || verdict->hidden.suspicious()) x.findings.push_back(finding_of(t, *verdict));
  }
  scan_inputs(x, texts);
  return true;
}

inspect::SpotlightMode spotlight_mode(const Exchange& x) {
  inspect::SpotlightMode mode = inspect::SpotlightMode::datamark;
  const std::string asked = x.verdict && x.verdict->obligations.spotlight ? *x.verdict->obligations.spotlight : "";
  if (!inspect::parse_spotlight_mode(asked.empty() && x.snapshot ? x.snapshot->config.inspection.spotlight : asked, mode))
    mode = inspect::SpotlightMode::datamark;  // the stronger one
  return mode;
}

std::unique_ptr<Stage> make_inspect_input_stage() { return std::make_unique<InspectInputStage>(); }

}  // namespace ztgate::pipeline
