#include "audit/retention.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "audit/chain.h"
#include "audit/checkpoint.h"
#include "audit/digest.h"

namespace ztgate::audit {
namespace {

Error archive_error(std::string message) { return Error{"audit_archive", std::move(message)}; }

Status write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return archive_error(std::string("write failed: ") + strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  return Ok{};
}

}  // namespace

Result<std::optional<Archive>> apply_retention(AuditStore& store, const RetentionPolicy& p, int64_t now_ms,
                                               std::string* held_back) {
  if (held_back) held_back->clear();
  if (!retention_enabled(p)) return std::optional<Archive>{};
  auto first = store.first_seq();
  if (!first) return first.error();
  if (*first == 0) return std::optional<Archive>{};
  auto count = store.count();
  if (!count) return count.error();

  // The last seq each bound wants gone.
  uint64_t target = 0;
  if (p.max_records > 0 && *count > p.max_records) target = std::max(target, *first + (*count - p.max_records) - 1);
  if (p.max_age_ms > 0) {
    auto before = store.last_seq_before(now_ms - p.max_age_ms);
    if (!before) return before.error();
    target = std::max(target, *before);
  }
  if (p.max_bytes > 0) {
    auto bytes = store.total_bytes();
    if (!bytes) return bytes.error();
    if (*bytes > p.max_bytes) {
      uint64_t excess = *bytes - p.max_bytes, dropped = 0, after = *first - 1;
      while (dropped < excess) {
        auto batch = store.read_after(after, 1000);
        if (!batch) return batch.error();
        if (batch->empty()) break;
        for (const auto& r : *batch) {
          dropped += r.text.size();
          after = r.seq;
          if (dropped >= excess) break;
        }
      }
      target = std::max(target, after);
    }
  }
  if (target < *first) return std::optional<Archive>{};
  target = std::min(target, *first + p.max_segment_records - 1);
  // Never what a sink has not delivered.
  auto cursors = store.cursors();
  if (!cursors) return cursors.error();
  for (const auto& [sink, seq] : *cursors) {
    if (seq < target) {
      if (held_back) *held_back = "sink `" + sink + "` has delivered only up to record " + std::to_string(seq);
      target = seq;
    }
  }
  // Only sealed records: end on a checkpoint.
  auto checkpoints = store.checkpoints(*first);
  if (!checkpoints) return checkpoints.error();
  uint64_t end = 0;
  for (const auto& c : *checkpoints)
    if (c.seq <= target) end = c.seq;
  if (end < *first) {
    if (held_back && held_back->empty()) *held_back = "no checkpoint seals the records due yet";
    return std::optional<Archive>{};
  }

  // Export [first, end].
  if (::mkdir(p.archive_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return archive_error("cannot create " + p.archive_dir + ": " + strerror(errno));
  Archive a;
  a.first_seq = *first;
  a.last_seq = end;
  a.time_ms = now_ms;
  a.path = p.archive_dir + "/segment-" + std::to_string(a.first_seq) + "-" + std::to_string(a.last_seq) + ".jsonl";
  auto anchor = store.anchor();
  if (!anchor) return anchor.error();
  std::string header = "{\"segment\":{\"chain_uid\":\"" + store.chain_uid() + "\",\"first_seq\":" +
                       std::to_string(a.first_seq) + ",\"last_seq\":" + std::to_string(a.last_seq);
  if (a.first_seq > 1) {
    if (anchor->seq + 1 != a.first_seq)
      return archive_error("the store's anchor (" + std::to_string(anchor->seq) + ") does not precede record " +
                           std::to_string(a.first_seq));
    header += ",\"prev\":\"" + to_hex(anchor->fingerprint) + "\"";
  }
  header += "}}\n";
  std::string tmp = a.path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return archive_error("cannot create " + tmp + ": " + strerror(errno));
  Digest last{};
  // Simple and bounded (a segment is at most max_segment_records): build
  // the whole file in memory, hash it, write it once.
  std::string out = header;
  size_t ci = 0;
  uint64_t after = a.first_seq - 1;
  bool ok = true;
  while (after < a.last_seq && ok) {
    auto batch = store.read_after(after, 1000);
    if (!batch) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return batch.error();
    }
    if (batch->empty()) break;
    for (const auto& r : *batch) {
      if (r.seq > a.last_seq) break;
      out += r.text;
      out += '\n';
      while (ci < checkpoints->size() && (*checkpoints)[ci].seq <= r.seq) {
        if ((*checkpoints)[ci].seq == r.seq) out += checkpoint_json_line((*checkpoints)[ci]) + "\n";
        ++ci;
      }
      if (auto fp = stored_fingerprint(r.text)) last = *fp;
      after = r.seq;
    }
  }
  if (after != a.last_seq) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return archive_error("records " + std::to_string(after + 1) + " to " + std::to_string(a.last_seq) +
                         " are missing from the store: run `ztgate audit verify`");
  }
  Status st = write_all(fd, out);
  if (st && ::fsync(fd) != 0) st = archive_error(std::string("fsync failed: ") + strerror(errno));
  ::close(fd);
  if (!st || ::rename(tmp.c_str(), a.path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return st ? archive_error("cannot rename " + tmp) : st.error();
  }
  if (int dfd = ::open(p.archive_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  a.last_fingerprint = last;
  a.file_sha256 = to_hex(sha256(out));
  if (auto pruned = store.prune(a); !pruned) return pruned.error();
  return std::optional<Archive>(std::move(a));
}

}  // namespace ztgate::audit
