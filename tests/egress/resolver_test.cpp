// egress/resolver.h: lookups on a bounded pool, answered exactly once, by
// their deadline even when the lookup hangs; a full queue refuses at once.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "egress/resolver.h"

namespace ztgate::egress {
namespace {

using namespace std::chrono_literals;

TEST(ResolverTest, ResolvesLocalhostThroughTheSystem) {
  Resolver r(Resolver::Options{});
  auto a = r.resolve_blocking("localhost", 5s);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_FALSE(a->empty());
  for (const auto& ip : *a) EXPECT_TRUE(ip.to_string() == "127.0.0.1" || ip.to_string() == "::1") << ip.to_string();
}

TEST(ResolverTest, UnknownNamesFail) {
  Resolver r(Resolver::Options{});
  auto a = r.resolve_blocking("no-such-host.invalid", 5s);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, "resolve_failed");
}

// A lookup that blocks until released: a DNS server that never answers.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void release() {
    std::lock_guard l(mu);
    open = true;
    cv.notify_all();
  }
  void wait() {
    std::unique_lock l(mu);
    cv.wait(l, [this] { return open; });
  }
};

TEST(ResolverTest, AHangingLookupIsAnsweredAtItsDeadline) {
  auto gate = std::make_shared<Gate>();
  Resolver::Options o;
  o.threads = 1;
  o.lookup = [gate](const std::string&) -> Result<Resolver::Addresses> {
    gate->wait();
    return Resolver::Addresses{IpAddress::v4(0x08080808)};
  };
  {
    Resolver r(o);
    auto start = std::chrono::steady_clock::now();
    auto a = r.resolve_blocking("hangs.example", 200ms);
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().code, "resolve_timeout");
    EXPECT_LT(took, 1500ms);
  }
  gate->release();  // the detached pool thread finishes and drops the late answer
}

TEST(ResolverTest, AFullQueueRefusesAtOnceAndEveryRequestIsAnsweredOnce) {
  auto gate = std::make_shared<Gate>();
  Resolver::Options o;
  o.threads = 1;
  o.max_pending = 2;
  o.lookup = [gate](const std::string&) -> Result<Resolver::Addresses> {
    gate->wait();
    return Resolver::Addresses{IpAddress::v4(0x08080808)};
  };
  std::atomic<int> answers{0}, busy{0}, ok{0};
  {
    Resolver r(o);
    for (int i = 0; i < 6; ++i)
      r.resolve("n" + std::to_string(i), 5s, [&](Result<Resolver::Addresses> a) {
        ++answers;
        if (!a && a.error().code == "resolver_busy") ++busy;
        if (a) ++ok;
      });
    // One in the lookup, two queued, three refused.
    EXPECT_GE(busy.load(), 3);
    gate->release();
    for (int i = 0; i < 200 && answers.load() < 6; ++i) std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(answers.load(), 6);
  EXPECT_EQ(ok.load() + busy.load(), 6);
}

TEST(ResolverTest, DestructionAnswersEveryoneStillWaiting) {
  auto gate = std::make_shared<Gate>();
  Resolver::Options o;
  o.threads = 1;
  o.lookup = [gate](const std::string&) -> Result<Resolver::Addresses> {
    gate->wait();
    return Resolver::Addresses{};
  };
  std::atomic<int> stopped{0};
  {
    Resolver r(o);
    for (int i = 0; i < 3; ++i)
      r.resolve("n", 30s, [&](Result<Resolver::Addresses> a) {
        if (!a && a.error().code == "resolver_stopped") ++stopped;
      });
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(stopped.load(), 3);
  gate->release();
}

}  // namespace
}  // namespace ztgate::egress
