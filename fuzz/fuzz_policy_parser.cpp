// Fuzz target: the Cedar policy parser and printer.
//
// Properties checked, for any input text:
//   1. parse_policies and parse_expression return (a value or an error);
//      they never crash, hang, leak or hit undefined behavior.
//   2. When parse_policies succeeds, the printed set (format_policies)
//      parses again, to the same policies and templates: effect,
//      annotations, scopes and conditions equal node by node (same_expr).
//   3. Printing is idempotent: printing the re-parsed set gives the
//      identical text.
//   4. The same two properties for single expressions (format_expr).
//
// Input: Cedar policy text (seeds: fuzz/corpus/fuzz_policy_parser/).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cedar/policy_set.h"
#include "property.h"

namespace {

using namespace ztgate::cedar;
using ztgate::fuzz::require;

bool same_entity_scope(const EntityScope& a, const EntityScope& b) {
  return a.kind == b.kind && a.type == b.type && a.entity == b.entity && a.uses_slot == b.uses_slot;
}

bool same_policy(const Policy& a, const Policy& b) {
  if (a.effect != b.effect || a.is_template != b.is_template) return false;
  if (a.annotations.size() != b.annotations.size()) return false;
  for (size_t i = 0; i < a.annotations.size(); ++i)
    if (a.annotations[i].key != b.annotations[i].key ||
        a.annotations[i].value != b.annotations[i].value)
      return false;
  if (!same_entity_scope(a.principal, b.principal) || !same_entity_scope(a.resource, b.resource))
    return false;
  if (a.action.kind != b.action.kind || a.action.entities != b.action.entities) return false;
  if (a.conditions.size() != b.conditions.size()) return false;
  for (size_t i = 0; i < a.conditions.size(); ++i)
    if (a.conditions[i].is_when != b.conditions[i].is_when ||
        !same_expr(*a.conditions[i].body, *b.conditions[i].body))
      return false;
  return true;
}

// Ids are not compared: the printer puts templates after static policies,
// which renumbers them when they were interleaved.
bool same_policies(const PolicySet& a, const PolicySet& b) {
  auto same_list = [](const auto& x, const auto& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (!same_policy(*x[i], *y[i])) return false;
    return true;
  };
  return same_list(a.policies(), b.policies()) && same_list(a.templates(), b.templates());
}

void check_policy_round_trip(std::string_view text) {
  auto parsed = parse_policies(text);
  if (!parsed) return;
  std::string printed = format_policies(*parsed);
  auto reparsed = parse_policies(printed);
  require(reparsed.ok(), "printed policies parse again",
          "printed:\n" + printed + "\nerror: " + (reparsed ? "" : reparsed.error().to_string()));
  require(same_policies(*parsed, *reparsed), "printed policies parse to the same AST",
          "printed:\n" + printed);
  std::string reprinted = format_policies(*reparsed);
  require(reprinted == printed, "printing is idempotent",
          "first:\n" + printed + "\nsecond:\n" + reprinted);
}

void check_expression_round_trip(std::string_view text) {
  auto parsed = parse_expression(text);
  if (!parsed) return;
  std::string printed = format_expr(**parsed);
  auto reparsed = parse_expression(printed);
  require(reparsed.ok(), "printed expression parses again",
          "printed: " + printed + "\nerror: " + (reparsed ? "" : reparsed.error().to_string()));
  require(same_expr(**parsed, **reparsed), "printed expression parses to the same AST",
          "printed: " + printed);
  std::string reprinted = format_expr(**reparsed);
  require(reprinted == printed, "expression printing is idempotent",
          "first: " + printed + "\nsecond: " + reprinted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_policy_round_trip(text);
  check_expression_round_trip(text);
  return 0;
}
