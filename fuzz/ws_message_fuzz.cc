// Fuzzes the decoder of collaboration messages from WebSocket clients: it
// must never crash, throw or accept a message with a malformed patch.
#include <cstdint>
#include <string_view>

#include "server/hub_messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)kiln::ParseClientMessage(in);
  return 0;
}
