#include "compute/gpu_count.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "core/child_process.h"

namespace kiln {

int DetectGpus() {
  for (const char* smi : {"/usr/bin/nvidia-smi", "/usr/local/bin/nvidia-smi"}) {
    if (!std::filesystem::exists(smi)) continue;
    ChildProcessOptions o;
    o.argv = {smi, "-L"};
    o.timeout = std::chrono::seconds(10);
    auto r = RunChildProcess(o);
    if (!r.ok() || r->exit_code != 0) return 0;
    return int(std::count(r->out.begin(), r->out.end(), '\n'));
  }
  return 0;
}

}  // namespace kiln
