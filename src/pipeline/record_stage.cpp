#include "pipeline/ocsf_event.h"
#include "pipeline/snapshot.h"
#include "pipeline/inspect_stage.h"
#include "pipeline/stages.h"

namespace ztgate::pipeline {
namespace {

PayloadMode payload_mode(std::string_view name) {
  if (name == "hash") return PayloadMode::kHash;
  if (name == "redacted") return PayloadMode::kRedacted;
  if (name == "full") return PayloadMode::kFull;
  return PayloadMode::kNone;
}

// Appends the exchange's event to the trail. A sync route's first record
// gives the exchange a ticket the server waits on before answering.
class RecordStage final : public Stage {
 public:
  RecordStage(audit::Trail& trail, std::string product_version)
      : trail_(trail), product_version_(std::move(product_version)) {}
  const char* name() const override { return "record"; }

  // Sync routes: the decision is durable before the request leaves.
  // Long-lived forwards: the decision is on record while the tunnel lasts.
  void on_forward(Exchange& x) override {
    if (!x.audit_sync && !x.record_at_forward) return;
    record(x);
    x.decision_recorded = true;
  }

  void on_complete(Exchange& x) override { record(x); }

 private:
  void record(Exchange& x) {
    EventOptions options;
    options.config_version = x.snapshot ? x.snapshot->version : 0;
    options.product_version = product_version_;
    if (x.snapshot && x.capture_payloads) {
      options.payload_mode = payload_mode(config::route_audit_payload(x.snapshot->config, x.route));
      options.max_payload_bytes = static_cast<size_t>(x.snapshot->config.audit.max_payload_bytes);
      options.request_payload = x.request_payload;
      options.response_payload = x.response_payload;
    }
    options.http_method = x.http_method;
    record_side_events(x, options);
    audit::Event event = ocsf_event(x, options);
    // The first record of a sync exchange is waited for; a forward's
    // completion record after it is not (the answer is already streaming).
    bool wait = x.audit_sync && !x.decision_recorded;
    auto ticket = trail_.append(std::move(x.audit_room), std::move(event), wait);
    if (wait) x.audit_ticket = std::move(ticket);
  }

  // Appended before the exchange's own record, so that the ticket a sync
  // route waits on covers them too (the trail commits in append order).
  // They take room unconditionally (an empty reservation): at most one per
  // exchange (Exchange::side_records), whose own record reserved its room.
  void record_side_events(Exchange& x, EventOptions options) {
    options.payload_mode = PayloadMode::kNone;
    options.request_payload = {};
    options.response_payload = {};
    for (auto& side : x.side_records) {
      std::swap(x.action, side.action);
      std::swap(x.resource, side.resource);
      std::swap(x.details, side.details);
      audit::Event event = ocsf_event(x, options);
      std::swap(x.action, side.action);
      std::swap(x.resource, side.resource);
      std::swap(x.details, side.details);
      trail_.append(audit::Trail::Reservation{}, std::move(event));
    }
    x.side_records.clear();  // a forward recorded at its start does not repeat them at completion
  }

  audit::Trail& trail_;
  std::string product_version_;
};

}  // namespace

std::unique_ptr<Stage> make_record_stage(audit::Trail& trail, std::string product_version) {
  return std::make_unique<RecordStage>(trail, std::move(product_version));
}

std::vector<std::unique_ptr<Stage>> standard_stages(DecisionCache& cache, MetricsRegistry& metrics, audit::Trail& trail,
                                                    state::SessionStore& sessions, std::string product_version) {
  std::vector<std::unique_ptr<Stage>> stages;
  stages.push_back(make_authenticate_stage());
  stages.push_back(make_enrich_stage());
  stages.push_back(make_session_stage(sessions));
  stages.push_back(make_inspect_input_stage());
  stages.push_back(make_authorize_stage(cache));
  stages.push_back(make_enforce_stage(metrics));
  stages.push_back(make_output_meter_stage());
  stages.push_back(make_record_stage(trail, std::move(product_version)));
  return stages;
}

}  // namespace ztgate::pipeline
