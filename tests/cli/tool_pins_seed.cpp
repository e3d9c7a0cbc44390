// Test helper for tests/cli/tools_test.cmake: records what an upstream lists,
// as the gateway does, so the `ztgate tools` commands have something to
// review without a live MCP server.
//   tool_pins_seed PINS_FILE SERVER TOOL DEFINITION_JSON [--no-tofu]
// Prints the verdict and the seen digest: "approved 3f2a...".
#include <boost/json.hpp>

#include <chrono>
#include <cstring>
#include <iostream>

#include "mcp/tool_pins.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: tool_pins_seed PINS_FILE SERVER TOOL DEFINITION_JSON [--no-tofu]\n";
    return 1;
  }
  bool tofu = !(argc > 5 && std::strcmp(argv[5], "--no-tofu") == 0);
  boost::system::error_code ec;
  boost::json::value def = boost::json::parse(argv[4], ec);
  if (ec || !def.is_object()) {
    std::cerr << "the definition is not a JSON object\n";
    return 1;
  }
  auto store = ztgate::mcp::PinStore::open(argv[1], tofu);
  if (!store) {
    std::cerr << store.error().message << "\n";
    return 1;
  }
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto v = (*store)->observe(argv[2], argv[3], def.as_object(), now_ms);
  if (!v) {
    std::cerr << v.error().code << ": " << v.error().message << "\n";
    return 1;
  }
  std::cout << ztgate::mcp::to_string(v->state) << " " << v->seen_digest << "\n";
  return 0;
}
