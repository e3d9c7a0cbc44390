// What the retrieval endpoints share (retrieval_adapter.cpp: authorize and
// filter; retrieval_search_adapter.cpp: search): who reads, the context as
// Cedar sees it, the decision cache key under the catalog's version, and
// the embedded document index the search opens on first use.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include <initializer_list>
#include <vector>

#include "cedar/value.h"
#include "data/catalog.h"
#include "data/doc_index.h"
#include "data/post_filter.h"
#include "gateway/http_server.h"
#include "pipeline/exchange.h"

namespace ztgate::gateway::internal {

HttpResponse json_ok(const boost::json::object& body);
// {"error":{"code","message","request_id"}} with `status` (answers built off the pipeline: deferred work).
HttpResponse error_answer(const pipeline::Exchange& x, int status, const std::string& code, const std::string& message);
// Ends the exchange with 400 {code, message}.
void bad_input(pipeline::Exchange& x, std::string code, std::string message);

// The body as an object with only `allowed` members; an empty body is {}.
// Errors: "retrieval_request_invalid" with a JSON pointer.
Result<boost::json::object> parse_body(std::string_view body, std::initializer_list<std::string_view> allowed);

// Every snapshot load_snapshot builds has a catalog (empty without
// retrieval.documents); one built elsewhere may not: false with 503
// retrieval_unavailable, never a guess.
bool has_catalog(pipeline::Exchange& x);

// Sensitive documents handed out (retrieval.sensitive_from and above) are
// an audit event of their own (action retrieve_sensitive, the call's
// request id): their ids and labels, the first 256, with the full count;
// the call's record keeps the count. One event per call, not one per
// document: a call of up to retrieval.max_candidates documents would
// otherwise write as many records, and a single caller could fill the
// trail's queue (refusing everyone's requests); one event per call is
// bounded like the call's own record.
void record_sensitive(pipeline::Exchange& x, const data::DocumentCatalog& catalog,
                      const std::vector<data::Candidate>& candidates, const std::vector<data::ItemDecision>& decisions);

// Who reads, from the authenticated identity and its delegation chain.
data::Reader reader_of(const pipeline::Exchange& x);

// x.context as a Cedar record (nullopt: it does not convert).
std::optional<cedar::RecordPtr> cedar_context(const pipeline::Exchange& x);

// What makes a cached retrieval decision stale: the credential's entities
// and the catalog version (every upsert or delete bumps it).
std::string catalog_key(std::string_view entities_key, uint64_t catalog_version);

// The index at <dir>/index.db, read-only, opened once per (dir, limits) and
// kept; a missing index is retried on the next call (an ingest may have
// made it since). Errors: "index_unavailable".
Result<std::shared_ptr<const data::DocIndex>> doc_index(const std::string& dir, const data::IndexLimits& limits);

}  // namespace ztgate::gateway::internal
