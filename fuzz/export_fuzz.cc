// Fuzzes the export file parser used by `kiln import` and the import API.
#include <cstdint>
#include <string_view>

#include "model/export.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)kiln::ParseExport(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
