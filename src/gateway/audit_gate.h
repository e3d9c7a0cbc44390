// The gateway's side of the audit trail: the trail's options from the
// configuration, the gate a sync route's answer waits on, and the trail's
// Prometheus metrics.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>
#include <string>

#include "audit/sink_runner.h"
#include "audit/trail.h"
#include "config/gateway_config.h"
#include "gateway/http_server.h"

namespace ztgate::gateway {

audit::TrailOptions trail_options(const config::AuditSettings& settings);

// Opens when the record's ticket resolves durable. Refused (timeout or a
// failed ticket): 503 audit_unavailable, after `on_refused` ran.
class AuditGate final : public ReadyGate {
 public:
  AuditGate(std::shared_ptr<audit::Ticket> ticket, std::chrono::milliseconds timeout, std::string request_id,
            std::function<void()> on_refused)
      : ticket_(std::move(ticket)), timeout_(timeout), request_id_(std::move(request_id)),
        on_refused_(std::move(on_refused)) {}
  void when_ready(std::function<void(bool)> done) override { ticket_->on_durable(std::move(done)); }
  std::chrono::milliseconds timeout() const override { return timeout_; }
  HttpResponse refusal() override;

 private:
  std::shared_ptr<audit::Ticket> ticket_;
  std::chrono::milliseconds timeout_;
  std::string request_id_;
  std::function<void()> on_refused_;
};

// The configured sinks, each with its runner thread, woken after every
// commit of the trail. Created before the trail (its on_commit calls
// notify), started once the trail has created the store.
class AuditSinks {
 public:
  // Starts a runner per configured sink. Errors: a sink that cannot be built.
  Status start(const config::AuditSettings& settings);
  void notify(uint64_t seq);
  void stop();  // delivers what is committed (bounded), then stops
  std::string metrics() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<audit::SinkRunner>> runners_;
};

// ztgate_audit_* in Prometheus text format (the trail, and the sinks).
std::string audit_metrics(const audit::Trail& trail, const AuditSinks& sinks);

}  // namespace ztgate::gateway
