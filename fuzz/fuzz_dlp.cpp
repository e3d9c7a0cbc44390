// Fuzz target: DLP (src/inspect/dlp.h, redact.h, stream_redactor.h) on
// arbitrary text, with the shipped pack (ZTGATE_DLP_RULES_DIR, else
// rules/dlp from the working directory, else a small built-in pack), a
// dictionary and a canary. Compiled once, in LLVMFuzzerInitialize.
//
// The first byte picks a redaction mode and a chunk size; the rest is the
// text. For any text:
//   - scan() findings lie in the text, are sorted and disjoint, name a kind
//     and a known category, and are at most max_findings;
//   - to_json() of them never contains a found value of 6+ bytes (that is
//     not itself made of what the JSON holds: kinds, ids, numbers);
//   - redact() in mask mode leaves no finding's value of 6+ bytes in place
//     (unless the value occurs elsewhere in the text too);
//   - below the scan bounds (max_findings, no dlp_* finding), streaming in
//     chunks of that size gives exactly the one-shot output, and every
//     intermediate output is a prefix of it;
//   - pseudonymize then restore() gives the text back.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "inspect/dlp.h"
#include "inspect/dlp_rules.h"
#include "inspect/pseudonym_vault.h"
#include "inspect/redact.h"
#include "inspect/stream_redactor.h"
#include "property.h"

using ztgate::fuzz::require;
using namespace ztgate::inspect;

namespace {

constexpr const char* kBuiltinPack = R"(rules:
  - id: fz.card
    kind: payment_card
    category: pii
    pattern: '\b[0-9](?:[ -]?[0-9]){11,18}\b'
    validator: luhn
    must_match: ['4111 1111 1111 1111']
  - id: fz.pw
    kind: generic_credential
    category: secret
    pattern: '\b(?:password|token)\s{0,3}[:=]\s{0,3}([^\s]{8,64})'
    case_sensitive: false
    min_entropy: 3.0
    must_match: ['password=Xq7!kP2#vL9z']
  - id: fz.pem
    kind: private_key
    category: secret
    pattern: '-----BEGIN (?:[A-Z]{1,10} ){0,2}PRIVATE KEY-----'
    validator: pem_block
    max_bytes: 2048
    must_match: ["-----BEGIN PRIVATE KEY-----\nMIIB"]
)";

const DlpScanner& scanner() {
  static const std::unique_ptr<DlpScanner> s = [] {
    const std::string dict = "/tmp/fuzz_dlp_codenames.txt";
    if (FILE* f = std::fopen(dict.c_str(), "w")) {
      std::fputs("Bluebird\nProject Zephyr\n", f);
      std::fclose(f);
    }
    DlpOptions options;
    options.dictionary_files = {dict};
    options.canaries = {*make_canary("fuzz-key", "route")};
    options.max_findings = 64;
    const char* env = std::getenv("ZTGATE_DLP_RULES_DIR");
    for (const std::string& dir : {std::string(env != nullptr ? env : ""), std::string("rules/dlp")}) {
      if (dir.empty()) continue;
      options.rules_dir = dir;
      if (auto loaded = DlpScanner::load(options); loaded.ok())
        return std::make_unique<DlpScanner>(std::move(*loaded));
    }
    auto rules = parse_dlp_rule_file(kBuiltinPack, "builtin.yaml");
    require(rules.ok(), "the built-in pack parses", rules.ok() ? "" : rules.error().message);
    options.rules_dir.clear();
    auto compiled = DlpScanner::compile(std::move(*rules), options);
    require(compiled.ok(), "the built-in pack compiles",
            compiled.ok() ? "" : compiled.error().message);
    return std::make_unique<DlpScanner>(std::move(*compiled));
  }();
  return *s;
}

bool known_category(const std::string& c) {
  return c == "secret" || c == "pii" || c == "canary" || c == "custom";
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)scanner();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 16 * 1024) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const RedactMode modes[] = {RedactMode::mask, RedactMode::partial, RedactMode::hash,
                              RedactMode::drop, RedactMode::pseudonymize};
  const RedactMode mode = modes[(data[0] & 0x7) % 5];
  const size_t chunk = 1 + (data[0] >> 3) * 8;  // 1..249 bytes

  const auto findings = scanner().scan(text);
  require(findings.size() <= 64, "findings are bounded");
  size_t last_end = 0;
  for (const DlpFinding& f : findings) {
    require(f.begin < f.end && f.end <= text.size(), "a finding lies in the text", f.kind);
    require(f.begin >= last_end, "findings are sorted and disjoint", f.kind);
    require(!f.kind.empty() && known_category(f.category), "a finding names kind and category",
            f.kind + "/" + f.category);
    last_end = f.end;
  }
  const std::string json = to_json(findings);
  RedactionPolicy mask;
  const RedactKeys keys{"fuzz-hash", "fuzz-pseudo"};
  const std::string masked = redact(text, findings, mask, keys, nullptr);
  // The masks' own text may hold a short value ("EDACTED:gene" is inside
  // "[REDACTED:generic_secret]"): look for values outside them, each mask
  // replaced by a NUL (no rule's value holds one).
  std::string unmasked_parts;
  for (size_t at = 0;;) {
    const size_t open = masked.find("[REDACTED:", at);
    const size_t close = open == std::string::npos ? open : masked.find(']', open);
    if (close == std::string::npos) {
      unmasked_parts.append(masked, at, std::string::npos);
      break;
    }
    unmasked_parts.append(masked, at, open - at);
    unmasked_parts.push_back('\0');
    at = close + 1;
  }
  bool complete = findings.size() < 63;
  for (const DlpFinding& f : findings) {
    complete = complete && f.kind.rfind("dlp_", 0) != 0;
    const std::string_view value = text.substr(f.begin, f.end - f.begin);
    if (value.size() < 6) continue;
    // Kinds, categories, rule ids and numbers are all the JSON holds.
    if (value.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.:-") != std::string_view::npos)
      require(json.find(value) == std::string::npos, "the audit JSON never holds a value",
              std::string(value));
    const bool elsewhere = text.find(value) != f.begin ||
                           text.find(value, f.begin + 1) != std::string_view::npos;
    // A value with a bracket could be re-formed across "[REDACTED:..]".
    if (!elsewhere && value.find_first_of("[]") == std::string_view::npos &&
        value.find('\0') == std::string_view::npos)
      require(unmasked_parts.find(value) == std::string::npos, "masked text holds no found value",
              std::string(value));
  }
  if (!complete) return 0;  // past the scan bounds streaming may cut otherwise

  RedactionPolicy policy;
  policy.fallback = mode;
  PseudonymVault vault;
  const std::string expected = redact(text, findings, policy, keys, &vault);
  StreamRedactor stream(scanner(), policy, keys, &vault);
  std::string out;
  for (size_t pos = 0; pos < text.size(); pos += chunk) {
    out += stream.feed(text.substr(pos, chunk));
    require(expected.compare(0, out.size(), out) == 0,
            "what a stream released is a prefix of the one-shot output");
  }
  out += stream.finish();
  require(out == expected, "streaming equals one-shot redaction");
  if (mode == RedactMode::pseudonymize && text.find("\xE2\x9F\xA6") == std::string_view::npos)
    require(vault.restore(expected) == text, "restore() undoes pseudonymization");
  return 0;
}
