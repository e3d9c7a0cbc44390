#include "pipeline/pipeline.h"

#include <exception>

namespace ztgate::pipeline {
namespace {

constexpr std::string_view kStageHelp = "Time spent in each pipeline stage";

Ending internal_error(std::string_view stage) {
  return Ending{500, "internal_error", "the request could not be verified (" + std::string(stage) + ")", {}, ""};
}

}  // namespace

Pipeline::Pipeline(std::vector<std::unique_ptr<Stage>> stages, MetricsRegistry& metrics)
    : stages_(std::move(stages)) {
  for (const auto& s : stages_) {
    auto h = metrics.histogram("ztgate_stage_duration_seconds", kStageHelp, {{"stage", s->name()}});
    histograms_.push_back(h ? *h : nullptr);
  }
  auto h = metrics.histogram("ztgate_stage_duration_seconds", kStageHelp, {{"stage", "forward"}});
  forward_ = h ? *h : nullptr;
}

bool Pipeline::run_request(Exchange& x) const { return run(x, stages_.size()); }

bool Pipeline::authenticate_only(Exchange& x) const {
  for (size_t i = 0; i < stages_.size(); ++i)
    if (std::string_view(stages_[i]->name()) == "authenticate") return run(x, i + 1);
  return true;
}

bool Pipeline::run(Exchange& x, size_t count) const {
  for (size_t i = 0; i < count; ++i) {
    auto start = std::chrono::steady_clock::now();
    Flow flow;
    try {
      flow = stages_[i]->on_request(x);
    } catch (const std::exception&) {
      x.ending = internal_error(stages_[i]->name());
      flow = Flow::kStop;
    }
    auto elapsed = std::chrono::steady_clock::now() - start;
    x.timings.push_back({stages_[i]->name(), std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()});
    if (histograms_[i]) histograms_[i]->observe(elapsed);
    if (flow == Flow::kStop) {
      if (!x.ending) x.ending = internal_error(stages_[i]->name());
      return false;
    }
  }
  return true;
}

bool Pipeline::redecide(Exchange& x) const {
  x.request.reset();
  x.verdict.reset();
  for (size_t i = 0; i < stages_.size(); ++i) {
    const std::string_view name = stages_[i]->name();
    if (name != "authorize" && name != "enforce") continue;
    auto start = std::chrono::steady_clock::now();
    Flow flow;
    try {
      flow = stages_[i]->on_request(x);
    } catch (const std::exception&) {
      x.ending = internal_error(stages_[i]->name());
      flow = Flow::kStop;
    }
    auto elapsed = std::chrono::steady_clock::now() - start;
    x.timings.push_back({stages_[i]->name(), std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()});
    if (flow == Flow::kStop) {
      if (!x.ending) x.ending = internal_error(stages_[i]->name());
      return false;
    }
  }
  return true;
}

void Pipeline::output(Exchange& x, std::string_view chunk) const {
  for (const auto& s : stages_) {
    try {
      s->on_output(x, chunk);
    } catch (const std::exception&) {
      // An output stage that fails must not take the response down with it;
      // the record stage notes the failure through x.details.
      x.details["output_stage_failed"] = s->name();
    }
  }
}

void Pipeline::forwarding(Exchange& x) const {
  for (const auto& s : stages_) {
    try {
      s->on_forward(x);
    } catch (const std::exception&) {
      x.details["forward_stage_failed"] = s->name();
    }
  }
}

void Pipeline::complete(Exchange& x) const {
  for (const auto& s : stages_) {
    try {
      s->on_complete(x);
    } catch (const std::exception&) {
      x.details["complete_stage_failed"] = s->name();
    }
  }
}

void Pipeline::record_forward(Exchange& x, std::chrono::nanoseconds elapsed) const {
  x.timings.push_back({"forward", elapsed.count()});
  if (forward_) forward_->observe(elapsed);
}

}  // namespace ztgate::pipeline
