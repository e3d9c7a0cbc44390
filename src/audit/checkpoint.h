// Signed checkpoints: every N records or T seconds the trail signs
// (chain, sequence, chain head, time) with the gateway's Ed25519 audit key.
// A checkpoint seals every record up to `seq`: changing, deleting or
// reordering any of them changes the head; cutting the tail below `seq` is
// a truncation that verification reports.
//
// Signed bytes (UTF-8, "\n"-terminated lines):
//   ztgate-audit-checkpoint/v1
//   <chain_uid>
//   <seq>
//   <head: 64 hex digits>
//   <time_ms>
// As a JSON line (archives, `audit verify --file`):
//   {"checkpoint":{"chain_uid":..,"seq":N,"head":"<hex>","time":<ms>,
//    "key_id":"<kid>","signature":"<hex of 64 bytes>"}}
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "audit/digest.h"
#include "common/result.h"

namespace ztgate::authn {
class SigningKey;
}

namespace ztgate::audit {

struct Checkpoint {
  std::string chain_uid;
  uint64_t seq = 0;
  Digest head{};
  int64_t time_ms = 0;
  std::string key_id;
  std::string signature;  // raw 64 bytes
};

std::string checkpoint_signed_bytes(const Checkpoint& c);
std::string checkpoint_json_line(const Checkpoint& c);
// Error code "audit_checkpoint_malformed".
Result<Checkpoint> parse_checkpoint_line(std::string_view line);

// The verifying half of an audit key: a public JWK (Ed25519).
class CheckpointVerifier {
 public:
  // Error code "audit_key_invalid".
  static Result<CheckpointVerifier> from_jwk(std::string_view jwk_json);
  const std::string& key_id() const { return key_id_; }
  bool verify(const Checkpoint& c) const;

 private:
  std::shared_ptr<void> key_;  // EVP_PKEY
  std::string key_id_;
};

// Signs checkpoints with the audit key (authn::SigningKey: Ed25519, PKCS#8
// PEM, 0600, generated on first start).
Result<Checkpoint> sign_checkpoint(const authn::SigningKey& key, std::string chain_uid, uint64_t seq, const Digest& head,
                                   int64_t time_ms);

}  // namespace ztgate::audit
