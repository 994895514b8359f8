#include "core/guid.h"

#include <random>

#include "core/digest.h"

namespace kiln {
namespace {

std::string Format(const uint8_t* b) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 15]);
  }
  return s;
}

}  // namespace

std::string NewGuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint8_t b[16];
  for (int i = 0; i < 16; i += 8) {
    uint64_t r = rng();
    for (int j = 0; j < 8; ++j) b[i + j] = uint8_t(r >> (8 * j));
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return Format(b);
}

std::string DeriveGuid(std::string_view a, std::string_view b) {
  std::string input;
  input.reserve(a.size() + b.size() + 1);
  input.append(a).push_back('/');
  input.append(b);
  Digest d = Digest::Of(input);
  uint8_t bytes[16];
  for (int i = 0; i < 16; ++i) bytes[i] = d.bytes()[i];
  bytes[6] = (bytes[6] & 0x0f) | 0x50;  // version 5 shape: name-based
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  return Format(bytes);
}

bool IsGuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace kiln
