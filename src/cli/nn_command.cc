#include "cli/nn_command.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "nn/catalog.h"
#include "nn/codegen.h"
#include "nn/document.h"
#include "nn/oracle.h"
#include "nn/shapes.h"
#include "server/nn_fallback.h"

namespace kiln {

namespace {

using json = nlohmann::json;

struct NnArgs {
  std::string file;
  bool pretty = false;
};

Result<json> ReadDocuments(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(std::string text, ReadFileOrStdin(path));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(path + " is not JSON");
  return j;
}

}  // namespace

void AddNnCommand(CLI::App& app, int* rc) {
  auto* nn = app.add_subcommand("nn", "Architectures: shapes and PyTorch code (docs/nn.md)");
  nn->require_subcommand(1);
  auto args = std::make_shared<NnArgs>();

  auto* analyze = nn->add_subcommand(
      "analyze",
      "Print the analysis (shapes, errors, counts, code) of an architecture document "
      "or of a JSON list of them");
  analyze->add_option("file", args->file, "The document ('-' reads stdin)")->required();
  analyze->add_flag("--pretty", args->pretty, "Indent the JSON");
  analyze->callback([args, rc] {
    auto docs = ReadDocuments(args->file);
    if (!docs.ok()) {
      std::cerr << "kiln: " << docs.status().message() << "\n";
      *rc = 1;
      return;
    }
    json out;
    nn::CachingOracle oracle;
    if (docs->is_array()) {
      out = json::array();
      for (const json& d : *docs) out.push_back(AnalysisReply(d, oracle, FallbackOptions{}));
    } else {
      out = AnalysisReply(*docs, oracle, FallbackOptions{});
      if (out.contains("error")) {
        std::cerr << "kiln: " << out["error"].get<std::string>() << "\n";
        *rc = 1;
        return;
      }
      if (!out["ok"].get<bool>()) *rc = 3;  // analysed, with errors: scripts can tell
    }
    std::cout << out.dump(args->pretty ? 1 : -1) << "\n";
  });

  auto* code = nn->add_subcommand("code", "Print the PyTorch module generated from a document");
  code->add_option("file", args->file, "The document ('-' reads stdin)")->required();
  code->callback([args, rc] {
    auto docs = ReadDocuments(args->file);
    if (!docs.ok()) {
      std::cerr << "kiln: " << docs.status().message() << "\n";
      *rc = 1;
      return;
    }
    auto doc = nn::ParseDocumentJson(*docs, nn::Catalog::Torch());
    if (!doc.ok()) {
      std::cerr << "kiln: " << doc.status().message() << "\n";
      *rc = 1;
      return;
    }
    nn::CachingOracle oracle;
    std::string note;
    nn::Analysis a = AnalyzeWithFallback(*doc, oracle, FallbackOptions{}, &note);
    auto gen = nn::GenerateCode(*doc, a);
    if (!gen.ok()) {
      std::cerr << "kiln: " << gen.status().message() << "\n";
      *rc = 1;
      return;
    }
    std::cout << *gen;
  });
}

}  // namespace kiln
