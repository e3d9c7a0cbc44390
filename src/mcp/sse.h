// An incremental parser for text/event-stream (the WHATWG "server-sent
// events" format) as MCP's Streamable HTTP transport uses it: feed it bytes
// as they arrive, take the complete events. Lines end in LF, CRLF or CR;
// `data:` lines of one event are joined with LF; comments (":") and unknown
// fields are skipped; `retry:` is ignored.
//
// Bounded: an event (or a line) larger than `max_event_bytes` is an error
// (sse_too_large) and the parser stays failed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ztgate::mcp {

struct SseEvent {
  std::string event;  // "" means "message"
  std::string data;
  std::string id;
};

class SseParser {
 public:
  explicit SseParser(size_t max_event_bytes) : max_(max_event_bytes) {}
  // Appends the events completed by `bytes` to `out`.
  Status feed(std::string_view bytes, std::vector<SseEvent>& out);

 private:
  void line(std::string_view l, std::vector<SseEvent>& out);

  size_t max_;
  std::string partial_;  // an unfinished line
  bool after_cr_ = false;
  bool failed_ = false;
  SseEvent current_;
  bool has_data_ = false;
};

}  // namespace ztgate::mcp
