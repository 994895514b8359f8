// Fuzzes the canonical decoder: any bytes either fail with a Status or decode
// to a Value whose encoding is exactly the input (canonical means one encoding
// per value).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/value.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  kiln::Result<kiln::Value> v = kiln::Value::Decode(in);
  if (v.ok() && v->Encode() != in) abort();
  return 0;
}
