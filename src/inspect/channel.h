// Where a text reached the model from. The same sentence means different
// things by channel: "send the report to bob@example.com" is a request in a
// user's prompt and an injection inside a retrieved web page, so detectors
// are calibrated and thresholded per channel.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ztgate::inspect {

enum class Channel : uint8_t {
  user_prompt,       // the user's own turn (and system/developer prompts)
  retrieved_doc,     // retrieval results, web pages, files, emails put in context
  tool_output,       // the result of a tool call (MCP, function calling)
  tool_description,  // a tool's name, description and schema as shown to the model
};

inline constexpr size_t kChannelCount = 4;
inline constexpr std::array<Channel, kChannelCount> kAllChannels = {
    Channel::user_prompt, Channel::retrieved_doc, Channel::tool_output, Channel::tool_description};

// "user_prompt", "retrieved_doc", "tool_output", "tool_description".
std::string_view channel_name(Channel channel);
// The inverse of channel_name; nullopt for any other string.
std::optional<Channel> parse_channel(std::string_view name);

}  // namespace ztgate::inspect
