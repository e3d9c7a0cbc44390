// What the gateway's two listeners share (http_server.cpp, egress_proxy.cpp):
// request ids, the TLS server context with client certificates, the client's
// verified chain, binding the listening socket, and waiting for a ReadyGate
// inside a coroutine. Internal to
// src/gateway: it includes Asio, which public headers never do.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "gateway/http_server.h"

namespace ztgate::gateway::internal {

// A fresh request id: a random per-process prefix and a counter.
std::string new_request_id();
// A caller's x-request-id is kept only when short and plain (logged and echoed).
bool sane_request_id(std::string_view id);
// TLS 1.2+ with the certificate chain and key; with client_ca_file, client
// certificates are asked for (and required with require_client_cert).
// Error code tls_config.
Result<std::unique_ptr<boost::asio::ssl::context>> make_tls_context(const TlsOptions& t);
// The client's verified chain, leaf first, as PEM ("" = none).
std::string peer_chain_pem(SSL* ssl);
// Opens `acceptor` on address:port (reuse_address) and listens. Error
// "server_bind"; `what` names the listener in the message ("" for the main one).
Status listen_on(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address, uint16_t port,
                 std::string_view what);
// Waits for `gate` without blocking the thread (its callback may come from
// any thread); false when it says no or nothing within its timeout.
boost::asio::awaitable<bool> wait_for_gate(ReadyGate& gate);

}  // namespace ztgate::gateway::internal
