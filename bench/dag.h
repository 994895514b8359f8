// The benchmark DAG shared by exec_bench and provenance_bench: job (l, i)
// depends on (l-1, i) and (l-1, (i+1) % width); the same computation as
// shell steps (for snakemake, cwltool, bare python3) and as Kiln operations.
#pragma once

#include <string>
#include <vector>

#include "bench/harness.h"
#include "model/repository.h"
#include "pipeline/testing/pipeline_builder.h"

namespace kiln::bench {

// The DAG of part (1) and (3): job (l, i) depends on (l-1, i) and (l-1, (i+1) % w).
struct Dag {
  long width, depth;
  long jobs() const { return width * depth; }
  static std::string Name(long l, long i) {
    return "j" + std::to_string(l) + "_" + std::to_string(i);
  }
  long Next(long i) const { return (i + 1) % width; }
};

// The shell-step code shared by snakemake, cwltool and the bare loop: the
// same computation as Kiln's operations, through files.
inline constexpr const char* kSrcCode = "import sys; print(int(sys.argv[1]))";
inline constexpr const char* kStepCode =
    "import sys; a=int(open(sys.argv[1]).read()); b=int(open(sys.argv[2]).read()); print(a+b+1)";

inline constexpr const char* kSrcOp =
    "class Src:\n"
    "    def __init__(self, i=0):\n"
    "        self.i = i\n"
    "    def execute(self):\n"
    "        y = self.i\n"
    "        return y\n";
inline constexpr const char* kStepOp =
    "class Step:\n"
    "    def __init__(self, i=0):\n"
    "        self.i = i\n"
    "    def execute(self, a, b):\n"
    "        y = a + b + 1\n"
    "        return y\n";

// A project `name` holding one pipeline of the DAG; returns the pipeline guid.
inline std::string CreateDagProject(Repository& repo, const std::string& name, const Dag& dag) {
  PipelineBuilder b(name);
  b.CreatePipeline();
  std::string src = b.Definition("Src", kSrcOp, {}, {"y"}, {{"i", 0}});
  std::string step = b.Definition("Step", kStepOp, {"a", "b"}, {"y"}, {{"i", 0}});
  std::vector<std::string> prev, cur;
  long n = 0;
  for (long l = 0; l < dag.depth; ++l) {
    cur.clear();
    for (long i = 0; i < dag.width; ++i) {
      // A distinct attribute per job: no two jobs share a cache key.
      Value::Map attrs{{"i", int64_t(n++)}};
      cur.push_back(b.Instance(l == 0 ? src : step, Dag::Name(l, i), attrs));
      if (l > 0) {
        b.Connect(prev[size_t(i)], "y", cur.back(), "a");
        b.Connect(prev[size_t(dag.Next(i))], "y", cur.back(), "b");
      }
    }
    prev.swap(cur);
  }
  Take(repo.CreateProject(name, "", "bench"), "create project " + name);
  Take(repo.Commit({name, "main", "bench", "pipeline", std::nullopt}, b.Build()),
       "commit pipeline " + name);
  return b.pipeline();
}

}  // namespace kiln::bench
