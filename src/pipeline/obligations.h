// Obligations: what a decision asks of the gateway beyond allow/deny, read
// from annotations on the policies that determined it.
//
//   @on_deny("step_up")           on a forbid: answer 401 with a step-up challenge
//   @on_deny("require_approval")  on a forbid: answer that approval is required
//   @redact("pii") / @redact("secrets,pii") / @redact("custom")
//                                 on a permit: redact those categories of DLP
//                                 findings in the answer (output_redaction.h)
//   @pseudonymize("pii")          on a permit: values of those categories in a chat
//                                 request go to the model as tokens (⟦EMAIL_7f3a9c2e⟧),
//                                 and the tokens in its answer come back as the values
//   @spotlight("datamark") / @spotlight("delimit") / @spotlight("")
//                                 on a permit: pass untrusted content (a tool's
//                                 result) wrapped so the model can tell data from
//                                 instructions ("" = inspection.spotlight); several
//                                 determining: datamark wins (it is the stronger)
//   @minimize("summary_only")     on a permit: a retrieved document goes out with its
//                                 title and summary, never its text (retrieval search,
//                                 docs/RETRIEVAL.md "Minimization"); anywhere else such
//                                 an allow is refused (obligation_unfulfillable)
//
// Conflicts on deny (several determining forbids) resolve to the strictest:
//   plain deny > require_approval > step_up
// An obligation is a promise "satisfy this and a retry may succeed". A forbid
// without @on_deny makes no such promise, so if one is determining the answer
// is a plain deny: sending the client to step up would only loop. Between the
// two obligations, human approval is the heavier requirement (an approver can
// demand step-up as part of the workflow; step-up alone never grants approval).
// A default deny (no policy satisfied) is a plain deny.
//
// Fail closed: validate_obligations() rejects, at policy-load time, unknown
// @on_deny values, @on_deny on a permit, @redact or @spotlight on a forbid,
// malformed or unknown redact categories and unknown spotlight modes. At run time derive_obligations() still refuses a
// malformed @redact (the caller must deny), and an unknown @on_deny is a plain
// deny.
//
// Error codes:
//   unknown_obligation   an @on_deny value that is not step_up / require_approval
//   misplaced_obligation @on_deny on a permit, or @redact on a forbid
//   invalid_redaction    @redact empty, malformed, unknown category, or too many
//
// Bounds: at most kMaxRedactCategories categories per annotation, each at most
// kMaxRedactCategoryBytes of [a-z0-9_].
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cedar/authorizer.h"
#include "cedar/policy_set.h"
#include "common/result.h"

namespace ztgate::pipeline {

inline constexpr size_t kMaxRedactCategories = 16;
inline constexpr size_t kMaxRedactCategoryBytes = 64;

// The categories the redaction stage knows; anything else is a config error.
inline const std::vector<std::string>& default_redact_categories() {
  static const std::vector<std::string> categories{"custom", "pii", "secrets"};
  return categories;
}

// Ordered weakest to strictest except kNone: see the resolution rule above.
enum class DenyObligation : uint8_t { kNone, kStepUp, kRequireApproval };

std::string_view to_string(DenyObligation o);  // "", "step_up", "require_approval"

struct Obligations {
  DenyObligation on_deny = DenyObligation::kNone;  // meaningful on deny only
  std::vector<std::string> redact;                 // on allow: sorted, unique
  std::vector<std::string> pseudonymize;           // on allow: sorted, unique
  std::optional<std::string> spotlight;            // on allow: "datamark", "delimit" or "" (the default)
  std::optional<std::string> minimize;             // on allow: "summary_only"

  friend bool operator==(const Obligations&, const Obligations&) = default;
};

// Checks every policy's and template's obligation annotations. The error
// names the policy id and the offending value.
Status validate_obligations(const cedar::PolicySet& set,
                            const std::vector<std::string>& redact_categories =
                                default_redact_categories());

// The obligations of a decision, from its determining policies.
Result<Obligations> derive_obligations(const cedar::Response& response);
// The same from the pieces (the cache stores policies by value, not pointer).
Result<Obligations> derive_obligations(cedar::Decision decision,
                                       const std::vector<const cedar::Policy*>& determining);

// The HTTP answer to a denied request.
//   plain deny        403  code "forbidden"
//   step_up           401  code "step_up_required", obligation "step_up", and
//                          WWW-Authenticate: Bearer error="insufficient_user_authentication"
//                          (the OAuth step-up challenge, RFC 9470)
//   require_approval  403  code "approval_required", obligation "require_approval".
//                          Not 202: nothing has been queued (the approvals workflow
//                          is not built yet) and 2xx would read as success to clients.
// Body: {"error":{"code":..,"message":..,"request_id":..,"obligation"?:..,"policies"?:[..]}}
// `policies` (the determining policies' names) is included only when the
// deployment chose to explain denials (gateway.explain_denials).
struct DenyAnswer {
  int status = 403;
  std::string code;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
  std::string body;                                          // application/json
};
DenyAnswer deny_answer(DenyObligation obligation, std::string_view request_id,
                       const std::vector<std::string>& policies = {});

}  // namespace ztgate::pipeline
