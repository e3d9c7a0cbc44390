#include "gateway/egress_proxy.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "gateway/internal/server_support.h"

namespace ztgate::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

constexpr size_t kMaxResponseHeaderBytes = 64 * 1024;
constexpr size_t kRelayChunk = 16 * 1024;

// Hop-by-hop fields (RFC 9110 7.6.1) and the proxy's own: never forwarded,
// in either direction. Fields the Connection header names are dropped too.
bool hop_by_hop(std::string_view name) {
  for (std::string_view h : {"connection", "keep-alive", "proxy-connection", "proxy-authorization",
                             "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade", "host",
                             "content-length", "expect", "x-ztgate-device"})
    if (beast::iequals(name, h)) return true;
  return false;
}

// The names a Connection header lists ("close, X-Foo").
std::vector<std::string> connection_tokens(std::string_view value) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < value.size() && out.size() < 64) {
    size_t comma = value.find(',', i);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view t = value.substr(i, comma - i);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (!t.empty()) out.emplace_back(t);
    i = comma + 1;
  }
  return out;
}

template <class Fields>
bool dropped(std::string_view name, const Fields& fields) {
  if (hop_by_hop(name)) return true;
  auto [from, to] = fields.equal_range(http::field::connection);
  for (auto it = from; it != to; ++it)
    for (const auto& t : connection_tokens(it->value()))
      if (beast::iequals(name, t)) return true;
  return false;
}

struct UpstreamConn {
  // The read buffer starts at kRelayChunk * 4: Beast reads what fits in a
  // flat_buffer's capacity, and an empty one means 512-byte reads.
  explicit UpstreamConn(asio::any_io_executor ex) : stream(ex) { buffer.reserve(4 * kRelayChunk); }
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  egress::IpAddress address;
  uint16_t port = 0;
  int served = 0;  // requests forwarded over it
};

tcp::endpoint endpoint_of(const egress::IpAddress& a, uint16_t port) {
  if (a.is_v4()) return {asio::ip::address_v4(a.v4_value()), port};
  asio::ip::address_v6::bytes_type b;
  std::copy(a.bytes().begin(), a.bytes().end(), b.begin());
  return {asio::ip::address_v6(b), port};
}

}  // namespace

struct EgressProxy::Impl {
  EgressProxyOptions options;
  EgressGuard* guard = nullptr;
  std::unique_ptr<ssl::context> tls;
  // As in HttpServer: one io_context per thread, each connection on one.
  // shared_ptr: a decision's callback (from a resolver thread) keeps its
  // context alive until it has posted back.
  std::vector<std::shared_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  size_t next_context = 0;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<size_t> connections{0};
  std::atomic<size_t> tunnels{0};
  std::atomic<bool> stopping{false};
  bool stopped = false;
  std::mutex stop_mu;

  // Open client connections, so stop() can close them.
  struct Connection {
    beast::tcp_stream* client;
    beast::tcp_stream* upstream = nullptr;  // set while a tunnel or a forward is open
  };
  std::mutex conn_mu;
  std::set<Connection*> open;
  std::condition_variable drained;

  // --- the decision, awaited without blocking the thread --------------------

  awaitable<std::shared_ptr<EgressSession>> decide(EgressAttempt attempt, std::chrono::milliseconds limit) {
    struct State {
      explicit State(asio::any_io_executor ex) : timer(ex) {}
      asio::steady_timer timer;
      std::shared_ptr<EgressSession> result;
      bool gave_up = false;
    };
    auto ex = co_await asio::this_coro::executor;
    auto& context = static_cast<asio::io_context&>(asio::query(ex, asio::execution::context));
    std::shared_ptr<asio::io_context> keep;
    for (auto& c : contexts)
      if (c.get() == &context) keep = c;
    auto state = std::make_shared<State>(ex);
    state->timer.expires_after(limit);
    guard->decide(std::move(attempt), [state, keep](std::shared_ptr<EgressSession> s) {
      asio::post(*keep, [state, s] {
        if (state->gave_up) {
          s->finish(EgressOutcome{504, 0, 0, "decision_late"});  // the client already got 504
          return;
        }
        state->result = s;
        state->timer.cancel();
      });
    });
    co_await state->timer.async_wait(as_tuple);
    if (!state->result) state->gave_up = true;
    co_return state->result;
  }

  // --- answers ----------------------------------------------------------------

  template <class Stream>
  static awaitable<bool> send(Stream& client, const HttpResponse& out, unsigned version, std::string_view request_id,
                              bool keep_alive) {
    http::response<http::string_body> res{static_cast<http::status>(out.status), version};
    res.set(http::field::server, "ztgate");
    res.set(http::field::content_type, out.content_type);
    if (!request_id.empty()) res.set("x-request-id", request_id);
    for (const auto& [k, v] : out.headers) res.insert(k, v);
    res.body() = out.body;
    res.keep_alive(keep_alive);
    res.prepare_payload();
    beast::get_lowest_layer(client).expires_after(std::chrono::seconds(10));
    auto [ec, n] = co_await http::async_write(client, res, as_tuple);
    co_return !ec;
  }

  // --- connecting ---------------------------------------------------------------

  // A connection to one of the permit's addresses (in order, within the
  // connect timeout overall); a plain request reuses `kept` when it is to
  // one of them (a tunnel always gets a fresh connection).
  awaitable<std::unique_ptr<UpstreamConn>> connect(const EgressPermit& p, std::unique_ptr<UpstreamConn>& kept,
                                                   bool tunnel, std::string& code) {
    if (!tunnel && kept && kept->port == p.destination.port) {
      for (const auto& a : p.addresses)
        if (a == kept->address) co_return std::move(kept);
    }
    kept.reset();
    auto ex = co_await asio::this_coro::executor;
    auto deadline = std::chrono::steady_clock::now() + p.connect_timeout;
    code = "upstream_unavailable";
    for (const auto& a : p.addresses) {
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::milliseconds(0)) {
        code = "upstream_timeout";
        break;
      }
      auto conn = std::make_unique<UpstreamConn>(ex);
      conn->address = a;
      conn->port = p.destination.port;
      conn->stream.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(left));
      auto [ec] = co_await conn->stream.async_connect(endpoint_of(a, p.destination.port), as_tuple);
      if (!ec) {
        beast::error_code ignored;
        conn->stream.socket().set_option(tcp::no_delay(true), ignored);
        conn->stream.expires_never();
        co_return conn;
      }
      if (ec == beast::error::timeout) code = "upstream_timeout";
    }
    co_return nullptr;
  }

  // --- tunnels --------------------------------------------------------------------

  struct TunnelState {
    std::chrono::steady_clock::time_point last;
    uint64_t up = 0, down = 0;
    std::string end;
  };

  // A side hung up (reset, or the pipe broken by the other's close): how
  // tunnels usually end, not a failure.
  static bool peer_closed(const beast::error_code& ec) {
    return ec == asio::error::connection_reset || ec == asio::error::broken_pipe || ec == asio::error::eof;
  }

  // Copies `from` to `to` until EOF (then half-closes `to`) or an error
  // (then closes both).
  template <class From, class To>
  static awaitable<void> pump(From& from, To& to, uint64_t& count, TunnelState& st, beast::tcp_stream& client_tcp,
                              beast::tcp_stream& upstream_tcp) {
    std::array<char, kRelayChunk> buf;
    for (;;) {
      auto [rec, n] = co_await from.async_read_some(asio::buffer(buf), as_tuple);
      if (n > 0) {
        st.last = std::chrono::steady_clock::now();
        auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n), as_tuple);
        count += wn;
        if (wec) {
          if (st.end.empty() && !peer_closed(wec)) st.end = "broke_off";
          break;
        }
      }
      if (rec) {
        if (rec == asio::error::eof || rec == ssl::error::stream_truncated) {
          beast::error_code ignored;
          beast::get_lowest_layer(to).socket().shutdown(tcp::socket::shutdown_send, ignored);
          co_return;
        }
        if (st.end.empty() && rec != asio::error::operation_aborted && !peer_closed(rec)) st.end = "broke_off";
        break;
      }
    }
    beast::error_code ignored;
    client_tcp.socket().cancel(ignored);
    upstream_tcp.socket().cancel(ignored);
  }

  // Relays both ways until both directions are done; closes both ends when
  // no byte moved for idle_timeout, at tunnel_max, or on stop(). The pumps
  // run as their own coroutines (g++ 12 miscompiles Asio's awaitable
  // operators: their temporaries are destroyed twice); this one watches.
  template <class Stream>
  awaitable<EgressOutcome> run_tunnel(Stream& client, beast::flat_buffer& pending, UpstreamConn& up) {
    auto& client_tcp = beast::get_lowest_layer(client);
    client_tcp.expires_never();
    up.stream.expires_never();
    TunnelState st;
    st.last = std::chrono::steady_clock::now();
    // Bytes the client sent right after its CONNECT (a TLS ClientHello).
    if (pending.size() > 0) {
      auto [wec, wn] = co_await asio::async_write(up.stream, pending.data(), as_tuple);
      st.up += wn;
      pending.consume(pending.size());
      if (wec) co_return EgressOutcome{200, st.up, 0, "broke_off"};
    }
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex);
    int running = 2;
    auto one_done = [&running, &timer](std::exception_ptr) {
      if (--running == 0) timer.cancel();
    };
    asio::co_spawn(ex, pump(client, up.stream, st.up, st, client_tcp, up.stream), one_done);
    asio::co_spawn(ex, pump(up.stream, client, st.down, st, client_tcp, up.stream), one_done);
    auto started = std::chrono::steady_clock::now();
    auto step = std::min<std::chrono::milliseconds>(options.idle_timeout / 4 + std::chrono::milliseconds(1),
                                                    std::chrono::milliseconds(1000));
    bool closing = false;
    while (running > 0) {
      timer.expires_after(step);
      co_await timer.async_wait(as_tuple);
      if (running == 0 || closing) continue;
      auto now = std::chrono::steady_clock::now();
      if (stopping) st.end = "stopping";
      else if (now - st.last >= options.idle_timeout) st.end = "idle_timeout";
      else if (now - started >= options.tunnel_max) st.end = "max_duration";
      else continue;
      closing = true;
      beast::error_code ignored;
      client_tcp.socket().cancel(ignored);
      up.stream.socket().cancel(ignored);
    }
    co_return EgressOutcome{200, st.up, st.down, st.end.empty() ? "closed" : st.end};
  }

  // --- plain HTTP -------------------------------------------------------------------

  // Forwards `req` to `up` and relays the answer. Sets `reusable` when the
  // upstream connection may serve the client's next request.
  // `reused`: `up` served an earlier request; when it turns out closed
  // (nothing came back), the outcome's end is "stale" and nothing was sent
  // to the client: the caller retries once on a fresh connection.
  template <class Stream>
  awaitable<EgressOutcome> forward(Stream& client, http::request<http::string_body>& req, const EgressPermit& p,
                                   UpstreamConn& up, EgressSession& session, bool reused, bool& keep_alive,
                                   bool& reusable, const std::string& request_id) {
    reusable = false;
    http::request<http::string_body> out{req.method(), p.destination.target, 11};
    out.method_string(req.method_string());
    for (const auto& f : req)
      if (!dropped(f.name_string(), req)) out.insert(f.name_string(), f.value());
    out.set(http::field::host, p.destination.authority());
    out.body() = reused ? req.body() : std::move(req.body());  // kept for a retry
    if (!out.body().empty() || req.method() == http::verb::post || req.method() == http::verb::put ||
        req.method() == http::verb::patch)
      out.content_length(out.body().size());
    out.keep_alive(true);
    up.stream.expires_after(options.response_timeout);
    auto [wec, wn] = co_await http::async_write(up.stream, out, as_tuple);
    uint64_t sent = wn;
    std::optional<http::response_parser<http::buffer_body>> fresh;
    auto new_parser = [&]() -> http::response_parser<http::buffer_body>& {
      auto& made = fresh.emplace();
      made.header_limit(kMaxResponseHeaderBytes);
      made.body_limit(boost::none);
      if (req.method() == http::verb::head) made.skip(true);
      return made;
    };
    new_parser();
    beast::error_code rec = wec;
    if (!rec) {
      // Interim answers (100, 103) are not relayed: the client waits for the final one.
      for (int interim = 0; interim < 8; ++interim) {
        up.stream.expires_after(options.response_timeout);
        std::tie(rec, std::ignore) = co_await http::async_read_header(up.stream, up.buffer, *fresh, as_tuple);
        if (rec || fresh->get().result_int() >= 200 || fresh->get().result_int() == 101) break;
        new_parser();
      }
    }
    auto& parser = *fresh;
    if (rec && reused && rec != beast::error::timeout && up.buffer.size() == 0)
      co_return EgressOutcome{0, sent, 0, "stale"};
    if (rec || parser.get().result_int() < 200 || parser.get().result_int() == 101) {
      bool timeout = rec == beast::error::timeout;
      std::string code = timeout ? "upstream_timeout" : "upstream_unavailable";
      HttpResponse r = session.connect_failed(code, timeout ? "the destination did not answer in time"
                                                            : "the destination closed the connection or answered badly",
                                              timeout ? 504 : 502);
      bool ok = co_await send(client, r, req.version(), request_id, keep_alive);
      keep_alive = ok && keep_alive;
      co_return EgressOutcome{r.status, sent, 0, code};
    }
    auto& head = parser.get();
    int status = static_cast<int>(head.result_int());
    http::response<http::buffer_body> res{head.result(), req.version()};
    res.reason(head.reason());
    for (const auto& f : head)
      if (!dropped(f.name_string(), head)) res.insert(f.name_string(), f.value());
    res.set("x-ztgate-request-id", request_id);
    bool bodiless = req.method() == http::verb::head || status == 204 || status == 304;
    if (auto len = parser.content_length()) {
      res.content_length(*len);
    } else if (!bodiless) {
      if (req.version() >= 11) res.chunked(true);
      else keep_alive = false;  // HTTP/1.0: the body ends when the connection does
    }
    res.keep_alive(keep_alive);
    res.body().data = nullptr;
    res.body().more = !parser.is_done();
    http::response_serializer<http::buffer_body> sr{res};
    auto& client_tcp = beast::get_lowest_layer(client);
    if (!parser.content_length()) {
      // A stream of unknown length (chunked, SSE): the head goes out now. A
      // sized answer's head goes with its first body bytes (one write).
      client_tcp.expires_after(options.response_timeout);
      auto [hec, hn] = co_await http::async_write_header(client, sr, as_tuple);
      if (hec) {
        keep_alive = false;
        co_return EgressOutcome{status, sent, 0, "client_gone"};
      }
    }
    std::array<char, kRelayChunk> buf;
    uint64_t down = 0;
    std::string end = "closed";
    while (!parser.is_done()) {
      parser.get().body().data = buf.data();
      parser.get().body().size = buf.size();
      up.stream.expires_after(options.response_timeout);
      auto [ec, n] = co_await http::async_read_some(up.stream, up.buffer, parser, as_tuple);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        end = ec == beast::error::timeout ? "upstream_timeout" : "upstream_broke_off";
        break;
      }
      size_t got = buf.size() - parser.get().body().size;
      if (got == 0 && !parser.is_done()) continue;
      session.on_chunk(std::string_view(buf.data(), got));
      down += got;
      res.body().data = got ? buf.data() : nullptr;
      res.body().size = got;
      res.body().more = !parser.is_done();
      client_tcp.expires_after(options.response_timeout);
      auto [cec, cn] = co_await http::async_write(client, sr, as_tuple);
      if (cec == http::error::need_buffer) cec = {};
      if (cec) {
        end = "client_gone";
        break;
      }
    }
    if (end != "closed" && end != "client_gone" && !sr.is_header_done()) {
      // Nothing reached the client yet: it gets a clear error, not a cut connection.
      HttpResponse r = session.connect_failed(end, "the destination broke off its answer", end == "upstream_timeout" ? 504 : 502);
      keep_alive = false;
      co_await send(client, r, req.version(), request_id, false);
      co_return EgressOutcome{r.status, sent, down, end};
    }
    if (end == "closed" && !sr.is_done()) {
      res.body().data = nullptr;
      res.body().size = 0;
      res.body().more = false;
      auto [cec, cn] = co_await http::async_write(client, sr, as_tuple);
      if (cec && cec != http::error::need_buffer) end = "client_gone";
    }
    bool complete = end == "closed";
    keep_alive = keep_alive && complete;
    reusable = complete && parser.keep_alive();
    co_return EgressOutcome{status, sent, down, end};
  }

  // --- the connection ---------------------------------------------------------------

  static std::string header_of(const http::request<http::string_body>& req, std::string_view name) {
    auto it = req.find(name);
    return it == req.end() ? std::string() : std::string(it->value());
  }

  template <class Stream>
  awaitable<void> serve(Stream& client, const std::string& remote, const std::string& chain) {
    auto& client_tcp = beast::get_lowest_layer(client);
    Connection conn{&client_tcp};
    {
      std::lock_guard lock(conn_mu);
      open.insert(&conn);
    }
    beast::flat_buffer buffer;
    buffer.reserve(16 * 1024);
    std::unique_ptr<UpstreamConn> kept;  // the upstream of the previous plain request
    bool first = true;
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      client_tcp.expires_after(first ? options.request_timeout : options.idle_timeout);
      first = false;
      auto [ec, n] = co_await http::async_read_header(client, buffer, parser, as_tuple);
      auto& req = parser.get();
      bool is_connect = !ec && req.method() == http::verb::connect;
      if (!ec && !is_connect && !parser.is_done()) {
        if (beast::iequals(header_of(req, "expect"), "100-continue")) {
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          co_await asio::async_write(client, asio::buffer(kContinue), as_tuple);
        }
        client_tcp.expires_after(options.request_timeout);
        std::tie(ec, n) = co_await http::async_read(client, buffer, parser, as_tuple);
      }
      if (ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
            ec == asio::error::connection_reset || ec == asio::error::eof)
          break;
        int status = ec == http::error::header_limit ? 431 : ec == http::error::body_limit ? 413 : 400;
        std::string code = status == 431 ? "headers_too_large" : status == 413 ? "body_too_large" : "bad_request";
        const std::string id = internal::new_request_id();
        const HttpResponse r = json_error(status, code, "malformed or oversized proxy request", id);
        co_await send(client, r, 11, id, false);
        break;
      }
      EgressAttempt attempt;
      std::string caller_id = header_of(req, "x-request-id");
      attempt.request_id = internal::sane_request_id(caller_id) ? caller_id : internal::new_request_id();
      attempt.remote = remote;
      attempt.client_cert_pem = chain;
      attempt.proxy_authorization = header_of(req, "proxy-authorization");
      attempt.device_assertion = header_of(req, "x-ztgate-device");
      attempt.method = std::string(req.method_string());
      attempt.target = std::string(req.target());
      const std::string request_id = attempt.request_id;
      bool keep_alive = req.keep_alive() && !stopping;
      unsigned version = req.version();

      std::shared_ptr<EgressSession> session;
      if (is_connect && tunnels.load() >= options.max_tunnels) {
        session = guard->refuse(std::move(attempt), 503, "too_many_tunnels",
                                "the egress proxy has its maximum of tunnels open; try again");
      } else {
        // The resolver answers by its own deadline; this bound only guards against a lost callback.
        session = co_await decide(std::move(attempt), std::chrono::seconds(70));
      }
      if (!session) {
        const HttpResponse r = json_error(504, "resolve_timeout", "the egress decision took too long", request_id);
        co_await send(client, r, version, request_id, false);
        break;
      }
      if (auto gate = session->gate(); gate && !co_await internal::wait_for_gate(*gate)) {
        HttpResponse r = gate->refusal();
        co_await send(client, r, version, request_id, false);
        session->finish(EgressOutcome{r.status, 0, 0, "audit_unavailable"});
        break;
      }
      if (const auto& refusal = session->refusal()) {
        bool ok = co_await send(client, *refusal, version, request_id, keep_alive);
        session->finish(EgressOutcome{refusal->status, 0, 0, ""});
        if (!ok || !keep_alive) break;
        continue;
      }
      const EgressPermit& permit = session->permit();
      std::string code;
      auto up = co_await connect(permit, kept, is_connect, code);
      if (!up) {
        bool timeout = code == "upstream_timeout";
        HttpResponse r = session->connect_failed(code,
                                                 timeout ? "connecting to the destination timed out"
                                                         : "the destination refused the connection",
                                                 timeout ? 504 : 502);
        bool ok = co_await send(client, r, version, request_id, keep_alive);
        session->finish(EgressOutcome{r.status, 0, 0, code});
        if (!ok || !keep_alive) break;
        continue;
      }
      if (auto gate = session->connected(up->address, is_connect); gate && !co_await internal::wait_for_gate(*gate)) {
        HttpResponse r = gate->refusal();
        co_await send(client, r, version, request_id, false);
        session->finish(EgressOutcome{r.status, 0, 0, "audit_unavailable"});
        break;
      }
      {
        std::lock_guard lock(conn_mu);
        conn.upstream = &up->stream;
      }
      if (is_connect) {
        ++tunnels;
        static constexpr std::string_view kEstablished = "HTTP/1.1 200 Connection established\r\n\r\n";
        client_tcp.expires_after(options.request_timeout);
        auto [wec, wn] = co_await asio::async_write(client, asio::buffer(kEstablished), as_tuple);
        EgressOutcome outcome{200, 0, 0, "client_gone"};
        if (!wec) outcome = co_await run_tunnel(client, buffer, *up);
        if (stopping && outcome.end != "closed") outcome.end = "stopping";
        --tunnels;
        session->finish(outcome);
        {
          std::lock_guard lock(conn_mu);
          conn.upstream = nullptr;
        }
        break;  // the connection was the tunnel
      }
      bool reusable = false;
      bool reused = up->served > 0;
      ++up->served;
      EgressOutcome outcome =
          co_await forward(client, req, permit, *up, *session, reused, keep_alive, reusable, request_id);
      if (outcome.end == "stale") {
        // The kept connection had been closed by the destination: once more on a fresh one.
        up = co_await connect(permit, kept, false, code);
        if (up) {
          {
            std::lock_guard lock(conn_mu);
            conn.upstream = &up->stream;
          }
          ++up->served;
          outcome = co_await forward(client, req, permit, *up, *session, false, keep_alive, reusable, request_id);
        } else {
          HttpResponse r = session->connect_failed(code, "the destination is not reachable", 502);
          keep_alive = co_await send(client, r, version, request_id, keep_alive) && keep_alive;
          outcome = EgressOutcome{r.status, 0, 0, code};
        }
      }
      session->finish(outcome);
      {
        std::lock_guard lock(conn_mu);
        conn.upstream = nullptr;
      }
      if (reusable) kept = std::move(up);
      if (!keep_alive) break;
    }
    std::lock_guard lock(conn_mu);
    open.erase(&conn);
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
    if (hec) co_return;
    std::string chain = internal::peer_chain_pem(stream.native_handle());
    co_await serve(stream, remote, chain);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(as_tuple);
  }

  awaitable<void> reject(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    HttpResponse r = json_error(503, "too_many_connections", "the egress proxy is at its connection limit", "");
    co_await send(stream, r, 11, "", false);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  awaitable<void> accept_loop() {
    for (;;) {
      asio::io_context& target = *contexts[next_context++ % contexts.size()];
      auto [ec, socket] = co_await acceptor->async_accept(target, as_tuple);
      if (ec) {
        if (stopping) co_return;
        continue;
      }
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      if (connections.load() >= options.max_connections) {
        asio::co_spawn(socket.get_executor(), reject(std::move(socket)), asio::detached);
        continue;
      }
      ++connections;
      asio::co_spawn(socket.get_executor(), session(std::move(socket)), [this](std::exception_ptr) {
        std::lock_guard lock(conn_mu);
        if (--connections == 0) drained.notify_all();
      });
    }
  }
};

EgressProxy::EgressProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EgressProxy::~EgressProxy() { stop(); }

Result<std::unique_ptr<EgressProxy>> EgressProxy::start(EgressProxyOptions options, EgressGuard& guard) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->guard = &guard;
  if (impl->options.tls) {
    auto ctx = internal::make_tls_context(*impl->options.tls);
    if (!ctx) return ctx.error();
    impl->tls = std::move(*ctx);
  }
  int threads = std::max(1, impl->options.threads);
  for (int i = 0; i < threads; ++i) {
    impl->contexts.push_back(std::make_shared<asio::io_context>(1));
    impl->guards.push_back(asio::make_work_guard(*impl->contexts.back()));
  }
  impl->acceptor = std::make_unique<tcp::acceptor>(*impl->contexts.front());
  if (auto bound = internal::listen_on(*impl->acceptor, impl->options.address, impl->options.port, "egress"); !bound)
    return bound.error();
  Impl* raw = impl.get();
  asio::co_spawn(*raw->contexts.front(), raw->accept_loop(), asio::detached);
  for (auto& context : raw->contexts) {
    asio::io_context* c = context.get();
    raw->threads.emplace_back([c] { c->run(); });
  }
  return std::unique_ptr<EgressProxy>(new EgressProxy(std::move(impl)));
}

uint16_t EgressProxy::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor->local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void EgressProxy::stop() {
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
  // Close every connection on its own thread: idle ones end, tunnels end
  // as "stopping" and are recorded, forwards in flight see the close.
  {
    std::lock_guard lock(impl->conn_mu);
    for (auto* c : impl->open) {
      asio::post(c->client->get_executor(), [impl, c] {
        std::lock_guard inner(impl->conn_mu);
        if (!impl->open.count(c)) return;
        c->client->cancel();
        if (c->upstream) c->upstream->cancel();
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
}

}  // namespace ztgate::gateway
