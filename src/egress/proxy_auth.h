// The credential in a Proxy-Authorization header (RFC 9110 11.7.1).
//
//   Basic base64(user:secret)  the secret is the credential (an API key or a
//                              token, as after "Bearer " on the gateway's own
//                              routes); the user name is ignored, since
//                              proxy settings like
//                              HTTPS_PROXY=http://agent:<key>@proxy:3128
//                              need one. With an empty secret the user name
//                              is taken instead (tools that only carry a user).
//   Bearer <credential>        as is.
// Anything else (another scheme, bad base64, no ':', control bytes, more
// than kMaxProxyAuthorizationBytes) is nullopt: the caller answers 407.
// The result is a secret: never log it. Pure, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ztgate::egress {

inline constexpr size_t kMaxProxyAuthorizationBytes = 8192;

std::optional<std::string> proxy_credential(std::string_view header_value);

}  // namespace ztgate::egress
