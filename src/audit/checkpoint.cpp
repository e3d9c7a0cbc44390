#include "audit/checkpoint.h"

#include <openssl/evp.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "authn/jwk.h"
#include "authn/signing_key.h"

namespace ztgate::audit {
namespace {

Error malformed(std::string message) { return Error{"audit_checkpoint_malformed", std::move(message)}; }

bool plain(std::string_view s) {
  for (char c : s)
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

}  // namespace

std::string checkpoint_signed_bytes(const Checkpoint& c) {
  std::string out = "ztgate-audit-checkpoint/v1\n";
  out += c.chain_uid;
  out += '\n';
  out += std::to_string(c.seq);
  out += '\n';
  out += to_hex(c.head);
  out += '\n';
  out += std::to_string(c.time_ms);
  out += '\n';
  return out;
}

std::string checkpoint_json_line(const Checkpoint& c) {
  // chain_uid and key_id are ours (hex / base64url): checked, never escaped.
  std::string out = "{\"checkpoint\":{\"chain_uid\":\"";
  out += plain(c.chain_uid) ? c.chain_uid : std::string("?");
  out += "\",\"seq\":" + std::to_string(c.seq);
  out += ",\"head\":\"" + to_hex(c.head);
  out += "\",\"time\":" + std::to_string(c.time_ms);
  out += ",\"key_id\":\"";
  out += plain(c.key_id) ? c.key_id : std::string("?");
  out += "\",\"signature\":\"" + to_hex(c.signature) + "\"}}";
  return out;
}

Result<Checkpoint> parse_checkpoint_line(std::string_view line) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(line, ec);
  if (ec || !doc.is_object()) return malformed("not a JSON object");
  const auto* cp = doc.as_object().if_contains("checkpoint");
  if (cp == nullptr || !cp->is_object()) return malformed("no checkpoint object");
  const auto& o = cp->as_object();
  auto str = [&](const char* k) -> const boost::json::string* {
    const auto* v = o.if_contains(k);
    return v && v->is_string() ? &v->get_string() : nullptr;
  };
  auto num = [&](const char* k) -> std::optional<int64_t> {
    const auto* v = o.if_contains(k);
    if (v && v->is_int64()) return v->get_int64();
    if (v && v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v->get_uint64());
    return std::nullopt;
  };
  Checkpoint c;
  auto chain = str("chain_uid"), head = str("head"), key = str("key_id"), sig = str("signature");
  auto seq = num("seq"), time = num("time");
  if (!chain || !head || !key || !sig || !seq || !time || *seq <= 0) return malformed("a member is missing or of the wrong type");
  c.chain_uid = std::string(*chain);
  c.key_id = std::string(*key);
  c.seq = static_cast<uint64_t>(*seq);
  c.time_ms = *time;
  auto h = digest_from_hex(*head);
  auto s = bytes_from_hex(*sig);
  if (!h || !s) return malformed("head or signature is not hex");
  c.head = *h;
  c.signature = std::move(*s);
  return c;
}

Result<CheckpointVerifier> CheckpointVerifier::from_jwk(std::string_view jwk_json) {
  auto jwk = authn::parse_jwk(jwk_json);
  if (!jwk) return Error{"audit_key_invalid", jwk.error().message};
  if (jwk->curve != authn::KeyCurve::kEd25519) return Error{"audit_key_invalid", "the audit key must be Ed25519"};
  CheckpointVerifier v;
  EVP_PKEY* raw = jwk->key.release();
  v.key_ = std::shared_ptr<void>(raw, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
  v.key_id_ = jwk->kid;
  return v;
}

bool CheckpointVerifier::verify(const Checkpoint& c) const {
  if (c.signature.size() != 64 || !key_) return false;
  std::string bytes = checkpoint_signed_bytes(c);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr &&
            EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, static_cast<EVP_PKEY*>(key_.get())) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(c.signature.data()), c.signature.size(),
                             reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

Result<Checkpoint> sign_checkpoint(const authn::SigningKey& key, std::string chain_uid, uint64_t seq, const Digest& head,
                                   int64_t time_ms) {
  Checkpoint c;
  c.chain_uid = std::move(chain_uid);
  c.seq = seq;
  c.head = head;
  c.time_ms = time_ms;
  c.key_id = key.kid();
  auto sig = key.sign(checkpoint_signed_bytes(c));
  if (!sig) return sig.error();
  c.signature = std::move(*sig);
  return c;
}

}  // namespace ztgate::audit
