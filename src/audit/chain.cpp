#include "audit/chain.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <charconv>

namespace ztgate::audit {
namespace {

constexpr std::string_view kFingerprintMember = ",\"fingerprint\":{\"algorithm_id\":3,\"algorithm\":\"SHA-256\",\"value\":\"";
// What follows the 64 hex digits: closes value, fingerprint, attestation, event.
constexpr std::string_view kTail = "\"}}}";

Error malformed(std::string message) { return Error{"audit_record_malformed", std::move(message)}; }

void append_json_string(std::string& out, std::string_view s) {
  // Chain ids and key ids are ours (hex, base64url): nothing to escape, but
  // stay safe for any input.
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  out += '"';
}

std::optional<uint64_t> parse_seq(const boost::json::value* v) {
  if (v == nullptr || !v->is_string()) return std::nullopt;
  const auto& s = v->get_string();
  uint64_t out = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  return out;
}

// Lowercase hex of a digest, straight into `out` (no temporary string).
void append_hex(std::string& out, const Digest& d) {
  static constexpr char kDigits[] = "0123456789abcdef";
  size_t at = out.size();
  out.resize(at + 2 * d.size());
  for (size_t i = 0; i < d.size(); ++i) {
    out[at + 2 * i] = kDigits[d[i] >> 4];
    out[at + 2 * i + 1] = kDigits[d[i] & 15];
  }
}

}  // namespace

size_t sealed_overhead(std::string_view chain_uid, std::string_view authority_uid) {
  // The attestation's literals (216 bytes), two fingerprints, two sequence
  // numbers, the ids (escaping can at most double them).
  return 256 + 2 * 64 + 2 * 20 + 2 * (chain_uid.size() + authority_uid.size());
}

Digest seal_into(std::string& t, std::string_view event_json, uint64_t seq, const Digest& prev,
                 std::string_view chain_uid, std::string_view authority_uid) {
  size_t start = t.size();
  // The event object minus its closing brace.
  std::string_view body = event_json;
  while (!body.empty() && (body.back() == '}' || body.back() == ' ' || body.back() == '\n')) {
    bool brace = body.back() == '}';
    body.remove_suffix(1);
    if (brace) break;
  }
  t.append(body);
  bool empty_object = body.find_first_not_of(" \n\t{") == std::string_view::npos;
  if (!empty_object) t += ',';
  t += "\"attestation\":{\"uid\":\"";
  t += std::to_string(seq);
  t += "\",\"chain_uid\":";
  append_json_string(t, chain_uid);
  t += ",\"authority_uid\":";
  append_json_string(t, authority_uid);
  if (seq > 1) {
    t += ",\"prev_event\":{\"uid\":\"";
    t += std::to_string(seq - 1);
    t += "\",\"fingerprint\":{\"algorithm_id\":3,\"algorithm\":\"SHA-256\",\"value\":\"";
    append_hex(t, prev);
    t += "\"}}";
  }
  size_t cut = t.size();
  t += "}}";  // the canonical form closes here
  Digest fingerprint = sha256(std::string_view(t).substr(start));
  t.resize(cut);
  t += kFingerprintMember;
  append_hex(t, fingerprint);
  t += kTail;
  return fingerprint;
}

Sealed seal(std::string_view event_json, uint64_t seq, const Digest& prev, std::string_view chain_uid,
            std::string_view authority_uid) {
  Sealed out;
  // Room for the whole record (no reallocation).
  out.text.reserve(event_json.size() + sealed_overhead(chain_uid, authority_uid));
  out.fingerprint = seal_into(out.text, event_json, seq, prev, chain_uid, authority_uid);
  return out;
}

std::optional<Digest> stored_fingerprint(std::string_view text) {
  if (text.size() < 64 + kTail.size()) return std::nullopt;
  return digest_from_hex(text.substr(text.size() - kTail.size() - 64, 64));
}

Result<Unsealed> unseal(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.size() < kFingerprintMember.size() + 64 + kTail.size()) return malformed("too short to be a sealed record");
  size_t tail_at = text.size() - kTail.size();
  size_t hex_at = tail_at - 64;
  size_t member_at = hex_at - kFingerprintMember.size();
  if (text.substr(tail_at) != kTail || text.substr(member_at, kFingerprintMember.size()) != kFingerprintMember)
    return malformed("the record does not end with its attestation fingerprint");
  auto stored = digest_from_hex(text.substr(hex_at, 64));
  if (!stored) return malformed("the fingerprint is not 64 hex digits");

  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(text, ec);
  if (ec || !doc.is_object()) return malformed("the record is not a JSON object");
  const auto* att = doc.as_object().if_contains("attestation");
  if (att == nullptr || !att->is_object()) return malformed("no attestation object");
  const auto& a = att->as_object();
  Unsealed u;
  auto seq = parse_seq(a.if_contains("uid"));
  if (!seq || *seq == 0) return malformed("attestation.uid is not a sequence number");
  u.seq = *seq;
  if (const auto* c = a.if_contains("chain_uid"); c && c->is_string()) u.chain_uid = std::string(c->get_string());
  if (const auto* c = a.if_contains("authority_uid"); c && c->is_string()) u.authority_uid = std::string(c->get_string());
  if (const auto* p = a.if_contains("prev_event")) {
    if (!p->is_object()) return malformed("attestation.prev_event is not an object");
    u.prev_seq = parse_seq(p->as_object().if_contains("uid"));
    if (!u.prev_seq) return malformed("attestation.prev_event.uid is not a sequence number");
    const auto* fp = p->as_object().if_contains("fingerprint");
    const boost::json::value* value = fp && fp->is_object() ? fp->as_object().if_contains("value") : nullptr;
    if (value == nullptr || !value->is_string()) return malformed("attestation.prev_event has no fingerprint value");
    u.prev = digest_from_hex(value->get_string());
    if (!u.prev) return malformed("attestation.prev_event's fingerprint is not 64 hex digits");
  }
  u.fingerprint = *stored;
  std::string canonical;
  canonical.reserve(member_at + 2);
  canonical.append(text.substr(0, member_at));
  canonical += "}}";
  u.fingerprint_ok = sha256(canonical) == *stored;
  return u;
}

}  // namespace ztgate::audit
