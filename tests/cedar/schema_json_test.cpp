// The JSON schema format, pinned to the reference (cedar-policy-core
// validator/json_schema.rs). Its resolved form must equal the
// human-readable syntax's for the same schema.
#include <gtest/gtest.h>

#include "cedar/schema.h"

namespace ztgate::cedar {
namespace {

Schema parsed(std::string_view json) {
  auto r = parse_schema_json(json);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? *r : Schema{};
}

Error rejected(std::string_view json) {
  auto r = parse_schema_json(json);
  EXPECT_FALSE(r.ok()) << "accepted: " << json;
  return r.ok() ? Error{} : r.error();
}

TEST(SchemaJson, ParsesTheDocumentationExample) {
  Schema s = parsed(R"({
    "PhotoApp": {
      "commonTypes": {
        "Context": { "type": "Record", "attributes": {
          "ip": { "type": "Extension", "name": "ipaddr" },
          "mfa": { "type": "Boolean", "required": false } } }
      },
      "entityTypes": {
        "User": {
          "memberOfTypes": ["Group"],
          "shape": { "type": "Record", "attributes": {
            "name": { "type": "String" },
            "age": { "type": "Long" },
            "friends": { "type": "Set", "element": { "type": "Entity", "name": "User" } } } },
          "tags": { "type": "String" }
        },
        "Group": {},
        "Color": { "enum": ["red", "green"] }
      },
      "actions": {
        "view": {
          "appliesTo": { "principalTypes": ["User"], "resourceTypes": ["Group"], "context": { "type": "Context" } }
        },
        "edit": { "memberOf": [{ "id": "view" }] }
      }
    }
  })");
  const EntityTypeDef* user = s.entity_type("PhotoApp::User");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->member_of_types, std::vector<std::string>{"PhotoApp::Group"});
  EXPECT_EQ(user->attributes.at("friends").type->element->name, "PhotoApp::User");
  EXPECT_EQ(user->tags->kind, SchemaType::Kind::kString);
  EXPECT_TRUE(s.entity_type("PhotoApp::Color")->enum_ids);
  const ActionDef* view = s.action(EntityUID{"PhotoApp::Action", "view"});
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->context->attributes.at("ip").type->name, "ipaddr");
  EXPECT_FALSE(view->context->attributes.at("mfa").required);
  EXPECT_EQ(s.action(EntityUID{"PhotoApp::Action", "edit"})->member_of,
            std::vector<EntityUID>{(EntityUID{"PhotoApp::Action", "view"})});
}

TEST(SchemaJson, EmptyKeyIsTheEmptyNamespace) {
  Schema s = parsed(R"({"": {"entityTypes": {"A": {}}, "actions": {}}})");
  EXPECT_NE(s.entity_type("A"), nullptr);
}

TEST(SchemaJson, ResolvesLikeTheHumanReadableSyntax) {
  Schema from_json = parsed(R"({
    "N": {
      "commonTypes": { "ipaddr": { "type": "Long" } },
      "entityTypes": { "E": { "shape": { "type": "Record", "attributes": {
        "a": { "type": "EntityOrCommon", "name": "ipaddr" },
        "b": { "type": "EntityOrCommon", "name": "__cedar::ipaddr" },
        "c": { "type": "ipaddr" } } } } },
      "actions": {}
    }
  })");
  auto from_text = parse_schema(
      "namespace N { type ipaddr = Long; entity E { a: ipaddr, b: __cedar::ipaddr, c: ipaddr }; }");
  ASSERT_TRUE(from_text.ok());
  EXPECT_EQ(format_schema(from_json), format_schema(*from_text));
}

TEST(SchemaJson, EntityReferencesMustNameEntityTypes) {
  rejected(R"({"": {"commonTypes": {"T": {"type": "Long"}},
                "entityTypes": {"E": {"shape": {"type": "Record", "attributes": {
                  "a": {"type": "Entity", "name": "T"}}}}}, "actions": {}}})");
}

TEST(SchemaJson, RejectsUnknownFields) {
  EXPECT_NE(rejected(R"({"": {"entityTypes": {"A": {"shapes": {}}}, "actions": {}}})")
                .message.find("shapes"),
            std::string::npos);
  rejected(R"({"": {"entityTypes": {"A": {"shape": {"type": "Long", "element": {"type": "Long"}}}},
                "actions": {}}})");
}

TEST(SchemaJson, RejectsMalformedStructure) {
  rejected(R"({"": {"entityTypes": {"A": {"shape": {"type": "Set"}}}, "actions": {}}})");
  rejected(R"({"": {"entityTypes": {"A": {"shape": {"attributes": {}}}}, "actions": {}}})");
  rejected(R"({"": {"entityTypes": {"A B": {}}, "actions": {}}})");
  rejected(R"({"": {"entityTypes": {}, "actions": {"a": {"memberOf": [{"id": "missing"}]}}}})");
  rejected(R"({"": {"entityTypes": {"A": {"shape": {"type": "Long"}}}, "actions": {}}})");
}

TEST(SchemaJson, RejectsActionAttributes) {
  rejected(R"({"": {"entityTypes": {}, "actions": {"a": {"attributes": {"x": 1}}}}})");
}

TEST(SchemaJson, SyntaxErrorsCarryLineAndColumn) {
  Error e = rejected("{\n  \"\": {\n    \"entityTypes\": {,}\n  }\n}");
  EXPECT_EQ(e.loc.line, 3);
  EXPECT_GT(e.loc.column, 1);
}

TEST(SchemaJson, RejectsDeepNestingWithoutCrashing) {
  std::string deep = R"({"": {"entityTypes": {"A": {"shape": {"type": "Record", "attributes": {"a": )";
  for (int i = 0; i < 5000; ++i) deep += R"({"type": "Set", "element": )";
  deep += R"({"type": "Long"})";
  for (int i = 0; i < 5000; ++i) deep += "}";
  deep += "}}}}}}";
  rejected(deep);
}

TEST(SchemaJson, NonObjectInputIsAnError) {
  rejected("[]");
  rejected("");
  rejected(R"({"": []})");
}

}  // namespace
}  // namespace ztgate::cedar
