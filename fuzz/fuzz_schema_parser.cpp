// Fuzz target: the Cedar schema parsers (human-readable and JSON syntax)
// and the schema printer.
//
// Properties checked, for any input text:
//   1. parse_schema and parse_schema_json return (a schema or an error);
//      they never crash, hang, leak or hit undefined behavior.
//   2. A schema from either syntax, printed with format_schema, parses
//      again with parse_schema, and printing that gives the identical text
//      (the printer writes every schema it is given in a form the parser
//      reads back unchanged).
//
// Input: a .cedarschema text or a JSON schema (seeds:
// fuzz/corpus/fuzz_schema_parser/).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cedar/schema.h"
#include "property.h"

namespace {

using namespace ztgate::cedar;
using ztgate::fuzz::require;

void check_print_round_trip(const Schema& schema, std::string_view syntax) {
  std::string printed = format_schema(schema);
  auto reparsed = parse_schema(printed);
  require(reparsed.ok(), std::string("a printed schema (from the ") + std::string(syntax) +
                             " syntax) parses again",
          "printed:\n" + printed + "\nerror: " + (reparsed ? "" : reparsed.error().to_string()));
  std::string reprinted = format_schema(*reparsed);
  require(reprinted == printed, "schema printing is idempotent",
          "first:\n" + printed + "\nsecond:\n" + reprinted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto human = parse_schema(text)) check_print_round_trip(*human, "human-readable");
  if (auto json = parse_schema_json(text)) check_print_round_trip(*json, "JSON");
  return 0;
}
