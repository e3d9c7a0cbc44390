#include "mcp/http_upstream.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <mutex>
#include <optional>
#include <vector>

#include "mcp/sse.h"
#include "net/tls_peer.h"

namespace ztgate::mcp {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHeaderBytes = 16 * 1024;

struct Conn {
  asio::io_context ioc{1};
  std::optional<beast::tcp_stream> tcp;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }
  // Runs the queued operations; their deadlines are on the stream.
  void run() {
    ioc.restart();
    ioc.run();
  }
};

Error upstream_error(const std::string& id, const beast::error_code& ec, const char* step) {
  if (ec == beast::error::timeout) return make_error("mcp_upstream_timeout", "the MCP server `" + id + "` timed out (" + step + ")");
  if (ec == http::error::body_limit || ec == http::error::header_limit)
    return make_error("mcp_upstream_protocol", "the MCP server `" + id + "` sent an answer larger than the bound (" + step + ")");
  return make_error("mcp_upstream_unavailable", "the MCP server `" + id + "` failed (" + step + "): " + ec.message());
}

struct Reply {
  int status = 0;
  std::string content_type;
  std::string session_id;
};

class HttpUpstream final : public Upstream {
 public:
  HttpUpstream(HttpUpstreamOptions o, std::string host, uint16_t port, std::string target, bool tls)
      : o_(std::move(o)), host_(std::move(host)), port_(port), target_(std::move(target)), use_tls_(tls) {}

  Status init_tls() {
    if (!use_tls_) return Ok{};
    tls_ctx_.emplace(ssl::context::tls_client);
    if (auto st = net::configure_client_trust(tls_ctx_->native_handle(), o_.ca_file); !st)
      return make_error("mcp_config", "MCP server `" + o_.id + "`: " + st.error().message);
    return Ok{};
  }

  const std::string& id() const override { return o_.id; }

  Result<Message> call(std::string_view method, const json::object& params, std::chrono::milliseconds timeout,
                       const MessageObserver& observe) override {
    auto deadline = Clock::now() + timeout;
    for (int attempt = 0;; ++attempt) {
      auto st = ensure_session(deadline);
      if (!st) return st.error();
      std::string session = st->first;
      auto r = request(method, params, session, st->second, deadline, observe);
      if (!r && r.error().code == "mcp_session_expired") {
        drop_session(session);
        if (attempt == 0) continue;
        return session_unknown();
      }
      return r;
    }
  }

  Result<json::object> initialize_result(std::chrono::milliseconds timeout) override {
    auto st = ensure_session(Clock::now() + timeout);
    if (!st) return st.error();
    std::lock_guard lock(mu_);
    return init_result_;
  }

 private:
  // The current session id and protocol version, initializing when needed.
  Result<std::pair<std::string, std::string>> ensure_session(Clock::time_point deadline) {
    std::lock_guard init_lock(init_mu_);
    {
      std::lock_guard lock(mu_);
      if (initialized_) return std::pair{session_, version_};
    }
    Reply reply;
    auto init = exchange(request_text(json::value(next_id_++), "initialize", client_initialize_params()), "", "",
                         deadline, nullptr, &reply, true);
    if (!init) return init.error();
    if (init->kind != MessageKind::kResult || !init->result.is_object())
      return make_error("mcp_upstream_protocol", "the MCP server `" + o_.id + "` refused initialize");
    const json::value* v = init->result.as_object().if_contains("protocolVersion");
    if (v == nullptr || !v->is_string() || !supported_protocol_version(v->as_string()))
      return make_error("mcp_upstream_protocol", "the MCP server `" + o_.id + "` speaks no protocol version we know");
    std::string version(v->as_string());
    auto sent = exchange(request_text(nullptr, "notifications/initialized", {}), reply.session_id, version, deadline,
                         nullptr, nullptr, false);
    if (!sent && sent.error().code == "mcp_session_expired") return session_unknown();
    if (!sent) return sent.error();
    std::lock_guard lock(mu_);
    session_ = reply.session_id;
    version_ = version;
    init_result_ = init->result.as_object();
    initialized_ = true;
    return std::pair{session_, version_};
  }

  // mcp_session_expired stays inside: a server that does not know the
  // session it has just made is broken.
  Error session_unknown() const {
    return make_error("mcp_upstream_protocol",
                      "the MCP server `" + o_.id + "` did not know the session it had just made (HTTP 404)");
  }

  void drop_session(const std::string& session) {
    std::lock_guard lock(mu_);
    if (session_ == session) initialized_ = false;
  }

  Result<Message> request(std::string_view method, const json::object& params, const std::string& session,
                          const std::string& version, Clock::time_point deadline, const MessageObserver& observe) {
    auto r = exchange(request_text(json::value(next_id_++), method, params), session, version, deadline, observe,
                      nullptr, true);
    if (!r) return r.error();
    return std::move(*r);
  }

  // POSTs one message. For a request (`expect_response`), reads until its
  // response (JSON body or SSE stream); for a notification or response,
  // accepts 202/200 with no message. `reply` gets the status and headers.
  Result<Message> exchange(const std::string& text, const std::string& session, const std::string& version,
                           Clock::time_point deadline, const MessageObserver& observe, Reply* reply,
                           bool expect_response) {
    json::value want_id;
    if (expect_response) {
      auto parsed = json::parse(text);
      want_id = parsed.as_object().at("id");
    }
    for (int attempt = 0;; ++attempt) {
      bool reused = false;
      auto conn = acquire(deadline, reused);
      if (!conn) return conn.error();
      Reply local;
      bool reusable = false;
      auto r = post(**conn, text, session, version, deadline, observe, reply ? *reply : local, want_id, expect_response,
                    reusable);
      if (!r && reused && attempt == 0 && r.error().code == "mcp_upstream_stale") continue;  // a closed pooled connection
      if (r && reusable) release(std::move(*conn));
      if (!r && r.error().code == "mcp_upstream_stale")
        return make_error("mcp_upstream_unavailable", "the MCP server `" + o_.id + "` closed the connection");
      return r;
    }
  }

  Result<std::unique_ptr<Conn>> acquire(Clock::time_point deadline, bool& reused) {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        reused = true;
        return c;
      }
    }
    reused = false;
    std::vector<std::string> addresses;
    if (o_.resolve) {
      auto a = o_.resolve(use_tls_ ? "https" : "http", host_, port_);
      if (!a) return a.error();
      addresses = std::move(*a);
    }
    auto conn = std::make_unique<Conn>();
    std::vector<tcp::endpoint> endpoints;
    beast::error_code ec;
    if (!o_.resolve) {
      tcp::resolver resolver(conn->ioc);
      auto results = resolver.resolve(host_, std::to_string(port_), ec);
      if (ec) return make_error("mcp_upstream_unavailable", "cannot resolve the MCP server `" + o_.id + "`");
      for (const auto& e : results) endpoints.push_back(e.endpoint());
    } else {
      for (const auto& a : addresses) {
        auto ip = asio::ip::make_address(a, ec);
        if (!ec) endpoints.emplace_back(ip, port_);
      }
    }
    if (endpoints.empty()) return make_error("mcp_upstream_unavailable", "no address for the MCP server `" + o_.id + "`");
    if (use_tls_) conn->tls.emplace(conn->ioc, *tls_ctx_);
    else conn->tcp.emplace(conn->ioc);
    auto& tcp_layer = conn->lowest();
    tcp_layer.expires_at(std::min(deadline, Clock::now() + o_.connect_timeout));
    tcp_layer.async_connect(endpoints, [&ec](beast::error_code e, const tcp::endpoint&) { ec = e; });
    conn->run();
    if (ec) return upstream_error(o_.id, ec, "connect");
    tcp_layer.socket().set_option(tcp::no_delay(true), ec);
    if (use_tls_) {
      net::configure_peer_check(conn->tls->native_handle(), host_);
      tcp_layer.expires_at(deadline);
      conn->tls->async_handshake(ssl::stream_base::client, [&ec](beast::error_code e) { ec = e; });
      conn->run();
      if (ec)
        return make_error("mcp_upstream_unavailable",
                          "TLS with the MCP server `" + o_.id + "` failed: " +
                              net::tls_failure_reason(conn->tls->native_handle(), ec.message()));
    }
    return conn;
  }

  void release(std::unique_ptr<Conn> c) {
    std::lock_guard lock(mu_);
    if (idle_.size() < o_.max_idle_connections) idle_.push_back(std::move(c));
  }

  template <class Stream>
  Result<Message> post_on(Stream& stream, Conn& conn, const std::string& text, const std::string& session,
                          const std::string& version, Clock::time_point deadline, const MessageObserver& observe,
                          Reply& reply, const json::value& want_id, bool expect_response, bool& reusable) {
    http::request<http::string_body> req{http::verb::post, target_, 11};
    req.set(http::field::host, host_ + ":" + std::to_string(port_));
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json, text/event-stream");
    req.set(http::field::user_agent, "ztgate");
    if (!o_.bearer.empty()) req.set(http::field::authorization, "Bearer " + o_.bearer);
    if (!session.empty()) req.set("mcp-session-id", session);
    if (!version.empty()) req.set("mcp-protocol-version", version);
    req.keep_alive(true);
    req.body() = text;
    req.prepare_payload();
    beast::error_code ec;
    conn.lowest().expires_at(deadline);
    http::async_write(stream, req, [&ec](beast::error_code e, size_t) { ec = e; });
    conn.run();
    if (ec) return make_error("mcp_upstream_stale", ec.message());
    http::response_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxMessageBytes);
    http::async_read_header(stream, conn.buffer, parser, [&ec](beast::error_code e, size_t) { ec = e; });
    conn.run();
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset)
      return make_error("mcp_upstream_stale", ec.message());
    if (ec) return upstream_error(o_.id, ec, "response head");
    const auto& head = parser.get();
    reply.status = static_cast<int>(head.result_int());
    reply.content_type = std::string(head[http::field::content_type]);
    reply.session_id = std::string(head["mcp-session-id"]);
    bool sse = reply.content_type.rfind("text/event-stream", 0) == 0;
    if (reply.status == 404 && !session.empty()) return make_error("mcp_session_expired", "session gone");
    if (reply.status == 401 || reply.status == 403)
      return make_error("mcp_upstream_auth", "the MCP server `" + o_.id + "` refused the gateway's credential (HTTP " +
                                                 std::to_string(reply.status) + ")");
    if (!expect_response) {
      if (reply.status != 202 && reply.status != 200)
        return make_error("mcp_upstream_protocol", "the MCP server `" + o_.id + "` answered HTTP " + std::to_string(reply.status));
      if (!parser.is_done()) {
        http::async_read(stream, conn.buffer, parser, [&ec](beast::error_code e, size_t) { ec = e; });
        conn.run();
      }
      reusable = !ec && parser.keep_alive();
      return Message{};
    }
    if (reply.status != 200)
      return make_error("mcp_upstream_protocol", "the MCP server `" + o_.id + "` answered HTTP " + std::to_string(reply.status));
    if (!sse) {
      http::async_read(stream, conn.buffer, parser, [&ec](beast::error_code e, size_t) { ec = e; });
      conn.run();
      if (ec) return upstream_error(o_.id, ec, "response body");
      reusable = parser.keep_alive();
      auto m = parse_message(parser.get().body());
      if (!m) return make_error("mcp_upstream_protocol", "the MCP server `" + o_.id + "` sent " + m.error().message);
      if (m->kind != MessageKind::kResult && m->kind != MessageKind::kError)
        return make_error("mcp_upstream_protocol", "the MCP server `" + o_.id + "` answered with a request");
      if (m->id != want_id)
        return make_error("mcp_upstream_protocol", "the MCP server `" + o_.id + "` answered another request");
      if (observe) observe(parser.get().body());
      return m;
    }
    // SSE: notifications and server requests may come first; the response ends it.
    SseParser events(kMaxMessageBytes);
    std::vector<SseEvent> got;
    for (;;) {
      auto& body = parser.get().body();
      if (!body.empty()) {
        if (auto st = events.feed(body, got); !st)
          return make_error("mcp_upstream_protocol", "the MCP server `" + o_.id + "` sent an oversized event");
        body.clear();
      }
      for (auto& e : got) {
        if (e.data.empty()) continue;
        auto m = parse_message(e.data);
        if (!m) return make_error("mcp_upstream_protocol", "the MCP server `" + o_.id + "` sent " + m.error().message);
        if (m->kind == MessageKind::kRequest) {
          answer_server_request(*m, session, version, deadline);
          continue;
        }
        if (observe) observe(e.data);
        if ((m->kind == MessageKind::kResult || m->kind == MessageKind::kError) && m->id == want_id) {
          if (parser.is_done()) reusable = parser.keep_alive();
          return m;
        }
      }
      got.clear();
      if (parser.is_done())
        return make_error("mcp_upstream_protocol", "the MCP server `" + o_.id + "` ended the stream without a response");
      http::async_read_some(stream, conn.buffer, parser, [&ec](beast::error_code e, size_t) { ec = e; });
      conn.run();
      if (ec && ec != http::error::need_buffer) return upstream_error(o_.id, ec, "event stream");
    }
  }

  // Requests a server sends us in a stream (ping, sampling, elicitation...):
  // ping is answered, the rest refused (the gateway does not relay them).
  void answer_server_request(const Message& m, const std::string& session, const std::string& version,
                             Clock::time_point deadline) {
    std::string reply = m.method == "ping" ? result_response(m.id, json::object{})
                                           : error_response(m.id, kMethodNotFound, "the gateway does not offer this to servers");
    (void)exchange(reply, session, version, deadline, nullptr, nullptr, false);
  }

  Result<Message> post(Conn& conn, const std::string& text, const std::string& session, const std::string& version,
                       Clock::time_point deadline, const MessageObserver& observe, Reply& reply,
                       const json::value& want_id, bool expect_response, bool& reusable) {
    if (conn.tls)
      return post_on(*conn.tls, conn, text, session, version, deadline, observe, reply, want_id, expect_response, reusable);
    return post_on(*conn.tcp, conn, text, session, version, deadline, observe, reply, want_id, expect_response, reusable);
  }

  HttpUpstreamOptions o_;
  std::string host_;
  uint16_t port_;
  std::string target_;
  bool use_tls_;
  std::optional<ssl::context> tls_ctx_;
  std::mutex init_mu_;
  std::mutex mu_;  // session, idle pool
  bool initialized_ = false;
  std::string session_, version_;
  json::object init_result_;
  std::vector<std::unique_ptr<Conn>> idle_;
  std::atomic<int64_t> next_id_{1};
};

}  // namespace

Result<std::unique_ptr<Upstream>> make_http_upstream(HttpUpstreamOptions options) {
  auto url = boost::urls::parse_uri(options.url);
  if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty() || url->has_userinfo() ||
      url->has_fragment())
    return make_error("mcp_config", "MCP server `" + options.id + "`: url must be http(s)://host[:port]/path");
  bool tls = url->scheme() == "https";
  uint16_t port = tls ? 443 : 80;
  if (url->has_port()) {
    if (url->port_number() == 0) return make_error("mcp_config", "MCP server `" + options.id + "`: bad port");
    port = url->port_number();
  }
  std::string host = url->host_type() == boost::urls::host_type::ipv6 ? std::string(url->host_address())
                                                                       : std::string(url->encoded_host());
  std::string target = url->encoded_path().empty() ? "/" : std::string(url->encoded_path());
  if (url->has_query()) target += "?" + std::string(url->encoded_query());
  auto up = std::make_unique<HttpUpstream>(std::move(options), std::move(host), port, std::move(target), tls);
  if (auto st = up->init_tls(); !st) return st.error();
  return std::unique_ptr<Upstream>(std::move(up));
}

}  // namespace ztgate::mcp
