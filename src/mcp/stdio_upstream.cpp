#include "mcp/stdio_upstream.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace ztgate::mcp {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// One outstanding request: the reader fills it in.
struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<Message>> answer;
  MessageObserver observe;
};

// One running child: its pipes and the reader thread.
struct Child {
  pid_t pid = -1;
  int in = -1;   // its stdin (we write)
  int out = -1;  // its stdout (we read)
  std::thread reader;
  std::atomic<bool> alive{true};
};

// Writing into a pipe whose reader is gone (the child exited or closed its
// stdin) raises SIGPIPE, which the gateway does not ignore: while this
// thread writes, SIGPIPE is blocked, and one the write raised is consumed
// before the mask is restored; the write fails with EPIPE instead.
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;
  void consume() {
    timespec zero{0, 0};
    while (::sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }

 private:
  sigset_t pipe_;
  sigset_t old_;
};

bool write_all(int fd, std::string_view bytes, Clock::time_point deadline) {
  SigpipeBlocked no_sigpipe;
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EPIPE) {
      no_sigpipe.consume();
      return false;
    }
    if (n < 0 && errno != EAGAIN) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(left)) < 0 && errno != EINTR) return false;
  }
  return true;
}

class StdioUpstream final : public Upstream {
 public:
  explicit StdioUpstream(StdioOptions o) : o_(std::move(o)), backoff_(o_.min_backoff) {}
  ~StdioUpstream() override {
    std::lock_guard lock(mu_);
    stop_child();
  }

  const std::string& id() const override { return o_.id; }

  Result<Message> call(std::string_view method, const json::object& params, std::chrono::milliseconds timeout,
                       const MessageObserver& observe) override {
    auto deadline = Clock::now() + timeout;
    if (auto st = ensure_started(deadline); !st) return st.error();
    return send(method, params, deadline, observe);
  }

  Result<json::object> initialize_result(std::chrono::milliseconds timeout) override {
    if (auto st = ensure_started(Clock::now() + timeout); !st) return st.error();
    std::lock_guard lock(mu_);
    return init_result_;
  }

 private:
  // Starts (or restarts) the child and initializes it. Single-flight.
  Status ensure_started(Clock::time_point deadline) {
    std::lock_guard start_lock(start_mu_);
    {
      std::lock_guard lock(mu_);
      if (child_ && child_->alive) return Ok{};
      if (child_) {  // it exited or broke: restart no sooner than the backoff
        stop_child();
        schedule_backoff(Clock::now());
      }
      auto now = Clock::now();
      if (now < next_start_)
        return make_error("mcp_upstream_unavailable", "the stdio server `" + o_.id + "` is restarting (backoff)");
      if (auto st = spawn(); !st) {
        schedule_backoff(now);
        return st;
      }
    }
    auto init = send("initialize", client_initialize_params(), deadline, nullptr);
    if (!init || init->kind != MessageKind::kResult || !init->result.is_object()) {
      std::lock_guard lock(mu_);
      stop_child();
      schedule_backoff(Clock::now());
      if (!init) return init.error();
      return make_error("mcp_upstream_protocol", "the stdio server `" + o_.id + "` refused initialize");
    }
    const json::value* version = init->result.as_object().if_contains("protocolVersion");
    if (version == nullptr || !version->is_string() || !supported_protocol_version(version->as_string())) {
      std::lock_guard lock(mu_);
      stop_child();
      schedule_backoff(Clock::now());
      return make_error("mcp_upstream_protocol", "the stdio server `" + o_.id + "` speaks no protocol version we know");
    }
    std::lock_guard lock(mu_);
    init_result_ = init->result.as_object();
    write_line(request_text(nullptr, "notifications/initialized", {}), deadline);
    started_at_ = Clock::now();
    return Ok{};
  }

  void schedule_backoff(Clock::time_point now) {
    // A child that stayed healthy for a minute starts over at the minimum.
    if (started_at_ != Clock::time_point{} && now - started_at_ > std::chrono::minutes(1)) backoff_ = o_.min_backoff;
    next_start_ = now + backoff_;
    backoff_ = std::min(o_.max_backoff, backoff_ * 2);
  }

  Status spawn() {  // mu_ held
    if (o_.argv.empty()) return make_error("mcp_upstream_unavailable", "no command for `" + o_.id + "`");
    int in_pipe[2], out_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) return make_error("mcp_upstream_unavailable", "pipe failed");
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
      ::close(in_pipe[0]);
      ::close(in_pipe[1]);
      return make_error("mcp_upstream_unavailable", "pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    if (!o_.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, o_.cwd.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t dfl;
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    sigaddset(&dfl, SIGTERM);
    sigaddset(&dfl, SIGHUP);
    sigaddset(&dfl, SIGINT);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : o_.env) env_strings.push_back(k + "=" + v);
    if (!o_.env.count("PATH")) env_strings.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
    std::vector<char*> envp, args;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    for (const auto& a : o_.argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    if (rc != 0) {
      ::close(in_pipe[1]);
      ::close(out_pipe[0]);
      return make_error("mcp_upstream_unavailable",
                        "cannot start `" + o_.argv[0] + "` for `" + o_.id + "`: " + std::strerror(rc));
    }
    ::fcntl(in_pipe[1], F_SETFL, ::fcntl(in_pipe[1], F_GETFL) | O_NONBLOCK);
    auto child = std::make_shared<Child>();
    child->pid = pid;
    child->in = in_pipe[1];
    child->out = out_pipe[0];
    child->reader = std::thread([this, c = child.get()] { read_loop(*c); });
    child_ = std::move(child);
    return Ok{};
  }

  void stop_child() {  // mu_ held
    if (!child_) return;
    auto child = std::move(child_);
    child->alive = false;
    ::close(child->in);  // a well-behaved server exits on EOF
    bool exited = false;
    for (int i = 0; i < 20 && !exited; ++i) {
      exited = ::waitpid(child->pid, nullptr, WNOHANG) == child->pid;
      if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (!exited) {
      ::kill(-child->pid, SIGTERM);
      ::kill(child->pid, SIGTERM);
      for (int i = 0; i < 40 && !exited; ++i) {
        exited = ::waitpid(child->pid, nullptr, WNOHANG) == child->pid;
        if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
      if (!exited) {
        ::kill(-child->pid, SIGKILL);
        ::kill(child->pid, SIGKILL);
        ::waitpid(child->pid, nullptr, 0);
      }
    }
    mu_.unlock();  // the reader may need mu_ to fail waiters
    if (child->reader.joinable()) child->reader.join();
    mu_.lock();
    ::close(child->out);
  }

  bool write_line(const std::string& text, Clock::time_point deadline) {  // mu_ held
    if (!child_ || !child_->alive) return false;
    std::string line = text;
    line += '\n';
    if (write_all(child_->in, line, deadline)) return true;
    child_->alive = false;  // a line cut short breaks the framing: the next call restarts the child
    return false;
  }

  Result<Message> send(std::string_view method, const json::object& params, Clock::time_point deadline,
                       const MessageObserver& observe) {
    auto waiter = std::make_shared<Waiter>();
    waiter->observe = observe;
    int64_t id = next_id_++;
    {
      std::lock_guard lock(mu_);
      waiters_[id] = waiter;
      if (!write_line(request_text(json::value(id), method, params), deadline)) {
        waiters_.erase(id);
        return make_error("mcp_upstream_unavailable", "the stdio server `" + o_.id + "` is not accepting input");
      }
    }
    std::unique_lock wl(waiter->mu);
    if (!waiter->cv.wait_until(wl, deadline, [&] { return waiter->answer.has_value(); })) {
      wl.unlock();
      std::lock_guard lock(mu_);
      waiters_.erase(id);
      write_line(request_text(nullptr, "notifications/cancelled", json::object{{"requestId", id}, {"reason", "timeout"}}),
                 Clock::now() + std::chrono::milliseconds(100));
      return make_error("mcp_upstream_timeout", "the stdio server `" + o_.id + "` did not answer `" + std::string(method) + "` in time");
    }
    return std::move(*waiter->answer);
  }

  void read_loop(Child& c) {
    std::string buffer;
    char chunk[65536];
    for (;;) {
      ssize_t n = ::read(c.out, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      buffer.append(chunk, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1)
        dispatch(std::string_view(buffer).substr(start, nl - start));
      buffer.erase(0, start);
      if (buffer.size() > kMaxMessageBytes) break;  // a runaway line: treat the server as broken
    }
    c.alive = false;
    // Everyone waiting on this child learns it is gone.
    std::unordered_map<int64_t, std::shared_ptr<Waiter>> waiters;
    {
      std::lock_guard lock(mu_);
      waiters.swap(waiters_);
    }
    for (auto& [id, w] : waiters) {
      std::lock_guard wl(w->mu);
      w->answer = make_error("mcp_upstream_unavailable", "the stdio server `" + o_.id + "` exited");
      w->cv.notify_all();
    }
  }

  void dispatch(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return;
    auto m = parse_message(line);
    if (!m) return;  // not ours to act on; the server's stdout noise
    if (m->kind == MessageKind::kRequest) {
      std::lock_guard lock(mu_);
      std::string reply = m->method == "ping" ? result_response(m->id, json::object{})
                                              : error_response(m->id, kMethodNotFound, "the gateway does not offer this to servers");
      write_line(reply, Clock::now() + std::chrono::milliseconds(500));
      return;
    }
    if (m->kind == MessageKind::kNotification) return;
    if (!m->id.is_int64()) return;
    std::shared_ptr<Waiter> w;
    {
      std::lock_guard lock(mu_);
      auto it = waiters_.find(m->id.as_int64());
      if (it == waiters_.end()) return;
      w = std::move(it->second);
      waiters_.erase(it);
    }
    if (w->observe) w->observe(line);
    std::lock_guard wl(w->mu);
    w->answer = std::move(*m);
    w->cv.notify_all();
  }

  StdioOptions o_;
  std::mutex start_mu_;  // one start at a time
  std::mutex mu_;        // child_, waiters_, init_result_, backoff
  std::shared_ptr<Child> child_;
  std::unordered_map<int64_t, std::shared_ptr<Waiter>> waiters_;
  std::atomic<int64_t> next_id_{1};
  json::object init_result_;
  Clock::time_point next_start_{};
  Clock::time_point started_at_{};
  std::chrono::milliseconds backoff_;
};

}  // namespace

std::unique_ptr<Upstream> make_stdio_upstream(StdioOptions options) {
  return std::make_unique<StdioUpstream>(std::move(options));
}

}  // namespace ztgate::mcp
