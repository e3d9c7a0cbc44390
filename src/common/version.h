// ztgate's version (metadata.product.version in audit events, --version).
#pragma once

namespace ztgate {

inline constexpr const char* kVersion = "0.1.0";

}  // namespace ztgate
