// ocsf_event(): the OCSF 1.9 API Activity event of an exchange (class and
// type uids, actor and delegation chain, the decision and its policies,
// payload modes), the indexed fields, and what must never appear in it
// (credentials, payload text outside `full`, an "attestation" member),
// including for hostile input bytes.
#include "pipeline/ocsf_event.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <string>

#include "posture/file_digest.h"

namespace ztgate::pipeline {
namespace {

namespace json = boost::json;

constexpr const char* kBearer = "zk_live_SECRET_BEARER_0123456789";
constexpr const char* kCertPem =
    "-----BEGIN CERTIFICATE-----\nMIIBSECRETCERTIFICATEBODYxyz\n-----END CERTIFICATE-----\n";
constexpr const char* kDevice = "eyJhbGciOiJFUzI1NiJ9.SECRET_DEVICE_ASSERTION.sig";

// A chat completion by alice, allowed and forwarded.
Exchange chat_exchange() {
  Exchange x;
  x.request_id = "req-1";
  x.adapter = "openai";
  x.route = "/v1/chat/completions";
  x.remote = "10.1.2.3:5555";
  x.credentials = Credentials{kBearer, kCertPem, kDevice};
  authn::Identity id;
  id.principal = {"User", "alice"};
  id.authn.method = "jwt";
  id.authn.issuer = "corp-idp";
  id.authn.mfa = true;
  x.identity = id;
  x.action = "invoke_model";
  x.resource = {"Model", "llama-3"};
  x.context["request"] = json::object{{"operation", "chat"}, {"stream", false}, {"messages", 2}};
  x.upstream = "local-llm";
  Verdict v;
  v.decision = cedar::Decision::kAllow;
  v.determining = {"policy0"};
  v.names = {"models-for-staff"};
  x.verdict = v;
  x.status = 200;
  x.output_bytes = 512;
  x.output_chunks = 1;
  x.usage = json::object{{"prompt_tokens", 12}, {"completion_tokens", 30}, {"total_tokens", 42}};
  x.timings = {{"authenticate", 1000}, {"authorize", 2000}};
  return x;
}

bool has_member_named(const json::value& v, std::string_view name) {
  if (v.is_object()) {
    for (const auto& m : v.get_object())
      if (m.key() == name || has_member_named(m.value(), name)) return true;
  } else if (v.is_array()) {
    for (const auto& e : v.get_array())
      if (has_member_named(e, name)) return true;
  }
  return false;
}

// Parses (Boost.JSON refuses invalid UTF-8) and checks what holds for every event.
json::object parse(const audit::Event& e) {
  EXPECT_EQ(e.json.find('\n'), std::string::npos) << "one line";
  std::error_code ec;
  json::value v = json::parse(e.json, ec);
  EXPECT_FALSE(ec) << ec.message() << "\n" << e.json;
  if (ec || !v.is_object()) return {};
  EXPECT_FALSE(has_member_named(v, "attestation")) << "the trail adds attestation when it seals";
  EXPECT_EQ(e.json.find("SECRET"), std::string::npos) << e.json;
  EXPECT_EQ(e.json.find("BEGIN CERTIFICATE"), std::string::npos) << e.json;
  return v.as_object();
}

const json::value& at(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::value* v = nullptr;
  const json::object* cur = &o;
  for (auto key : path) {
    v = cur->if_contains(key);
    if (v == nullptr) {
      ADD_FAILURE() << "missing " << key;
      static const json::value null;
      return null;
    }
    if (v->is_object()) cur = &v->get_object();
  }
  return *v;
}

std::string text_of(const json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : "<not a string>";
}

TEST(OcsfEvent, ApiActivityClassTypeAndMetadata) {
  Exchange x = chat_exchange();
  EventOptions o;
  o.config_version = 7;
  o.product_version = "0.9.0";
  o.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  audit::Event e = ocsf_event(x, o);
  json::object ev = parse(e);
  EXPECT_EQ(at(ev, {"category_uid"}), 6);
  EXPECT_EQ(at(ev, {"class_uid"}), 6003);
  EXPECT_EQ(at(ev, {"activity_id"}), 1);  // a completion is created
  EXPECT_EQ(at(ev, {"activity_name"}), "Create");
  EXPECT_EQ(at(ev, {"type_uid"}), 600301);
  EXPECT_EQ(at(ev, {"type_name"}), "API Activity: Create");
  EXPECT_EQ(at(ev, {"severity_id"}), 1);
  EXPECT_EQ(at(ev, {"status_id"}), 1);
  EXPECT_EQ(at(ev, {"status_code"}), "200");
  EXPECT_EQ(at(ev, {"time"}), x.started_wall.time_since_epoch() / std::chrono::milliseconds(1));
  EXPECT_TRUE(at(ev, {"duration"}).is_int64());
  EXPECT_EQ(at(ev, {"metadata", "version"}), "1.9.0");
  EXPECT_EQ(at(ev, {"metadata", "product", "name"}), "ztgate");
  EXPECT_EQ(at(ev, {"metadata", "product", "version"}), "0.9.0");
  EXPECT_EQ(at(ev, {"metadata", "uid"}), "req-1");
  EXPECT_EQ(at(ev, {"metadata", "correlation_uid"}), "4bf92f3577b34da6a3ce929d0e0e4736");
  const json::array& profiles = at(ev, {"metadata", "profiles"}).as_array();
  EXPECT_NE(std::find(profiles.begin(), profiles.end(), json::value("ai_operation")),
            profiles.end());
  EXPECT_NE(std::find(profiles.begin(), profiles.end(), json::value("record_integrity")),
            profiles.end());
  EXPECT_EQ(at(ev, {"actor", "user", "uid"}), "alice");
  EXPECT_EQ(at(ev, {"actor", "user", "type_id"}), 1);
  EXPECT_EQ(at(ev, {"ai_model", "name"}), "llama-3");
  EXPECT_EQ(at(ev, {"ai_model", "ai_provider"}), "local-llm");
  EXPECT_FALSE(ev.contains("ai_agent"));
  EXPECT_EQ(at(ev, {"message_context", "prompt_tokens"}), 12);
  EXPECT_EQ(at(ev, {"message_context", "completion_tokens"}), 30);
  EXPECT_EQ(at(ev, {"message_context", "total_tokens"}), 42);
  EXPECT_EQ(at(ev, {"src_endpoint", "ip"}), "10.1.2.3");
  EXPECT_EQ(at(ev, {"src_endpoint", "port"}), 5555);
  EXPECT_EQ(at(ev, {"api", "operation"}), "chat");
  EXPECT_EQ(at(ev, {"api", "service", "name"}), "openai");
  EXPECT_EQ(at(ev, {"api", "response", "code"}), 200);
  EXPECT_EQ(at(ev, {"http_request", "url", "path"}), "/v1/chat/completions");
  EXPECT_EQ(at(ev, {"resources"}).as_array().at(0).at("uid"), "llama-3");
  EXPECT_EQ(at(ev, {"action_id"}), 1);
  EXPECT_EQ(at(ev, {"disposition_id"}), 1);
  EXPECT_EQ(at(ev, {"unmapped", "config_version"}), 7);
  EXPECT_EQ(at(ev, {"unmapped", "upstream", "id"}), "local-llm");
  EXPECT_EQ(at(ev, {"unmapped", "latency_ns", "authorize"}), 2000);
  EXPECT_TRUE(at(ev, {"unmapped", "latency_ns", "total"}).is_int64());
  EXPECT_TRUE(at(ev, {"unmapped", "findings"}).as_array().empty());
  EXPECT_FALSE(at(ev, {"api", "request"}).as_object().contains("data")) << "payload mode none";

  // The indexed fields.
  EXPECT_EQ(e.time_ms, at(ev, {"time"}).as_int64());
  EXPECT_EQ(e.request_id, "req-1");
  EXPECT_EQ(e.route, "/v1/chat/completions");
  EXPECT_EQ(e.principal, "User::\"alice\"");
  EXPECT_EQ(e.agent, "");
  EXPECT_EQ(e.action, "invoke_model");
  EXPECT_EQ(e.resource, "Model::\"llama-3\"");
  EXPECT_EQ(e.decision, "allow");
  EXPECT_EQ(e.findings, "");
}

TEST(OcsfEvent, DelegationChainUserToAgents) {
  Exchange x = chat_exchange();
  x.chain = {{"User", "alice"}, {"Agent", "planner"}, {"Agent", "coder"}};
  x.identity->principal = {"Agent", "coder"};
  x.identity->authn.method = "delegation";
  x.context["delegation"] = json::object{{"scopes", json::array{"models:invoke", "docs:read"}},
                                         {"task", "task-42"},
                                         {"depth", 2},
                                         {"chain", json::array{"coder", "planner"}}};
  audit::Event e = ocsf_event(x, EventOptions{});
  json::object ev = parse(e);
  EXPECT_EQ(at(ev, {"actor", "user", "uid"}), "alice") << "on whose behalf";
  EXPECT_EQ(at(ev, {"ai_agent", "uid"}), "coder") << "the acting agent";
  EXPECT_EQ(at(ev, {"ai_agent", "ai_model", "name"}), "llama-3")
      << "agent-mediated: the model under the agent";
  EXPECT_FALSE(ev.contains("ai_model"));
  EXPECT_EQ(at(ev, {"delegation", "uid"}), "task-42");
  EXPECT_EQ(at(ev, {"delegation", "issuer_uid"}), "ztgate");
  EXPECT_EQ(at(ev, {"delegation", "scopes"}), (json::array{"models:invoke", "docs:read"}));
  EXPECT_EQ(at(ev, {"unmapped", "chain"}),
            (json::array{"User::\"alice\"", "Agent::\"planner\"", "Agent::\"coder\""}));
  EXPECT_EQ(e.principal, "User::\"alice\"");
  EXPECT_EQ(e.agent, "Agent::\"coder\"");

  EventOptions o;
  o.delegation_uid = "jti-123";
  EXPECT_EQ(at(parse(ocsf_event(x, o)), {"delegation", "uid"}), "jti-123");
}

TEST(OcsfEvent, AgentPrincipalWithoutChainIsTheAgent) {
  Exchange x = chat_exchange();
  x.identity->principal = {"Acme::Agent", "batch-bot"};
  audit::Event e = ocsf_event(x, EventOptions{});
  json::object ev = parse(e);
  EXPECT_EQ(e.agent, "Acme::Agent::\"batch-bot\"");
  EXPECT_EQ(at(ev, {"ai_agent", "uid"}), "batch-bot");
  EXPECT_EQ(at(ev, {"actor", "user", "type_id"}), 99);
  EXPECT_EQ(at(ev, {"actor", "user", "type"}), "Acme::Agent");
  EXPECT_FALSE(ev.contains("delegation"));
}

TEST(OcsfEvent, DenyWithDeterminingPoliciesObligationsAndErrors) {
  Exchange x = chat_exchange();
  Verdict v;
  v.decision = cedar::Decision::kDeny;
  v.determining = {"policy3", "policy9"};
  v.names = {"no-night-use", "mfa-for-models"};
  v.errors = {{"policy5", "attribute `tier` not found"}};
  v.obligations.on_deny = DenyObligation::kStepUp;
  x.verdict = v;
  x.status = 401;
  x.ending = Ending{401, "step_up_required", "step up", {}, ""};
  x.usage = {};
  audit::Event e = ocsf_event(x, EventOptions{});
  json::object ev = parse(e);
  EXPECT_EQ(e.decision, "deny");
  const json::array& auths = at(ev, {"actor", "authorizations"}).as_array();
  ASSERT_EQ(auths.size(), 2u);
  EXPECT_EQ(auths[0].at("decision"), "deny");
  EXPECT_EQ(auths[0].at("policy").at("uid"), "policy3");
  EXPECT_EQ(auths[0].at("policy").at("name"), "no-night-use");
  EXPECT_EQ(auths[1].at("policy").at("uid"), "policy9");
  EXPECT_EQ(auths[1].at("policy").at("name"), "mfa-for-models");
  EXPECT_EQ(at(ev, {"policy", "uid"}), "policy3");
  EXPECT_EQ(at(ev, {"action_id"}), 2);
  EXPECT_EQ(at(ev, {"disposition_id"}), 26);  // Unauthorized
  EXPECT_EQ(at(ev, {"severity_id"}), 3);      // Medium
  EXPECT_EQ(at(ev, {"status_id"}), 2);
  EXPECT_EQ(at(ev, {"status_detail"}), "step_up_required");
  EXPECT_EQ(at(ev, {"api", "response", "error"}), "step_up_required");
  EXPECT_EQ(at(ev, {"unmapped", "decision", "obligations", "on_deny"}), "step_up");
  EXPECT_EQ(at(ev, {"unmapped", "decision", "errors"}).as_array().at(0).at("policy"), "policy5");
  EXPECT_EQ(at(ev, {"unmapped", "enforced"}), true);
  EXPECT_EQ(e.json.find("\"step up\""), std::string::npos) << "client messages are not recorded";

  // Shadow mode: the deny was observed, not enforced.
  x.enforced = false;
  x.shadow = true;
  x.ending.reset();
  x.status = 200;
  json::object shadow = parse(ocsf_event(x, EventOptions{}));
  EXPECT_EQ(at(shadow, {"action_id"}), 3);
  EXPECT_EQ(at(shadow, {"disposition_id"}), 15);
  EXPECT_EQ(at(shadow, {"unmapped", "enforced"}), false);
  EXPECT_EQ(at(shadow, {"unmapped", "shadow"}), true);
}

TEST(OcsfEvent, PolicyNamesPairOnlyWhenEveryPolicyHasOne) {
  Exchange x = chat_exchange();
  x.verdict->determining = {"policy0", "policy1"};
  x.verdict->names = {"only-one"};
  json::object ev = parse(ocsf_event(x, EventOptions{}));
  const json::array& auths = at(ev, {"actor", "authorizations"}).as_array();
  ASSERT_EQ(auths.size(), 2u);
  EXPECT_FALSE(auths[0].at("policy").as_object().contains("name"));
  EXPECT_EQ(at(ev, {"unmapped", "decision", "policy_names"}), (json::array{"only-one"}));
}

TEST(OcsfEvent, RefusedBeforeADecisionIsAnError) {
  Exchange x = chat_exchange();
  x.verdict.reset();
  x.identity.reset();
  x.status = 401;
  x.ending = Ending{401, "unauthenticated", "send Authorization", {}, ""};
  audit::Event e = ocsf_event(x, EventOptions{});
  json::object ev = parse(e);
  EXPECT_EQ(e.decision, "error");
  EXPECT_EQ(e.principal, "");
  EXPECT_EQ(at(ev, {"actor", "user", "type_id"}), 0);
  EXPECT_EQ(at(ev, {"actor", "authorizations"}).as_array().at(0).at("decision"), "error");
  EXPECT_EQ(at(ev, {"disposition_id"}), 2);
  EXPECT_EQ(at(ev, {"status_detail"}), "unauthenticated");
}

TEST(OcsfEvent, PdpQueryReadsADecisionForTheNamedSubject) {
  Exchange x;
  x.request_id = "req-pdp";
  x.adapter = "cedar";
  x.route = "/v1/is_authorized";
  x.pdp_query = true;
  authn::Identity caller;
  caller.principal = {"Service", "portal"};
  caller.authn.method = "api_key";
  x.identity = caller;
  x.request = cedar::Request{{"User", "bob"}, {"Action", "read"}, {"Document", "d1"}, nullptr};
  Verdict v;
  v.decision = cedar::Decision::kDeny;
  x.verdict = v;
  x.status = 200;
  audit::Event e = ocsf_event(x, EventOptions{});
  json::object ev = parse(e);
  EXPECT_EQ(at(ev, {"activity_id"}), 2);
  EXPECT_EQ(at(ev, {"type_uid"}), 600302);
  EXPECT_EQ(at(ev, {"severity_id"}), 1) << "a PDP deny is an answer";
  EXPECT_EQ(at(ev, {"status_id"}), 1);
  EXPECT_EQ(at(ev, {"actor", "user", "uid"}), "portal");
  EXPECT_EQ(at(ev, {"resources"}).as_array().at(0).at("type"), "Document");
  EXPECT_EQ(at(ev, {"unmapped", "query", "principal"}), "User::\"bob\"");
  EXPECT_EQ(at(ev, {"actor", "authorizations"}).as_array().size(), 1u) << "a default deny";
  EXPECT_EQ(e.principal, "Service::\"portal\"");
  EXPECT_EQ(e.action, "read");
  EXPECT_EQ(e.resource, "Document::\"d1\"");
  EXPECT_EQ(e.decision, "deny");
}

TEST(OcsfEvent, PayloadHashIsTheSha256OfTheRawBytes) {
  Exchange x = chat_exchange();
  EventOptions o;
  o.payload_mode = PayloadMode::kHash;
  o.request_payload = "abc";
  o.response_payload = "";
  json::object ev = parse(ocsf_event(x, o));
  EXPECT_EQ(at(ev, {"api", "request", "data", "sha256"}),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(at(ev, {"api", "request", "data", "length"}), 3);
  EXPECT_EQ(at(ev, {"api", "response", "data", "sha256"}),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(at(ev, {"api", "response", "data", "length"}), 0);
  EXPECT_EQ(at(ev, {"unmapped", "payload_mode"}), "hash");
}

TEST(OcsfEvent, PayloadRedactedKeepsTheStructureNotTheStrings) {
  Exchange x = chat_exchange();
  EventOptions o;
  o.payload_mode = PayloadMode::kRedacted;
  std::string content = "my SSN is 078-05-1120, call me";
  const std::string request =
      R"({"model":"PRIVATE-MODEL-NAME","messages":[{"role":"user","content":")" + content +
      R"("}],"max_tokens":64,"stream":false,"user":null,"temperature":0.5})";
  o.request_payload = request;
  o.response_payload =
      R"({"choices":[{"message":{"content":"SECRET-ANSWER-TEXT"}}],"usage":{"total_tokens":3}})";
  audit::Event e = ocsf_event(x, o);
  json::object ev = parse(e);
  const json::value& data = at(ev, {"api", "request", "data"});
  EXPECT_EQ(data.at("length"), static_cast<int64_t>(o.request_payload.size()));
  EXPECT_EQ(text_of(data.at("sha256")), posture::sha256_hex(o.request_payload));
  const json::object& body = data.at("json").as_object();
  EXPECT_EQ(body.at("max_tokens"), 64);
  EXPECT_EQ(body.at("stream"), false);
  EXPECT_TRUE(body.at("user").is_null());
  EXPECT_EQ(body.at("temperature"), 0.5);
  const json::value& redacted = body.at("messages").at(0).at("content");
  EXPECT_EQ(redacted.at("redacted"), true);
  EXPECT_EQ(redacted.at("length"), static_cast<int64_t>(content.size()));
  EXPECT_EQ(text_of(redacted.at("sha256")), posture::sha256_hex(content));
  EXPECT_EQ(body.at("messages").at(0).at("role").at("redacted"), true);
  EXPECT_EQ(at(ev, {"api", "response", "data", "json", "usage", "total_tokens"}), 3);
  for (std::string_view secret :
       {std::string_view("078-05-1120"), std::string_view("PRIVATE-MODEL-NAME"),
        std::string_view("SECRET-ANSWER-TEXT"), std::string_view("call me")})
    EXPECT_EQ(e.json.find(secret), std::string::npos) << secret;
}

TEST(OcsfEvent, PayloadRedactedFallsBackToTheHashForm) {
  Exchange x = chat_exchange();
  EventOptions o;
  o.payload_mode = PayloadMode::kRedacted;
  o.request_payload = "data: {\"PLAIN-TEXT-STREAM\":1}\n\n";  // SSE, not JSON
  std::string deep(kMaxRedactDepth + 5, '[');
  deep += std::string(kMaxRedactDepth + 5, ']');
  o.response_payload = deep;
  audit::Event e = ocsf_event(x, o);
  json::object ev = parse(e);
  EXPECT_EQ(at(ev, {"api", "request", "data", "redaction"}), "not_json");
  EXPECT_EQ(text_of(at(ev, {"api", "request", "data", "sha256"})),
            posture::sha256_hex(o.request_payload));
  EXPECT_EQ(e.json.find("PLAIN-TEXT-STREAM"), std::string::npos);
  EXPECT_EQ(at(ev, {"api", "response", "data", "redaction"}), "too_deep");

  // Too large once redacted: the hash form, and the JSON around it intact.
  std::string many = "[";
  for (int i = 0; i < 200; ++i) many += i ? ",\"s\"" : "\"s\"";
  many += "]";
  o.request_payload = many;
  o.response_payload = "{}";
  o.max_payload_bytes = 1024;
  json::object small = parse(ocsf_event(x, o));
  EXPECT_EQ(at(small, {"api", "request", "data", "redaction"}), "too_large");
  EXPECT_EQ(at(small, {"api", "request", "data", "length"}), static_cast<int64_t>(many.size()));
  EXPECT_EQ(at(small, {"api", "request", "uid"}), "req-1") << "members after the rewind";
  EXPECT_TRUE(at(small, {"api", "response", "data", "json"}).as_object().empty());

  // Not parsed at all past kMaxRedactInputBytes.
  const std::string huge = "[" + std::string(kMaxRedactInputBytes, ' ') + "]";
  o.request_payload = huge;
  o.max_payload_bytes = kDefaultMaxPayloadBytes;
  EXPECT_EQ(at(parse(ocsf_event(x, o)), {"api", "request", "data", "redaction"}), "too_large");
}

TEST(OcsfEvent, PayloadFullKeepsTextUpToTheLimit) {
  Exchange x = chat_exchange();
  EventOptions o;
  o.payload_mode = PayloadMode::kFull;
  o.max_payload_bytes = 10;
  o.request_payload = "0123456789ABCDEFGHIJ";
  o.response_payload = "short";
  json::object ev = parse(ocsf_event(x, o));
  EXPECT_EQ(at(ev, {"api", "request", "data", "text"}), "0123456789");
  EXPECT_EQ(at(ev, {"api", "request", "data", "truncated"}), true);
  EXPECT_EQ(at(ev, {"api", "request", "data", "length"}), 20);
  EXPECT_EQ(at(ev, {"api", "response", "data", "text"}), "short");
  EXPECT_EQ(at(ev, {"api", "response", "data", "truncated"}), false);

  // The cut never splits a character: "é" (2 bytes) at bytes 9-10 is left out whole.
  o.request_payload = "123456789\xC3\xA9xyz";
  EXPECT_EQ(at(parse(ocsf_event(x, o)), {"api", "request", "data", "text"}), "123456789");
}

TEST(OcsfEvent, NeverWritesCredentialsInAnyMode) {
  Exchange x = chat_exchange();
  x.chain = {{"User", "alice"}, {"Agent", "coder"}};
  x.context["delegation"] = json::object{{"task", "t"}, {"scopes", json::array{}}};
  for (PayloadMode mode :
       {PayloadMode::kNone, PayloadMode::kHash, PayloadMode::kRedacted, PayloadMode::kFull}) {
    EventOptions o;
    o.payload_mode = mode;
    o.request_payload = R"({"messages":[]})";
    audit::Event e = ocsf_event(x, o);
    parse(e);  // checks "SECRET" and the certificate are absent
    EXPECT_EQ(e.json.find(kBearer), std::string::npos);
    EXPECT_EQ(e.json.find(kDevice), std::string::npos);
    EXPECT_EQ(e.json.find("zk_live"), std::string::npos);
  }
}

TEST(OcsfEvent, HostileStringsGiveValidJson) {
  Exchange x = chat_exchange();
  std::string hostile = std::string("a\"b\\c\n\r\t\x01\x1f\x7f") + "\xff\xfe" + "\xC0\xAF" +
                        "\xED\xA0\x80" + "\xF4\x90\x80\x80" + "\xE2\x82" + "\xE2\x82\xAC" +
                        "\xF0\x9F\x98\x80" + "\"}],\"x\":{";
  x.request_id = hostile;
  x.route = hostile;
  x.identity->principal = {"User", hostile};
  x.resource = {"Model", hostile};
  x.upstream_error = hostile;
  x.upstream = hostile;
  x.verdict->determining = {hostile};
  x.verdict->names = {hostile};
  x.verdict->errors = {{hostile, hostile}};
  x.usage[hostile] = 1;
  x.details[hostile] = hostile;
  x.context["request"] = json::object{{"operation", hostile}};
  x.remote = hostile;
  EventOptions o;
  o.payload_mode = PayloadMode::kFull;
  o.request_payload = hostile;
  o.response_payload = hostile;
  o.trace_id = hostile;
  o.http_method = hostile;
  audit::Event e = ocsf_event(x, o);
  json::object ev = parse(e);
  // Valid UTF-8 passes through; each invalid byte becomes U+FFFD.
  const std::string fffd = "\xEF\xBF\xBD";
  std::string expected = std::string("a\"b\\c\n\r\t\x01\x1f\x7f") + fffd + fffd + fffd + fffd +
                         fffd + fffd + fffd + fffd + fffd + fffd + fffd + fffd + fffd +
                         "\xE2\x82\xAC" + "\xF0\x9F\x98\x80" + "\"}],\"x\":{";
  EXPECT_EQ(text_of(at(ev, {"metadata", "uid"})), expected);
  EXPECT_EQ(text_of(at(ev, {"api", "request", "data", "text"})), expected);
  EXPECT_EQ(text_of(at(ev, {"actor", "user", "uid"})), expected);
  EXPECT_EQ(e.request_id, hostile) << "the indexed fields keep the bytes; the store binds them";
}

TEST(OcsfEvent, ValidUtf8PassesUnchangedAtEveryBoundary) {
  Exchange x = chat_exchange();
  // U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF.
  const std::string valid =
      "\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF"
      "\xBF";
  x.request_id = valid;
  audit::Event e = ocsf_event(x, EventOptions{});
  EXPECT_EQ(text_of(at(parse(e), {"metadata", "uid"})), valid);
  EXPECT_NE(e.json.find(valid), std::string::npos) << "written as UTF-8, not escaped";
}

TEST(OcsfEvent, DeviceAndIpv6SourceEndpoint) {
  Exchange x = chat_exchange();
  x.remote = "[2001:db8::1]:8443";
  x.context["device"] = json::object{{"present", true},      {"device_id", "laptop-7"},
                                     {"managed", true},      {"disk_encrypted", true},
                                     {"edr_running", false}, {"os_patch_age_days", 3},
                                     {"age_s", 20}};
  json::object ev = parse(ocsf_event(x, EventOptions{}));
  EXPECT_EQ(at(ev, {"src_endpoint", "ip"}), "2001:db8::1");
  EXPECT_EQ(at(ev, {"src_endpoint", "port"}), 8443);
  EXPECT_EQ(at(ev, {"device", "uid"}), "laptop-7");
  EXPECT_EQ(at(ev, {"device", "is_managed"}), true);
  EXPECT_EQ(at(ev, {"unmapped", "device", "edr_running"}), false);
  const json::array& profiles = at(ev, {"metadata", "profiles"}).as_array();
  EXPECT_NE(std::find(profiles.begin(), profiles.end(), json::value("host")), profiles.end());

  x.context["device"] = json::object{{"present", false}};
  json::object none = parse(ocsf_event(x, EventOptions{}));
  EXPECT_FALSE(none.contains("device"));
  EXPECT_EQ(at(none, {"unmapped", "device", "present"}), false);
}

TEST(OcsfEvent, EgressTunnelHasItsDestinationAndTheAddressConnectedTo) {
  Exchange x = chat_exchange();
  x.adapter = "egress";
  x.route = "egress";
  x.action = "egress";
  x.resource = {"Host", "api.example.com"};
  x.context.erase("request");
  x.context["destination"] = json::object{{"host", "api.example.com"}, {"port", 443}, {"scheme", "tunnel"}};
  x.destination_address = "93.184.216.34";
  EventOptions o;
  o.http_method = "CONNECT";
  json::object ev = parse(ocsf_event(x, o));
  EXPECT_EQ(at(ev, {"dst_endpoint", "hostname"}), "api.example.com");
  EXPECT_EQ(at(ev, {"dst_endpoint", "ip"}), "93.184.216.34");
  EXPECT_EQ(at(ev, {"dst_endpoint", "port"}), 443);
  EXPECT_EQ(at(ev, {"activity_name"}), "Create");
  EXPECT_EQ(at(ev, {"unmapped", "destination", "scheme"}), "tunnel");
  EXPECT_EQ(at(ev, {"resources"}).as_array()[0].as_object().at("type"), "Host");

  // An IP literal the client named, refused before any connection.
  x.destination_address.clear();
  x.context["destination"] = json::object{{"host", "169.254.169.254"}, {"port", 80}, {"scheme", "http"},
                                          {"ip", "169.254.169.254"}, {"address_class", "cloud_metadata"}};
  x.ending = Ending{403, "destination_forbidden", "", {}, ""};
  x.status = 403;
  audit::Event refused = ocsf_event(x, o);
  EXPECT_EQ(refused.decision, "deny");  // allowed by policy, refused by the SSRF floor
  json::object ev2 = parse(refused);
  EXPECT_EQ(at(ev2, {"actor", "authorizations"}).as_array()[0].as_object().at("decision"), "allow");
  EXPECT_EQ(at(ev2, {"status_detail"}), "destination_forbidden");
  EXPECT_EQ(at(ev2, {"dst_endpoint", "ip"}), "169.254.169.254");
  EXPECT_FALSE(ev2.at("dst_endpoint").as_object().contains("hostname"));
  EXPECT_FALSE(parse(ocsf_event(chat_exchange(), o)).contains("dst_endpoint"));
}

}  // namespace
}  // namespace ztgate::pipeline
