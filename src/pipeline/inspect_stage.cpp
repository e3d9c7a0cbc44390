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

// The channel entry after another verdict: the higher score wins, sets join.
void merge(json::object& into, const json::object& v) {
  auto as_int = [](const json::object& o, const char* k) { return o.at(k).as_int64(); };
  for (const char* k : {"score", "rule_score", "model_score"})
    into[k] = std::max(as_int(into, k), as_int(v, k));
  for (const char* k : {"flagged", "hidden_text"}) into[k] = into.at(k).as_bool() || v.at(k).as_bool();
  for (const char* k : {"categories", "rule_ids"}) {
    std::set<std::string> all;
    for (const json::object* o : {static_cast<const json::object*>(&into), &v})
      for (const auto& s : o->at(k).as_array()) all.emplace(s.as_string());
    json::array out;
    for (const auto& s : all) out.emplace_back(s);
    into[k] = std::move(out);
  }
}

json::object& injection_context(Exchange& x) {
  json::value& content = x.context["content"];
  if (!content.is_object()) content = json::object{};
  json::value& injection = content.as_object()["injection"];
  if (!injection.is_object()) {
    json::object fresh;
    for (inspect::Channel c : inspect::kAllChannels) fresh[inspect::channel_name(c)] = zero_verdict();
    fresh["max_score"] = 0;
    fresh["flagged"] = false;
    injection = std::move(fresh);
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
  if (!dlp.is_object()) dlp = json::object{{"categories", json::array{}}, {"kinds", json::array{}}, {"count", 0}};
  return dlp.as_object();
}

// DLP over the input texts: what they carry, for policy (context.content.dlp)
// and the record (kind "dlp", stage "input"). Nothing is redacted here.
void scan_inputs(Exchange& x, const std::vector<InspectText>& texts) {
  if (!x.snapshot || !x.snapshot->dlp) return;
  const inspect::DlpScanner& scanner = *x.snapshot->dlp->scanner;
  json::object& dlp = dlp_context(x);
  std::set<std::string> categories, kinds;
  for (const char* k : {"categories", "kinds"})
    for (const auto& v : dlp.at(k).as_array()) (k[0] == 'c' ? categories : kinds).emplace(v.as_string());
  int64_t count = dlp.at("count").as_int64();
  for (const InspectText& t : texts) {
    if (t.text.empty()) continue;
    for (const auto& f : scanner.scan(t.text)) {
      if (f.category == "canary") continue;  // a canary in a request is not a leak of ours
      categories.insert(f.category);
      kinds.insert(f.kind);
      ++count;
      if (count <= 64)
        x.findings.push_back(json::object{{"kind", "dlp"}, {"stage", "input"}, {"channel", inspect::channel_name(t.channel)},
                                          {"source", t.source}, {"dlp_kind", f.kind}, {"category", f.category},
                                          {"rule_id", f.rule_id}, {"begin", f.begin}, {"end", f.end}});
    }
  }
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
    json::object v = inspect::verdict_context(*verdict);
    merge(injection[inspect::channel_name(t.channel)].as_object(), v);
    injection["max_score"] = std::max(injection.at("max_score").as_int64(), static_cast<int64_t>(verdict->score));
    injection["flagged"] = injection.at("flagged").as_bool() || verdict->flagged;
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
