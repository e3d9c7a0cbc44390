// An audit event as the pipeline hands it to the trail: the OCSF-shaped
// event object (JSON text) and the fields the store indexes for search.
//
// The event JSON is one object, built by the producer (pipeline/ocsf_event),
// without an "attestation" member: the trail adds that when it seals the
// event into the chain (chain.h). It never holds credentials, secrets or
// PII found by inspection in clear.
#pragma once

#include <cstdint>
#include <string>

namespace ztgate::audit {

struct Event {
  int64_t time_ms = 0;     // when the exchange started (Unix ms)
  std::string request_id;
  std::string route;       // "/v1/chat/completions", "/access/v1/evaluation", ...
  // On whose behalf it happened: the delegation chain's user, else the
  // authenticated principal (Cedar entity, e.g. User::"alice"; "" = none).
  std::string principal;
  std::string agent;       // the acting agent when an agent acted ("" = none)
  std::string action;      // e.g. invoke_model
  std::string resource;    // Cedar entity, e.g. Model::"gpt-4o"
  std::string decision;    // "allow", "deny", "error" (refused before a decision)
  std::string findings;    // inspection finding categories, space-separated ("" = none)
  std::string json;        // the OCSF event object, without "attestation"
};

}  // namespace ztgate::audit
