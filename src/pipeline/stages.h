// The stages the gateway runs today, in pipeline order (pipeline.h). Each
// lives in its own file; this header is their factory list.
//
//   authenticate   credential -> principal (kept as is when an internal
//                  caller set x.identity before the pipeline). Bearer API key, issuer token or
//                  ztgate delegation token; else the verified TLS client
//                  certificate (mTLS/SPIFFE). Missing: 401 unauthenticated;
//                  bad: 401 with the verifier's code. Adds the credential's
//                  entities (user + groups, or agent + on_behalf_of user) and
//                  context.authn / context.delegation. For PDP queries it
//                  authenticates the caller only (pdp.require_authentication).
//   enrich         verified facts: context.device (x-ztgate-device assertion;
//                  a bad one is 401 device_invalid), the Model entity's
//                  integrity attributes for invoke_model, context.source_ip;
//                  the adapter's per-request entities (an egress Host and
//                  its zones) join the credential's in the overlay.
//   session        context.session: the facts of the exchange's task (the
//                  delegation's task id) or adapter session (MCP), from the
//                  state module; at completion, what the exchange did
//                  (x.observation) is added to them.
//   authorize      Cedar, through the decision cache. The credential's
//                  entities overlay the stored ones for this request only.
//                  Obligations derive from the determining policies; one that
//                  does not parse is a deny (fail closed).
//   enforce        a deny ends the exchange with its obligation's answer
//                  (403 forbidden, 401 step_up_required, 403 approval_required)
//                  unless the route is in shadow mode: then the exchange goes
//                  on, marked not enforced. PDP queries are never enforced.
//                  An allow sets x.redaction (output_redaction.h): @redact
//                  categories, inspection.dlp.redact, the route's canary. When
//                  @redact cannot be honoured (DLP off, an adapter that cannot
//                  rewrite its answers) the allow is refused (403
//                  obligation_unfulfillable): fail closed rather than pass
//                  content unredacted.
//   inspect_output counts what flows back and reads the upstream's token
//                  usage (bounded tail, never the whole answer).
//   record         the exchange's OCSF event into the audit trail
//                  (ocsf_event.h, audit/trail.h): at completion; for sync
//                  routes also before forwarding, and the server answers
//                  only once that record is durable; for long-lived forwards
//                  (egress tunnels, x.record_at_forward) also when they start.
#pragma once

#include <memory>
#include <string>

#include "audit/trail.h"
#include "pipeline/decision_cache.h"
#include "pipeline/metrics.h"
#include "pipeline/pipeline.h"
#include "state/session_facts.h"

namespace ztgate::pipeline {

std::unique_ptr<Stage> make_authenticate_stage();
std::unique_ptr<Stage> make_enrich_stage();
std::unique_ptr<Stage> make_session_stage(state::SessionStore& store);
std::unique_ptr<Stage> make_authorize_stage(DecisionCache& cache);
std::unique_ptr<Stage> make_enforce_stage(MetricsRegistry& metrics);
std::unique_ptr<Stage> make_output_meter_stage();
std::unique_ptr<Stage> make_record_stage(audit::Trail& trail, std::string product_version);

// The standard pipeline of the gateway, in order.
std::vector<std::unique_ptr<Stage>> standard_stages(DecisionCache& cache, MetricsRegistry& metrics, audit::Trail& trail,
                                                    state::SessionStore& sessions, std::string product_version);

}  // namespace ztgate::pipeline
