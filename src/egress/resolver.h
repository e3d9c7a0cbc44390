// Name resolution for egress, bounded in time, concurrency and queue length.
//
// The guard resolves each allowed name once and connects only to the
// addresses it got (and checked): nothing downstream resolves again, so a
// DNS answer that changes between check and connect (rebinding) changes
// nothing. Names are looked up only after the policy allowed them, since a
// lookup is itself a message to the outside (DNS exfiltration).
//
// getaddrinfo cannot be cancelled or given a deadline, so lookups run on a
// small pool of threads and a watchdog answers every request that is not
// done by its deadline with resolve_timeout; a lookup finishing later is
// dropped. The queue is bounded: when `max_pending` requests wait, a new
// one is refused at once with resolver_busy (a stuck DNS server cannot pile
// up work). `done` runs exactly once, on a pool thread, the watchdog
// thread, or inline (busy, stopped); it must be quick and must not block.
//
// Error codes: resolve_failed (no such name, or no address), resolve_timeout,
// resolver_busy, resolver_stopped (the resolver is being destroyed).
// The pool threads outlive the Resolver when a lookup is still stuck at
// destruction: they hold only shared state and exit once it returns.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "egress/ip_address.h"

namespace ztgate::egress {

class Resolver {
 public:
  using Addresses = std::vector<IpAddress>;
  // One blocking lookup: the addresses of `name` (A and AAAA), deduplicated
  // and capped. Replaceable for tests (a rebinding DNS, a hanging one).
  using Lookup = std::function<Result<Addresses>(const std::string& name)>;
  using Done = std::function<void(Result<Addresses>)>;

  struct Options {
    size_t threads = 4;
    size_t max_pending = 256;   // queued and not yet taken by a thread
    size_t max_addresses = 16;  // of one name; the rest are ignored
    Lookup lookup;              // default: system_lookup(max_addresses)
  };

  // getaddrinfo(AF_UNSPEC, SOCK_STREAM), in the system's preference order.
  static Lookup system_lookup(size_t max_addresses);

  explicit Resolver(Options options);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  void resolve(std::string name, std::chrono::milliseconds timeout, Done done);
  // The same, waiting for the answer (at most `timeout` and a little).
  Result<Addresses> resolve_blocking(std::string name, std::chrono::milliseconds timeout);

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace ztgate::egress
