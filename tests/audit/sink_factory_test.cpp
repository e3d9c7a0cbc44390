// make_sink(): one SinkConfig per `audit.sinks` entry to the Sink it
// describes, with the configuration errors a user can act on.
#include <gtest/gtest.h>

#include "audit/sinks/sinks.h"
#include "sink_test_support.h"

namespace ztgate::audit {
namespace {

SinkConfig config(SinkType type) {
  SinkConfig c;
  c.type = type;
  c.name = "main";
  c.path = (testing::temp_dir("factory") / "audit.jsonl").string();
  c.address = "127.0.0.1:6514";
  c.url = "https://siem.example/ingest";
  return c;
}

TEST(SinkFactoryTest, BuildsEachTypeNamedByTypeAndName) {
  for (auto [type, key] :
       {std::pair{SinkType::kJsonl, "jsonl:main"}, std::pair{SinkType::kSyslog, "syslog:main"},
        std::pair{SinkType::kWebhook, "webhook:main"}}) {
    auto sink = make_sink(config(type));
    ASSERT_TRUE(sink.ok()) << key << ": " << sink.error().message;
    EXPECT_EQ((*sink)->name(), key);
  }
  EXPECT_EQ(*parse_sink_type("syslog"), SinkType::kSyslog);
  EXPECT_FALSE(parse_sink_type("kafka").ok());
}

TEST(SinkFactoryTest, AcceptsHostPortAndBracketedIpv6Addresses) {
  auto c = config(SinkType::kSyslog);
  for (const char* good : {"siem.example:514", "[::1]:6514", "10.0.0.1:1"}) {
    c.address = good;
    EXPECT_TRUE(make_sink(c).ok()) << good;
  }
  for (const char* bad :
       {"siem.example", "siem.example:", ":514", "siem.example:0", "siem.example:65536", "::1:514",
        "[::1]514", "[::1]", "siem example:514", "host:51a"}) {
    c.address = bad;
    auto sink = make_sink(c);
    ASSERT_FALSE(sink.ok()) << bad;
    EXPECT_EQ(sink.error().code, "audit_sink_config") << bad;
  }
}

TEST(SinkFactoryTest, RefusesWhatCannotWork) {
  auto c = config(SinkType::kJsonl);
  c.name = "has space";
  EXPECT_EQ(make_sink(c).error().code, "audit_sink_config");
  c = config(SinkType::kJsonl);
  c.batch = 0;
  EXPECT_EQ(make_sink(c).error().code, "audit_sink_config");
  c.batch = kMaxSinkBatch + 1;
  EXPECT_EQ(make_sink(c).error().code, "audit_sink_config");
  c = config(SinkType::kSyslog);
  c.ca_file = "/etc/ssl/ca.pem";  // TLS settings without tls: a silent downgrade otherwise
  EXPECT_EQ(make_sink(c).error().code, "audit_sink_config");
  c = config(SinkType::kWebhook);
  c.url = "http://siem.example/ingest";
  EXPECT_EQ(make_sink(c).error().code, "audit_sink_config");
  c.allow_plain_http = true;
  EXPECT_TRUE(make_sink(c).ok());
}

TEST(SinkFactoryTest, TheListRefusesTwoSinksWithOneKey) {
  std::vector<SinkConfig> list{config(SinkType::kJsonl), config(SinkType::kSyslog)};
  EXPECT_TRUE(check_sink_list(list).ok());
  list.push_back(config(SinkType::kSyslog));
  EXPECT_EQ(check_sink_list(list).error().code, "audit_sink_config");
  EXPECT_EQ(check_sink_list(std::vector<SinkConfig>(kMaxSinks + 1)).error().code,
            "audit_sink_config");
}

TEST(SinkFactoryTest, TheBatchSizeGoesToTheRunner) {
  auto c = config(SinkType::kWebhook);
  c.batch = 42;
  SinkRunnerOptions base;
  base.store_path = "/var/lib/ztgate/audit.db";
  auto o = runner_options(c, base);
  EXPECT_EQ(o.max_batch_records, 42u);
  EXPECT_EQ(o.store_path, base.store_path);
}

}  // namespace
}  // namespace ztgate::audit
