// Sealing events into the hash chain, and reading sealed records back.
//
// A sealed record is the event's JSON object with one member appended last,
// the OCSF record_integrity profile's `attestation`:
//
//   {...event...,"attestation":{"uid":"<seq>","chain_uid":"<chain>",
//     "authority_uid":"<key id>","prev_event":{"uid":"<seq-1>","fingerprint":
//     {"algorithm_id":3,"algorithm":"SHA-256","value":"<hex>"}},
//     "fingerprint":{"algorithm_id":3,"algorithm":"SHA-256","value":"<hex>"}}}
//
// The canonical serialization that the fingerprint covers is the sealed
// text without the attestation's `fingerprint` member (so it includes the
// sequence number, the chain id and the predecessor's fingerprint):
// fingerprint = SHA-256(text up to `,"fingerprint":` + "}}"). The first
// record of a chain (seq 1) has no prev_event. Records are compared as
// stored bytes: nothing re-serializes them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "audit/digest.h"
#include "common/result.h"

namespace ztgate::audit {

struct Sealed {
  std::string text;    // the record as stored and shipped
  Digest fingerprint;  // the chain head after this record
};

// `event_json` is an object without an "attestation" member. `prev` is the
// fingerprint of record seq-1 (ignored for seq 1).
Sealed seal(std::string_view event_json, uint64_t seq, const Digest& prev, std::string_view chain_uid,
            std::string_view authority_uid);

// The same record appended to `out` (the trail seals a whole group into one
// reused buffer: no allocation per record); returns its fingerprint.
Digest seal_into(std::string& out, std::string_view event_json, uint64_t seq, const Digest& prev,
                 std::string_view chain_uid, std::string_view authority_uid);

// The bytes seal_into() appends at most beyond the event's own.
size_t sealed_overhead(std::string_view chain_uid, std::string_view authority_uid);

// A sealed record read back. `fingerprint_ok` says whether the stored
// fingerprint matches the recomputed one (false = the text was changed).
struct Unsealed {
  uint64_t seq = 0;
  std::optional<uint64_t> prev_seq;
  std::optional<Digest> prev;  // absent on a genesis record
  Digest fingerprint{};        // as stored
  bool fingerprint_ok = false;
  std::string chain_uid;
  std::string authority_uid;
};

// Error code "audit_record_malformed" when the text is not a sealed record
// (bad JSON, no attestation last, bad hex).
Result<Unsealed> unseal(std::string_view text);

// The fingerprint a sealed record ends with, read without parsing or
// checking it (the store's own records: the chain head, an archive's end).
std::optional<Digest> stored_fingerprint(std::string_view text);

}  // namespace ztgate::audit
