// Incremental DLP for streamed output (SSE chunks): text is released only
// once no finding can still reach into it, so a secret split across chunks
// is never let out in pieces.
//
// Guarantee: for any way of cutting a text into chunks, the concatenation
// of feed() and finish() outputs equals redact(text, scanner.scan(text), ...)
// (one-shot), as long as a window stays under the scanner's bounds
// (max_findings, kMaxDlpCandidates). Tests: dlp_stream_test.cpp cuts texts
// at every boundary, into single bytes and at random.
//
// How: each feed() scans the unreleased text plus a little already-released
// context (keyword windows, \b), reporting only what starts in the
// unreleased part. It releases up to a cut point that is
//   - at least max_short_bytes() (+2) before the end of what arrived,
//   - before any begin marker of a long rule (e.g. "-----BEGIN ") seen in
//     the last max_bytes of that rule, or a marker's prefix at the very end,
//   - outside every raw match, literal hit and finding (moved to its start),
//   - on a UTF-8 character boundary.
// Nothing after the cut can change how text before it is redacted. A
// typical chat answer is released 258-514 bytes behind (the shipped pack's
// max_short_bytes is 256, a scan every kScanBatch bytes); a PEM key holds back
// from its BEGIN line until its END or 8 KiB.
//
// Blocking: when a finding whose mode is `block` (canary, private key...)
// is reached, the text before it is released, blocked() turns true and
// everything after is withheld; the caller ends the stream with an error
// event. Bounded: when more than kMaxStreamPending bytes wait (an endless
// chain of overlapping matches), the stream blocks too (fail closed).
//
// Not thread-safe (one per stream); the scanner and vault may be shared.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/dlp.h"
#include "inspect/redact.h"

namespace ztgate::inspect {

class StreamRedactor {
 public:
  StreamRedactor(const DlpScanner& scanner, RedactionPolicy policy, RedactKeys keys,
                 PseudonymVault* vault);

  // Appends `chunk`; returns the redacted text now safe to release (maybe "").
  std::string feed(std::string_view chunk);
  // The end of the stream: the rest, redacted.
  std::string finish();

  bool blocked() const { return block_.has_value(); }
  // The finding that blocked the stream (span in stream bytes), if any.
  const std::optional<DlpFinding>& block_finding() const { return block_; }
  // Every finding released so far, spans in stream bytes (at most
  // kMaxStreamFindings kept): the audit record.
  const std::vector<DlpFinding>& findings() const { return findings_; }

  static constexpr size_t kMaxStreamFindings = 1024;

 private:
  std::string release(bool final);
  std::string emit(size_t cut, const std::vector<DlpFinding>& window_findings);

  const DlpScanner* scanner_;
  RedactionPolicy policy_;
  RedactKeys keys_;
  PseudonymVault* vault_;
  std::string buffer_;    // stream bytes [base_, base_ + buffer_.size())
  size_t base_ = 0;       // stream offset of buffer_[0]
  size_t released_ = 0;   // stream offset up to which output was given
  size_t next_scan_ = 0;  // feed() scans once the stream reaches this offset
  size_t max_pending_ = 0;
  std::optional<DlpFinding> block_;
  std::vector<DlpFinding> findings_;
};

}  // namespace ztgate::inspect
