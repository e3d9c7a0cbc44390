#include "audit/verify.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fstream>
#include <memory>

#include "audit/chain.h"

namespace ztgate::audit {
namespace {

std::string seq_range(uint64_t first, uint64_t last) {
  return first == last ? "record " + std::to_string(first)
                       : "records " + std::to_string(first) + " to " + std::to_string(last);
}

constexpr size_t kMaxLineBytes = 16 << 20;

}  // namespace

ChainVerifier::ChainVerifier(std::string chain_uid, std::optional<CheckpointVerifier> key, ChainHead start)
    : chain_uid_(std::move(chain_uid)), key_(std::move(key)), expected_(start.seq + 1) {
  if (start.seq > 0) prev_ = start.fingerprint;
  last_checkpoint_seq_ = start.seq;
  report_.sealed_seq = start.seq;
}

void ChainVerifier::problem(std::string kind, uint64_t seq, std::string message) {
  if (report_.problems.size() >= kMaxProblems) {
    ++report_.more_problems;
    return;
  }
  report_.problems.push_back(Problem{std::move(kind), seq, std::move(message)});
}

void ChainVerifier::check_checkpoint(const Checkpoint& c, const Digest& fingerprint, bool content_ok) {
  ++report_.checkpoints;
  bool signed_ok = true;
  if (!key_) {
    signed_ok = false;
    problem("bad_signature", c.seq, "checkpoint at record " + std::to_string(c.seq) + ": no public key to verify it with");
  } else if (c.key_id != key_->key_id() || !key_->verify(c)) {
    signed_ok = false;
    problem("bad_signature", c.seq,
            "checkpoint at record " + std::to_string(c.seq) +
                (c.key_id != key_->key_id() ? ": signed by another key (" + c.key_id + "), not the audit key"
                                            : ": the signature does not verify (forged or altered checkpoint)"));
  }
  if (!chain_uid_.empty() && c.chain_uid != chain_uid_)
    problem("foreign_chain", c.seq, "checkpoint at record " + std::to_string(c.seq) + " belongs to another trail");
  if (c.head != fingerprint) {
    problem("checkpoint_mismatch", c.seq,
            "checkpoint at record " + std::to_string(c.seq) +
                " does not match the trail: the records it seals were changed since it was signed");
  } else if (signed_ok && content_ok) {
    report_.sealed_seq = std::max(report_.sealed_seq, c.seq);
  }
  last_checkpoint_seq_ = std::max(last_checkpoint_seq_, c.seq);
}

void ChainVerifier::checkpoint(const Checkpoint& c) {
  if (c.seq >= expected_) {
    pending_[c.seq] = c;
    return;
  }
  if (c.seq + 1 == expected_ && prev_) return check_checkpoint(c, *prev_, !damaged_since_checkpoint_);
  problem("checkpoint_mismatch", c.seq,
          "checkpoint at record " + std::to_string(c.seq) + " comes after later records (out of place)");
}

void ChainVerifier::record(uint64_t row_seq, std::string_view text) {
  ++report_.records;
  uint64_t position = row_seq != 0 ? row_seq : expected_;
  auto u = unseal(text);
  if (!u) {
    problem("malformed", position, "record " + std::to_string(position) + " is not a sealed record (" + u.error().message + ")");
    damaged_since_checkpoint_ = true;
    prev_.reset();
    expected_ = position + 1;
    return;
  }
  if (report_.first_seq == 0) report_.first_seq = u->seq;
  bool content_ok = u->fingerprint_ok;
  if (!u->fingerprint_ok)
    problem("altered", u->seq,
            "record " + std::to_string(u->seq) + " was changed: its content does not match its fingerprint");
  if (chain_uid_.empty()) chain_uid_ = u->chain_uid;
  if (u->chain_uid != chain_uid_) {
    content_ok = false;
    problem("foreign_chain", u->seq, "record " + std::to_string(u->seq) + " belongs to another trail (" + u->chain_uid + ")");
  }
  bool link_known = true;
  if (row_seq != 0 && u->seq != row_seq) {
    content_ok = false;
    problem("reordered", row_seq,
            "the record stored as " + std::to_string(row_seq) + " is record " + std::to_string(u->seq) +
                ": records were swapped or moved");
  } else if (u->seq > expected_) {
    problem("missing", expected_,
            seq_range(expected_, u->seq - 1) + (u->seq - expected_ == 1 ? " is" : " are") + " missing (deleted)");
    link_known = false;
  } else if (u->seq < expected_) {
    content_ok = false;
    problem("reordered", position,
            "record " + std::to_string(u->seq) + " appears where record " + std::to_string(expected_) +
                " belongs: records were swapped or moved");
  }
  // The link to the predecessor (only meaningful where we know it).
  if (link_known && prev_ && u->seq == expected_) {
    if (!u->prev || *u->prev != *prev_) {
      content_ok = false;
      problem("broken_link", u->seq,
              "record " + std::to_string(u->seq) + " does not link to record " + std::to_string(u->seq - 1) +
                  ": a record before it was replaced or removed");
    }
  }
  if (!content_ok) damaged_since_checkpoint_ = true;
  uint64_t seq = std::max(u->seq, position);
  report_.last_seq = std::max(report_.last_seq, u->seq);
  // Checkpoints sealing this record.
  for (auto it = pending_.begin(); it != pending_.end() && it->first <= u->seq;) {
    if (it->first == u->seq) check_checkpoint(it->second, u->fingerprint, !damaged_since_checkpoint_);
    else problem("missing", it->first, "record " + std::to_string(it->first) + ", sealed by a checkpoint, is missing");
    it = pending_.erase(it);
  }
  if (u->seq >= expected_ && (row_seq == 0 || u->seq == row_seq)) {
    prev_ = u->fingerprint;
    expected_ = u->seq + 1;
  } else {
    // Out of place: continue after the position, the link is unknown.
    prev_.reset();
    expected_ = std::max(expected_, seq + 1);
  }
}

VerifyReport ChainVerifier::finish() {
  for (const auto& [seq, c] : pending_) {
    problem("truncated", seq,
            "the trail ends at record " + std::to_string(expected_ - 1) + " but a checkpoint seals records up to " +
                std::to_string(seq) + ": " + seq_range(expected_, seq) + (seq >= expected_ + 1 ? " were" : " was") +
                " cut from the end");
    last_checkpoint_seq_ = std::max(last_checkpoint_seq_, seq);
  }
  pending_.clear();
  return report_;
}

namespace {

// Feeds a segment's lines (records and checkpoints; the header skipped).
Status feed_segment(ChainVerifier& v, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"audit_file", "cannot read " + path};
  std::string line;
  uint64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.size() > kMaxLineBytes) return Error{"audit_file", path + ":" + std::to_string(line_no) + ": line too long"};
    if (line.empty() || (line_no == 1 && line.rfind("{\"segment\":", 0) == 0)) continue;
    if (line.rfind("{\"checkpoint\":", 0) == 0) {
      auto c = parse_checkpoint_line(line);
      if (!c) return Error{"audit_file", path + ":" + std::to_string(line_no) + ": " + c.error().message};
      v.checkpoint(*c);
    } else {
      v.record(0, line);
    }
  }
  return Ok{};
}

void merge(VerifyReport& into, VerifyReport part) {
  into.records += part.records;
  if (into.first_seq == 0) into.first_seq = part.first_seq;
  into.last_seq = std::max(into.last_seq, part.last_seq);
  into.checkpoints += part.checkpoints;
  into.sealed_seq = std::max(into.sealed_seq, part.sealed_seq);
  for (auto& p : part.problems) {
    if (into.problems.size() < kMaxProblems) into.problems.push_back(std::move(p));
    else ++into.more_problems;
  }
  into.more_problems += part.more_problems;
}

}  // namespace

// One chain from genesis: the archive segments in order (their records and
// checkpoints), then the records in the store. A missing or altered segment
// is named, and the chain resumes after it from the fingerprint the store
// kept for its last record.
Result<VerifyReport> verify_store(AuditStore& store, const std::optional<CheckpointVerifier>& key) {
  auto anchor = store.anchor();
  if (!anchor) return anchor.error();
  auto archives = store.archives();
  if (!archives) return archives.error();
  VerifyReport total;
  auto v = std::make_unique<ChainVerifier>(store.chain_uid(), key, ChainHead{});
  if (!archives->empty() && archives->front().first_seq > 1)
    v = std::make_unique<ChainVerifier>(store.chain_uid(), key, ChainHead{archives->front().first_seq - 1, {}});
  if (archives->empty() && anchor->seq > 0) v = std::make_unique<ChainVerifier>(store.chain_uid(), key, *anchor);
  for (const auto& a : *archives) {
    std::string problem_kind, what;
    std::ifstream in(a.path, std::ios::binary);
    if (!in) {
      problem_kind = "archive_missing";
      what = ") is missing: those records cannot be verified";
    } else {
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (to_hex(sha256(bytes)) != a.file_sha256) {
        problem_kind = "archive_altered";
        what = ") was changed since it was written";
      }
    }
    if (problem_kind.empty()) {
      if (auto st = feed_segment(*v, a.path); !st) return st.error();
      continue;
    }
    merge(total, v->finish());
    total.problems.push_back(Problem{problem_kind, a.first_seq, "the archive of " + seq_range(a.first_seq, a.last_seq) +
                                                                    " (" + a.path + what});
    v = std::make_unique<ChainVerifier>(store.chain_uid(), key, ChainHead{a.last_seq, a.last_fingerprint});
  }
  auto checkpoints = store.checkpoints(anchor->seq + 1);
  if (!checkpoints) return checkpoints.error();
  for (const auto& c : *checkpoints) v->checkpoint(c);
  uint64_t after = anchor->seq;
  while (true) {
    auto batch = store.read_after(after, 2000);
    if (!batch) return batch.error();
    if (batch->empty()) break;
    for (const auto& r : *batch) v->record(r.seq, r.text);
    after = batch->back().seq;
  }
  merge(total, v->finish());
  // The search index (version 3) is outside the chain: compared with the records.
  auto index = store.check_index(kMaxProblems);
  if (!index) return index.error();
  VerifyReport index_report;
  for (auto& p : *index) index_report.problems.push_back(Problem{"index_mismatch", p.seq, std::move(p.message)});
  merge(total, std::move(index_report));
  return total;
}

Result<VerifyReport> verify_file(const std::string& path, const std::optional<CheckpointVerifier>& key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"audit_file", "cannot read " + path};
  std::string line;
  std::optional<ChainVerifier> v;
  ChainHead start;
  std::string chain;
  uint64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.size() > kMaxLineBytes) return Error{"audit_file", path + ":" + std::to_string(line_no) + ": line too long"};
    if (line.empty()) continue;
    if (line_no == 1 && line.rfind("{\"segment\":", 0) == 0) {
      boost::system::error_code ec;
      auto doc = boost::json::parse(line, ec);
      const boost::json::object* seg = nullptr;
      if (!ec && doc.is_object()) {
        if (const auto* s = doc.as_object().if_contains("segment"); s && s->is_object()) seg = &s->as_object();
      }
      if (seg == nullptr) return Error{"audit_file", path + ":1: malformed segment header"};
      if (const auto* c = seg->if_contains("chain_uid"); c && c->is_string()) chain = std::string(c->get_string());
      const auto* first = seg->if_contains("first_seq");
      if (first && first->is_int64() && first->get_int64() > 1) {
        start.seq = static_cast<uint64_t>(first->get_int64()) - 1;
        const auto* prev = seg->if_contains("prev");
        auto d = prev && prev->is_string() ? digest_from_hex(prev->get_string()) : std::nullopt;
        if (!d) return Error{"audit_file", path + ":1: the segment header has no valid prev fingerprint"};
        start.fingerprint = *d;
      }
      continue;
    }
    if (!v) v.emplace(chain, key, start);
    if (line.rfind("{\"checkpoint\":", 0) == 0) {
      auto c = parse_checkpoint_line(line);
      if (!c) return Error{"audit_file", path + ":" + std::to_string(line_no) + ": " + c.error().message};
      v->checkpoint(*c);
    } else {
      v->record(0, line);
    }
  }
  if (!v) v.emplace(chain, key, start);
  return v->finish();
}

}  // namespace ztgate::audit
