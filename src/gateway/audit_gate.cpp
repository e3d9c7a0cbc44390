#include "gateway/audit_gate.h"

#include <cstdio>

namespace ztgate::gateway {

audit::TrailOptions trail_options(const config::AuditSettings& s) {
  audit::TrailOptions o;
  o.store_path = s.store;
  o.key_path = s.key;
  o.public_key_path = s.public_key;
  o.max_pending_records = static_cast<size_t>(s.max_pending_records);
  o.max_pending_bytes = static_cast<size_t>(s.max_pending_bytes);
  o.commit_interval = std::chrono::milliseconds(s.commit_interval_ms);
  o.checkpoint_every = static_cast<uint64_t>(s.checkpoint_every);
  o.checkpoint_interval = std::chrono::milliseconds(s.checkpoint_interval_ms);
  o.log = [](std::string_view level, std::string_view message) {
    std::fprintf(stderr, "ztgate: %.*s: %.*s\n", static_cast<int>(level.size()), level.data(),
                 static_cast<int>(message.size()), message.data());
  };
  return o;
}

HttpResponse AuditGate::refusal() {
  if (on_refused_) on_refused_();
  return json_error(503, "audit_unavailable",
                    "the audit trail could not record this request in time, so it was not carried out", request_id_);
}

std::string audit_metrics(const audit::Trail& trail) {
  auto s = trail.stats();
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, uint64_t value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(value) + "\n";
  };
  metric("ztgate_audit_records_appended_total", "counter", "Audit events queued for the trail", s.appended);
  metric("ztgate_audit_records_committed_total", "counter", "Audit records durable in the store", s.committed);
  metric("ztgate_audit_commits_total", "counter", "Store transactions (group commits)", s.commits);
  metric("ztgate_audit_commit_failures_total", "counter", "Store commits that failed (retried)", s.commit_failures);
  metric("ztgate_audit_refused_total", "counter", "Requests refused because the trail's queue was full", s.refused);
  metric("ztgate_audit_checkpoints_total", "counter", "Signed checkpoints written", s.checkpoints);
  metric("ztgate_audit_pending_records", "gauge", "Records reserved or queued, not yet durable", s.pending_records);
  metric("ztgate_audit_pending_bytes", "gauge", "Bytes of queued events", s.pending_bytes);
  metric("ztgate_audit_last_seq", "gauge", "Sequence number of the last durable record", s.last_seq);
  metric("ztgate_audit_store_failing", "gauge", "1 while the store refuses commits", s.failing ? 1 : 0);
  return out;
}

}  // namespace ztgate::gateway
