// The Exchange: one interaction (a chat completion, a PDP query, a tool
// call...) as every stage of the verification pipeline sees it, whatever
// protocol it came in by. Adapters fill the request part; stages add facts
// (identity, context, the decision) or end it; the server fills the forward
// part; the record stage writes all of it down.
//
// Never recorded: `credentials` (bearer tokens, API keys, certificates,
// device assertions). The audit record takes identities, not secrets.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/trail.h"
#include "authn/identity.h"
#include "cedar/authorizer.h"
#include "inspect/channel.h"
#include "pipeline/obligations.h"
#include "state/session_facts.h"

namespace ztgate::pipeline {

struct Snapshot;         // snapshot.h
struct OutputRedaction;  // output_redaction.h
class Decider;    // decider.h

// What the caller presented. Secrets: never logged, never recorded.
struct Credentials {
  std::string bearer;             // after "Bearer "
  std::string client_cert_pem;    // verified TLS client chain, leaf first ("" = none)
  std::string device_assertion;   // the x-ztgate-device header
};

// The decision as the gateway keeps it: by value, so it outlives a reload.
struct Verdict {
  cedar::Decision decision = cedar::Decision::kDeny;
  std::vector<std::string> determining;  // policy ids
  std::vector<std::string> names;        // their @id annotations, where given
  std::vector<cedar::PolicyError> errors;  // evaluation errors (the policy was skipped)
  Obligations obligations;
  bool cached = false;
};

// How an exchange ended early, as the client will see it.
struct Ending {
  int status = 403;
  std::string code;
  std::string message;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // the full JSON body when a stage built it (deny answers)
};

// A text the adapter hands to inspection, with the channel it reaches the
// model by and where it came from ("messages[2]", "tool docs__search").
struct InspectText {
  inspect::Channel channel = inspect::Channel::user_prompt;
  std::string text;
  std::string source;
};

struct StageTiming {
  const char* stage;  // a static string: the stage's name
  int64_t ns;
};

struct Exchange {
  // --- set by the adapter ---
  std::string request_id;
  std::string adapter;  // "openai", "authzen", "cedar"
  std::string route;    // the endpoint, e.g. "/v1/chat/completions"
  std::string remote;   // client "ip:port"
  Credentials credentials;
  bool shadow = false;  // decide and record, do not enforce (routes.shadow)
  // PDP queries (AuthZEN, Cedar-native) are decided for a subject named in
  // the body; the authenticated party is the caller and nothing is enforced.
  bool pdp_query = false;
  // Set when the adapter makes its own decisions (a PDP batch, a listing
  // filtered per principal) instead of one for (principal, action,
  // resource): the authorize stage calls it with the decider and the
  // entities (store + the credential's overlay). The adapter keeps the
  // results; the enforce stage leaves enforcement to it.
  std::function<void(Exchange&, const Decider&, const cedar::Entities&, std::string_view entities_key)> decide_many;
  std::string action;    // Action::"<action>"
  authn::EntityRef resource;
  // Entities the adapter builds for this request only (Cedar JSON): the
  // Host of an egress request with its zones. The enrich stage adds them
  // to request_entities (the overlay the decision sees).
  boost::json::array adapter_entities;
  boost::json::object context;    // adapter facts (request shape, model...)
  std::string upstream;           // upstream id to forward to ("" = none)
  // When set, a bearer JWT must name one of these in "aud" (MCP: tokens
  // bound to the gateway as a resource, RFC 8707); else 401 invalid_token.
  std::vector<std::string> audiences;
  // The adapter's session (the MCP session id): the key of context.session
  // when the credential carries no delegation task id (which wins).
  std::string session_key;
  // What this exchange did, for the session's facts (set by the adapter
  // once it happened; the session stage records it at completion).
  std::optional<state::Observation> observation;
  // Texts for the inspect_input stage (prompts, tool descriptions); an
  // adapter with content that arrives later (a tool's result) calls
  // inspect_texts() (inspect_stage.h) itself.
  std::vector<InspectText> inspect_texts;
  // The adapter can honour @spotlight (it wraps the untrusted content it
  // returns); otherwise an allow that demands it is refused.
  bool can_spotlight = false;
  // The adapter can rewrite the text of its answers (chat messages, tool
  // results): output DLP applies; otherwise an allow with @redact is refused.
  bool can_redact = false;
  // The adapter can rewrite the texts of its request on the way upstream
  // (chat messages): @pseudonymize applies; otherwise such an allow is refused.
  bool can_pseudonymize = false;
  std::shared_ptr<const Snapshot> snapshot;  // the configuration this exchange runs on

  // --- set by stages ---
  // The authenticated principal (or PDP caller). Set before the pipeline
  // only by an internal caller that vouches for it (the egress guard's API
  // for the gateway's own connections): authenticate then keeps it, and the
  // caller supplies request_entities and context.authn itself.
  std::optional<authn::Identity> identity;
  std::vector<authn::EntityRef> chain;      // delegation: user, first agent, ..., acting agent
  boost::json::array request_entities;      // entities the credential brings (Cedar JSON)
  std::optional<cedar::Request> request;    // the Cedar request (PDP adapters set it directly)
  std::optional<Verdict> verdict;
  std::optional<Ending> ending;  // a stage stopped the exchange; this is the answer
  bool enforced = true;          // false when shadow mode let a deny through
  // What the answer's text goes through before the client sees it (set by
  // enforce once allowed; null: nothing to redact).
  std::shared_ptr<const OutputRedaction> redaction;

  // --- the forward and the response ---
  int status = 0;                // the status the client got
  std::string upstream_error;    // code, when forwarding failed
  std::string destination_address;  // egress: the address connected to, after every check
  uint64_t output_bytes = 0;
  uint64_t output_chunks = 0;
  std::string output_tail;       // the last few KiB of the answer (inspect_output)
  boost::json::object usage;     // token counts, when the upstream reported them
  boost::json::object details;   // adapter-specific audit facts (e.g. AuthZEN batch counts)
  // Audit events of their own beside the exchange's record (a sensitive
  // retrieval): each is written as the exchange's event with this action,
  // resource and details in place of the exchange's, without payloads,
  // and chained like any record. An adapter adds at most one per exchange.
  struct SideRecord {
    std::string action;
    authn::EntityRef resource;
    boost::json::object details;
  };
  std::vector<SideRecord> side_records;
  // Inspection findings for the record: channel, source, scores, rule ids,
  // categories and input spans; never the text found.
  boost::json::array findings;

  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::chrono::system_clock::time_point started_wall = std::chrono::system_clock::now();
  std::vector<StageTiming> timings;

  // --- the audit trail (record stage) ---
  audit::Trail::Reservation audit_room;  // room for the record, taken on arrival
  bool audit_sync = false;               // the route's durability: answer only once recorded
  bool capture_payloads = false;         // the route's payload mode keeps something of the bodies
  std::string request_payload;           // the request body, when captured
  std::string response_payload;          // the answer's first kMaxCapturedResponse bytes, when captured
  // Set when a sync record was appended: the server answers (or forwards)
  // only once it resolves durable, else fails closed with 503.
  std::shared_ptr<audit::Ticket> audit_ticket;
  bool decision_recorded = false;  // a sync forward's record was written before forwarding
  // Long-lived forwards (egress tunnels): the decision is recorded when the
  // forward starts, sync or not, and the exchange again when it ends.
  bool record_at_forward = false;
  std::string http_method;         // for the record
};

// How much of an answer the record stage may keep (payload modes).
inline constexpr size_t kMaxCapturedResponse = size_t{4} << 20;

}  // namespace ztgate::pipeline
