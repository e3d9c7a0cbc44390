// Fuzz target: Cedar's JSON formats for entities, values, entity uids and
// request contexts, without and with a schema.
//
// Properties checked, for any input text:
//   1. parse_entities_json, parse_value_json, parse_entity_uid_json,
//      parse_entity_uid and parse_context_json return (a value or an
//      error), without and with the fixed schema below; they never crash,
//      hang, leak or hit undefined behavior.
//   2. A parsed entity store holds, for every entity, exactly the
//      transitive closure of its parents as its ancestors (sorted, unique;
//      parents missing from the store end the walk), and `in` agrees. No
//      entity is its own ancestor: a hierarchy with a cycle is refused.
//   3. A value parsed from JSON, printed in Cedar syntax (to_cedar_string),
//      parses as an expression that evaluates back to an equal value.
//
// Input: a JSON document (seeds: fuzz/corpus/fuzz_entities_json/).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cedar/authorizer.h"
#include "cedar/entities.h"
#include "cedar/eval.h"
#include "cedar/policy_set.h"
#include "cedar/schema.h"
#include "property.h"

namespace {

using namespace ztgate::cedar;
using ztgate::fuzz::require;

// Types of every kind, so that schema-directed parsing (bare extension
// strings, bare entity references, nested records and sets) is reached.
constexpr std::string_view kSchema = R"(
entity Group in [Group];
entity User in [Group] = {
  name: String,
  age?: Long,
  active: Bool,
  manager?: User,
  groups: Set<Group>,
  addr: ipaddr,
  limit: decimal,
  since: datetime,
  ttl: duration,
  profile: { email?: String, tags: Set<String>, home: { net: ipaddr } },
} tags Set<decimal>;
entity Photo in [Group] = { owner: User, size: Long } tags String;
action "view" appliesTo {
  principal: [User],
  resource: [Photo],
  context: { ip: ipaddr, when: datetime, mfa?: Bool, path: Set<Group>, meta: { level: Long } }
};
action "edit" in ["view"] appliesTo { principal: [User], resource: [Photo] };
)";

const Schema& fixed_schema() {
  static const Schema schema = [] {
    auto s = parse_schema(kSchema);
    require(s.ok(), "the fixed schema parses", s ? "" : s.error().to_string());
    return std::move(*s);
  }();
  return schema;
}

// Every type the fixed schema declares, for schema-directed value parsing.
std::vector<const SchemaType*> fixed_types() {
  std::vector<const SchemaType*> out;
  const Schema& s = fixed_schema();
  for (const auto& [name, def] : s.entity_types) {
    for (const auto& [attr, type] : def.attributes) out.push_back(type.type.get());
    if (def.tags) out.push_back(def.tags.get());
  }
  for (const auto& [uid, def] : s.actions)
    if (def.context) out.push_back(def.context.get());
  return out;
}

std::set<EntityUID> naive_ancestors(const Entities& store, const Entity& entity) {
  std::set<EntityUID> seen;
  std::vector<EntityUID> work(entity.parents.begin(), entity.parents.end());
  while (!work.empty()) {
    EntityUID next = std::move(work.back());
    work.pop_back();
    if (!seen.insert(next).second) continue;
    if (const Entity* p = store.find(next)) work.insert(work.end(), p->parents.begin(), p->parents.end());
  }
  return seen;
}

void check_closure(const Entities& store) {
  store.for_each([&](const Entity& e) {
    std::set<EntityUID> want = naive_ancestors(store, e);
    std::vector<EntityUID> want_sorted(want.begin(), want.end());
    require(e.ancestors == want_sorted, "ancestors are the transitive closure of parents",
            "entity " + to_string(e.uid));
    for (const auto& a : e.ancestors)
      require(store.is_descendant_or_self(e.uid, a), "`in` holds for every ancestor",
              to_string(e.uid) + " in " + to_string(a));
    require(!std::binary_search(e.ancestors.begin(), e.ancestors.end(), e.uid),
            "no entity is its own ancestor", to_string(e.uid));
    require(store.is_descendant_or_self(e.uid, e.uid), "`in` is reflexive", to_string(e.uid));
  });
}

void check_entities(std::string_view text) {
  if (auto store = parse_entities_json(text)) check_closure(*store);
  if (auto store = parse_entities_json(text, &fixed_schema())) check_closure(*store);
}

// Evaluates `text` as a Cedar expression with no request data in scope.
Result<Value> evaluate_standalone(std::string_view text) {
  static const Entities kNoEntities;
  static const Request kRequest{{"User", "p"}, {"Action", "a"}, {"Photo", "r"}, nullptr};
  auto expr = parse_expression(text);
  if (!expr) return expr.error();
  return Evaluator(kRequest, kNoEntities).eval(**expr);
}

void check_value_round_trip(const Value& value) {
  std::string printed = to_cedar_string(value);
  auto back = evaluate_standalone(printed);
  require(back.ok(), "a printed value evaluates",
          "printed: " + printed + "\nerror: " + (back ? "" : back.error().to_string()));
  require(*back == value, "a printed value evaluates to itself",
          "printed: " + printed + "\nevaluated: " + to_cedar_string(*back));
}

void check_values(std::string_view text) {
  // Most types leave most inputs as the untyped parse has them; each
  // distinct value is printed and evaluated once.
  std::vector<Value> checked;
  auto check_once = [&](const Value& v) {
    for (const Value& c : checked)
      if (c == v) return;
    check_value_round_trip(v);
    checked.push_back(v);
  };
  if (auto v = parse_value_json(text)) check_once(*v);
  static const std::vector<const SchemaType*> kTypes = fixed_types();
  for (const SchemaType* t : kTypes)
    if (auto v = parse_value_json(text, t)) check_once(*v);
}

void check_uids_and_context(std::string_view text) {
  (void)parse_entity_uid_json(text);
  (void)parse_entity_uid(text);
  const EntityUID view{"Action", "view"};
  const EntityUID unknown{"Action", "unknown"};
  (void)parse_context_json(text, nullptr, view);
  (void)parse_context_json(text, &fixed_schema(), view);
  (void)parse_context_json(text, &fixed_schema(), unknown);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_entities(text);
  check_values(text);
  check_uids_and_context(text);
  return 0;
}
