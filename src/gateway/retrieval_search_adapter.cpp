// The retrieval proxy (docs/RETRIEVAL.md "Search"): ztgate searches the
// embedded document index for the caller and hands out only what the
// caller may read, inspected, minimized and recorded.
//
//   POST /v1/retrieval/search
//     {"query": "...", "k"?: 1..retrieval.search.max_k, "purpose"?: "default"}
//     -> {"results": [{"id", "title"?, "summary"?, "text"?, "source"?, "score"?,
//                      "classification"?, "truncated"?, "spotlighted"?}],
//         "returned", "purpose", "catalog_version"}
//
// One call, in order:
//   1. the index's best k * overfetch candidates (BM25, at most
//      retrieval.max_candidates), ids only; or, with
//      retrieval.search.backend, the external service's (one POST, off the
//      server's threads, then decided through DeferredHooks::redecide);
//   2. the post-filter of POST /v1/retrieval/authorize over them
//      (data::authorize_candidates: the caller as reader, an agent bounded
//      by its user; decisions cached under the catalog version);
//   3. in rank order, each permitted document's fields as the purpose
//      projects them (and @minimize("summary_only") forces), cut to the
//      purpose's character budget, are inspected as channel retrieved_doc;
//      when inspection found something, the document is decided again with
//      that verdict in context.content, so policy can drop it (a deny; or
//      fail the call with retrieval.search.on_injection_deny: block) or
//      demand @spotlight;
//   4. the first k (and at most the purpose's max_documents) that pass.
// A document whose text cannot be inspected, whose allow carries an
// obligation this endpoint cannot honour (@redact, @pseudonymize), or whose
// catalog record is not the one it was ingested with (doc_index.h), is
// left out: nothing passes unchecked. Policies see context.retrieval.purpose.
//
// Errors: 400 retrieval_request_invalid, query_too_long, query_invalid,
// query_empty, unknown_purpose; 403 retrieved_content_blocked; 502
// retrieval_backend_failed; 503 retrieval_unavailable (no index configured
// or none ingested yet).
#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "gateway/adapter.h"
#include "common/job_pool.h"
#include "gateway/internal/retrieval_backend.h"
#include "gateway/internal/retrieval_support.h"
#include "inspect/spotlight.h"
#include "pipeline/decider.h"
#include "pipeline/inspect_stage.h"
#include "pipeline/snapshot.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;
using internal::bad_input;

// The text of a field cut to at most `budget` characters (code points), at
// a character boundary; the budget goes down by what was kept.
std::string cut_to_budget(std::string_view s, int64_t& budget, bool& cut) {
  size_t i = 0;
  int64_t chars = 0;
  while (i < s.size() && chars < budget) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
    ++chars;
  }
  if (i < s.size()) cut = true;
  budget -= chars;
  return std::string(s.substr(0, i));
}

bool projects(const config::RetrievalPurpose& p, std::string_view field) {
  return std::find(p.fields.begin(), p.fields.end(), field) != p.fields.end();
}

// Obligations of every decision taken for a document (its agent's and its
// user's, before and after inspection), merged: any one's demand holds.
void merge(pipeline::Obligations& into, const pipeline::Obligations& o) {
  into.redact.insert(into.redact.end(), o.redact.begin(), o.redact.end());
  into.pseudonymize.insert(into.pseudonymize.end(), o.pseudonymize.begin(), o.pseudonymize.end());
  if (o.spotlight && (!into.spotlight || *o.spotlight == "datamark" || into.spotlight->empty())) into.spotlight = o.spotlight;
  if (o.minimize) into.minimize = o.minimize;
}

// One search's state, shared by the exchange's decide_many and (external
// backend) the deferred work, which both outlive the adapter call.
class Search final : public std::enable_shared_from_this<Search> {
 public:
  AdapterAnswer respond(pipeline::Exchange& x);

  void run(pipeline::Exchange& x, const pipeline::Decider& decider, const cedar::Entities& entities,
           std::string_view entities_key);

  std::string query_;
  int64_t k_ = 0;
  const config::RetrievalPurpose* purpose_ = nullptr;  // in x.snapshot's config
  // External backend (retrieval.search.backend): the first pass through
  // the pipeline decides nothing; respond() fetches the candidates off the
  // server's threads, then has them decided (DeferredHooks::redecide).
  bool backend_ = false;
  std::optional<internal::BackendAnswer> fetched_;

 private:
  struct Counts {
    int64_t dropped_content = 0, dropped_obligation = 0, uninspectable = 0, truncated = 0, summary_only = 0,
            spotlighted = 0, stale = 0;
  };
  // One permitted document as it goes out, or nullopt when it is left out.
  std::optional<json::object> hand_out(pipeline::Exchange& x, const data::Candidate& c, const data::ItemDecision& first,
                                       const json::object& base_context, int64_t& budget, Counts& counts);
  data::DecisionOutcome decide(const cedar::Request& r, std::string_view item_key, const data::EntitiesFn& layer);
  std::vector<data::ItemDecision> authorize(pipeline::Exchange& x, const std::vector<data::Candidate>& candidates);
  size_t wanted(const config::RetrievalSettings& s) const;
  HttpResponse fetch_and_decide(pipeline::Exchange& ex, const DeferredHooks& hooks);

  json::object body_;
  // Set for the duration of run().
  const pipeline::Decider* decider_ = nullptr;
  std::string key_;
  std::shared_ptr<const cedar::Entities> base_;
  std::shared_ptr<const data::DocumentCatalog> catalog_;
  std::shared_ptr<const data::DocIndex> index_;
  std::map<std::string, pipeline::Obligations, std::less<>> obligations_;  // by document id
  std::string nonce_;
};

data::DecisionOutcome Search::decide(const cedar::Request& r, std::string_view item_key,
                                         const data::EntitiesFn& layer) {
  pipeline::Verdict v = decider_->decide_lazily(r, key_ + std::string(item_key), layer);
  bool allow = v.decision == cedar::Decision::kAllow;
  if (allow) merge(obligations_[r.resource.id], v.obligations);
  return data::DecisionOutcome{allow, v.names.empty() ? v.determining : v.names};
}

std::vector<data::ItemDecision> Search::authorize(pipeline::Exchange& x, const std::vector<data::Candidate>& candidates) {
  auto context = internal::cedar_context(x);
  if (!context) return std::vector<data::ItemDecision>(candidates.size());  // all denied
  auto fn = [this](const cedar::Request& r, std::string_view item_key, const data::EntitiesFn& layer) {
    return decide(r, item_key, layer);
  };
  return data::authorize_candidates(*catalog_, internal::reader_of(x), candidates, *context, base_, fn);
}

std::optional<json::object> Search::hand_out(pipeline::Exchange& x, const data::Candidate& c,
                                                 const data::ItemDecision& first, const json::object& base_context,
                                                 int64_t& budget, Counts& counts) {
  std::optional<data::IndexedDocument> doc;
  if (fetched_) {
    for (const auto& f : fetched_->documents)
      if (f.id == c.id) {
        doc = f;  // ids are unique among the candidates (run() keeps each id's first)
        break;
      }
  } else if (auto got = index_->get(c.id); got && *got) {
    doc = std::move(**got);
    // Text from the index goes out only under the ACL it was ingested with (doc_index.h).
    const data::DocumentRecord* record = catalog_->document(c.id);
    if (!record || data::acl_fingerprint(*record) != doc->acl) {
      ++counts.stale;
      return std::nullopt;
    }
  }
  if (!doc) return std::nullopt;  // gone since the search: nothing to hand out
  const data::IndexedDocument& d = *doc;
  pipeline::Obligations o = obligations_[c.id];
  if (!o.redact.empty() || !o.pseudonymize.empty()) {
    ++counts.dropped_obligation;  // this endpoint does not redact documents
    return std::nullopt;
  }
  // The fields as projected, within the budget: what inspection sees is
  // exactly what would go out.
  bool cut = false;
  auto project = [&](const pipeline::Obligations& ob) {
    bool summary_only = ob.minimize.has_value();
    int64_t left = budget;
    json::object out{{"id", c.id}};
    cut = false;
    if (projects(*purpose_, "title")) out["title"] = cut_to_budget(d.title, left, cut);
    if (projects(*purpose_, "summary")) out["summary"] = cut_to_budget(d.summary, left, cut);
    if (projects(*purpose_, "text") && !summary_only) out["text"] = cut_to_budget(d.text, left, cut);
    return std::pair{std::move(out), left};
  };
  auto [out, left] = project(o);
  std::string inspected;
  for (const char* f : {"title", "summary", "text"})
    if (const json::value* v = out.if_contains(f)) (inspected += v->get_string()) += '\n';
  x.context = base_context;
  if (!pipeline::inspect_texts(x, {pipeline::InspectText{inspect::Channel::retrieved_doc, inspected, "document " + c.id}})) {
    x.ending.reset();  // the call goes on without this document
    ++counts.uninspectable;
    return std::nullopt;
  }
  // Inspection found something: decide again with its verdict in context
  // (a clean document's context is the one already decided on).
  if (x.context != base_context) {
    auto again = authorize(x, {c});
    if (!again.front().allow) {
      ++counts.dropped_content;
      if (x.snapshot->config.retrieval.search.block_on_injection)
        x.ending = pipeline::Ending{403, "retrieved_content_blocked",
                                    "a retrieved document was refused for its content", {}, ""};
      return std::nullopt;
    }
    o = obligations_[c.id];  // with the second decision's demands
    if (!o.redact.empty() || !o.pseudonymize.empty()) {
      ++counts.dropped_obligation;
      return std::nullopt;
    }
    if (o.minimize && out.contains("text")) std::tie(out, left) = project(o);  // only ever less than was inspected
  }
  budget = left;
  if (cut) {
    out["truncated"] = true;
    ++counts.truncated;
  }
  if (o.minimize) ++counts.summary_only;
  if (o.spotlight) {
    inspect::SpotlightMode mode = inspect::SpotlightMode::datamark;
    const std::string& asked = o.spotlight->empty() ? x.snapshot->config.inspection.spotlight : *o.spotlight;
    if (!inspect::parse_spotlight_mode(asked, mode)) mode = inspect::SpotlightMode::datamark;
    if (nonce_.empty()) nonce_ = inspect::new_spotlight_nonce();
    for (const char* f : {"title", "summary", "text"})
      if (json::value* v = out.if_contains(f); v && !v->get_string().empty())
        *v = inspect::spotlight(v->get_string(), mode, nonce_, "document " + c.id);
    out["spotlighted"] = true;
    ++counts.spotlighted;
  }
  if (projects(*purpose_, "source")) out["source"] = d.source_path;
  if (projects(*purpose_, "classification") && first.classification >= 0)
    out["classification"] = catalog_->scale().label(first.classification);
  return out;
}

// Candidates to search for: k * overfetch, at most max_candidates.
size_t Search::wanted(const config::RetrievalSettings& s) const {
  return static_cast<size_t>(std::min<int64_t>(k_ * s.search.overfetch, s.max_candidates));
}

AdapterAnswer Search::respond(pipeline::Exchange& x) {
  if (!backend_) return internal::json_ok(body_);
  static JobPool pool(4, 64);
  Deferred d;
  const auto& settings = x.snapshot->config.retrieval;
  d.timeout = std::chrono::milliseconds(settings.search.backend.timeout_ms + 2000);  // the service's own timeout answers first
  d.submit = [](std::function<void()> job) { return pool.submit(std::move(job)); };
  d.work = [self = shared_from_this()](pipeline::Exchange& ex, const DeferredHooks& hooks) -> HttpResponse {
    return self->fetch_and_decide(ex, hooks);
  };
  return d;
}

HttpResponse Search::fetch_and_decide(pipeline::Exchange& ex, const DeferredHooks& hooks) {
  const auto& r = ex.snapshot->config.retrieval;
  auto answer = internal::backend_search(r.search.backend, query_, wanted(r), static_cast<size_t>(r.search.max_document_bytes));
  if (!answer) {
    ex.upstream_error = answer.error().code;
    return internal::error_answer(ex, 502, answer.error().code, answer.error().message);
  }
  fetched_ = std::move(*answer);
  if (!hooks.redecide(ex)) {
    const pipeline::Ending& e = *ex.ending;
    return internal::error_answer(ex, e.status, e.code, e.message);
  }
  return internal::json_ok(body_);
}

void Search::run(pipeline::Exchange& x, const pipeline::Decider& decider, const cedar::Entities& entities,
                     std::string_view entities_key) {
  const auto& settings = x.snapshot->config.retrieval;
  std::vector<data::SearchHit> hits;
  if (backend_) {
    if (!fetched_) return;  // the first pass: respond() fetches, then decides
    std::set<std::string_view> seen;  // a service may repeat an id: its first place counts
    for (size_t i = 0; i < fetched_->documents.size(); ++i)
      if (seen.insert(fetched_->documents[i].id).second) hits.push_back({fetched_->documents[i].id, fetched_->scores[i]});
  } else {
    data::IndexLimits limits;
    limits.max_query_bytes = static_cast<size_t>(settings.search.max_query_bytes);
    limits.max_results = static_cast<size_t>(settings.max_candidates);
    auto index = internal::doc_index(settings.search.index, limits);
    if (!index) {
      x.ending = pipeline::Ending{503, "retrieval_unavailable", index.error().message, {}, ""};
      return;
    }
    index_ = *index;
    auto found = index_->search(query_, wanted(settings));
    if (!found) {
      bool unavailable = found.error().code == "index_unavailable";
      x.ending = pipeline::Ending{unavailable ? 503 : 400, unavailable ? "retrieval_unavailable" : found.error().code,
                                  found.error().message, {}, ""};
      return;
    }
    hits = std::move(*found);
  }
  decider_ = &decider;
  catalog_ = x.snapshot->catalog->current();
  key_ = internal::catalog_key(entities_key, catalog_->version());
  // Not owned: the entities outlive this call.
  base_ = std::shared_ptr<const cedar::Entities>(std::shared_ptr<const cedar::Entities>{}, &entities);
  std::vector<data::Candidate> candidates;
  for (const auto& h : hits) candidates.push_back(data::Candidate{h.id, std::nullopt});
  std::vector<data::ItemDecision> decisions = authorize(x, candidates);

  const json::object base_context = x.context;
  int64_t budget = purpose_->max_total_chars;
  size_t limit = static_cast<size_t>(std::min(k_, purpose_->max_documents));
  Counts counts;
  json::array results;
  std::vector<data::Candidate> out_candidates;
  std::vector<data::ItemDecision> out_decisions;
  for (size_t i = 0; i < candidates.size() && results.size() < limit && !x.ending; ++i) {
    if (!decisions[i].allow) continue;
    if (budget <= 0 && purpose_->max_total_chars > 0) break;  // the characters are spent: no id-only leftovers
    auto out = hand_out(x, candidates[i], decisions[i], base_context, budget, counts);
    if (!out) continue;
    if (projects(*purpose_, "score")) (*out)["score"] = hits[i].score;
    results.push_back(std::move(*out));
    out_candidates.push_back(candidates[i]);
    out_decisions.push_back(decisions[i]);
  }
  x.context = base_context;
  int64_t allowed = 0, unknown = 0;
  for (const auto& d : decisions) {
    allowed += d.allow ? 1 : 0;
    unknown += d.reason == "unknown_document" ? 1 : 0;
  }
  internal::record_sensitive(x, *catalog_, out_candidates, out_decisions);
  x.details["query_bytes"] = static_cast<int64_t>(query_.size());
  x.details["k"] = k_;
  x.details["purpose"] = purpose_->name;
  x.details["candidates"] = static_cast<int64_t>(candidates.size());
  x.details["allowed"] = allowed;
  x.details["denied"] = static_cast<int64_t>(candidates.size()) - allowed;
  x.details["unknown"] = unknown;
  x.details["returned"] = static_cast<int64_t>(results.size());
  x.details["dropped_for_content"] = counts.dropped_content;
  x.details["dropped_for_obligation"] = counts.dropped_obligation;
  x.details["uninspectable"] = counts.uninspectable;
  x.details["stale_acl"] = counts.stale;
  if (fetched_) x.details["backend_skipped"] = static_cast<int64_t>(fetched_->skipped);
  x.details["truncated"] = counts.truncated;
  x.details["summary_only"] = counts.summary_only;
  x.details["spotlighted"] = counts.spotlighted;
  x.details["catalog_version"] = catalog_->version();
  body_ = json::object{{"results", std::move(results)},
                       {"returned", x.details["returned"]},
                       {"purpose", purpose_->name},
                       {"catalog_version", catalog_->version()}};
  decider_ = nullptr;
  base_.reset();
}

class SearchCall final : public AdapterCall {
 public:
  explicit SearchCall(std::shared_ptr<Search> s) : search_(std::move(s)) {}
  AdapterAnswer respond(pipeline::Exchange& x) override { return search_->respond(x); }

 private:
  std::shared_ptr<Search> search_;
};

Status parse_search(const json::object& body, const config::RetrievalSearchSettings& s, Search& call) {
  const json::value* q = body.if_contains("query");
  if (!q || !q->is_string()) return make_error("retrieval_request_invalid", "/query: a string is required");
  call.query_ = std::string(q->get_string());
  call.k_ = s.default_k;
  if (const json::value* k = body.if_contains("k")) {
    if (!k->is_int64() || k->get_int64() < 1 || k->get_int64() > s.max_k)
      return make_error("retrieval_request_invalid",
                        "/k: an integer from 1 to retrieval.search.max_k (" + std::to_string(s.max_k) + ")");
    call.k_ = k->get_int64();
  }
  std::string purpose = "default";
  if (const json::value* p = body.if_contains("purpose")) {
    if (!p->is_string()) return make_error("retrieval_request_invalid", "/purpose: must be a string");
    purpose = std::string(p->get_string());
  }
  call.purpose_ = s.purpose(purpose);
  if (!call.purpose_) return make_error("unknown_purpose", "/purpose: no retrieval purpose is named \"" + purpose.substr(0, 64) + "\"");
  return Ok{};
}

}  // namespace

std::unique_ptr<AdapterCall> start_retrieval_search(const HttpRequest& request, pipeline::Exchange& x) {
  x.adapter = "retrieval";
  x.action = "retrieve";
  if (!internal::has_catalog(x)) return nullptr;
  const auto& search = x.snapshot->config.retrieval.search;
  if (search.index.empty() && search.backend.url.empty()) {
    x.ending = pipeline::Ending{503, "retrieval_unavailable",
                                "no document index (retrieval.search.index) or retrieval service (retrieval.search.backend) is configured",
                                {}, ""};
    return nullptr;
  }
  auto body = internal::parse_body(request.body, {"query", "k", "purpose"});
  if (!body) return bad_input(x, body.error().code, body.error().message), nullptr;
  auto call = std::make_shared<Search>();
  auto parsed = parse_search(*body, search, *call);
  if (!parsed) return bad_input(x, parsed.error().code, parsed.error().message), nullptr;
  call->backend_ = !search.backend.url.empty();
  x.context["retrieval"] = json::object{{"purpose", call->purpose_->name}, {"k", call->k_}};
  x.decide_many = [call](pipeline::Exchange& ex, const pipeline::Decider& decider, const cedar::Entities& entities,
                         std::string_view entities_key) { call->run(ex, decider, entities, entities_key); };
  return std::make_unique<SearchCall>(call);
}

}  // namespace ztgate::gateway
