// Training and calibration of the injection classifier (classifier.h).
//
// train_injection_model() fits the logistic regression by stochastic gradient
// descent on the log loss: examples in an order shuffled per epoch by a
// seeded generator of our own (not std::shuffle, whose algorithm is the
// library's), a learning rate falling linearly to zero, one thread, float
// arithmetic in a fixed order. The same examples, options and seed give the
// same weights and the same model file bytes on the same build.
// Each example is read as scoring reads it (internal/instances.h): its logit
// is the largest of its instances' logits, and only that instance learns
// from it (multiple-instance learning: a document labelled "injected" says
// that some part of it is, not which). An example's weight scales its
// gradient (the CLI weighs benign documents up: they are rare in the data);
// with runs > 1, runs with seeds seed, seed+1, ... are averaged.
//
// calibrate_injection_model() then sets, per channel, from scored dev data:
//   - a Platt scaling (value = 100 * sigmoid(slope * logit + intercept)),
//     fitted on that channel's rows when it has at least kMinPlattRows of
//     each class, otherwise on all rows;
//   - the threshold: the lowest value whose false-positive rate on that
//     channel's negatives is at most max_fpr, when it has at least
//     kMinThresholdNegatives negatives and kMinPlattRows positives,
//     otherwise the same on all negatives.
// What each channel got is returned, for the report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "inspect/channel.h"
#include "inspect/classifier.h"

namespace ztgate::inspect {

struct TrainExample {
  std::string text;  // normalized (views[0] of normalize())
  bool injection = false;
  Channel channel = Channel::user_prompt;  // where it arrived (or a proxy)
  float weight = 1.0f;                     // scales its gradient; > 0
};

struct TrainOptions {
  FeatureSpec features;
  int epochs = 100;            // 1..1000
  float learning_rate = 1.0f;  // initial; falls linearly to 0
  float l2 = 0.0f;             // weight decay per update
  uint64_t seed = 42;
  int runs = 1;  // 1..16: runs with seeds seed, seed+1, ... whose weights are averaged
};

// Errors: "invalid_argument" (no examples, only one class, options out of range).
Result<InjectionModel> train_injection_model(const std::vector<TrainExample>& examples,
                                             const TrainOptions& options);

struct CalibrationExample {
  float logit = 0.0f;  // InjectionModel::score(...).logit
  bool injection = false;
  Channel channel = Channel::user_prompt;
};

inline constexpr size_t kMinPlattRows = 20;
inline constexpr size_t kMinThresholdNegatives = 100;

struct ChannelFit {
  Channel channel = Channel::user_prompt;
  size_t positives = 0;
  size_t negatives = 0;
  bool own_scaling = false;    // Platt fitted on this channel's rows
  bool own_threshold = false;  // threshold chosen on this channel's negatives
  ChannelCalibration calibration;
};

// Errors: "invalid_argument" (no positives or no negatives at all, max_fpr
// outside [0, 1)).
Result<std::vector<ChannelFit>> calibrate_injection_model(
    InjectionModel& model, const std::vector<CalibrationExample>& examples, double max_fpr);

// Platt scaling: slope and intercept minimizing the log loss of
// sigmoid(slope * logit + intercept) (Platt's smoothed targets, Newton
// steps). Exposed for tests.
ChannelCalibration fit_platt(const std::vector<float>& logits, const std::vector<bool>& labels);

}  // namespace ztgate::inspect
