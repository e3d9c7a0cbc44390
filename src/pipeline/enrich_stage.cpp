#include <boost/json.hpp>

#include "common/clock.h"
#include "pipeline/snapshot.h"
#include "pipeline/stages.h"

namespace ztgate::pipeline {
namespace {

namespace json = boost::json;

// "ip:port" or "[v6]:port" -> the address.
std::string address_of(std::string_view remote) {
  if (remote.empty()) return "";
  if (remote.front() == '[') {
    auto end = remote.find(']');
    return end == std::string_view::npos ? "" : std::string(remote.substr(1, end - 1));
  }
  auto colon = remote.rfind(':');
  if (colon != std::string_view::npos && remote.find(':') == colon) return std::string(remote.substr(0, colon));
  return std::string(remote);  // an IPv6 address without brackets
}

class EnrichStage final : public Stage {
 public:
  const char* name() const override { return "enrich"; }

  Flow on_request(Exchange& x) override {
    if (x.pdp_query) return Flow::kContinue;  // the PDP request carries its own context
    const Snapshot& s = *x.snapshot;
    int64_t now = now_s();
    // The device assertion is bound to the user the request is for.
    std::string user = !x.chain.empty() ? x.chain.front().id : x.identity ? x.identity->principal.id : "";
    auto device = s.identity->device_context(x.credentials.device_assertion, user, now);
    if (!device) {
      x.ending = Ending{401, "device_invalid", device.error().message, {}, ""};
      return Flow::kStop;
    }
    x.context["device"] = std::move(*device);
    std::string ip = address_of(x.remote);
    if (!ip.empty()) x.context["source_ip"] = ip;
    // A model's integrity is a fact of the Model entity, verified in the
    // background; the decision sees its state as of now.
    for (auto& e : x.adapter_entities) x.request_entities.push_back(std::move(e));
    x.adapter_entities.clear();
    if (x.resource.type == "Model" && s.models) {
      json::object attrs = s.models->entity_attributes(x.resource.id, now);
      json::object entity{{"uid", x.resource.to_json()}, {"attrs", std::move(attrs)}, {"parents", json::array{}}};
      x.request_entities.push_back(std::move(entity));
    }
    return Flow::kContinue;
  }
};

}  // namespace

std::unique_ptr<Stage> make_enrich_stage() { return std::make_unique<EnrichStage>(); }

}  // namespace ztgate::pipeline
