#include "server/tree_json_cache.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

Digest D(int i) { return Digest::Of("commit " + std::to_string(i)); }

TEST(TreeJsonCache, RendersOncePerCommit) {
  TreeJsonCache cache;
  int renders = 0;
  auto render = [&renders]() -> Result<std::string> {
    ++renders;
    return std::string("{\"nodes\":{}}");
  };
  auto a = cache.Get(D(1), render);
  auto b = cache.Get(D(1), render);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(**a, "{\"nodes\":{}}");
  EXPECT_EQ(a->get(), b->get());  // the same shared text
  EXPECT_EQ(renders, 1);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(TreeJsonCache, EvictsLeastRecentlyUsedByCount) {
  TreeJsonCache cache(2);
  int renders = 0;
  auto render = [&renders]() -> Result<std::string> { return std::to_string(++renders); };
  (void)cache.Get(D(1), render);
  (void)cache.Get(D(2), render);
  (void)cache.Get(D(1), render);  // 1 is now the most recent
  (void)cache.Get(D(3), render);  // evicts 2
  EXPECT_EQ(renders, 3);
  (void)cache.Get(D(1), render);
  EXPECT_EQ(renders, 3);
  (void)cache.Get(D(2), render);
  EXPECT_EQ(renders, 4);
}

TEST(TreeJsonCache, EvictsByBytesAndNeverStoresAnOversizedText) {
  TreeJsonCache cache(10, 10);
  int renders = 0;
  auto big = [&renders]() -> Result<std::string> {
    ++renders;
    return std::string(11, 'x');
  };
  auto r = cache.Get(D(1), big);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->size(), 11u);  // returned, not kept
  (void)cache.Get(D(1), big);
  EXPECT_EQ(renders, 2);

  auto six = []() -> Result<std::string> { return std::string(6, 'y'); };
  (void)cache.Get(D(2), six);
  (void)cache.Get(D(3), six);  // 12 bytes > 10: 2 goes
  int again = 0;
  (void)cache.Get(D(2), [&again]() -> Result<std::string> {
    ++again;
    return std::string(6, 'y');
  });
  EXPECT_EQ(again, 1);
}

TEST(TreeJsonCache, AFailedRenderIsReturnedAndNotCached) {
  TreeJsonCache cache;
  auto r = cache.Get(D(1), []() -> Result<std::string> { return NotFound("no such tree"); });
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  auto ok = cache.Get(D(1), []() -> Result<std::string> { return std::string("t"); });
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(**ok, "t");
}

}  // namespace
}  // namespace kiln
