// base64url (RFC 4648 §5) without padding, as JOSE uses it (RFC 7515 §2).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace ztgate::authn {


// Decodes unpadded base64url. Refuses '=' padding, characters outside
// [A-Za-z0-9_-], a length of 1 mod 4 and non-zero trailing bits, so every
// byte string has exactly one accepted encoding. Error code "base64url_invalid".
Result<std::string> base64url_decode(std::string_view in);

// Encodes without padding.
std::string base64url_encode(std::string_view bytes);

}  // namespace ztgate::authn
