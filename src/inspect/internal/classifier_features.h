// The n-gram features a model (classifier.h) reads from a text arriving on a
// channel: its FeatureSpec with the channel group's salt. Shared by scoring
// and training.
#pragma once

#include "inspect/channel.h"
#include "inspect/classifier.h"
#include "inspect/internal/ngram_features.h"

namespace ztgate::inspect::internal {

NgramSpec ngram_spec(const FeatureSpec& features, Channel channel);

}  // namespace ztgate::inspect::internal
