// The entry point the evaluator uses for Cedar's extension functions:
// constructors called function-style (`ip("10.0.0.1")`) and methods called
// on an extension value (`ip("10.0.0.1").isLoopback()`).
//
// Failures are values, never exceptions:
//   "type_error"       wrong number of arguments, or a receiver or argument
//                      of the wrong type (with a hint when a string was
//                      passed where a constructor call was meant);
//   "extension_error"  the extension itself failed: unparsable text,
//                      decimal/duration overflow, datetime arithmetic
//                      overflow.
//
// The comparison operators `<`, `<=`, `>`, `>=` on datetime and duration
// values are operators, not methods; the evaluator applies them to the
// underlying millisecond counts.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "cedar/result.h"
#include "cedar/value.h"

namespace ztgate::cedar {

// True for the constructor functions: ip, decimal, datetime, duration.
bool is_extension_function(std::string_view name);

// True for the methods: isIpv4, isIpv6, isLoopback, isMulticast, isInRange,
// lessThan, lessThanOrEqual, greaterThan, greaterThanOrEqual, offset,
// durationSince, toDate, toTime, toDays, toHours, toMinutes, toSeconds,
// toMilliseconds.
bool is_extension_method(std::string_view name);

// nullopt when `name` is not an extension constructor function.
std::optional<Result<Value>> call_extension_function(std::string_view name,
                                                     std::span<const Value> args);

// nullopt when `name` is not an extension method. `args` excludes the receiver.
std::optional<Result<Value>> call_extension_method(std::string_view name, const Value& receiver,
                                                   std::span<const Value> args);

// Builds an extension value from its constructor name and string argument,
// as in the JSON form {"__extn": {"fn": "ip", "arg": "10.0.0.1"}}. An
// unknown constructor or unparsable text is an "extension_error".
Result<Value> make_extension_value(std::string_view fn, std::string_view arg);

}  // namespace ztgate::cedar
