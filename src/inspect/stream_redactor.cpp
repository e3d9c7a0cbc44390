// StreamRedactor: hold-back and release of streamed text (see stream_redactor.h).
#include "inspect/stream_redactor.h"

#include <algorithm>

#include "inspect/internal/dlp_impl.h"

namespace ztgate::inspect {
namespace {

constexpr size_t kScanBatch = 256;        // new bytes between two scans of a stream
constexpr size_t kContextSlack = 8;       // released bytes kept beyond the left context
constexpr size_t kMinMaxPending = 64 << 10;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool caseless_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lower(x) == lower(y);
         });
}

// The first position >= from in `text` where `marker` starts, or where a
// prefix of it ends the text; text.size() when none.
size_t first_marker(std::string_view text, size_t from, std::string_view marker) {
  for (size_t p = from; p < text.size(); ++p) {
    const size_t n = std::min(marker.size(), text.size() - p);
    if (caseless_equal(text.substr(p, n), marker.substr(0, n))) return p;
  }
  return text.size();
}

}  // namespace

StreamRedactor::StreamRedactor(const DlpScanner& scanner, RedactionPolicy policy, RedactKeys keys,
                               PseudonymVault* vault)
    : scanner_(&scanner), policy_(std::move(policy)), keys_(std::move(keys)), vault_(vault) {
  max_pending_ = std::max(kMinMaxPending, 8 * scanner.max_secret_bytes());
}

std::string StreamRedactor::feed(std::string_view chunk) {
  if (blocked()) return "";
  buffer_.append(chunk);
  const size_t end = base_ + buffer_.size();
  if (end < next_scan_) return "";
  return release(false);
}

std::string StreamRedactor::finish() {
  if (blocked()) return "";
  std::string out = release(true);
  buffer_.clear();
  base_ = released_;
  return out;
}

std::string StreamRedactor::release(bool final) {
  const DlpScanner::Impl& impl = *scanner_->impl_;
  const size_t end = base_ + buffer_.size();
  const size_t hold = impl.max_short + 2;
  if (!final && end < released_ + hold) {
    next_scan_ = released_ + hold + kScanBatch;
    return "";
  }
  DlpWindowScan scan =
      scan_dlp_window(impl, buffer_, released_ - base_, impl.max_findings, !final);
  size_t cut = end;  // stream offsets from here on
  if (!final) {
    cut = end - hold;
    for (const DlpScanner::LongRule& rule : impl.long_rules) {
      const size_t from = std::max(released_, end - std::min(end, rule.max_bytes + 2)) - base_;
      cut = std::min(cut, base_ + first_marker(buffer_, from, rule.marker));
    }
    for (const DlpFinding& f : scan.findings) scan.decisive.push_back({f.begin, f.end});
    // Move the cut to the start of any span it falls inside, until none.
    std::sort(scan.decisive.begin(), scan.decisive.end(),
              [](const DlpSpan& a, const DlpSpan& b) { return a.end > b.end; });
    for (bool moved = true; moved;) {
      moved = false;
      for (const DlpSpan& s : scan.decisive) {
        if (base_ + s.begin < cut && cut < base_ + s.end) {
          cut = base_ + s.begin;
          moved = true;
        }
      }
    }
    while (cut > released_ && (static_cast<unsigned char>(buffer_[cut - base_]) & 0xC0) == 0x80)
      --cut;
    cut = std::max(cut, released_);
    next_scan_ = end + kScanBatch;
  }
  std::string out = emit(cut, scan.findings);
  if (!blocked() && !final && end - released_ > max_pending_) {
    block_ = DlpFinding{"dlp_stream_overflow", "secret", released_, end, "dlp_stream_overflow"};
  }
  // Keep what later scans need as context; drop the rest.
  const size_t keep_from = released_ - std::min(released_ - base_, impl.max_left + kContextSlack);
  buffer_.erase(0, keep_from - base_);
  base_ = keep_from;
  return out;
}

std::string StreamRedactor::emit(size_t cut, const std::vector<DlpFinding>& window_findings) {
  std::vector<DlpFinding> mine;  // buffer offsets, relative to released_
  const size_t from = released_ - base_;
  size_t stop = cut - base_;
  for (const DlpFinding& f : window_findings) {
    if (f.end > stop) break;
    if (mode_for(policy_, f) == RedactMode::block) {
      block_ = f;
      block_->begin += base_;
      block_->end += base_;
      stop = f.begin;
      break;
    }
    DlpFinding shifted = f;
    shifted.begin -= from;
    shifted.end -= from;
    mine.push_back(shifted);
  }
  std::string out = redact(std::string_view(buffer_).substr(from, stop - from), mine, policy_,
                           keys_, vault_);
  for (DlpFinding& f : mine) {
    if (findings_.size() >= kMaxStreamFindings) break;
    f.begin += released_;
    f.end += released_;
    findings_.push_back(std::move(f));
  }
  released_ = base_ + stop;
  return out;
}

}  // namespace ztgate::inspect
