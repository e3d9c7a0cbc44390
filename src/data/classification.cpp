#include "data/classification.h"

#include <set>

namespace ztgate::data {

ClassificationScale::ClassificationScale() : labels_{"public", "internal", "confidential", "restricted"} {}

Result<ClassificationScale> ClassificationScale::make(std::vector<std::string> labels) {
  if (labels.empty() || labels.size() > kMaxClassifications)
    return make_error("classification_invalid", "between 1 and 32 classification labels, lowest first");
  std::set<std::string_view> seen;
  for (const auto& l : labels) {
    if (l.empty() || l.size() > 64) return make_error("classification_invalid", "a label is empty or longer than 64 bytes");
    if (!seen.insert(l).second) return make_error("classification_invalid", "label `" + l + "` is listed twice");
  }
  return ClassificationScale(std::move(labels));
}

std::optional<int64_t> ClassificationScale::rank(std::string_view label) const {
  for (size_t i = 0; i < labels_.size(); ++i)
    if (labels_[i] == label) return static_cast<int64_t>(i);
  return std::nullopt;
}

const std::string& ClassificationScale::label(int64_t rank) const { return labels_.at(static_cast<size_t>(rank)); }

}  // namespace ztgate::data
