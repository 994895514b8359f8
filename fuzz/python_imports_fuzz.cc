// Fuzzes the import scan of operation code (pipeline/python_imports.h): the
// code is the user's, anything may come. It must never crash, and every
// module it reports is a non-empty name, in order and once.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pipeline/python_imports.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto modules = kiln::ImportedModules(in);
  if (!modules) return 0;
  for (size_t i = 0; i < modules->size(); ++i) {
    const std::string& m = (*modules)[i];
    if (m.empty() || (m[0] >= '0' && m[0] <= '9')) abort();
    if (i > 0 && !((*modules)[i - 1] < m)) abort();
  }
  return 0;
}
