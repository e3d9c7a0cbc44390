// HttpServer's forwarding of sized (Content-Length) upstream answers: the
// head the client gets, the body relayed intact over several reads, the
// observer's view of it, keep-alive on both sides (the upstream connection
// is reused) and HTTP/1.0 clients. The upstream is another HttpServer.
#include "gateway/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

namespace ztgate::gateway {
namespace {

struct Recorder {
  std::mutex mu;
  std::string chunks;
  size_t chunk_count = 0;
  std::vector<std::string> done;  // "status complete error"
};

class RecordingObserver final : public ForwardObserver {
 public:
  explicit RecordingObserver(Recorder& r) : r_(r) {}
  std::optional<HttpResponse> on_head(int, const std::vector<std::pair<std::string, std::string>>& headers,
                                      std::vector<std::pair<std::string, std::string>>& relay) override {
    for (const auto& [k, v] : headers)
      if (k == "retry-after") relay.emplace_back(k, v);
    return std::nullopt;
  }
  void on_chunk(std::string_view chunk) override {
    std::lock_guard lock(r_.mu);
    r_.chunks.append(chunk);
    ++r_.chunk_count;
  }
  HttpResponse on_failure(std::string_view code, std::string_view message) override {
    return json_error(502, code, message, "");
  }
  void on_done(int status, bool complete, std::string_view error) override {
    std::lock_guard lock(r_.mu);
    r_.done.push_back(std::to_string(status) + (complete ? " complete " : " incomplete ") + std::string(error));
  }

 private:
  Recorder& r_;
};

// A blocking client connection: requests out, responses read by Content-Length.
class Client {
 public:
  explicit Client(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }

  // Sends `request`; returns the response's head and body ("" head: failed).
  std::pair<std::string, std::string> exchange(const std::string& request) {
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return {};
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return {};
    std::string head = pending_.substr(0, end + 4);
    size_t at = head.find("Content-Length: ");
    if (at == std::string::npos) return {head, ""};
    size_t length = std::stoul(head.substr(at + 16));
    while (pending_.size() < end + 4 + length)
      if (!fill()) return {};
    std::string body = pending_.substr(end + 4, length);
    pending_.erase(0, end + 4 + length);
    return {head, body};
  }
  // Whether the server closed the connection (nothing more to read).
  bool closed() { return !fill(); }

 private:
  bool fill() {
    char buf[8192];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<size_t>(n));
    return true;
  }
  int fd_;
  bool connected_ = false;
  std::string pending_;
};

class HttpForwardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    body_.reserve(200 * 1024);
    for (size_t i = 0; body_.size() < 200 * 1024; ++i) body_ += "chunk " + std::to_string(i) + ";";
    ServerOptions up_options;
    up_options.port = 0;
    up_options.threads = 1;
    auto up = HttpServer::start(up_options, [this](const HttpRequest& req) {
      {
        std::lock_guard lock(mu_);
        upstream_remotes_.push_back(req.remote);
        upstream_bodies_.push_back(req.body);
        upstream_hosts_.push_back(req.header("host"));
      }
      HttpResponse r;
      r.content_type = "text/plain";
      r.headers.emplace_back("retry-after", "7");
      r.headers.emplace_back("x-dropped", "1");
      r.body = req.target == "/small" ? std::string("tiny") : body_;
      return r;
    });
    ASSERT_TRUE(up.ok()) << up.error().message;
    upstream_ = std::move(*up);
    ServerOptions options;
    options.port = 0;
    options.threads = 1;
    auto proxy = HttpServer::start(options, [this](const HttpRequest& req) {
      HttpResponse r;
      r.forward = std::make_shared<Forward>();
      r.forward->request.host = forward_host_;
      r.forward->request.connect_to = connect_to_;
      r.forward->request.port = upstream_->port();
      r.forward->request.target = req.target;
      r.forward->request.headers.emplace_back("content-type", "application/json");
      r.forward->request.body = req.body;
      r.forward->observer = std::make_shared<RecordingObserver>(recorder_);
      return r;
    });
    ASSERT_TRUE(proxy.ok()) << proxy.error().message;
    proxy_ = std::move(*proxy);
  }

  static std::string post(std::string_view target, std::string_view body, std::string_view version = "1.1",
                          std::string_view extra = "") {
    return "POST " + std::string(target) + " HTTP/" + std::string(version) + "\r\nHost: x\r\n" + std::string(extra) +
           "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           std::string(body);
  }

  std::string body_;
  std::mutex mu_;
  std::vector<std::string> upstream_remotes_, upstream_bodies_, upstream_hosts_;
  std::string forward_host_ = "127.0.0.1";  // read by the proxy's handler
  std::vector<std::string> connect_to_;
  Recorder recorder_;
  std::unique_ptr<HttpServer> upstream_, proxy_;
};

TEST_F(HttpForwardTest, SizedAnswerIsRelayedIntactOverKeptAliveConnections) {
  Client client(proxy_->port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 2; ++i) {
    auto [head, body] = client.exchange(post("/big", "{\"n\":" + std::to_string(i) + "}"));
    ASSERT_FALSE(head.empty());
    EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
    EXPECT_NE(head.find("Server: ztgate\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("Content-Type: text/plain\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("retry-after: 7\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("x-request-id: "), std::string::npos) << head;
    EXPECT_NE(head.find("Content-Length: " + std::to_string(body_.size()) + "\r\n"), std::string::npos) << head;
    EXPECT_EQ(head.find("x-dropped"), std::string::npos) << head;  // not chosen by the observer
    EXPECT_EQ(head.find("Connection"), std::string::npos) << head;
    EXPECT_EQ(body, body_);
  }
  // on_done runs once the last bytes are written: the client may have read
  // them a moment before.
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(recorder_.mu);
      if (recorder_.done.size() >= 2) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard lock(recorder_.mu);
  EXPECT_EQ(recorder_.chunks, body_ + body_);
  EXPECT_GT(recorder_.chunk_count, 2u);  // 200 KiB does not come in one read
  EXPECT_EQ(recorder_.done, (std::vector<std::string>{"200 complete ", "200 complete "}));
  std::lock_guard up_lock(mu_);
  ASSERT_EQ(upstream_remotes_.size(), 2u);
  EXPECT_EQ(upstream_remotes_[0], upstream_remotes_[1]);  // the pooled upstream connection was reused
  EXPECT_EQ(upstream_bodies_, (std::vector<std::string>{"{\"n\":0}", "{\"n\":1}"}));
}

TEST_F(HttpForwardTest, ConnectionHeadersFollowTheClient) {
  {
    Client client(proxy_->port());
    auto [head, body] = client.exchange(post("/small", "{}", "1.1", "Connection: close\r\n"));
    EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos) << head;
    EXPECT_EQ(body, "tiny");
    EXPECT_TRUE(client.closed());
  }
  {
    Client client(proxy_->port());
    auto [head, body] = client.exchange(post("/small", "{}", "1.0", "Connection: keep-alive\r\n"));
    EXPECT_EQ(head.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << head;
    EXPECT_NE(head.find("Connection: keep-alive\r\n"), std::string::npos) << head;
    EXPECT_EQ(body, "tiny");
    auto [head2, body2] = client.exchange(post("/small", "{}", "1.0"));
    EXPECT_EQ(head2.find("Connection"), std::string::npos) << head2;
    EXPECT_EQ(body2, "tiny");
    EXPECT_TRUE(client.closed());
  }
}

TEST_F(HttpForwardTest, ConnectToGoesToTheCheckedAddressesWithoutResolvingTheName) {
  forward_host_ = "upstream.invalid";  // does not resolve: only connect_to can reach the upstream
  connect_to_ = {"127.0.0.1"};
  Client client(proxy_->port());
  auto [head, body] = client.exchange(post("/small", "{}"));
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_EQ(body, "tiny");
  std::lock_guard lock(mu_);
  ASSERT_EQ(upstream_hosts_.size(), 1u);
  EXPECT_EQ(upstream_hosts_[0], "upstream.invalid:" + std::to_string(upstream_->port()));
}

TEST_F(HttpForwardTest, WithoutConnectToAnUnresolvableNameFails) {
  forward_host_ = "upstream.invalid";
  Client client(proxy_->port());
  auto [head, body] = client.exchange(post("/small", "{}"));
  EXPECT_EQ(head.rfind("HTTP/1.1 502", 0), 0u) << head;
  EXPECT_NE(body.find("upstream_unavailable"), std::string::npos) << body;
}

}  // namespace
}  // namespace ztgate::gateway
