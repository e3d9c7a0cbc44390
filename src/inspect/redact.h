// Redaction of DLP findings: what replaces each found value, chosen per kind
// or category by policy.
//
// Modes:
//   mask          "[REDACTED:<kind>]"
//   partial       the last 4 letters/digits stay, the others become '*',
//                 separators stay: "**** **** **** 1111"; emails keep their
//                 first character and domain: "j***@example.com". Values of
//                 at most 8 letters/digits are masked instead.
//   hash          "[<kind>:" + the first 12 hex digits of
//                 HMAC-SHA256(keys.hash_key, value) + "]": equal values stay
//                 equal (joins, counting) without being readable.
//   drop          removed.
//   pseudonymize  a reversible token stored in a PseudonymVault (see
//                 pseudonym_vault.h): "⟦EMAIL_7f3a9c2e⟧". Without a vault,
//                 masked.
//   keep          left as is (e.g. IP addresses on an internal route).
//   block         masked here; blocks() says the exchange (or stream) must
//                 end: canaries and private keys, typically.
// The policy picks by kind first, then category, then the fallback.
// Findings must come from DlpScanner::scan() of the same text (sorted,
// disjoint); a span out of range or overlapping the previous one is clipped,
// never skipped.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/dlp.h"

namespace ztgate::inspect {

class PseudonymVault;

enum class RedactMode : uint8_t { mask, partial, hash, drop, pseudonymize, keep, block };

// "mask", ... and back (false when unknown).
std::string_view redact_mode_name(RedactMode mode);
bool parse_redact_mode(std::string_view name, RedactMode& out);

struct RedactionPolicy {
  std::map<std::string, RedactMode> by_kind;      // "payment_card" -> partial
  std::map<std::string, RedactMode> by_category;  // "secret" -> mask
  RedactMode fallback = RedactMode::mask;
};

struct RedactKeys {
  std::string hash_key;       // HMAC key of `hash`
  std::string pseudonym_key;  // HMAC key of pseudonym ids
};

RedactMode mode_for(const RedactionPolicy& policy, const DlpFinding& finding);
// Whether a finding's mode is `block`.
bool blocks(const std::vector<DlpFinding>& findings, const RedactionPolicy& policy);

// `text` with every finding replaced as its mode says.
std::string redact(std::string_view text, const std::vector<DlpFinding>& findings,
                   const RedactionPolicy& policy, const RedactKeys& keys, PseudonymVault* vault);

// The replacement of one value (what redact() writes for a finding).
std::string redact_value(std::string_view value, const DlpFinding& finding, RedactMode mode,
                         const RedactKeys& keys, PseudonymVault* vault);

}  // namespace ztgate::inspect
