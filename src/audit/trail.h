// The trail: where every audit event goes. Events are queued in memory and
// a writer thread commits them to the store in groups (one transaction and
// one fsync per group), sealed into the hash chain (chain.h) with a
// checkpoint signed every `checkpoint_every` records or
// `checkpoint_interval`. A group is sealed on a second thread while the one
// before it commits; a third copies the store's WAL into its database file
// (AuditStore::checkpoint_in_background).
//
// Nothing acknowledged is lost:
//   - a request reserves room for its record before it is processed
//     (reserve()); when the queue is full (the store is failing or too
//     slow) the request is refused with audit_unavailable instead of being
//     answered without a record;
//   - append() queues the event; the ticket resolves once it is durable.
//     Sync routes wait for the ticket before answering (group commit: the
//     writer commits at once when someone waits, and everything queued
//     meanwhile rides along); async routes answer at once and their record
//     is durable within `commit_interval` while the store is healthy;
//   - when a commit fails (disk full, I/O error), the group stays sealed as
//     it is (the groups sealed after it link to it) and is retried with
//     backoff; the trail reports `failing` and logs the
//     change of state; sync waiters time out on their side and fail closed.
// On open, the records written after the last checkpoint (a crash) are
// checked to link to it before the trail continues the chain; a tail that
// does not link is refused (error audit_chain_broken: run `ztgate audit verify`).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "audit/event.h"
#include "audit/retention.h"
#include "audit/store.h"
#include "common/result.h"

namespace ztgate::audit {

struct TrailOptions {
  std::string store_path;       // the SQLite file (created 0600)
  std::string key_path;         // Ed25519 PKCS#8 PEM (0600); generated when missing
  std::string public_key_path;  // the public JWK is written here on open ("" = not written)
  size_t max_pending_records = 50'000;      // reserved + queued, not yet durable
  size_t max_pending_bytes = size_t{64} << 20;  // queued event bytes
  std::chrono::milliseconds commit_interval{10};
  size_t max_batch = 4096;
  uint64_t checkpoint_every = 1000;
  std::chrono::milliseconds checkpoint_interval{5000};
  RetentionPolicy retention;  // applied by the writer between commits
  std::chrono::milliseconds retention_interval{60'000};
  std::chrono::milliseconds retry_min{100};  // commit retry backoff, doubling
  std::chrono::milliseconds retry_max{5000};
  // Called from the writer thread: state changes and failures ("warn",
  // "error", "info"). Never carries record contents.
  std::function<void(std::string_view level, std::string_view message)> log;
  // Called from the writer thread after each successful commit (sinks wake up).
  std::function<void(uint64_t last_seq)> on_commit;
};

// Resolves once: durable (true), or the trail shut down without being able
// to commit it (false).
class Ticket {
 public:
  // `done` runs once, on the writer thread, or at once when already resolved.
  void on_durable(std::function<void(bool)> done);
  // Blocks up to `timeout`; true when durable.
  bool wait_for(std::chrono::milliseconds timeout);
  bool resolved() const;

 private:
  friend class Trail;
  void resolve(bool durable);
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int state_ = 0;  // 0 pending, 1 durable, 2 failed
  std::function<void(bool)> done_;
};

class Trail {
 public:
  // Error codes: audit_store, signing_key_error, audit_chain_broken.
  static Result<std::unique_ptr<Trail>> open(TrailOptions options);
  // Commits everything queued (waiting up to 10 s for a failing store),
  // signs a final checkpoint, stops the writer.
  ~Trail();
  Trail(const Trail&) = delete;
  Trail& operator=(const Trail&) = delete;

  // Room for one record. Move-only; releases the room if never used.
  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& o) noexcept : trail_(std::exchange(o.trail_, nullptr)) {}
    Reservation& operator=(Reservation&& o) noexcept;
    ~Reservation();
    explicit operator bool() const { return trail_ != nullptr; }

   private:
    friend class Trail;
    explicit Reservation(Trail* t) : trail_(t) {}
    Trail* trail_ = nullptr;
  };

  // Error audit_unavailable when the queue is full.
  Result<Reservation> reserve();
  // Queues `event` in the room `r` holds (an empty Reservation takes room
  // unconditionally: for the trail's own events). `urgent`: someone waits
  // for durability (sync route), commit without waiting for more.
  std::shared_ptr<Ticket> append(Reservation r, Event event, bool urgent = false);
  // Waits until everything queued so far is durable; false on timeout.
  bool flush(std::chrono::milliseconds timeout);

  struct Stats {
    uint64_t appended = 0;       // events queued
    uint64_t committed = 0;      // records durable
    uint64_t commits = 0;        // transactions
    uint64_t commit_failures = 0;
    uint64_t refused = 0;        // reserve() refusals (queue full)
    uint64_t checkpoints = 0;
    uint64_t archived = 0;       // records moved to archive segments
    uint64_t pending_records = 0;
    uint64_t pending_bytes = 0;
    uint64_t last_seq = 0;
    bool failing = false;
  };
  Stats stats() const;

  const std::string& chain_uid() const;
  const std::string& key_id() const;
  std::string public_jwk() const;
  const std::string& store_path() const;

  struct Impl;

 private:
  explicit Trail(std::unique_ptr<Impl> impl);
  void release_room();
  std::unique_ptr<Impl> impl_;
};

}  // namespace ztgate::audit
