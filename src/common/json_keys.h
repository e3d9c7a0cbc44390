// Strict JSON: a streaming pass over JSON text that finds an object with a
// duplicate member name. Boost.JSON keeps the last of duplicate keys silently;
// we refuse them, because two parsers may disagree on which one wins:
// `{"role":"user","role":"admin"}` must not quietly mean admin, nor
// `{"alg":"RS256","alg":"none"}` anything at all (RFC 7515 §4, RFC 7519 §4).
//
// Run it beside (not instead of) the DOM parse: it reports only duplicates;
// other syntax errors are left to the DOM parser, which reports them better.
// Bounds: nesting depth is at most `max_depth` (deeper text stops the pass
// without a finding, and the DOM parse with the same limit refuses it); memory
// is proportional to the text size.
#pragma once

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ztgate {

// The first member name (in document order) that repeats within one JSON
// object of `json_text`, or nullopt when there is none. Names compare as
// decoded strings, so `"a"` and `"\u0061"` are the same name.
std::optional<std::string> find_duplicate_key(std::string_view json_text, int max_depth);

// The DOM of `json_text` (Boost.JSON, nesting at most `max_depth`) and, in
// the same pass, the first repeated member name as find_duplicate_key
// reports it (`duplicate`, left unset when there is none). A repeat does not
// stop the parse; `ec` is set (and null returned) only when the text is not
// JSON or nests deeper, or holds a number beyond a double's range (1e400:
// re-serialized it would read `Infinity`, which is not JSON). Otherwise the
// same results as json::parse plus find_duplicate_key, one pass instead of two.
boost::json::value parse_json_checking_keys(std::string_view json_text, int max_depth, boost::system::error_code& ec,
                                            std::optional<std::string>& duplicate);

// `name` made safe for an error message: control characters and non-ASCII
// bytes escaped as \xHH, cut to at most 64 bytes (then "...").
std::string printable_key(std::string_view name);

// Error(code, "duplicate key `<name>` in a JSON object") when
// find_duplicate_key finds one; Ok otherwise.
Status reject_duplicate_keys(std::string_view json_text, int max_depth, std::string_view code);

}  // namespace ztgate
