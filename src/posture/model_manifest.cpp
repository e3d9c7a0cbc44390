#include "posture/model_manifest.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <boost/json.hpp>
#include <memory>

#include "authn/base64url.h"
#include "authn/jws.h"
#include "common/json_keys.h"
#include "posture/file_digest.h"

namespace ztgate::posture {
namespace {

namespace json = boost::json;

Error invalid(std::string message) { return make_error("manifest_invalid", std::move(message)); }
Error bad_signature(std::string message) {
  return make_error("manifest_signature", std::move(message));
}

bool is_lower_hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// A bounded string member; `allow_empty` for version.
Result<std::string> text_member(const json::object& o, std::string_view key, bool allow_empty) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_string()) return invalid("\"" + std::string(key) + "\" must be a string");
  std::string_view s = v->get_string();
  if (s.empty() && !allow_empty) return invalid("\"" + std::string(key) + "\" must not be empty");
  if (s.size() > kMaxManifestFieldBytes || has_control(s))
    return invalid("\"" + std::string(key) + "\" is longer than " +
                   std::to_string(kMaxManifestFieldBytes) + " bytes or has control characters");
  return std::string(s);
}

Status check_members(const json::object& o, std::initializer_list<std::string_view> allowed,
                     std::string_view where) {
  if (o.size() != allowed.size())
    return invalid(std::string(where) + " must have exactly the members " + [&] {
      std::string names;
      for (auto a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
      return names;
    }());
  for (auto a : allowed)
    if (!o.contains(a)) return invalid(std::string(where) + " lacks \"" + std::string(a) + "\"");
  return Ok{};
}

Result<ManifestFile> parse_file_entry(const json::value& v, size_t index) {
  std::string where = "files[" + std::to_string(index) + "]";
  if (!v.is_object()) return invalid(where + " must be an object");
  const auto& o = v.get_object();
  if (auto st = check_members(o, {"path", "size", "sha256"}, where); !st) return st.error();
  ManifestFile f;
  const json::value& path = o.at("path");
  if (!path.is_string()) return invalid(where + ".path must be a string");
  f.path = std::string(path.get_string());
  if (auto st = check_manifest_path(f.path); !st) return st.error();
  const json::value& size = o.at("size");
  if (size.is_uint64()) {
    f.size = size.get_uint64();
  } else if (size.is_int64() && size.get_int64() >= 0) {
    f.size = static_cast<uint64_t>(size.get_int64());
  } else {
    return invalid(where + ".size must be a non-negative integer (" + f.path + ")");
  }
  const json::value& sha = o.at("sha256");
  if (!sha.is_string() || !is_lower_hex64(sha.get_string()))
    return invalid(where + ".sha256 must be 64 lowercase hex digits (" + f.path + ")");
  f.sha256 = std::string(sha.get_string());
  return f;
}

Status check_sorted_unique(const std::vector<ManifestFile>& files) {
  for (size_t i = 1; i < files.size(); ++i) {
    if (files[i - 1].path == files[i].path)
      return invalid("duplicate path \"" + files[i].path + "\"");
    if (files[i].path < files[i - 1].path)
      return invalid("files must be sorted by path: \"" + files[i].path + "\" after \"" +
                     files[i - 1].path + "\"");
  }
  return Ok{};
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

Result<authn::Jwk> jwk_from_pem(std::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  authn::EvpPkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return make_error("manifest_key_invalid", "not a PEM public key");
  if (!EVP_PKEY_is_a(key.get(), "ED25519"))
    return make_error("manifest_key_invalid", "the publisher key must be Ed25519");
  unsigned char raw[32];
  size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key.get(), raw, &len) != 1 || len != sizeof raw)
    return make_error("manifest_key_invalid", "cannot read the Ed25519 public key");
  std::string x = authn::base64url_encode(std::string_view(reinterpret_cast<char*>(raw), len));
  authn::Jwk jwk;
  jwk.kid = authn::ed25519_thumbprint(x);
  jwk.kty = "OKP";
  jwk.alg = "EdDSA";
  jwk.curve = authn::KeyCurve::kEd25519;
  jwk.key = std::move(key);
  return jwk;
}

}  // namespace

Status check_manifest_path(std::string_view path) {
  auto unsafe = [&](std::string_view why) {
    return make_error("manifest_path_unsafe", "unsafe path \"" + std::string(path.substr(0, 200)) +
                                                  "\": " + std::string(why));
  };
  if (path.empty()) return unsafe("empty");
  if (path.size() > kMaxManifestPathBytes) return unsafe("longer than 1024 bytes");
  if (path.front() == '/') return unsafe("absolute");
  if (path.find('\\') != std::string_view::npos) return unsafe("backslash");
  if (has_control(path)) return unsafe("control character");
  size_t depth = 0;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(start, slash - start);
    if (part.empty()) return unsafe("empty component");
    if (part == "." || part == "..") return unsafe("\".\" or \"..\" component");
    if (++depth > kMaxManifestPathDepth) return unsafe("too deep");
    start = slash + 1;
  }
  return Ok{};
}

Result<ModelManifest> parse_manifest(std::string_view text) {
  if (text.size() > kMaxManifestBytes)
    return make_error("manifest_too_large", "manifest is larger than " +
                                                std::to_string(kMaxManifestBytes) + " bytes");
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 8;  // the format nests 3 deep
  json::value v = json::parse(text, ec, {}, opts);
  if (ec) return invalid("not JSON: " + ec.message());
  if (!v.is_object()) return invalid("manifest must be a JSON object");
  // Boost.JSON keeps the last of duplicate members; a manifest that means
  // different things to different readers is refused instead.
  if (auto dup = reject_duplicate_keys(text, opts.max_depth, "manifest_invalid"); !dup)
    return dup.error();
  const auto& o = v.get_object();
  if (auto st = check_members(o, {"format", "model", "version", "created_at", "files"}, "manifest");
      !st)
    return st.error();
  const json::value& format = o.at("format");
  if (!format.is_string() || format.get_string() != kManifestFormat)
    return invalid("\"format\" must be \"" + std::string(kManifestFormat) + "\"");
  ModelManifest m;
  auto model = text_member(o, "model", false);
  if (!model) return model.error();
  auto version = text_member(o, "version", true);
  if (!version) return version.error();
  auto created = text_member(o, "created_at", true);
  if (!created) return created.error();
  m.model = std::move(*model);
  m.version = std::move(*version);
  m.created_at = std::move(*created);
  const json::value& files = o.at("files");
  if (!files.is_array()) return invalid("\"files\" must be an array");
  const auto& arr = files.get_array();
  if (arr.empty()) return invalid("\"files\" must list at least one file");
  if (arr.size() > kMaxManifestFiles)
    return make_error("manifest_too_large",
                      "manifest lists more than " + std::to_string(kMaxManifestFiles) + " files");
  m.files.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    auto f = parse_file_entry(arr[i], i);
    if (!f) return f.error();
    m.files.push_back(std::move(*f));
  }
  if (auto st = check_sorted_unique(m.files); !st) return st.error();
  return m;
}

std::string serialize_manifest(const ModelManifest& m) {
  json::array files;
  files.reserve(m.files.size());
  for (const auto& f : m.files)
    files.push_back(json::object{{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
  // boost::json keeps insertion order, which makes this the canonical order.
  json::object o;
  o["format"] = kManifestFormat;
  o["model"] = m.model;
  o["version"] = m.version;
  o["created_at"] = m.created_at;
  o["files"] = std::move(files);
  return json::serialize(o);
}

Status normalize_manifest(ModelManifest& m) {
  if (m.files.empty()) return invalid("a manifest must list at least one file");
  if (m.files.size() > kMaxManifestFiles)
    return make_error("manifest_too_large",
                      "more than " + std::to_string(kMaxManifestFiles) + " files");
  for (const auto& f : m.files)
    if (auto st = check_manifest_path(f.path); !st) return st;
  std::sort(m.files.begin(), m.files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
  return check_sorted_unique(m.files);
}

Result<authn::Jwk> parse_publisher_key(std::string_view text) {
  if (text.size() > 64 * 1024) return make_error("manifest_key_invalid", "key file is too large");
  std::string_view trimmed = text.substr(std::min(text.find_first_not_of(" \t\r\n"), text.size()));
  if (trimmed.starts_with("-----BEGIN")) return jwk_from_pem(trimmed);
  auto jwk = authn::parse_jwk(text);
  if (!jwk) return make_error("manifest_key_invalid", "publisher key: " + jwk.error().message);
  if (jwk->curve != authn::KeyCurve::kEd25519)
    return make_error("manifest_key_invalid", "the publisher key must be Ed25519 (OKP)");
  return jwk;
}

Result<std::string> sign_manifest(const ModelManifest& m, const authn::SigningKey& key) {
  std::string canonical = serialize_manifest(m);
  if (canonical.size() > kMaxManifestBytes)
    return make_error("manifest_too_large", "manifest is larger than " +
                                                std::to_string(kMaxManifestBytes) + " bytes");
  return key.sign_compact(kManifestTyp, canonical);
}

Result<SignedManifest> verify_manifest_signature(std::string_view jws, const authn::Jwk& publisher) {
  if (publisher.curve != authn::KeyCurve::kEd25519 || !publisher.key)
    return make_error("manifest_key_invalid", "the publisher key must be Ed25519");
  while (!jws.empty() && (jws.back() == '\n' || jws.back() == '\r' || jws.back() == ' '))
    jws.remove_suffix(1);
  // The same verifier as every token, with a manifest's size bound: EdDSA
  // only, this typ, no crit, the kid (if any) must name the publisher key.
  std::vector<authn::Jwk> keys;
  authn::Jwk key;
  key.kid = publisher.kid;
  key.kty = publisher.kty;
  key.alg = publisher.alg;
  key.curve = publisher.curve;
  EVP_PKEY_up_ref(publisher.key.get());
  key.key.reset(publisher.key.get());
  keys.push_back(std::move(key));
  authn::JwsPolicy policy;
  policy.allowed_algs = {"EdDSA"};
  policy.required_typ = std::string(kManifestTyp);
  // base64url grows the payload by 4/3; the header and signature are small.
  policy.max_bytes = kMaxManifestBytes / 3 * 4 + 8192;
  auto verified = authn::verify_jws(jws, keys, policy);
  if (!verified) {
    if (verified.error().message.find("larger than") != std::string::npos)
      return make_error("manifest_too_large", "signed manifest is too large");
    return bad_signature(verified.error().code + ": " + verified.error().message);
  }
  auto m = parse_manifest(verified->payload);
  if (!m) return bad_signature("signed payload is not a manifest: " + m.error().message);
  if (serialize_manifest(*m) != verified->payload)
    return bad_signature("signed payload is not in canonical form");
  SignedManifest out;
  out.sha256 = sha256_hex(verified->payload);
  out.kid = verified->header.kid;
  out.manifest = std::move(*m);
  return out;
}

}  // namespace ztgate::posture
