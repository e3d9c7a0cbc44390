#include <boost/json.hpp>

#include "pipeline/output_redaction.h"
#include "pipeline/snapshot.h"
#include "pipeline/stages.h"

namespace ztgate::pipeline {
namespace {

class EnforceStage final : public Stage {
 public:
  explicit EnforceStage(MetricsRegistry& metrics) {
    allow_ = counter(metrics, "allow", "true");
    deny_ = counter(metrics, "deny", "true");
    shadow_deny_ = counter(metrics, "deny", "false");
  }
  const char* name() const override { return "enforce"; }

  Flow on_request(Exchange& x) override {
    if (x.pdp_query || x.decide_many) {
      // The PDP answers decisions and its caller (the PEP) enforces them; a
      // filtered listing enforces by leaving out what is denied.
      count(allow_, x.details, "allowed");
      count(deny_, x.details, "denied");
      return Flow::kContinue;
    }
    if (!x.verdict) {
      x.ending = Ending{500, "internal_error", "no decision was made", {}, ""};
      return Flow::kStop;
    }
    if (x.verdict->decision == cedar::Decision::kAllow) {
      auto redaction = output_redaction_for(x);
      if (!redaction) {
        // Passing content unredacted would be failing open.
        x.ending = Ending{403, "obligation_unfulfillable", redaction.error().message, {}, ""};
        if (deny_) deny_->inc();
        return Flow::kStop;
      }
      x.redaction = std::move(*redaction);
      if (x.verdict->obligations.spotlight && !x.can_spotlight) {
        // Only adapters that carry untrusted content back can wrap it.
        x.ending = Ending{403, "obligation_unfulfillable",
                          "the policy allows this only with spotlighting, which this kind of request cannot carry", {}, ""};
        if (deny_) deny_->inc();
        return Flow::kStop;
      }
      if (x.verdict->obligations.minimize) {
        // Only retrieval search (its own decisions) projects documents.
        x.ending = Ending{403, "obligation_unfulfillable",
                          "the policy allows this only with minimization (@minimize), which this kind of request cannot carry", {}, ""};
        if (deny_) deny_->inc();
        return Flow::kStop;
      }
      if (allow_) allow_->inc();
      return Flow::kContinue;
    }
    if (x.shadow) {
      // Shadow mode: the deny is recorded (and counted) but not enforced;
      // the answer still goes through the redaction every answer gets.
      x.enforced = false;
      if (auto redaction = output_redaction_for(x)) x.redaction = std::move(*redaction);
      if (shadow_deny_) shadow_deny_->inc();
      return Flow::kContinue;
    }
    if (deny_) deny_->inc();
    const auto& v = *x.verdict;
    static const std::vector<std::string> kNone;
    bool explain = x.snapshot->config.explain_denials;
    DenyAnswer answer = deny_answer(v.obligations.on_deny, x.request_id,
                                    explain ? (v.names.empty() ? v.determining : v.names) : kNone);
    x.ending = Ending{answer.status, std::move(answer.code), "denied by policy", std::move(answer.headers),
                      std::move(answer.body)};
    return Flow::kStop;
  }

 private:
  static Counter* counter(MetricsRegistry& m, const char* decision, const char* enforced) {
    auto c = m.counter("ztgate_decisions_total", "Authorization decisions by result and enforcement",
                       {{"decision", decision}, {"enforced", enforced}});
    return c ? *c : nullptr;
  }
  static void count(Counter* c, const boost::json::object& details, const char* key) {
    if (!c) return;
    if (auto* v = details.if_contains(key); v && v->is_int64()) c->inc(static_cast<uint64_t>(v->as_int64()));
  }

  Counter* allow_ = nullptr;
  Counter* deny_ = nullptr;
  Counter* shadow_deny_ = nullptr;
};

}  // namespace

std::unique_ptr<Stage> make_enforce_stage(MetricsRegistry& metrics) { return std::make_unique<EnforceStage>(metrics); }

}  // namespace ztgate::pipeline
