// Fuzz target: the Cedar evaluator and authorizer, on static policies and
// on policies linked from templates.
//
// Input, in up to three parts separated by a line "---":
//
//   <Cedar policies and templates>
//   ---
//   <entities JSON, added to the fixed store below>      (optional)
//   ---
//   <requests JSON: [{"principal": {"type":..,"id":..},
//                     "action": .., "resource": ..,
//                     "context": {..}}, ...]>           (optional)
//
// Every template is linked twice (?principal and ?resource set to fixed
// entities). The requests are a fixed list over the fixed store, plus up
// to kMaxInputRequests from the input.
//
// Properties checked:
//   1. Parsing, linking and authorization return; they never crash, hang,
//      leak or hit undefined behavior. Expressions are bounded in height by
//      the parser (kMaxExprHeight), so evaluation time is bounded too.
//   2. The Authorizer (which evaluates only the policies its scope index
//      selects) answers exactly as evaluating every policy in order:
//      same decision, determining policies and erroring policies.
//   3. The printed policy set (format_policies), parsed and linked again,
//      answers every request the same way (decision, and which policies
//      determine it or error, by position).
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cedar/authorizer.h"
#include "cedar/entities.h"
#include "cedar/eval.h"
#include "cedar/policy_set.h"
#include "property.h"

namespace {

using namespace ztgate::cedar;
using ztgate::fuzz::require;
namespace json = boost::json;

constexpr std::string_view kSeparator = "\n---\n";
constexpr size_t kMaxInputRequests = 8;

// A small world with a hierarchy (a diamond and a dangling parent),
// tags, extension values and attributes of every type.
constexpr std::string_view kFixedEntities = R"([
  {"uid": {"type": "User", "id": "alice"},
   "attrs": {
     "name": "Alice", "age": 30, "active": true, "empty": "",
     "max": 9223372036854775807, "min": -9223372036854775808,
     "manager": {"__entity": {"type": "User", "id": "bob"}},
     "groups": [{"__entity": {"type": "Group", "id": "admins"}}, {"__entity": {"type": "Group", "id": "staff"}}],
     "addr": {"__extn": {"fn": "ip", "arg": "10.0.0.1"}},
     "net6": {"__extn": {"fn": "ip", "arg": "2001:db8::/32"}},
     "limit": {"__extn": {"fn": "decimal", "arg": "12.5000"}},
     "since": {"__extn": {"fn": "datetime", "arg": "2024-01-01T10:00:00Z"}},
     "ttl": {"__extn": {"fn": "duration", "arg": "1h30m"}},
     "nums": [1, 2, 3, -4], "nothing": [], "blank": {},
     "profile": {"email": "alice@example.com", "tags": ["x", "y"],
                 "home": {"net": {"__extn": {"fn": "ip", "arg": "192.168.0.0/16"}}}}
   },
   "parents": [{"type": "Group", "id": "admins"}],
   "tags": {"level": "high", "clearance": 3, "ok": true,
            "until": {"__extn": {"fn": "datetime", "arg": "2030-06-01"}}}},
  {"uid": {"type": "User", "id": "bob"},
   "attrs": {"name": "Bob", "age": 45, "active": false, "groups": [], "nums": [],
             "addr": {"__extn": {"fn": "ip", "arg": "::1"}},
             "limit": {"__extn": {"fn": "decimal", "arg": "-0.0001"}}},
   "parents": [{"type": "Group", "id": "staff"}, {"type": "Group", "id": "ghost"}]},
  {"uid": {"type": "Group", "id": "admins"}, "attrs": {"name": "admins"},
   "parents": [{"type": "Group", "id": "staff"}]},
  {"uid": {"type": "Group", "id": "staff"}, "attrs": {}, "parents": []},
  {"uid": {"type": "Group", "id": "left"}, "parents": [{"type": "Group", "id": "top"}]},
  {"uid": {"type": "Group", "id": "right"}, "parents": [{"type": "Group", "id": "top"}, {"type": "Group", "id": "staff"}]},
  {"uid": {"type": "Group", "id": "bottom"}, "parents": [{"type": "Group", "id": "left"}, {"type": "Group", "id": "right"}]},
  {"uid": {"type": "Group", "id": "top"}},
  {"uid": {"type": "Photo", "id": "vacation"},
   "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}}, "private": false,
             "size": 1024, "labels": ["beach", "sea"], "name": "vacation.jpg"},
   "parents": [{"type": "Album", "id": "trips"}],
   "tags": {"owner": "alice", "visibility": "public"}},
  {"uid": {"type": "Album", "id": "trips"}, "parents": [{"type": "Album", "id": "root"}]},
  {"uid": {"type": "Album", "id": "root"}},
  {"uid": {"type": "NS::Doc", "id": "d1"}, "attrs": {"owner": {"__entity": {"type": "User", "id": "bob"}}},
   "parents": [{"type": "Album", "id": "root"}]},
  {"uid": {"type": "Action", "id": "view"}, "parents": [{"type": "Action", "id": "read"}]},
  {"uid": {"type": "Action", "id": "edit"},
   "parents": [{"type": "Action", "id": "write"}, {"type": "Action", "id": "read"}]},
  {"uid": {"type": "Action", "id": "read"}},
  {"uid": {"type": "Action", "id": "write"}}
])";

constexpr std::string_view kFixedContext = R"({
  "ip": {"__extn": {"fn": "ip", "arg": "10.1.2.3"}}, "mfa": true, "n": -7,
  "when": {"__extn": {"fn": "datetime", "arg": "2025-02-03T04:05:06.789Z"}},
  "who": {"__entity": {"type": "User", "id": "alice"}}, "path": ["a", "b"],
  "meta": {"level": 2, "note": "x*y"}
})";

const std::vector<Entity>& fixed_entity_list() {
  static const std::vector<Entity> list = [] {
    auto store = parse_entities_json(kFixedEntities);
    require(store.ok(), "the fixed entities parse", store ? "" : store.error().to_string());
    std::vector<Entity> out;
    store->for_each([&](const Entity& e) { out.push_back(e); });
    return out;
  }();
  return list;
}

const RecordPtr& fixed_context() {
  static const RecordPtr context = [] {
    auto c = parse_context_json(kFixedContext, nullptr, {"Action", "view"});
    require(c.ok(), "the fixed context parses", c ? "" : c.error().to_string());
    return *c;
  }();
  return context;
}

std::vector<Request> fixed_requests() {
  auto uid = [](const char* type, const char* id) { return EntityUID{type, id}; };
  RecordPtr ctx = fixed_context();
  return {
      {uid("User", "alice"), uid("Action", "view"), uid("Photo", "vacation"), ctx},
      {uid("User", "bob"), uid("Action", "edit"), uid("Photo", "vacation"), ctx},
      {uid("User", "alice"), uid("Action", "read"), uid("NS::Doc", "d1"), nullptr},
      {uid("Group", "bottom"), uid("Action", "write"), uid("Album", "trips"), ctx},
      {uid("User", "nobody"), uid("Action", "delete"), uid("Photo", "missing"), nullptr},
  };
}

// The fixed store with the input's entities added (theirs win on a clash).
// Added entities may close a cycle, which Entities::build refuses; then the
// fixed store alone is used.
Entities entity_store(std::string_view entities_json) {
  std::vector<Entity> list;
  std::map<EntityUID, bool> taken;
  if (auto parsed = parse_entities_json(entities_json)) {
    parsed->for_each([&](const Entity& e) {
      taken[e.uid] = true;
      list.push_back(e);
    });
  }
  for (const Entity& e : fixed_entity_list())
    if (!taken.count(e.uid)) list.push_back(e);
  if (auto store = Entities::build(std::move(list))) return std::move(*store);
  auto fixed = Entities::build(fixed_entity_list());
  require(fixed.ok(), "the fixed store builds", fixed ? "" : fixed.error().to_string());
  return std::move(*fixed);
}

std::vector<Request> input_requests(std::string_view requests_json) {
  std::vector<Request> out;
  boost::system::error_code ec;
  json::parse_options opt;
  opt.max_depth = 64;
  json::value doc = json::parse(json::string_view(requests_json.data(), requests_json.size()), ec, {}, opt);
  if (ec || !doc.is_array()) return out;
  for (const json::value& r : doc.get_array()) {
    if (out.size() == kMaxInputRequests) break;
    const json::object* o = r.if_object();
    if (!o || !o->contains("principal") || !o->contains("action") || !o->contains("resource")) continue;
    auto p = parse_entity_uid_json(json::serialize(o->at("principal")));
    auto a = parse_entity_uid_json(json::serialize(o->at("action")));
    auto res = parse_entity_uid_json(json::serialize(o->at("resource")));
    if (!p || !a || !res) continue;
    RecordPtr context;
    if (const json::value* c = o->if_contains("context")) {
      auto parsed = parse_context_json(json::serialize(*c), nullptr, *a);
      if (!parsed) continue;
      context = *parsed;
    }
    out.push_back(Request{*p, *a, *res, context});
  }
  return out;
}

// Links every template twice, under ids that parse_policies never gives.
void link_templates(PolicySet& set) {
  const EntityUID principals[] = {{"User", "alice"}, {"Group", "staff"}};
  const EntityUID resources[] = {{"Photo", "vacation"}, {"Album", "root"}};
  std::vector<std::shared_ptr<const Policy>> templates = set.templates();
  for (size_t t = 0; t < templates.size(); ++t) {
    for (size_t k = 0; k < 2; ++k) {
      std::map<SlotId, EntityUID> values;
      if (templates[t]->principal.uses_slot) values[SlotId::kPrincipal] = principals[k];
      if (templates[t]->resource.uses_slot) values[SlotId::kResource] = resources[k];
      auto st = set.link(templates[t]->id, "link" + std::to_string(t) + "_" + std::to_string(k), values);
      require(st.ok(), "linking a template with exactly its slots succeeds",
              st ? "" : st.error().to_string());
    }
  }
}

// A response with policies named by their position in the set, so that
// responses from differently numbered sets compare.
struct Outcome {
  Decision decision = Decision::kDeny;
  std::vector<size_t> determining;
  std::vector<size_t> errors;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

std::string describe(const Outcome& o) {
  std::string out = o.decision == Decision::kAllow ? "allow" : "deny";
  out += " determining [";
  for (size_t i : o.determining) out += " " + std::to_string(i);
  out += " ] errors [";
  for (size_t i : o.errors) out += " " + std::to_string(i);
  return out + " ]";
}

Outcome outcome_of(const Response& r, const PolicySet& set) {
  std::map<std::string_view, size_t> position;
  for (size_t i = 0; i < set.policies().size(); ++i) position[set.policies()[i]->id] = i;
  Outcome o;
  o.decision = r.decision;
  for (const auto& id : r.determining) o.determining.push_back(position.at(id));
  for (const auto& e : r.errors) o.errors.push_back(position.at(e.policy_id));
  return o;
}

// Cedar's authorization rule applied to every policy in order, with no index.
Outcome authorize_naively(const PolicySet& set, const Request& request, const Entities& entities) {
  Evaluator eval(request, entities);
  Outcome o;
  std::vector<size_t> permits, forbids;
  for (size_t i = 0; i < set.policies().size(); ++i) {
    const Policy& p = *set.policies()[i];
    if (!eval.scope_matches(p)) continue;
    auto holds = eval.conditions_hold(p);
    if (!holds) o.errors.push_back(i);
    else if (*holds) (p.effect == Effect::kForbid ? forbids : permits).push_back(i);
  }
  o.decision = forbids.empty() && !permits.empty() ? Decision::kAllow : Decision::kDeny;
  o.determining = forbids.empty() ? permits : forbids;
  return o;
}

std::string request_text(const Request& r) {
  return to_string(r.principal) + ", " + to_string(r.action) + ", " + to_string(r.resource);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parts = ztgate::fuzz::split_parts(input, kSeparator, 3);
  auto parsed = parse_policies(parts[0]);
  if (!parsed) return 0;
  std::string printed = format_policies(*parsed);

  auto set = std::make_shared<PolicySet>(std::move(*parsed));
  link_templates(*set);
  auto reparsed = parse_policies(printed);
  require(reparsed.ok(), "printed policies parse again", printed);
  auto reprinted_set = std::make_shared<PolicySet>(std::move(*reparsed));
  link_templates(*reprinted_set);

  const Entities entities = entity_store(parts.size() > 1 ? parts[1] : std::string_view());
  std::vector<Request> requests = fixed_requests();
  if (parts.size() > 2)
    for (auto& r : input_requests(parts[2])) requests.push_back(std::move(r));

  const Authorizer authorizer(set);
  const Authorizer reprinted_authorizer(reprinted_set);
  for (const Request& request : requests) {
    Outcome indexed = outcome_of(authorizer.is_authorized(request, entities), *set);
    Outcome naive = authorize_naively(*set, request, entities);
    require(indexed == naive, "the scope index selects every policy that applies",
            request_text(request) + "\nindexed: " + describe(indexed) + "\nnaive:   " + describe(naive));
    Outcome reprinted = outcome_of(reprinted_authorizer.is_authorized(request, entities), *reprinted_set);
    require(reprinted == indexed, "printed policies decide as the originals",
            request_text(request) + "\nprinted:\n" + printed + "\noriginal: " + describe(indexed) +
                "\nprinted:  " + describe(reprinted));
  }
  return 0;
}
