// Internal: a streaming pass over JSON text that rejects objects with
// duplicate keys. Boost.JSON keeps the last of duplicate keys silently;
// Cedar rejects them, and so must we: `{"role":"user","role":"admin"}` must
// not quietly mean admin.
#pragma once

#include <string_view>

#include "cedar/result.h"

namespace ztgate::cedar::internal {

Status reject_duplicate_keys(std::string_view json_text, int max_depth);

}  // namespace ztgate::cedar::internal
