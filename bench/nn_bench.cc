// nn_bench: how long design-time shape inference takes on an architecture
// document (docs/nn.md) — parse + analyse, and code generation — repeated
// to get a stable figure. bench/nn_bench.py generates the 1,000-layer
// network, runs this, and times torch's own shape propagation beside it.
//
// Usage: nn_bench DOCUMENT.json [--repeat N]   prints one JSON line of figures.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "nn/catalog.h"
#include "nn/codegen.h"
#include "nn/document.h"
#include "nn/shapes.h"

using namespace kiln;

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: nn_bench DOCUMENT.json [--repeat N]\n");
    return 2;
  }
  int repeat = 50;
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--repeat") repeat = std::max(1, atoi(argv[i + 1]));
  }
  std::ifstream in(argv[1]);
  std::stringstream text;
  text << in.rdbuf();
  const nn::Catalog& catalog = nn::Catalog::Torch();  // built once, as in the server
  using Clock = std::chrono::steady_clock;
  std::vector<double> parse_ms, analyse_ms, codegen_ms;
  size_t nodes = 0, errors = 0;
  for (int r = 0; r < repeat; ++r) {
    auto t0 = Clock::now();
    auto doc = nn::ParseDocument(text.str(), catalog);
    if (!doc.ok()) {
      fprintf(stderr, "nn_bench: %s\n", doc.status().ToString().c_str());
      return 1;
    }
    auto tp = Clock::now();
    nn::Analysis a = nn::Analyze(*doc);
    auto t1 = Clock::now();
    parse_ms.push_back(std::chrono::duration<double, std::milli>(tp - t0).count());
    auto code = nn::GenerateCode(*doc, a);
    auto t2 = Clock::now();
    analyse_ms.push_back(std::chrono::duration<double, std::milli>(t1 - tp).count());
    codegen_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    nodes = 0;
    for (const auto& [name, arch] : doc->architectures) nodes += arch.nodes.size();
    errors = a.Main(*doc).errors.size() + (code.ok() ? 0 : 1);
  }
  std::sort(parse_ms.begin(), parse_ms.end());
  std::sort(analyse_ms.begin(), analyse_ms.end());
  std::sort(codegen_ms.begin(), codegen_ms.end());
  printf(
      "{\"nodes\": %zu, \"errors\": %zu, \"parse_ms_median\": %.3f, "
      "\"analyse_ms_median\": %.3f, \"analyse_ms_min\": %.3f, \"codegen_ms_median\": %.3f}\n",
      nodes, errors, parse_ms[parse_ms.size() / 2], analyse_ms[analyse_ms.size() / 2],
      analyse_ms[0], codegen_ms[codegen_ms.size() / 2]);
  return errors ? 1 : 0;
}
