// `ztgate serve --config ztgate.yaml`: run the gateway until SIGINT/SIGTERM,
// then drain (stop accepting, finish requests in flight) and exit 0.
// SIGHUP, or a change to the configuration or any file it names (polled
// every reload.interval), reloads: the new set is loaded and validated
// whole, then swapped in; a bad file keeps the running version and the
// reason is printed. Listener and limits changes need a restart.
#include <signal.h>

#include <iostream>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "config/file_watcher.h"
#include "config/gateway_config.h"
#include "gateway/egress_proxy.h"
#include "gateway/gateway_service.h"
#include "gateway/http_server.h"

namespace ztgate::cli {
namespace {

gateway::ServerOptions server_options(const config::GatewayConfig& c) {
  const auto& listener = c.listeners.front();
  const auto& limits = c.limits;
  gateway::ServerOptions options;
  options.address = listener.address;
  options.port = static_cast<uint16_t>(listener.port);
  if (listener.tls) {
    gateway::TlsOptions tls;
    tls.cert_file = listener.tls->cert_file;
    tls.key_file = listener.tls->key_file;
    tls.client_ca_file = listener.tls->client_ca_file;
    tls.require_client_cert = listener.tls->require_client_cert;
    options.tls = std::move(tls);
  }
  options.max_header_bytes = static_cast<size_t>(limits.max_header_bytes);
  options.max_body_bytes = static_cast<size_t>(limits.max_body_bytes);
  options.request_timeout = std::chrono::seconds(limits.request_timeout_s);
  options.idle_timeout = std::chrono::seconds(limits.idle_timeout_s);
  options.drain_timeout = std::chrono::seconds(limits.drain_timeout_s);
  options.max_connections = static_cast<size_t>(limits.max_connections);
  options.threads = static_cast<int>(limits.threads);
  return options;
}

// egress.listener: the forward proxy's own listener and limits.
gateway::EgressProxyOptions egress_options(const config::EgressSettings& e) {
  gateway::EgressProxyOptions o;
  o.address = e.listener->address;
  o.port = static_cast<uint16_t>(e.listener->port);
  if (e.listener->tls) {
    gateway::TlsOptions tls;
    tls.cert_file = e.listener->tls->cert_file;
    tls.key_file = e.listener->tls->key_file;
    tls.client_ca_file = e.listener->tls->client_ca_file;
    tls.require_client_cert = e.listener->tls->require_client_cert;
    o.tls = std::move(tls);
  }
  o.max_connections = static_cast<size_t>(e.max_connections);
  o.max_tunnels = static_cast<size_t>(e.max_tunnels);
  o.max_header_bytes = static_cast<size_t>(e.max_header_bytes);
  o.max_body_bytes = static_cast<size_t>(e.max_body_bytes);
  o.request_timeout = std::chrono::milliseconds(e.request_timeout_ms);
  o.response_timeout = std::chrono::milliseconds(e.response_timeout_ms);
  o.idle_timeout = std::chrono::milliseconds(e.idle_timeout_ms);
  o.tunnel_max = std::chrono::seconds(e.tunnel_max_s);
  o.threads = static_cast<int>(e.threads);
  return o;
}

void reload(gateway::GatewayService& service, config::FileWatcher& watcher, const char* why) {
  auto result = service.reload();
  if (result) {
    std::cout << "ztgate: reloaded (" << why << "), configuration version " << *result << std::endl;
    watcher.reset(service.watched_files());
  } else {
    std::cout << "ztgate: reload (" << why << ") failed, still serving version " << service.version() << ": ["
              << result.error().code << "] " << result.error().message << std::endl;
  }
}

int run_serve(const std::string& path) {
  auto config = config::load_gateway_config(path);
  if (!config) return fail(config.error(), false);
  gateway::ServerOptions options = server_options(*config);
  std::optional<gateway::EgressProxyOptions> egress;
  if (config->egress.listener) {
    egress = egress_options(config->egress);
    egress->drain_timeout = options.drain_timeout;
  }
  bool watch = config->reload_watch;
  auto interval = std::chrono::milliseconds(config->reload_interval_ms);

  // Block the signals before any thread starts (the service's audit writer,
  // the server's threads): threads inherit the mask, so only the
  // sigtimedwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto service = gateway::GatewayService::create(std::move(*config));
  if (!service) return fail(service.error(), false);


  gateway::GatewayService* svc = service->get();
  options.on_rejected = [svc](const gateway::HttpRequest& seen, int status, std::string_view code) {
    svc->record_rejected(seen, status, code);
  };
  auto server = gateway::HttpServer::start(options, [svc](const gateway::HttpRequest& r) { return svc->handle(r); });
  if (!server) return fail(server.error(), false);
  std::cout << "ztgate listening on " << (options.tls ? "https://" : "http://") << options.address << ":"
            << (*server)->port() << " (configuration version " << svc->version() << ")" << std::endl;
  std::unique_ptr<gateway::EgressProxy> proxy;
  if (egress) {
    auto started = gateway::EgressProxy::start(*egress, svc->egress());
    if (!started) return fail(started.error(), false);
    proxy = std::move(*started);
    std::cout << "ztgate egress proxy listening on " << (egress->tls ? "https://" : "http://") << egress->address << ":"
              << proxy->port() << std::endl;
  }
  config::FileWatcher watcher(svc->watched_files());
  for (;;) {
    timespec wait{static_cast<time_t>(interval.count() / 1000), static_cast<long>(interval.count() % 1000) * 1'000'000};
    int received = sigtimedwait(&signals, nullptr, &wait);
    if (received == SIGHUP) {
      watcher.changed();  // the state this reload reads: no second reload for it
      reload(*svc, watcher, "SIGHUP");
    } else if (received == SIGINT || received == SIGTERM) {
      std::cout << "ztgate: signal " << received << ", draining" << std::endl;
      break;
    } else if (watch && watcher.changed()) {
      reload(*svc, watcher, "file change");
    }
  }
  (*server)->stop();
  if (proxy) proxy->stop();
  std::cout << "ztgate: stopped" << std::endl;
  return kExitOk;
}

}  // namespace

void add_serve_commands(CLI::App& app, int& exit_code) {
  auto path = std::make_shared<std::string>("ztgate.yaml");
  auto* serve = app.add_subcommand(
      "serve",
      "Run the gateway: the OpenAI-compatible proxy, the AuthZEN and Cedar PDP APIs,\n"
      "/healthz, /readyz, /metrics, and the egress forward proxy when egress.listener\n"
      "is set (docs/CONFIGURATION.md). SIGHUP or a changed file\n"
      "reloads; SIGINT/SIGTERM drain requests in flight, then exit.");
  serve->add_option("--config", *path, "ztgate.yaml")->capture_default_str();
  serve->callback([path, &exit_code] { exit_code = run_serve(*path); });
}

}  // namespace ztgate::cli
