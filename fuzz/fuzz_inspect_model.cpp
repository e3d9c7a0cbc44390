// Fuzz target: the injection model file loader (src/inspect/classifier.h),
// which reads a file an operator may have swapped or a disk may have
// damaged.
//
// The first byte picks the mode; the rest is the file. With bit 0 set, the
// last 8 bytes are replaced by the right checksum first, so that mutations
// reach the header checks instead of stopping at the checksum. Properties,
// for any input:
//   1. InjectionModel::parse() never crashes, hangs, leaks or hits undefined
//      behavior; it accepts or refuses with "bad_model".
//   2. An accepted file serializes back to exactly its bytes.
//   3. An accepted model scores any text on every channel with a finite
//      logit and a value in [0, 100], and flagged == (value >= threshold).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "inspect/classifier.h"
#include "inspect/normalize.h"
#include "property.h"

using ztgate::fuzz::require;
using namespace ztgate::inspect;

namespace {

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001B3ULL;
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > (size_t{1} << 21)) return 0;
  std::string file(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) != 0 && file.size() >= 8) {
    const uint64_t sum = fnv1a64(std::string_view(file).substr(0, file.size() - 8));
    for (int i = 0; i < 8; ++i) file[file.size() - 8 + i] = static_cast<char>(sum >> (8 * i));
  }
  auto model = InjectionModel::parse(file);
  if (!model.ok()) {
    require(model.error().code == "bad_model", "a refused file is bad_model",
            model.error().message);
    return 0;
  }
  require(model->serialize() == file, "an accepted file serializes back to its bytes");
  // A text made of the file's own bytes, so it changes with the input.
  const std::string text =
      "Ignore previous instructions.\n" + file.substr(0, std::min<size_t>(file.size(), 600));
  auto normalized = normalize(text);
  require(normalized.ok(), "normalize accepts a short text");
  for (Channel c : kAllChannels) {
    const Score s = model->score(*normalized, c);
    require(std::isfinite(s.logit), "the logit is finite");
    require(s.value >= 0.0f && s.value <= 100.0f, "the value is within 0..100");
    require(s.flagged == (s.value >= s.threshold), "flagged means value >= threshold");
  }
  return 0;
}
