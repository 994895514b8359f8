#include "nn/codegen.h"

#include <gtest/gtest.h>

#include "nn/document.h"
#include "nn/shapes.h"

namespace kiln::nn {
namespace {

const char* kLeNet = R"({"main": "LeNet5", "architectures": {"LeNet5": {
  "nodes": [{"id": "x", "type": "Input", "params": {"shape": ["N", 1, 32, 32]}},
            {"id": "conv1", "type": "Conv2d", "params": {"out_channels": 6, "kernel_size": 5}},
            {"id": "act1", "type": "Tanh"},
            {"id": "pool1", "type": "AvgPool2d", "params": {"kernel_size": 2}},
            {"id": "conv2", "type": "Conv2d", "params": {"out_channels": 16, "kernel_size": 5, "padding_mode": "zeros", "bias": false}},
            {"id": "flat", "type": "Flatten"},
            {"id": "fc", "type": "Linear", "params": {"out_features": 10}},
            {"id": "logits", "type": "Output"}],
  "edges": [["x", "conv1"], ["conv1", "act1"], ["act1", "pool1"], ["pool1", "conv2"],
            ["conv2", "flat"], ["flat", "fc"], ["fc", "logits"]]}}})";

std::string Generate(const char* text) {
  auto doc = ParseDocument(text, Catalog::Torch());
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  Analysis a = Analyze(*doc);
  auto code = GenerateCode(*doc, a);
  EXPECT_TRUE(code.ok()) << code.status().ToString();
  return code.ok() ? *code : "";
}

TEST(CodegenTest, ReadableModule) {
  std::string code = Generate(kLeNet);
  EXPECT_NE(code.find("class LeNet5(nn.Module):"), std::string::npos) << code;
  EXPECT_NE(code.find("self.conv1 = nn.Conv2d(1, 6, 5)\n"), std::string::npos) << code;
  // Defaults are left out; non-defaults are keywords.
  EXPECT_NE(code.find("self.conv2 = nn.Conv2d(6, 16, 5, bias=False)\n"), std::string::npos) << code;
  EXPECT_NE(code.find("self.fc = nn.Linear(1600, 10)\n"), std::string::npos) << code;
  EXPECT_NE(code.find("    def forward(self, x):\n        conv1 = self.conv1(x)\n"),
            std::string::npos)
      << code;
  EXPECT_NE(code.find("        return fc\n"), std::string::npos) << code;
}

TEST(CodegenTest, Deterministic) { EXPECT_EQ(Generate(kLeNet), Generate(kLeNet)); }

TEST(CodegenTest, ABareArchitectureIsNotADocument) {
  auto doc = ParseDocument(R"({"nodes": [{"id": "x", "type": "Input", "params": {"shape": [1, 2]}},
      {"id": "c", "type": "Conv2d", "params": {"out_channels": 2, "kernel_size": 3}}],
      "edges": [["x", "c"]]})",
                           Catalog::Torch());
  EXPECT_FALSE(doc.ok());
}

TEST(CodegenTest, Literals) {
  EXPECT_EQ(PythonLiteral(Value(0.1)), "0.1");
  EXPECT_EQ(PythonLiteral(Value(1.0)), "1.0");
  EXPECT_EQ(PythonLiteral(Value(true)), "True");
  EXPECT_EQ(PythonLiteral(Value("it's")), "'it\\'s'");
  EXPECT_EQ(PythonLiteral(Value(Value::List{Value(3)})), "(3,)");
  EXPECT_EQ(PythonLiteral(Value()), "None");
}

TEST(CodegenTest, NamesAreIdentifiersAndUnique) {
  std::string code = Generate(R"({"main": "Net", "architectures": {"Net": {
    "nodes": [{"id": "a", "name": "in put", "type": "Input", "params": {"shape": [2, 4]}},
              {"id": "b", "name": "train", "type": "Linear", "params": {"out_features": 2}},
              {"id": "c", "name": "train", "type": "ReLU"}],
    "edges": [["a", "b"], ["b", "c"]]}}})");
  EXPECT_NE(code.find("def forward(self, in_put):"), std::string::npos) << code;
  EXPECT_NE(code.find("self.train_ = nn.Linear(4, 2)"), std::string::npos) << code;
  EXPECT_NE(code.find("self.train__2 = nn.ReLU()"), std::string::npos) << code;
}

}  // namespace
}  // namespace kiln::nn
