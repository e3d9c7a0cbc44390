// A Cedar schema: entity types, actions, and the types of their attributes
// and contexts. Built from the human-readable (.cedarschema) or the JSON
// format; every name in a Schema is fully qualified and every common-type
// reference is resolved, so consumers never deal with namespaces or aliases.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cedar/result.h"
#include "cedar/value.h"

namespace ztgate::cedar {

struct SchemaType;
using SchemaTypePtr = std::shared_ptr<const SchemaType>;

struct AttributeType {
  SchemaTypePtr type;
  bool required = true;
};

// A resolved type. Extension types are named "ipaddr", "decimal",
// "datetime", "duration" (the `__cedar::` prefix removed).
struct SchemaType {
  enum class Kind : uint8_t { kBool, kLong, kString, kEntity, kSet, kRecord, kExtension };
  Kind kind = Kind::kBool;
  std::string name;                              // entity type or extension name
  SchemaTypePtr element;                         // for kSet
  std::map<std::string, AttributeType> attributes;  // for kRecord
  bool open_attributes = false;                  // records never are in Cedar 4 schemas;
                                                 // kept for forward compatibility
};

struct EntityTypeDef {
  std::string name;                              // fully qualified
  std::vector<std::string> member_of_types;      // allowed parent types
  std::map<std::string, AttributeType> attributes;  // the shape
  SchemaTypePtr tags;                            // null: entity has no tags
  std::optional<std::vector<std::string>> enum_ids;  // enumerated entity type
  std::map<std::string, std::string> annotations;
  SourceLoc loc;
};

struct ActionDef {
  EntityUID uid;                                 // e.g. NS::Action::"view"
  std::vector<EntityUID> member_of;              // parent action groups
  std::vector<std::string> principal_types;      // appliesTo; empty: applies to nothing
  std::vector<std::string> resource_types;
  SchemaTypePtr context;                         // always a record (empty when absent)
  std::map<std::string, std::string> annotations;
  SourceLoc loc;
};

class Schema {
 public:
  std::map<std::string, EntityTypeDef> entity_types;
  std::map<EntityUID, ActionDef> actions;

  const EntityTypeDef* entity_type(std::string_view name) const;
  const ActionDef* action(const EntityUID& uid) const;
  bool is_action_type(std::string_view type) const;  // "Action" or "NS::Action" with actions

  // Ancestors (transitive `in`) of an action, from the schema's action groups.
  std::vector<EntityUID> action_ancestors(const EntityUID& uid) const;
};

using SchemaPtr = std::shared_ptr<const Schema>;

// The human-readable schema syntax (.cedarschema). Errors carry line:column.
Result<Schema> parse_schema(std::string_view text);
// The JSON schema syntax.
Result<Schema> parse_schema_json(std::string_view json_text);
// Prints a schema in the human-readable syntax.
std::string format_schema(const Schema& schema);

}  // namespace ztgate::cedar
