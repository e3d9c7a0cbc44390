// egress/proxy_auth.h: the credential in Proxy-Authorization.
#include <gtest/gtest.h>

#include "egress/proxy_auth.h"

namespace ztgate::egress {
namespace {

std::string cred(std::string_view header) { return proxy_credential(header).value_or("<none>"); }

TEST(ProxyAuthTest, BasicTakesTheSecretAndIgnoresTheUser) {
  EXPECT_EQ(cred("Basic YWdlbnQ6enRnX2tleQ=="), "ztg_key");  // agent:ztg_key
  EXPECT_EQ(cred("basic YWdlbnQ6enRnX2tleQ"), "ztg_key");    // scheme case, no padding
  EXPECT_EQ(cred("Basic enRnX2tleTo="), "ztg_key");          // ztg_key: (user only)
  EXPECT_EQ(cred("Basic OmE6Yg=="), "a:b");                  // :a:b -> secret "a:b"
}

TEST(ProxyAuthTest, BearerAsIs) {
  EXPECT_EQ(cred("Bearer ztg_0123_abc"), "ztg_0123_abc");
  EXPECT_EQ(cred("BEARER   tok  "), "tok");
}

TEST(ProxyAuthTest, AnythingElseIsNoCredential) {
  for (const char* bad : {"", "Basic", "Basic ", "Basic !!!!", "Basic YWdlbnQ", "Basic Og==", "Digest x=1",
                          "Bearer", "Bearer a b", "Negotiate abc", "Basic YQ=", "Basic YWdlbnQ6AA=="})
    EXPECT_EQ(cred(bad), "<none>") << bad;
  EXPECT_EQ(cred("Bearer " + std::string(9000, 'a')), "<none>");
}

}  // namespace
}  // namespace ztgate::egress
