#include "gateway/http_server.h"

#include <openssl/rand.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace ztgate::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

std::string new_request_id() {
  unsigned char bytes[12];
  RAND_bytes(bytes, sizeof bytes);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

// A caller's x-request-id is kept only when it is short and plain, so it can
// be logged and echoed safely.
bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (unsigned char c : id)
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  HttpHandler handler;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  std::atomic<size_t> connections{0};
  std::atomic<bool> stopping{false};
  bool stopped = false;
  std::mutex stop_mu;

  // Open connections, so stop() can close the idle ones.
  struct Connection {
    beast::tcp_stream* stream;
    std::atomic<bool> busy{false};
  };
  std::mutex conn_mu;
  std::set<Connection*> open;
  std::condition_variable drained;

  awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(io), as_tuple);
      if (ec) {
        if (stopping) co_return;
        continue;  // e.g. EMFILE: keep serving the connections we have
      }
      if (connections.load() >= options.max_connections) {
        asio::co_spawn(socket.get_executor(), reject(std::move(socket)), asio::detached);
        continue;
      }
      ++connections;
      asio::co_spawn(socket.get_executor(), session(std::move(socket)), [this](std::exception_ptr) {
        std::lock_guard lock(conn_mu);  // so stop() cannot miss the wake-up
        if (--connections == 0) drained.notify_all();
      });
    }
  }

  awaitable<void> reject(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    stream.expires_after(std::chrono::seconds(2));
    http::response<http::string_body> res{http::status::service_unavailable, 11};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::connection, "close");
    res.body() = json_error(503, "too_many_connections", "the gateway is at its connection limit", "").body;
    res.prepare_payload();
    co_await http::async_write(stream, res, as_tuple);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  static int status_for(const beast::error_code& ec, std::string& code, std::string& message) {
    if (ec == http::error::body_limit) {
      code = "body_too_large";
      message = "the request body exceeds the limit";
      return 413;
    }
    if (ec == http::error::header_limit) {
      code = "headers_too_large";
      message = "the request headers exceed the limit";
      return 431;
    }
    code = "bad_request";
    message = "malformed HTTP request: " + ec.message();
    return 400;
  }

  awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    Connection conn{&stream};
    {
      std::lock_guard lock(conn_mu);
      open.insert(&conn);
    }
    std::string remote;
    {
      beast::error_code rec;
      auto ep = stream.socket().remote_endpoint(rec);
      if (!rec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    beast::flat_buffer buffer;
    bool first = true;
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      // Idle keep-alive connections wait at most idle_timeout for the next
      // request; the request itself must arrive within request_timeout.
      stream.expires_after(first ? options.request_timeout : options.idle_timeout);
      first = false;
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, as_tuple);
      if (!ec && !parser.is_done()) {
        conn.busy = true;
        stream.expires_after(options.request_timeout);
        std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, as_tuple);
      }
      conn.busy = true;
      if (ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
            ec == asio::error::connection_reset || ec == asio::error::eof)
          break;
        std::string code, message;
        int status = status_for(ec, code, message);
        HttpResponse err = json_error(status, code, message, new_request_id());
        http::response<http::string_body> res{static_cast<http::status>(status), 11};
        res.set(http::field::content_type, err.content_type);
        res.set(http::field::connection, "close");
        res.body() = std::move(err.body);
        res.prepare_payload();
        stream.expires_after(std::chrono::seconds(5));
        co_await http::async_write(stream, res, as_tuple);
        break;
      }
      auto& req = parser.get();
      HttpRequest in;
      in.method = std::string(req.method_string());
      in.target = std::string(req.target());
      for (const auto& field : req) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        in.headers.emplace_back(std::move(name), std::string(field.value()));
      }
      in.body = std::move(req.body());
      std::string caller_id = in.header("x-request-id");
      in.request_id = sane_request_id(caller_id) ? caller_id : new_request_id();
      in.remote = remote;
      HttpResponse out;
      try {
        out = handler(in);
      } catch (const std::exception&) {
        out = json_error(500, "internal_error", "the request could not be handled", in.request_id);
      }
      http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
      res.set(http::field::server, "ztgate");
      res.set(http::field::content_type, out.content_type);
      res.set("x-request-id", in.request_id);
      for (const auto& [k, v] : out.headers) res.set(k, v);
      res.body() = std::move(out.body);
      bool keep_alive = req.keep_alive() && !stopping;
      res.keep_alive(keep_alive);
      res.prepare_payload();
      stream.expires_after(options.request_timeout);
      auto [wec, wn] = co_await http::async_write(stream, res, as_tuple);
      conn.busy = false;
      if (wec || !keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    std::lock_guard lock(conn_mu);
    open.erase(&conn);
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::start(ServerOptions options, HttpHandler handler) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->handler = std::move(handler);
  beast::error_code ec;
  auto address = asio::ip::make_address(impl->options.address, ec);
  if (ec) return make_error("server_bind", "bad listen address `" + impl->options.address + "`");
  tcp::endpoint endpoint(address, impl->options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error("server_bind", "cannot listen on " + impl->options.address + ":" +
                                         std::to_string(impl->options.port) + ": " + ec.message());
  Impl* raw = impl.get();
  asio::co_spawn(raw->io, raw->accept_loop(), asio::detached);
  int threads = std::max(1, impl->options.threads);
  for (int i = 0; i < threads; ++i) raw->threads.emplace_back([raw] { raw->io.run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpServer::stop() {
  if (!impl_) return;
  std::lock_guard stop_lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->stopping = true;
  Impl* impl = impl_.get();
  asio::post(impl->io, [impl] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
  // Close idle keep-alive connections on their own strands; busy ones finish
  // their request and then see `stopping`.
  {
    std::lock_guard lock(impl->conn_mu);
    for (auto* c : impl->open) {
      if (c->busy) continue;
      asio::post(c->stream->get_executor(), [impl, c] {
        std::lock_guard inner(impl->conn_mu);
        if (impl->open.count(c) && !c->busy) c->stream->cancel();
      });
    }
  }
  {
    std::unique_lock lock(impl->conn_mu);
    impl->drained.wait_for(lock, impl->options.drain_timeout, [impl] { return impl->connections.load() == 0; });
  }
  impl->io.stop();
  for (auto& t : impl->threads)
    if (t.joinable()) t.join();
}

}  // namespace ztgate::gateway
