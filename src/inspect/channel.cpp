#include "inspect/channel.h"

namespace ztgate::inspect {

std::string_view channel_name(Channel channel) {
  switch (channel) {
    case Channel::user_prompt:
      return "user_prompt";
    case Channel::retrieved_doc:
      return "retrieved_doc";
    case Channel::tool_output:
      return "tool_output";
    case Channel::tool_description:
      return "tool_description";
  }
  return "user_prompt";
}

std::optional<Channel> parse_channel(std::string_view name) {
  for (Channel c : kAllChannels) {
    if (channel_name(c) == name) return c;
  }
  return std::nullopt;
}

}  // namespace ztgate::inspect
