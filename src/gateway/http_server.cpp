#include "gateway/http_server.h"
#include "gateway/internal/server_support.h"

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
#include <deque>
#include <mutex>
#include <sstream>
#include <map>
#include <memory_resource>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>

namespace ztgate::gateway {
namespace {

using internal::listen_on;
using internal::make_tls_context;
using internal::new_request_id;
using internal::peer_chain_pem;
using internal::sane_request_id;
using internal::wait_for_gate;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

// Header fields parsed into a per-connection arena instead of one heap node
// per field: Beast's fields container takes an allocator. The arena holds
// one message's fields at a time (reset() once its parser is gone); the
// first 2 KiB are inline, more (up to max_header_bytes worth) from the heap
// until the next reset.
using ArenaAllocator = std::pmr::polymorphic_allocator<char>;
class FieldsArena {
 public:
  FieldsArena() = default;
  FieldsArena(const FieldsArena&) = delete;
  FieldsArena& operator=(const FieldsArena&) = delete;
  void reset() { resource_.release(); }
  ArenaAllocator allocator() { return ArenaAllocator(&resource_); }

 private:
  alignas(std::max_align_t) std::byte space_[2048];
  std::pmr::monotonic_buffer_resource resource_{space_, sizeof space_};
};

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

  // An upstream connection and its read buffer: the buffer is kept with the
  // pooled connection, so a forward does not allocate one.
  template <class Up>
  struct UpstreamConn {
    template <class... Args>
    explicit UpstreamConn(Args&&... args) : stream(std::forward<Args>(args)...) {}
    Up stream;
    beast::flat_buffer buffer;
    // The current answer's parser: here rather than in the forwarding
    // coroutine's frame, which stays small enough for Asio to recycle. Its
    // header fields come from an arena emptied before each answer.
    FieldsArena arena;
    std::optional<http::response_parser<http::buffer_body, ArenaAllocator>> parser;

    auto& new_parser() {
      parser.reset();
      arena.reset();
      return parser.emplace(std::piecewise_construct, std::make_tuple(), std::make_tuple(arena.allocator()));
    }
  };
  // Idle upstream connections, per io_context and upstream (address, TLS,
  // trusted CAs). A pooled connection is reused on the thread that owns it;
  // each context's pool is only touched by that context's thread (and by
  // stop() once the threads are joined), so it takes no lock.
  static constexpr size_t kMaxIdlePerUpstream = 64;
  using TlsUpstream = beast::ssl_stream<beast::tcp_stream>;
  struct IdleUpstreams {
    std::string host;
    uint16_t port = 0;
    bool tls = false;
    std::string ca_file;
    std::vector<std::string> connect_to;  // a connection made to checked addresses serves only the same list
    std::vector<std::unique_ptr<UpstreamConn<beast::tcp_stream>>> plain;
    std::vector<std::unique_ptr<UpstreamConn<TlsUpstream>>> secure;
  };
  std::vector<std::deque<IdleUpstreams>> pools;  // one per context, same index; deque: references stay valid
  // Client TLS contexts for https upstreams, per CA file ("" = the system's).
  std::mutex client_tls_mu;
  std::map<std::string, std::unique_ptr<ssl::context>> client_tls;

  // The idle list for `f`'s upstream on the calling context's thread.
  IdleUpstreams& idle_for(const asio::execution_context& context, const ForwardRequest& f) {
    size_t i = 0;
    while (i + 1 < contexts.size() && static_cast<const asio::execution_context*>(contexts[i].get()) != &context) ++i;
    auto& pool = pools[i];
    for (auto& e : pool)
      if (e.port == f.port && e.tls == f.tls && e.host == f.host && (!f.tls || e.ca_file == f.ca_file) &&
          e.connect_to == f.connect_to)
        return e;
    auto& e = pool.emplace_back();
    e.host = f.host;
    e.connect_to = f.connect_to;
    e.port = f.port;
    e.tls = f.tls;
    e.ca_file = f.tls ? f.ca_file : std::string();
    return e;
  }

  template <class Up>
  static auto& idle_list(IdleUpstreams& idle) {
    if constexpr (std::is_same_v<Up, TlsUpstream>) {
      return idle.secure;
    } else {
      return idle.plain;
    }
  }

  template <class Up>
  std::unique_ptr<UpstreamConn<Up>> take_pooled(IdleUpstreams& idle) {
    auto& list = idle_list<Up>(idle);
    if (list.empty()) return nullptr;
    auto s = std::move(list.back());
    list.pop_back();
    return s;
  }
  template <class Up>
  void give_back(IdleUpstreams& idle, std::unique_ptr<UpstreamConn<Up>> s) {
    if (stopping) return;
    auto& list = idle_list<Up>(idle);
    if (list.size() < kMaxIdlePerUpstream) list.push_back(std::move(s));
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
  awaitable<std::unique_ptr<UpstreamConn<Up>>> connect_upstream(const ForwardRequest& f, std::string& code,
                                                                 std::string& message) {
    auto executor = co_await asio::this_coro::executor;
    // The egress guard's checked addresses when given (never resolved
    // again: no rebinding between check and connect), else the name's.
    std::vector<tcp::endpoint> endpoints;
    for (const auto& a : f.connect_to) {
      beast::error_code aec;
      auto ip = asio::ip::make_address(a, aec);
      if (!aec) endpoints.emplace_back(ip, f.port);
    }
    if (f.connect_to.empty()) {
      tcp::resolver resolver(executor);
      auto [rec, results] = co_await resolver.async_resolve(f.host, std::to_string(f.port), as_tuple);
      if (rec) {
        code = "upstream_unavailable";
        message = "the upstream's address does not resolve";
        co_return nullptr;
      }
      for (const auto& r : results) endpoints.push_back(r.endpoint());
    }
    if (endpoints.empty()) {
      code = "upstream_unavailable";
      message = "the upstream has no address to connect to";
      co_return nullptr;
    }
    std::unique_ptr<UpstreamConn<Up>> conn;
    if constexpr (std::is_same_v<Up, TlsUpstream>) {
      ssl::context* ctx = client_context(f.ca_file);
      if (ctx == nullptr) {
        code = "upstream_tls_error";
        message = "the upstream's trusted CAs cannot be loaded";
        co_return nullptr;
      }
      conn = std::make_unique<UpstreamConn<Up>>(executor, *ctx);
    } else {
      conn = std::make_unique<UpstreamConn<Up>>(executor);
    }
    conn->buffer.reserve(16 * 1024);  // read what arrived, not 512 bytes at a time
    Up* up = &conn->stream;
    auto& tcp_layer = beast::get_lowest_layer(*up);
    tcp_layer.expires_after(f.connect_timeout);
    auto [cec, ep] = co_await tcp_layer.async_connect(endpoints, as_tuple);
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
    co_return conn;
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

  // "Name: value\r\n".
  static void add_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  }

  // Whether `name` is one of `names` (ASCII case-insensitive).
  static bool named(std::string_view name, std::initializer_list<std::string_view> names) {
    for (auto n : names)
      if (beast::iequals(name, n)) return true;
    return false;
  }

  // Whether a header list can be written as is: no name twice, none of
  // `reserved` (the fields the server writes itself). Otherwise Beast's
  // fields container writes it (a later `set` replaces an earlier one).
  static bool plain_headers(const std::vector<std::pair<std::string, std::string>>& headers,
                            std::initializer_list<std::string_view> reserved) {
    for (size_t i = 0; i < headers.size(); ++i) {
      if (named(headers[i].first, reserved)) return false;
      for (size_t j = 0; j < i; ++j)
        if (beast::iequals(headers[i].first, headers[j].first)) return false;
    }
    return true;
  }

  // The upstream request's head: what Beast's serializer writes for a
  // request with Host, the adapter's headers (each `set`), keep-alive and
  // prepare_payload()'s Content-Length. Written straight into a string in the
  // usual case; through Beast's fields when the headers need its merging.
  static std::string request_head(const ForwardRequest& f) {
    bool default_port = f.port == (f.tls ? 443 : 80);
    std::string host = default_port ? f.host : f.host + ":" + std::to_string(f.port);
    http::verb verb = http::string_to_verb(f.method);
    bool sized = !f.body.empty() || verb == http::verb::options || verb == http::verb::put || verb == http::verb::post;
    if (verb != http::verb::unknown && verb != http::verb::trace &&
        plain_headers(f.headers, {"host", "content-length", "transfer-encoding", "connection"})) {
      std::string out;
      out.reserve(64 + f.target.size() + host.size() + f.headers.size() * 48);
      out.append(http::to_string(verb)).append(" ").append(f.target).append(" HTTP/1.1\r\n");
      add_field(out, "Host", host);
      for (const auto& [k, v] : f.headers) add_field(out, k, v);
      if (sized) add_field(out, "Content-Length", std::to_string(f.body.size()));
      out += "\r\n";
      return out;
    }
    http::request<http::string_body> req{verb, f.target, 11};
    req.set(http::field::host, host);
    for (const auto& [k, v] : f.headers) req.set(k, v);
    req.keep_alive(true);
    if (sized) req.content_length(f.body.size());
    std::ostringstream os;
    os << req.base();
    return os.str();
  }

  template <class Stream, class Up>
  awaitable<bool> forward_over(Stream& client, Forward& fw, unsigned version, const std::string& request_id,
                               bool keep_alive) {
    const ForwardRequest& f = fw.request;
    ForwardObserver& obs = *fw.observer;
    auto& context = asio::query(client.get_executor(), asio::execution::context);
    // Pooled per thread, address and trust: a connection verified against one
    // upstream's CA file is never reused for an upstream that trusts others.
    IdleUpstreams& idle = idle_for(context, f);
    std::string request_head_text = request_head(f);
    std::array<asio::const_buffer, 2> request{asio::buffer(request_head_text), asio::buffer(f.body)};

    std::unique_ptr<UpstreamConn<Up>> conn;
    std::string code, message;
    // A pooled connection may have been closed by the upstream meanwhile:
    // one retry on a fresh connection, only if nothing came back.
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = false;
      conn = attempt == 0 ? take_pooled<Up>(idle) : nullptr;
      if (conn) {
        reused = true;
      } else {
        conn = co_await connect_upstream<Up>(f, code, message);
        if (!conn) break;
      }
      beast::get_lowest_layer(conn->stream).expires_after(f.timeout);
      auto [wec, wn] = co_await asio::async_write(conn->stream, request, as_tuple);
      beast::error_code rec = wec;
      if (!rec) {
        auto& parser = conn->new_parser();
        parser.body_limit(f.max_response_bytes);
        conn->buffer.clear();
        std::tie(rec, std::ignore) = co_await http::async_read_header(conn->stream, conn->buffer, parser, as_tuple);
      }
      if (!rec) {
        code.clear();
        break;
      }
      conn.reset();
      if (reused && rec != beast::error::timeout) continue;
      code = rec == beast::error::timeout ? "upstream_timeout" : "upstream_unavailable";
      message = rec == beast::error::timeout ? "the upstream did not answer in time" : "the upstream closed the connection";
      break;
    }
    if (!conn || !code.empty()) {
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

    auto& p = *conn->parser;
    auto& head = p.get();
    std::vector<std::pair<std::string, std::string>> up_headers, relay;
    up_headers.reserve(static_cast<size_t>(std::distance(head.begin(), head.end())));
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
      co_return ok && keep_alive;  // the connection is dropped: its body was not read
    }
    auto ct = head.find(http::field::content_type);
    BodyFilter* filter = obs.body_filter();
    if (auto len = p.content_length();
        len && !p.is_done() && !filter &&
        plain_headers(relay, {"server", "x-request-id", "content-type", "content-length", "transfer-encoding", "connection"})) {
      // A sized answer (the usual non-streaming completion): the head, then
      // the body bytes as they arrive, straight from the upstream's buffer.
      std::string out;
      out.reserve(192 + request_id.size());
      out.append("HTTP/").append(1, static_cast<char>('0' + version / 10)).append(".");
      out.append(1, static_cast<char>('0' + version % 10)).append(" ").append(std::to_string(status)).append(" ");
      out.append(http::obsolete_reason(static_cast<http::status>(status))).append("\r\n");
      add_field(out, "Server", "ztgate");
      add_field(out, "x-request-id", request_id);
      if (ct != head.end()) add_field(out, "Content-Type", ct->value());
      for (const auto& [k, v] : relay) add_field(out, k, v);
      if (version >= 11 && !keep_alive) add_field(out, "Connection", "close");
      if (version < 11 && keep_alive) add_field(out, "Connection", "keep-alive");
      add_field(out, "Content-Length", std::to_string(*len));
      out += "\r\n";
      bool upstream_reusable = p.keep_alive();
      co_return co_await relay_sized(client, idle, std::move(conn), obs, f, status, std::move(out), *len,
                                     upstream_reusable, keep_alive);
    }

    // A named variable, not a conditional's temporary in the co_await
    // expression: g++ 12 destroys such temporaries twice.
    std::optional<std::string> content_type;
    if (ct != head.end()) content_type.emplace(ct->value());
    co_return co_await relay_stream(client, idle, std::move(conn), obs, filter, f, status, version, request_id,
                                    std::move(content_type), std::move(relay), keep_alive);
  }

  // Relays any other answer (chunked: an SSE stream; sized ones whose
  // headers need Beast's merging; any answer through a body filter) through
  // Beast's serializer, chunk by chunk as it arrives.
  template <class Stream, class Up>
  awaitable<bool> relay_stream(Stream& client, IdleUpstreams& idle, std::unique_ptr<UpstreamConn<Up>> conn,
                               ForwardObserver& obs, BodyFilter* filter, const ForwardRequest& f, int status,
                               unsigned version, const std::string& request_id,
                               std::optional<std::string> content_type,
                               std::vector<std::pair<std::string, std::string>> relay, bool keep_alive) {
    auto& p = *conn->parser;
    http::response<http::buffer_body> res{static_cast<http::status>(status), version};
    res.set(http::field::server, "ztgate");
    res.set("x-request-id", request_id);
    if (content_type) res.set(http::field::content_type, *content_type);
    for (const auto& [k, v] : relay) res.set(k, v);
    // A filtered body has a length of its own: chunked, or (HTTP/1.0) ended
    // by closing the connection.
    if (filter && version < 11) keep_alive = false;
    res.keep_alive(keep_alive);
    const bool sized = p.content_length() && !filter;
    if (sized) {
      res.content_length(*p.content_length());
    } else if (version >= 11) {
      res.chunked(true);
    }
    res.body().data = nullptr;
    res.body().more = true;
    http::response_serializer<http::buffer_body> sr{res};
    // A filtered answer's head leaves with its first bytes (the filter may
    // still change the status until then).
    if (!sized && !filter) {
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
    auto buf_storage = std::make_unique<std::array<char, 16 * 1024>>();
    auto& buf = *buf_storage;
    std::string filtered;  // the filter's output for the current chunk
    bool complete = true;
    bool finished = false;   // the filter's finish() was sent
    bool cut_short = false;  // the filter ended the answer before the upstream did
    std::string error;
    while (!p.is_done()) {
      p.get().body().data = buf.data();
      p.get().body().size = buf.size();
      beast::get_lowest_layer(conn->stream).expires_after(f.timeout);
      // read_some: pass on what has arrived (an SSE event), do not wait to fill the buffer.
      auto [rec, rn] = co_await http::async_read_some(conn->stream, conn->buffer, p, as_tuple);
      if (rec == http::error::need_buffer) rec = {};
      if (rec) {
        complete = false;
        error = rec == beast::error::timeout ? "upstream_timeout" : "upstream_broke_off";
        break;
      }
      size_t got = buf.size() - p.get().body().size;
      if (got == 0 && !p.is_done()) continue;
      std::string_view out(buf.data(), got);
      bool last = p.is_done();
      if (filter) {
        filtered = filter->feed(out);
        if (filter->ended()) last = true;
        if (last) filtered += filter->finish();
        out = filtered;
      }
      if (out.empty() && !last) continue;
      if (filter && !sr.is_header_done() && filter->status() != 0) {
        status = filter->status();
        res.result(static_cast<unsigned>(status));
      }
      obs.on_chunk(out);
      res.body().data = out.empty() ? nullptr : const_cast<char*>(out.data());
      res.body().size = out.size();
      res.body().more = !last;
      beast::get_lowest_layer(client).expires_after(f.timeout);  // a client that stops reading
      auto [cec, cn] = co_await http::async_write(client, sr, as_tuple);
      if (cec == http::error::need_buffer) cec = {};
      if (cec) {
        complete = false;
        error = "client_gone";
        break;
      }
      if (last) {
        finished = true;
        cut_short = !p.is_done();  // the upstream's rest is not read: never reuse it
        break;
      }
    }
    if (complete && !sr.is_done()) {
      // An empty body: the filter may still have something to say.
      if (filter && !finished) filtered = filter->finish();
      if (filter && !sr.is_header_done() && filter->status() != 0) {
        status = filter->status();
        res.result(static_cast<unsigned>(status));
      }
      if (!filtered.empty()) obs.on_chunk(filtered);
      res.body().data = filtered.empty() ? nullptr : filtered.data();
      res.body().size = filtered.size();
      res.body().more = false;
      auto [cec, cn] = co_await http::async_write(client, sr, as_tuple);
      if (cec && cec != http::error::need_buffer) {
        complete = false;
        error = "client_gone";
      }
    }
    obs.on_done(status, complete, error);
    if (complete && !cut_short && p.keep_alive()) give_back<Up>(idle, std::move(conn));
    // A response cut off mid-body cannot be repaired: close the client
    // connection so it sees the truncation.
    co_return complete && keep_alive;
  }

  // Relays a sized body of `length` bytes (> 0) after `head`: the bytes
  // already read with the upstream's head first, then each read as it
  // arrives; the head goes out with the first body bytes (one write).
  // Upstream bytes past `length` make the connection unfit for reuse.
  template <class Stream, class Up>
  awaitable<bool> relay_sized(Stream& client, IdleUpstreams& idle, std::unique_ptr<UpstreamConn<Up>> conn,
                              ForwardObserver& obs, const ForwardRequest& f, int status, std::string head,
                              uint64_t length, bool upstream_reusable, bool keep_alive) {
    constexpr size_t kChunk = 16 * 1024;
    beast::flat_buffer& buf = conn->buffer;
    uint64_t remaining = length;
    bool complete = true;
    std::string_view error;
    size_t head_left = head.size();
    for (;;) {
      if (buf.size() > 0) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), remaining));
        if (buf.size() > remaining) upstream_reusable = false;
        const char* data = static_cast<const char*>(buf.data().data());
        obs.on_chunk(std::string_view(data, n));
        std::array<asio::const_buffer, 2> out{asio::const_buffer(head.data(), head_left), asio::const_buffer(data, n)};
        beast::get_lowest_layer(client).expires_after(f.timeout);  // a client that stops reading
        auto [cec, cn] = co_await asio::async_write(client, out, as_tuple);
        if (cec) {
          complete = false;
          error = "client_gone";
          break;
        }
        head_left = 0;
        buf.consume(n);
        remaining -= n;
      }
      if (remaining == 0) break;
      buf.clear();
      beast::get_lowest_layer(conn->stream).expires_after(f.timeout);
      // read_some: pass on what has arrived, do not wait to fill the buffer.
      auto [rec, rn] = co_await conn->stream.async_read_some(
          buf.prepare(static_cast<size_t>(std::min<uint64_t>(remaining, kChunk))), as_tuple);
      buf.commit(rn);
      if (rec && rn == 0) {
        complete = false;
        error = rec == beast::error::timeout ? "upstream_timeout" : "upstream_broke_off";
        break;
      }
    }
    obs.on_done(status, complete, error);
    if (complete && upstream_reusable) give_back<Up>(idle, std::move(conn));
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
    HttpRequest seen;
    beast::error_code rec;
    auto ep = socket.remote_endpoint(rec);
    if (!rec) seen.remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    seen.request_id = new_request_id();
    HttpResponse err = json_error(503, "too_many_connections", "the gateway is at its connection limit", seen.request_id);
    report_rejected(seen, 503, "too_many_connections");
    beast::tcp_stream stream(std::move(socket));
    stream.expires_after(std::chrono::seconds(2));
    http::response<http::string_body> res{http::status::service_unavailable, 11};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::connection, "close");
    res.body() = std::move(err.body);
    res.prepare_payload();
    co_await http::async_write(stream, res, as_tuple);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  // Cancels a connection's pending read when it fires (see serve()). One per
  // connection, re-armed per read: a completion already queued when the
  // read finished carries an older generation and cancels nothing.
  class ReadDeadline {
   public:
    ReadDeadline(const asio::any_io_executor& executor, tcp::socket& socket)
        : timer_(executor), socket_(&socket), state_(std::make_shared<State>()) {}
    ~ReadDeadline() { disarm(); }
    ReadDeadline(const ReadDeadline&) = delete;
    ReadDeadline& operator=(const ReadDeadline&) = delete;

    void arm(std::chrono::milliseconds after) {
      disarm();
      const uint64_t generation = ++state_->generation;
      state_->armed = true;
      state_->fired = false;
      timer_.expires_after(after);
      timer_.async_wait([state = state_, socket = socket_, generation](const beast::error_code& ec) {
        if (ec || !state->armed || state->generation != generation) return;
        state->fired = true;
        beast::error_code ignored;
        socket->cancel(ignored);
      });
    }
    void disarm() {
      state_->armed = false;
      timer_.cancel();
    }
    bool fired() const { return state_->fired; }

   private:
    struct State {
      uint64_t generation = 0;
      bool armed = false;
      bool fired = false;
    };
    asio::steady_timer timer_;
    tcp::socket* socket_;
    std::shared_ptr<State> state_;
  };

  // A request the handler never sees (malformed, too large, too slow, over
  // the connection limit): a JSON error, `connection: close`, and
  // on_rejected so the gateway records it.
  void report_rejected(const HttpRequest& seen, int status, std::string_view code) {
    if (!options.on_rejected) return;
    try {
      options.on_rejected(seen, status, code);
    } catch (const std::exception&) {
      // recording is best effort here: the answer goes out regardless
    }
  }

  template <class Stream, class Parser>
  awaitable<void> send_protocol_error(Stream& stream, int status, const std::string& code, const std::string& message,
                                      const Parser& parser, const std::string& remote) {
    HttpRequest seen;
    seen.remote = remote;
    if (parser.is_header_done()) {
      const auto& head = parser.get();
      seen.method = std::string(head.method_string());
      seen.target = std::string(head.target());
      auto id = head.find("x-request-id");
      if (id != head.end() && sane_request_id(std::string(id->value()))) seen.request_id = std::string(id->value());
    }
    if (seen.request_id.empty()) seen.request_id = new_request_id();
    HttpResponse err = json_error(status, code, message, seen.request_id);
    report_rejected(seen, status, code);
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, err.content_type);
    res.set(http::field::connection, "close");
    res.body() = std::move(err.body);
    res.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    co_await http::async_write(stream, res, as_tuple);
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
    FieldsArena arena;
    ReadDeadline deadline(co_await asio::this_coro::executor, tcp_layer.socket());
    bool first = true;
    while (!stopping) {
      arena.reset();  // the previous request's parser is gone
      http::request_parser<http::string_body, ArenaAllocator> parser(std::piecewise_construct, std::make_tuple(),
                                                                     std::make_tuple(arena.allocator()));
      parser.header_limit(static_cast<uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      // A connection waits for the first byte of its next request at most
      // idle_timeout (the first request: request_timeout); from that byte
      // on, the whole request must arrive within request_timeout, else 408.
      // Our own timer cancels the read instead of the stream's expiry, which
      // would close the socket before the 408 could be written.
      tcp_layer.expires_never();
      beast::error_code ec;
      if (buffer.size() == 0) {
        deadline.arm(first ? options.request_timeout : options.idle_timeout);
        auto [rec, rn] = co_await stream.async_read_some(buffer.prepare(16 * 1024), as_tuple);
        buffer.commit(rn);
        ec = rec;
      }
      first = false;
      if (!ec) {
        conn.busy = true;
        deadline.arm(options.request_timeout);
        std::tie(ec, std::ignore) = co_await http::async_read(stream, buffer, parser, as_tuple);
      }
      deadline.disarm();
      conn.busy = true;
      if (ec) {
        bool started = buffer.size() > 0 || parser.got_some();
        if (deadline.fired() && started) {
          // Slow request (slowloris): answer 408 and close.
          co_await send_protocol_error(stream, 408, "request_timeout",
                                       "the request did not arrive within " +
                                           std::to_string(options.request_timeout.count()) + " ms",
                                       parser, remote);
          break;
        }
        if (deadline.fired() || ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::operation_aborted || ec == asio::error::connection_reset || ec == asio::error::eof)
          break;
        std::string code, message;
        int status = status_for(ec, code, message);
        co_await send_protocol_error(stream, status, code, message, parser, remote);
        break;
      }
      auto& req = parser.get();
      HttpRequest in;
      in.method = std::string(req.method_string());
      in.target = std::string(req.target());
      in.headers.reserve(static_cast<size_t>(std::distance(req.begin(), req.end())));
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
      while (out.gate) {
        auto gate = std::move(out.gate);
        if (!co_await wait_for_gate(*gate)) {
          out = gate->refusal();
          out.gate.reset();
          break;
        }
        if (auto next = gate->answer()) out = std::move(*next);
      }
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
    impl->pools.emplace_back();
  }
  impl->acceptor = std::make_unique<tcp::acceptor>(*impl->contexts.front());
  if (auto bound = listen_on(*impl->acceptor, impl->options.address, impl->options.port, ""); !bound)
    return bound.error();
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
  impl->pools.clear();
}

}  // namespace ztgate::gateway
