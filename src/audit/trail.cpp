#include "audit/trail.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "audit/chain.h"
#include "audit/checkpoint.h"
#include "audit/verify.h"
#include "authn/signing_key.h"
#include "common/clock.h"

namespace ztgate::audit {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kWriterCacheKib = 32768;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status write_public_key(const std::string& path, const std::string& jwk) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error{"audit_store", "cannot write the audit public key to " + path};
  std::string text = jwk + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return Error{"audit_store", "cannot write " + path};
  return Ok{};
}

struct Pending {
  Event event;
  std::shared_ptr<Ticket> ticket;
};

// A group sealed and not yet committed: its records back to back in one
// buffer (reused from group to group: sealing allocates nothing per record),
// the events it came from (their indexed fields and tickets; the JSON is
// freed once sealed) and the checkpoints that go in the same transaction.
struct SealedGroup {
  std::vector<Pending> events;
  std::string text;
  std::vector<size_t> ends;  // where each record ends in `text`
  std::vector<Checkpoint> checkpoints;
  uint64_t first_seq = 0;
  ChainHead head;          // the chain after this group
  size_t event_bytes = 0;  // the events' JSON, as the queue counted it

  void clear() {
    events.clear();
    text.clear();
    ends.clear();
    checkpoints.clear();
    first_seq = 0;
    head = ChainHead{};
    event_bytes = 0;
  }
};

// The queued events, oldest first, in segments of at most `max_batch`: the
// writer takes a whole segment (its next group) by moving one vector, and
// hands back the emptied vector of a group it has sealed, so queueing
// allocates nothing per event (a std::deque of these ~310-byte events
// allocated a node per event, and the writer moved them one by one under
// the lock producers wait for).
class EventQueue {
 public:
  explicit EventQueue(size_t max_batch) : max_batch_(std::max<size_t>(1, max_batch)) {}

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  size_t bytes() const { return bytes_; }  // the events' JSON

  void push(Pending p) {
    if (segments_.empty() || segments_.back().events.size() >= max_batch_) {
      segments_.emplace_back();
      if (!spare_.empty()) {
        segments_.back().events = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    Segment& s = segments_.back();
    s.bytes += p.event.json.size();
    bytes_ += p.event.json.size();
    s.events.push_back(std::move(p));
    ++size_;
  }

  // Moves the oldest segment (1 to max_batch events) into `out`, keeping
  // `out`'s emptied buffer for later segments. Returns the events' JSON
  // bytes. Not empty() first.
  size_t take(std::vector<Pending>& out) {
    out.clear();
    if (out.capacity() != 0 && spare_.size() < kSpare) spare_.push_back(std::move(out));
    Segment& s = segments_.front();
    out = std::move(s.events);
    const size_t bytes = s.bytes;
    size_ -= out.size();
    bytes_ -= bytes;
    segments_.pop_front();
    return bytes;
  }

  template <typename F>
  void for_each(F&& f) {
    for (auto& s : segments_)
      for (auto& p : s.events) f(p);
  }

 private:
  struct Segment {
    std::vector<Pending> events;
    size_t bytes = 0;
  };
  static constexpr size_t kSpare = 2;
  size_t max_batch_;
  std::deque<Segment> segments_;
  std::vector<std::vector<Pending>> spare_;
  size_t size_ = 0;
  size_t bytes_ = 0;
};

// Names the calling thread as `top` and `perf` show it (at most 15 bytes).
void set_thread_name(const char* name) { (void)pthread_setname_np(pthread_self(), name); }

// One job at a time on a thread of its own: the writer hands it the sealing
// of the next group and waits for it after its own commit.
class SealWorker {
 public:
  SealWorker() : thread_([this] { loop(); }) {}
  ~SealWorker() {
    {
      std::lock_guard lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  SealWorker(const SealWorker&) = delete;
  SealWorker& operator=(const SealWorker&) = delete;

  void start(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      job_ = std::move(job);
      busy_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !busy_; });
  }

 private:
  void loop() {
    set_thread_name("audit-seal");
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return quit_ || job_; });
      if (!job_) return;  // quit_, nothing left to do
      auto job = std::move(job_);
      job_ = nullptr;
      lock.unlock();
      job();
      lock.lock();
      busy_ = false;
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> job_;
  bool busy_ = false;
  bool quit_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace

// --- Ticket -------------------------------------------------------------

void Ticket::on_durable(std::function<void(bool)> done) {
  std::unique_lock lock(mu_);
  if (state_ != 0) {
    bool ok = state_ == 1;
    lock.unlock();
    done(ok);
    return;
  }
  done_ = std::move(done);
}

bool Ticket::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return state_ != 0; });
  return state_ == 1;
}

bool Ticket::resolved() const {
  std::lock_guard lock(mu_);
  return state_ != 0;
}

void Ticket::resolve(bool durable) {
  std::function<void(bool)> done;
  {
    std::lock_guard lock(mu_);
    if (state_ != 0) return;
    state_ = durable ? 1 : 2;
    done = std::move(done_);
  }
  cv_.notify_all();
  if (done) done(durable);
}

// --- Trail --------------------------------------------------------------

struct Trail::Impl {
  TrailOptions options;
  std::unique_ptr<AuditStore> store;
  authn::SigningKey key;
  std::string chain_uid;
  std::string key_id;

  mutable std::mutex mu;
  std::condition_variable wake;       // the writer
  std::condition_variable committed;  // flush() waiters
  EventQueue queue;
  size_t reserved = 0;       // rooms taken, not yet appended
  // The batch the writer is committing, out of `queue` but not yet durable:
  // it still counts against the bounds (reserve(), stats()), else requests
  // would be admitted past max_pending_records during every commit.
  size_t in_flight = 0;
  size_t in_flight_bytes = 0;
  bool urgent = false;
  bool poke = false;  // a sync append arrived: retry a failing commit now
  bool refusing = false;  // reserve() is refusing (logged on change)
  bool stop = false;
  Clock::time_point oldest;  // when the oldest queued event arrived
  uint64_t appended_total = 0;  // events ever appended (flush() targets)
  uint64_t durable_total = 0;   // of those, durable

  // The sealed chain (the writer, or the sealer while the writer waits for
  // it; and open()): ahead of the store by the groups not yet committed.
  ChainHead head;
  uint64_t last_checkpoint_seq = 0;
  Clock::time_point last_checkpoint_time = Clock::now();
  bool last_sealed_final = false;  // the last group sealed carries the final checkpoint

  // The writer's own state (writer thread only).
  std::vector<RecordRef> refs;  // reused: the store's view of a group
  // A group that grew its buffer past kKeepSealedBytes (events much larger
  // than usual) is freed once committed.
  static constexpr size_t kKeepSealedBytes = size_t{32} << 20;
  Clock::time_point next_retention = Clock::now();
  std::string retention_note;  // why retention was last held back (logged on change)

  Stats stats;  // under mu
  std::thread writer;

  Impl(TrailOptions o, authn::SigningKey k) : options(std::move(o)), key(std::move(k)), queue(options.max_batch) {}

  void log(std::string_view level, std::string_view message) const {
    if (options.log) options.log(level, message);
  }

  bool retention_due(Clock::time_point now) const {
    return retention_enabled(options.retention) && now >= next_retention;
  }

  void run_retention() {
    next_retention = Clock::now() + options.retention_interval;
    std::string held;
    auto r = apply_retention(*store, options.retention, wall_ms(), &held);
    if (!r) {
      log("error", "audit retention: " + r.error().message);
      return;
    }
    if (*r) {
      const Archive& a = **r;
      log("info", "audit retention: archived records " + std::to_string(a.first_seq) + " to " +
                      std::to_string(a.last_seq) + " to " + a.path);
      std::lock_guard lock(mu);
      stats.archived += a.last_seq - a.first_seq + 1;
      next_retention = Clock::now();  // more may be due: go on after the next commits
    }
    if (held != retention_note && !held.empty()) log("warn", "audit retention held back: " + held);
    retention_note = held;
  }

  bool checkpoint_due(Clock::time_point now) const {
    uint64_t unsealed = head.seq - last_checkpoint_seq;
    return unsealed > 0 && (unsealed >= options.checkpoint_every || now - last_checkpoint_time >= options.checkpoint_interval);
  }

  // The smallest group sealed on the sealer while another commits: a
  // quarter of max_batch (sealing ~1,000 records takes ~2.5 ms; fewer are
  // sealed on the writer once the commit before them is done).
  size_t seal_aside_min() const { return std::max<size_t>(16, options.max_batch / 4); }

  // Under mu: the queue holds a group worth committing now.
  bool queue_ready(Clock::time_point now) const {
    return !queue.empty() && (urgent || queue.size() >= options.max_batch || now - oldest >= options.commit_interval);
  }

  // Seals `batch` into `g`, continuing the chain from `head` (which it
  // advances: `head` and the checkpoint state are the sealed chain's, one
  // step ahead of the store while a group waits for its commit). Runs on
  // the writer or on the sealer, never on both at once. Frees the events'
  // JSON: the group keeps the sealed text, the indexed fields and tickets.
  void seal_group(std::vector<Pending>&& batch, bool final_checkpoint, SealedGroup& g) {
    g.clear();
    g.events.swap(batch);  // `batch` takes the emptied buffer back (EventQueue::take reuses it)
    auto now = Clock::now();
    const size_t overhead = sealed_overhead(chain_uid, key_id);
    size_t room = 0;
    for (const auto& p : g.events) room += p.event.json.size() + overhead;
    g.text.reserve(room);
    g.ends.reserve(g.events.size());
    g.first_seq = head.seq + 1;
    uint64_t since_checkpoint = head.seq - last_checkpoint_seq;
    for (auto& p : g.events) {
      uint64_t seq = head.seq + 1;
      head.fingerprint = seal_into(g.text, p.event.json, seq, head.fingerprint, chain_uid, key_id);
      head.seq = seq;
      g.ends.push_back(g.text.size());
      g.event_bytes += p.event.json.size();
      std::string().swap(p.event.json);
      if (++since_checkpoint >= options.checkpoint_every) {
        auto c = sign_checkpoint(key, chain_uid, head.seq, head.fingerprint, wall_ms());
        if (c) g.checkpoints.push_back(std::move(*c));
        since_checkpoint = 0;
      }
    }
    bool time_due = since_checkpoint > 0 && (final_checkpoint || now - last_checkpoint_time >= options.checkpoint_interval);
    if (time_due) {
      auto c = sign_checkpoint(key, chain_uid, head.seq, head.fingerprint, wall_ms());
      if (c) g.checkpoints.push_back(std::move(*c));
    }
    if (!g.checkpoints.empty()) {
      last_checkpoint_seq = g.checkpoints.back().seq;
      last_checkpoint_time = now;
    }
    last_sealed_final = final_checkpoint;
    g.head = head;
  }

  // Commits a sealed group in one transaction. False when the store failed:
  // the group is kept as it is (sealed, the same bytes) for the retry, and
  // the groups sealed after it still link to it.
  bool commit_group(SealedGroup& g) {
    refs.clear();
    refs.reserve(g.events.size());
    size_t begin = 0;
    std::string_view text = g.text;
    for (size_t i = 0; i < g.events.size(); ++i) {
      refs.push_back(RecordRef{g.first_seq + i, &g.events[i].event, text.substr(begin, g.ends[i] - begin)});
      begin = g.ends[i];
    }
    Status st = store->append(refs, g.checkpoints);
    refs.clear();
    if (!st) {
      std::lock_guard lock(mu);
      if (!stats.failing) log("error", "audit trail: cannot commit records (" + st.error().message + "); retrying");
      stats.failing = true;
      ++stats.commit_failures;
      return false;
    }
    {
      std::lock_guard lock(mu);
      if (stats.failing) log("info", "audit trail: committing again");
      stats.failing = false;
      stats.committed += g.events.size();
      ++stats.commits;
      stats.checkpoints += g.checkpoints.size();
      stats.last_seq = g.head.seq;
      durable_total += g.events.size();
      in_flight -= g.events.size();
      in_flight_bytes -= g.event_bytes;
    }
    committed.notify_all();
    for (auto& p : g.events)
      if (p.ticket) p.ticket->resolve(true);
    if (options.on_commit) options.on_commit(g.head.seq);
    return true;
  }

  // The writer: takes groups from the queue, seals them and commits them in
  // chain order. While one group commits (SQLite, the WAL write, fsync), the
  // next one is sealed on the sealer thread (text, SHA-256, checkpoint
  // signature): at most two groups are sealed ahead of the store. A group
  // is sealed once; a failed commit retries the same bytes.
  void run() {
    set_thread_name("audit-writer");
    SealWorker sealer;
    auto backoff = options.retry_min;
    std::optional<Clock::time_point> give_up;  // when stopping with a failing store
    std::deque<SealedGroup> ready;             // sealed, not yet committed, in chain order
    std::vector<SealedGroup> spare;            // committed groups, their buffers reused
    std::vector<Pending> batch;
    auto group = [&]() -> SealedGroup {
      if (spare.empty()) return SealedGroup{};
      SealedGroup g = std::move(spare.back());
      spare.pop_back();
      return g;
    };
    // A committed group goes back to `spare` as it is: the next seal_group()
    // clears it, on the sealer, so freeing its events is off the writer too.
    auto retire = [&](SealedGroup&& g) {
      if (g.text.capacity() > kKeepSealedBytes) std::string().swap(g.text);  // an unusually large group
      if (spare.size() < 2) spare.push_back(std::move(g));
    };
    while (true) {
      bool final_round = false;
      bool drained = false;  // stopping, and the queue is empty
      {
        std::unique_lock lock(mu);
        while (true) {
          auto now = Clock::now();
          if (stop || !ready.empty() || queue_ready(now)) break;
          if (queue.empty() && (checkpoint_due(now) || retention_due(now))) break;
          auto deadline = now + options.checkpoint_interval;
          if (retention_enabled(options.retention)) deadline = std::min(deadline, next_retention);
          if (!queue.empty()) deadline = std::min(deadline, oldest + options.commit_interval);
          wake.wait_until(lock, deadline);
        }
        final_round = stop;
        batch.clear();
        // With a group waiting for its commit, the next is taken only when
        // it is large enough to be worth sealing meanwhile (a heavy async
        // load); a small one waits for that commit and takes whatever
        // arrives meanwhile with it: sync records ride in the next commit,
        // not the one after.
        bool take = ready.empty() || (ready.size() < 2 && queue.size() >= seal_aside_min());
        if (take && !queue.empty() && (final_round || queue_ready(Clock::now()))) {
          in_flight_bytes += queue.take(batch);
          in_flight += batch.size();
          urgent = !queue.empty() && final_round;
          if (!queue.empty()) oldest = Clock::now();
        }
        drained = final_round && queue.empty();
      }
      bool unsealed = head.seq > last_checkpoint_seq;
      if (drained && batch.empty() && ready.empty() && (!unsealed || last_sealed_final)) return;  // all committed
      // A group without records still carries a checkpoint that is due
      // (idle, or the final one when stopping).
      bool seal_next =
          !batch.empty() || (ready.empty() && ((final_round && unsealed) || checkpoint_due(Clock::now())));
      if (!seal_next && ready.empty()) {
        if (retention_due(Clock::now())) run_retention();
        continue;
      }
      bool ok = true;
      if (seal_next) {
        SealedGroup next = group();
        if (!ready.empty()) {
          // Seal the next group while the current one commits.
          sealer.start([&] { seal_group(std::move(batch), final_round, next); });
          ok = commit_group(ready.front());
          sealer.wait();
        } else {
          seal_group(std::move(batch), final_round, next);
        }
        if (ok && !ready.empty()) {
          retire(std::move(ready.front()));
          ready.pop_front();
        }
        ready.push_back(std::move(next));
      } else {
        ok = commit_group(ready.front());
        if (ok) {
          retire(std::move(ready.front()));
          ready.pop_front();
        }
      }
      if (ok) {
        backoff = options.retry_min;
        continue;
      }
      if (final_round) {
        if (!give_up) give_up = Clock::now() + std::chrono::seconds(10);
        if (Clock::now() >= *give_up) {
          std::lock_guard lock(mu);
          size_t left = queue.size();
          for (const auto& g : ready) left += g.events.size();
          log("error", "audit trail: stopping with " + std::to_string(left) + " records the store would not take");
          for (auto& g : ready)
            for (auto& p : g.events)
              if (p.ticket) p.ticket->resolve(false);
          queue.for_each([](Pending& p) {
            if (p.ticket) p.ticket->resolve(false);
          });
          return;
        }
      }
      // Back off, but a sync request arriving meanwhile retries sooner (at
      // most every retry_min): space may have come back.
      std::this_thread::sleep_for(options.retry_min);
      {
        std::unique_lock lock(mu);
        poke = false;
        wake.wait_for(lock, backoff - std::min(backoff, options.retry_min), [&] { return stop || poke; });
      }
      backoff = std::min(backoff * 2, options.retry_max);
    }
  }
};

Result<std::unique_ptr<Trail>> Trail::open(TrailOptions options) {
  auto key = authn::SigningKey::load_or_create(options.key_path);
  if (!key) return key.error();
  auto store = AuditStore::open(options.store_path);
  if (!store) return store.error();
  // The page cache holds a whole group (max_batch records of ~3.5 KiB and
  // their index pages): with SQLite's 2 MiB default, dirty pages spill to
  // the WAL mid-transaction and are written again.
  if (auto st = (*store)->set_cache_kib(kWriterCacheKib); !st) return st.error();
  // The WAL is copied into the database file while the writer goes on
  // (without it, the writer's connection does it, as SQLite does).
  if (auto st = (*store)->checkpoint_in_background(options.store_path); !st && options.log)
    options.log("warn", "audit trail: WAL checkpoints stay on the writer (" + st.error().message + ")");
  auto impl = std::make_unique<Impl>(std::move(options), std::move(*key));
  impl->store = std::move(*store);
  impl->chain_uid = impl->store->chain_uid();
  impl->key_id = impl->key.kid();
  auto head = impl->store->head();
  if (!head) return head.error();
  impl->head = *head;
  auto last = impl->store->last_checkpoint();
  if (!last) return last.error();
  auto anchor = impl->store->anchor();
  if (!anchor) return anchor.error();
  // The records after the last checkpoint (or the anchor) must link to it
  // before the chain continues from them.
  ChainHead start = *anchor;
  if (*last && (*last)->seq >= start.seq) start = ChainHead{(*last)->seq, (*last)->head};
  impl->last_checkpoint_seq = start.seq;
  if (impl->head.seq > start.seq) {
    ChainVerifier v(impl->chain_uid, std::nullopt, start);
    uint64_t after = start.seq;
    while (true) {
      auto batch = impl->store->read_after(after, 2000);
      if (!batch) return batch.error();
      if (batch->empty()) break;
      for (const auto& r : *batch) v.record(r.seq, r.text);
      after = batch->back().seq;
    }
    auto report = v.finish();
    if (!report.ok())
      return Error{"audit_chain_broken", "the audit trail's last records do not link to its last checkpoint (" +
                                             report.problems.front().message + "); run `ztgate audit verify`"};
  }
  if (!impl->options.public_key_path.empty()) {
    if (auto st = write_public_key(impl->options.public_key_path, impl->key.public_jwk_json()); !st) return st.error();
  }
  impl->stats.last_seq = impl->head.seq;
  auto* raw = impl.get();
  std::unique_ptr<Trail> trail(new Trail(std::move(impl)));
  raw->writer = std::thread([raw] { raw->run(); });
  return trail;
}

Trail::Trail(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Trail::~Trail() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->wake.notify_all();
  if (impl_->writer.joinable()) impl_->writer.join();
}

Trail::Reservation& Trail::Reservation::operator=(Reservation&& o) noexcept {
  if (this != &o) {
    if (trail_) trail_->release_room();
    trail_ = std::exchange(o.trail_, nullptr);
  }
  return *this;
}

Trail::Reservation::~Reservation() {
  if (trail_) trail_->release_room();
}

void Trail::release_room() {
  std::lock_guard lock(impl_->mu);
  if (impl_->reserved > 0) --impl_->reserved;
}

Result<Trail::Reservation> Trail::reserve() {
  std::lock_guard lock(impl_->mu);
  size_t records = impl_->reserved + impl_->queue.size() + impl_->in_flight;
  size_t bytes = impl_->queue.bytes() + impl_->in_flight_bytes;
  if (impl_->stop || records >= impl_->options.max_pending_records || bytes >= impl_->options.max_pending_bytes) {
    ++impl_->stats.refused;
    if (!impl_->refusing)  // logged once per episode, not per request
      impl_->log("error", "audit trail: queue full (" + std::to_string(records) + " records, " +
                              std::to_string(bytes) + " bytes); refusing requests until it drains");
    impl_->refusing = true;
    return Error{"audit_unavailable", "the audit trail cannot take more records right now"};
  }
  if (impl_->refusing) impl_->log("info", "audit trail: taking requests again");
  impl_->refusing = false;
  ++impl_->reserved;
  return Reservation(this);
}

std::shared_ptr<Ticket> Trail::append(Reservation r, Event event, bool urgent) {
  auto ticket = std::make_shared<Ticket>();
  bool notify = false;
  {
    std::lock_guard lock(impl_->mu);
    if (r.trail_ == this) {
      r.trail_ = nullptr;  // the room becomes the queued record
      if (impl_->reserved > 0) --impl_->reserved;
    }
    // The first queued event wakes the writer so it can time the group
    // commit from now; later ones ride along without a notify.
    bool first = impl_->queue.empty();
    if (first) impl_->oldest = Clock::now();
    impl_->queue.push(Pending{std::move(event), ticket});
    ++impl_->appended_total;
    ++impl_->stats.appended;
    if (urgent) impl_->urgent = impl_->poke = true;
    notify = first || urgent || impl_->queue.size() >= impl_->options.max_batch;
  }
  if (notify) impl_->wake.notify_one();
  return ticket;
}

bool Trail::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  uint64_t target = impl_->appended_total;
  impl_->urgent = true;
  impl_->wake.notify_one();
  return impl_->committed.wait_for(lock, timeout, [&] { return impl_->durable_total >= target; });
}

Trail::Stats Trail::stats() const {
  std::lock_guard lock(impl_->mu);
  Stats s = impl_->stats;
  s.pending_records = impl_->reserved + impl_->queue.size() + impl_->in_flight;
  s.pending_bytes = impl_->queue.bytes() + impl_->in_flight_bytes;
  return s;
}

const std::string& Trail::chain_uid() const { return impl_->chain_uid; }
const std::string& Trail::key_id() const { return impl_->key_id; }
std::string Trail::public_jwk() const { return impl_->key.public_jwk_json(); }
const std::string& Trail::store_path() const { return impl_->options.store_path; }

}  // namespace ztgate::audit
