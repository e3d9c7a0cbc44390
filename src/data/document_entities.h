// The catalog as Cedar sees it, built per call for only what the call
// touches (a million documents never become a million Cedar entities):
//
//   Document::"<id>"  attrs: owner (User, when set), reader_users (Set<User>),
//                     reader_groups (Set<Group>), classification (Long rank),
//                     classification_label, tenant, source, tags (Set<String>),
//                     is_chunk (Bool)
//                     parents: every container above it (Folder / Collection
//                     / Space, flattened: `in` holds for each), and for a
//                     chunk its Document
//   User::"<id>"      attrs: clearance (Long rank, when known), tenant (when known)
//                     parents: every group it is in, transitively (the
//                     catalog's nesting over its catalog groups and the
//                     credential's)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cedar/entities.h"
#include "data/catalog.h"

namespace ztgate::data {

// `classification` overrides the record's rank (a stricter label given by the caller).
cedar::Entity document_entity(const DocumentCatalog& catalog, const DocumentRecord& d, int64_t classification);

// The user with the catalog's facts; a user the catalog does not know gets
// only the groups (no clearance, no tenant: policies that need them deny).
// Errors: "group_limit".
Result<cedar::Entity> user_entity(const DocumentCatalog& catalog, const std::string& user_id,
                                  const std::vector<std::string>& credential_groups);

}  // namespace ztgate::data
