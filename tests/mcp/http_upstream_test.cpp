// The Streamable HTTP upstream against an in-process MCP server (blocking
// POSIX sockets, a thread per connection): initialize with Mcp-Session-Id
// and the protocol version header on later requests, JSON and SSE answers
// (notifications first; the server's own requests in the stream answered),
// a lost session (404) re-initialized once, 401/403, keep-alive reuse and a
// pooled connection the server closed, the gateway's bearer token, the
// timeout, oversized answers, answers for another id, the egress resolver,
// and the URLs make_http_upstream refuses.
#include "mcp/http_upstream.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace ztgate::mcp {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

struct SeenRequest {
  std::string target;
  std::map<std::string, std::string> headers;  // names in lowercase
  std::string body;
  std::string method;  // the JSON-RPC method ("" for a response)
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    default: return "Other";
  }
}

std::string http_response(int status, std::string_view content_type, std::string_view body,
                          std::string_view extra_headers = "") {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
  if (!content_type.empty()) r += "Content-Type: " + std::string(content_type) + "\r\n";
  r += extra_headers;
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  r += body;
  return r;
}

std::string chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + std::string(data) + "\r\n";
}

std::string sse_event(const json::value& message) { return "data: " + json::serialize(message) + "\n\n"; }

json::object rpc_result(const json::value& id, json::value result) {
  return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

// A Streamable HTTP MCP server with knobs. Sessions are "s-1", "s-2", ...
class FakeMcpServer {
 public:
  FakeMcpServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0)
      ADD_FAILURE() << "cannot listen on loopback";
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~FakeMcpServer() {
    stop_ = true;
    cv_.notify_all();
    acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
    ::close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/mcp") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int connections() const { return connections_; }
  std::vector<SeenRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<SeenRequest> requests_for(const std::string& method) {
    std::vector<SeenRequest> out;
    for (auto& r : requests())
      if (r.method == method) out.push_back(r);
    return out;
  }
  void forget_sessions() {
    std::lock_guard lock(mu_);
    sessions_.clear();
  }

  // Knobs (set before the client runs).
  std::string version = "2025-06-18";
  std::string required_bearer;      // "" = any
  int refuse_status = 401;          // when the bearer is wrong
  std::atomic<bool> always_404{false};         // no session is ever found
  std::atomic<bool> close_after_response{false};  // drop the connection after each answer (no Connection: close)

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++connections_;
      std::lock_guard lock(mu_);
      threads_.emplace_back([this, fd] {
        serve(fd);
        ::close(fd);
      });
    }
  }

  // Reads requests off one connection until the client closes it.
  void serve(int fd) {
    std::string data;
    char buf[65536];
    for (;;) {
      size_t head_end;
      while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
        if (!read_some(fd, data, buf, sizeof buf)) return;
      }
      SeenRequest req;
      std::string head = data.substr(0, head_end);
      size_t line_end = head.find("\r\n");
      std::string request_line = head.substr(0, line_end);
      size_t sp1 = request_line.find(' '), sp2 = request_line.rfind(' ');
      req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t end = head.find("\r\n", pos);
        if (end == std::string::npos) end = head.size();
        std::string line = head.substr(pos, end - pos);
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          size_t v = line.find_first_not_of(' ', colon + 1);
          req.headers[name] = v == std::string::npos ? "" : line.substr(v);
        }
        pos = end + 2;
      }
      size_t length = req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
      while (data.size() < head_end + 4 + length)
        if (!read_some(fd, data, buf, sizeof buf)) return;
      req.body = data.substr(head_end + 4, length);
      data.erase(0, head_end + 4 + length);
      if (!handle(fd, req)) return;
      if (close_after_response) return;
    }
  }

  bool read_some(int fd, std::string& data, char* buf, size_t size) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      int rc = ::poll(&p, 1, 20);
      if (rc == 0) continue;
      if (rc < 0) return false;
      ssize_t n = ::recv(fd, buf, size, 0);
      if (n <= 0) return false;
      data.append(buf, static_cast<size_t>(n));
      return true;
    }
    return false;
  }

  // Waits (at most 5 s) until the client answered the server's request `id`.
  json::value wait_for_answer(const std::string& id) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(5), [&] { return stop_ || answers_.count(id) > 0; });
    auto it = answers_.find(id);
    return it == answers_.end() ? json::value() : it->second;
  }

  // Answers one request; false closes the connection.
  bool handle(int fd, SeenRequest& req) {
    json::value message;
    try {
      message = json::parse(req.body);
    } catch (...) {
      return send_all(fd, http_response(400, "", ""));
    }
    json::object& m = message.as_object();
    const json::value* method = m.if_contains("method");
    req.method = method != nullptr && method->is_string() ? std::string(method->as_string()) : "";
    {
      std::lock_guard lock(mu_);
      requests_.push_back(req);
    }
    if (!required_bearer.empty() && req.header("authorization") != "Bearer " + required_bearer)
      return send_all(fd, http_response(refuse_status, "application/json", R"({"error":"invalid_token"})",
                                        "WWW-Authenticate: Bearer\r\n"));
    json::value id = m.contains("id") ? m.at("id") : json::value();
    if (req.method == "initialize") {
      std::string session;
      {
        std::lock_guard lock(mu_);
        session = "s-" + std::to_string(++next_session_);
        sessions_.insert(session);
      }
      json::object result{{"protocolVersion", version},
                          {"capabilities", json::object{{"tools", json::object{}}}},
                          {"serverInfo", json::object{{"name", "fake-http"}, {"version", "1"}}}};
      return send_all(fd, http_response(200, "application/json", json::serialize(rpc_result(id, result)),
                                        "Mcp-Session-Id: " + session + "\r\n"));
    }
    bool known;
    {
      std::lock_guard lock(mu_);
      known = !always_404 && sessions_.count(req.header("mcp-session-id")) > 0;
    }
    if (!known) return send_all(fd, http_response(404, "", ""));
    if (req.method.empty()) {  // the client's answer to one of our requests
      {
        std::lock_guard lock(mu_);
        answers_[json::serialize(id)] = message;
      }
      cv_.notify_all();
      return send_all(fd, http_response(202, "", ""));
    }
    if (id.is_null()) return send_all(fd, http_response(202, "", ""));  // a notification

    json::value args = json::object{};
    if (const json::value* p = m.if_contains("params"); p && p->is_object() && p->as_object().contains("arguments"))
      args = p->as_object().at("arguments");
    if (req.method == "tools/list")
      return send_all(fd, http_response(200, "application/json; charset=utf-8",
                                        json::serialize(rpc_result(id, json::parse(R"({"tools":[{"name":"echo"}]})")))));
    if (req.method == "echo")
      return send_all(fd, http_response(200, "application/json",
                                        json::serialize(rpc_result(id, json::object{{"echo", args}}))));
    if (req.method == "sse") {  // notifications, a comment, then the response, in separate chunks
      std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
      out += chunk(": stream opened\n\n");
      out += chunk(sse_event(json::object{{"jsonrpc", "2.0"}, {"method", "notifications/progress"},
                                          {"params", json::object{{"progress", 1}}}}));
      out += chunk("event: message\ndata: " +
                   json::serialize(json::object{{"jsonrpc", "2.0"}, {"method", "notifications/message"},
                                                {"params", json::object{{"level", "info"}}}}) +
                   "\n\n");
      std::string response = sse_event(rpc_result(id, json::object{{"echo", args}}));
      out += chunk(response.substr(0, 10));  // an event split across chunks
      out += chunk(response.substr(10));
      out += "0\r\n\r\n";
      return send_all(fd, out);
    }
    if (req.method == "sse_request") {  // the server asks the client something mid-stream
      std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
      if (!send_all(fd, head)) return false;
      if (!send_all(fd, chunk(sse_event(json::object{{"jsonrpc", "2.0"}, {"id", "srv-ping"}, {"method", "ping"}})) +
                            chunk(sse_event(json::object{{"jsonrpc", "2.0"},
                                                         {"id", 77},
                                                         {"method", "sampling/createMessage"},
                                                         {"params", json::object{}}}))))
        return false;
      json::value ping = wait_for_answer("\"srv-ping\"");
      json::value sampling = wait_for_answer("77");
      return send_all(fd, chunk(sse_event(rpc_result(id, json::object{{"ping", ping}, {"sampling", sampling}}))) +
                              "0\r\n\r\n");
    }
    if (req.method == "slow") {
      for (int i = 0; i < 100 && !stop_; ++i) std::this_thread::sleep_for(milliseconds(20));
      return false;
    }
    if (req.method == "big") {
      std::string big(kMaxMessageBytes + 16, 'a');
      return send_all(fd, http_response(200, "application/json",
                                        json::serialize(rpc_result(id, json::object{{"x", big}}))));
    }
    if (req.method == "big_sse") {
      std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
      out += chunk(sse_event(rpc_result(id, json::object{{"x", std::string(kMaxMessageBytes + 16, 'a')}})));
      out += "0\r\n\r\n";
      (void)send_all(fd, out);
      return false;
    }
    if (req.method == "wrong_id")
      return send_all(fd, http_response(200, "application/json",
                                        json::serialize(rpc_result(json::value(987654321), json::object{}))));
    if (req.method == "sse_without_response") {
      std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
      out += chunk(sse_event(rpc_result(json::value(987654321), json::object{})));  // someone else's
      out += "0\r\n\r\n";
      return send_all(fd, out);
    }
    if (req.method == "status500") return send_all(fd, http_response(500, "text/plain", "oops"));
    return send_all(fd, http_response(200, "application/json",
                                      json::serialize(json::object{
                                          {"jsonrpc", "2.0"},
                                          {"id", id},
                                          {"error", json::object{{"code", -32601}, {"message", "no such method"}}}})));
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
  std::vector<SeenRequest> requests_;
  std::set<std::string> sessions_;
  int next_session_ = 0;
  std::map<std::string, json::value> answers_;  // by serialized id
};

std::unique_ptr<Upstream> upstream_for(const FakeMcpServer& server, const std::string& bearer = "") {
  HttpUpstreamOptions o;
  o.id = "fake";
  o.url = server.url();
  o.bearer = bearer;
  o.connect_timeout = milliseconds(2000);
  auto up = make_http_upstream(o);
  EXPECT_TRUE(up) << up.error().message;
  return up ? std::move(*up) : nullptr;
}

Message call_ok(Upstream& up, std::string_view method, const json::object& params = {},
                const MessageObserver& observe = nullptr) {
  auto r = up.call(method, params, milliseconds(10'000), observe);
  EXPECT_TRUE(r) << method << ": " << r.error().code << ": " << r.error().message;
  return r ? std::move(*r) : Message{};
}

std::string failure(Upstream& up, std::string_view method, milliseconds timeout = milliseconds(10'000)) {
  auto r = up.call(method, {}, timeout, nullptr);
  EXPECT_FALSE(r) << method;
  return r ? std::string("(succeeded)") : r.error().code;
}

TEST(HttpUpstream, InitializesASessionAndSendsItWithEveryRequest) {
  FakeMcpServer server;
  auto up = upstream_for(server, "gw-token-1");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->id(), "fake");
  Message m = call_ok(*up, "tools/list");
  ASSERT_EQ(m.kind, MessageKind::kResult);
  EXPECT_EQ(m.result.at("tools").as_array().size(), 1u);
  auto init = up->initialize_result(milliseconds(1000));
  ASSERT_TRUE(init);
  EXPECT_EQ(init->at("serverInfo").at("name"), "fake-http");

  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].method, "initialize");
  EXPECT_EQ(seen[0].header("mcp-session-id"), "");
  EXPECT_EQ(json::parse(seen[0].body).at("params").at("protocolVersion"), json::value(kProtocolVersions[0]));
  EXPECT_EQ(seen[1].method, "notifications/initialized");
  EXPECT_EQ(seen[2].method, "tools/list");
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].header("mcp-session-id"), "s-1") << i;
    EXPECT_EQ(seen[i].header("mcp-protocol-version"), "2025-06-18") << i;
  }
  for (const auto& r : seen) {
    EXPECT_EQ(r.target, "/mcp");
    EXPECT_EQ(r.header("authorization"), "Bearer gw-token-1");
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_NE(r.header("accept").find("application/json"), std::string::npos);
    EXPECT_NE(r.header("accept").find("text/event-stream"), std::string::npos);
  }
  // No token configured: no Authorization header at all.
  FakeMcpServer other;
  auto anonymous = upstream_for(other);
  call_ok(*anonymous, "tools/list");
  for (const auto& r : other.requests()) EXPECT_EQ(r.headers.count("authorization"), 0u);
}

TEST(HttpUpstream, AJsonAnswerIsTheResponse) {
  FakeMcpServer server;
  auto up = upstream_for(server);
  std::vector<std::string> seen;
  Message m = call_ok(*up, "echo", json::object{{"arguments", json::object{{"q", "x"}}}},
                      [&seen](std::string_view text) { seen.emplace_back(text); });
  ASSERT_EQ(m.kind, MessageKind::kResult);
  EXPECT_EQ(m.result.at("echo").at("q"), "x");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(json::parse(seen[0]).at("result").at("echo").at("q"), "x");
  // The server's JSON-RPC error is a value.
  m = call_ok(*up, "no/such/method");
  EXPECT_EQ(m.kind, MessageKind::kError);
  EXPECT_EQ(m.error.at("code"), -32601);
}

TEST(HttpUpstream, AnSseAnswerDeliversTheNotificationsThenTheResponse) {
  FakeMcpServer server;
  auto up = upstream_for(server);
  std::vector<std::string> seen;
  Message m = call_ok(*up, "sse", json::object{{"arguments", json::object{{"n", 5}}}},
                      [&seen](std::string_view text) { seen.emplace_back(text); });
  ASSERT_EQ(m.kind, MessageKind::kResult);
  EXPECT_EQ(m.result.at("echo").at("n"), 5);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(json::parse(seen[0]).at("method"), "notifications/progress");
  EXPECT_EQ(json::parse(seen[1]).at("method"), "notifications/message");
  EXPECT_EQ(json::parse(seen[2]).at("result").at("echo").at("n"), 5);
}

TEST(HttpUpstream, TheServersRequestsInAStreamAreAnswered) {
  FakeMcpServer server;
  auto up = upstream_for(server, "tok");
  std::vector<std::string> seen;
  Message m = call_ok(*up, "sse_request", {}, [&seen](std::string_view text) { seen.emplace_back(text); });
  ASSERT_EQ(m.kind, MessageKind::kResult);
  // ping: an empty result; anything else: method not found.
  EXPECT_EQ(m.result.at("ping"), json::parse(R"({"jsonrpc":"2.0","id":"srv-ping","result":{}})"));
  EXPECT_EQ(m.result.at("sampling").at("id"), 77);
  EXPECT_EQ(m.result.at("sampling").at("error").at("code"), kMethodNotFound);
  // The answers went in the session with the gateway's token; the observer
  // saw only the response (server requests are not the agent's business).
  int answers = 0;
  for (const auto& r : server.requests())
    if (r.method.empty()) {
      ++answers;
      EXPECT_EQ(r.header("mcp-session-id"), "s-1");
      EXPECT_EQ(r.header("authorization"), "Bearer tok");
    }
  EXPECT_EQ(answers, 2);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].find("\"result\""), std::string::npos);
}

TEST(HttpUpstream, ALostSessionIsInitializedAgainOnce) {
  FakeMcpServer server;
  auto up = upstream_for(server);
  call_ok(*up, "tools/list");
  server.forget_sessions();  // e.g. the server restarted
  Message m = call_ok(*up, "echo", json::object{{"arguments", json::object{{"again", true}}}});
  ASSERT_EQ(m.kind, MessageKind::kResult);
  EXPECT_EQ(m.result.at("echo").at("again"), true);
  EXPECT_EQ(server.requests_for("initialize").size(), 2u);
  auto echoes = server.requests_for("echo");
  ASSERT_EQ(echoes.size(), 2u);
  EXPECT_EQ(echoes[0].header("mcp-session-id"), "s-1");  // refused with 404
  EXPECT_EQ(echoes[1].header("mcp-session-id"), "s-2");

  // A server that loses every session: one retry, then an error (no loop).
  server.always_404 = true;
  auto r = up->call("echo", {}, milliseconds(10'000), nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(server.requests_for("initialize").size(), 3u);
  EXPECT_EQ(r.error().code, "mcp_upstream_protocol") << r.error().message;
}

TEST(HttpUpstream, ARefusedCredentialIsAnAuthError) {
  for (int status : {401, 403}) {
    FakeMcpServer server;
    server.required_bearer = "right-token";
    server.refuse_status = status;
    auto wrong = upstream_for(server, "wrong-token");
    auto r = wrong->call("tools/list", {}, milliseconds(10'000), nullptr);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "mcp_upstream_auth") << status;
    EXPECT_EQ(r.error().message.find("wrong-token"), std::string::npos);  // never echoes the secret
    auto none = upstream_for(server);
    EXPECT_EQ(failure(*none, "tools/list"), "mcp_upstream_auth");
    auto right = upstream_for(server, "right-token");
    EXPECT_EQ(call_ok(*right, "tools/list").kind, MessageKind::kResult);
  }
}

TEST(HttpUpstream, ConnectionsAreKeptAliveAndReused) {
  FakeMcpServer server;
  auto up = upstream_for(server);
  for (int i = 0; i < 5; ++i) call_ok(*up, i % 2 ? "tools/list" : "echo");
  EXPECT_EQ(server.requests().size(), 7u);  // initialize, initialized, 5 calls
  EXPECT_EQ(server.connections(), 1);
  // (An SSE answer's connection is pooled only when the stream's end was
  // read with the response; not asserted here.)
  for (int i = 0; i < 3; ++i) EXPECT_EQ(call_ok(*up, "sse").kind, MessageKind::kResult);
}

TEST(HttpUpstream, APooledConnectionTheServerClosedIsReplaced) {
  FakeMcpServer server;
  server.close_after_response = true;
  auto up = upstream_for(server);
  for (int i = 0; i < 3; ++i) {
    Message m = call_ok(*up, "echo", json::object{{"arguments", json::object{{"i", i}}}});
    EXPECT_EQ(m.result.at("echo").at("i"), i);
  }
  EXPECT_EQ(server.requests().size(), 5u);
  EXPECT_EQ(server.connections(), 5);
}

TEST(HttpUpstream, ACallWithoutAnswerTimesOut) {
  FakeMcpServer server;
  auto up = upstream_for(server);
  call_ok(*up, "tools/list");
  auto start = Clock::now();
  EXPECT_EQ(failure(*up, "slow", milliseconds(300)), "mcp_upstream_timeout");
  auto took = Clock::now() - start;
  EXPECT_GE(took, milliseconds(290));
  EXPECT_LT(took, milliseconds(1500));
  EXPECT_EQ(call_ok(*up, "echo").kind, MessageKind::kResult);  // and the next call works
}

TEST(HttpUpstream, OversizedAnswersAreRefused) {
  FakeMcpServer server;
  auto up = upstream_for(server);
  call_ok(*up, "tools/list");
  EXPECT_EQ(failure(*up, "big"), "mcp_upstream_protocol");
  EXPECT_EQ(failure(*up, "big_sse"), "mcp_upstream_protocol");
  EXPECT_EQ(call_ok(*up, "echo").kind, MessageKind::kResult);
}

TEST(HttpUpstream, AnAnswerForAnotherRequestIsRefused) {
  FakeMcpServer server;
  auto up = upstream_for(server);
  EXPECT_EQ(failure(*up, "wrong_id"), "mcp_upstream_protocol");
  EXPECT_EQ(failure(*up, "sse_without_response"), "mcp_upstream_protocol");
  EXPECT_EQ(failure(*up, "status500"), "mcp_upstream_protocol");
}

TEST(HttpUpstream, AnUnsupportedProtocolVersionIsRefused) {
  FakeMcpServer server;
  server.version = "2024-11-05";
  auto up = upstream_for(server);
  EXPECT_EQ(failure(*up, "tools/list"), "mcp_upstream_protocol");
  EXPECT_FALSE(up->initialize_result(milliseconds(2000)));
  EXPECT_TRUE(server.requests_for("tools/list").empty());
}

TEST(HttpUpstream, ANonListeningServerIsUnavailable) {
  uint16_t port;
  {
    FakeMcpServer gone;
    port = gone.port();
  }
  HttpUpstreamOptions o;
  o.id = "gone";
  o.url = "http://127.0.0.1:" + std::to_string(port) + "/mcp";
  auto up = make_http_upstream(o);
  ASSERT_TRUE(up);
  EXPECT_EQ(failure(**up, "tools/list"), "mcp_upstream_unavailable");
}

TEST(HttpUpstream, AddressesComeFromTheResolver) {
  FakeMcpServer server;
  std::vector<std::string> asked;
  HttpUpstreamOptions o;
  o.id = "resolved";
  o.url = "http://mcp.internal.example:" + std::to_string(server.port()) + "/mcp";
  o.resolve = [&asked](const std::string& scheme, const std::string& host, uint16_t) -> Result<std::vector<std::string>> {
    asked.push_back(scheme + "://" + host);
    return std::vector<std::string>{"127.0.0.1"};
  };
  auto up = make_http_upstream(o);
  ASSERT_TRUE(up);
  EXPECT_EQ(call_ok(**up, "tools/list").kind, MessageKind::kResult);
  ASSERT_FALSE(asked.empty());
  EXPECT_EQ(asked[0], "http://mcp.internal.example");
  EXPECT_EQ(server.requests()[0].header("host"), "mcp.internal.example:" + std::to_string(server.port()));

  // Egress policy says no: nothing is sent.
  FakeMcpServer refused_server;
  o.url = refused_server.url();
  o.resolve = [](const std::string&, const std::string&, uint16_t) -> Result<std::vector<std::string>> {
    return make_error("mcp_upstream_refused", "egress policy denies 127.0.0.1");
  };
  auto refused = make_http_upstream(o);
  ASSERT_TRUE(refused);
  EXPECT_EQ(failure(**refused, "tools/list"), "mcp_upstream_refused");
  EXPECT_EQ(refused_server.connections(), 0);
}

TEST(HttpUpstream, MakeRefusesUrlsItCannotUse) {
  for (const char* url : {"", "not a url", "ftp://127.0.0.1/mcp", "http://", "http:///mcp",
                          "http://user:pw@127.0.0.1/mcp", "http://127.0.0.1/mcp#frag", "http://127.0.0.1:0/mcp",
                          "file:///etc/passwd", "127.0.0.1:8080/mcp"}) {
    HttpUpstreamOptions o;
    o.id = "bad";
    o.url = url;
    auto up = make_http_upstream(o);
    ASSERT_FALSE(up) << url;
    EXPECT_EQ(up.error().code, "mcp_config") << url;
  }
  for (const char* url : {"http://127.0.0.1:8080/mcp", "http://localhost/", "http://[::1]:9000/mcp?x=1",
                          "https://mcp.example.com/v1/mcp"}) {
    HttpUpstreamOptions o;
    o.id = "good";
    o.url = url;
    auto up = make_http_upstream(o);
    EXPECT_TRUE(up) << url << ": " << up.error().message;
  }
  // https with a CA file that does not exist is a configuration error.
  HttpUpstreamOptions o;
  o.id = "tls";
  o.url = "https://mcp.example.com/mcp";
  o.ca_file = "/nonexistent/ca.pem";
  auto up = make_http_upstream(o);
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error().code, "mcp_config");
}

}  // namespace
}  // namespace ztgate::mcp
