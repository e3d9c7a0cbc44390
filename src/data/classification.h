// Classification labels: an ordered list of names (lowest first), each
// with its rank (its index). Policies compare ranks (Longs): a user's
// clearance >= a document's classification. The default scale is
// public < internal < confidential < restricted; a deployment may configure
// its own (retrieval.classifications).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ztgate::data {

inline constexpr size_t kMaxClassifications = 32;

class ClassificationScale {
 public:
  ClassificationScale();  // public, internal, confidential, restricted
  // Errors: "classification_invalid" (empty, too many, duplicate or empty names).
  static Result<ClassificationScale> make(std::vector<std::string> labels);

  std::optional<int64_t> rank(std::string_view label) const;
  const std::string& label(int64_t rank) const;  // rank must be < size()
  size_t size() const { return labels_.size(); }
  const std::vector<std::string>& labels() const { return labels_; }

 private:
  explicit ClassificationScale(std::vector<std::string> labels) : labels_(std::move(labels)) {}
  std::vector<std::string> labels_;
};

}  // namespace ztgate::data
