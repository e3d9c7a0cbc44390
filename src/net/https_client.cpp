#include "net/https_client.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <limits>
#include <type_traits>

#include "net/tls_peer.h"

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
  return make_error("net_tls", authority(url) + ": TLS handshake failed: " +
                                   tls_failure_reason(ssl, ec.message()));
}

// `any_status`: every status but 3xx is a response (http_post); otherwise
// only 2xx is (https_get).
Result<HttpResponse> to_response(const HttpsUrl& url,
                                 http::response_parser<http::string_body>& parser,
                                 bool any_status) {
  auto& res = parser.get();
  int status = static_cast<int>(res.result_int());
  if (status >= 300 && status < 400)
    return make_error("net_redirect", authority(url) + ": HTTP " + std::to_string(status) +
                                          " redirect refused (redirects are not followed)");
  if (!any_status && (status < 200 || status >= 300))
    return make_error("net_http_status",
                      authority(url) + ": HTTP status " + std::to_string(status));
  HttpResponse out;
  out.status = status;
  out.cache_control = std::string(res[http::field::cache_control]);
  out.content_type = std::string(res[http::field::content_type]);
  out.retry_after = std::string(res[http::field::retry_after]);
  out.body = std::move(res.body());
  return out;
}

using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using PlainStream = beast::tcp_stream;

// One request as a chain of completion handlers: resolve, connect,
// handshake (TLS only), write, read. (Plain callbacks, not C++20 coroutines:
// clang 14 cannot build Asio coroutines under the sanitizers the fuzz and
// ASan builds use.) Handlers capture `this`; the owner runs the io_context
// on its own stack and destroys this object before the io_context.
template <class Stream>
class Exchange {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  Exchange(asio::io_context& io, ssl::context& tls, const HttpsUrl& url,
           http::request<http::string_body> request, const HttpsClientOptions& options,
           SteadyTime deadline, bool any_status)
      : url_(url),
        options_(options),
        deadline_(deadline),
        any_status_(any_status),
        resolver_(io),
        stream_(make_stream(io, tls)),
        request_(std::move(request)) {
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

  static Stream make_stream(asio::io_context& io, ssl::context& tls) {
    if constexpr (kTls)
      return Stream(io, tls);
    else
      return Stream(io);
  }

  void on_resolve(const beast::error_code& ec, tcp::resolver::results_type endpoints) {
    if (ec) return finish(step_error(url_, "net_resolve", "name resolution", ec));
    if constexpr (kTls) configure_peer_check(stream_.native_handle(), url_.host);
    auto& socket = beast::get_lowest_layer(stream_);
    socket.expires_at(std::min(
        SteadyTime(std::chrono::steady_clock::now() + options_.connect_timeout), deadline_));
    socket.async_connect(
        endpoints, [this](const beast::error_code& e, const tcp::endpoint&) { on_connect(e); });
  }

  void on_connect(const beast::error_code& ec) {
    if (ec) return finish(step_error(url_, "net_connect", "connect", ec));
    beast::get_lowest_layer(stream_).expires_at(deadline_);
    if constexpr (kTls)
      stream_.async_handshake(ssl::stream_base::client,
                              [this](const beast::error_code& e) { on_handshake(e); });
    else
      send();
  }

  void on_handshake(const beast::error_code& ec) {
    if constexpr (kTls)
      if (ec) return finish(tls_error(url_, stream_.native_handle(), ec));
    send();
  }

  void send() {
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
    finish(to_response(url_, parser_, any_status_));
  }

  const HttpsUrl& url_;
  const HttpsClientOptions& options_;
  const SteadyTime deadline_;
  const bool any_status_;
  tcp::resolver resolver_;
  Stream stream_;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  Result<HttpResponse> out_ = make_error("net_io", "");
  bool finished_ = false;
};

template <class Stream>
Result<HttpResponse> run_exchange(ssl::context& tls, const HttpsUrl& url,
                                  http::request<http::string_body> request,
                                  const HttpsClientOptions& options, bool any_status) {
  asio::io_context io(1);
  const SteadyTime deadline = std::chrono::steady_clock::now() + options.total_timeout;
  // Declared after `io`: its sockets close before the io_context goes, and
  // handlers still queued then are destroyed without running.
  Exchange<Stream> exchange(io, tls, url, std::move(request), options, deadline, any_status);
  exchange.start();
  io.run_until(deadline);
  if (!exchange.finished())
    return make_error("net_timeout", authority(url) + ": no complete response within " +
                                         std::to_string(options.total_timeout.count()) + " ms");
  return exchange.take();
}

Result<HttpResponse> fetch(const HttpsUrl& url, http::request<http::string_body> request,
                           const HttpsClientOptions& options, bool any_status) {
  request.set(http::field::host,
              url.port == (url.tls ? 443 : 80) ? bracketed_host(url) : authority(url));
  request.set(http::field::user_agent, "ztgate");
  request.set(http::field::connection, "close");
  ssl::context tls(ssl::context::tls_client);
  if (!url.tls) return run_exchange<PlainStream>(tls, url, std::move(request), options, any_status);
  if (auto trusted = configure_client_trust(tls.native_handle(), options.ca_file); !trusted)
    return trusted.error();
  return run_exchange<TlsStream>(tls, url, std::move(request), options, any_status);
}

// RFC 9110 §5.1/§5.5: a token for the name; no control bytes but HTAB in the value.
bool acceptable_header(const HttpHeader& h) {
  if (h.name.empty() || h.name.size() > 256 || h.value.size() > 8192) return false;
  for (char c : h.name) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ':' || c == '(' || c == ')' || c == ',' || c == ';' ||
        c == '"')
      return false;
  }
  for (char c : h.value) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

}  // namespace

Result<HttpsUrl> parse_https_url(std::string_view url) { return parse_http_url(url, false); }

Result<HttpsUrl> parse_http_url(std::string_view url, bool allow_plain) {
  if (url.size() > kMaxUrlBytes) return bad_url("URL longer than 2048 bytes");
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return bad_url("URL contains a space, control or non-ASCII byte");
  }
  constexpr std::string_view kScheme = "https://";
  constexpr std::string_view kPlainScheme = "http://";
  HttpsUrl out;
  std::string_view rest;
  if (url.size() >= kScheme.size() && lower(url.substr(0, kScheme.size())) == kScheme) {
    rest = url.substr(kScheme.size());
  } else if (allow_plain && url.size() >= kPlainScheme.size() &&
             lower(url.substr(0, kPlainScheme.size())) == kPlainScheme) {
    rest = url.substr(kPlainScheme.size());
    out.tls = false;
    out.port = 80;
  } else {
    return bad_url(allow_plain ? "URL must start with https:// or http://"
                               : "URL must start with https://");
  }
  if (url.find('#') != std::string_view::npos) return bad_url("URL must not have a fragment");
  size_t end = rest.find_first_of("/?");
  std::string_view auth = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? "" : rest.substr(end);
  if (auth.find('@') != std::string_view::npos)
    return bad_url("URL must not carry user information");

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
    http::request<http::string_body> request{http::verb::get, parsed->target, 11};
    request.set(http::field::accept, "application/json");
    return fetch(*parsed, std::move(request), options, false);
  } catch (const std::exception&) {
    // Asio reports allocation and system-resource failures by throwing.
    return make_error("net_io", authority(*parsed) + ": client could not run the request");
  }
}

Result<HttpResponse> http_post(std::string_view url, std::string_view content_type,
                               std::string body, const std::vector<HttpHeader>& headers,
                               const HttpsClientOptions& options) {
  auto parsed = parse_http_url(url, options.allow_plain_http);
  if (!parsed) return parsed.error();
  if (!acceptable_header(HttpHeader{"Content-Type", std::string(content_type)}))
    return make_error("net_bad_request", authority(*parsed) + ": bad Content-Type");
  for (const auto& h : headers)
    if (!acceptable_header(h))
      return make_error("net_bad_request",
                        authority(*parsed) + ": refused to send a malformed request header");
  try {
    http::request<http::string_body> request{http::verb::post, parsed->target, 11};
    for (const auto& h : headers) request.set(h.name, h.value);
    request.set(http::field::content_type, content_type);
    request.body() = std::move(body);
    request.prepare_payload();
    return fetch(*parsed, std::move(request), options, true);
  } catch (const std::exception&) {
    return make_error("net_io", authority(*parsed) + ": client could not run the request");
  }
}

}  // namespace ztgate::net
