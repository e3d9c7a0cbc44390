#include "mcp/upstream.h"

#include "common/version.h"

namespace ztgate::mcp {

bool supported_protocol_version(std::string_view v) {
  for (auto known : kProtocolVersions)
    if (v == known) return true;
  return false;
}

boost::json::object client_initialize_params() {
  return boost::json::object{{"protocolVersion", kProtocolVersions[0]},
                             {"capabilities", boost::json::object{}},
                             {"clientInfo", boost::json::object{{"name", "ztgate"}, {"version", kVersion}}}};
}

}  // namespace ztgate::mcp
