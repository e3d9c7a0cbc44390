#include "gateway/internal/server_support.h"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <optional>

namespace ztgate::gateway::internal {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

// Request ids only need to be unique and unguessable enough not to collide
// across restarts: a random per-process prefix (64 bits) and a counter,
// instead of RAND_bytes on every request.
std::string new_request_id() {
  static const std::string prefix = [] {
    unsigned char bytes[8];
    RAND_bytes(bytes, sizeof bytes);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
      out += hex[b >> 4];
      out += hex[b & 15];
    }
    return out;
  }();
  static std::atomic<uint64_t> counter{0};
  char tail[17];
  std::snprintf(tail, sizeof tail, "%08llx", static_cast<unsigned long long>(counter.fetch_add(1, std::memory_order_relaxed)));
  return prefix + tail;
}

// A caller's x-request-id is kept only when it is short and plain, so it can
// be logged and echoed safely.
bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (unsigned char c : id)
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

// The client's verified chain, leaf first, as PEM (what the identity
// pillar's X509Verifier checks again against identity.mtls).
std::string peer_chain_pem(SSL* ssl) {
  std::string out;
  X509* leaf = SSL_get1_peer_certificate(ssl);
  if (leaf == nullptr) return out;
  auto append = [&out](X509* cert) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio == nullptr) return;
    if (PEM_write_bio_X509(bio, cert) == 1) {
      char* data = nullptr;
      long n = BIO_get_mem_data(bio, &data);
      if (n > 0) out.append(data, static_cast<size_t>(n));
    }
    BIO_free(bio);
  };
  append(leaf);
  // On the server side the peer chain does not include the leaf.
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(chain); ++i) append(sk_X509_value(chain, i));
  }
  X509_free(leaf);
  return out;
}

Result<std::unique_ptr<ssl::context>> make_tls_context(const TlsOptions& t) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                   ec);
  if (!ec) ctx->use_certificate_chain_file(t.cert_file, ec);
  if (ec) return make_error("tls_config", "cannot load the certificate chain `" + t.cert_file + "`: " + ec.message());
  ctx->use_private_key_file(t.key_file, ssl::context::pem, ec);
  if (ec) return make_error("tls_config", "cannot load the private key `" + t.key_file + "`: " + ec.message());
  if (!t.client_ca_file.empty()) {
    ctx->load_verify_file(t.client_ca_file, ec);
    if (ec) return make_error("tls_config", "cannot load the client CA file `" + t.client_ca_file + "`: " + ec.message());
    // Without a session id context OpenSSL refuses every resumed session
    // once peers are verified ("session id context uninitialized").
    static const unsigned char kSessionContext[] = "ztgate";
    SSL_CTX_set_session_id_context(ctx->native_handle(), kSessionContext, sizeof kSessionContext - 1);
    auto mode = ssl::verify_peer | (t.require_client_cert ? ssl::verify_fail_if_no_peer_cert : 0);
    ctx->set_verify_mode(mode, ec);
    if (ec) return make_error("tls_config", "cannot set client verification: " + ec.message());
  }
  return ctx;
}

Status listen_on(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address, uint16_t port,
                 std::string_view what) {
  namespace asio = boost::asio;
  const std::string label = what.empty() ? std::string() : " (" + std::string(what) + ")";
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) return make_error("server_bind", "bad listen address `" + address + "`" + label);
  asio::ip::tcp::endpoint endpoint(ip, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error("server_bind",
                      "cannot listen on " + address + ":" + std::to_string(port) + label + ": " + ec.message());
  return Ok{};
}

}  // namespace ztgate::gateway::internal
