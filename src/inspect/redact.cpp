// redact(): replacements of DLP findings (see redact.h).
#include "inspect/redact.h"

#include <algorithm>
#include <array>

#include "inspect/internal/hmac.h"
#include "inspect/pseudonym_vault.h"

namespace ztgate::inspect {
namespace {

constexpr std::array<std::string_view, 7> kModeNames = {
    "mask", "partial", "hash", "drop", "pseudonymize", "keep", "block"};
constexpr size_t kPartialKeep = 4;
constexpr size_t kPartialMinimum = 8;  // at most this many letters/digits: mask instead

bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool utf8_lead(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0xC0; }
bool utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
// A letter or digit: ASCII ones, and every non-ASCII character (counted once).
bool hidden(char c) { return alnum(c) || utf8_lead(c); }

std::string mask(const DlpFinding& f) { return "[REDACTED:" + f.kind + "]"; }

std::string partial(std::string_view value, const DlpFinding& f) {
  if (f.kind == "email") {
    const size_t at = value.rfind('@');
    if (at != std::string_view::npos && at > 0 && alnum(value[0]))
      return std::string(1, value[0]) + "***" + std::string(value.substr(at));
    return mask(f);
  }
  const auto total = static_cast<size_t>(std::count_if(value.begin(), value.end(), hidden));
  if (total <= kPartialMinimum) return mask(f);
  std::string out;
  size_t seen = 0;
  for (char c : value) {
    if (utf8_continuation(c)) {
      if (seen > total - kPartialKeep) out.push_back(c);
      continue;
    }
    if (!hidden(c)) {
      out.push_back(c);
      continue;
    }
    ++seen;
    out.push_back(seen > total - kPartialKeep ? c : '*');
  }
  return out;
}

}  // namespace

std::string_view redact_mode_name(RedactMode mode) {
  const auto i = static_cast<size_t>(mode);
  return i < kModeNames.size() ? kModeNames[i] : std::string_view("unknown");
}

bool parse_redact_mode(std::string_view name, RedactMode& out) {
  for (size_t i = 0; i < kModeNames.size(); ++i) {
    if (kModeNames[i] == name) {
      out = static_cast<RedactMode>(i);
      return true;
    }
  }
  return false;
}

RedactMode mode_for(const RedactionPolicy& policy, const DlpFinding& finding) {
  if (auto it = policy.by_kind.find(finding.kind); it != policy.by_kind.end()) return it->second;
  if (auto it = policy.by_category.find(finding.category); it != policy.by_category.end())
    return it->second;
  return policy.fallback;
}

bool blocks(const std::vector<DlpFinding>& findings, const RedactionPolicy& policy) {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const DlpFinding& f) { return mode_for(policy, f) == RedactMode::block; });
}

std::string redact_value(std::string_view value, const DlpFinding& finding, RedactMode mode,
                         const RedactKeys& keys, PseudonymVault* vault) {
  switch (mode) {
    case RedactMode::keep:
      return std::string(value);
    case RedactMode::drop:
      return "";
    case RedactMode::partial:
      return partial(value, finding);
    case RedactMode::hash: {
      std::array<unsigned char, 32> mac{};
      if (!internal::hmac_sha256(keys.hash_key, value, mac)) return mask(finding);
      return "[" + finding.kind + ":" + internal::hex_prefix(mac, 6) + "]";
    }
    case RedactMode::pseudonymize: {
      if (vault == nullptr) return mask(finding);
      std::string token = vault->pseudonymize(finding.kind, value, keys.pseudonym_key);
      return token.empty() ? mask(finding) : token;
    }
    case RedactMode::mask:
    case RedactMode::block:
      break;
  }
  return mask(finding);
}

std::string redact(std::string_view text, const std::vector<DlpFinding>& findings,
                   const RedactionPolicy& policy, const RedactKeys& keys, PseudonymVault* vault) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const DlpFinding& f : findings) {
    // Clip, never skip: a bad span still hides what it can.
    const size_t begin = std::min(std::max(f.begin, pos), text.size());
    const size_t end = std::min(std::max(f.end, begin), text.size());
    out.append(text.substr(pos, begin - pos));
    if (end > begin)
      out += redact_value(text.substr(begin, end - begin), f, mode_for(policy, f), keys, vault);
    pos = std::max(pos, end);
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace ztgate::inspect
