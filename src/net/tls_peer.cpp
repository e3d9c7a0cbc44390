#include "net/tls_peer.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace ztgate::net {

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

Status configure_client_trust(SSL_CTX* ctx, const std::string& ca_file) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
      ERR_clear_error();
      return make_error("net_tls", "cannot load CA file " + ca_file);
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    ERR_clear_error();
    return make_error("net_tls", "cannot load the system trust store");
  }
  return Ok{};
}

Status configure_client_certificate(SSL_CTX* ctx, const std::string& cert_file,
                                    const std::string& key_file) {
  if (cert_file.empty() && key_file.empty()) return Ok{};
  if (cert_file.empty() || key_file.empty())
    return make_error("net_tls",
                      "a client certificate needs both a certificate file and a key file");
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    ERR_clear_error();
    return make_error("net_tls", "cannot load client certificate file " + cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    ERR_clear_error();
    return make_error("net_tls", "cannot load client key file " + key_file);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return make_error("net_tls",
                      "client key file " + key_file + " does not match certificate " + cert_file);
  }
  return Ok{};
}

void configure_peer_check(SSL* ssl, const std::string& host) {
  if (is_ip_literal(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    return;
  }
  SSL_set_tlsext_host_name(ssl, host.c_str());
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  SSL_set1_host(ssl, host.c_str());
}

std::string tls_failure_reason(SSL* ssl, const std::string& fallback) {
  long verify = SSL_get_verify_result(ssl);
  return verify != X509_V_OK ? X509_verify_cert_error_string(verify) : fallback;
}

}  // namespace ztgate::net
