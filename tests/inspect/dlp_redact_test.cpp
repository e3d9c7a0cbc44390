// Redaction modes (src/inspect/redact.h) and the pseudonym vault
// (pseudonym_vault.h).
#include "inspect/redact.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "inspect/pseudonym_vault.h"

namespace ztgate::inspect {
namespace {

DlpFinding finding(std::string kind, std::string category, size_t begin, size_t end) {
  return DlpFinding{std::move(kind), std::move(category), begin, end, "test"};
}

const RedactKeys kKeys{"hash-key", "pseudonym-key"};

std::string redact_all(std::string_view text, const std::vector<DlpFinding>& f, RedactMode mode,
                       PseudonymVault* vault = nullptr) {
  RedactionPolicy policy;
  policy.fallback = mode;
  return redact(text, f, policy, kKeys, vault);
}

TEST(Redact, MaskNamesTheKind) {
  EXPECT_EQ(redact_all("key sk-abc end", {finding("openai_api_key", "secret", 4, 10)},
                       RedactMode::mask),
            "key [REDACTED:openai_api_key] end");
}

TEST(Redact, PartialKeepsTheLastFourAndTheSeparators) {
  const std::string card = "pay 4111-1111-1111-1234 now";
  EXPECT_EQ(redact_all(card, {finding("payment_card", "pii", 4, 23)}, RedactMode::partial),
            "pay ****-****-****-1234 now");
  const std::string mail = "to jane.doe@example.com.";
  EXPECT_EQ(redact_all(mail, {finding("email", "pii", 3, 23)}, RedactMode::partial),
            "to j***@example.com.");
  // Short values are masked: four of eight characters would be half of it.
  EXPECT_EQ(redact_all("pin 12345678", {finding("pin", "pii", 4, 12)}, RedactMode::partial),
            "pin [REDACTED:pin]");
}

TEST(Redact, HashIsKeyedStableAndShort) {
  const std::string a = redact_all("x 4111111111111111", {finding("payment_card", "pii", 2, 18)},
                                   RedactMode::hash);
  const std::string b = redact_all("y 4111111111111111", {finding("payment_card", "pii", 2, 18)},
                                   RedactMode::hash);
  ASSERT_EQ(a.substr(0, 2), "x ");
  EXPECT_EQ(a.substr(2), b.substr(2));
  EXPECT_EQ(a.size(), 2 + std::string("[payment_card:").size() + 12 + 1);
  EXPECT_EQ(a.find("4111"), std::string::npos);
  RedactionPolicy policy;
  policy.fallback = RedactMode::hash;
  const std::string other_key = redact("x 4111111111111111", {finding("payment_card", "pii", 2, 18)},
                                       policy, RedactKeys{"another", ""}, nullptr);
  EXPECT_NE(a, other_key);
}

TEST(Redact, DropRemovesAndKeepLeaves) {
  EXPECT_EQ(redact_all("a SECRET b", {finding("k", "secret", 2, 8)}, RedactMode::drop), "a  b");
  EXPECT_EQ(redact_all("a 10.0.0.1 b", {finding("ip_address", "pii", 2, 10)}, RedactMode::keep),
            "a 10.0.0.1 b");
}

TEST(Redact, PolicyPicksKindThenCategoryThenFallback) {
  RedactionPolicy policy;
  policy.by_kind["email"] = RedactMode::partial;
  policy.by_category["pii"] = RedactMode::drop;
  policy.fallback = RedactMode::mask;
  EXPECT_EQ(mode_for(policy, finding("email", "pii", 0, 1)), RedactMode::partial);
  EXPECT_EQ(mode_for(policy, finding("iban", "pii", 0, 1)), RedactMode::drop);
  EXPECT_EQ(mode_for(policy, finding("jwt", "secret", 0, 1)), RedactMode::mask);
  policy.by_category["canary"] = RedactMode::block;
  EXPECT_TRUE(blocks({finding("canary", "canary", 0, 1)}, policy));
  EXPECT_FALSE(blocks({finding("jwt", "secret", 0, 1)}, policy));
}

TEST(Redact, ModeNamesRoundTrip) {
  for (RedactMode m : {RedactMode::mask, RedactMode::partial, RedactMode::hash, RedactMode::drop,
                       RedactMode::pseudonymize, RedactMode::keep, RedactMode::block}) {
    RedactMode back{};
    ASSERT_TRUE(parse_redact_mode(redact_mode_name(m), back));
    EXPECT_EQ(back, m);
  }
  RedactMode unused{};
  EXPECT_FALSE(parse_redact_mode("shred", unused));
}

TEST(Redact, BadSpansAreClippedNotSkipped) {
  EXPECT_EQ(redact_all("abcdef", {finding("k", "secret", 2, 99)}, RedactMode::drop), "ab");
  EXPECT_EQ(redact_all("abcdef", {finding("k", "secret", 1, 4), finding("k", "secret", 3, 5)},
                       RedactMode::drop),
            "af");
}

TEST(Pseudonymize, TokensRoundTripThroughTheVault) {
  PseudonymVault vault;
  const std::string text = "mail jane@example.com and jane@example.com, card 4111111111111111";
  const std::vector<DlpFinding> f = {finding("email", "pii", 5, 21), finding("email", "pii", 26, 42),
                                     finding("payment_card", "pii", 49, 65)};
  const std::string out = redact_all(text, f, RedactMode::pseudonymize, &vault);
  EXPECT_EQ(out.find("jane"), std::string::npos);
  EXPECT_EQ(out.find("4111"), std::string::npos);
  EXPECT_NE(out.find("\xE2\x9F\xA6" "EMAIL_"), std::string::npos) << out;
  EXPECT_NE(out.find("\xE2\x9F\xA6" "PAYMENT_CARD_"), std::string::npos) << out;
  EXPECT_EQ(vault.size(), 2u);  // the same value, the same token
  EXPECT_EQ(vault.restore(out), text);
  // A model answer quoting the tokens gets the values back.
  const std::string token = out.substr(5, out.find(" and") - 5);
  EXPECT_EQ(vault.restore("Sure, I wrote to " + token + "."), "Sure, I wrote to jane@example.com.");
}

TEST(Pseudonymize, UnknownOrForeignTokensStayAsTheyAre) {
  PseudonymVault mine, theirs;
  const std::string token = theirs.pseudonymize("email", "x@example.com", "k");
  EXPECT_EQ(mine.restore("see " + token), "see " + token);
  EXPECT_EQ(mine.restore("\xE2\x9F\xA6" "unterminated"), "\xE2\x9F\xA6" "unterminated");
}

TEST(Pseudonymize, AStreamRestoresATokenCutAtEveryByte) {
  PseudonymVault vault;
  const std::string token = vault.pseudonymize("email", "jane@example.com", "key");
  const std::string answer = "I wrote to " + token + " and " + token + "; \xE2\x9F\xA6open and done";
  const std::string expected = "I wrote to jane@example.com and jane@example.com; \xE2\x9F\xA6open and done";
  for (size_t a = 0; a <= answer.size(); ++a) {
    for (size_t b = a; b <= answer.size(); b += 5) {
      StreamRestorer r(vault);
      std::string out = r.feed(answer.substr(0, a));
      out += r.feed(answer.substr(a, b - a));
      out += r.feed(answer.substr(b));
      out += r.finish();
      ASSERT_EQ(out, expected) << "cuts at " << a << ", " << b;
    }
  }
  // Text with no open bracket is released at once; an open one is held
  // only as long as a token can be.
  StreamRestorer r(vault);
  EXPECT_EQ(r.feed("plain text "), "plain text ");
  EXPECT_EQ(r.feed("\xE2\x9F\xA6" "EMAIL_"), "");
  EXPECT_EQ(r.feed(std::string(StreamRestorer::kMaxHeldBytes, 'x')).size(), StreamRestorer::kMaxHeldBytes + 9);
}

TEST(Pseudonymize, WithoutAVaultTheValueIsMasked) {
  EXPECT_EQ(redact_all("a x@example.com", {finding("email", "pii", 2, 15)},
                       RedactMode::pseudonymize, nullptr),
            "a [REDACTED:email]");
}

TEST(PseudonymVault, EntriesExpireAfterTheirTtl) {
  int64_t now = 1000;
  PseudonymVault vault({100, 60, [&] { return now; }});
  const std::string token = vault.pseudonymize("email", "a@example.com", "k");
  EXPECT_EQ(vault.restore(token), "a@example.com");
  now += 59;
  EXPECT_EQ(vault.restore(token), "a@example.com");
  now += 2;
  EXPECT_EQ(vault.restore(token), token);
}

TEST(PseudonymVault, HoldsAtMostMaxEntriesEvictingTheLeastRecentlyUsed) {
  PseudonymVault vault({3, 1000000, [] { return int64_t{0}; }});
  const std::string a = vault.pseudonymize("k", "a", "key");
  const std::string b = vault.pseudonymize("k", "b", "key");
  const std::string c = vault.pseudonymize("k", "c", "key");
  EXPECT_EQ(vault.pseudonymize("k", "a", "key"), a);  // a is now the most recent
  const std::string d = vault.pseudonymize("k", "d", "key");
  EXPECT_EQ(vault.size(), 3u);
  EXPECT_EQ(vault.restore(b), b);  // evicted
  EXPECT_EQ(vault.restore(a + c + d), "acd");
}

TEST(PseudonymVault, IsThreadSafe) {
  PseudonymVault vault({64, 1000000, nullptr});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string v = std::to_string(t) + ":" + std::to_string(i);
        const std::string token = vault.pseudonymize("k", v, "key");
        (void)vault.restore(token);
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_LE(vault.size(), 64u);
}

}  // namespace
}  // namespace ztgate::inspect
