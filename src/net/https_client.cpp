#include "net/https_client.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <limits>

namespace ztgate::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

Error bad_url(std::string message) { return make_error("net_bad_url", std::move(message)); }

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

std::string bracketed_host(const HttpsUrl& url) {
  return url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
}

// "host:port", for messages.
std::string authority(const HttpsUrl& url) {
  return bracketed_host(url) + ":" + std::to_string(url.port);
}

Error step_error(const HttpsUrl& url, std::string_view code, std::string_view step,
                 const beast::error_code& ec) {
  if (ec == beast::error::timeout)
    return make_error("net_timeout",
                      authority(url) + ": deadline passed during " + std::string(step));
  return make_error(std::string(code),
                    authority(url) + ": " + std::string(step) + " failed: " + ec.message());
}

// Names the certificate check that failed, which ec.message() does not.
Error tls_error(const HttpsUrl& url, SSL* ssl, const beast::error_code& ec) {
  if (ec == beast::error::timeout) return step_error(url, "net_tls", "TLS handshake", ec);
  long verify = SSL_get_verify_result(ssl);
  std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : ec.message();
  return make_error("net_tls", authority(url) + ": TLS handshake failed: " + why);
}

void configure_peer_check(SSL* ssl, const std::string& host) {
  if (is_ip_literal(host)) {
    // RFC 6066 §3: no SNI for IP literals; match an IP SAN instead.
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    return;
  }
  SSL_set_tlsext_host_name(ssl, host.c_str());
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  SSL_set1_host(ssl, host.c_str());
}

Result<HttpResponse> to_response(const HttpsUrl& url,
                                 http::response_parser<http::string_body>& parser) {
  auto& res = parser.get();
  int status = static_cast<int>(res.result_int());
  if (status >= 300 && status < 400)
    return make_error("net_redirect", authority(url) + ": HTTP " + std::to_string(status) +
                                          " redirect refused (redirects are not followed)");
  if (status < 200 || status >= 300)
    return make_error("net_http_status",
                      authority(url) + ": HTTP status " + std::to_string(status));
  HttpResponse out;
  out.status = status;
  out.cache_control = std::string(res[http::field::cache_control]);
  out.content_type = std::string(res[http::field::content_type]);
  out.body = std::move(res.body());
  return out;
}

// One GET as a chain of completion handlers: resolve, connect, handshake,
// write, read. (Plain callbacks, not C++20 coroutines: clang 14 cannot build
// Asio coroutines under the sanitizers the fuzz and ASan builds use.)
// Handlers capture `this`; the owner runs the io_context on its own stack
// and destroys this object before the io_context.
class Exchange {
 public:
  Exchange(asio::io_context& io, ssl::context& tls, const HttpsUrl& url,
           const HttpsClientOptions& options, SteadyTime deadline)
      : url_(url), options_(options), deadline_(deadline), resolver_(io), stream_(io, tls) {
    parser_.header_limit(static_cast<uint32_t>(
        std::min<size_t>(options.max_header_bytes, std::numeric_limits<uint32_t>::max())));
    parser_.body_limit(options.max_body_bytes);
  }

  void start() {
    resolver_.async_resolve(url_.host, std::to_string(url_.port),
                            [this](const beast::error_code& ec, tcp::resolver::results_type r) {
                              on_resolve(ec, std::move(r));
                            });
  }
  bool finished() const { return finished_; }
  Result<HttpResponse> take() { return std::move(out_); }

 private:
  void finish(Result<HttpResponse> result) {
    out_ = std::move(result);
    finished_ = true;
  }

  void on_resolve(const beast::error_code& ec, tcp::resolver::results_type endpoints) {
    if (ec) return finish(step_error(url_, "net_resolve", "name resolution", ec));
    configure_peer_check(stream_.native_handle(), url_.host);
    auto& socket = beast::get_lowest_layer(stream_);
    socket.expires_at(std::min(
        SteadyTime(std::chrono::steady_clock::now() + options_.connect_timeout), deadline_));
    socket.async_connect(
        endpoints, [this](const beast::error_code& e, const tcp::endpoint&) { on_connect(e); });
  }

  void on_connect(const beast::error_code& ec) {
    if (ec) return finish(step_error(url_, "net_connect", "connect", ec));
    beast::get_lowest_layer(stream_).expires_at(deadline_);
    stream_.async_handshake(ssl::stream_base::client,
                            [this](const beast::error_code& e) { on_handshake(e); });
  }

  void on_handshake(const beast::error_code& ec) {
    if (ec) return finish(tls_error(url_, stream_.native_handle(), ec));
    request_ = {http::verb::get, url_.target, 11};
    request_.set(http::field::host, url_.port == 443 ? bracketed_host(url_) : authority(url_));
    request_.set(http::field::user_agent, "ztgate");
    request_.set(http::field::accept, "application/json");
    request_.set(http::field::connection, "close");
    http::async_write(stream_, request_,
                      [this](const beast::error_code& e, size_t) { on_write(e); });
  }

  void on_write(const beast::error_code& ec) {
    if (ec) return finish(step_error(url_, "net_io", "sending the request", ec));
    http::async_read(stream_, buffer_, parser_,
                     [this](const beast::error_code& e, size_t) { on_read(e); });
  }

  void on_read(const beast::error_code& ec) {
    if (ec == http::error::body_limit || ec == http::error::header_limit ||
        ec == http::error::buffer_overflow)
      return finish(make_error("net_too_large",
                               authority(url_) + ": response larger than " +
                                   std::to_string(options_.max_body_bytes) + " body bytes or " +
                                   std::to_string(options_.max_header_bytes) + " header bytes"));
    if (ec) return finish(step_error(url_, "net_io", "reading the response", ec));
    // No TLS close_notify: we read a complete message and drop the connection.
    finish(to_response(url_, parser_));
  }

  const HttpsUrl& url_;
  const HttpsClientOptions& options_;
  const SteadyTime deadline_;
  tcp::resolver resolver_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  http::request<http::empty_body> request_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  Result<HttpResponse> out_ = make_error("net_io", "");
  bool finished_ = false;
};

Result<HttpResponse> fetch(const HttpsUrl& url, const HttpsClientOptions& options) {
  ssl::context tls(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  tls.set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (!options.ca_file.empty()) {
    tls.load_verify_file(options.ca_file, ec);
    if (ec) return make_error("net_tls", "cannot load CA file " + options.ca_file);
  } else {
    tls.set_default_verify_paths(ec);
    if (ec) return make_error("net_tls", "cannot load the system trust store");
  }

  asio::io_context io(1);
  const SteadyTime deadline = std::chrono::steady_clock::now() + options.total_timeout;
  // Declared after `io`: its sockets close before the io_context goes, and
  // handlers still queued then are destroyed without running.
  Exchange exchange(io, tls, url, options, deadline);
  exchange.start();
  io.run_until(deadline);
  if (!exchange.finished())
    return make_error("net_timeout", authority(url) + ": no complete response within " +
                                         std::to_string(options.total_timeout.count()) + " ms");
  return exchange.take();
}

}  // namespace

Result<HttpsUrl> parse_https_url(std::string_view url) {
  if (url.size() > kMaxUrlBytes) return bad_url("URL longer than 2048 bytes");
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return bad_url("URL contains a space, control or non-ASCII byte");
  }
  constexpr std::string_view kScheme = "https://";
  if (url.size() < kScheme.size() || lower(url.substr(0, kScheme.size())) != kScheme)
    return bad_url("URL must start with https://");
  if (url.find('#') != std::string_view::npos) return bad_url("URL must not have a fragment");
  std::string_view rest = url.substr(kScheme.size());
  size_t end = rest.find_first_of("/?");
  std::string_view auth = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? "" : rest.substr(end);
  if (auth.find('@') != std::string_view::npos)
    return bad_url("URL must not carry user information");

  HttpsUrl out;
  std::string_view port;
  if (!auth.empty() && auth.front() == '[') {
    size_t close = auth.find(']');
    if (close == std::string_view::npos) return bad_url("unterminated IPv6 literal in URL");
    out.host = lower(auth.substr(1, close - 1));
    if (!is_ip_literal(out.host) || out.host.find(':') == std::string::npos)
      return bad_url("bad IPv6 literal in URL");
    std::string_view after = auth.substr(close + 1);
    if (!after.empty() && after.front() != ':') return bad_url("bad authority in URL");
    if (!after.empty()) port = after.substr(1);
    if (!after.empty() && port.empty()) return bad_url("empty port in URL");
  } else {
    size_t colon = auth.find(':');
    out.host = lower(auth.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = auth.substr(colon + 1);
      if (port.empty()) return bad_url("empty port in URL");
    }
    if (out.host.empty() || out.host.size() > 253 ||
        !std::all_of(out.host.begin(), out.host.end(), host_char))
      return bad_url("bad host name in URL");
  }
  if (!port.empty()) {
    if (port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return bad_url("bad port in URL");
    int value = std::stoi(std::string(port));
    if (value < 1 || value > 65535) return bad_url("port out of range in URL");
    out.port = static_cast<uint16_t>(value);
  }
  out.target = target.empty()          ? "/"
               : target.front() == '?' ? "/" + std::string(target)
                                       : std::string(target);
  return out;
}

Result<HttpResponse> https_get(std::string_view url, const HttpsClientOptions& options) {
  auto parsed = parse_https_url(url);
  if (!parsed) return parsed.error();
  try {
    return fetch(*parsed, options);
  } catch (const std::exception&) {
    // Asio reports allocation and system-resource failures by throwing.
    return make_error("net_io", authority(*parsed) + ": client could not run the request");
  }
}

}  // namespace ztgate::net
