// A set of policies and templates, as parsed from Cedar text, with template
// linking. Ids are unique across policies, templates and links.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cedar/ast.h"
#include "cedar/result.h"

namespace ztgate::cedar {

class PolicySet {
 public:
  // Static policies and linked policies, in insertion order.
  const std::vector<std::shared_ptr<const Policy>>& policies() const { return policies_; }
  const std::vector<std::shared_ptr<const Policy>>& templates() const { return templates_; }

  const Policy* find_policy(std::string_view id) const;
  const Policy* find_template(std::string_view id) const;

  // Adds a static policy or a template (by Policy::is_template). Duplicate id -> error.
  Status add(Policy policy);
  // Instantiates template `template_id` as policy `new_id`, filling its slots.
  // Every slot the template uses must be given, and no other.
  Status link(std::string_view template_id, std::string_view new_id,
              const std::map<SlotId, EntityUID>& values);

 private:
  bool id_taken(std::string_view id) const;
  std::vector<std::shared_ptr<const Policy>> policies_;
  std::vector<std::shared_ptr<const Policy>> templates_;
};

// Parses Cedar policy text. Policies are named `<id_prefix>0`, `<id_prefix>1`,
// ... in source order (the convention of the official tools; templates share
// the numbering). Errors carry line:column.
Result<PolicySet> parse_policies(std::string_view text, std::string_view id_prefix = "policy");

// Parses a single expression (used by tests and tools).
Result<ExprPtr> parse_expression(std::string_view text);

// Pretty-prints policies in canonical Cedar syntax.
std::string format_policy(const Policy& policy);
std::string format_policies(const PolicySet& set);
std::string format_expr(const Expr& expr);

}  // namespace ztgate::cedar
