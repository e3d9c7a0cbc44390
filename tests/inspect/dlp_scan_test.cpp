// DLP scanning (src/inspect/dlp.h, dlp_rules.h) and the shipped rule pack
// (rules/dlp/*.yaml): generated valid and checksum-invalid identifiers, the
// gates, dictionaries, canaries, overlaps and the audit form.
#include "inspect/dlp.h"

#include <gtest/gtest.h>

#include <set>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "inspect/dlp_rules.h"
#include "inspect/internal/checksums.h"

namespace ztgate::inspect {
namespace {

const std::string kRulesDir = std::string(ZTGATE_SOURCE_DIR) + "/rules/dlp";

const DlpScanner& pack() {
  static const DlpScanner* scanner = [] {
    DlpOptions options;
    options.rules_dir = kRulesDir;
    auto loaded = DlpScanner::load(options);
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.error().message;
      std::abort();
    }
    return new DlpScanner(std::move(*loaded));
  }();
  return *scanner;
}

// The kinds found in `text`, with the exact text of each span.
std::vector<std::pair<std::string, std::string>> found(const DlpScanner& s, std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const DlpFinding& f : s.scan(text))
    out.emplace_back(f.kind, std::string(text.substr(f.begin, f.end - f.begin)));
  return out;
}

bool has(const DlpScanner& s, std::string_view text, const std::string& kind,
         const std::string& value) {
  const auto f = found(s, text);
  return std::find(f.begin(), f.end(), std::make_pair(kind, value)) != f.end();
}

bool has_kind(const DlpScanner& s, std::string_view text, const std::string& kind) {
  const auto f = found(s, text);
  return std::any_of(f.begin(), f.end(), [&](const auto& p) { return p.first == kind; });
}

// --- generators ---------------------------------------------------------

std::string luhn_complete(std::string prefix, size_t length, std::mt19937& rng) {
  while (prefix.size() + 1 < length) prefix.push_back(static_cast<char>('0' + rng() % 10));
  for (char d = '0'; d <= '9'; ++d)
    if (internal::luhn(prefix + d)) return prefix + d;
  return "";
}

std::string flip_last(std::string s) {
  for (size_t i = s.size(); i-- > 0;) {
    if (s[i] >= '0' && s[i] <= '9') {
      s[i] = s[i] == '9' ? '0' : static_cast<char>(s[i] + 1);
      return s;
    }
  }
  return s;
}

// An IBAN for `country` with a BBAN of `bban_length` digits, check digits
// computed by mod-97.
std::string make_iban(const std::string& country, size_t bban_length, std::mt19937& rng) {
  std::string bban;
  for (size_t i = 0; i < bban_length; ++i) bban.push_back(static_cast<char>('0' + rng() % 10));
  std::string rearranged = bban + country + "00";
  int rem = 0;
  for (char c : rearranged) {
    if (c >= '0' && c <= '9')
      rem = (rem * 10 + (c - '0')) % 97;
    else
      rem = (rem * 100 + (c - 'A' + 10)) % 97;
  }
  const int check = 98 - rem;
  std::string out = country;
  out.push_back(static_cast<char>('0' + check / 10));
  out.push_back(static_cast<char>('0' + check % 10));
  return out + bban;
}

std::string grouped(const std::string& s, char sep) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && i % 4 == 0) out.push_back(sep);
    out.push_back(s[i]);
  }
  return out;
}

// --- the pack ------------------------------------------------------------

TEST(DlpRulePack, EveryRuleExampleHolds) {
  auto rules = load_dlp_rule_dir(kRulesDir);
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  EXPECT_GE(rules->size(), 30u);
  for (const Error& e : check_dlp_rule_examples(*rules)) ADD_FAILURE() << e.message;
}

TEST(DlpRulePack, LoadsWithBoundedHoldBack) {
  // A stream is released this far behind the model (plus up to one scan
  // batch): longer findings start with a marker the stream holds back from.
  EXPECT_LE(pack().max_short_bytes(), 256u);
  EXPECT_GE(pack().max_secret_bytes(), 8192u);  // PEM keys
  std::set<std::string> markers;
  for (const auto& rule : pack().long_rules()) markers.insert(rule.marker);
  // A group of alternatives gives one marker each (connection strings).
  for (const char* m : {"-----begin ", "eyj", "postgres", "mongodb", "ftp", "jdbc:", "server", "data source", "host"})
    EXPECT_TRUE(markers.count(m)) << m;
}

TEST(DlpPaymentCard, GeneratedValidCardsAreFoundAndFlippedOnesAreNot) {
  std::mt19937 rng(42);
  const std::vector<std::pair<std::string, size_t>> issuers = {
      {"4", 16}, {"4", 13}, {"51", 16}, {"2221", 16}, {"34", 15}, {"37", 15},
      {"6011", 16}, {"3530", 16}, {"36", 14}, {"62", 19}};
  for (const auto& [prefix, length] : issuers) {
    for (int round = 0; round < 10; ++round) {
      const std::string card = luhn_complete(prefix, length, rng);
      ASSERT_FALSE(card.empty());
      const std::string spaced = grouped(card, ' '), dashed = grouped(card, '-');
      EXPECT_TRUE(has(pack(), "pay with " + card + " now", "payment_card", card)) << card;
      EXPECT_TRUE(has(pack(), "card: " + spaced + ".", "payment_card", spaced)) << spaced;
      EXPECT_TRUE(has(pack(), dashed, "payment_card", dashed)) << dashed;
      const std::string bad = flip_last(card);
      EXPECT_FALSE(has_kind(pack(), "pay with " + bad + " now", "payment_card")) << bad;
      EXPECT_FALSE(has_kind(pack(), grouped(bad, ' '), "payment_card")) << bad;
    }
  }
}

TEST(DlpPaymentCard, UnknownIssuerOrLengthIsNotACard) {
  // Luhn-valid, but no issuer starts with 1 or 9, and Amex has 15 digits.
  std::mt19937 rng(7);
  EXPECT_FALSE(has_kind(pack(), luhn_complete("1", 16, rng), "payment_card"));
  EXPECT_FALSE(has_kind(pack(), luhn_complete("9", 16, rng), "payment_card"));
  EXPECT_FALSE(has_kind(pack(), luhn_complete("34", 16, rng), "payment_card"));
}

TEST(DlpIban, GeneratedIbansOfSeveralCountriesAreFoundAndFlippedOnesAreNot) {
  std::mt19937 rng(1);
  const std::vector<std::pair<std::string, size_t>> countries = {
      {"DE", 18}, {"GB", 18}, {"FR", 23}, {"ES", 20}, {"IT", 23}, {"NL", 14},
      {"BE", 12}, {"CH", 17}, {"AT", 16}, {"PL", 24}, {"NO", 11}, {"PT", 21}};
  for (const auto& [country, bban] : countries) {
    for (int round = 0; round < 5; ++round) {
      const std::string iban = make_iban(country, bban, rng);
      const std::string spaced = grouped(iban, ' ');
      EXPECT_TRUE(has(pack(), "IBAN " + iban + ".", "iban", iban)) << iban;
      EXPECT_TRUE(has(pack(), "to " + spaced + " thanks", "iban", spaced)) << spaced;
      EXPECT_FALSE(has_kind(pack(), "IBAN " + flip_last(iban), "iban")) << iban;
    }
  }
  // The right checksum with a wrong length for the country is no IBAN.
  EXPECT_FALSE(has_kind(pack(), make_iban("DE", 17, rng), "iban"));
}

TEST(DlpNationalIds, ChecksummedIdsAreFoundAndWrongChecksumsAreNot) {
  EXPECT_TRUE(has(pack(), "DNI 12345678Z", "es_dni", "12345678Z"));
  EXPECT_FALSE(has_kind(pack(), "DNI 12345678A", "es_dni"));
  EXPECT_TRUE(has(pack(), "NIE X1234567L", "es_dni", "X1234567L"));
  EXPECT_FALSE(has_kind(pack(), "NIE X1234567M", "es_dni"));
  EXPECT_TRUE(has(pack(), "NIR 2 69 02 99 341 732 85", "fr_nir", "2 69 02 99 341 732 85"));
  EXPECT_FALSE(has_kind(pack(), "NIR 2 69 02 99 341 732 84", "fr_nir"));
  EXPECT_TRUE(has(pack(), "Steuer-ID 86095742719", "de_steuer_id", "86095742719"));
  EXPECT_FALSE(has_kind(pack(), "Steuer-ID 86095742718", "de_steuer_id"));
  EXPECT_FALSE(has_kind(pack(), "Steuer-ID 11111111111", "de_steuer_id"));
  EXPECT_TRUE(has(pack(), "SSN 536-22-1234", "us_ssn", "536-22-1234"));
  for (const char* bad : {"000-22-1234", "666-22-1234", "936-22-1234", "536-00-1234", "536-22-0000"})
    EXPECT_FALSE(has_kind(pack(), bad, "us_ssn")) << bad;
  EXPECT_TRUE(has(pack(), "NINO AB 12 34 56 C", "uk_nino", "AB 12 34 56 C"));
  EXPECT_FALSE(has_kind(pack(), "NINO QQ 12 34 56 C", "uk_nino"));
}

TEST(DlpSecrets, ProviderKeysAreNamed) {
  const std::vector<std::pair<std::string, std::string>> keys = {
      {"openai_api_key", "sk-proj-PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA-2O76UMFx"},
      {"anthropic_api_key",
       "sk-ant-api03-I8ihN5KXSc7Tvo-hBKqFYY-kv5ZJr3J1TWDtkwtDDb_xHKas1VOqg6YYZYn9ZhyiA4uoRgnatmUdjAWt"
       "GSU8po_799NksAA"},
      {"aws_access_key_id", "AKIAGVQ6KBNXJBTFQXKW"},
      {"github_token", "ghp_fZ8UzDzV8fUkkibjL5DZPjN0MEQ7wjJJibaZ"},
      {"gitlab_token", "glpat-fm5di4PzJ59FHz5r1pY4"},
      {"slack_token", "xoxb-51361341252-4273167232686-vAmwufUxbvJDCTbyvHNsG9eh"},
      {"stripe_key", "sk_live_6Yo4gfqrc5XlrWi0B26R08qz"},
      {"google_api_key", "AIzakCiHp6bR1IqfEouHgxzNNAL5wIScGebcy8F"},
      {"sendgrid_api_key", "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"},
      {"npm_token", "npm_x7BWr2drgd1QsO7jprBGumXxY9B4bZWOz648"},
  };
  for (const auto& [kind, key] : keys) {
    EXPECT_TRUE(has(pack(), "here: " + key + "\n", kind, key)) << kind;
    // As the value of a generic keyword, the provider rule still names it.
    EXPECT_TRUE(has(pack(), "api_key=" + key, kind, key)) << kind;
  }
}

TEST(DlpSecrets, AwsSecretKeyNeedsItsKeyIdOrKeywordNearby) {
  const std::string secret = "CQCyEZDz+TddJ8HyS5SUkCnD8zRA9a9SkpXz9w3Q";
  EXPECT_TRUE(has(pack(), "AKIAGVQ6KBNXJBTFQXKW\n" + secret, "aws_secret_access_key", secret));
  EXPECT_FALSE(has_kind(pack(), "the value " + secret + " alone", "aws_secret_access_key"));
}

TEST(DlpSecrets, EntropyGateTellsPlaceholdersFromCredentials) {
  EXPECT_FALSE(has_kind(pack(), "password=aaaaaaaa", "generic_credential"));
  EXPECT_FALSE(has_kind(pack(), "password=changeme", "generic_credential"));
  EXPECT_TRUE(has(pack(), "password=Xq7!kP2#vL9z", "generic_credential", "Xq7!kP2#vL9z"));
  EXPECT_GT(shannon_entropy("Xq7!kP2#vL9z"), 3.0);
  EXPECT_EQ(shannon_entropy("aaaaaaaa"), 0.0);
}

TEST(DlpSecrets, PrivateKeySpansBeginThroughEnd) {
  const std::string key =
      "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oBkRX1Lm0Yk7oAoGCCqGSM49\n"
      "AwEHoUQDQgAE9Z0w==\n-----END EC PRIVATE KEY-----";
  EXPECT_TRUE(has(pack(), "key:\n" + key + "\nthanks", "private_key", key));
}

TEST(DlpSecrets, JwtNeedsAnAlgHeader) {
  const std::string jwt =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0"
      "IjoxNTE2MjM5MDIyfQ.EM9YpvujA-C5Q52ryFlwRlOEVHzc0X0AWIRh-JUqBlI";
  EXPECT_TRUE(has(pack(), "Bearer " + jwt, "jwt", jwt));
}

TEST(DlpSecrets, ConnectionStringFindingIsThePassword) {
  EXPECT_TRUE(has(pack(), "postgres://app:Xy7kq9Lm2Rt@db.internal:5432/app",
                  "connection_string_password", "Xy7kq9Lm2Rt@db.internal"));
}

TEST(DlpPii, EmailsPhonesAndAddresses) {
  EXPECT_TRUE(has(pack(), "mail jane.doe@example.com.", "email", "jane.doe@example.com"));
  EXPECT_TRUE(has(pack(), "call +1 415 555 2671", "phone_number", "+1 415 555 2671"));
  EXPECT_TRUE(has(pack(), "from 192.168.1.20:", "ip_address", "192.168.1.20"));
  EXPECT_TRUE(has(pack(), "from 2001:db8::1:2 ok", "ip_address", "2001:db8::1:2"));
  EXPECT_FALSE(has_kind(pack(), "version 1.2.300.4", "ip_address"));
  EXPECT_FALSE(has_kind(pack(), "invoice 20231231 total 1234.56", "phone_number"));
}

// --- dictionaries and canaries --------------------------------------------

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(DlpDictionary, TermsMatchCaselessWholeWordsOnly) {
  DlpOptions options;
  options.dictionary_files = {write_temp("codenames.txt", "# projects\nBluebird\n\nProject Zephyr\n"),
                              write_temp("customers.txt", "Acme Corp\r\n")};
  auto scanner = DlpScanner::load(options);
  ASSERT_TRUE(scanner.ok()) << scanner.error().message;
  EXPECT_TRUE(has(*scanner, "the BLUEBIRD launch", "dictionary:codenames", "BLUEBIRD"));
  EXPECT_TRUE(has(*scanner, "about project zephyr.", "dictionary:codenames", "project zephyr"));
  EXPECT_TRUE(has(*scanner, "(Acme Corp)", "dictionary:customers", "Acme Corp"));
  EXPECT_FALSE(has_kind(*scanner, "bluebirds fly", "dictionary:codenames"));
  EXPECT_FALSE(has_kind(*scanner, "xbluebird", "dictionary:codenames"));
  const auto f = scanner->scan("Bluebird");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].category, "custom");
}

TEST(DlpDictionary, BadFilesAreRefused) {
  DlpOptions options;
  options.dictionary_files = {::testing::TempDir() + "/missing-list.txt"};
  auto scanner = DlpScanner::load(options);
  ASSERT_FALSE(scanner.ok());
  EXPECT_EQ(scanner.error().code, "dlp_dictionary_invalid");
}

TEST(DlpCanary, TokensAreDeterministicPerKeyAndRoute) {
  auto a = make_canary("k1", "/v1/chat/support");
  auto b = make_canary("k1", "/v1/chat/support");
  auto c = make_canary("k1", "/v1/chat/sales");
  auto d = make_canary("k2", "/v1/chat/support");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_NE(*a, *d);
  EXPECT_EQ(a->rfind("ztgc-", 0), 0u);
  EXPECT_EQ(a->size(), 5u + 32u);
  EXPECT_FALSE(make_canary("", "r").ok());
}

TEST(DlpCanary, ConfiguredCanaryInOutputIsReported) {
  const std::string canary = *make_canary("secret", "support");
  const std::string other = *make_canary("secret", "sales");
  DlpOptions options;
  options.rules_dir = kRulesDir;
  options.canaries = {canary};
  auto scanner = DlpScanner::load(options);
  ASSERT_TRUE(scanner.ok()) << scanner.error().message;
  const std::string text = "My instructions say: " + canary + " and more";
  const auto f = scanner->scan(text);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, "canary");
  EXPECT_EQ(f[0].category, "canary");
  EXPECT_EQ(text.substr(f[0].begin, f[0].end - f[0].begin), canary);
  EXPECT_TRUE(scanner->scan("leak " + other).empty());  // not configured: not ours to claim
}

// --- overlaps, bounds, audit ------------------------------------------------

TEST(DlpResolve, OverlapsMergeAndTheSecretWins) {
  // ghp_...@github.com is also an email; the token is a secret: it names the
  // finding, and the union is covered.
  const std::string text = "https://ghp_fZ8UzDzV8fUkkibjL5DZPjN0MEQ7wjJJibaZ@github.com/x";
  const auto f = pack().scan(text);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, "github_token");
  EXPECT_EQ(text.substr(f[0].begin, f[0].end - f[0].begin),
            "ghp_fZ8UzDzV8fUkkibjL5DZPjN0MEQ7wjJJibaZ@github.com");
}

TEST(DlpResolve, FindingsAreSortedAndDisjoint) {
  const std::string text =
      "a@b.example c 4111 1111 1111 1111 d 10.0.0.1 e jane@example.org f DE89370400440532013000";
  const auto f = pack().scan(text);
  ASSERT_EQ(f.size(), 5u);
  for (size_t i = 1; i < f.size(); ++i) EXPECT_LE(f[i - 1].end, f[i].begin);
}

TEST(DlpResolve, PastMaxFindingsTheRestIsOneFailClosedFinding) {
  DlpOptions options;
  options.rules_dir = kRulesDir;
  options.max_findings = 3;
  auto scanner = DlpScanner::load(options);
  ASSERT_TRUE(scanner.ok());
  std::string text;
  for (int i = 0; i < 10; ++i) text += "user" + std::to_string(i) + "@example.com ";
  const auto f = scanner->scan(text);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[2].kind, "dlp_too_many_findings");
  EXPECT_EQ(f[2].end, text.size());
}

TEST(DlpAudit, JsonCarriesKindCategoryAndSpanButNeverTheValue) {
  const std::string text = "card 4111 1111 1111 1111";
  const std::string json = to_json(pack().scan(text));
  EXPECT_EQ(json,
            R"([{"kind":"payment_card","category":"pii","begin":5,"end":24,"rule_id":"dlp.pii.payment_card"}])");
  EXPECT_EQ(json.find("4111"), std::string::npos);
}

TEST(DlpRuleFile, StrictReaderNamesFileLineAndRule) {
  auto bad = parse_dlp_rule_file(
      "rules:\n  - id: x.y\n    kind: k\n    category: secret\n    pattern: 'a{1,3}'\n"
      "    colour: red\n    must_match: [a]\n",
      "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("t.yaml:6: rule x.y: unknown key `colour`"), std::string::npos)
      << bad.error().message;
  auto unbounded = parse_dlp_rule_file(
      "rules:\n  - id: x.y\n    kind: k\n    category: secret\n    pattern: 'a+'\n"
      "    must_match: [a]\n",
      "t.yaml");
  ASSERT_TRUE(unbounded.ok());
  auto compiled = DlpScanner::compile(std::move(*unbounded), DlpOptions{});
  ASSERT_FALSE(compiled.ok());
  EXPECT_NE(compiled.error().message.find("at most"), std::string::npos);
  auto no_validator = parse_dlp_rule_file(
      "rules:\n  - id: x.y\n    kind: k\n    category: pii\n    pattern: 'a{1,3}'\n"
      "    validator: nope\n    must_match: [a]\n",
      "t.yaml");
  ASSERT_FALSE(no_validator.ok());
  EXPECT_EQ(no_validator.error().code, "dlp_rules_invalid");
}

TEST(DlpScanner, ScansConcurrently) {
  const std::string text = "mail jane@example.com card 4111111111111111";
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i)
        if (pack().scan(text).size() != 2) ++wrong;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace ztgate::inspect
