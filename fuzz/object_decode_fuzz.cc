// Fuzzes the decoders of stored model objects (nodes, commits, projects):
// anything that decodes must encode back to exactly the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "model/commit.h"
#include "model/node.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  kiln::NodeObject node;
  if (kiln::DecodeNode(in, &node).ok() && kiln::EncodeNode(node) != in) abort();
  if (auto c = kiln::DecodeCommit(in); c.ok() && kiln::EncodeCommit(*c) != in) abort();
  if (auto p = kiln::DecodeProject(in); p.ok() && kiln::EncodeProject(*p) != in) abort();
  return 0;
}
