// The OCSF audit event of one exchange (issue 5): built on every request, so
// it must stay a small part of the proxy's per-request CPU (target <= 3 us
// in Release for a typical chat completion).
//
//   build/bench/ocsf_event_bench
//
// BM_OcsfEvent/<mode>: ocsf_event() for an allowed, forwarded chat completion
// by a delegated agent (chain user -> agent, device posture, one determining
// policy, token usage, six stage timings), with a ~1 KiB request body and a
// ~2 KiB answer. mode: 0 none, 1 hash, 2 redacted, 3 full.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>
#include <string>

#include "pipeline/ocsf_event.h"

using namespace ztgate;
using namespace ztgate::pipeline;

namespace {

namespace json = boost::json;

Exchange typical_exchange() {
  Exchange x;
  x.request_id = "0f6c2a9e-8d1b-4c55-9a7e-3b2d1c0e9f81";
  x.adapter = "openai";
  x.route = "/v1/chat/completions";
  x.remote = "10.20.30.40:51234";
  authn::Identity id;
  id.principal = {"Agent", "research-assistant"};
  id.authn.method = "delegation";
  id.authn.issuer = "corp-idp";
  id.authn.mfa = true;
  x.identity = id;
  x.chain = {{"User", "alice@example.com"}, {"Agent", "research-assistant"}};
  x.action = "invoke_model";
  x.resource = {"Model", "gpt-4o-mini"};
  x.context["request"] = json::object{{"operation", "chat"},
                                      {"stream", false},
                                      {"messages", 4},
                                      {"tools", false},
                                      {"max_tokens", 512}};
  x.context["delegation"] = json::object{{"scopes", json::array{"models:invoke"}},
                                         {"task", "task-7c1e"},
                                         {"depth", 1},
                                         {"chain", json::array{"research-assistant"}}};
  x.context["device"] = json::object{{"present", true},     {"device_id", "laptop-4411"},
                                     {"managed", true},     {"disk_encrypted", true},
                                     {"edr_running", true}, {"os_patch_age_days", 3},
                                     {"age_s", 120}};
  x.upstream = "openai";
  Verdict v;
  v.decision = cedar::Decision::kAllow;
  v.determining = {"policy12"};
  v.names = {"staff-may-use-approved-models"};
  v.cached = true;
  x.verdict = v;
  x.status = 200;
  x.output_bytes = 2048;
  x.output_chunks = 1;
  x.usage = json::object{{"prompt_tokens", 412}, {"completion_tokens", 230}, {"total_tokens", 642}};
  x.timings = {{"authenticate", 21000}, {"enrich", 3000},       {"authorize", 9000},
               {"enforce", 400},        {"output_meter", 1200}, {"forward", 412000000}};
  return x;
}

std::string request_body() {
  std::string content(700, 'x');
  return R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},)"
         R"({"role":"user","content":")" +
         content +
         R"("},{"role":"assistant","content":"Sure."},{"role":"user","content":"Go on."}],)"
         R"("max_tokens":512,"temperature":0.2})";
}

std::string response_body() {
  std::string content(1800, 'y');
  return R"({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,)"
         R"("message":{"role":"assistant","content":")" +
         content +
         R"("},"finish_reason":"stop"}],"usage":{"prompt_tokens":412,"completion_tokens":230,"total_tokens":642}})";
}

void BM_OcsfEvent(benchmark::State& state) {
  const Exchange x = typical_exchange();
  const std::string request = request_body();
  const std::string response = response_body();
  EventOptions o;
  o.config_version = 42;
  o.product_version = "0.9.0";
  o.payload_mode = static_cast<PayloadMode>(state.range(0));
  o.request_payload = request;
  o.response_payload = response;
  o.http_method = "POST";
  size_t bytes = 0;
  for (auto _ : state) {
    audit::Event e = ocsf_event(x, o);
    bytes = e.json.size();
    benchmark::DoNotOptimize(e);
  }
  state.counters["event_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_OcsfEvent)->Arg(0)->Arg(1)->Arg(2)->Arg(3);

}  // namespace

BENCHMARK_MAIN();
