// The trail's writer under load: groups large enough to be sealed on the
// sealer thread while the group before them commits, mixed with sync
// appends, stay one chain in order, every record's indexed fields match
// its text, and the last checkpoint seals the tail.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "audit/chain.h"
#include "audit/store.h"
#include "audit/trail.h"
#include "audit/verify.h"

namespace ztgate::audit {
namespace {

namespace fs = std::filesystem;

// About 1 KiB of JSON naming its producer and index in the event itself,
// so that a record can be matched with its indexed fields.
Event event_for(int producer, int i) {
  Event e;
  e.time_ms = 1'700'000'000'000 + i;
  e.request_id = "req-" + std::to_string(producer) + "-" + std::to_string(i);
  e.route = "/v1/chat/completions";
  e.principal = "User::\"p" + std::to_string(producer) + "\"";
  e.agent = i % 3 == 0 ? "Agent::\"helper\"" : "";
  e.action = "invoke_model";
  e.resource = "Model::\"m" + std::to_string(i % 5) + "\"";
  e.decision = i % 7 == 0 ? "deny" : "allow";
  e.json = R"({"class_uid":6003,"metadata":{"uid":")" + e.request_id + R"("},"pad":")" + std::string(1000, 'x') +
           "\"}";
  return e;
}

class TrailPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ztgate-trail-pipeline-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  TrailOptions options() {
    TrailOptions o;
    o.store_path = (dir_ / "audit.db").string();
    o.key_path = (dir_ / "audit-key.pem").string();
    o.public_key_path = (dir_ / "audit-key.jwk").string();
    o.max_batch = 512;
    o.checkpoint_every = 300;
    o.commit_interval = std::chrono::milliseconds(2);
    return o;
  }

  fs::path dir_;
};

TEST_F(TrailPipelineTest, GroupsSealedAsideStayOneChainInOrder) {
  constexpr int kProducers = 3, kEach = 4000;
  {
    auto trail = Trail::open(options());
    ASSERT_TRUE(trail) << trail.error().message;
    std::atomic<int> durable{0};
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        for (int i = 0; i < kEach; ++i) {
          auto room = (*trail)->reserve();
          while (!room) {  // the queue is full: wait as a refused request would
            std::this_thread::sleep_for(std::chrono::microseconds(200));
            room = (*trail)->reserve();
          }
          bool sync = i % 500 == 0;
          auto ticket = (*trail)->append(std::move(*room), event_for(p, i), sync);
          if (sync && ticket->wait_for(std::chrono::seconds(10))) ++durable;
        }
      });
    }
    for (auto& t : producers) t.join();
    EXPECT_EQ(durable.load(), kProducers * kEach / 500);
    ASSERT_TRUE((*trail)->flush(std::chrono::seconds(30)));
    auto stats = (*trail)->stats();
    EXPECT_EQ(stats.committed, uint64_t{kProducers * kEach});
    EXPECT_EQ(stats.last_seq, uint64_t{kProducers * kEach});
    EXPECT_EQ(stats.pending_records, 0u);
    EXPECT_EQ(stats.pending_bytes, 0u);
  }
  std::ifstream in(dir_ / "audit-key.jwk");
  std::string jwk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto key = CheckpointVerifier::from_jwk(jwk);
  ASSERT_TRUE(key);
  auto store = AuditStore::open((dir_ / "audit.db").string(), /*read_only=*/true);
  ASSERT_TRUE(store);
  auto report = verify_store(**store, std::move(*key));
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->records, uint64_t{kProducers * kEach});
  EXPECT_EQ(report->sealed_seq, uint64_t{kProducers * kEach});

  // Each producer's records in its own order, each with its own fields.
  std::vector<int> next(kProducers, 0);
  uint64_t after = 0;
  while (true) {
    auto batch = (*store)->read_after(after, 1000);
    ASSERT_TRUE(batch);
    if (batch->empty()) break;
    for (const auto& r : *batch) {
      const std::string& id = r.event.request_id;  // req-<producer>-<i>
      int p = std::stoi(id.substr(4, id.find('-', 4) - 4));
      int i = std::stoi(id.substr(id.find('-', 4) + 1));
      ASSERT_EQ(i, next[p]) << "record " << r.seq;
      ++next[p];
      Event want = event_for(p, i);
      EXPECT_EQ(r.event.principal, want.principal);
      EXPECT_EQ(r.event.agent, want.agent);
      EXPECT_EQ(r.event.resource, want.resource);
      EXPECT_EQ(r.event.decision, want.decision);
      EXPECT_NE(r.text.find("\"uid\":\"" + id + "\""), std::string::npos) << "record " << r.seq;
    }
    after = batch->back().seq;
  }
  for (int p = 0; p < kProducers; ++p) EXPECT_EQ(next[p], kEach);
}

}  // namespace
}  // namespace ztgate::audit
