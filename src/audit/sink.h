// Sinks: where the trail ships records besides the store (JSON Lines files,
// syslog for SIEMs, webhooks). A sink never sits on the request path: a
// SinkRunner thread per sink reads committed records from the store after
// the sink's cursor, delivers them in order, then advances the cursor in
// the store. A slow or dead sink falls behind and catches up later; it
// never blocks requests and never loses a committed record (delivery is
// at-least-once: after a crash between delivery and cursor update the last
// batch is sent again; receivers dedupe on attestation.uid, the seq).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "audit/store.h"
#include "common/result.h"

namespace ztgate::audit {

class Sink {
 public:
  virtual ~Sink() = default;
  // Stable and unique per configured sink: the cursor's key, e.g. "syslog:siem".
  virtual const std::string& name() const = 0;
  // Delivers a batch (ascending seqs, never empty), on the runner's thread
  // only. Ok = every record delivered; an error means the runner retries the
  // same batch after a backoff (some records may then arrive twice). Must
  // return within the sink's own timeouts. The error's message names no
  // record content and no credential: the runner logs it.
  virtual Status deliver(const std::vector<StoredRecord>& batch) = 0;
  // After a failed deliver(): how long the receiver asked us to wait before
  // retrying (an HTTP Retry-After); zero = the runner's own backoff.
  virtual std::chrono::milliseconds retry_after() const { return std::chrono::milliseconds{0}; }
};

}  // namespace ztgate::audit
