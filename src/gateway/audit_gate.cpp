#include "gateway/audit_gate.h"

#include <cstdio>

namespace ztgate::gateway {
namespace {

void log_line(std::string_view level, std::string_view message) {
  std::fprintf(stderr, "ztgate: %.*s: %.*s\n", static_cast<int>(level.size()), level.data(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace

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
  o.retention.max_records = static_cast<uint64_t>(s.retention_max_records);
  o.retention.max_bytes = static_cast<uint64_t>(s.retention_max_bytes);
  o.retention.max_age_ms = s.retention_max_age_s * 1000;
  o.retention.archive_dir = s.archive_dir;
  o.retention_interval = std::chrono::milliseconds(s.retention_interval_s * 1000);
  o.log = log_line;
  return o;
}

HttpResponse AuditGate::refusal() {
  if (on_refused_) on_refused_();
  return json_error(503, "audit_unavailable",
                    "the audit trail could not record this request in time, so it was not carried out", request_id_);
}


Status AuditSinks::start(const config::AuditSettings& settings) {
  std::vector<std::unique_ptr<audit::SinkRunner>> runners;
  for (const auto& c : settings.sinks) {
    auto sink = audit::make_sink(c);
    if (!sink) return sink.error();
    audit::SinkRunnerOptions base;
    base.store_path = settings.store;
    base.log = log_line;
    auto runner = audit::SinkRunner::start(std::move(*sink), audit::runner_options(c, base));
    if (!runner) return runner.error();
    runners.push_back(std::move(*runner));
  }
  std::lock_guard lock(mu_);
  runners_ = std::move(runners);
  return Ok{};
}

void AuditSinks::notify(uint64_t seq) {
  std::lock_guard lock(mu_);
  for (auto& r : runners_) r->notify(seq);
}

void AuditSinks::stop() {
  std::lock_guard lock(mu_);
  for (auto& r : runners_) r->stop();
}

std::string AuditSinks::metrics() const {
  std::lock_guard lock(mu_);
  if (runners_.empty()) return "";
  std::string out;
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    uint64_t (*value)(const audit::SinkStats&);
  };
  static const Family kFamilies[] = {
      {"ztgate_audit_sink_delivered_total", "counter", "Records delivered per sink",
       [](const audit::SinkStats& s) { return s.delivered; }},
      {"ztgate_audit_sink_failures_total", "counter", "Failed deliveries per sink (retried)",
       [](const audit::SinkStats& s) { return s.failures; }},
      {"ztgate_audit_sink_skipped_total", "counter", "Records pruned before the sink delivered them",
       [](const audit::SinkStats& s) { return s.skipped; }},
      {"ztgate_audit_sink_cursor", "gauge", "Last sequence number the sink delivered",
       [](const audit::SinkStats& s) { return s.cursor; }},
      {"ztgate_audit_sink_failing", "gauge", "1 while the sink's deliveries fail",
       [](const audit::SinkStats& s) { return uint64_t{s.failing ? 1u : 0u}; }},
  };
  for (const auto& f : kFamilies) {
    out += std::string("# HELP ") + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.type + "\n";
    for (const auto& r : runners_)
      out += std::string(f.name) + "{sink=\"" + r->name() + "\"} " + std::to_string(f.value(r->stats())) + "\n";
  }
  return out;
}

std::string audit_metrics(const audit::Trail& trail, const AuditSinks& sinks) {
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
  metric("ztgate_audit_archived_records_total", "counter", "Records moved to archive segments by retention", s.archived);
  metric("ztgate_audit_pending_records", "gauge", "Records reserved or queued, not yet durable", s.pending_records);
  metric("ztgate_audit_pending_bytes", "gauge", "Bytes of queued events", s.pending_bytes);
  metric("ztgate_audit_last_seq", "gauge", "Sequence number of the last durable record", s.last_seq);
  metric("ztgate_audit_store_failing", "gauge", "1 while the store refuses commits", s.failing ? 1 : 0);
  return out + sinks.metrics();
}

}  // namespace ztgate::gateway
