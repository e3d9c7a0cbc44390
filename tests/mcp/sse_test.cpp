// The text/event-stream parser: the same events whatever the chunking (byte
// by byte, all at once, every split point), LF / CRLF / CR line ends (a CRLF
// split across chunks is one line end), multi-line data, comments, event and
// id fields, and the size bound (sse_too_large, and it stays failed).
#include "mcp/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ztgate::mcp {

// In ztgate::mcp itself (internal linkage) so that ADL finds them from
// std::vector's == and from GoogleTest's printer.
static bool operator==(const SseEvent& a, const SseEvent& b) {
  return a.event == b.event && a.data == b.data && a.id == b.id;
}

static std::ostream& operator<<(std::ostream& os, const SseEvent& e) {
  return os << "{event=" << e.event << " data=" << e.data << " id=" << e.id << "}";
}

namespace {

std::vector<SseEvent> all_at_once(std::string_view stream, size_t max = 1 << 20) {
  SseParser p(max);
  std::vector<SseEvent> out;
  EXPECT_TRUE(p.feed(stream, out));
  return out;
}

std::vector<SseEvent> byte_by_byte(std::string_view stream, size_t max = 1 << 20) {
  SseParser p(max);
  std::vector<SseEvent> out;
  for (char c : stream) EXPECT_TRUE(p.feed(std::string_view(&c, 1), out));
  return out;
}

// Every way of cutting the stream in two gives the same events, and so does
// feeding it one byte at a time.
std::vector<SseEvent> events_any_chunking(std::string_view stream) {
  auto whole = all_at_once(stream);
  EXPECT_EQ(byte_by_byte(stream), whole) << stream;
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SseParser p(1 << 20);
    std::vector<SseEvent> out;
    EXPECT_TRUE(p.feed(stream.substr(0, cut), out));
    EXPECT_TRUE(p.feed(stream.substr(cut), out));
    EXPECT_EQ(out, whole) << "cut at " << cut;
  }
  return whole;
}

TEST(SseParser, OneEventPerBlankLine) {
  auto events = events_any_chunking(
      "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n"
      "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "message");
  EXPECT_EQ(events[0].data, R"({"jsonrpc":"2.0","method":"notifications/progress"})");
  EXPECT_EQ(events[1].event, "");
  EXPECT_EQ(events[1].data, R"({"jsonrpc":"2.0","id":1,"result":{}})");
}

TEST(SseParser, LfCrlfAndCrLineEndsAreTheSame) {
  std::vector<SseEvent> want{{"", "a", ""}, {"e", "b\nc", "7"}};
  EXPECT_EQ(events_any_chunking("data: a\n\nevent: e\ndata: b\ndata: c\nid: 7\n\n"), want);
  EXPECT_EQ(events_any_chunking("data: a\r\n\r\nevent: e\r\ndata: b\r\ndata: c\r\nid: 7\r\n\r\n"), want);
  EXPECT_EQ(events_any_chunking("data: a\r\revent: e\rdata: b\rdata: c\rid: 7\r\r"), want);
  EXPECT_EQ(events_any_chunking("data: a\r\n\revent: e\ndata: b\r\ndata: c\rid: 7\n\r\n"), want);
}

TEST(SseParser, ACrlfSplitAcrossChunksIsOneLineEnd) {
  SseParser p(1024);
  std::vector<SseEvent> out;
  ASSERT_TRUE(p.feed("data: x\r", out));
  ASSERT_TRUE(p.feed("\ndata: y\r", out));
  ASSERT_TRUE(p.feed("\n\r", out));
  ASSERT_TRUE(p.feed("\n", out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "x\ny");  // had the LFs counted as line ends, "x" would be an event on its own
}

TEST(SseParser, MultiLineDataIsJoinedWithLf) {
  auto events = events_any_chunking("data: {\ndata:  \"a\": 1\ndata:\ndata: }\n\n");
  ASSERT_EQ(events.size(), 1u);
  // One space after the colon is dropped, any further ones are data.
  EXPECT_EQ(events[0].data, "{\n \"a\": 1\n\n}");
}

TEST(SseParser, CommentsAndUnknownFieldsAreSkipped) {
  auto events = events_any_chunking(
      ": keep-alive\n\n"
      ":comment\ndata: a\nretry: 3000\nfoo: bar\nnocolon\n: more\n\n"
      ": only a comment\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a");
  EXPECT_EQ(events[0].event, "");
}

TEST(SseParser, EventAndIdFieldsBelongToTheirEvent) {
  auto events = events_any_chunking("id: 1\nevent: first\ndata: one\n\ndata: two\n\nid:3\nevent:x\ndata:three\n\n");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0], (SseEvent{"first", "one", "1"}));
  EXPECT_EQ(events[1].event, "");  // the event type is per event
  EXPECT_EQ(events[1].data, "two");
  EXPECT_EQ(events[2], (SseEvent{"x", "three", "3"}));
  // An id with a NUL is ignored.
  events = events_any_chunking(std::string("id: a\0b\ndata: d\n\n", 17));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, "");
}

TEST(SseParser, EventsWithoutDataAreNotDispatched) {
  auto events = events_any_chunking("event: ping\n\nid: 5\n\n\n\ndata\n\n");
  // "data" with no colon is a data field with an empty value: that one is an event.
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "");
}

TEST(SseParser, AnUnfinishedEventIsHeldBack) {
  SseParser p(1024);
  std::vector<SseEvent> out;
  ASSERT_TRUE(p.feed("data: partial\n", out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(p.feed("data: more", out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(p.feed("\n\n", out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "partial\nmore");
}

TEST(SseParser, ALongLineIsRefusedAndTheParserStaysFailed) {
  SseParser p(64);
  std::vector<SseEvent> out;
  ASSERT_TRUE(p.feed("data: ok\n\n", out));
  ASSERT_EQ(out.size(), 1u);
  auto st = p.feed("data: " + std::string(100, 'x'), out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "sse_too_large");
  auto again = p.feed("\n\ndata: small\n\n", out);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "sse_too_large");
  EXPECT_EQ(out.size(), 1u);
}

TEST(SseParser, AnEventOfManyShortLinesIsBoundedToo) {
  SseParser p(64);
  std::vector<SseEvent> out;
  Status st = Ok{};
  for (int i = 0; i < 100 && st; ++i) st = p.feed("data: 0123456789\n", out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "sse_too_large");
  EXPECT_TRUE(out.empty());
  // Empty data lines grow the event by a separator each: bounded as well.
  SseParser q(64);
  st = Ok{};
  for (int i = 0; i < 1000 && st; ++i) st = q.feed("data:\n", out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "sse_too_large");
}

TEST(SseParser, ByteByByteFailsAtTheSamePlaceAsAllAtOnce) {
  std::string stream = "data: a\n\ndata: " + std::string(40, 'b') + "\n\ndata: c\n\n";
  SseParser whole(32);
  std::vector<SseEvent> a;
  EXPECT_FALSE(whole.feed(stream, a));
  SseParser bytes(32);
  std::vector<SseEvent> b;
  bool failed = false;
  for (char c : stream)
    if (!bytes.feed(std::string_view(&c, 1), b)) failed = true;
  EXPECT_TRUE(failed);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].data, "a");
}

TEST(SseParser, EventsUpToTheBoundPass) {
  SseParser p(64);
  std::vector<SseEvent> out;
  ASSERT_TRUE(p.feed("data: " + std::string(50, 'y') + "\n\n", out));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(p.feed("data: " + std::string(50, 'z') + "\n\n", out));
  EXPECT_EQ(out.size(), 101u);  // the bound is per event, not per stream
}

}  // namespace
}  // namespace ztgate::mcp
