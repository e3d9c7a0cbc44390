// Output DLP (docs/DETECTION.md "DLP", POLICY_GUIDE @redact): the answer of
// an allowed exchange is scanned for secrets, personal data, custom terms
// and canaries, and the categories the decision asked for are redacted
// before the client sees them.
//
// @pseudonymize("pii"): values of those categories in a chat request are
// replaced by vault tokens before it goes upstream, and the answer's tokens
// are restored (then redaction runs on the restored text).
//
// Which categories: the determining permits' @redact ("pii", "secrets",
// "custom"), plus inspection.dlp.redact (every answer), plus canaries on a
// route with `canary: true` (always blocked: a canary in an answer proves
// the system prompt leaked). How: inspection.dlp.modes by kind, then
// category; by default mask, and block for canaries. Findings of other
// categories are kept in the text but still recorded.
//
// Every finding joins x.findings for the record as kind "dlp": stage
// "output", source, the finding's kind, category, span, rule id and the
// mode applied. Never the value.
#pragma once

#include <boost/json/value.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/gateway_config.h"
#include "inspect/dlp.h"
#include "inspect/dlp_keys.h"
#include "inspect/pseudonym_vault.h"
#include "inspect/redact.h"
#include "inspect/stream_redactor.h"
#include "pipeline/exchange.h"

namespace ztgate::pipeline {

// What a snapshot loaded for DLP (inspection.dlp): shared by every exchange
// on it, kept alive by exchanges in flight across a reload.
struct DlpRuntime {
  std::shared_ptr<const inspect::DlpScanner> scanner;
  std::map<std::string, std::string> modes;            // inspection.dlp.modes
  std::map<std::string, std::string> kind_category;    // every kind the rules find
  std::vector<std::string> always;                     // inspection.dlp.redact, as DLP categories
  inspect::DlpKeys keys;
  std::map<std::string, std::string> canaries;         // route path -> its canary token
};

// The redaction one exchange's answer goes through.
struct OutputRedaction {
  std::shared_ptr<const DlpRuntime> dlp;
  inspect::RedactionPolicy policy;     // categories not asked for: keep
  std::vector<std::string> categories;  // redacted ones (DLP names: secret, pii, custom, canary)
  // @pseudonymize: the categories whose values went to the model as tokens,
  // and the vault that restores them in the answer (before redaction).
  std::vector<std::string> pseudonymized;
  std::shared_ptr<inspect::PseudonymVault> vault;
};

// The obligation's category name as DLP calls it ("secrets" -> "secret").
std::string dlp_category(std::string_view obligation_category);

// The redaction `x` needs once allowed, or null when it needs none. Error
// "obligation_unfulfillable" when the decision asks for redaction that this
// exchange cannot get (DLP off, or an adapter whose answers carry no text
// the gateway can rewrite: x.can_redact false).
Result<std::shared_ptr<const OutputRedaction>> output_redaction_for(const Exchange& x);

// A text of the request on its way to the model with the values of the
// @pseudonymize categories replaced by tokens (x.redaction->vault); the
// count of replaced values joins x.details["pseudonymized"].
std::string pseudonymize_request_text(Exchange& x, std::string_view text);
// The same for every string of a JSON request part (an MCP tool call's
// arguments; keys are left as they are); a number whose digits hold such a
// value becomes its token, as a string. True when something was replaced.
bool pseudonymize_request_json(Exchange& x, boost::json::value& part);

// One complete text of the answer (a message's content, a tool result's
// text part), redacted; its findings recorded with `source`. blocked: a
// finding's mode is block, and the caller must refuse the whole answer.
struct RedactedText {
  std::string text;
  bool blocked = false;
};
RedactedText redact_answer_text(Exchange& x, std::string_view text, std::string_view source);

// Every string of a JSON answer redacted in place (keys are left as they
// are); a number whose digits hold a finding becomes the redacted text, as
// a string. changed: something was replaced; blocked: as above.
struct RedactedJson {
  bool changed = false;
  bool blocked = false;
};
RedactedJson redact_answer_json(Exchange& x, boost::json::value& answer, std::string_view source);

// For a streamed text (a chat answer's deltas): restore (when there is a
// vault), then redact: feed, finish, then record_stream_findings().
std::unique_ptr<inspect::StreamRedactor> answer_stream_redactor(const Exchange& x);
std::unique_ptr<inspect::StreamRestorer> answer_stream_restorer(const Exchange& x);  // null: no vault
void record_stream_findings(Exchange& x, const inspect::StreamRedactor& redactor, std::string_view source);

// Loads inspection.dlp for a snapshot: rules, dictionaries, keys (made on
// first start) and the canaries of the routes that want one. Reuses the
// scanner of the previous load when nothing it was built from changed.
Result<std::shared_ptr<const DlpRuntime>> load_dlp_runtime(const config::GatewayConfig& config);

}  // namespace ztgate::pipeline
