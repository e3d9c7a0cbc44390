// Model weight manifests: what files make up a model, and their digests,
// signed by the model's publisher with Ed25519.
//
// Format "ztgate-model-manifest/1", canonical JSON (no whitespace, members in
// exactly this order, files sorted by path as byte strings, no duplicates):
//
//   {"format":"ztgate-model-manifest/1","model":"acme/llm-8b","version":"3",
//    "created_at":"2026-11-24T02:50:00Z",
//    "files":[{"path":"config.json","size":654,"sha256":"<64 lowercase hex>"},
//             {"path":"weights/model-00001.safetensors","size":...,"sha256":...}]}
//
// A path is relative to the model directory, '/'-separated, with no empty,
// "." or ".." component, no leading '/', no backslash and no control byte.
// parse_manifest accepts any JSON spacing but nothing else: an unknown,
// missing or repeated member, a wrong type, an unsorted or duplicate path is
// refused.
//
// Signature: a compact JWS (RFC 7515) with header
// {"alg":"EdDSA","typ":"ztgate-model-manifest+jws","kid":<publisher kid>}
// whose payload is exactly serialize_manifest(m). The verifier requires the
// signed bytes to be canonical, so one manifest has one signed form.
// Checked with authn::verify_jws (alg exactly EdDSA, this typ, no "crit",
// the kid must name the publisher key) with a manifest-sized bound.
//
// Bounds: kMaxManifestFiles files, kMaxManifestBytes of canonical JSON,
// kMaxManifestPathBytes per path, kMaxManifestPathDepth components.
//
// Error codes (stable):
//   manifest_invalid      not a well-formed manifest (message says which member)
//   manifest_path_unsafe  a path breaks the rules above
//   manifest_too_large    more files or bytes than the bounds
//   manifest_signature    JWS malformed, wrong alg/typ/kid, bad signature, or
//                         a payload that is not a canonical manifest
//   manifest_key_invalid  the publisher key is not an Ed25519 public key
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "authn/jwk.h"
#include "authn/signing_key.h"
#include "common/result.h"

namespace ztgate::posture {

inline constexpr std::string_view kManifestFormat = "ztgate-model-manifest/1";
inline constexpr std::string_view kManifestTyp = "ztgate-model-manifest+jws";
inline constexpr size_t kMaxManifestFiles = 100'000;
inline constexpr size_t kMaxManifestBytes = 32u << 20;
inline constexpr size_t kMaxManifestPathBytes = 1024;
inline constexpr size_t kMaxManifestPathDepth = 64;
inline constexpr size_t kMaxManifestFieldBytes = 256;  // model, version, created_at

struct ManifestFile {
  std::string path;
  uint64_t size = 0;
  std::string sha256;  // 64 lowercase hex digits
  bool operator==(const ManifestFile&) const = default;
};

struct ModelManifest {
  std::string model;       // non-empty
  std::string version;     // may be empty
  std::string created_at;  // RFC 3339 UTC, informational
  std::vector<ManifestFile> files;  // sorted by path, unique, non-empty
  bool operator==(const ModelManifest&) const = default;
};

// manifest_path_unsafe unless `path` obeys the path rules above.
Status check_manifest_path(std::string_view path);

Result<ModelManifest> parse_manifest(std::string_view json);

// The canonical JSON text. `m` must satisfy parse_manifest's rules (sort
// files first); the output then parses back to `m`.
std::string serialize_manifest(const ModelManifest& m);

// Sorts files by path; returns manifest_invalid on a duplicate path and
// manifest_path_unsafe / manifest_too_large like parse_manifest.
Status normalize_manifest(ModelManifest& m);

// The publisher's verification key, from a JWK JSON object or a PEM
// "PUBLIC KEY". A PEM key gets its RFC 7638 thumbprint as kid.
Result<authn::Jwk> parse_publisher_key(std::string_view text);

// A compact JWS over the canonical manifest, signed with `key`.
Result<std::string> sign_manifest(const ModelManifest& m, const authn::SigningKey& key);

struct SignedManifest {
  ModelManifest manifest;
  std::string sha256;  // of the canonical manifest bytes: identifies this exact manifest
  std::string kid;     // header kid ("" when absent)
};

// Checks the signature with `publisher` (kid, when both sides have one, must
// match) and parses the payload.
Result<SignedManifest> verify_manifest_signature(std::string_view jws, const authn::Jwk& publisher);

}  // namespace ztgate::posture
