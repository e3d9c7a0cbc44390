// Fuzz target: the PDP's request handling (src/gateway/gateway_service) behind
// the socket: routing, caller authentication, AuthZEN parsing, evaluation
// and error answers, on the AuthZEN todo scenario's policies.
//
// Input: "<METHOD> <path>\n<authorization header>\n<body>".
// Properties, for any input:
//   1. handle() answers; it never crashes, throws or leaks.
//   2. Every answer is a JSON object (Prometheus text for /metrics), and every
//      error answer is {"error":{"code","message","request_id"}} echoing the
//      request id.
//   3. No fuzzer-made credential authenticates: no guarded endpoint answers
//      200 and nothing is forwarded upstream.
#include <unistd.h>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/gateway_config.h"
#include "gateway/gateway_service.h"
#include "property.h"

namespace {

using ztgate::fuzz::require;
namespace json = boost::json;

std::unique_ptr<ztgate::gateway::GatewayService> make_service() {
  auto dir = std::filesystem::temp_directory_path() / ("ztgate-fuzz-pdp-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "policies.cedar") << R"(
@id("read") permit (principal is User, action == Action::"read", resource is Record);
@id("owner") permit (principal, action == Action::"write", resource) when { context has resource && context.resource has owner && context.resource.owner == principal.id };
)";
  std::ofstream(dir / "entities.json") << R"([{"uid":{"type":"User","id":"alice"},"attrs":{"id":"alice"},"parents":[]}])";
  std::ofstream(dir / "ztgate.yaml") << "data_dir: data\ngateway: { public_url: \"https://pdp.example.test\" }\n"
                                        "policies: { files: [policies.cedar], entities: [entities.json] }\n"
                                        "audit: { commit_interval: 50ms, checkpoint: { every: 100000 } }\n";
  auto config = ztgate::config::load_gateway_config((dir / "ztgate.yaml").string());
  require(config.ok(), "fixture config loads", config ? "" : config.error().message);
  auto service = ztgate::gateway::GatewayService::create(std::move(*config));
  require(service.ok(), "fixture service starts", service ? "" : service.error().message);
  return std::move(*service);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto service = make_service();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parts = ztgate::fuzz::split_parts(input, "\n", 3);
  ztgate::gateway::HttpRequest req;
  std::string_view line = parts[0];
  size_t space = line.find(' ');
  req.method = std::string(line.substr(0, space));
  req.target = space == std::string_view::npos ? "/" : std::string(line.substr(space + 1));
  if (parts.size() > 1 && !parts[1].empty()) req.headers.emplace_back("authorization", std::string(parts[1]));
  if (parts.size() > 2) req.body = std::string(parts[2]);
  req.request_id = "fuzz-request";
  auto res = service->handle(req);
  require(res.forward == nullptr, "no fuzzer-made credential gets a request forwarded", std::string(input));
  if (res.content_type.rfind("text/plain", 0) == 0) return 0;  // /metrics
  boost::system::error_code ec;
  json::value body = json::parse(res.body, ec);
  require(!ec && body.is_object(), "answers are JSON objects", res.body);
  if (res.status >= 400) {
    const json::value* err = body.as_object().if_contains("error");
    require(err != nullptr && err->is_object() && err->as_object().contains("code") &&
                err->as_object().contains("message") &&
                err->as_object().at("request_id") == "fuzz-request",
            "errors are {code, message, request_id}", res.body);
  }
  std::string path = req.path();
  bool guarded = path == "/access/v1/evaluation" || path == "/access/v1/evaluations" ||
                 path == "/cedar/v1/is_authorized" || path.rfind("/v1/", 0) == 0;
  if (res.status == 200 && guarded) require(false, "no fuzzer-made credential authenticates", std::string(input));
  return 0;
}
