#include "nn/library.h"

#include <gtest/gtest.h>

#include "core/guid.h"
#include "model/meta.h"
#include "nn/from_tree.h"
#include "nn/shapes.h"

namespace kiln::nn {
namespace {

std::string G(const char* name) { return DeriveGuid("library-test", name); }

PatchOp Layer(const std::string& guid, const std::string& parent, const std::string& type,
              Value::Map attrs) {
  return PatchOp::Create(guid, parent, TorchMetaGuid(type), std::move(attrs));
}

std::string Port(const std::string& layer, const std::string& type, const char* direction,
                 const char* name) {
  return DeriveGuid(layer, TorchPortGuid(type, direction, name));
}

PatchOp Connect(const std::string& guid, const std::string& arch, const std::string& src,
                const std::string& dst) {
  return PatchOp::Create(guid, arch, MetaGuid("Connection"), {}, {{"src", src}, {"dst", dst}});
}

class LibraryTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(UsesTorchLibrary(tree_));
    Patch p = TorchLibraryPatch(tree_, Catalog::Torch());
    ASSERT_TRUE(tree_.Apply(p).ok());
    ASSERT_TRUE(UsesTorchLibrary(tree_));
    EXPECT_TRUE(TorchLibraryPatch(tree_, Catalog::Torch()).ops.empty());
  }

  Status BuildCnn() {
    Patch p;
    p.ops.push_back(PatchOp::Create(G("arch"), RootGuid(), TorchMetaGuid("Architecture"),
                                    {{"name", "Small CNN"}}));
    p.ops.push_back(
        Layer(G("x"), G("arch"), "Input", {{"name", "x"}, {"shape", Value::List{"N", 1, 28, 28}}}));
    p.ops.push_back(Layer(G("c"), G("arch"), "Conv2d",
                          {{"name", "conv"}, {"out_channels", 4}, {"kernel_size", 3}}));
    p.ops.push_back(Layer(G("f"), G("arch"), "Flatten", {{"name", "flat"}}));
    p.ops.push_back(Layer(G("l"), G("arch"), "Linear", {{"name", "fc"}, {"out_features", 10}}));
    p.ops.push_back(Connect(G("e1"), G("arch"), Port(G("x"), "Input", "output", "output"),
                            Port(G("c"), "Conv2d", "input", "input")));
    p.ops.push_back(Connect(G("e2"), G("arch"), Port(G("c"), "Conv2d", "output", "output"),
                            Port(G("f"), "Flatten", "input", "input")));
    p.ops.push_back(Connect(G("e3"), G("arch"), Port(G("f"), "Flatten", "output", "output"),
                            Port(G("l"), "Linear", "input", "input")));
    return tree_.Apply(p);
  }

  Tree tree_ = NewProjectTree();
};

TEST_F(LibraryTest, LayersInheritTheirPortsAndConnect) {
  ASSERT_TRUE(BuildCnn().ok());
  auto doc = DocumentFromTree(*tree_.Find(G("arch")), Catalog::Torch());
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->main, "Small_CNN");
  Analysis a = Analyze(*doc);
  ASSERT_TRUE(a.ok(*doc));
  const auto& fc = a.Main(*doc).nodes[size_t(doc->Main().Find(G("l")))];
  EXPECT_EQ(fc.outputs[0]->ToString(), "[N, 10]");
  EXPECT_EQ(fc.inferred.at("in_features").ToString(), "2704");
}

TEST_F(LibraryTest, ArchitecturesStayAcyclic) {
  ASSERT_TRUE(BuildCnn().ok());
  Patch p;
  p.ops.push_back(Connect(G("back"), G("arch"), Port(G("l"), "Linear", "output", "output"),
                          Port(G("c"), "Conv2d", "input", "input")));
  Status st = tree_.Apply(p);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("pipeline-acyclic"), std::string::npos) << st.ToString();
}

TEST_F(LibraryTest, ConnectionsStayInsideOneArchitecture) {
  ASSERT_TRUE(BuildCnn().ok());
  Patch p;
  p.ops.push_back(
      PatchOp::Create(G("other"), RootGuid(), TorchMetaGuid("Architecture"), {{"name", "Other"}}));
  p.ops.push_back(Layer(G("r"), G("other"), "ReLU", {{"name", "r"}}));
  p.ops.push_back(Connect(G("cross"), G("other"), Port(G("l"), "Linear", "output", "output"),
                          Port(G("r"), "ReLU", "input", "input")));
  Status st = tree_.Apply(p);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("connection-same-pipeline"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace kiln::nn
