// Every SSRF bypass form in tests/egress/ssrf_bypass_forms.txt is refused
// by the egress module alone: not a host (destination_invalid), or an
// address (literal, or what a name resolves to) the SSRF floor forbids with
// an empty allow-list. The integration test drives the same list through
// the real proxy with curl and a Node client.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "egress/address_class.h"
#include "egress/destination.h"
#include "egress/resolver.h"

namespace ztgate::egress {
namespace {

struct Form {
  std::string url, comment;
};

std::vector<Form> load_forms() {
  std::ifstream in(std::string(ZTGATE_SOURCE_DIR) + "/tests/egress/ssrf_bypass_forms.txt");
  std::vector<Form> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t sep = line.find("  # ");
    Form f{line.substr(0, sep), sep == std::string::npos ? "" : line.substr(sep + 4)};
    for (size_t at; (at = f.url.find("{port}")) != std::string::npos;) f.url.replace(at, 6, "80");
    out.push_back(std::move(f));
  }
  return out;
}

TEST(SsrfFormsTest, TheListHasAtLeastThirtyFormsEachWithAComment) {
  auto forms = load_forms();
  EXPECT_GE(forms.size(), 30u);
  for (const auto& f : forms) EXPECT_FALSE(f.comment.empty()) << f.url;
}

TEST(SsrfFormsTest, EveryFormIsRefused) {
  Resolver resolver(Resolver::Options{});
  AddressPolicy floor;
  for (const auto& f : load_forms()) {
    auto d = parse_absolute_target(f.url);
    if (!d) {
      EXPECT_EQ(d.error().code, "destination_invalid") << f.url;
      continue;
    }
    std::vector<IpAddress> addresses;
    if (d->host.address) {
      addresses.push_back(*d->host.address);
    } else {
      auto r = resolver.resolve_blocking(d->host.text, std::chrono::seconds(5));
      if (!r) continue;  // does not resolve: nothing to connect to
      addresses = *r;
    }
    auto st = floor.check_all(addresses);
    EXPECT_FALSE(st) << f.url << " (" << f.comment << ") reached " << addresses.front().to_string();
    if (!st) {
      EXPECT_EQ(st.error().code, "destination_forbidden");
    }
    // The same host as a CONNECT target.
    auto c = parse_connect_target(d->host.authority_text() + ":" + std::to_string(d->port));
    ASSERT_TRUE(c) << f.url;
    EXPECT_EQ(c->host, d->host) << f.url;
  }
}

}  // namespace
}  // namespace ztgate::egress
