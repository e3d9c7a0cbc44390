#include "gateway/http_server.h"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>

namespace ztgate::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

// Waits for a ReadyGate without blocking the thread: its callback (from any
// thread) is posted back here and cancels the deadline timer.
awaitable<bool> wait_for_gate(ReadyGate& gate) {
  struct State {
    explicit State(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    std::optional<bool> result;
  };
  auto ex = co_await asio::this_coro::executor;
  auto state = std::make_shared<State>(ex);
  state->timer.expires_after(gate.timeout());
  gate.when_ready([state, ex](bool ok) {
    asio::post(ex, [state, ok] {
      if (state->result) return;
      state->result = ok;
      state->timer.cancel();
    });
  });
  boost::system::error_code ec;
  co_await state->timer.async_wait(asio::redirect_error(use_awaitable, ec));
  co_return state->result.value_or(false);
}
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

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
  beast::error_code ec;
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

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  std::unique_ptr<ssl::context> tls;  // null: plain HTTP
  HttpHandler handler;
  // One io_context per thread, each run by exactly one thread: a
  // connection lives on one context for its whole life, so nothing needs a
  // strand and no completion crosses threads. The acceptor lives on the
  // first and deals connections out round robin.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  size_t next_context = 0;
  std::unique_ptr<tcp::acceptor> acceptor;
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

  // Idle upstream connections, per io_context and "host:port" (a pooled
  // connection is reused on the thread that owns it).
  static constexpr size_t kMaxIdlePerUpstream = 64;
  using TlsUpstream = beast::ssl_stream<beast::tcp_stream>;
  std::mutex pool_mu;
  std::map<std::string, std::vector<std::unique_ptr<beast::tcp_stream>>> pool;
  std::map<std::string, std::vector<std::unique_ptr<TlsUpstream>>> tls_pool;
  // Client TLS contexts for https upstreams, per CA file ("" = the system's).
  std::mutex client_tls_mu;
  std::map<std::string, std::unique_ptr<ssl::context>> client_tls;

  template <class Up>
  auto& pool_for() {
    if constexpr (std::is_same_v<Up, TlsUpstream>) {
      return tls_pool;
    } else {
      return pool;
    }
  }

  template <class Up>
  std::unique_ptr<Up> take_pooled(const std::string& key) {
    std::lock_guard lock(pool_mu);
    auto& p = pool_for<Up>();
    auto it = p.find(key);
    if (it == p.end() || it->second.empty()) return nullptr;
    auto s = std::move(it->second.back());
    it->second.pop_back();
    return s;
  }
  template <class Up>
  void give_back(const std::string& key, std::unique_ptr<Up> s) {
    if (stopping) return;
    std::lock_guard lock(pool_mu);
    auto& idle = pool_for<Up>()[key];
    if (idle.size() < kMaxIdlePerUpstream) idle.push_back(std::move(s));
  }

  // The verifying client context for `ca_file`; null when it cannot load.
  ssl::context* client_context(const std::string& ca_file) {
    std::lock_guard lock(client_tls_mu);
    auto& ctx = client_tls[ca_file];
    if (ctx) return ctx.get();
    auto made = std::make_unique<ssl::context>(ssl::context::tls_client);
    beast::error_code ec;
    made->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                          ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                      ec);
    if (!ec) {
      if (ca_file.empty()) {
        made->set_default_verify_paths(ec);
      } else {
        made->load_verify_file(ca_file, ec);
      }
    }
    if (!ec) made->set_verify_mode(ssl::verify_peer, ec);
    if (ec) {
      client_tls.erase(ca_file);
      return nullptr;
    }
    ctx = std::move(made);
    return ctx.get();
  }

  // Connects to the upstream (a fresh connection; TLS: handshake with SNI,
  // the chain verified and the name checked). Sets `code` on failure.
  template <class Up>
  awaitable<std::unique_ptr<Up>> connect_upstream(const ForwardRequest& f, std::string& code, std::string& message) {
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    auto [rec, results] = co_await resolver.async_resolve(f.host, std::to_string(f.port), as_tuple);
    if (rec) {
      code = "upstream_unavailable";
      message = "the upstream's address does not resolve";
      co_return nullptr;
    }
    std::unique_ptr<Up> up;
    if constexpr (std::is_same_v<Up, TlsUpstream>) {
      ssl::context* ctx = client_context(f.ca_file);
      if (ctx == nullptr) {
        code = "upstream_tls_error";
        message = "the upstream's trusted CAs cannot be loaded";
        co_return nullptr;
      }
      up = std::make_unique<Up>(executor, *ctx);
    } else {
      up = std::make_unique<Up>(executor);
    }
    auto& tcp_layer = beast::get_lowest_layer(*up);
    tcp_layer.expires_after(f.connect_timeout);
    auto [cec, ep] = co_await tcp_layer.async_connect(results, as_tuple);
    if (cec) {
      code = cec == beast::error::timeout ? "upstream_timeout" : "upstream_unavailable";
      message = cec == beast::error::timeout ? "connecting to the upstream timed out" : "the upstream refused the connection";
      co_return nullptr;
    }
    tcp_layer.socket().set_option(tcp::no_delay(true));
    if constexpr (std::is_same_v<Up, TlsUpstream>) {
      if (SSL_set_tlsext_host_name(up->native_handle(), f.host.c_str()) != 1) {
        code = "upstream_tls_error";
        message = "the upstream's name cannot be sent (SNI)";
        co_return nullptr;
      }
      up->set_verify_callback(ssl::host_name_verification(f.host));
      auto [hec] = co_await up->async_handshake(ssl::stream_base::client, as_tuple);
      if (hec) {
        code = "upstream_tls_error";
        message = "the TLS handshake with the upstream failed (untrusted certificate or wrong name)";
        co_return nullptr;
      }
    }
    co_return up;
  }

  // Sends a complete response to the client; false when the write failed.
  template <class Stream>
  static awaitable<bool> send(Stream& client, HttpResponse out, unsigned version, const std::string& request_id,
                              bool keep_alive) {
    http::response<http::string_body> res{static_cast<http::status>(out.status), version};
    res.set(http::field::server, "ztgate");
    res.set(http::field::content_type, out.content_type);
    res.set("x-request-id", request_id);
    for (const auto& [k, v] : out.headers) res.set(k, v);
    res.body() = std::move(out.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(client, res, as_tuple);
    co_return !wec;
  }

  // Forwards `fw` and relays the answer. Returns whether the client
  // connection can be kept alive.
  template <class Stream>
  awaitable<bool> forward(Stream& client, Forward& fw, unsigned version, const std::string& request_id,
                          bool keep_alive) {
    if (fw.request.tls) co_return co_await forward_over<Stream, TlsUpstream>(client, fw, version, request_id, keep_alive);
    co_return co_await forward_over<Stream, beast::tcp_stream>(client, fw, version, request_id, keep_alive);
  }

  template <class Stream, class Up>
  awaitable<bool> forward_over(Stream& client, Forward& fw, unsigned version, const std::string& request_id,
                               bool keep_alive) {
    const ForwardRequest& f = fw.request;
    ForwardObserver& obs = *fw.observer;
    auto& context = asio::query(client.get_executor(), asio::execution::context);
    // Pooled per thread, address and trust: a connection verified against one
    // upstream's CA file is never reused for an upstream that trusts others.
    std::string key = std::to_string(reinterpret_cast<uintptr_t>(&context)) + "/" + f.host + ":" +
                      std::to_string(f.port) + (f.tls ? "/tls:" + f.ca_file : "");
    http::request<http::string_body> req{http::string_to_verb(f.method), f.target, 11};
    bool default_port = f.port == (f.tls ? 443 : 80);
    req.set(http::field::host, default_port ? f.host : f.host + ":" + std::to_string(f.port));
    for (const auto& [k, v] : f.headers) req.set(k, v);
    req.body() = f.body;
    req.keep_alive(true);
    req.prepare_payload();

    beast::flat_buffer upbuf;
    upbuf.reserve(16 * 1024);  // read what arrived, not 512 bytes at a time
    std::optional<http::response_parser<http::buffer_body>> parser;
    std::unique_ptr<Up> up;
    std::string code, message;
    // A pooled connection may have been closed by the upstream meanwhile:
    // one retry on a fresh connection, only if nothing came back.
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = false;
      up = attempt == 0 ? take_pooled<Up>(key) : nullptr;
      if (up) {
        reused = true;
      } else {
        up = co_await connect_upstream<Up>(f, code, message);
        if (!up) break;
      }
      beast::get_lowest_layer(*up).expires_after(f.timeout);
      auto [wec, wn] = co_await http::async_write(*up, req, as_tuple);
      beast::error_code rec = wec;
      if (!rec) {
        parser.emplace();
        parser->body_limit(f.max_response_bytes);
        upbuf.clear();
        std::tie(rec, std::ignore) = co_await http::async_read_header(*up, upbuf, *parser, as_tuple);
      }
      if (!rec) {
        code.clear();
        break;
      }
      up.reset();
      if (reused && rec != beast::error::timeout) continue;
      code = rec == beast::error::timeout ? "upstream_timeout" : "upstream_unavailable";
      message = rec == beast::error::timeout ? "the upstream did not answer in time" : "the upstream closed the connection";
      break;
    }
    if (!up || !code.empty()) {
      if (code.empty()) {
        code = "upstream_unavailable";
        message = "the upstream is not reachable";
      }
      HttpResponse answer = obs.on_failure(code, message);
      int status = answer.status;
      beast::get_lowest_layer(client).expires_after(f.timeout);
      bool ok = co_await send(client, std::move(answer), version, request_id, keep_alive);
      obs.on_done(status, true, code);
      co_return ok && keep_alive;
    }

    auto& p = *parser;
    auto& head = p.get();
    std::vector<std::pair<std::string, std::string>> up_headers, relay;
    for (const auto& field : head) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      up_headers.emplace_back(std::move(name), std::string(field.value()));
    }
    int status = static_cast<int>(head.result_int());
    if (auto instead = obs.on_head(status, up_headers, relay)) {
      int s2 = instead->status;
      beast::get_lowest_layer(client).expires_after(f.timeout);
      bool ok = co_await send(client, std::move(*instead), version, request_id, keep_alive);
      obs.on_done(s2, true, "");
      co_return ok && keep_alive;  // `up` is dropped: its body was not read
    }

    http::response<http::buffer_body> res{static_cast<http::status>(status), version};
    res.set(http::field::server, "ztgate");
    res.set("x-request-id", request_id);
    if (auto ct = head.find(http::field::content_type); ct != head.end()) res.set(http::field::content_type, ct->value());
    for (const auto& [k, v] : relay) res.set(k, v);
    res.keep_alive(keep_alive);
    if (auto len = p.content_length()) {
      res.content_length(*len);
    } else {
      res.chunked(true);
    }
    res.body().data = nullptr;
    res.body().more = true;
    http::response_serializer<http::buffer_body> sr{res};
    if (!parser->content_length()) {
      // A stream (SSE): the head goes out now, before the first event. A
      // sized answer sends its head with the first body bytes instead (one
      // write, no small segment for Nagle to hold back).
      beast::get_lowest_layer(client).expires_after(f.timeout);
      auto [hec, hn] = co_await http::async_write_header(client, sr, as_tuple);
      if (hec) {
        obs.on_done(status, false, "client_gone");
        co_return false;
      }
    }
    std::array<char, 16 * 1024> buf;
    bool complete = true;
    std::string error;
    while (!p.is_done()) {
      p.get().body().data = buf.data();
      p.get().body().size = buf.size();
      beast::get_lowest_layer(*up).expires_after(f.timeout);
      // read_some: pass on what has arrived (an SSE event), do not wait to fill the buffer.
      auto [rec, rn] = co_await http::async_read_some(*up, upbuf, p, as_tuple);
      if (rec == http::error::need_buffer) rec = {};
      if (rec) {
        complete = false;
        error = rec == beast::error::timeout ? "upstream_timeout" : "upstream_broke_off";
        break;
      }
      size_t got = buf.size() - p.get().body().size;
      if (got == 0 && !p.is_done()) continue;
      obs.on_chunk(std::string_view(buf.data(), got));
      res.body().data = got ? buf.data() : nullptr;
      res.body().size = got;
      res.body().more = !p.is_done();
      beast::get_lowest_layer(client).expires_after(f.timeout);  // a client that stops reading
      auto [cec, cn] = co_await http::async_write(client, sr, as_tuple);
      if (cec == http::error::need_buffer) cec = {};
      if (cec) {
        complete = false;
        error = "client_gone";
        break;
      }
    }
    if (complete && !sr.is_done()) {
      res.body().data = nullptr;
      res.body().size = 0;
      res.body().more = false;
      auto [cec, cn] = co_await http::async_write(client, sr, as_tuple);
      if (cec && cec != http::error::need_buffer) {
        complete = false;
        error = "client_gone";
      }
    }
    obs.on_done(status, complete, error);
    if (complete && p.keep_alive()) give_back<Up>(key, std::move(up));
    // A response cut off mid-body cannot be repaired: close the client
    // connection so it sees the truncation.
    co_return complete && keep_alive;
  }

  awaitable<void> accept_loop() {
    for (;;) {
      asio::io_context& target = *contexts[next_context++ % contexts.size()];
      auto [ec, socket] = co_await acceptor->async_accept(target, as_tuple);
      if (ec) {
        if (stopping) co_return;
        continue;  // e.g. EMFILE: keep serving the connections we have
      }
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // answers are small: never wait for an ACK
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
    std::string remote;
    {
      beast::error_code rec;
      auto ep = socket.remote_endpoint(rec);
      if (!rec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    if (!tls) {
      beast::tcp_stream stream(std::move(socket));
      co_await serve(stream, remote, "");
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
    beast::get_lowest_layer(stream).expires_after(options.request_timeout);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, as_tuple);
    if (hec) co_return;  // no HTTP answer is possible before the handshake
    std::string chain = peer_chain_pem(stream.native_handle());
    co_await serve(stream, remote, chain);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(as_tuple);
  }

  // The request loop of one connection, plain or TLS.
  template <class Stream>
  awaitable<void> serve(Stream& stream, const std::string& remote, const std::string& client_chain) {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    Connection conn{&tcp_layer};
    {
      std::lock_guard lock(conn_mu);
      open.insert(&conn);
    }
    beast::flat_buffer buffer;
    buffer.reserve(16 * 1024);
    bool first = true;
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      // Idle keep-alive connections wait at most idle_timeout for the next
      // request; the request itself must arrive within request_timeout.
      tcp_layer.expires_after(first ? options.request_timeout : options.idle_timeout);
      first = false;
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, as_tuple);
      if (!ec && !parser.is_done()) {
        conn.busy = true;
        tcp_layer.expires_after(options.request_timeout);
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
        tcp_layer.expires_after(std::chrono::seconds(5));
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
      in.client_cert_pem = client_chain;
      HttpResponse out;
      try {
        out = handler(in);
      } catch (const std::exception&) {
        out = json_error(500, "internal_error", "the request could not be handled", in.request_id);
      }
      if (out.gate && !co_await wait_for_gate(*out.gate)) out = out.gate->refusal();
      bool keep_alive = req.keep_alive() && !stopping;
      unsigned version = req.version();
      bool ok;
      if (out.forward) {
        // Streaming may take long: the upstream's timeouts bound it, not ours.
        tcp_layer.expires_never();
        ok = co_await forward(stream, *out.forward, version, in.request_id, keep_alive);
      } else {
        tcp_layer.expires_after(options.request_timeout);
        ok = co_await send(stream, std::move(out), version, in.request_id, keep_alive) && keep_alive;
      }
      conn.busy = false;
      if (!ok) break;
    }
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
  if (impl->options.tls) {
    auto ctx = make_tls_context(*impl->options.tls);
    if (!ctx) return ctx.error();
    impl->tls = std::move(*ctx);
  }
  int threads = std::max(1, impl->options.threads);
  for (int i = 0; i < threads; ++i) {
    impl->contexts.push_back(std::make_unique<asio::io_context>(1));
    impl->guards.push_back(asio::make_work_guard(*impl->contexts.back()));
  }
  impl->acceptor = std::make_unique<tcp::acceptor>(*impl->contexts.front());
  beast::error_code ec;
  auto address = asio::ip::make_address(impl->options.address, ec);
  if (ec) return make_error("server_bind", "bad listen address `" + impl->options.address + "`");
  tcp::endpoint endpoint(address, impl->options.port);
  impl->acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor->bind(endpoint, ec);
  if (!ec) impl->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error("server_bind", "cannot listen on " + impl->options.address + ":" +
                                         std::to_string(impl->options.port) + ": " + ec.message());
  Impl* raw = impl.get();
  asio::co_spawn(*raw->contexts.front(), raw->accept_loop(), asio::detached);
  for (auto& context : raw->contexts) {
    asio::io_context* c = context.get();
    raw->threads.emplace_back([c] { c->run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor->local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpServer::stop() {
  if (!impl_) return;
  std::lock_guard stop_lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->stopping = true;
  Impl* impl = impl_.get();
  asio::post(*impl->contexts.front(), [impl] {
    beast::error_code ignored;
    impl->acceptor->close(ignored);
  });
  // Close idle keep-alive connections on their own threads; busy ones finish
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
  impl->guards.clear();
  for (auto& context : impl->contexts) context->stop();
  for (auto& t : impl->threads)
    if (t.joinable()) t.join();
  // Pooled upstream connections belong to the contexts: close them first.
  std::lock_guard lock(impl->pool_mu);
  impl->pool.clear();
  impl->tls_pool.clear();
}

}  // namespace ztgate::gateway
