// SyslogSink: RFC 5424 formatting and escaping, RFC 6587 octet framing, and
// delivery over a real TCP connection that the receiver drops.
#include <gtest/gtest.h>

#include "audit/sinks/syslog_sink.h"
#include "sink_test_support.h"

namespace ztgate::audit {
namespace {

using testing::sealed_records;
using testing::split_octet_frames;
using testing::TcpReceiver;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

SyslogHeader header() {
  SyslogHeader h;
  h.facility = 10;
  h.hostname = "gw1.example";
  h.app_name = "ztgate";
  h.procid = "4242";
  h.sd_id = "ztgate@32473";
  return h;
}

StoredRecord record(std::string decision) {
  StoredRecord r;
  r.seq = 17;
  r.event.time_ms = 1'700'000'000'123;
  r.event.request_id = "r-1";
  r.event.decision = std::move(decision);
  r.event.action = "invoke_model";
  r.text = R"({"class_uid":6003,"attestation":{"uid":"17"}})";
  return r;
}

TEST(SyslogFormatTest, WritesTheWholeRfc5424Message) {
  EXPECT_EQ(format_rfc5424(record("deny"), header()),
            "<84>1 2023-11-14T22:13:20.123Z gw1.example ztgate 4242 audit [ztgate@32473 seq=\"17\" "
            "request_id=\"r-1\" decision=\"deny\" action=\"invoke_model\"] " +
                std::string(kBom) + R"({"class_uid":6003,"attestation":{"uid":"17"}})");
}

TEST(SyslogFormatTest, SeverityFollowsTheDecision) {
  EXPECT_EQ(syslog_severity("allow"), 6);
  EXPECT_EQ(syslog_severity("deny"), 4);
  EXPECT_EQ(syslog_severity("error"), 5);
  EXPECT_EQ(syslog_severity(""), 5);
  // PRI = facility * 8 + severity: authpriv (10) allow -> 86.
  EXPECT_EQ(format_rfc5424(record("allow"), header()).substr(0, 6), "<86>1 ");
  EXPECT_EQ(format_rfc5424(record("error"), header()).substr(0, 6), "<85>1 ");
}

TEST(SyslogFormatTest, FacilityNamesMapToRfc5424Codes) {
  EXPECT_EQ(*syslog_facility("kern"), 0);
  EXPECT_EQ(*syslog_facility("auth"), 4);
  EXPECT_EQ(*syslog_facility("authpriv"), 10);
  EXPECT_EQ(*syslog_facility("local0"), 16);
  EXPECT_EQ(*syslog_facility("local7"), 23);
  auto bad = syslog_facility("local8");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "audit_sink_config");
}

TEST(SyslogFormatTest, TimestampIsRfc3339UtcWithMilliseconds) {
  EXPECT_EQ(rfc3339_ms(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(rfc3339_ms(1'700'000'000'005), "2023-11-14T22:13:20.005Z");
  EXPECT_EQ(rfc3339_ms(0), "-");
  EXPECT_EQ(rfc3339_ms(-5), "-");
  EXPECT_EQ(rfc3339_ms(253402300800000), "-");
}

TEST(SyslogFormatTest, EscapesQuoteBackslashAndBracketInParamValues) {
  // RFC 5424 §6.3.3: '"', '\' and ']' MUST be escaped with a backslash.
  EXPECT_EQ(escape_sd_value(R"(a"b\c]d)"), R"(a\"b\\c\]d)");
  EXPECT_EQ(escape_sd_value("[x=y]"), "[x=y\\]");
}

TEST(SyslogFormatTest, ReplacesControlBytesAndInvalidUtf8) {
  EXPECT_EQ(escape_sd_value("a\nb\x01"
                            "c\x7f"),
            "a?b?c?");
  EXPECT_EQ(escape_sd_value("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x92"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x92");
  EXPECT_EQ(escape_sd_value("\xC3"), "?");                 // truncated sequence
  EXPECT_EQ(escape_sd_value("\xC0\xAF"), "??");            // overlong
  EXPECT_EQ(escape_sd_value("\xED\xA0\x80"), "???");       // surrogate
  EXPECT_EQ(escape_sd_value("\xF4\x90\x80\x80"), "????");  // above U+10FFFF
}

TEST(SyslogFormatTest, BoundsParamValues) {
  EXPECT_EQ(escape_sd_value(std::string(1000, 'x')).size(), 256u);
  // Never cuts an escape pair or a UTF-8 sequence in half.
  std::string quotes = escape_sd_value(std::string(200, '"'));
  EXPECT_EQ(quotes.size(), 256u);
  EXPECT_EQ(quotes.substr(254), "\\\"");
  EXPECT_EQ(escape_sd_value("x" + std::string(200, '\xC3') + ""), "x" + std::string(200, '?'));
  std::string euros;
  for (int i = 0; i < 100; ++i) euros += "\xE2\x82\xAC";
  EXPECT_EQ(escape_sd_value(euros).size(), 255u);
}

TEST(SyslogFormatTest, OctetFrameCountsBytes) {
  EXPECT_EQ(octet_frame("hello"), "5 hello");
  EXPECT_EQ(octet_frame(std::string(kBom) + "\xC3\xA9"), "5 " + std::string(kBom) + "\xC3\xA9");
  EXPECT_EQ(octet_frame(""), "0 ");
}

SyslogSinkOptions loopback_options() {
  SyslogSinkOptions o;
  o.name = "syslog:s";
  o.host = "127.0.0.1";
  o.port = 514;
  return o;
}

TEST(SyslogSinkTest, RefusesBadSdIdsAndNames) {
  for (const char* bad : {"ztgate", "@32473", "ztgate@", "ztgate@abc", "zt=gate@1", "zt]gate@1",
                          "zt gate@1", "a-very-long-sd-id-name-over-32@32473"}) {
    SyslogSinkOptions o = loopback_options();
    o.sd_id = bad;
    auto sink = SyslogSink::create(o);
    ASSERT_FALSE(sink.ok()) << bad;
    EXPECT_EQ(sink.error().code, "audit_sink_config") << bad;
  }
  SyslogSinkOptions o = loopback_options();
  o.sd_id = "audit@99999";
  EXPECT_TRUE(SyslogSink::create(o).ok());
  o.app_name = std::string(49, 'a');
  EXPECT_FALSE(SyslogSink::create(o).ok());
  o.app_name = "zt gate";
  EXPECT_FALSE(SyslogSink::create(o).ok());
  o.app_name = "ztgate";
  o.facility = "nope";
  EXPECT_FALSE(SyslogSink::create(o).ok());
}

SyslogSinkOptions tcp_options(uint16_t port) {
  SyslogSinkOptions o;
  o.name = "syslog:test";
  o.host = "127.0.0.1";
  o.port = port;
  o.hostname = "gw1";
  o.transport.connect_timeout = std::chrono::milliseconds(2000);
  o.transport.write_timeout = std::chrono::milliseconds(2000);
  return o;
}

TEST(SyslogSinkTest, SendsOneOctetCountedFramePerRecordOverTcp) {
  TcpReceiver receiver;
  auto sink = SyslogSink::create(tcp_options(receiver.port()));
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  auto records = sealed_records(1, 5);
  ASSERT_TRUE((*sink)->deliver(records).ok());
  ASSERT_TRUE(receiver.wait_bytes(1));
  std::vector<std::string> frames;
  for (int i = 0; i < 200 && frames.size() < records.size(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    try {
      frames = split_octet_frames(receiver.connections().at(0));
    } catch (const std::exception&) {
      frames.clear();  // a frame still in flight
    }
  }
  ASSERT_EQ(frames.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const std::string& f = frames[i];
    size_t bom = f.find(kBom);
    ASSERT_NE(bom, std::string::npos);
    EXPECT_EQ(f.substr(bom + kBom.size()),
              records[i].text);  // MSG is the sealed record, byte for byte
    EXPECT_NE(f.find("[ztgate@32473 seq=\"" + std::to_string(records[i].seq) + "\""),
              std::string::npos);
    EXPECT_NE(f.find("request_id=\"req-" + std::to_string(records[i].seq) + "-\\\"q\\]\""),
              std::string::npos);
    EXPECT_EQ(f.find(" gw1 ztgate "), f.find(' ', f.find(' ') + 1));
  }
}

TEST(SyslogSinkTest, ReconnectsWhenTheReceiverDroppedTheConnection) {
  TcpReceiver receiver;
  auto sink = SyslogSink::create(tcp_options(receiver.port()));
  ASSERT_TRUE(sink.ok());
  auto first = sealed_records(1, 2);
  ASSERT_TRUE((*sink)->deliver(first).ok());
  ASSERT_TRUE(receiver.wait_bytes(10));
  receiver.close_current();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the FIN reaches the sink's socket
  auto second = sealed_records(3, 2);
  ASSERT_TRUE((*sink)->deliver(second).ok());
  size_t first_bytes = receiver.connections().at(0).size();
  ASSERT_TRUE(receiver.wait_bytes(first_bytes + 10));
  std::vector<std::string> frames;
  for (int i = 0; i < 200 && frames.size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto conns = receiver.connections();
    if (conns.size() < 2) continue;
    try {
      frames = split_octet_frames(conns[1]);
    } catch (const std::exception&) {
      frames.clear();
    }
  }
  // The second batch went out whole on a new connection, not into the dead one.
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_NE(frames[0].find(second[0].text), std::string::npos);
  EXPECT_NE(frames[1].find(second[1].text), std::string::npos);
}

TEST(SyslogSinkTest, UnreachableReceiverFailsTheBatch) {
  uint16_t port = 0;
  int fd = testing::listen_loopback(port);
  ::close(fd);  // nothing listens there now
  auto sink = SyslogSink::create(tcp_options(port));
  ASSERT_TRUE(sink.ok());
  auto delivered = (*sink)->deliver(sealed_records(1, 1));
  ASSERT_FALSE(delivered.ok());
  EXPECT_EQ(delivered.error().code, "net_connect");
  EXPECT_EQ(delivered.error().message.find("class_uid"), std::string::npos);  // no record content
}

}  // namespace
}  // namespace ztgate::audit
