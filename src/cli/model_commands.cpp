// `ztgate model keygen|manifest|sign|verify`: model weight integrity.
//
//   ztgate model keygen --out publisher           # publisher.key.pem (0600), publisher.pub.jwk
//   ztgate model manifest DIR --model ID [--version V] [-o manifest.json]
//   ztgate model sign manifest.json --key publisher.key.pem [-o manifest.jws]
//   ztgate model verify DIR --manifest manifest.jws --publisher-key publisher.pub.jwk
//                      [--allow-extra] [--json]
//   ztgate model check --config ztgate.yaml [--json]   # every model of the registry
// Exit codes: 0 ok / verified, 2 verification failed (each problem listed),
// 1 usage or I/O error.
#include <boost/json.hpp>

#include <array>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "authn/signing_key.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "config/identity_config.h"
#include "posture/model_directory.h"
#include "posture/model_registry.h"

namespace ztgate::cli {
namespace {

using namespace ztgate::posture;

// Signed manifests are the largest input read here.
constexpr size_t kMaxInputBytes = kMaxManifestBytes / 3 * 4 + 8192;


Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("io_error", "cannot read " + path);
  std::string out(kMaxInputBytes + 1, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  if (in.bad()) return make_error("io_error", "cannot read " + path);
  out.resize(static_cast<size_t>(in.gcount()));
  if (out.size() > kMaxInputBytes) return make_error("io_error", path + " is too large");
  return out;
}

// Writes `text` to `path`, or to stdout for "" / "-".
Status write_output(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    return Ok{};
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return make_error("io_error", "cannot write " + path);
  return Ok{};
}

// When `file` lies inside `dir`, its path relative to `dir` (so a manifest
// kept beside the weights is not counted as a weight file).

std::string utc_now_rfc3339() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int run_keygen(const std::string& prefix) {
  auto key = authn::SigningKey::generate();
  if (!key) return fail(key.error(), false);
  std::string pem = prefix + ".key.pem", jwk = prefix + ".pub.jwk";
  if (auto st = key->write_pem(pem); !st) return fail(st.error(), false);
  if (auto st = write_output(jwk, key->public_jwk_json() + "\n"); !st)
    return fail(st.error(), false);
  std::cout << "wrote " << pem << " (private, mode 0600) and " << jwk << "\nkid " << key->kid()
            << "\n";
  return kExitOk;
}

struct ManifestArgs {
  std::string dir, model, version, out;
};

int run_manifest(const ManifestArgs& a) {
  DirectoryOptions options;
  options.ignore = path_inside(a.dir, a.out);
  auto m = build_manifest(a.dir, a.model, a.version, utc_now_rfc3339(), options);
  if (!m) return fail(m.error(), false);
  if (auto st = write_output(a.out, serialize_manifest(*m) + "\n"); !st)
    return fail(st.error(), false);
  if (!a.out.empty() && a.out != "-")
    std::cerr << "wrote " << a.out << ": " << m->files.size() << " files\n";
  return kExitOk;
}

int run_sign(const std::string& manifest_path, const std::string& key_path, const std::string& out) {
  auto text = read_file(manifest_path);
  if (!text) return fail(text.error(), false);
  auto m = parse_manifest(*text);
  if (!m) return fail(make_error(m.error().code, manifest_path + ": " + m.error().message), false);
  auto key = authn::SigningKey::load(key_path);
  if (!key) return fail(key.error(), false);
  auto jws = sign_manifest(*m, *key);
  if (!jws) return fail(jws.error(), false);
  if (auto st = write_output(out, *jws + "\n"); !st) return fail(st.error(), false);
  if (!out.empty() && out != "-")
    std::cerr << "signed " << m->model << " (" << m->files.size() << " files) with key "
              << key->kid() << " into " << out << "\n";
  return kExitOk;
}

struct VerifyArgs {
  std::string dir, manifest, publisher_key;
  bool allow_extra = false, json = false;
};

// A bad signature or a malformed manifest is a failed verification, not a
// usage error: the operator gave us everything, and it does not check out.
bool is_verification_failure(const Error& e) {
  return e.code == "manifest_signature" || e.code == "manifest_invalid" ||
         e.code == "manifest_path_unsafe" || e.code == "manifest_too_large";
}

std::string model_name(const ModelManifest& m) {
  return m.version.empty() ? m.model : m.model + " version " + m.version;
}

int run_verify(const VerifyArgs& a) {
  auto key_text = read_file(a.publisher_key);
  if (!key_text) return fail(key_text.error(), a.json);
  auto key = parse_publisher_key(*key_text);
  if (!key) return fail(key.error(), a.json);
  auto jws = read_file(a.manifest);
  if (!jws) return fail(jws.error(), a.json);
  DirectoryOptions options;
  options.allow_extra = a.allow_extra;
  options.ignore = path_inside(a.dir, a.manifest);
  auto v = verify_model(a.dir, *jws, *key, options);
  if (!v) {
    const Error& e = v.error();
    if (!is_verification_failure(e)) return fail(e, a.json);
    if (!a.json) std::cout << "FAILED: " << a.dir << "\n  " << e.code << ": " << e.message << "\n";
    else fail(e, true);
    return kExitRefused;
  }
  const auto& m = v->signed_manifest.manifest;
  if (a.json) {
    boost::json::array problems;
    for (const auto& p : v->report.problems)
      problems.push_back(boost::json::object{{"code", p.code}, {"path", p.path}, {"message", p.message}});
    boost::json::object out{{"verified", v->ok()},
                            {"model", m.model},
                            {"version", m.version},
                            {"manifest_sha256", v->signed_manifest.sha256},
                            {"kid", v->signed_manifest.kid},
                            {"files", m.files.size()},
                            {"bytes_hashed", v->report.bytes_hashed},
                            {"problems", std::move(problems)}};
    std::cout << boost::json::serialize(out) << "\n";
  } else if (v->ok()) {
    std::cout << "verified: " << model_name(m) << ", " << m.files.size()
              << " files, " << v->report.bytes_hashed << " bytes hashed, signed by "
              << v->signed_manifest.kid << "\n";
  } else {
    std::cout << "FAILED: " << model_name(m) << " in " << a.dir << ": "
              << v->report.problems.size() << " problem(s)\n";
    for (const auto& p : v->report.problems) std::cout << "  " << p.code << ": " << p.message << "\n";
  }
  return v->ok() ? kExitOk : kExitRefused;
}

// Verifies every model of the configured registry, as the gateway does at
// startup, and prints each model's status and its Cedar attributes.
int run_check(const std::string& config_path, bool json) {
  auto config = config::load_identity_config(config_path);
  if (!config) return fail(config.error(), json);
  if (config->models.empty())
    return fail(make_error("usage", config_path + " lists no models"), json);
  ModelRegistry registry(config->models);
  size_t verified = registry.verify_all();
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  boost::json::array out;
  for (const auto& id : registry.ids()) {
    auto st = registry.status(id);
    boost::json::object entry{{"model", id}, {"attributes", registry.entity_attributes(id, now)}};
    if (st && !st->verified) entry["failure"] = {{"code", st->failure_code}, {"message", st->failure}};
    if (!json) {
      std::cout << (st && st->verified ? "VERIFIED  " : "UNTRUSTED ") << id;
      if (st && !st->verified) std::cout << "  " << st->failure_code << ": " << st->failure;
      std::cout << "\n";
    }
    out.push_back(std::move(entry));
  }
  if (json) std::cout << boost::json::serialize(out) << "\n";
  return verified == registry.ids().size() ? kExitOk : kExitRefused;
}

}  // namespace

void add_model_commands(CLI::App& app, int& exit_code) {
  auto* model = app.add_subcommand("model", "Model weight integrity: signed manifests of weight files");
  model->require_subcommand(1);

  auto* keygen = model->add_subcommand("keygen", "Create an Ed25519 publisher key pair");
  auto prefix = std::make_shared<std::string>();
  keygen->add_option("--out", *prefix, "path prefix: writes PREFIX.key.pem and PREFIX.pub.jwk")
      ->required();
  keygen->callback([prefix, &exit_code] { exit_code = run_keygen(*prefix); });

  auto* manifest = model->add_subcommand("manifest", "Write the manifest (files, sizes, SHA-256) of a model directory");
  auto margs = std::make_shared<ManifestArgs>();
  manifest->add_option("dir", margs->dir, "model weights directory")->required();
  manifest->add_option("--model", margs->model, "model id, e.g. acme/llm-8b")->required();
  manifest->add_option("--version", margs->version, "model version");
  manifest->add_option("-o,--out", margs->out, "output file (default: stdout)");
  manifest->callback([margs, &exit_code] { exit_code = run_manifest(*margs); });

  auto* sign = model->add_subcommand("sign", "Sign a manifest with the publisher's private key");
  auto sargs = std::make_shared<std::array<std::string, 3>>();
  sign->add_option("manifest", (*sargs)[0], "manifest.json")->required();
  sign->add_option("--key", (*sargs)[1], "publisher private key (PEM, mode 0600)")->required();
  sign->add_option("-o,--out", (*sargs)[2], "output file (default: stdout)");
  sign->callback([sargs, &exit_code] { exit_code = run_sign((*sargs)[0], (*sargs)[1], (*sargs)[2]); });

  auto* verify = model->add_subcommand("verify", "Verify a model directory against its signed manifest");
  auto vargs = std::make_shared<VerifyArgs>();
  verify->add_option("dir", vargs->dir, "model weights directory")->required();
  verify->add_option("--manifest", vargs->manifest, "signed manifest (manifest.jws)")->required();
  verify->add_option("--publisher-key", vargs->publisher_key, "publisher public key (JWK or PEM)")
      ->required();
  verify->add_flag("--allow-extra", vargs->allow_extra, "tolerate files the manifest does not list");
  verify->add_flag("--json", vargs->json, "print the result as JSON");
  verify->callback([vargs, &exit_code] { exit_code = run_verify(*vargs); });

  auto* check = model->add_subcommand(
      "check", "Verify every model of the registry in ztgate.yaml (models:); exit 2 if any is untrusted");
  auto cargs = std::make_shared<std::pair<std::string, bool>>("ztgate.yaml", false);
  check->add_option("--config", cargs->first, "ztgate.yaml")->capture_default_str();
  check->add_flag("--json", cargs->second, "print JSON");
  check->callback([cargs, &exit_code] { exit_code = run_check(cargs->first, cargs->second); });
}

}  // namespace ztgate::cli
