// `ztgate demo-upstream`: a tiny OpenAI-compatible server for the quickstart
// (src/gateway/demo_upstream.h), so the gateway has something to proxy to.
// Runs until SIGINT/SIGTERM, then drains and exits 0. The API key, if any, is
// read from the environment variable named by --api-key-env, never from argv
// (argv is visible to every user through ps).
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "gateway/demo_upstream.h"
#include "gateway/http_server.h"

namespace ztgate::cli {
namespace {

constexpr std::size_t kMaxModels = 64;
constexpr std::size_t kMaxModelName = 256;

struct DemoUpstreamArgs {
  std::string address = "127.0.0.1";
  int port = 8081;
  std::vector<std::string> models{"demo-small"};
  std::string api_key_env;
};

Status check_models(const std::vector<std::string>& models) {
  if (models.empty() || models.size() > kMaxModels)
    return make_error("usage", "give between 1 and " + std::to_string(kMaxModels) + " --model names");
  for (const auto& m : models) {
    bool printable = !m.empty() && m.size() <= kMaxModelName;
    for (char c : m) printable = printable && c > 0x20 && c < 0x7F;
    if (!printable)
      return make_error("usage", "--model names are 1-" + std::to_string(kMaxModelName) +
                                     " printable ASCII characters without spaces");
  }
  return Ok{};
}

int run_demo_upstream(const DemoUpstreamArgs& args) {
  gateway::DemoUpstreamOptions demo;
  demo.models = args.models;
  if (auto ok = check_models(demo.models); !ok) return fail(ok.error(), false);
  if (!args.api_key_env.empty()) {
    const char* key = std::getenv(args.api_key_env.c_str());
    if (key == nullptr || *key == '\0')
      return fail(make_error("usage", "the environment variable " + args.api_key_env + " (--api-key-env) is unset or empty"),
                  false);
    demo.api_key = key;
  }
  gateway::ServerOptions options;
  options.address = args.address;
  options.port = static_cast<uint16_t>(args.port);
  options.max_body_bytes = gateway::kDemoMaxBodyBytes;

  // Block the stop signals before the server starts its threads, so only
  // sigwait below receives them (as `ztgate serve` does).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto shared = std::make_shared<const gateway::DemoUpstreamOptions>(std::move(demo));
  auto server = gateway::HttpServer::start(
      options, [shared](const gateway::HttpRequest& r) { return gateway::handle_demo_upstream(r, *shared); });
  if (!server) return fail(server.error(), false);
  std::cout << "ztgate demo upstream listening on " << options.address << ":" << (*server)->port() << std::endl;
  int received = 0;
  sigwait(&stop_signals, &received);
  std::cout << "ztgate demo upstream: signal " << received << ", draining" << std::endl;
  (*server)->stop();
  std::cout << "ztgate demo upstream: stopped" << std::endl;
  return kExitOk;
}

}  // namespace

void add_demo_upstream_commands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DemoUpstreamArgs>();
  auto* cmd = app.add_subcommand(
      "demo-upstream",
      "Run a tiny OpenAI-compatible demo server for the quickstart: GET /v1/models,\n"
      "POST /v1/chat/completions (also streaming) and POST /v1/embeddings.\n"
      "It is NOT a model: replies are fixed text echoing your last message, and\n"
      "embeddings are hashes. SIGINT/SIGTERM stop it.");
  cmd->add_option("--address", args->address, "address to listen on")->capture_default_str();
  cmd->add_option("--port", args->port, "port to listen on (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--model", args->models, "model name to serve (repeat for several)")->capture_default_str();
  cmd->add_option("--api-key-env", args->api_key_env,
                  "name of an environment variable holding the API key callers must send as\n"
                  "'Authorization: Bearer <key>' (default: no authentication)");
  cmd->callback([args, &exit_code] { exit_code = run_demo_upstream(*args); });
}

}  // namespace ztgate::cli
