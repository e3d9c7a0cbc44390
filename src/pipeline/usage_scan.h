// Token usage from the tail of an upstream's answer: the last
// `"usage": {...}` object whose members are integers (OpenAI's
// chat.completion, its final SSE usage chunk, embeddings).
//
// The text is untrusted upstream output, bounded by the caller (the output
// meter keeps the last 8 KiB). The scan is linear per candidate and looks at
// most kMaxUsageCandidates `"usage"` occurrences from the end; the object
// parsed is the span to the first '}' (usage objects are flat). At most
// kMaxUsageFields integer members are kept; other members are ignored.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string_view>

namespace ztgate::pipeline {

inline constexpr size_t kMaxUsageCandidates = 16;
inline constexpr size_t kMaxUsageFields = 8;

std::optional<boost::json::object> last_usage(std::string_view text);

}  // namespace ztgate::pipeline
