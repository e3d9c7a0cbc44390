// `ztgate serve --config ztgate.yaml`: run the gateway until SIGINT/SIGTERM,
// then drain (stop accepting, finish requests in flight) and exit 0.
#include <signal.h>

#include <iostream>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "config/gateway_config.h"
#include "gateway/http_server.h"
#include "gateway/pdp_service.h"

namespace ztgate::cli {
namespace {

int run_serve(const std::string& path) {
  auto config = config::load_gateway_config(path);
  if (!config) return fail(config.error(), false);
  const auto& listener = config->listeners.front();
  const auto& limits = config->limits;
  gateway::ServerOptions options;
  options.address = listener.address;
  options.port = static_cast<uint16_t>(listener.port);
  options.max_header_bytes = static_cast<size_t>(limits.max_header_bytes);
  options.max_body_bytes = static_cast<size_t>(limits.max_body_bytes);
  options.request_timeout = std::chrono::seconds(limits.request_timeout_s);
  options.idle_timeout = std::chrono::seconds(limits.idle_timeout_s);
  options.drain_timeout = std::chrono::seconds(limits.drain_timeout_s);
  options.max_connections = static_cast<size_t>(limits.max_connections);
  options.threads = static_cast<int>(limits.threads);

  auto service = gateway::PdpService::create(std::move(*config));
  if (!service) return fail(service.error(), false);

  // Block the stop signals before the server starts its threads, so only
  // sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  gateway::PdpService* svc = service->get();
  auto server = gateway::HttpServer::start(options, [svc](const gateway::HttpRequest& r) { return svc->handle(r); });
  if (!server) return fail(server.error(), false);
  std::cout << "ztgate listening on " << options.address << ":" << (*server)->port() << std::endl;
  int received = 0;
  sigwait(&stop_signals, &received);
  std::cout << "ztgate: signal " << received << ", draining" << std::endl;
  (*server)->stop();
  std::cout << "ztgate: stopped" << std::endl;
  return kExitOk;
}

}  // namespace

void add_serve_commands(CLI::App& app, int& exit_code) {
  auto path = std::make_shared<std::string>("ztgate.yaml");
  auto* serve = app.add_subcommand(
      "serve", "Run the gateway: the AuthZEN PDP API, /healthz, /readyz, /metrics (docs/POLICY_GUIDE.md).\n"
               "SIGINT/SIGTERM drain requests in flight, then exit.");
  serve->add_option("--config", *path, "ztgate.yaml")->capture_default_str();
  serve->callback([path, &exit_code] { exit_code = run_serve(*path); });
}

}  // namespace ztgate::cli
