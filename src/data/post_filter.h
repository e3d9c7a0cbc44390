// The post-filter: which of a retriever's candidate results the principal
// may receive. One principal and one context per call; per candidate only
// the document differs, so the principal's side (its user with the groups
// closure, clearance and tenant) is built once, and the documents are laid
// over the base in batches (kDocumentsPerLayer per overlay) with the user
// on top (the entity most conditions look up, found there without a hash).
// A batch's entities are built only when one of its decisions is not
// answered by the decision cache.
//
// An agent acting for a user gets a document only when BOTH decisions
// allow: (Agent, retrieve, doc) and (User, retrieve, doc) for the user it
// acts for. Whatever the agent's own permits say, it never receives what
// its user could not read.
//
// Fail closed: an id the catalog does not know, an unknown label, or a
// decision that errors is a deny. A candidate's label can only make a
// document stricter (the effective rank is the higher of catalog and label).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cedar/authorizer.h"
#include "cedar/entities.h"
#include "data/catalog.h"

namespace ztgate::data {

inline constexpr size_t kDocumentsPerLayer = 512;

struct Candidate {
  std::string id;
  std::optional<std::string> label;  // the retriever's copy of the classification
};

// Who reads: the principal, and the user whose view bounds it (the
// principal itself for a User, the delegating user for an Agent, none for
// a Service).
struct Reader {
  cedar::EntityUID principal;
  std::optional<std::string> user;
  std::vector<std::string> credential_groups;  // the user's groups from its token (User principals)
};

struct ItemDecision {
  bool allow = false;
  std::string reason;                // allowed | unknown_document | unknown_label | denied | user_denied | group_limit
  std::vector<std::string> policies; // the determining policies (ids or @id names)
  int64_t classification = -1;       // the effective rank (-1: not resolved)
};

struct DecisionOutcome {
  bool allow = false;
  std::vector<std::string> policies;
};
// The entities a decision needs, built on first call (a decision the
// cache answers needs none: no document entity is built for it).
using EntitiesFn = std::function<Result<std::shared_ptr<const cedar::Entities>>()>;
// Decides one request; `item_key` says what of the entities is particular
// to this candidate beyond the catalog version (for a decision cache key).
using DocumentDecideFn =
    std::function<DecisionOutcome(const cedar::Request&, std::string_view item_key, const EntitiesFn& entities)>;

// `base` is the entity store (with the credential's overlay); it must
// outlive the call. Decisions come back in candidate order.
std::vector<ItemDecision> authorize_candidates(const DocumentCatalog& catalog, const Reader& reader,
                                               const std::vector<Candidate>& candidates, cedar::RecordPtr context,
                                               std::shared_ptr<const cedar::Entities> base,
                                               const DocumentDecideFn& decide);

}  // namespace ztgate::data
