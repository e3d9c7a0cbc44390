// Facts about one task or session (the delegation token's task id, or the MCP
// session id), for session-aware policy: the highest classification of data
// read, whether untrusted content entered, which tools were used, which
// destinations were contacted and how many calls were made. Every decision
// sees them as context.session, so a policy can say "once this session read
// confidential data and saw untrusted content, nothing may send data out"
// (the lethal trifecta) or "at most 30 tool calls a minute per task".
//
// SessionStore is the interface; the in-memory store below is the one
// implementation so far (a shared one, e.g. Redis, can follow for several
// gateway instances).
//
// Facts only grow: the rank is a maximum, untrusted_seen is sticky, lists only
// gain members. Bounds: kMaxListItems tools and destinations per session (more
// are dropped and `overflow` is set: a policy that needs the complete list
// should deny when it is), kMaxItemBytes per tool name, destination and label,
// kMaxKeyBytes per key (an empty or longer key keeps no facts and reads as
// overflow: the caller lost track of the session, so policy should fail closed).
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ztgate::state {

inline constexpr size_t kMaxListItems = 256;
inline constexpr size_t kMaxItemBytes = 512;
inline constexpr size_t kMaxKeyBytes = 1024;

struct SessionFacts {
  int data_rank = -1;          // highest classification rank read; -1: none
  std::string data_label;      // the label of that rank (the first one seen at it)
  bool untrusted_seen = false;
  std::vector<std::string> tools_used;    // sorted, unique, at most kMaxListItems
  std::vector<std::string> destinations;  // sorted, unique, at most kMaxListItems
  int64_t calls = 0;
  int64_t calls_last_minute = 0;  // calls in the 60 whole seconds up to now
  int64_t started_ms = 0;         // the first observation; 0 for an unknown key
  bool overflow = false;          // a bound dropped a fact
};

// One call that happened in a session. Empty strings and rank -1 add nothing.
struct Observation {
  std::string tool;
  int data_rank = -1;
  std::string data_label;
  bool untrusted = false;
  std::string destination;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  // The facts of `key` now; empty facts for an unknown or expired key.
  // Reading does not count as activity (no LRU or idle-time refresh).
  virtual SessionFacts facts(std::string_view key, int64_t now_ms) = 0;
  // A call happened: calls + 1, the tool and destination added, the rank
  // raised to the maximum, untrusted_seen |= untrusted.
  virtual void observe(std::string_view key, const Observation& o, int64_t now_ms) = 0;
};

// In memory, thread-safe (mutexes sharded by key hash), bounded: at most
// max_keys sessions (the least recently observed is evicted; with 1024 or
// more keys the bound and the order are per shard), and a session idle for
// idle_ttl is forgotten. calls_last_minute comes from per-second buckets.
std::unique_ptr<SessionStore> make_memory_session_store(size_t max_keys, std::chrono::milliseconds idle_ttl);

// context.session as Cedar-ready JSON: {data_rank, data_label, untrusted_seen,
// tools_used: [..], destinations: [..], calls, calls_last_minute, overflow}.
boost::json::object session_context(const SessionFacts& f);

}  // namespace ztgate::state
