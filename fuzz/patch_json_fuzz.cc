// Fuzzes the patch JSON parser (REST, WebSocket and CLI all use it): any text
// either fails with a Status or parses to a patch that survives a JSON round
// trip unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "model/patch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  kiln::Result<kiln::Patch> p = kiln::ParsePatchJson(in);
  if (!p.ok()) return 0;
  kiln::Result<kiln::Patch> again = kiln::ParsePatchJson(kiln::PatchToJson(*p));
  if (!again.ok() || !(*again == *p)) abort();
  return 0;
}
