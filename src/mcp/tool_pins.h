// Tool pinning against rug pulls: an MCP server that changes what a tool says
// it does (its description, its input schema, its annotations) after the tool
// was approved must not be trusted with the new definition until an admin
// approves the change.
//
// A tool definition is identified by a digest of its pinned fields. The pin of
// a tool (server, tool name) is the digest an admin approved (or the first one
// seen, with trust on first use). Each time an upstream lists its tools, the
// gateway observes every definition and gets a verdict:
//
//   approved  the digest equals the pin: the tool may be listed and called
//   pending   no pin yet (first seen without trust on first use), or the digest
//             differs from the pin: recorded as a pending change; the tool is
//             blocked until an admin approves that exact digest
//   rejected  an admin rejected this exact digest: blocked
//
// The store is a SQLite file (WAL) shared with `ztgate tools pending|approve|
// reject`, which edits it from another process; observe() notices such edits
// with PRAGMA data_version, so an unchanged tool costs a digest and a map
// lookup, no query.
//
// Bounds: kMaxDefinitionBytes of canonical JSON per definition (a larger one is
// refused: tool_definition_too_large, so the gateway blocks the tool),
// kMaxTools tools per store (pin_store_full), kMaxRejectedPerTool rejected
// digests kept per tool (the oldest go first), kMaxEvents events (the oldest
// go first), names and `by` of at most kMaxNameBytes.
//
// Error codes: pin_invalid (bad names or digest), pin_not_found,
// pin_digest_mismatch, tool_definition_too_large, pin_store_full, store_error.
// Thread-safe: one mutex guards the connection and the cache.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "store/sqlite.h"

namespace ztgate::mcp {

inline constexpr size_t kMaxDefinitionBytes = 256 * 1024;
inline constexpr size_t kMaxTools = 4096;
inline constexpr size_t kMaxRejectedPerTool = 64;
inline constexpr int64_t kMaxEvents = 100'000;
inline constexpr size_t kMaxNameBytes = 256;
inline constexpr size_t kMaxEventsPage = 1000;

// The fields of an MCP tool definition that the pin covers. Other members
// (_meta, icons, execution hints) may change freely.
inline constexpr const char* kPinnedToolFields[] = {"name",         "title",       "description",
                                                    "inputSchema",  "outputSchema", "annotations"};

// The pinned fields of `tool` (absent fields omitted) as canonical JSON: object
// keys sorted by bytes at every level, no whitespace, strings and numbers as
// boost::json serializes them. Iterative: any depth.
std::string canonical_tool_definition(const boost::json::object& tool);

// SHA-256 (lowercase hex) of canonical_tool_definition(tool): independent of
// key order, changed by any change to a pinned field.
std::string tool_definition_digest(const boost::json::object& tool);

enum class PinState { kApproved, kPending, kRejected };
std::string_view to_string(PinState s);

struct PinVerdict {
  PinState state = PinState::kPending;
  bool first_seen = false;    // the tool had never been seen (no pin, nothing pending or rejected)
  bool changed = false;       // a pin exists and this definition differs from it
  std::string pinned_digest;  // "" when the tool has no pin
  std::string seen_digest;
};

// A definition waiting for an admin. One per tool: a newer different
// definition replaces it (first_seen_ms restarts).
struct PendingChange {
  std::string server, tool;
  std::string pinned_digest, seen_digest;           // pinned_digest "" for a new tool
  std::string pinned_definition, seen_definition;   // canonical JSON; "" when unknown
  int64_t first_seen_ms = 0, last_seen_ms = 0;
};

// A decision for the audit trail. action:
//   pinned    a new tool was pinned on first use (by "tofu")
//   changed   a definition awaiting approval was recorded (new tool without
//             TOFU, or differs from the pin); by ""
//   approved  an admin approved `digest`; it is the pin now
//   rejected  an admin rejected `digest` (the pin is dropped if it was the pin)
struct PinEvent {
  int64_t id = 0;
  std::string server, tool, action, digest;
  std::string previous_digest;  // the pin before the event ("" if none)
  std::string by;
  int64_t time_ms = 0;
};

class PinStore {
 public:
  // Opens (creating if needed) the SQLite file; its directory must exist.
  // approve_first_use: a tool seen for the first time is pinned approved
  // (trust on first use); otherwise it starts pending.
  static Result<std::unique_ptr<PinStore>> open(const std::string& path, bool approve_first_use);

  // One definition an upstream lists (see the header comment). Fail closed:
  // an error means the tool must be blocked.
  Result<PinVerdict> observe(const std::string& server, const std::string& tool,
                             const boost::json::object& definition, int64_t now_ms);

  // Every pending change, by server then tool.
  Result<std::vector<PendingChange>> pending();

  // Makes `digest` the pin: it must be the pending definition of the tool, or
  // one rejected earlier (reconsidered). Approving the current pin again is a
  // no-op. Errors: pin_not_found (nothing pending or rejected with a definition
  // for that tool), pin_digest_mismatch (something else is pending now: review
  // it again).
  Status approve(const std::string& server, const std::string& tool, const std::string& digest,
                 const std::string& by, int64_t now_ms);
  // Rejects `digest`: the pending definition, or the current pin (the tool is
  // then blocked until another definition is approved; it never counts as new
  // again). Same errors as approve.
  Status reject(const std::string& server, const std::string& tool, const std::string& digest,
                const std::string& by, int64_t now_ms);

  // Events with id > after_id, oldest first, at most `limit` (≤ kMaxEventsPage).
  Result<std::vector<PinEvent>> events_after(int64_t after_id, size_t limit = kMaxEventsPage);

 private:
  // What observe() needs to know of one tool, without definitions.
  struct ToolEntry {
    std::string pinned;               // "" when none
    std::string pending;              // "" when none
    int64_t pending_last_seen_ms = 0;
    std::set<std::string> rejected;
  };
  using Key = std::pair<std::string, std::string>;

  PinStore(store::Db db, bool approve_first_use) : db_(std::move(db)), approve_first_use_(approve_first_use) {}
  Status refresh_locked();
  Result<ToolEntry> read_entry_locked(const std::string& server, const std::string& tool);
  Result<PinVerdict> observe_slow_locked(const std::string& server, const std::string& tool,
                                         const std::string& digest, const std::string& definition, int64_t now_ms);
  Status decide(const std::string& server, const std::string& tool, const std::string& digest,
                const std::string& by, int64_t now_ms, bool approve);
  Status add_event_locked(const PinEvent& e);

  std::mutex mu_;
  store::Db db_;
  const bool approve_first_use_;
  std::map<Key, ToolEntry> cache_;
  int64_t seen_version_ = -1;  // data_version the cache reflects; -1: not loaded
};

}  // namespace ztgate::mcp
