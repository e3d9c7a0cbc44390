// Fuzz target: MCP's JSON-RPC messages (src/mcp/jsonrpc.h) and the
// text/event-stream parser that carries them over Streamable HTTP
// (src/mcp/sse.h).
//
// Properties checked, for any input:
//   1. parse_message returns a message or an error; never crashes, hangs,
//      leaks or hits undefined behavior. A message it accepts is well formed
//      for its kind (a request has a non-null string or integer id and a
//      method, a notification no id, an error an integer code and a string
//      message).
//   2. Re-serializing what it accepted and parsing that again gives the same
//      message: request_text for requests and notifications (same kind,
//      method, id, params), result_response and error_response for
//      responses (same id, result / code and message). Not checked for a
//      message with a number beyond the range of a double (1e400): Boost.JSON
//      reads it as infinity and writes that as `Infinity`, which is not JSON
//      (a known gap of the shared JSON reader, src/common/json_keys.cpp).
//   3. SseParser gives the same events and the same verdict (failed or not)
//      whether the stream is fed at once, in two parts split at a point the
//      input chooses, or byte by byte; no event's data exceeds the bound.
//   4. The data of every event goes through properties 1 and 2, as the HTTP
//      upstream parses it.
//
// Input: a message or an event stream (seeds in fuzz/corpus/fuzz_mcp_message/).
// Its first byte also chooses where the stream is split.
#include <boost/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "mcp/jsonrpc.h"
#include "mcp/sse.h"
#include "property.h"

namespace {

namespace json = boost::json;
namespace mcp = ztgate::mcp;
using ztgate::fuzz::require;

bool valid_id(const json::value& id) { return id.is_string() || id.is_int64() || id.is_uint64(); }

// Whether `root` holds an infinite or NaN number anywhere (iterative).
bool has_non_finite(const json::value& root) {
  std::vector<const json::value*> stack{&root};
  while (!stack.empty()) {
    const json::value* v = stack.back();
    stack.pop_back();
    if (v->is_double() && !std::isfinite(v->get_double())) return true;
    if (v->is_array())
      for (const auto& e : v->get_array()) stack.push_back(&e);
    if (v->is_object())
      for (const auto& kv : v->get_object()) stack.push_back(&kv.value());
  }
  return false;
}

// Equal, with doubles allowed to differ by a few units in the last place:
// Boost.JSON 1.81 parses long mantissas (more than 17 significant digits,
// "1111111111111111111111115") without correct rounding, so the shortest
// form it prints may read back one ulp away. Everything else must match.
bool same_json(const json::value& a, const json::value& b, int depth = 0) {
  if (depth > 64) return a == b;
  if (a.is_double() && b.is_double()) {
    double x = a.get_double();
    for (int step = 0; step <= 4; ++step, x = std::nextafter(x, b.get_double()))
      if (x == b.get_double()) return true;
    return false;
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (!same_json(x[i], y[i], depth + 1)) return false;
    return true;
  }
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& kv : x) {
      const json::value* other = y.if_contains(kv.key());
      if (other == nullptr || !same_json(kv.value(), *other, depth + 1)) return false;
    }
    return true;
  }
  return a == b;
}

void check_message(std::string_view text) {
  auto m = mcp::parse_message(text);
  if (!m) {
    require(m.error().code == "jsonrpc_parse" || m.error().code == "jsonrpc_invalid", "known error code",
            m.error().code);
    return;
  }
  (void)mcp::id_text(m->id);
  std::string again;
  switch (m->kind) {
    case mcp::MessageKind::kRequest:
      require(valid_id(m->id), "a request has a string or integer id", text);
      [[fallthrough]];
    case mcp::MessageKind::kNotification:
      require(!m->method.empty() && m->method.size() <= mcp::kMaxMethodBytes, "a method of 1..256 bytes", text);
      if (m->kind == mcp::MessageKind::kNotification) require(m->id.is_null(), "a notification has no id", text);
      again = mcp::request_text(m->id, m->method, m->params);
      break;
    case mcp::MessageKind::kResult:
      require(m->id.is_null() || valid_id(m->id), "a response id is null, a string or an integer", text);
      again = mcp::result_response(m->id, m->result);
      break;
    case mcp::MessageKind::kError: {
      require(m->id.is_null() || valid_id(m->id), "a response id is null, a string or an integer", text);
      const json::value* code = m->error.if_contains("code");
      const json::value* message = m->error.if_contains("message");
      require(code && code->is_int64() && message && message->is_string(), "an error has code and message", text);
      int64_t c = code->as_int64();
      if (c < std::numeric_limits<int>::min() || c > std::numeric_limits<int>::max()) return;
      const json::value* data = m->error.if_contains("data");
      again = mcp::error_response(m->id, static_cast<int>(c), message->as_string(),
                                  data && data->is_object() ? data->as_object() : json::object{});
      break;
    }
  }
  // Numbers may print longer than they were written ("0.5" -> "5E-1").
  if (again.size() > mcp::kMaxMessageBytes) return;
  if (has_non_finite(json::value(m->params)) || has_non_finite(m->result) || has_non_finite(json::value(m->error)))
    return;
  auto back = mcp::parse_message(again);
  require(back.ok(), "a re-serialized message parses again", again);
  require(back->kind == m->kind, "same kind after a round trip", again);
  require(back->id == m->id, "same id after a round trip", again);
  switch (m->kind) {
    case mcp::MessageKind::kRequest:
    case mcp::MessageKind::kNotification:
      require(back->method == m->method, "same method after a round trip", again);
      require(same_json(json::value(back->params), json::value(m->params)), "same params after a round trip", again);
      break;
    case mcp::MessageKind::kResult:
      require(same_json(back->result, m->result), "same result after a round trip", again);
      break;
    case mcp::MessageKind::kError:
      require(back->error.at("code") == m->error.at("code") && back->error.at("message") == m->error.at("message"),
              "same code and message after a round trip", again);
      break;
  }
}

struct Fed {
  std::vector<mcp::SseEvent> events;
  bool failed = false;
};

void feed(mcp::SseParser& p, std::string_view bytes, Fed& out) {
  auto st = p.feed(bytes, out.events);
  if (!st) {
    require(st.error().code == "sse_too_large", "the only SSE error is sse_too_large", st.error().code);
    out.failed = true;
  }
}

bool same(const Fed& a, const Fed& b) {
  if (a.failed != b.failed || a.events.size() != b.events.size()) return false;
  for (size_t i = 0; i < a.events.size(); ++i)
    if (a.events[i].event != b.events[i].event || a.events[i].data != b.events[i].data ||
        a.events[i].id != b.events[i].id)
      return false;
  return true;
}

Fed check_sse(std::string_view input, size_t split, size_t max) {
  Fed whole, parts, bytes;
  mcp::SseParser a(max);
  feed(a, input, whole);
  mcp::SseParser b(max);
  feed(b, input.substr(0, split), parts);
  feed(b, input.substr(split), parts);
  require(same(whole, parts), "the same events when the stream is split in two", input);
  if (input.size() <= 4096) {
    mcp::SseParser c(max);
    for (char ch : input) feed(c, std::string_view(&ch, 1), bytes);
    require(same(whole, bytes), "the same events when the stream comes byte by byte", input);
  }
  for (const auto& e : whole.events) require(e.data.size() <= max, "an event's data is within the bound", input);
  return whole;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  check_message(input);
  size_t split = size == 0 ? 0 : data[0] % (size + 1);
  check_sse(input, split, 64);  // a small bound, so that it is reached
  Fed events = check_sse(input, split, size_t{1} << 20);
  for (const auto& e : events.events) check_message(e.data);
  return 0;
}
