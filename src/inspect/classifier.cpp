#include "inspect/classifier.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <utility>

#include "inspect/internal/classifier_features.h"
#include "inspect/internal/instances.h"

namespace ztgate::inspect {
namespace {

constexpr char kMagic[8] = {'Z', 'T', 'G', 'I', 'N', 'J', 'M', '1'};
// 2: a feature's channel-group copy is its bucket XOR a mask (version 1 hashed it
// again), which reads the same bytes differently.
constexpr uint32_t kVersion = 2;
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + kChannelCount * 12 + 8 + 8;

}  // namespace

uint32_t channel_group(Channel channel) {
  switch (channel) {
    case Channel::user_prompt:
      return 1;
    case Channel::retrieved_doc:
    case Channel::tool_output:
      return 2;
    case Channel::tool_description:
      return 3;
  }
  return 1;
}

namespace internal {
NgramSpec ngram_spec(const FeatureSpec& f, Channel channel) {
  return NgramSpec{
      f.bucket_bits, f.char_min,
      f.char_max,    f.word_ngrams,
      f.hash_seed,   f.channel_features == 0 ? 0 : 0x6368616E6E656C00ULL + channel_group(channel)};
}
}  // namespace internal

namespace {

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001B3ULL;
  return h;
}

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void f32(float v) {
    uint32_t bits = 0;
    std::memcpy(&bits, &v, 4);
    u32(bits);
  }
  void bytes(const char* p, size_t n) { out_.append(p, n); }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint8_t u8() { return static_cast<uint8_t>(in_[pos_++]); }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{u8()} << (8 * i);
    return v;
  }
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{u8()} << (8 * i);
    return v;
  }
  float f32() {
    const uint32_t bits = u32();
    float v = 0;
    std::memcpy(&v, &bits, 4);
    return v;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

Error bad_model(const std::string& why) { return make_error("bad_model", "model file: " + why); }

// Bounds that keep every logit and value finite: a trained model is far
// inside them (weights within +-32767 * weight_scale, |logit| in the tens).
constexpr float kMaxWeightScale = 1.0f;
constexpr float kMaxAbsParam = 1000.0f;

Status check_calibration(const ChannelCalibration& c) {
  if (!(c.slope > 0 && c.slope <= kMaxAbsParam) || !(std::fabs(c.intercept) <= kMaxAbsParam)) {
    return bad_model("calibration slope must be in (0, 1000], intercept in [-1000, 1000]");
  }
  if (!(c.threshold >= 0.0f && c.threshold <= 100.0f)) return bad_model("threshold out of 0..100");
  return Ok{};
}

Status check_params(const ModelParams& p) {
  const FeatureSpec& f = p.features;
  if (f.bucket_bits < 10 || f.bucket_bits > 24) return bad_model("bucket_bits out of 10..24");
  if (f.char_min > 8 || f.char_max > 8 || (f.char_min != 0 && f.char_max < f.char_min)) {
    return bad_model("byte n-gram range out of 1..8");
  }
  if (f.word_ngrams > 2) return bad_model("word_ngrams out of 0..2");
  if (f.char_min == 0 && f.word_ngrams == 0) return bad_model("no features");
  if (f.window_bytes < 64 || f.window_bytes > (uint32_t{1} << 24)) {
    return bad_model("window_bytes out of 64..16 MiB");
  }
  if (f.channel_features > 1) return bad_model("channel_features out of 0..1");
  if (f.line_instances > 1) return bad_model("line_instances out of 0..1");
  if (p.weights.size() != (size_t{1} << f.bucket_bits)) return bad_model("weight count");
  if (!(std::fabs(p.bias) <= kMaxAbsParam) ||
      !(p.weight_scale > 0 && p.weight_scale <= kMaxWeightScale)) {
    return bad_model("bias out of [-1000, 1000] or weight scale out of (0, 1]");
  }
  for (const ChannelCalibration& c : p.calibration) {
    if (Status s = check_calibration(c); !s) return s;
  }
  return Ok{};
}

// Whether a view holds text a model reads but a reader of the page may not
// see, scored on its own beside the normalized view.
bool scored_alone(ViewKind kind) {
  switch (kind) {
    case ViewKind::normalized:   // scored as the main text
    case ViewKind::link:         // URLs: exfiltration is the rules' job
    case ViewKind::html_hidden:  // already inside the normalized view
      return false;
    default:
      return true;
  }
}

// The largest logit of the text's instances (internal/instances.h). Running
// totals over the whole text: an instance's sum is the difference of the
// totals at its ends, so each feature costs one lookup and one addition
// whatever the number of series.
// `w` is the channel group's table (InjectionModel::GroupTable): the
// shared weight and the group copy's weight of each bucket already added, so
// the features are read once, without their group copies.
float window_logit(std::string_view text, Channel channel, const ModelParams& p, const int16_t* w,
                   double scale) {
  internal::NgramSpec spec = internal::ngram_spec(p.features, channel);
  // A feature and its group copy count as two, as in training.
  const uint64_t copies = internal::group_mask(spec) == 0 ? 1 : 2;
  spec.group_salt = 0;
  int64_t total = 0;
  uint64_t count = 0;
  int64_t start_total[internal::kMaxSeries] = {};
  uint64_t start_count[internal::kMaxSeries] = {};
  float best = -INFINITY;
  auto close = [&](int s) {
    const uint64_t n = count - start_count[s];
    if (n > 0) {
      const double sum = static_cast<double>(total - start_total[s]);
      best = std::max(best,
                      static_cast<float>(p.bias + sum * scale / std::sqrt(static_cast<double>(n))));
    }
    start_total[s] = total;
    start_count[s] = count;
  };
  internal::InstanceCursor cursor(text, p.features.window_bytes, p.features.line_instances != 0);
  size_t last_pos = SIZE_MAX;
  internal::for_each_ngram(text, spec, [&](uint32_t b, size_t pos) ZTGATE_NGRAM_INLINE {
    if (pos != last_pos) {
      cursor.advance(pos, close);
      last_pos = pos;
    }
    total += w[b];
    count += copies;
  });
  for (int s = 0; s < internal::kMaxSeries; ++s) {
    if (s == 0 || cursor.active(s)) close(s);
  }
  return best == -INFINITY ? p.bias : best;
}

}  // namespace

Result<InjectionModel> InjectionModel::from_params(ModelParams params) {
  if (Status s = check_params(params); !s) return s.error();
  return InjectionModel(std::move(params));
}

InjectionModel::InjectionModel(ModelParams params) : params_(std::move(params)) {
  const size_t n = params_.weights.size();
  const int16_t* w = params_.weights.data();
  for (Channel c : kAllChannels) {
    const uint32_t mask = internal::group_mask(internal::ngram_spec(params_.features, c));
    GroupTable& table = groups_[channel_group(c)];
    if (!table.weights.empty()) continue;
    // Sums of two int16 may need 17 bits: then halved (rounded), so that the
    // table stays 2 bytes a bucket (512 KiB at 2^18: within a core's L2).
    auto sum = [&](size_t b) { return int32_t{w[b]} + (mask == 0 ? 0 : int32_t{w[b ^ mask]}); };
    int32_t largest = 0;
    for (size_t b = 0; b < n; ++b) largest = std::max(largest, std::abs(sum(b)));
    const int shift = largest > 32767 ? 1 : 0;
    table.weights.resize(n);
    for (size_t b = 0; b < n; ++b) {
      const int32_t v = sum(b);
      table.weights[b] = static_cast<int16_t>(v >= 0 ? (v + shift) >> shift : -((-v + shift) >> shift));
    }
    table.scale = static_cast<double>(params_.weight_scale) * (1 << shift);
  }
}

Result<InjectionModel> InjectionModel::parse(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes + 8) return bad_model("truncated header");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return bad_model("not a ztgate injection model");
  Reader r(bytes.substr(sizeof kMagic));
  if (r.u32() != kVersion) return bad_model("unsupported version");
  ModelParams p;
  p.features.bucket_bits = r.u8();
  p.features.char_min = r.u8();
  p.features.char_max = r.u8();
  p.features.word_ngrams = r.u8();
  p.features.hash_seed = r.u32();
  p.features.window_bytes = r.u32();
  p.features.channel_features = r.u32();
  p.features.line_instances = r.u32();
  p.bias = r.f32();
  p.weight_scale = r.f32();
  for (ChannelCalibration& c : p.calibration) {
    c.slope = r.f32();
    c.intercept = r.f32();
    c.threshold = r.f32();
  }
  p.training_seed = r.u64();
  p.training_rows = r.u64();
  if (p.features.bucket_bits < 10 || p.features.bucket_bits > 24) {
    return bad_model("bucket_bits out of 10..24");
  }
  const size_t n = size_t{1} << p.features.bucket_bits;
  if (bytes.size() != kHeaderBytes + 2 * n + 8) return bad_model("size does not match its header");
  const size_t body = kHeaderBytes + 2 * n;
  Reader tail(bytes.substr(body));
  if (tail.u64() != fnv1a64(bytes.substr(0, body))) return bad_model("checksum mismatch");
  p.weights.resize(n);
  const auto* w = reinterpret_cast<const unsigned char*>(bytes.data() + kHeaderBytes);
  for (size_t i = 0; i < n; ++i) {
    p.weights[i] = static_cast<int16_t>(static_cast<uint16_t>(w[2 * i] | (w[2 * i + 1] << 8)));
  }
  return from_params(std::move(p));
}

Result<InjectionModel> InjectionModel::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("io_error", "cannot open model file " + path);
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return make_error("io_error", "cannot read model file " + path);
  if (static_cast<uint64_t>(size) > kMaxModelFileBytes) return bad_model("larger than 80 MiB");
  in.seekg(0);
  std::string bytes(static_cast<size_t>(size), '\0');
  if (!in.read(bytes.data(), size)) return make_error("io_error", "cannot read model file " + path);
  return parse(bytes);
}

std::string InjectionModel::serialize() const {
  const ModelParams& p = params_;
  Writer w;
  w.bytes(kMagic, sizeof kMagic);
  w.u32(kVersion);
  w.u8(static_cast<uint8_t>(p.features.bucket_bits));
  w.u8(static_cast<uint8_t>(p.features.char_min));
  w.u8(static_cast<uint8_t>(p.features.char_max));
  w.u8(static_cast<uint8_t>(p.features.word_ngrams));
  w.u32(p.features.hash_seed);
  w.u32(p.features.window_bytes);
  w.u32(p.features.channel_features);
  w.u32(p.features.line_instances);
  w.f32(p.bias);
  w.f32(p.weight_scale);
  for (const ChannelCalibration& c : p.calibration) {
    w.f32(c.slope);
    w.f32(c.intercept);
    w.f32(c.threshold);
  }
  w.u64(p.training_seed);
  w.u64(p.training_rows);
  for (int16_t x : p.weights) {
    const auto u = static_cast<uint16_t>(x);
    w.u8(static_cast<uint8_t>(u & 0xFF));
    w.u8(static_cast<uint8_t>(u >> 8));
  }
  w.u64(fnv1a64(w.str()));
  return std::move(w.str());
}

Status InjectionModel::save(const std::string& path) const {
  const std::string bytes = serialize();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error("io_error", "cannot write " + tmp);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return make_error("io_error", "cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return make_error("io_error", "cannot rename " + tmp + " to " + path);
  }
  return Ok{};
}

float InjectionModel::logit(std::string_view normalized_text, Channel channel) const {
  const GroupTable& t = groups_[channel_group(channel)];
  return window_logit(normalized_text, channel, params_, t.weights.data(), t.scale);
}

Score InjectionModel::calibrate(float raw, Channel channel) const {
  const ChannelCalibration& c = params_.calibration[static_cast<size_t>(channel)];
  const double z = static_cast<double>(c.slope) * raw + c.intercept;
  Score s;
  s.logit = raw;
  s.value = static_cast<float>(100.0 / (1.0 + std::exp(-z)));
  s.threshold = c.threshold;
  s.flagged = s.value >= c.threshold;
  return s;
}

Score InjectionModel::score(const Normalized& text, Channel channel) const {
  float best = text.views.empty() ? params_.bias : logit(text.views.front().text, channel);
  for (size_t i = 1; i < text.views.size(); ++i) {
    if (scored_alone(text.views[i].kind)) best = std::max(best, logit(text.views[i].text, channel));
  }
  return calibrate(best, channel);
}

Status InjectionModel::set_calibration(Channel channel, const ChannelCalibration& calibration) {
  if (Status s = check_calibration(calibration); !s) return s;
  params_.calibration[static_cast<size_t>(channel)] = calibration;
  return Ok{};
}

}  // namespace ztgate::inspect
