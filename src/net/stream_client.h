// A long-lived outbound byte stream, plain TCP or TLS: what the syslog sink
// ships records over (RFC 6587 / RFC 5425). Write-only from the caller's
// point of view: the peer is not expected to send application data.
//
// Guarantees:
//   - Bounded: `connect_timeout` covers resolve-to-handshake (the resolver
//     itself is the system's getaddrinfo, bounded by its own resolv.conf
//     timeouts; IP literals resolve at once), `write_timeout` each write_all.
//   - TLS: TLS 1.2 at least, the server chain verified against `ca_file` or
//     the system trust store, the host name (or IP literal) checked against
//     the certificate, SNI sent for DNS names, an optional client
//     certificate (tls_peer.h).
//   - Never raises SIGPIPE: a peer that went away is an error value.
//   - After any error the connection is broken for good: drop it and
//     connect again.
//   - Not thread-safe: one owner at a time.
//
// Error codes (stable, as https_client.h): net_resolve, net_connect,
// net_tls, net_timeout, net_io. Messages name host:port and the failing
// step, never the bytes sent.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ztgate::net {

struct StreamClientOptions {
  bool tls = false;
  std::string ca_file;    // PEM trust anchors; "" = system default paths
  std::string cert_file;  // client certificate chain (PEM); "" = none
  std::string key_file;   // its private key (PEM)
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds write_timeout{10000};
};

class StreamConnection {
 public:
  // Resolves `host`, connects to the first address that answers and, with
  // tls, completes the handshake. With TLS 1.3 it then waits (at most 0.5 s,
  // within connect_timeout) for the server's first message: a server that
  // refuses the client certificate says so only after the handshake, and
  // that refusal must fail the connect, not swallow the first write.
  static Result<std::unique_ptr<StreamConnection>> connect(const std::string& host, uint16_t port,
                                                           const StreamClientOptions& options);
  ~StreamConnection();
  StreamConnection(const StreamConnection&) = delete;
  StreamConnection& operator=(const StreamConnection&) = delete;

  // Writes every byte of `data` or fails (then the connection is broken).
  Status write_all(std::string_view data);

  // False when the peer has closed or reset the connection, or sent a TLS
  // alert. A cheap non-blocking check before writing: TCP accepts writes
  // into a connection the peer already closed, and the first such write is
  // lost without an error. (It narrows that window; it cannot close it:
  // plain syslog has no application acknowledgements.)
  bool alive();

  struct Impl;

 private:
  explicit StreamConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ztgate::net
