// The keys of DLP: one secret in a file, from which the hash mode's key,
// the pseudonym key and the canary key are derived (HMAC-SHA256 of the
// secret over a fixed label each), so one file rotates them all and no
// derived key can be turned into another.
//
// The file holds 64 hex digits (32 random bytes). load_or_create_dlp_keys()
// creates it on first start (O_EXCL, 0600) and refuses a file that is
// readable by group or others, or not 64 hex digits. Every replica that
// shares the file makes the same canaries, hashes and pseudonyms.
#pragma once

#include <string>

#include "common/result.h"
#include "inspect/redact.h"

namespace ztgate::inspect {

struct DlpKeys {
  RedactKeys redact;       // hash_key, pseudonym_key
  std::string canary_key;  // make_canary()'s key
};

// Error code "dlp_key_invalid".
Result<DlpKeys> load_or_create_dlp_keys(const std::string& path);
// The derivation alone (tests).
Result<DlpKeys> derive_dlp_keys(std::string_view secret);

}  // namespace ztgate::inspect
