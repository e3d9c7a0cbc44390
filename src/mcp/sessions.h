// The MCP sessions agents hold with the gateway (Mcp-Session-Id). A session
// id is 128 random bits, bound to the principal that initialized it: the
// same id presented by anyone else is "no such session" (404), exactly as an
// expired one. Bounded: at most max_sessions (the least recently used go
// first) and idle_timeout since last use.
//
// In memory: a replica restart or another replica ends the session and the
// agent re-initializes (the MCP spec's answer to 404), which costs a round
// trip and no safety.
#pragma once

#include <chrono>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace ztgate::mcp {

struct Session {
  std::string id;
  std::string owner;             // the principal (and delegation chain) that made it
  std::string protocol_version;  // negotiated at initialize
  std::chrono::steady_clock::time_point last_used;
};

class Sessions {
 public:
  Sessions(size_t max_sessions, std::chrono::milliseconds idle_timeout)
      : max_(max_sessions), idle_(idle_timeout) {}

  // A new session for `owner`; returns its id.
  std::string create(const std::string& owner, const std::string& protocol_version);
  // The session when it exists, is not idle past the timeout and belongs to
  // `owner` (its last use is refreshed); else nullopt.
  std::optional<Session> find(const std::string& id, const std::string& owner);
  // Ends the session (its owner only). True when there was one.
  bool end(const std::string& id, const std::string& owner);
  size_t size() const;

 private:
  void evict_locked(std::chrono::steady_clock::time_point now);

  const size_t max_;
  const std::chrono::milliseconds idle_;
  mutable std::mutex mu_;
  std::list<Session> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Session>::iterator> by_id_;
};

}  // namespace ztgate::mcp
