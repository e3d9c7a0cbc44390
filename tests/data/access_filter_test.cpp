// The pre-filter: the principal's ACL principals, clearance and tenant, as a
// generic predicate, a parameterized PostgreSQL WHERE clause and an
// OpenSearch bool query.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "data/access_filter.h"
#include "data/catalog_jsonl.h"

namespace ztgate::data {
namespace {

namespace json = boost::json;

DocumentCatalog example() {
  auto c = load_catalog({std::string(ZTGATE_SOURCE_DIR) + "/examples/retrieval/documents.jsonl"}, ClassificationScale());
  EXPECT_TRUE(c);
  return c ? *c : DocumentCatalog();
}

TEST(AccessFilter, NamesTheUserEveryAncestorGroupTheClearanceAndTheTenant) {
  auto f = access_filter(example(), std::string("alice"), {});
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->match_nothing);
  EXPECT_EQ(f->acl_principals,
            (std::vector<std::string>{"user:alice", "group:engineering", "group:platform", "group:staff"}));
  EXPECT_EQ(f->max_classification, 2);
  EXPECT_EQ(f->max_label, "confidential");
  EXPECT_EQ(f->tenant, "acme");
}

TEST(AccessFilter, CredentialGroupsAreClosedThroughTheCatalog) {
  auto f = access_filter(example(), std::string("bob"), {"platform"});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->acl_principals, (std::vector<std::string>{"user:bob", "group:engineering", "group:finance",
                                                         "group:platform", "group:staff"}));
}

TEST(AccessFilter, UnknownUsersAndNonUsersMatchNothing) {
  auto eve = access_filter(example(), std::string("eve"), {});
  ASSERT_TRUE(eve);
  EXPECT_TRUE(eve->match_nothing);
  auto service = access_filter(example(), std::nullopt, {});
  ASSERT_TRUE(service);
  EXPECT_TRUE(service->match_nothing);
  EXPECT_EQ(json::serialize(predicate_json(*eve)), R"({"none":true})");
  EXPECT_EQ(render_postgresql(*eve).where, "FALSE");
  EXPECT_TRUE(render_postgresql(*eve).params.empty());
  EXPECT_EQ(json::serialize(render_opensearch(*eve)), R"({"bool":{"must_not":[{"match_all":{}}]}})");
}

TEST(AccessFilter, RendersAGenericPredicate) {
  auto f = access_filter(example(), std::string("bob"), {});
  ASSERT_TRUE(f);
  EXPECT_EQ(json::serialize(predicate_json(*f)),
            R"({"all":[{"field":"tenant","op":"eq","value":"acme"},)"
            R"({"field":"classification","op":"lte","value":1},)"
            R"({"any":[{"field":"owner","op":"eq","value":"bob"},)"
            R"({"field":"readers","op":"overlaps","values":["user:bob","group:finance","group:staff"]}]}]})");
}

TEST(AccessFilter, PostgresqlKeepsEveryValueInABindParameter) {
  // A hostile id stays data: it appears in params, never in the SQL text.
  auto hostile = parse_catalog_jsonl(
      R"({"kind":"user","id":"x' OR '1'='1","groups":["g'); DROP TABLE documents;--"],"clearance":"public","tenant":"t' --"})",
      ClassificationScale());
  ASSERT_TRUE(hostile);
  auto c = DocumentCatalog().apply(hostile->changes);
  ASSERT_TRUE(c);
  auto f = access_filter(*c, std::string("x' OR '1'='1"), {});
  ASSERT_TRUE(f);
  SqlFilter sql = render_postgresql(*f);
  EXPECT_EQ(sql.where, "tenant = $1 AND classification <= $2 AND (owner = $3 OR readers && $4::text[])");
  EXPECT_EQ(json::serialize(sql.params),
            R"(["t' --",0,"x' OR '1'='1",["user:x' OR '1'='1","group:g'); DROP TABLE documents;--"]])");
}

TEST(AccessFilter, OpenSearchIsABoolFilter) {
  auto f = access_filter(example(), std::string("bob"), {});
  ASSERT_TRUE(f);
  EXPECT_EQ(json::serialize(render_opensearch(*f)),
            R"({"bool":{"filter":[{"term":{"tenant":"acme"}},{"range":{"classification":{"lte":1}}},)"
            R"({"bool":{"should":[{"term":{"owner":"bob"}},)"
            R"({"terms":{"readers":["user:bob","group:finance","group:staff"]}}],"minimum_should_match":1}}]}})");
}

}  // namespace
}  // namespace ztgate::data
