// The injection classifier (issue 7, layer 2): a hashed n-gram logistic
// regression the project trains itself (classifier_train.h) on
// ../shared/datasets/injection/train.jsonl, scoring how much a normalized
// text looks like a prompt injection or jailbreak.
//
// Model: a text is scored as instances (internal/instances.h): windows of
// window_bytes (two series, the second shifted by half a window; a shorter
// text is one window) and, with line_instances, its lines. An instance's
// logit = bias + (sum of the weights of its features) / sqrt(number of
// features), features as in internal/ngram_features.h (byte 3..5-grams and
// word 1..2-grams of the lower-cased normalized text, hashed into
// 2^bucket_bits int16 weights, and again per channel group with
// channel_features). The text's logit is the largest instance logit, so an
// injected line inside a long document is not diluted by the document
// around it. score() takes the largest logit of the normalized view and of
// the views that hold hidden or decoded text (comments, alt text, tag
// characters, variation selectors, base64, hex, URL, ROT13,
// quoted-printable); link targets and html_hidden (already part of the
// normalized view) are not scored again.
//
// Calibration: per channel, value = 100 * sigmoid(slope * logit + intercept)
// fitted (Platt) on dev data, and flagged = value >= the channel's
// threshold, also chosen on dev data. See docs/DETECTION.md for how the
// channels were derived from a dataset that has none.
//
// File format (little-endian, all sizes fixed by the header):
//   "ZTGINJM1", u32 version (2), u8 bucket_bits, u8 char_min, u8 char_max,
//   u8 word_ngrams, u32 hash_seed, u32 window_bytes, u32 channel_features,
//   u32 line_instances, f32 bias, f32 weight_scale, 4 x (f32 slope, f32
//   intercept, f32 threshold) in Channel order, u64 training seed, u64
//   training rows, 2^bucket_bits x i16 weights, u64 FNV-1a-64 checksum of
//   everything before it.
// load() refuses (error "bad_model") a file of the wrong size, magic or
// version, out-of-range parameters (weight_scale in (0, 1], |bias|,
// |intercept| and slope at most 1000, so every score is finite), non-finite
// numbers or a wrong checksum.
//
// Thread-safe: an InjectionModel is immutable after load (set_calibration
// is for the trainer, before the model is shared); score() keeps no state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "inspect/channel.h"
#include "inspect/normalize.h"

namespace ztgate::inspect {

// How texts become features (stored in the model file).
struct FeatureSpec {
  uint32_t bucket_bits = 18;  // 2^bucket_bits weights; 10..24
  uint32_t char_min = 3;      // byte n-grams from char_min to char_max; 0: none
  uint32_t char_max = 5;      // <= 8
  uint32_t word_ngrams = 2;   // 0 none, 1 word unigrams, 2 and bigrams
  uint32_t hash_seed = 0;
  uint32_t window_bytes = 256;  // longer texts: max over windows; 64..16 MiB
  // 0: channel-blind. 1: each feature also counts in a copy specific to the
  // channel's group (user_prompt | retrieved_doc, tool_output |
  // tool_description), so that "send the file to ..." can weigh differently
  // in a prompt and in a document.
  uint32_t channel_features = 1;
  // 1: lines (cut at window_bytes) are instances too, beside the windows.
  uint32_t line_instances = 1;
};

// The channel group whose features a text on `channel` also gets (1..3).
uint32_t channel_group(Channel channel);

struct ChannelCalibration {
  float slope = 1.0f;  // > 0
  float intercept = 0.0f;
  float threshold = 50.0f;  // on the 0-100 value; flagged at or above
};

// Everything a model file holds.
struct ModelParams {
  FeatureSpec features;
  float bias = 0.0f;
  float weight_scale = 1.0f;     // weight = int16 * weight_scale
  std::vector<int16_t> weights;  // 2^features.bucket_bits
  std::array<ChannelCalibration, kChannelCount> calibration{};
  uint64_t training_seed = 0;
  uint64_t training_rows = 0;
};

struct Score {
  float logit = 0.0f;      // raw model output (log-odds before calibration)
  float value = 0.0f;      // calibrated for the channel, 0-100
  float threshold = 0.0f;  // the channel's threshold on `value`
  bool flagged = false;    // value >= threshold
};

// Model files larger than this are refused before they are read.
inline constexpr size_t kMaxModelFileBytes = size_t{80} << 20;

class InjectionModel {
 public:
  // Reads and checks a model file (errors: "io_error", "bad_model").
  static Result<InjectionModel> load(const std::string& path);
  // Checks and takes the bytes of a model file (error "bad_model").
  static Result<InjectionModel> parse(std::string_view bytes);
  // Checks parameters the trainer built (error "bad_model").
  static Result<InjectionModel> from_params(ModelParams params);

  // The model file's bytes; parse(serialize()) gives the same model.
  std::string serialize() const;
  // Writes serialize() to `path` (through a temporary file renamed over it).
  Status save(const std::string& path) const;

  // The calibrated score of a normalized text arriving on `channel`.
  Score score(const Normalized& text, Channel channel) const;
  // The raw logit of one text on a channel (views are not consulted).
  float logit(std::string_view normalized_text, Channel channel) const;
  // The score of a raw logit on a channel.
  Score calibrate(float logit, Channel channel) const;

  const ModelParams& params() const { return params_; }
  // Replaces a channel's calibration (error "bad_model" when out of range).
  Status set_calibration(Channel channel, const ChannelCalibration& calibration);

 private:
  explicit InjectionModel(ModelParams params);

  ModelParams params_;
  // Per channel group (channel_group(), 1..3): weights[b] + weights[b ^ the
  // group's mask] (halved when a sum needs 17 bits), so that scoring reads
  // one weight per feature.
  struct GroupTable {
    std::vector<int16_t> weights;
    double scale = 0;  // a table weight times scale is the weight
  };
  std::array<GroupTable, 4> groups_;
};

}  // namespace ztgate::inspect
