#include "core/guid.h"

#include <gtest/gtest.h>

#include <set>

namespace kiln {
namespace {

TEST(Guid, NewGuidsAreWellFormedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string g = NewGuid();
    EXPECT_TRUE(IsGuid(g)) << g;
    EXPECT_EQ(g[14], '4');
    seen.insert(g);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Guid, DerivedGuidsAreDeterministic) {
  std::string a = NewGuid(), b = NewGuid();
  EXPECT_EQ(DeriveGuid(a, b), DeriveGuid(a, b));
  EXPECT_NE(DeriveGuid(a, b), DeriveGuid(b, a));
  EXPECT_TRUE(IsGuid(DeriveGuid(a, b)));
  EXPECT_FALSE(IsGuid("not-a-guid"));
  EXPECT_FALSE(IsGuid("ABCDEF00-0000-4000-8000-000000000000"));
}

}  // namespace
}  // namespace kiln
