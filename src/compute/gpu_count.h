// DetectGpus: how many GPUs this machine has, as `nvidia-smi -L` lists them
// (0 without nvidia-smi). For the local backend's GPU slots and for
// `kiln worker`, when their config names no count.
//
// Thread-safety: reentrant (runs a child process).
#pragma once

namespace kiln {

int DetectGpus();

}  // namespace kiln
