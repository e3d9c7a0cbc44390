// The Pipeline runner (pipeline.h) with fake stages: order, stop, fail
// closed on a throwing stage, output and completion fan-out, timings and the
// per-stage latency metrics.
#include "pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace ztgate::pipeline {
namespace {

using namespace std::chrono_literals;

// Appends "<name>:<event>" to a shared log; optionally stops or throws.
class FakeStage : public Stage {
 public:
  enum class Mode { kContinue, kStop, kStopNoEnding, kThrow, kThrowLater };
  FakeStage(const char* name, std::vector<std::string>& log, Mode mode = Mode::kContinue)
      : name_(name), log_(log), mode_(mode) {}
  const char* name() const override { return name_; }
  Flow on_request(Exchange& x) override {
    log_.push_back(std::string(name_) + ":request");
    switch (mode_) {
      case Mode::kContinue:
        return Flow::kContinue;
      case Mode::kStop:
        x.ending = Ending{403, "forbidden", "no", {}, ""};
        return Flow::kStop;
      case Mode::kStopNoEnding:
        return Flow::kStop;
      case Mode::kThrow:
        throw std::runtime_error("secret detail");
      case Mode::kThrowLater:
        return Flow::kContinue;
    }
    return Flow::kContinue;
  }
  void on_output(Exchange&, std::string_view chunk) override {
    log_.push_back(std::string(name_) + ":output:" + std::string(chunk));
    if (mode_ == Mode::kThrowLater) throw std::runtime_error("output failed");
  }
  void on_complete(Exchange&) override {
    log_.push_back(std::string(name_) + ":complete");
    if (mode_ == Mode::kThrowLater) throw std::runtime_error("complete failed");
  }

 private:
  const char* name_;
  std::vector<std::string>& log_;
  Mode mode_;
};

struct Fixture {
  std::vector<std::string> log;
  MetricsRegistry metrics;
  std::unique_ptr<Pipeline> pipeline;

  void build(std::vector<std::pair<const char*, FakeStage::Mode>> specs) {
    std::vector<std::unique_ptr<Stage>> stages;
    for (auto& [name, mode] : specs) stages.push_back(std::make_unique<FakeStage>(name, log, mode));
    pipeline = std::make_unique<Pipeline>(std::move(stages), metrics);
  }
};

using M = FakeStage::Mode;

std::vector<std::string> stage_names(const Exchange& x) {
  std::vector<std::string> out;
  for (const auto& t : x.timings) out.emplace_back(t.stage);
  return out;
}

TEST(Pipeline, RunsRequestStagesInOrder) {
  Fixture f;
  f.build({{"a", M::kContinue}, {"b", M::kContinue}, {"c", M::kContinue}});
  Exchange x;
  EXPECT_TRUE(f.pipeline->run_request(x));
  EXPECT_FALSE(x.ending);
  EXPECT_EQ(f.log, (std::vector<std::string>{"a:request", "b:request", "c:request"}));
}

TEST(Pipeline, StopEndsTheRequestSideAndSkipsLaterStages) {
  Fixture f;
  f.build({{"a", M::kContinue}, {"b", M::kStop}, {"c", M::kContinue}});
  Exchange x;
  EXPECT_FALSE(f.pipeline->run_request(x));
  ASSERT_TRUE(x.ending);
  EXPECT_EQ(x.ending->status, 403);
  EXPECT_EQ(x.ending->code, "forbidden");
  EXPECT_EQ(f.log, (std::vector<std::string>{"a:request", "b:request"}));
  EXPECT_EQ(stage_names(x), (std::vector<std::string>{"a", "b"}));
}

TEST(Pipeline, StopWithoutAnEndingFailsClosed) {
  Fixture f;
  f.build({{"quiet", M::kStopNoEnding}});
  Exchange x;
  EXPECT_FALSE(f.pipeline->run_request(x));
  ASSERT_TRUE(x.ending);
  EXPECT_EQ(x.ending->status, 500);
  EXPECT_EQ(x.ending->code, "internal_error");
}

TEST(Pipeline, ThrowingStageIsA500NamingTheStageWithoutTheExceptionText) {
  Fixture f;
  f.build({{"a", M::kContinue}, {"boom", M::kThrow}, {"c", M::kContinue}});
  Exchange x;
  EXPECT_FALSE(f.pipeline->run_request(x));
  ASSERT_TRUE(x.ending);
  EXPECT_EQ(x.ending->status, 500);
  EXPECT_EQ(x.ending->code, "internal_error");
  EXPECT_NE(x.ending->message.find("boom"), std::string::npos) << x.ending->message;
  EXPECT_EQ(x.ending->message.find("secret detail"), std::string::npos) << x.ending->message;
  EXPECT_EQ(f.log, (std::vector<std::string>{"a:request", "boom:request"}));
  EXPECT_EQ(stage_names(x), (std::vector<std::string>{"a", "boom"}));
}

TEST(Pipeline, AuthenticateOnlyRunsUpToAuthenticate) {
  Fixture f;
  f.build({{"pre", M::kContinue}, {"authenticate", M::kContinue}, {"authorize", M::kContinue}});
  Exchange x;
  EXPECT_TRUE(f.pipeline->authenticate_only(x));
  EXPECT_EQ(f.log, (std::vector<std::string>{"pre:request", "authenticate:request"}));
}

TEST(Pipeline, AuthenticateOnlyReportsAFailedAuthentication) {
  Fixture f;
  f.build({{"authenticate", M::kStop}, {"authorize", M::kContinue}});
  Exchange x;
  EXPECT_FALSE(f.pipeline->authenticate_only(x));
  EXPECT_EQ(f.log, (std::vector<std::string>{"authenticate:request"}));
}

TEST(Pipeline, OutputGoesToEveryStageInOrder) {
  Fixture f;
  f.build({{"a", M::kContinue}, {"b", M::kContinue}});
  Exchange x;
  f.pipeline->output(x, "one");
  f.pipeline->output(x, "two");
  EXPECT_EQ(f.log, (std::vector<std::string>{"a:output:one", "b:output:one", "a:output:two", "b:output:two"}));
}

TEST(Pipeline, AFailingOutputOrCompleteStageDoesNotStopTheOthers) {
  Fixture f;
  f.build({{"bad", M::kThrowLater}, {"b", M::kContinue}});
  Exchange x;
  f.pipeline->output(x, "z");
  f.pipeline->complete(x);
  EXPECT_EQ(f.log, (std::vector<std::string>{"bad:output:z", "b:output:z", "bad:complete", "b:complete"}));
  EXPECT_EQ(x.details.at("output_stage_failed"), "bad");
  EXPECT_EQ(x.details.at("complete_stage_failed"), "bad");
}

TEST(Pipeline, CompleteRunsEveryStageEvenAfterAStop) {
  Fixture f;
  f.build({{"a", M::kStop}, {"b", M::kContinue}, {"c", M::kContinue}});
  Exchange x;
  EXPECT_FALSE(f.pipeline->run_request(x));
  f.log.clear();
  f.pipeline->complete(x);
  EXPECT_EQ(f.log, (std::vector<std::string>{"a:complete", "b:complete", "c:complete"}));
}

TEST(Pipeline, TimingsPerStagePlusForward) {
  Fixture f;
  f.build({{"a", M::kContinue}, {"b", M::kContinue}});
  Exchange x;
  ASSERT_TRUE(f.pipeline->run_request(x));
  f.pipeline->record_forward(x, 1500us);
  ASSERT_EQ(stage_names(x), (std::vector<std::string>{"a", "b", "forward"}));
  EXPECT_GE(x.timings[0].ns, 0);
  EXPECT_GE(x.timings[1].ns, 0);
  EXPECT_EQ(x.timings[2].ns, 1'500'000);
}

TEST(Pipeline, StageDurationSeriesPerStageAndForward) {
  Fixture f;
  f.build({{"authenticate", M::kContinue}, {"authorize", M::kContinue}});
  Exchange x;
  ASSERT_TRUE(f.pipeline->run_request(x));
  f.pipeline->record_forward(x, 2ms);
  std::string text = f.metrics.render();
  EXPECT_NE(text.find("# TYPE ztgate_stage_duration_seconds histogram"), std::string::npos) << text;
  EXPECT_NE(text.find("ztgate_stage_duration_seconds_count{stage=\"authenticate\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("ztgate_stage_duration_seconds_count{stage=\"authorize\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("ztgate_stage_duration_seconds_count{stage=\"forward\"} 1"), std::string::npos) << text;
}

TEST(Pipeline, StagesAfterAStopAreNotTimed) {
  Fixture f;
  f.build({{"first", M::kStop}, {"second", M::kContinue}});
  Exchange x;
  EXPECT_FALSE(f.pipeline->run_request(x));
  std::string text = f.metrics.render();
  EXPECT_NE(text.find("ztgate_stage_duration_seconds_count{stage=\"first\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("ztgate_stage_duration_seconds_count{stage=\"second\"} 0"), std::string::npos) << text;
}

}  // namespace
}  // namespace ztgate::pipeline
