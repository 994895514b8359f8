#include "runs/downsample.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

std::vector<MetricPoint> Series(size_t n) {
  std::vector<MetricPoint> s;
  for (size_t i = 0; i < n; ++i) s.push_back({int64_t(i), double(i % 7), 0});
  return s;
}

TEST(Downsample, ShortSeriesAreUnchanged) {
  auto s = Series(100);
  auto d = Downsample(s, 100);
  ASSERT_EQ(d.size(), 100u);
  EXPECT_EQ(d[42].step, 42);
}

TEST(Downsample, AMillionPointsBecomeAtMostTheBudgetKeepingEndsAndSpikes) {
  auto s = Series(1'000'000);
  s[123'457].value = 1e9;  // a spike
  auto d = Downsample(s, 2000);
  EXPECT_LE(d.size(), 2000u);
  EXPECT_GT(d.size(), 1000u);
  EXPECT_EQ(d.front().step, 0);
  EXPECT_EQ(d.back().step, 999'999);
  bool spike = false;
  for (size_t i = 1; i < d.size(); ++i) {
    EXPECT_LT(d[i - 1].step, d[i].step);  // in order
    spike = spike || d[i].value == 1e9;
  }
  EXPECT_TRUE(spike);
}

}  // namespace
}  // namespace kiln
