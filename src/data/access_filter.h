// The pre-filter: what a principal may read, as a predicate a vector store
// applies before it searches. It encodes the catalog's ACL model (the
// shipped policies, examples/retrieval/policies.cedar): same tenant, a
// classification at most the user's clearance, and owner or reader among
// the user and every group it is in (transitively).
//
// The pre-filter is an optimization only: results still go through the
// post-filter, which decides with the deployment's actual policies. A site
// whose permits reach beyond this model (e.g. `resource in Space::"x"`)
// gets a narrower pre-filter, never a wider one.
//
// Store fields: tenant (text), classification (integer rank), owner
// (text: user id), readers (text array of "user:<id>" / "group:<id>").
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "data/catalog.h"

namespace ztgate::data {

struct AccessFilter {
  // Nothing matches (the user is unknown to the catalog, has no clearance
  // or no tenant): `why` says which.
  bool match_nothing = false;
  std::string why;
  std::string user;
  std::vector<std::string> acl_principals;  // "user:<id>", then "group:<id>" sorted
  int64_t max_classification = -1;
  std::string max_label;
  std::string tenant;
};

// For `user` (none: a principal that is no user and acts for none).
// Errors: "group_limit".
Result<AccessFilter> access_filter(const DocumentCatalog& catalog, const std::optional<std::string>& user,
                                   const std::vector<std::string>& credential_groups);

// The generic predicate:
//   {"all": [{"field":"tenant","op":"eq","value":..},
//            {"field":"classification","op":"lte","value":..},
//            {"any": [{"field":"owner","op":"eq","value":..},
//                     {"field":"readers","op":"overlaps","values":[..]}]}]}
// or {"none": true} when nothing matches.
boost::json::object predicate_json(const AccessFilter& f);

// PostgreSQL: a WHERE clause over the fields above with positional
// parameters ($1.. in `params` order; the readers are one text[] parameter).
// Values are never part of the SQL text.
struct SqlFilter {
  std::string where;
  boost::json::array params;
};
SqlFilter render_postgresql(const AccessFilter& f);

// OpenSearch / Elasticsearch: a bool query for a search's `query` (or
// `filter`) with term, range and terms clauses on keyword/long fields.
boost::json::object render_opensearch(const AccessFilter& f);

}  // namespace ztgate::data
