// Helpers the Cedar unit tests share: parse test fixtures or fail the test.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "cedar/entities.h"
#include "cedar/policy_set.h"

namespace ztgate::cedar::testing {

inline Entities entities_or_fail(std::string_view json) {
  auto e = parse_entities_json(json);
  EXPECT_TRUE(e.ok()) << (e ? "" : e.error().to_string());
  return e ? std::move(*e) : Entities{};
}

inline EntityUID uid_or_fail(std::string_view text) {
  auto u = parse_entity_uid(text);
  EXPECT_TRUE(u.ok()) << text;
  return u ? *u : EntityUID{};
}

inline PolicySet policies_or_fail(std::string_view text) {
  auto set = parse_policies(text);
  EXPECT_TRUE(set.ok()) << (set ? "" : set.error().to_string());
  return set ? std::move(*set) : PolicySet{};
}

}  // namespace ztgate::cedar::testing
