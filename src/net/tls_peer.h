// The client side of TLS as every outbound connection of ztgate sets it up
// (HTTPS client, syslog over TLS): TLS 1.2 at least, the peer's chain
// verified against a CA file or the system trust store, the peer's name
// checked against its certificate, SNI for DNS names. Plain OpenSSL types:
// the Asio-based HTTPS client and the POSIX stream client share it.
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "common/result.h"

namespace ztgate::net {

// True when `host` is an IPv4 or IPv6 literal (no brackets).
bool is_ip_literal(const std::string& host);

// Minimum TLS 1.2, peer verification on, trust anchors from `ca_file` (PEM)
// or the system default paths. Error code net_tls (names the file, never
// its content).
Status configure_client_trust(SSL_CTX* ctx, const std::string& ca_file);

// A client certificate chain and its private key (PEM files). Error code
// net_tls when a file cannot be read or the key does not match.
Status configure_client_certificate(SSL_CTX* ctx, const std::string& cert_file,
                                    const std::string& key_file);

// Per connection: the name the peer's certificate must carry (DNS SAN, or an
// IP SAN for an IP literal) and SNI for DNS names (RFC 6066 §3: none for
// IP literals). Partial wildcards ("f*.example") are refused.
void configure_peer_check(SSL* ssl, const std::string& host);

// Why a handshake failed, in words: the certificate check that failed when
// there was one, else `fallback`.
std::string tls_failure_reason(SSL* ssl, const std::string& fallback);

}  // namespace ztgate::net
