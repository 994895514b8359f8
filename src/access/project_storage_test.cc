// ProjectStorage on a MemoryStore: a project's choice of storage backend is
// kept, changed, cleared, and separate per project.
#include "access/project_storage.h"

#include <gtest/gtest.h>

#include "store/memory_store.h"

namespace kiln {
namespace {

TEST(ProjectStorage, KeepsChangesAndClearsEachProjectsChoice) {
  MemoryStore store;
  ProjectStorage choice(store);
  EXPECT_EQ(*choice.Get("digits"), "");
  ASSERT_TRUE(choice.Set("digits", "archive").ok());
  EXPECT_EQ(*choice.Get("digits"), "archive");
  EXPECT_EQ(*choice.Get("other"), "");
  ASSERT_TRUE(choice.Set("digits", "fast").ok());
  EXPECT_EQ(*choice.Get("digits"), "fast");
  // A second object over the same store (another server) sees it.
  ProjectStorage elsewhere(store);
  EXPECT_EQ(*elsewhere.Get("digits"), "fast");
  ASSERT_TRUE(choice.Set("digits", "").ok());
  EXPECT_EQ(*elsewhere.Get("digits"), "");
  ASSERT_TRUE(choice.Set("digits", "").ok());  // clearing nothing is fine
  EXPECT_FALSE(choice.Set("../x", "archive").ok());
}

}  // namespace
}  // namespace kiln
