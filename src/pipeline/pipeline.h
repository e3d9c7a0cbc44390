// The verification pipeline: every adapter's Exchange runs through the same
// ordered stages (../docs/ARCHITECTURE.md):
//
//   authenticate -> enrich -> inspect_input -> authorize -> enforce
//     -> [forward, done by the server] -> inspect_output -> record -> learn -> respond
//
// A Stage sees the Exchange at up to four points:
//   on_request(x)       before the forward, in stage order; returning kStop
//                       ends the exchange (the stage sets x.ending). Later
//                       request stages are skipped.
//   on_output(x, bytes) every chunk of the response body as it streams to the
//                       client, in stage order. Output stages must not buffer
//                       the whole answer.
//   on_forward(x)       the exchange passed and is about to be forwarded
//                       upstream (the record stage writes a sync route's
//                       record here, before anything leaves).
//   on_complete(x)      once, when the exchange is over, whatever happened
//                       (ended early, forwarded, failed): the record stage
//                       writes the audit line here. Runs for every stage.
// Each stage's on_request time goes into ztgate_stage_duration_seconds{stage}
// and into the exchange's timings (the audit record carries them). Later
// pillars (inspection, behavior, response) add stages; adapters do not change.
//
// A stage that throws is treated as a stop with 500 internal_error (fail
// closed); the exception text is not shown to the client.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "pipeline/exchange.h"
#include "pipeline/metrics.h"

namespace ztgate::pipeline {

enum class Flow { kContinue, kStop };

class Stage {
 public:
  virtual ~Stage() = default;
  virtual const char* name() const = 0;  // static string, e.g. "authorize"
  virtual Flow on_request(Exchange&) { return Flow::kContinue; }
  virtual void on_output(Exchange&, std::string_view /*chunk*/) {}
  virtual void on_forward(Exchange&) {}
  virtual void on_complete(Exchange&) {}
};

class Pipeline {
 public:
  Pipeline(std::vector<std::unique_ptr<Stage>> stages, MetricsRegistry& metrics);

  // Runs the request side. True when the exchange may proceed (forward or
  // answer); false when a stage ended it (x.ending holds the answer).
  bool run_request(Exchange& x) const;
  // Runs the stages up to and including "authenticate" only. For input the
  // adapter refused: an unauthenticated caller gets 401, not a description
  // of what was wrong with its input. True when authentication passed.
  bool authenticate_only(Exchange& x) const;
  // Content that arrived after the decision (a tool's result) was inspected
  // into x.context: decides again with it, running "authorize" and
  // "enforce" once more (the decision cache keys on the new context). True
  // when the exchange may go on; false with x.ending set (a deny enforced).
  bool redecide(Exchange& x) const;
  void output(Exchange& x, std::string_view chunk) const;
  void forwarding(Exchange& x) const;
  void complete(Exchange& x) const;
  // The forward's time (upstream round trip), recorded as stage "forward".
  void record_forward(Exchange& x, std::chrono::nanoseconds elapsed) const;

 private:
  bool run(Exchange& x, size_t count) const;

  std::vector<std::unique_ptr<Stage>> stages_;
  std::vector<Histogram*> histograms_;  // per stage, same order
  Histogram* forward_ = nullptr;
};

}  // namespace ztgate::pipeline
