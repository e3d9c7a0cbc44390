// The retrieval adapter (docs/RETRIEVAL.md): document-level authorization
// for whatever retrieves on a principal's behalf, through the pipeline
// (caller authenticated, decisions cached under the catalog's version,
// one audit record per call).
//
//   POST /v1/retrieval/authorize   the post-filter
//     {"candidates": [{"id": "...", "label"?: "...", "text"?: "..."}], "debug"?: bool}
//     -> {"results": [the permitted candidates, as given, in order],
//         "allowed", "denied", "catalog_version",
//         "decisions"?: [{"id", "allow", "reason", "policies"?}]}   (debug)
//   POST /v1/retrieval/filter      the pre-filter
//     {} (or no body) -> {"user", "acl_principals", "max_classification", "tenant",
//         "match_nothing", "predicate", "postgresql": {"where", "params"},
//         "opensearch", "catalog_version", "post_filter_required": true}
//
// The principal is the authenticated caller: a user reads as itself; an
// agent acting for a user reads as itself AND within its user's view
// (data/post_filter.h). Errors: 400 retrieval_request_invalid,
// 400 too_many_candidates, 403 forbidden (group_limit).
#include <boost/json.hpp>

#include <algorithm>

#include "common/json_keys.h"
#include "data/access_filter.h"
#include "data/post_filter.h"
#include "gateway/adapter.h"
#include "gateway/internal/retrieval_support.h"
#include "pipeline/decider.h"
#include "pipeline/snapshot.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;

using internal::bad_input;
using internal::catalog_key;
using internal::cedar_context;
using internal::has_catalog;
using internal::json_ok;
using internal::parse_body;
using internal::reader_of;
using internal::record_sensitive;

class AuthorizeCall final : public AdapterCall {
 public:
  AdapterAnswer respond(pipeline::Exchange&) override {
    json::array results, decisions;
    int64_t allowed = 0;
    for (size_t i = 0; i < items_.size(); ++i) {
      const auto& d = decisions_[i];
      if (d.allow) {
        results.push_back(items_[i]);
        ++allowed;
      }
      if (debug_) {
        json::object o{{"id", candidates_[i].id}, {"allow", d.allow}, {"reason", d.reason}};
        if (explain_) {
          json::array policies;
          for (const auto& p : d.policies) policies.emplace_back(p);
          o["policies"] = std::move(policies);
        }
        decisions.push_back(std::move(o));
      }
    }
    json::object body{{"results", std::move(results)},
                      {"allowed", allowed},
                      {"denied", static_cast<int64_t>(items_.size()) - allowed},
                      {"catalog_version", catalog_version_}};
    if (debug_) body["decisions"] = std::move(decisions);
    return json_ok(body);
  }

  bool debug_ = false;
  bool explain_ = false;
  uint64_t catalog_version_ = 0;
  json::array items_;  // the candidates as given
  std::vector<data::Candidate> candidates_;
  std::vector<data::ItemDecision> decisions_;
};

Status parse_candidates(const json::object& body, size_t max, AuthorizeCall& call) {
  const json::value* c = body.if_contains("candidates");
  if (!c || !c->is_array()) return make_error("retrieval_request_invalid", "/candidates: must be an array");
  if (c->get_array().size() > max)
    return make_error("too_many_candidates", "/candidates: more than retrieval.max_candidates (" + std::to_string(max) + ")");
  if (const json::value* d = body.if_contains("debug")) {
    if (!d->is_bool()) return make_error("retrieval_request_invalid", "/debug: must be a boolean");
    call.debug_ = d->get_bool();
  }
  for (size_t i = 0; i < c->get_array().size(); ++i) {
    const json::value& item = c->get_array()[i];
    std::string at = "/candidates/" + std::to_string(i);
    const json::object* o = item.if_object();
    if (!o) return make_error("retrieval_request_invalid", at + ": must be an object");
    data::Candidate cand;
    for (const auto& m : *o) {
      if (m.key() != "id" && m.key() != "label" && m.key() != "text")
        return make_error("retrieval_request_invalid", at + "/" + printable_key(m.key()) + ": unknown member");
      if (!m.value().is_string())
        return make_error("retrieval_request_invalid", at + "/" + printable_key(m.key()) + ": must be a string");
    }
    const json::value* id = o->if_contains("id");
    if (!id || id->get_string().empty() || id->get_string().size() > data::kMaxIdBytes)
      return make_error("retrieval_request_invalid", at + "/id: a string of 1 to 512 bytes is required");
    cand.id = std::string(id->get_string());
    if (const json::value* l = o->if_contains("label")) cand.label = std::string(l->get_string());
    call.candidates_.push_back(std::move(cand));
    call.items_.push_back(item);
  }
  return Ok{};
}

class FilterCall final : public AdapterCall {
 public:
  AdapterAnswer respond(pipeline::Exchange&) override { return json_ok(body_); }
  json::object body_;
};

json::object filter_json(const data::AccessFilter& f, uint64_t catalog_version) {
  json::array principals;
  for (const auto& p : f.acl_principals) principals.emplace_back(p);
  data::SqlFilter sql = data::render_postgresql(f);
  json::object out{{"user", f.user},
                    {"acl_principals", std::move(principals)},
                    {"match_nothing", f.match_nothing},
                    {"predicate", data::predicate_json(f)},
                    {"postgresql", {{"where", sql.where}, {"params", std::move(sql.params)}}},
                    {"opensearch", data::render_opensearch(f)},
                    {"catalog_version", catalog_version},
                    {"post_filter_required", true}};
  if (f.match_nothing) {
    out["why"] = f.why;
  } else {
    out["max_classification"] = {{"rank", f.max_classification}, {"label", f.max_label}};
    out["tenant"] = f.tenant;
  }
  return out;
}

}  // namespace

std::unique_ptr<AdapterCall> start_retrieval_authorization(const HttpRequest& request, pipeline::Exchange& x) {
  x.adapter = "retrieval";
  x.action = "retrieve";
  if (!has_catalog(x)) return nullptr;
  auto body = parse_body(request.body, {"candidates", "debug"});
  if (!body) return bad_input(x, body.error().code, body.error().message), nullptr;
  auto call = std::make_unique<AuthorizeCall>();
  auto parsed = parse_candidates(*body, static_cast<size_t>(x.snapshot->config.retrieval.max_candidates), *call);
  if (!parsed) return bad_input(x, parsed.error().code, parsed.error().message), nullptr;
  call->explain_ = x.snapshot->config.explain_denials;
  AuthorizeCall* c = call.get();
  x.decide_many = [c](pipeline::Exchange& ex, const pipeline::Decider& decider, const cedar::Entities& entities,
                      std::string_view entities_key) {
    auto context = cedar_context(ex);
    if (!context) {
      ex.ending = pipeline::Ending{500, "internal_error", "the request context did not convert", {}, ""};
      return;
    }
    auto catalog = ex.snapshot->catalog->current();
    c->catalog_version_ = catalog->version();
    std::string key = catalog_key(entities_key, catalog->version());
    // Not owned: the entities outlive this call.
    std::shared_ptr<const cedar::Entities> base(std::shared_ptr<const cedar::Entities>{}, &entities);
    auto decide = [&](const cedar::Request& r, std::string_view item_key, const data::EntitiesFn& document_layer) {
      pipeline::Verdict v = decider.decide_lazily(r, key + std::string(item_key), document_layer);
      // An allow with obligations (@redact...) is one this endpoint cannot
      // honour on a document it does not carry: refused, never passed on.
      bool obligations = !v.obligations.redact.empty() || !v.obligations.pseudonymize.empty() || v.obligations.spotlight ||
                         v.obligations.minimize;
      bool allow = v.decision == cedar::Decision::kAllow && !obligations;
      return data::DecisionOutcome{allow, v.names.empty() ? v.determining : v.names};
    };
    c->decisions_ = data::authorize_candidates(*catalog, reader_of(ex), c->candidates_, *context, base, decide);
    int64_t allowed = 0, unknown = 0;
    for (const auto& d : c->decisions_) {
      allowed += d.allow ? 1 : 0;
      unknown += d.reason == "unknown_document" ? 1 : 0;
    }
    record_sensitive(ex, *catalog, c->candidates_, c->decisions_);
    ex.details["candidates"] = static_cast<int64_t>(c->decisions_.size());
    ex.details["allowed"] = allowed;
    ex.details["denied"] = static_cast<int64_t>(c->decisions_.size()) - allowed;
    ex.details["unknown"] = unknown;
    ex.details["catalog_version"] = catalog->version();
  };
  return call;
}

std::unique_ptr<AdapterCall> start_retrieval_filter(const HttpRequest& request, pipeline::Exchange& x) {
  x.adapter = "retrieval";
  x.action = "retrieve";
  if (!has_catalog(x)) return nullptr;
  auto body = parse_body(request.body, {});
  if (!body) return bad_input(x, body.error().code, body.error().message), nullptr;
  auto call = std::make_unique<FilterCall>();
  FilterCall* c = call.get();
  x.decide_many = [c](pipeline::Exchange& ex, const pipeline::Decider&, const cedar::Entities&, std::string_view) {
    auto catalog = ex.snapshot->catalog->current();
    data::Reader reader = reader_of(ex);
    auto filter = data::access_filter(*catalog, reader.user, reader.credential_groups);
    if (!filter) {
      ex.ending = pipeline::Ending{403, "forbidden", filter.error().message, {}, ""};
      return;
    }
    c->body_ = filter_json(*filter, catalog->version());
    c->body_["principal"] = cedar::to_string(reader.principal);
    ex.details["filter_principals"] = static_cast<int64_t>(filter->acl_principals.size());
    ex.details["match_nothing"] = filter->match_nothing;
    ex.details["catalog_version"] = catalog->version();
  };
  return call;
}

}  // namespace ztgate::gateway
