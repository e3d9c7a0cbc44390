#include "inspect/classifier_train.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "inspect/internal/classifier_features.h"
#include "inspect/internal/instances.h"

namespace ztgate::inspect {
namespace {

Error invalid(const std::string& why) { return make_error("invalid_argument", why); }

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// Fisher-Yates with mt19937_64 (whose output the standard fixes).
void shuffle(std::vector<size_t>& order, std::mt19937_64& rng) {
  for (size_t i = order.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng() % i);
    std::swap(order[i - 1], order[j]);
  }
}

// The logit above which at most max_fpr of `negatives` lie.
float threshold_logit(std::vector<float> negatives, double max_fpr) {
  std::sort(negatives.begin(), negatives.end(), std::greater<>());
  const auto allowed =
      static_cast<size_t>(std::floor(max_fpr * static_cast<double>(negatives.size())));
  if (allowed >= negatives.size()) return -INFINITY;
  const float at = negatives[allowed];
  // Flag strictly above the (allowed+1)-th highest negative.
  return at + 1e-4f * (1.0f + std::fabs(at));
}

// One run of SGD from zero weights, examples shuffled by a generator seeded
// with `seed`: adds its weights and bias to `w` and `bias`.
void sgd_run(const std::vector<TrainExample>& examples, const TrainOptions& options, uint64_t seed,
             std::vector<float>& w_sum, double& bias_sum) {
  const FeatureSpec& f = options.features;
  std::vector<float> w(w_sum.size(), 0.0f);
  double bias = 0.0;
  std::vector<size_t> order(examples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  // A feature occurrence: its bucket and the instance it is in per series.
  struct Occurrence {
    uint32_t bucket;
    uint32_t instance[internal::kMaxSeries];
  };
  std::vector<Occurrence> feats;
  const bool lines = f.line_instances != 0;
  const double total_steps =
      static_cast<double>(options.epochs) * static_cast<double>(examples.size());
  double step = 0;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    shuffle(order, rng);
    for (size_t idx : order) {
      const TrainExample& ex = examples[idx];
      // The text's logit is its largest instance logit (as in scoring), and
      // only that instance learns from the example.
      feats.clear();
      double sum[internal::kMaxSeries] = {};
      uint32_t count[internal::kMaxSeries] = {};
      double best_z = -INFINITY;
      int best_series = 0;
      uint32_t best_id = 0;
      internal::InstanceCursor cursor(ex.text, f.window_bytes, lines);
      auto close = [&](int s) {
        if (count[s] > 0) {
          const double z = bias + sum[s] / std::sqrt(static_cast<double>(count[s]));
          if (z > best_z) {
            best_z = z;
            best_series = s;
            best_id = cursor.id(s);
          }
        }
        sum[s] = 0;
        count[s] = 0;
      };
      internal::for_each_ngram(
          ex.text, internal::ngram_spec(f, ex.channel), [&](uint32_t b, size_t pos) {
            cursor.advance(pos, close);
            feats.push_back(Occurrence{b, {cursor.id(0), cursor.id(1), cursor.id(2)}});
            for (int s = 0; s < internal::kMaxSeries; ++s) {
              if (!cursor.active(s)) continue;
              sum[s] += w[b];
              ++count[s];
            }
          });
      for (int s = 0; s < internal::kMaxSeries; ++s) close(s);
      if (best_z == -INFINITY) best_z = bias;
      size_t n = 0;
      for (const Occurrence& o : feats) n += o.instance[best_series] == best_id;
      const double lr = options.learning_rate * (1.0 - step / total_steps);
      step += 1;
      const double v = n == 0 ? 0.0 : 1.0 / std::sqrt(static_cast<double>(n));
      const double g = (sigmoid(best_z) - (ex.injection ? 1.0 : 0.0)) * ex.weight;
      const auto delta = static_cast<float>(lr * g * v);
      const auto decay = static_cast<float>(lr * options.l2);
      for (const Occurrence& o : feats) {
        if (o.instance[best_series] == best_id) w[o.bucket] -= delta + decay * w[o.bucket];
      }
      bias -= lr * g * 0.1;  // a slower bias keeps early steps from swinging it
    }
  }
  for (size_t i = 0; i < w.size(); ++i) w_sum[i] += w[i];
  bias_sum += bias;
}

}  // namespace

Result<InjectionModel> train_injection_model(const std::vector<TrainExample>& examples,
                                             const TrainOptions& options) {
  if (examples.empty()) return invalid("no training examples");
  const bool has_pos =
      std::any_of(examples.begin(), examples.end(), [](auto& e) { return e.injection; });
  const bool has_neg =
      std::any_of(examples.begin(), examples.end(), [](auto& e) { return !e.injection; });
  if (!has_pos || !has_neg) return invalid("training needs examples of both classes");
  for (const TrainExample& e : examples) {
    if (!(e.weight > 0) || !std::isfinite(e.weight)) return invalid("example weights must be positive");
  }
  if (options.epochs < 1 || options.epochs > 1000) return invalid("epochs out of 1..1000");
  if (options.runs < 1 || options.runs > 16) return invalid("runs out of 1..16");
  if (!(options.learning_rate > 0) || !(options.l2 >= 0) || !std::isfinite(options.learning_rate) ||
      !std::isfinite(options.l2)) {
    return invalid("learning rate must be positive and l2 non-negative");
  }
  const FeatureSpec& f = options.features;
  if (f.bucket_bits < 10 || f.bucket_bits > 24) return invalid("bucket_bits out of 10..24");

  std::vector<float> w(size_t{1} << f.bucket_bits, 0.0f);
  double bias = 0.0;
  // Several runs with seeds seed, seed+1, ... averaged: less variance from
  // the example order (one run gives exactly the single-run model).
  for (int run = 0; run < options.runs; ++run) {
    sgd_run(examples, options, options.seed + static_cast<uint64_t>(run), w, bias);
  }
  if (options.runs > 1) {
    for (float& x : w) x /= static_cast<float>(options.runs);
    bias /= options.runs;
  }

  float max_abs = 0.0f;
  for (float x : w) max_abs = std::max(max_abs, std::fabs(x));
  ModelParams p;
  p.features = f;
  p.bias = static_cast<float>(bias);
  p.weight_scale = max_abs > 0 ? max_abs / 32767.0f : 1.0f;
  p.weights.resize(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    p.weights[i] = static_cast<int16_t>(std::lround(w[i] / p.weight_scale));
  }
  p.training_seed = options.seed;
  p.training_rows = examples.size();
  return InjectionModel::from_params(std::move(p));
}

ChannelCalibration fit_platt(const std::vector<float>& logits, const std::vector<bool>& labels) {
  // Lin, Lin and Weng's (2007) Newton method with backtracking for Platt
  // scaling: never diverges, even on separable data.
  double npos = 0, nneg = 0;
  for (bool y : labels) (y ? npos : nneg) += 1;
  const double hi = (npos + 1) / (npos + 2), lo = 1 / (nneg + 2);
  auto loss = [&](double a, double b) {
    double l = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
      const double f = a * logits[i] + b, t = labels[i] ? hi : lo;
      // -(t*log(p) + (1-t)*log(1-p)), p = sigmoid(f), in a stable form.
      l += f >= 0 ? std::log1p(std::exp(-f)) + (1 - t) * f : std::log1p(std::exp(f)) - t * f;
    }
    return l;
  };
  double a = 1.0, b = 0.0, current = loss(a, b);
  for (int iter = 0; iter < 100; ++iter) {
    double ga = 0, gb = 0, haa = 1e-12, hab = 0, hbb = 1e-12;
    for (size_t i = 0; i < logits.size(); ++i) {
      const double z = logits[i];
      const double p = sigmoid(a * z + b);
      const double d = p - (labels[i] ? hi : lo), s = p * (1 - p);
      ga += d * z;
      gb += d;
      haa += s * z * z;
      hab += s * z;
      hbb += s;
    }
    if (std::fabs(ga) < 1e-9 && std::fabs(gb) < 1e-9) break;
    const double det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const double da = -(hbb * ga - hab * gb) / det, db = -(haa * gb - hab * ga) / det;
    const double slope = ga * da + gb * db;
    double step = 1.0;
    bool moved = false;
    while (step >= 1e-10) {
      const double na = a + step * da, nb = b + step * db, nl = loss(na, nb);
      if (nl < current + 1e-4 * step * slope) {
        a = na;
        b = nb;
        current = nl;
        moved = true;
        break;
      }
      step /= 2;
    }
    if (!moved) break;
  }
  ChannelCalibration c;
  if (std::isfinite(a) && a > 0 && std::isfinite(b)) {
    c.slope = static_cast<float>(a);
    c.intercept = static_cast<float>(b);
  }
  return c;
}

Result<std::vector<ChannelFit>> calibrate_injection_model(
    InjectionModel& model, const std::vector<CalibrationExample>& examples, double max_fpr) {
  if (!(max_fpr >= 0 && max_fpr < 1)) return invalid("max_fpr outside [0, 1)");
  std::vector<float> all_logits, all_negatives;
  std::vector<bool> all_labels;
  for (const CalibrationExample& e : examples) {
    all_logits.push_back(e.logit);
    all_labels.push_back(e.injection);
    if (!e.injection) all_negatives.push_back(e.logit);
  }
  if (all_negatives.empty() || all_negatives.size() == examples.size()) {
    return invalid("calibration needs examples of both classes");
  }
  const ChannelCalibration global = fit_platt(all_logits, all_labels);
  const float global_threshold = threshold_logit(all_negatives, max_fpr);

  std::vector<ChannelFit> fits;
  for (Channel c : kAllChannels) {
    ChannelFit fit;
    fit.channel = c;
    std::vector<float> logits, negatives;
    std::vector<bool> labels;
    for (const CalibrationExample& e : examples) {
      if (e.channel != c) continue;
      logits.push_back(e.logit);
      labels.push_back(e.injection);
      if (e.injection) {
        ++fit.positives;
      } else {
        ++fit.negatives;
        negatives.push_back(e.logit);
      }
    }
    fit.own_scaling = fit.positives >= kMinPlattRows && fit.negatives >= kMinPlattRows;
    fit.calibration = fit.own_scaling ? fit_platt(logits, labels) : global;
    // A channel with no attacks to compare cannot tell where attacks start:
    // it keeps the threshold of all rows.
    fit.own_threshold = fit.negatives >= kMinThresholdNegatives && fit.positives >= kMinPlattRows;
    const float t = fit.own_threshold ? threshold_logit(negatives, max_fpr) : global_threshold;
    const double z = static_cast<double>(fit.calibration.slope) * t + fit.calibration.intercept;
    fit.calibration.threshold =
        t == -INFINITY ? 0.0f
                       : static_cast<float>(std::clamp(100.0 / (1.0 + std::exp(-z)), 0.0, 100.0));
    if (Status s = model.set_calibration(c, fit.calibration); !s) return s.error();
    fits.push_back(fit);
  }
  return fits;
}

}  // namespace ztgate::inspect
