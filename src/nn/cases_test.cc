// Runs the declarative shape cases under tests/nn/ (docs/nn.md, "Test
// cases"): each case is an architecture and what the analysis must say —
// an output shape, an inferred dimension, a parameter count, or an error's
// exact text on a node. One gtest per file; a failure names the case.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nn/catalog.h"
#include "nn/codegen.h"
#include "nn/document.h"
#include "nn/shapes.h"

namespace kiln::nn {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct Case {
  std::string file;
  int line = 0;
  std::string name;
  std::vector<std::pair<std::string, std::string>> expects;  // key = value
  std::vector<std::string> errors;                           // "node: message"
  std::string document;
};

std::string Trim(std::string s) {
  while (!s.empty() && isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::vector<Case> ReadCases(const fs::path& path) {
  std::ifstream in(path);
  std::vector<Case> cases;
  Case c;
  c.file = path.filename().string();
  bool in_doc = false;
  std::string line;
  int n = 0;
  auto flush = [&] {
    if (!c.name.empty() || !c.document.empty()) cases.push_back(c);
    c = Case{};
    c.file = path.filename().string();
    in_doc = false;
  };
  while (std::getline(in, line)) {
    ++n;
    if (line == "---") {
      flush();
      continue;
    }
    if (!in_doc && (line.empty() || line[0] == '#')) continue;
    if (c.line == 0) c.line = n;
    if (!in_doc && line.rfind("name:", 0) == 0) {
      c.name = Trim(line.substr(5));
    } else if (!in_doc && line.rfind("expect:", 0) == 0) {
      std::string e = Trim(line.substr(7));
      if (e.rfind("code contains ", 0) == 0) {
        c.expects.emplace_back("code contains", e.substr(14));
        continue;
      }
      auto eq = e.find(" = ");
      c.expects.emplace_back(Trim(e.substr(0, eq)),
                             eq == std::string::npos ? "" : Trim(e.substr(eq + 3)));
    } else if (!in_doc && line.rfind("error:", 0) == 0) {
      c.errors.push_back(Trim(line.substr(6)));
    } else {
      in_doc = true;
      c.document += line + "\n";
    }
  }
  flush();
  return cases;
}

// "[N, 8, 32, 32]" and "(…)" as the analysis prints them.
std::string Text(const json& j) {
  if (j.is_array()) {
    bool tuple = !j.empty() && j[0].is_array();
    std::string s = tuple ? "(" : "[";
    for (size_t i = 0; i < j.size(); ++i) s += (i ? ", " : "") + Text(j[i]);
    return s + (tuple ? ")" : "]");
  }
  if (j.is_string()) return j.get<std::string>();
  return j.dump();
}

// "conv.output" → nodes.conv.outputs.output; "conv.inferred.in_channels";
// "conv.parameters"; "total.parameters"; "code contains TEXT".
std::optional<std::string> Lookup(const json& a, const std::string& key) {
  if (key.rfind("total.", 0) == 0) {
    std::string k = key.substr(6);
    if (!a["totals"].contains(k)) return std::nullopt;
    return Text(a["totals"][k]);
  }
  auto dot = key.find('.');
  std::string node = key.substr(0, dot), rest = key.substr(dot + 1);
  if (!a["nodes"].contains(node)) return std::nullopt;
  const json& n = a["nodes"][node];
  if (rest.rfind("inferred.", 0) == 0) {
    std::string p = rest.substr(9);
    if (!n.contains("inferred") || !n["inferred"].contains(p)) return std::nullopt;
    return Text(n["inferred"][p]);
  }
  if (rest == "parameters" || rest == "macs" || rest == "activations") {
    if (!n.contains(rest)) return std::nullopt;
    return Text(n[rest]);
  }
  if (!n["outputs"].contains(rest)) return std::nullopt;
  return Text(n["outputs"][rest]);
}

void RunFile(const fs::path& path) {
  const Catalog& catalog = Catalog::Torch();
  for (const Case& c : ReadCases(path)) {
    SCOPED_TRACE(c.file + ":" + std::to_string(c.line) + " " + c.name);
    json j;
    try {
      j = json::parse(c.document);
    } catch (const json::exception& e) {
      ADD_FAILURE() << "the case's document is not JSON: " << e.what();
      continue;
    }
    if (!j.contains("architectures")) j = {{"main", "Net"}, {"architectures", {{"Net", j}}}};
    auto doc = ParseDocumentJson(j, catalog);
    if (!doc.ok()) {
      // A structural error is an expectation too: "error: document: …".
      ASSERT_EQ(c.errors.size(), 1u) << doc.status().ToString();
      EXPECT_EQ(c.errors[0], "document: " + doc.status().message());
      continue;
    }
    Analysis an = Analyze(*doc);
    std::string code;
    if (an.ok(*doc)) {
      auto gen = GenerateCode(*doc, an);
      if (gen.ok()) code = *gen;
    }
    json a = AnalysisToJson(*doc, an, code);
    std::vector<std::string> got;
    for (const json& e : a["errors"]) {
      // Errors name nodes by id; case files use readable ids.
      got.push_back(e["node"].get<std::string>() + ": " + e["message"].get<std::string>());
    }
    EXPECT_EQ(got, c.errors);
    for (const auto& [key, want] : c.expects) {
      if (key == "code contains") {
        EXPECT_NE(code.find(want), std::string::npos) << "code:\n" << code;
        continue;
      }
      auto v = Lookup(a, key);
      ASSERT_TRUE(v.has_value()) << key << " is not in the analysis: " << a.dump(1);
      EXPECT_EQ(*v, want) << key;
    }
  }
}

class NnCases : public testing::TestWithParam<std::string> {};

TEST_P(NnCases, File) { RunFile(fs::path(KILN_NN_CASES_DIR) / GetParam()); }

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(KILN_NN_CASES_DIR)) {
    if (e.path().extension() == ".test") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(Files, NnCases, testing::ValuesIn(CaseFiles()), [](const auto& info) {
  std::string s = info.param.substr(0, info.param.size() - 5);
  for (char& ch : s) {
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return s;
});

}  // namespace
}  // namespace kiln::nn
