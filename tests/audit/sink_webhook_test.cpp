// WebhookSink against an in-process HTTP receiver: NDJSON batches, bearer
// tokens from the environment or a file (never in errors), non-2xx and
// Retry-After, and the runner retrying a flaky receiver until every record
// arrived, in order.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <signal.h>

#include <ctime>
#include <fstream>

#include "../authn/test_certs.h"
#include "audit/sink_runner.h"
#include "audit/sinks/webhook_sink.h"
#include "sink_test_support.h"

namespace ztgate::audit {
namespace {

using testing::HttpReceiver;
using testing::sealed_records;

std::string ndjson(const std::vector<StoredRecord>& records) {
  std::string out;
  for (const auto& r : records) out += r.text + "\n";
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

WebhookSinkOptions plain(const std::string& url) {
  WebhookSinkOptions o;
  o.name = "webhook:soc";
  o.url = url;
  o.allow_plain_http = true;
  o.timeout = std::chrono::milliseconds(3000);
  return o;
}

TEST(WebhookSinkTest, PostsTheBatchAsNdjsonWithTheBearerTokenFromTheEnvironment) {
  HttpReceiver receiver;
  ::setenv("ZTGATE_TEST_WEBHOOK_TOKEN", "s3cr3t.t0ken", 1);
  auto o = plain(receiver.url("/ingest?tenant=a"));
  o.bearer_env = "ZTGATE_TEST_WEBHOOK_TOKEN";
  auto sink = WebhookSink::create(o);
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  auto records = sealed_records(1, 4);
  auto delivered = (*sink)->deliver(records);
  ASSERT_TRUE(delivered.ok()) << delivered.error().message;
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].head.rfind("POST /ingest?tenant=a HTTP/1.1\r\n", 0), 0u)
      << requests[0].head;
  EXPECT_NE(lower(requests[0].head).find("content-type: application/x-ndjson\r\n"),
            std::string::npos);
  EXPECT_NE(requests[0].head.find("Authorization: Bearer s3cr3t.t0ken\r\n"), std::string::npos);
  EXPECT_EQ(requests[0].body, ndjson(records));
}

TEST(WebhookSinkTest, ANon2xxAnswerFailsTheBatchAndCarriesRetryAfter) {
  HttpReceiver receiver({{503, "Retry-After: 7\r\n"}, {200, ""}});
  ::setenv("ZTGATE_TEST_WEBHOOK_TOKEN", "s3cr3t.t0ken", 1);
  auto o = plain(receiver.url("/ingest?key=querysecret"));
  o.bearer_env = "ZTGATE_TEST_WEBHOOK_TOKEN";
  auto sink = WebhookSink::create(o);
  ASSERT_TRUE(sink.ok());
  auto failed = (*sink)->deliver(sealed_records(1, 2));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, "audit_sink_http_status");
  EXPECT_NE(failed.error().message.find("503"), std::string::npos);
  EXPECT_EQ(failed.error().message.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(failed.error().message.find("querysecret"), std::string::npos);
  EXPECT_EQ((*sink)->retry_after(), std::chrono::seconds(7));
  ASSERT_TRUE((*sink)->deliver(sealed_records(1, 2)).ok());
  EXPECT_EQ((*sink)->retry_after(), std::chrono::milliseconds(0));
}

TEST(WebhookSinkTest, ARedirectIsNotFollowed) {
  HttpReceiver receiver({{307, "Location: http://127.0.0.1:1/elsewhere\r\n"}});
  auto sink = WebhookSink::create(plain(receiver.url()));
  ASSERT_TRUE(sink.ok());
  auto failed = (*sink)->deliver(sealed_records(1, 1));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, "net_redirect");
  EXPECT_EQ(receiver.requests().size(), 1u);
}

TEST(WebhookSinkTest, ReadsTheTokenFileBeforeEachPost) {
  HttpReceiver receiver;
  auto dir = testing::temp_dir("webhook-token");
  auto file = dir / "token";
  { std::ofstream(file) << "first-token\n"; }
  auto o = plain(receiver.url());
  o.bearer_file = file.string();
  auto sink = WebhookSink::create(o);
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  ASSERT_TRUE((*sink)->deliver(sealed_records(1, 1)).ok());
  { std::ofstream(file) << "second-token"; }
  ASSERT_TRUE((*sink)->deliver(sealed_records(2, 1)).ok());
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0].head.find("Authorization: Bearer first-token\r\n"), std::string::npos);
  EXPECT_NE(requests[1].head.find("Authorization: Bearer second-token\r\n"), std::string::npos);
  // A file that no longer holds a token fails the batch; the error does not echo it.
  { std::ofstream(file) << "not a token\r\nX-Injected: 1"; }
  auto failed = (*sink)->deliver(sealed_records(3, 1));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, "audit_sink_token");
  EXPECT_EQ(failed.error().message.find("Injected"), std::string::npos);
  EXPECT_EQ(receiver.requests().size(), 2u);
}

TEST(WebhookSinkTest, RefusesBadConfigurations) {
  auto o = plain("http://127.0.0.1:9/x");
  o.allow_plain_http = false;
  EXPECT_EQ(WebhookSink::create(o).error().code,
            "audit_sink_config");  // http:// needs the explicit opt-in
  o = plain("ftp://127.0.0.1/x");
  EXPECT_EQ(WebhookSink::create(o).error().code, "audit_sink_config");
  o = plain("http://127.0.0.1:9/x");
  o.bearer_env = "ZTGATE_TEST_UNSET_VARIABLE_FOR_SURE";
  ::unsetenv(o.bearer_env.c_str());
  EXPECT_EQ(WebhookSink::create(o).error().code, "audit_sink_config");
  o.bearer_file = "/nonexistent/token";
  EXPECT_EQ(WebhookSink::create(o).error().code, "audit_sink_config");  // both sources
  o.bearer_env.clear();
  EXPECT_EQ(WebhookSink::create(o).error().code, "audit_sink_config");  // unreadable file
}

// A server TLS context for "localhost", its CA written to `ca_file`, and
// another CA that did not sign it to `other_ca_file`.
std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> localhost_tls(
    const std::filesystem::path& ca_file, const std::filesystem::path& other_ca_file) {
  using authn::testing::CertSpec;
  using authn::testing::mint_cert;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  CertSpec ca;
  ca.common_name = "webhook test root";
  ca.is_ca = true;
  ca.not_before = now - 3600;
  ca.not_after = now + 3600;
  auto root = mint_cert(ca, nullptr);
  auto other = mint_cert(ca, nullptr);
  CertSpec leaf;
  leaf.common_name = "localhost";
  leaf.dns_sans = {"localhost"};
  leaf.eku = "serverAuth";
  leaf.not_before = now - 3600;
  leaf.not_after = now + 3600;
  auto server = mint_cert(leaf, &root);
  std::ofstream(ca_file) << root.pem();
  std::ofstream(other_ca_file) << other.pem();
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                        SSL_CTX_free);
  SSL_CTX_use_certificate(ctx.get(), server.cert.get());
  SSL_CTX_use_PrivateKey(ctx.get(), server.key.get());
  return ctx;
}

TEST(WebhookSinkTest, PostsOverHttpsOnlyToTheVerifiedReceiver) {
  ::signal(SIGPIPE, SIG_IGN);  // the test server writes with plain write(2)
  auto dir = testing::temp_dir("webhook-https");
  auto tls = localhost_tls(dir / "ca.pem", dir / "other-ca.pem");
  HttpReceiver receiver;
  receiver.use_tls(tls.get());
  const std::string url = "https://localhost:" + std::to_string(receiver.port()) + "/ingest";
  WebhookSinkOptions o;
  o.name = "webhook:tls";
  o.url = url;
  o.ca_file = (dir / "ca.pem").string();
  o.timeout = std::chrono::milliseconds(3000);
  auto sink = WebhookSink::create(o);
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  auto records = sealed_records(1, 3);
  auto delivered = (*sink)->deliver(records);
  ASSERT_TRUE(delivered.ok()) << delivered.error().message;
  ASSERT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(receiver.requests()[0].body, ndjson(records));

  o.ca_file = (dir / "other-ca.pem").string();  // a receiver we cannot verify
  auto untrusted = WebhookSink::create(o);
  ASSERT_TRUE(untrusted.ok());
  auto refused = (*untrusted)->deliver(records);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "net_tls");
  o.ca_file = (dir / "ca.pem").string();
  o.url = "https://127.0.0.1:" + std::to_string(receiver.port()) +
          "/ingest";  // not the certificate's name
  auto wrong_name = WebhookSink::create(o);
  ASSERT_TRUE(wrong_name.ok());
  refused = (*wrong_name)->deliver(records);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "net_tls");
  EXPECT_EQ(receiver.requests().size(), 1u);  // no record reached an unverified peer
}

TEST(WebhookSinkTest, ParsesRetryAfterSecondsAndDates) {
  using std::chrono::seconds;
  EXPECT_EQ(parse_retry_after("120", 0), seconds(120));
  EXPECT_EQ(parse_retry_after(" 0 ", 0), seconds(0));
  EXPECT_EQ(parse_retry_after("99999999999999999999", 0), seconds(86400));
  // Wed, 21 Oct 2015 07:28:00 GMT = 1445412480.
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 - 30), seconds(30));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 + 30), seconds(0));
  EXPECT_EQ(parse_retry_after("soon", 0), seconds(0));
  EXPECT_EQ(parse_retry_after("", 0), seconds(0));
  EXPECT_EQ(parse_retry_after("-5", 0), seconds(0));
}

TEST(WebhookSinkTest, TheRunnerRetriesAFlakyReceiverUntilEveryRecordArrivedInOrder) {
  auto dir = testing::temp_dir("webhook-runner");
  auto path = (dir / "audit.db").string();
  auto store = AuditStore::open(path);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto records = sealed_records(1, 25);
  ASSERT_TRUE((*store)->append(records, {}).ok());

  HttpReceiver receiver({{500, ""}, {503, "Retry-After: 0\r\n"}, {200, ""}, {502, ""}, {429, ""}});
  auto sink = WebhookSink::create(plain(receiver.url()));
  ASSERT_TRUE(sink.ok());
  SinkRunnerOptions options;
  options.store_path = path;
  options.max_batch_records = 10;
  options.backoff_min = std::chrono::milliseconds(5);
  options.backoff_max = std::chrono::milliseconds(20);
  options.log = [](std::string_view, std::string_view) {};
  auto runner = SinkRunner::start(std::move(*sink), options);
  ASSERT_TRUE(runner.ok()) << runner.error().message;
  for (int i = 0; i < 500 && (*runner)->stats().cursor < 25; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  (*runner)->stop();
  auto stats = (*runner)->stats();
  EXPECT_EQ(stats.cursor, 25u);
  EXPECT_EQ(stats.failures, 4u);
  std::string accepted;
  for (const auto& r : receiver.requests())
    if (r.answered == 200) accepted += r.body;
  EXPECT_EQ(accepted,
            ndjson(records));  // nothing lost, nothing reordered, no duplicate among accepted posts
  EXPECT_EQ(*(*store)->cursor("webhook:soc"), 25u);
}

}  // namespace
}  // namespace ztgate::audit
