// The human-readable schema syntax (.cedarschema) and its name resolution,
// pinned to the reference (cedar-policy-core validator/cedar_schema and
// schema/raw_name.rs); the resolved forms were cross-checked with
// cedar-wasm 4.13's schemaToJsonWithResolvedTypes and checkParseSchema.
#include <gtest/gtest.h>

#include "cedar/schema.h"

namespace ztgate::cedar {
namespace {

Schema parsed(std::string_view text) {
  auto r = parse_schema(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? *r : Schema{};
}

Error rejected(std::string_view text) {
  auto r = parse_schema(text);
  EXPECT_FALSE(r.ok()) << "accepted: " << text;
  return r.ok() ? Error{} : r.error();
}

const SchemaType& attr_type(const Schema& s, std::string_view entity, const std::string& attr) {
  static const SchemaType kNone;
  const EntityTypeDef* def = s.entity_type(entity);
  if (!def || !def->attributes.count(attr)) {
    ADD_FAILURE() << entity << "." << attr << " not found";
    return kNone;
  }
  return *def->attributes.at(attr).type;
}

TEST(SchemaParser, ParsesEntityWithParentsAttributesAndTags) {
  Schema s = parsed(R"(
    entity User in [Group] {
      personalGroup: Group,
      delegate?: User,
      blocked: Set<User>,
    } tags String;
    entity Group;
  )");
  const EntityTypeDef* user = s.entity_type("User");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->member_of_types, std::vector<std::string>{"Group"});
  EXPECT_TRUE(user->attributes.at("personalGroup").required);
  EXPECT_FALSE(user->attributes.at("delegate").required);
  const SchemaType& blocked = attr_type(s, "User", "blocked");
  EXPECT_EQ(blocked.kind, SchemaType::Kind::kSet);
  EXPECT_EQ(blocked.element->kind, SchemaType::Kind::kEntity);
  EXPECT_EQ(blocked.element->name, "User");
  ASSERT_TRUE(user->tags);
  EXPECT_EQ(user->tags->kind, SchemaType::Kind::kString);
}

TEST(SchemaParser, DeclaresSeveralEntityTypesWithOneDeclaration) {
  Schema s = parsed("entity A, B, C in [A] = { x: Long };");
  for (const char* name : {"A", "B", "C"}) {
    ASSERT_NE(s.entity_type(name), nullptr) << name;
    EXPECT_EQ(attr_type(s, name, "x").kind, SchemaType::Kind::kLong);
  }
}

TEST(SchemaParser, ParsesEnumeratedEntityTypes) {
  Schema s = parsed(R"(entity Color enum ["red", "green", "\u{1F600}"];)");
  const EntityTypeDef* color = s.entity_type("Color");
  ASSERT_NE(color, nullptr);
  ASSERT_TRUE(color->enum_ids);
  EXPECT_EQ(*color->enum_ids, (std::vector<std::string>{"red", "green", "\xF0\x9F\x98\x80"}));
  rejected(R"(entity Color enum [];)");
}

TEST(SchemaParser, ParsesActionsWithGroupsAppliesToAndContext) {
  Schema s = parsed(R"(
    entity User; entity Doc;
    action read;
    action "view doc", edit in [read, Action::"read"] appliesTo {
      principal: User,
      resource: [Doc],
      context: { ip: ipaddr, level?: Long },
    };
  )");
  const ActionDef* view = s.action(EntityUID{"Action", "view doc"});
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->member_of, std::vector<EntityUID>{(EntityUID{"Action", "read"})});
  EXPECT_EQ(view->principal_types, std::vector<std::string>{"User"});
  EXPECT_EQ(view->resource_types, std::vector<std::string>{"Doc"});
  EXPECT_EQ(view->context->attributes.at("ip").type->kind, SchemaType::Kind::kExtension);
  EXPECT_EQ(view->context->attributes.at("ip").type->name, "ipaddr");
  EXPECT_FALSE(view->context->attributes.at("level").required);
  ASSERT_NE(s.action(EntityUID{"Action", "edit"}), nullptr);
}

TEST(SchemaParser, ActionWithoutAppliesToAppliesToNothing) {
  Schema s = parsed("action read;");
  const ActionDef* read = s.action(EntityUID{"Action", "read"});
  ASSERT_NE(read, nullptr);
  EXPECT_TRUE(read->principal_types.empty());
  EXPECT_TRUE(read->resource_types.empty());
  EXPECT_TRUE(read->context->attributes.empty());
}

TEST(SchemaParser, AppliesToNeedsNonEmptyPrincipalAndResource) {
  rejected("entity A; action a appliesTo { resource: A };");
  rejected("entity A; action a appliesTo { principal: [], resource: A };");
  rejected("entity A; action a appliesTo { principal: A, resource: A, principal: A };");
}

TEST(SchemaParser, QualifiesNamesDeclaredInNestedNamespaces) {
  Schema s = parsed(R"(
    namespace Org::App {
      entity User in Team;
      entity Team;
      action view appliesTo { principal: User, resource: Org::App::Team };
    }
  )");
  ASSERT_NE(s.entity_type("Org::App::User"), nullptr);
  EXPECT_EQ(s.entity_type("Org::App::User")->member_of_types,
            std::vector<std::string>{"Org::App::Team"});
  const ActionDef* view = s.action(EntityUID{"Org::App::Action", "view"});
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->principal_types, std::vector<std::string>{"Org::App::User"});
  EXPECT_TRUE(s.is_action_type("Org::App::Action"));
  EXPECT_FALSE(s.is_action_type("Org::App::User"));
}

TEST(SchemaParser, UnqualifiedNameFallsBackToTheEmptyNamespace) {
  Schema s = parsed("entity Shared; namespace N { entity E { s: Shared }; }");
  EXPECT_EQ(attr_type(s, "N::E", "s").name, "Shared");
}

TEST(SchemaParser, ActionGroupsMayLiveInOtherNamespaces) {
  Schema s = parsed(R"(
    namespace A { action all; }
    namespace B { action read in A::Action::"all"; action write in [read]; }
  )");
  EXPECT_EQ(s.action(EntityUID{"B::Action", "read"})->member_of,
            std::vector<EntityUID>{(EntityUID{"A::Action", "all"})});
  EXPECT_EQ(s.action(EntityUID{"B::Action", "write"})->member_of,
            std::vector<EntityUID>{(EntityUID{"B::Action", "read"})});
  EXPECT_EQ(s.action_ancestors(EntityUID{"B::Action", "write"}),
            (std::vector<EntityUID>{{"A::Action", "all"}, {"B::Action", "read"}}));
}

TEST(SchemaParser, CommonTypesAreInlined) {
  Schema s = parsed(R"(
    type Address = { street: String, zip?: Long };
    type Addresses = Set<Address>;
    entity User { home: Address, all: Addresses };
    action a appliesTo { principal: User, resource: User, context: Address };
  )");
  const SchemaType& home = attr_type(s, "User", "home");
  EXPECT_EQ(home.kind, SchemaType::Kind::kRecord);
  EXPECT_FALSE(home.attributes.at("zip").required);
  EXPECT_EQ(attr_type(s, "User", "all").element->kind, SchemaType::Kind::kRecord);
  EXPECT_TRUE(s.action(EntityUID{"Action", "a"})->context->attributes.count("street"));
}

// The reference's own example (docs: "Type name disambiguation"): common
// type > entity type > primitive/extension type.
TEST(SchemaParser, CommonTypeBeatsEntityTypeBeatsBuiltin) {
  Schema s = parsed(R"(
    namespace Demo {
      entity Host { ip: ipaddr, bandwidth: decimal };
      entity String { groups: Set<__cedar::String> };
      type ipaddr = { repr: String, isV4: Bool };
    }
  )");
  const SchemaType& ip = attr_type(s, "Demo::Host", "ip");
  ASSERT_EQ(ip.kind, SchemaType::Kind::kRecord);
  EXPECT_EQ(ip.attributes.at("repr").type->kind, SchemaType::Kind::kEntity);
  EXPECT_EQ(ip.attributes.at("repr").type->name, "Demo::String");
  EXPECT_EQ(ip.attributes.at("isV4").type->kind, SchemaType::Kind::kBool);
  EXPECT_EQ(attr_type(s, "Demo::Host", "bandwidth").name, "decimal");
  EXPECT_EQ(attr_type(s, "Demo::String", "groups").element->kind, SchemaType::Kind::kString);
}

TEST(SchemaParser, CedarQualifiedNamesAlwaysMeanBuiltins) {
  Schema s = parsed(R"(
    namespace N { entity Long; entity E { a: Long, b: __cedar::Long, c: __cedar::datetime }; }
  )");
  EXPECT_EQ(attr_type(s, "N::E", "a").kind, SchemaType::Kind::kEntity);
  EXPECT_EQ(attr_type(s, "N::E", "b").kind, SchemaType::Kind::kLong);
  EXPECT_EQ(attr_type(s, "N::E", "c").name, "datetime");
}

TEST(SchemaParser, RejectsDeclarationsShadowingTheEmptyNamespace) {
  rejected("type id = String; namespace Demo { type id = Long; }");
  rejected("entity A; namespace N { entity A; }");
  rejected(R"(action "a"; namespace N { action "a"; })");
}

TEST(SchemaParser, RejectsUndeclaredTypesAndActions) {
  EXPECT_NE(rejected("entity A in B;").message.find("`B`"), std::string::npos);
  rejected("entity A { x: Boolean };");  // `Boolean` is JSON syntax, not a type name
  rejected("action a in b;");
  rejected("entity A; action a appliesTo { principal: A, resource: Missing };");
}

TEST(SchemaParser, RejectsCycles) {
  rejected("type A = Set<B>; type B = { a: A }; entity X;");
  rejected("action a in b; action b in a;");
  rejected("action a in a;");
  parsed("entity Album in Album;");  // entity types may nest in themselves
}

TEST(SchemaParser, RejectsReservedNames) {
  rejected("type Long = String;");
  rejected("type Set = Long;");
  rejected("namespace __cedar { entity A; }");
  rejected("entity if;");
  rejected("entity A { in?: Long };");
  rejected("entity Action;");
}

TEST(SchemaParser, KeywordsAreOrdinaryIdentifiersWhereNamesAreExpected) {
  Schema s = parsed(R"(
    entity namespace, entity2, type, action { principal?: Long, "in": Long };
    action action appliesTo { principal: entity2, resource: type, context: { context: Long } };
  )");
  EXPECT_NE(s.entity_type("namespace"), nullptr);
  EXPECT_TRUE(s.entity_type("action")->attributes.count("in"));
}

TEST(SchemaParser, ContextMustBeARecord) {
  rejected("type T = Long; entity E; action a appliesTo { principal: E, resource: E, context: T };");
}

TEST(SchemaParser, RepeatedAttributeReplacesTheEarlierOne) {
  Schema s = parsed("entity E { a: Long, a: String };");
  EXPECT_EQ(attr_type(s, "E", "a").kind, SchemaType::Kind::kString);
}

TEST(SchemaParser, AcceptsAnnotationsCommentsAndEscapedNames) {
  Schema s = parsed(R"(
    // a comment
    @doc("the namespace")
    namespace NS {
      @doc("a user") @internal
      entity User { @doc("name") "first name": String, "\u{1}\n": Long };  // trailing
      @doc("view") action "view" appliesTo { principal: User, resource: User };
    }
  )");
  const EntityTypeDef* user = s.entity_type("NS::User");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->annotations.at("doc"), "a user");
  EXPECT_EQ(user->annotations.at("internal"), "");
  EXPECT_TRUE(user->attributes.count("first name"));
  EXPECT_TRUE(user->attributes.count(std::string("\x01\n")));
  EXPECT_EQ(s.action(EntityUID{"NS::Action", "view"})->annotations.at("doc"), "view");
  rejected("@a @a entity A;");
}

TEST(SchemaParser, ErrorsCarryLineAndColumn) {
  Error e = rejected("entity A;\nentity B in [A,];");
  EXPECT_EQ(e.loc.line, 2);
  EXPECT_EQ(e.loc.column, 16);
  EXPECT_EQ(e.code, "parse_error");
  Error bad_escape = rejected("entity A enum [\"\\q\"];");
  EXPECT_EQ(bad_escape.loc.line, 1);
}

TEST(SchemaParser, RejectsDeepNestingWithoutCrashing) {
  std::string deep = "entity A { a: ";
  for (int i = 0; i < 10000; ++i) deep += "Set<";
  deep += "Long";
  for (int i = 0; i < 10000; ++i) deep += ">";
  deep += " };";
  EXPECT_NE(rejected(deep).message.find("deeply"), std::string::npos);
}

TEST(FormatSchema, PrintsASchemaThatParsesBackToTheSameSchema) {
  Schema s = parsed(R"(
    entity Long;
    entity User in [Group] { "odd name": __cedar::Long, l: Long, tags?: Set<String> } tags { a: ipaddr };
    entity Group enum ["a", "b\"c"];
    namespace N { entity R { u: User }; action a in [Action::"root"] appliesTo { principal: R, resource: [R, User], context: { x?: Bool } }; }
    action root;
  )");
  std::string text = format_schema(s);
  Schema again = parsed(text);
  EXPECT_EQ(format_schema(again), text);
  EXPECT_EQ(attr_type(again, "User", "odd name").kind, SchemaType::Kind::kLong);
  EXPECT_EQ(attr_type(again, "User", "l").kind, SchemaType::Kind::kEntity);
  EXPECT_EQ(again.action(EntityUID{"N::Action", "a"})->member_of,
            std::vector<EntityUID>{(EntityUID{"Action", "root"})});
}

}  // namespace
}  // namespace ztgate::cedar
