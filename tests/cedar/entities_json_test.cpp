// Cedar's JSON formats for entities, values and uids (without a schema), and
// the entity store built from them. Expected behaviour was confirmed against
// the official implementation (cedar-wasm 4.13) where a JavaScript caller can
// express the input; for what JavaScript numbers cannot carry (64-bit
// integers, `1.0` versus `1`), against Cedar's Rust source: values are
// `CedarValueJson::Long(i64)` read by serde_json, so any JSON number that is
// not an exact i64 is refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "cedar/authorizer.h"
#include "cedar/entities.h"
#include "cedar/eval.h"
#include "cedar/policy_set.h"

namespace ztgate::cedar {
namespace {

std::string entity_with_attr(std::string_view value_json) {
  return R"([{"uid": {"type": "User", "id": "alice"}, "attrs": {"x": )" + std::string(value_json) +
         R"(}, "parents": []}])";
}

// The value of attribute `x` of User::"alice" in `entities_json`.
Result<Value> attr_x(std::string_view value_json) {
  auto store = parse_entities_json(entity_with_attr(value_json));
  if (!store) return store.error();
  const Entity* e = store->find({"User", "alice"});
  if (!e || !e->attrs.count("x")) return make_error("test_setup", "no attribute x");
  return e->attrs.at("x");
}

Value eval_text(std::string_view cedar) {
  auto e = parse_expression(cedar);
  EXPECT_TRUE(e.ok()) << cedar;
  Request r{{"User", "p"}, {"Action", "a"}, {"Doc", "r"}, nullptr};
  Entities none;
  auto v = Evaluator(r, none).eval(**e);
  EXPECT_TRUE(v.ok()) << cedar << ": " << (v ? "" : v.error().to_string());
  return v ? *v : Value();
}

::testing::AssertionResult AttrIs(std::string_view value_json, std::string_view cedar) {
  auto v = attr_x(value_json);
  if (!v) return ::testing::AssertionFailure() << value_json << " refused: " << v.error().to_string();
  Value want = eval_text(cedar);
  if (!(*v == want))
    return ::testing::AssertionFailure()
           << value_json << " gave " << to_cedar_string(*v) << ", want " << cedar;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult EntitiesRefused(std::string_view json) {
  auto r = parse_entities_json(json);
  if (r) return ::testing::AssertionFailure() << json << "\n  was accepted";
  if (r.error().message.empty()) return ::testing::AssertionFailure() << "error without a message";
  return ::testing::AssertionSuccess();
}

// ------------------------------------------------------------- entities

TEST(EntitiesJson, ParsesUidAttributesParentsAndTags) {
  auto store = parse_entities_json(R"([
    {"uid": {"type": "NS::User", "id": "a\"b"},
     "attrs": {"name": "A", "age": 7, "ok": true, "roles": ["x", "y"], "address": {"city": "Z"}},
     "parents": [{"type": "Group", "id": "g"}, {"__entity": {"type": "Group", "id": "h"}}],
     "tags": {"level": 3}}
  ])");
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  EXPECT_EQ(store->size(), 1u);
  const Entity* e = store->find({"NS::User", "a\"b"});
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->attrs.at("name"), Value("A"));
  EXPECT_EQ(e->attrs.at("age"), Value(7));
  EXPECT_EQ(e->attrs.at("ok"), Value(true));
  EXPECT_EQ(e->attrs.at("roles"), eval_text(R"(["y", "x"])"));
  EXPECT_EQ(e->attrs.at("address"), eval_text(R"({city: "Z"})"));
  EXPECT_EQ(e->parents, (std::vector<EntityUID>{{"Group", "g"}, {"Group", "h"}}));
  EXPECT_EQ(e->tags.at("level"), Value(3));
  EXPECT_EQ(e->attrs.count("level"), 0u);
}

TEST(EntitiesJson, DuplicateEntityRejected) {
  auto r = parse_entities_json(R"([
    {"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": []},
    {"uid": {"type": "User", "id": "a"}, "attrs": {"x": 1}, "parents": []}
  ])");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "duplicate_entity");
  // Same id, different type: two entities.
  EXPECT_TRUE(parse_entities_json(R"([
    {"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": []},
    {"uid": {"type": "Group", "id": "a"}, "attrs": {}, "parents": []}
  ])").ok());
}

TEST(EntitiesJson, StructuralErrorsAreRefused) {
  EXPECT_TRUE(EntitiesRefused("{}"));
  EXPECT_TRUE(EntitiesRefused("[1]"));
  EXPECT_TRUE(EntitiesRefused(R"([{"attrs": {}, "parents": []}])"));
  EXPECT_TRUE(EntitiesRefused(R"([{"uid": {"type": "User", "id": "a"}, "attrs": [], "parents": []}])"));
  EXPECT_TRUE(EntitiesRefused(R"([{"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": {}}])"));
  EXPECT_TRUE(EntitiesRefused(R"([{"uid": {"type": "User"}, "attrs": {}, "parents": []}])"));
  EXPECT_TRUE(EntitiesRefused(R"([{"uid": {"type": "User", "id": 1}, "attrs": {}, "parents": []}])"));
  EXPECT_TRUE(EntitiesRefused("[{"));
}

TEST(EntitiesJson, UidTypeMustBeAValidCedarName) {
  for (std::string_view bad : {"", "A::", "if", "__cedar", "A::__cedar", "9A", "User ", " User",
                               "A :: B", "User//x"}) {
    std::string json = R"([{"uid": {"type": ")" + std::string(bad) +
                       R"(", "id": "a"}, "attrs": {}, "parents": []}])";
    EXPECT_TRUE(EntitiesRefused(json)) << "type `" << bad << "`";
  }
  EXPECT_TRUE(parse_entities_json(
                  R"([{"uid": {"type": "A::B::C", "id": ""}, "attrs": {}, "parents": []}])")
                  .ok());
}

TEST(EntitiesJson, UidObjectsMayCarryExtraFields) {
  // Cedar reads `type` and `id` and ignores the rest.
  auto store = parse_entities_json(R"([
    {"uid": {"type": "User", "id": "alice", "note": 5}, "attrs": {},
     "parents": [{"type": "Group", "id": "g", "q": 1}]}
  ])");
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  EXPECT_TRUE(store->is_descendant_or_self({"User", "alice"}, {"Group", "g"}));
  auto uid = parse_entity_uid_json(R"({"type": "User", "id": "a", "extra": true})");
  ASSERT_TRUE(uid.ok());
  EXPECT_EQ(*uid, (EntityUID{"User", "a"}));
}

TEST(EntitiesJson, ActionsMayOnlyHaveActionParents) {
  EXPECT_TRUE(EntitiesRefused(
      R"([{"uid": {"type": "Action", "id": "view"}, "attrs": {}, "parents": [{"type": "Group", "id": "g"}]}])"));
  EXPECT_TRUE(EntitiesRefused(
      R"([{"uid": {"type": "NS::Action", "id": "view"}, "attrs": {}, "parents": [{"type": "Group", "id": "g"}]}])"));
  EXPECT_TRUE(parse_entities_json(
                  R"([{"uid": {"type": "Action", "id": "view"}, "attrs": {},
                       "parents": [{"type": "Action", "id": "read"}, {"type": "NS::Action", "id": "r"}]}])")
                  .ok());
  // Non-actions may have actions as parents.
  EXPECT_TRUE(parse_entities_json(
                  R"([{"uid": {"type": "User", "id": "u"}, "attrs": {}, "parents": [{"type": "Action", "id": "a"}]}])")
                  .ok());
}

// Cedar requires both fields ("missing field `attrs`"); we deliberately
// read an absent `attrs` / `parents` as empty (nothing is granted by it, and
// entity sources such as directory syncs often omit empty fields).
TEST(EntitiesJson, MissingAttrsOrParentsReadAsEmpty) {
  auto store = parse_entities_json(R"([{"uid": {"type": "User", "id": "a"}}])");
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  const Entity* a = store->find({"User", "a"});
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->attrs.empty());
  EXPECT_TRUE(a->parents.empty());
}

// Cedar refuses duplicate keys in `attrs`, `tags` and every record inside
// them; Boost.JSON 1.81 would keep the last duplicate silently, so
// `{"role": "user", "role": "admin"}` would read as `{role: "admin"}`: a
// parser differential. A streaming pre-pass (internal/json_keys) refuses it.
TEST(EntitiesJson, DuplicateKeysAreRejected) {
  EXPECT_TRUE(EntitiesRefused(
      R"([{"uid": {"type": "User", "id": "a"}, "attrs": {"role": "user", "role": "admin"}, "parents": []}])"));
  EXPECT_TRUE(EntitiesRefused(
      R"([{"uid": {"type": "User", "id": "a"}, "attrs": {"x": {"k": 1, "k": 2}}, "parents": []}])"));
  EXPECT_FALSE(parse_context_json(R"({"role": "user", "role": "admin"})", nullptr,
                                  EntityUID{"Action", "view"}).ok());
  EXPECT_TRUE(parse_context_json(R"({"a": {"k": 1}, "b": {"k": 2}})", nullptr,
                                 EntityUID{"Action", "view"}).ok());
}

// ------------------------------------------------------------- hierarchy

TEST(EntitiesHierarchy, AncestorClosureIsTransitive) {
  // a -> b -> c -> d, and a -> e -> c (a diamond onto c).
  auto store = parse_entities_json(R"([
    {"uid": {"type": "G", "id": "a"}, "attrs": {}, "parents": [{"type": "G", "id": "b"}, {"type": "G", "id": "e"}]},
    {"uid": {"type": "G", "id": "b"}, "attrs": {}, "parents": [{"type": "G", "id": "c"}]},
    {"uid": {"type": "G", "id": "e"}, "attrs": {}, "parents": [{"type": "G", "id": "c"}]},
    {"uid": {"type": "G", "id": "c"}, "attrs": {}, "parents": [{"type": "G", "id": "d"}]},
    {"uid": {"type": "G", "id": "d"}, "attrs": {}, "parents": []}
  ])");
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  const Entity* a = store->find({"G", "a"});
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->ancestors,
            (std::vector<EntityUID>{{"G", "b"}, {"G", "c"}, {"G", "d"}, {"G", "e"}}));  // sorted, unique
  EXPECT_TRUE(store->is_descendant_or_self({"G", "a"}, {"G", "d"}));
  EXPECT_TRUE(store->is_descendant_or_self({"G", "b"}, {"G", "d"}));
  EXPECT_FALSE(store->is_descendant_or_self({"G", "d"}, {"G", "a"}));
  EXPECT_FALSE(store->is_descendant_or_self({"G", "b"}, {"G", "e"}));
  EXPECT_TRUE(store->find({"G", "d"})->ancestors.empty());
}

TEST(EntitiesHierarchy, ClosureDoesNotDependOnListingOrder) {
  // Children listed before and after their parents give the same closure.
  std::string forward, backward;
  for (int i = 0; i < 50; ++i) {
    std::string e = R"({"uid": {"type": "G", "id": ")" + std::to_string(i) +
                    R"("}, "attrs": {}, "parents": [)" +
                    (i + 1 < 50 ? R"({"type": "G", "id": ")" + std::to_string(i + 1) + R"("})" : "") +
                    "]}";
    forward += (forward.empty() ? "" : ",") + e;
    backward = e + (backward.empty() ? "" : ",") + backward;
  }
  for (const std::string& list : {forward, backward}) {
    auto store = parse_entities_json("[" + list + "]");
    ASSERT_TRUE(store.ok());
    EXPECT_EQ(store->find({"G", "0"})->ancestors.size(), 49u);
    EXPECT_EQ(store->find({"G", "25"})->ancestors.size(), 24u);
    EXPECT_TRUE(store->is_descendant_or_self({"G", "0"}, {"G", "49"}));
  }
}

TEST(EntitiesHierarchy, ParentsMissingFromTheStoreStillCount) {
  auto store = parse_entities_json(R"([
    {"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": [{"type": "Group", "id": "ghost"}]}
  ])");
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE(store->is_descendant_or_self({"User", "a"}, {"Group", "ghost"}));
  EXPECT_EQ(store->find({"Group", "ghost"}), nullptr);
}

TEST(EntitiesHierarchy, InIsReflexiveForAnyUid) {
  Entities empty;
  EXPECT_TRUE(empty.is_descendant_or_self({"User", "x"}, {"User", "x"}));
  EXPECT_FALSE(empty.is_descendant_or_self({"User", "x"}, {"User", "y"}));
}

// Our store tolerates a cycle in the parent relation (see entities.cpp and the
// fuzz harnesses), so building must terminate with a consistent closure.
// Cedar refuses an entity hierarchy with a cycle ("input graph has a cycle
// containing vertex `G::\"a\"`", also for a self-loop); so do we.
TEST(EntitiesHierarchy, CycleInTheParentRelationIsRejectedLikeCedar) {
  EXPECT_TRUE(EntitiesRefused(R"([
    {"uid": {"type": "G", "id": "a"}, "attrs": {}, "parents": [{"type": "G", "id": "b"}]},
    {"uid": {"type": "G", "id": "b"}, "attrs": {}, "parents": [{"type": "G", "id": "a"}]}
  ])"));
  EXPECT_TRUE(EntitiesRefused(
      R"([{"uid": {"type": "G", "id": "a"}, "attrs": {}, "parents": [{"type": "G", "id": "a"}]}])"));
}

// ------------------------------------------------------------- values

TEST(ValueJson, EntityJsonEscapes) {
  EXPECT_TRUE(AttrIs(R"({"__entity": {"type": "User", "id": "bob"}})", R"(User::"bob")"));
  EXPECT_TRUE(AttrIs(R"({"__entity": {"type": "A::B", "id": "q\"uote"}})", R"(A::B::"q\"uote")"));
  EXPECT_TRUE(AttrIs(R"({"__extn": {"fn": "ip", "arg": "10.0.0.1"}})", R"(ip("10.0.0.1"))"));
  EXPECT_TRUE(AttrIs(R"({"__extn": {"fn": "decimal", "arg": "1.5"}})", R"(decimal("1.5"))"));
  EXPECT_TRUE(AttrIs(R"({"__extn": {"fn": "ip", "args": ["10.0.0.1"]}})", R"(ip("10.0.0.1"))"));
  // A multi-argument extension function, its arguments escaped in turn.
  EXPECT_TRUE(AttrIs(R"({"__extn": {"fn": "offset", "args": [
                        {"__extn": {"fn": "datetime", "arg": "2024-01-01"}},
                        {"__extn": {"fn": "duration", "arg": "1h"}}]}})",
                     R"(datetime("2024-01-01T01:00:00Z"))"));
  EXPECT_TRUE(AttrIs(R"({"__extn": {"fn": "isInRange", "args": [
                        {"__extn": {"fn": "ip", "arg": "10.0.0.1"}},
                        {"__extn": {"fn": "ip", "arg": "10.0.0.0/8"}}]}})",
                     "true"));
  EXPECT_TRUE(AttrIs(R"([{"__entity": {"type": "G", "id": "a"}}, {"__extn": {"fn": "ip", "arg": "::1"}}])",
                     R"([G::"a", ip("::1")])"));
}

TEST(ValueJson, BadEscapesAreRefused) {
  EXPECT_FALSE(attr_x(R"({"__extn": {"fn": "nope", "arg": "x"}})").ok());
  EXPECT_FALSE(attr_x(R"({"__extn": {"fn": "ip", "arg": "bad"}})").ok());
  // `offset` needs a datetime, not a string the datetime constructor would accept.
  EXPECT_FALSE(attr_x(R"({"__extn": {"fn": "offset", "args": ["2024-01-01", "1h"]}})").ok());
}

TEST(ValueJson, EscapeKeysAmongOtherKeysAreARecord) {
  auto v = attr_x(R"({"__extn": {"fn": "ip", "arg": "10.0.0.1"}, "x": 1})");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(v->is_record());
  EXPECT_EQ(v->as_record().at("x"), Value(1));
  v = attr_x(R"({"__entity": {"type": "User", "id": "b"}, "y": 1})");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->is_record());
}

// Cedar's value JSON is an untagged union: an `__entity` object that is not
// a `{type, id}` pair is not an escape at all but a record with a field
// `__entity` (cedar-wasm: `principal.x["__entity"]["type"] == "User"` holds).
// We deliberately refuse it: a misspelt escape is far more likely a bug in
// the data than a record meant to have an `__entity` field, and a gateway
// fails closed on data it cannot read as intended.
TEST(ValueJson, MalformedEntityEscapeIsRefusedNotReadAsRecord) {
  EXPECT_FALSE(attr_x(R"({"__entity": {"type": "User"}})").ok());
  EXPECT_FALSE(attr_x(R"({"__entity": "User::\"a\""})").ok());
}

TEST(ValueJson, SchemaLessTypeAndIdObjectIsRecord) {
  auto v = attr_x(R"({"type": "User", "id": "b"})");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(v->is_record());
  EXPECT_FALSE(*v == Value(EntityUID{"User", "b"}));
  EXPECT_EQ(v->as_record().at("type"), Value("User"));
}

TEST(ValueJson, BigIntegersStayExact) {
  EXPECT_TRUE(AttrIs("9223372036854775807", "9223372036854775807"));
  EXPECT_TRUE(AttrIs("-9223372036854775807", "-9223372036854775807"));
  EXPECT_TRUE(AttrIs("-9223372036854775808", "-9223372036854775808"));
  EXPECT_TRUE(AttrIs("9007199254740993", "9007199254740993"));  // not a double
  auto max = attr_x("9223372036854775807");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->as_long(), std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(attr_x("9223372036854775808").ok());
  EXPECT_FALSE(attr_x("-9223372036854775809").ok());
  EXPECT_FALSE(attr_x("18446744073709551615").ok());
}

TEST(ValueJson, FloatsRejected) {
  for (std::string_view f : {"1.5", "1.0", "1e3", "-0.0", "1E-2"})
    EXPECT_FALSE(attr_x(f).ok()) << f;
  EXPECT_FALSE(attr_x("[1, 2.5]").ok());
  EXPECT_FALSE(attr_x(R"({"a": {"b": 0.5}})").ok());
}

TEST(ValueJson, NullRejected) {
  EXPECT_FALSE(attr_x("null").ok());
  EXPECT_FALSE(attr_x("[null]").ok());
  EXPECT_FALSE(parse_value_json("null").ok());
}

TEST(ValueJson, SetsAreDeduplicatedAndUnordered) {
  auto v = parse_value_json("[3, 1, 3, 2, 1]");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(v->is_set());
  EXPECT_EQ(v->as_set().size(), 3u);
  EXPECT_EQ(*v, eval_text("[1, 2, 3]"));
}

TEST(ValueJson, DeepNestingIsAnErrorNotACrash) {
  std::string deep_array(100000, '[');
  deep_array += std::string(100000, ']');
  EXPECT_FALSE(parse_value_json(deep_array).ok());
  std::string deep_record;
  for (int i = 0; i < 100000; ++i) deep_record += R"({"a":)";
  deep_record += "1" + std::string(100000, '}');
  EXPECT_FALSE(parse_value_json(deep_record).ok());
  EXPECT_FALSE(parse_entities_json(entity_with_attr(deep_array)).ok());
  // Moderate nesting is fine.
  EXPECT_TRUE(parse_value_json(std::string(50, '[') + std::string(50, ']')).ok());
}

// ------------------------------------------------------------- uids

TEST(UidJson, AcceptsBothTheBareAndTheEscapedForm) {
  auto bare = parse_entity_uid_json(R"({"type": "User", "id": "a"})");
  auto escaped = parse_entity_uid_json(R"({"__entity": {"type": "User", "id": "a"}})");
  ASSERT_TRUE(bare.ok());
  ASSERT_TRUE(escaped.ok());
  EXPECT_EQ(*bare, *escaped);
  EXPECT_FALSE(parse_entity_uid_json(R"("User::\"a\"")").ok());
  EXPECT_FALSE(parse_entity_uid_json(R"({"type": "User", "id": 5})").ok());
}

TEST(UidText, ParsesTheCedarForm) {
  auto u = parse_entity_uid(R"(NS::User::"a\"b")");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(*u, (EntityUID{"NS::User", "a\"b"}));
  EXPECT_EQ(to_string(*u), R"(NS::User::"a\"b")");
  EXPECT_FALSE(parse_entity_uid(R"(User)").ok());
  EXPECT_FALSE(parse_entity_uid(R"("a")").ok());
  EXPECT_FALSE(parse_entity_uid(R"(User::"a" == User::"a")").ok());
}

TEST(EntitiesJson, SyntaxErrorReportsLineAndColumn) {
  auto r = parse_entities_json("[\n  {\"uid\": {\"type\": \"User\", \"id\": \"a\"},\n   \"attrs\": {\"x\": 1,}}\n]");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "json_error");
  EXPECT_EQ(r.error().loc.line, 3);
  EXPECT_EQ(r.error().loc.column, 21);  // the `}` after the trailing comma
}

}  // namespace
}  // namespace ztgate::cedar
