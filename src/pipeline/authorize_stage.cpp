#include <boost/json.hpp>

#include <cstdint>
#include <optional>

#include "cedar/entities.h"
#include "pipeline/decider.h"
#include "pipeline/snapshot.h"
#include "pipeline/stages.h"

namespace ztgate::pipeline {
namespace {

namespace json = boost::json;

// The context the stages built (plain JSON: strings, booleans, integers,
// arrays as sets, objects as records) as a Cedar value, without a round trip
// through JSON text. Null, fractions and depth beyond 32 have no Cedar value.
std::optional<cedar::Value> to_cedar(const json::value& v, int depth);

std::optional<cedar::Value> to_cedar(const json::object& o, int depth = 0) {
  cedar::ValueRecord fields;
  for (const auto& m : o) {
    auto c = to_cedar(m.value(), depth + 1);
    if (!c) return std::nullopt;
    fields.emplace(std::string(m.key()), std::move(*c));
  }
  return cedar::Value::record(std::move(fields));
}

std::optional<cedar::Value> to_cedar(const json::value& v, int depth) {
  if (depth > 32) return std::nullopt;
  switch (v.kind()) {
    case json::kind::bool_: return cedar::Value(v.get_bool());
    case json::kind::int64: return cedar::Value(v.get_int64());
    case json::kind::uint64:
      if (v.get_uint64() > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
      return cedar::Value(static_cast<int64_t>(v.get_uint64()));
    case json::kind::string: return cedar::Value(std::string(v.get_string()));
    case json::kind::array: {
      cedar::ValueSet elems;
      elems.reserve(v.get_array().size());
      for (const auto& e : v.get_array()) {
        auto c = to_cedar(e, depth + 1);
        if (!c) return std::nullopt;
        elems.push_back(std::move(*c));
      }
      return cedar::Value::set(std::move(elems));
    }
    case json::kind::object: return to_cedar(v.get_object(), depth);
    default: return std::nullopt;
  }
}

// The part of the context the policies can observe (snapshot.context_paths),
// converted: the rest (the prompt's messages, most of the time) never
// reaches Cedar, which decides exactly as with the whole context
// (restrict_context's guarantee, checked by its tests and fuzzer).
// paths[b, e) share their first d attributes and have more than d.
std::optional<cedar::ValueRecord> observed_record(const json::object& o, const std::vector<ContextPath>& paths,
                                                  size_t b, size_t e, size_t d) {
  cedar::ValueRecord out;
  for (size_t i = b; i < e;) {
    const std::string& name = paths[i].attrs[d];
    size_t j = i;
    bool ends_here = false;
    for (; j < e && paths[j].attrs[d] == name; ++j) ends_here = ends_here || paths[j].attrs.size() == d + 1;
    if (const json::value* v = o.if_contains(name)) {
      if (ends_here || !v->is_object()) {
        auto c = to_cedar(*v, static_cast<int>(d) + 1);
        if (!c) return std::nullopt;
        out.emplace(name, std::move(*c));
      } else {
        auto sub = observed_record(v->get_object(), paths, i, j, d + 1);
        if (!sub) return std::nullopt;
        out.emplace(name, cedar::Value::record(std::move(*sub)));
      }
    }
    i = j;
  }
  return out;
}

std::optional<cedar::ValueRecord> observed_context(const json::object& context, const ContextPaths& paths) {
  if (paths.whole) {
    auto whole = to_cedar(context);
    if (!whole || !whole->is_record()) return std::nullopt;
    return whole->as_record();
  }
  return observed_record(context, paths.paths, 0, paths.paths.size(), 0);
}

Ending bad_request(std::string code, std::string message) {
  return Ending{400, std::move(code), std::move(message), {}, ""};
}

class AuthorizeStage final : public Stage {
 public:
  explicit AuthorizeStage(DecisionCache& cache) : cache_(cache) {}
  const char* name() const override { return "authorize"; }

  Flow on_request(Exchange& x) override {
    const Snapshot& s = *x.snapshot;
    // max_entries 0 turns the cache off (benchmarks of the miss path).
    Decider decider(s, cache_.limits().max_entries > 0 ? &cache_ : nullptr);
    if (x.pdp_query) {
      if (!caller_may_query(x, decider)) return Flow::kStop;
      // The query's own subject, no credential entities.
      if (x.decide_many) x.decide_many(x, decider, *s.bundle.entities, {});
      return x.ending ? Flow::kStop : Flow::kContinue;
    }
    if (!x.request && !x.decide_many) {
      auto request = build_request(x);
      if (!request) {
        x.ending = bad_request(request.error().code, request.error().message);
        return Flow::kStop;
      }
      x.request = std::move(*request);
    }
    if (x.request_entities.empty()) {
      decide(x, decider, *s.bundle.entities, {});
      return x.ending ? Flow::kStop : Flow::kContinue;
    }
    std::string entities_key = json::serialize(x.request_entities);
    auto overlay = [&] { return overlay_entities(s, entities_key); };
    if (x.decide_many) {
      auto entities = overlay();
      if (!entities) {
        x.ending = Ending{403, "forbidden", entities.error().message, {}, ""};
        return Flow::kStop;
      }
      x.decide_many(x, decider, **entities, entities_key);
    } else {
      x.verdict = decider.decide_lazily(*x.request, entities_key, overlay);
    }
    return x.ending ? Flow::kStop : Flow::kContinue;
  }

 private:
  // The credential's entities overlay the store for this request only;
  // built on a cache miss (their serialization is part of the key).
  static Result<std::shared_ptr<const cedar::Entities>> overlay_entities(const Snapshot& s,
                                                                        const std::string& entities_key) {
    auto parsed = cedar::parse_entities_json(entities_key);
    if (!parsed) return make_error("entities_invalid", "the credential's entities did not convert: " + parsed.error().message);
    std::vector<cedar::Entity> own;
    parsed->for_each([&](const cedar::Entity& e) { own.push_back(e); });
    auto merged = cedar::Entities::overlay(s.bundle.entities, std::move(own));
    if (!merged) return make_error("entities_invalid", "the credential's entities conflict: " + merged.error().message);
    return std::make_shared<const cedar::Entities>(std::move(*merged));
  }

  // A PDP answers questions about anyone's access, so asking is itself an
  // action: the authenticated caller needs Action::"query_pdp" on
  // Pdp::"authzen" (or Pdp::"cedar"), unless pdp.authorize_callers is off or
  // callers are not authenticated at all. False: x.ending is set (403).
  static bool caller_may_query(Exchange& x, const Decider& decider) {
    const Snapshot& s = *x.snapshot;
    if (!x.identity || !s.config.pdp_authorize_callers) return true;
    auto context = observed_context(x.context, s.context_paths);
    if (!context) {
      x.ending = bad_request("context_invalid", "the request context has a value with no Cedar form");
      return false;
    }
    cedar::Request r;
    r.principal = cedar::EntityUID{x.identity->principal.type, x.identity->principal.id};
    r.action = cedar::EntityUID{"Action", "query_pdp"};
    r.resource = cedar::EntityUID{"Pdp", x.adapter};
    r.context = std::make_shared<const cedar::ValueRecord>(std::move(*context));
    Verdict caller = x.request_entities.empty()
                         ? decider.decide(r, *s.bundle.entities)
                         : [&] {
                             std::string key = json::serialize(x.request_entities);
                             return decider.decide_lazily(r, key, [&] { return overlay_entities(s, key); });
                           }();
    if (caller.decision == cedar::Decision::kAllow) return true;
    x.details["caller_policies"] = json::array(caller.determining.begin(), caller.determining.end());
    x.ending = Ending{403, "forbidden",
                      "this caller may not query the PDP: no policy permits Action::\"query_pdp\" on Pdp::\"" +
                          x.adapter + "\"",
                      {}, ""};
    return false;
  }

  static void decide(Exchange& x, const Decider& decider, const cedar::Entities& entities, std::string_view key) {
    if (x.decide_many) {
      x.decide_many(x, decider, entities, key);
    } else {
      x.verdict = decider.decide(*x.request, entities, key);
    }
  }

  static Result<cedar::Request> build_request(const Exchange& x) {
    if (!x.identity) return make_error("internal_error", "no principal to authorize");
    const auto& p = x.identity->principal;
    auto context = observed_context(x.context, x.snapshot->context_paths);
    if (!context) return make_error("context_invalid", "the request context has a value with no Cedar form");
    cedar::Request r;
    r.principal = cedar::EntityUID{p.type, p.id};
    r.action = cedar::EntityUID{"Action", x.action};
    r.resource = cedar::EntityUID{x.resource.type, x.resource.id};
    r.context = std::make_shared<const cedar::ValueRecord>(std::move(*context));
    return r;
  }

  DecisionCache& cache_;
};

}  // namespace

std::unique_ptr<Stage> make_authorize_stage(DecisionCache& cache) { return std::make_unique<AuthorizeStage>(cache); }

}  // namespace ztgate::pipeline
