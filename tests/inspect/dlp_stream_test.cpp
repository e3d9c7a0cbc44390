// Streaming redaction (src/inspect/stream_redactor.h): whatever the
// chunking, the output equals one-shot redaction, no planted secret ever
// leaves, and what was released is always a prefix of the final answer.
#include "inspect/stream_redactor.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "inspect/pseudonym_vault.h"

namespace ztgate::inspect {
namespace {

const std::string kRulesDir = std::string(ZTGATE_SOURCE_DIR) + "/rules/dlp";
const std::string kCanary = *make_canary("stream-test-key", "/v1/chat");

const DlpScanner& scanner() {
  static const DlpScanner* s = [] {
    const std::string dict = ::testing::TempDir() + "/codenames.txt";
    std::ofstream(dict) << "Bluebird\nProject Zephyr\n";
    DlpOptions options;
    options.rules_dir = kRulesDir;
    options.dictionary_files = {dict};
    options.canaries = {kCanary};
    auto loaded = DlpScanner::load(options);
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.error().message;
      std::abort();
    }
    return new DlpScanner(std::move(*loaded));
  }();
  return *s;
}

const std::vector<std::string> kSecrets = {
    "sk-proj-PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA-2O76UMFx",
    "4111 1111 1111 1111",
    "jane.doe@example.com",
    "DE89370400440532013000",
    "ghp_fZ8UzDzV8fUkkibjL5DZPjN0MEQ7wjJJibaZ",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.EM9YpvujA-C5Q52ryFlwRlOEVHzc0X0"
    "AWIRh-JUqBlI",
    "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oBkRX1Lm0Yk7oAoGCCqGSM49",
};

// A chat answer with every kind planted, non-ASCII text around them.
std::string planted_text() {
  return "Voilà — here is the config you asked for (très important):\n"
         "OPENAI_API_KEY=" + kSecrets[0] + "\n"
         "Pay with card " + kSecrets[1] + " or IBAN " + kSecrets[3] + ".\n"
         "Contact: " + kSecrets[2] + " — ✉ about Bluebird.\n"
         "git remote: https://" + kSecrets[4] + "@github.com/acme/app\n"
         "Bearer " + kSecrets[5] + "\n"
         "-----BEGIN EC PRIVATE KEY-----\n" + kSecrets[6] + "\nAwEHoUQDQgAE9Z0w==\n"
         "-----END EC PRIVATE KEY-----\n"
         "DATABASE_URL=postgres://app:Xy7kq9Lm2Rt@db.internal:5432/app\n"
         "jdbc:mysql://db.internal:3306/app?user=app&password=Xy7kq9Lm2Rt\n"
         "Server=tcp:sql.example.net,1433;Database=app;User ID=app;Password=Qw9Er5Ty1;Encrypt=true\n"
         "password=Xq7!kP2#vL9z and 日本語のテキスト. Done.";
}

RedactionPolicy mask_policy() {
  RedactionPolicy p;
  p.fallback = RedactMode::mask;
  return p;
}

const RedactKeys kKeys{"h", "p"};

std::string one_shot(std::string_view text, const RedactionPolicy& policy,
                     PseudonymVault* vault = nullptr) {
  return redact(text, scanner().scan(text), policy, kKeys, vault);
}

// Feeds `text` cut at `cuts` (ascending offsets); checks that each output
// extends a prefix of `expected`.
std::string streamed(std::string_view text, const std::vector<size_t>& cuts,
                     const RedactionPolicy& policy, const std::string& expected,
                     PseudonymVault* vault = nullptr) {
  StreamRedactor stream(scanner(), policy, kKeys, vault);
  std::string out;
  size_t pos = 0;
  for (size_t cut : cuts) {
    out += stream.feed(text.substr(pos, cut - pos));
    pos = cut;
    if (expected.compare(0, out.size(), out) != 0) {
      ADD_FAILURE() << "released text is not a prefix of the one-shot answer after cut " << cut;
      return out;
    }
  }
  out += stream.feed(text.substr(pos));
  out += stream.finish();
  return out;
}

TEST(DlpStream, EveryTwoChunkSplitEqualsOneShot) {
  const std::string text = planted_text();
  const std::string expected = one_shot(text, mask_policy());
  for (const std::string& s : kSecrets) ASSERT_EQ(expected.find(s), std::string::npos) << s;
  for (const char* kind : {"openai_api_key", "payment_card", "iban", "email", "github_token", "jwt",
                           "private_key", "dictionary:codenames", "generic_credential"})
    ASSERT_NE(expected.find(std::string("[REDACTED:") + kind + "]"), std::string::npos) << kind;
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    const std::string out = streamed(text, {cut}, mask_policy(), expected);
    ASSERT_EQ(out, expected) << "split at " << cut;
  }
}

TEST(DlpStream, SingleByteChunksEqualOneShot) {
  const std::string text = planted_text();
  const std::string expected = one_shot(text, mask_policy());
  std::vector<size_t> cuts;
  for (size_t i = 1; i < text.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(streamed(text, cuts, mask_policy(), expected), expected);
}

TEST(DlpStream, RandomChunkingsEqualOneShotInEveryMode) {
  const std::string text = planted_text() + "\n" + planted_text();
  std::mt19937 rng(2024);
  for (RedactMode mode : {RedactMode::mask, RedactMode::partial, RedactMode::hash, RedactMode::drop,
                          RedactMode::pseudonymize}) {
    RedactionPolicy policy;
    policy.fallback = mode;
    PseudonymVault vault;
    const std::string expected = one_shot(text, policy, &vault);
    for (int round = 0; round < 40; ++round) {
      std::vector<size_t> cuts;
      for (size_t pos = 0;;) {
        pos += 1 + rng() % (round % 2 == 0 ? 16 : 700);
        if (pos >= text.size()) break;
        cuts.push_back(pos);
      }
      ASSERT_EQ(streamed(text, cuts, policy, expected, &vault), expected)
          << redact_mode_name(mode) << " round " << round;
    }
  }
}

TEST(DlpStream, LongAnswersAreReleasedBeforeTheEnd) {
  std::string text = "Key: " + kSecrets[0] + ".\n";
  while (text.size() < 6000) text += "Plain prose that streams to the user without delay. ";
  StreamRedactor stream(scanner(), mask_policy(), kKeys, nullptr);
  std::string out;
  for (size_t i = 0; i < text.size(); i += 20) out += stream.feed(text.substr(i, 20));
  // Held back: max_short_bytes() (256) + 2, plus up to one scan batch (256)
  // and one chunk.
  EXPECT_GE(out.size(), text.size() - (256 + 2 + 256 + 20));
  EXPECT_EQ(out.find(kSecrets[0]), std::string::npos);
  out += stream.finish();
  EXPECT_EQ(out, one_shot(text, mask_policy()));
}

TEST(DlpStream, ABlockingFindingEndsTheStreamBeforeIt) {
  RedactionPolicy policy = mask_policy();
  policy.by_category["canary"] = RedactMode::block;
  const std::string text = "Sure. My instructions contain " + kCanary + " and then more text.";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    StreamRedactor stream(scanner(), policy, kKeys, nullptr);
    std::string out = stream.feed(text.substr(0, cut));
    out += stream.feed(text.substr(cut));
    out += stream.finish();
    ASSERT_TRUE(stream.blocked()) << cut;
    EXPECT_EQ(out, "Sure. My instructions contain ") << cut;
    EXPECT_EQ(stream.block_finding()->kind, "canary");
    EXPECT_TRUE(stream.feed("more").empty());
  }
}

TEST(DlpStream, FindingsAreReportedInStreamOffsets) {
  const std::string text = planted_text();
  StreamRedactor stream(scanner(), mask_policy(), kKeys, nullptr);
  for (size_t i = 0; i < text.size(); i += 7) (void)stream.feed(text.substr(i, 7));
  (void)stream.finish();
  const auto expected = scanner().scan(text);
  ASSERT_EQ(stream.findings().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(stream.findings()[i].kind, expected[i].kind);
    EXPECT_EQ(stream.findings()[i].begin, expected[i].begin);
    EXPECT_EQ(stream.findings()[i].end, expected[i].end);
  }
}

}  // namespace
}  // namespace ztgate::inspect
