#include "model/node.h"

#include <gtest/gtest.h>

#include "core/guid.h"
#include "model/commit.h"

namespace kiln {
namespace {

NodeObject Sample() {
  NodeObject n;
  n.guid = NewGuid();
  n.base = NewGuid();
  n.attrs = {{"name", "conv"}, {"size", int64_t(3)}, {"rate", 0.5}};
  n.pointers = {{"src", NewGuid()}, {"none", std::nullopt}};
  n.registry = {{"position", Value::Map{{"x", 1}, {"y", 2}}}};
  n.children = {{NewGuid(), Digest::Of("a")}, {NewGuid(), Digest::Of("b")}};
  return n;
}

TEST(NodeObject, RoundTrip) {
  NodeObject n = Sample();
  std::string bytes = EncodeNode(n);
  EXPECT_EQ(bytes[0], 'N');
  NodeObject back;
  ASSERT_TRUE(DecodeNode(bytes, &back).ok());
  EXPECT_EQ(back.guid, n.guid);
  EXPECT_EQ(back.base, n.base);
  EXPECT_EQ(back.attrs, n.attrs);
  EXPECT_EQ(back.pointers, n.pointers);
  EXPECT_EQ(back.registry, n.registry);
  EXPECT_EQ(back.children, n.children);
  EXPECT_EQ(EncodeNode(back), bytes);
}

TEST(NodeObject, RefusesDamage) {
  std::string bytes = EncodeNode(Sample());
  NodeObject out;
  EXPECT_EQ(DecodeNode(bytes.substr(0, bytes.size() - 1), &out).code(), Code::kCorruption);
  EXPECT_EQ(DecodeNode(bytes + "x", &out).code(), Code::kCorruption);
  std::string wrong_tag = bytes;
  wrong_tag[0] = 'C';
  EXPECT_EQ(DecodeNode(wrong_tag, &out).code(), Code::kCorruption);
  EXPECT_EQ(DecodeNode("", &out).code(), Code::kCorruption);
  // Every truncation fails cleanly.
  for (size_t i = 0; i < bytes.size(); ++i) {
    NodeObject o;
    EXPECT_FALSE(DecodeNode(bytes.substr(0, i), &o).ok()) << i;
  }
}

TEST(CommitObject, RoundTrip) {
  CommitObject c{Digest::Of("root"), {Digest::Of("p1"), Digest::Of("p2")}, "ada", "msg", 1234};
  std::string bytes = EncodeCommit(c);
  EXPECT_EQ(bytes[0], 'C');
  auto back = DecodeCommit(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, c);
  EXPECT_FALSE(DecodeCommit(bytes.substr(0, 10)).ok());
  EXPECT_FALSE(DecodeCommit(EncodeNode(Sample())).ok());
}

TEST(ProjectObject, RoundTrip) {
  ProjectObject p{"digits", "a classifier", 99};
  std::string bytes = EncodeProject(p);
  EXPECT_EQ(bytes[0], 'P');
  auto back = DecodeProject(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, p);
}

}  // namespace
}  // namespace kiln
