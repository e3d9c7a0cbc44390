#include "egress/resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace ztgate::egress {

struct Resolver::State {
  struct Job {
    std::string name;
    std::chrono::steady_clock::time_point deadline;
    Done done;
    std::atomic<bool> answered{false};
  };

  Options options;
  std::mutex mu;
  std::condition_variable work;      // the pool waits for jobs
  std::condition_variable deadlines; // the watchdog waits for the next deadline
  std::deque<std::shared_ptr<Job>> queue;
  std::multimap<std::chrono::steady_clock::time_point, std::weak_ptr<Job>> timers;
  bool stopping = false;

  // Answers once; later answers (a lookup after its timeout) are dropped.
  static void answer(const std::shared_ptr<Job>& job, Result<Addresses> result) {
    if (job->answered.exchange(true)) return;
    Done done = std::move(job->done);
    if (done) done(std::move(result));
  }

  void worker() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock lock(mu);
        work.wait(lock, [this] { return stopping || !queue.empty(); });
        if (stopping) return;
        job = std::move(queue.front());
        queue.pop_front();
      }
      if (job->answered.load() || std::chrono::steady_clock::now() >= job->deadline) {
        answer(job, make_error("resolve_timeout", "resolving `" + job->name + "` timed out"));
        continue;
      }
      answer(job, options.lookup(job->name));
    }
  }

  void watchdog() {
    std::unique_lock lock(mu);
    while (!stopping) {
      if (timers.empty()) {
        deadlines.wait(lock);
        continue;
      }
      auto next = timers.begin()->first;
      if (std::chrono::steady_clock::now() < next) {
        deadlines.wait_until(lock, next);
        continue;
      }
      std::vector<std::shared_ptr<Job>> expired;
      auto now = std::chrono::steady_clock::now();
      while (!timers.empty() && timers.begin()->first <= now) {
        if (auto job = timers.begin()->second.lock()) expired.push_back(std::move(job));
        timers.erase(timers.begin());
      }
      lock.unlock();
      for (auto& job : expired) answer(job, make_error("resolve_timeout", "resolving `" + job->name + "` timed out"));
      lock.lock();
    }
  }
};

Resolver::Lookup Resolver::system_lookup(size_t max_addresses) {
  return [max_addresses](const std::string& name) -> Result<Addresses> {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    int rc = getaddrinfo(name.c_str(), nullptr, &hints, &list);
    if (rc != 0) {
      std::string why = rc == EAI_NONAME || rc == EAI_NODATA ? "no such name"
                        : rc == EAI_AGAIN                    ? "temporary DNS failure"
                                                             : gai_strerror(rc);
      return make_error("resolve_failed", "`" + name + "` does not resolve (" + why + ")");
    }
    Addresses out;
    for (addrinfo* p = list; p != nullptr && out.size() < max_addresses; p = p->ai_next) {
      std::optional<IpAddress> a;
      if (p->ai_family == AF_INET && p->ai_addrlen >= sizeof(sockaddr_in)) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(p->ai_addr);
        a = IpAddress::v4(ntohl(sin->sin_addr.s_addr));
      } else if (p->ai_family == AF_INET6 && p->ai_addrlen >= sizeof(sockaddr_in6)) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(p->ai_addr);
        std::array<uint8_t, 16> b{};
        std::memcpy(b.data(), sin6->sin6_addr.s6_addr, 16);
        a = IpAddress::v6(b);
      }
      if (a && std::find(out.begin(), out.end(), *a) == out.end()) out.push_back(*a);
    }
    freeaddrinfo(list);
    if (out.empty()) return make_error("resolve_failed", "`" + name + "` has no address");
    return out;
  };
}

Resolver::Resolver(Options options) : state_(std::make_shared<State>()) {
  if (!options.lookup) options.lookup = system_lookup(options.max_addresses);
  options.threads = std::max<size_t>(1, options.threads);
  state_->options = std::move(options);
  for (size_t i = 0; i < state_->options.threads; ++i)
    std::thread([s = state_] { s->worker(); }).detach();
  std::thread([s = state_] { s->watchdog(); }).detach();
}

Resolver::~Resolver() {
  std::deque<std::shared_ptr<State::Job>> queued;
  std::vector<std::shared_ptr<State::Job>> waiting;
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
    queued.swap(state_->queue);
    for (auto& [t, weak] : state_->timers)
      if (auto job = weak.lock()) waiting.push_back(std::move(job));
    state_->timers.clear();
  }
  state_->work.notify_all();
  state_->deadlines.notify_all();
  // Everyone waiting hears now; a lookup still running is dropped when it returns.
  for (auto& job : waiting) State::answer(job, make_error("resolver_stopped", "the resolver is shutting down"));
  for (auto& job : queued) State::answer(job, make_error("resolver_stopped", "the resolver is shutting down"));
}

void Resolver::resolve(std::string name, std::chrono::milliseconds timeout, Done done) {
  auto job = std::make_shared<State::Job>();
  job->name = std::move(name);
  job->deadline = std::chrono::steady_clock::now() + timeout;
  job->done = std::move(done);
  std::unique_lock lock(state_->mu);
  if (state_->stopping || state_->queue.size() >= state_->options.max_pending) {
    bool stopping = state_->stopping;
    lock.unlock();
    State::answer(job, stopping ? make_error("resolver_stopped", "the resolver is shutting down")
                                : make_error("resolver_busy", "too many names are being resolved; try again"));
    return;
  }
  state_->queue.push_back(job);
  bool earliest = state_->timers.empty() || job->deadline < state_->timers.begin()->first;
  state_->timers.emplace(job->deadline, job);
  lock.unlock();
  state_->work.notify_one();
  if (earliest) state_->deadlines.notify_one();
}

Result<Resolver::Addresses> Resolver::resolve_blocking(std::string name, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<Result<Addresses>>>();
  auto future = promise->get_future();
  resolve(std::move(name), timeout, [promise](Result<Addresses> r) { promise->set_value(std::move(r)); });
  // The watchdog answers at the deadline; the margin covers its wake-up.
  if (future.wait_for(timeout + std::chrono::seconds(1)) != std::future_status::ready)
    return make_error("resolve_timeout", "resolving timed out");
  return future.get();
}

}  // namespace ztgate::egress
