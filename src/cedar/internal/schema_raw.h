// The unresolved form of a schema, as written: names may be unqualified and
// common types are still references. Both schema front ends (the
// human-readable syntax and JSON) produce a RawSchema; resolve_schema turns
// it into the fully-qualified, alias-free Schema of schema.h.
//
// Internal to src/cedar: nothing outside the module includes this header.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cedar/result.h"
#include "cedar/schema.h"

namespace ztgate::cedar::internal {

// How a written type name may resolve (RFC 24 / RFC 70): to a common type, to
// an entity type, or to either (common types win).
enum class RefKind : uint8_t { kCommon, kEntity, kCommonOrEntity };

struct RawAttr;

struct RawType {
  enum class Kind : uint8_t {
    kNamed,      // a name to resolve, see `ref`
    kBool, kLong, kString,
    kExtension,  // JSON {"type":"Extension","name":..}
    kSet, kRecord,
  };
  Kind kind = Kind::kNamed;
  std::string name;                        // kNamed: as written ("A", "NS::A"); kExtension
  RefKind ref = RefKind::kCommonOrEntity;  // kNamed only
  std::shared_ptr<RawType> element;        // kSet
  std::vector<RawAttr> attributes;         // kRecord, in source order
  bool open_attributes = false;            // kRecord (JSON additionalAttributes)
  SourceLoc loc;
};

struct RawAttr {
  std::string name;
  RawType type;
  bool required = true;
  SourceLoc loc;
};

using Annotations = std::map<std::string, std::string>;

struct RawEntityType {
  std::string name;                         // basename, unqualified
  std::vector<RawType> parents;             // kNamed with RefKind::kEntity
  std::optional<RawType> shape;             // a record, or a name resolving to one
  std::optional<RawType> tags;
  std::optional<std::vector<std::string>> enum_ids;
  Annotations annotations;
  SourceLoc loc;
};

// A reference to an action: `"id"`, `Path::"id"`. `type` unset means `Action`.
struct RawActionRef {
  std::optional<std::string> type;
  std::string id;
  SourceLoc loc;
};

struct RawAction {
  std::string id;
  std::vector<RawActionRef> parents;
  std::vector<RawType> principal_types;     // kNamed with RefKind::kEntity
  std::vector<RawType> resource_types;
  std::optional<RawType> context;           // a record, or a name resolving to one
  Annotations annotations;
  SourceLoc loc;
};

struct RawCommonType {
  std::string name;                         // basename, unqualified
  RawType type;
  Annotations annotations;
  SourceLoc loc;
};

struct RawNamespace {
  std::string name;                         // "" for the empty namespace
  std::vector<RawEntityType> entity_types;
  std::vector<RawAction> actions;
  std::vector<RawCommonType> common_types;
  Annotations annotations;
  SourceLoc loc;
};

struct RawSchema {
  std::vector<RawNamespace> namespaces;     // names unique
};

// Resolves names, inlines common types, checks declarations (RFC 70
// shadowing, duplicates, undeclared types and actions, cycles among common
// types and action groups, shapes and contexts being records).
Result<Schema> resolve_schema(const RawSchema& raw);

// Names reserved for common types: they would be ambiguous with the JSON
// format's type keywords.
bool is_reserved_common_type_name(std::string_view name);

// The extension types known to this implementation.
bool is_extension_type_name(std::string_view name);

}  // namespace ztgate::cedar::internal
