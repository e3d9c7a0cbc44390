// The retrieval proxy's external backend (retrieval.search.backend,
// docs/RETRIEVAL.md "External backend"): one POST to the service with the
// query, its answer mapped by JSON pointers to candidates with their text.
// Bounded: the answer's size (max_response_bytes), the time (timeout), the
// candidates kept (the first `k`), each field's size (a result with an id
// that is not 1..512 bytes or a text over max_document_bytes is skipped and
// counted). Errors: "retrieval_backend_failed" (transport, a non-2xx status,
// an answer that is not JSON or has no results array); the message names
// the failing step, never the query.
#pragma once

#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/retrieval_config.h"
#include "data/doc_index.h"

namespace ztgate::gateway::internal {

struct BackendAnswer {
  std::vector<data::IndexedDocument> documents;  // the service's order
  std::vector<double> scores;                    // one per document (0 when unmapped)
  size_t skipped = 0;                            // results that broke a bound or lacked id/text
};

Result<BackendAnswer> backend_search(const config::RetrievalBackend& backend, std::string_view query, size_t k,
                                     size_t max_document_bytes);

// The mapping alone, over an answer's body (exposed for tests).
Result<BackendAnswer> map_backend_answer(const config::RetrievalBackend& backend, std::string_view body, size_t k,
                                         size_t max_document_bytes);

}  // namespace ztgate::gateway::internal
