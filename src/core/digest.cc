#include "core/digest.h"

#include <openssl/evp.h>

#include <cstring>

namespace kiln {

Digest Digest::Of(std::string_view data) {
  std::array<uint8_t, kSize> out;
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return Digest(out);
}

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<Digest> Digest::FromHex(std::string_view hex) {
  if (hex.size() != 2 * kSize) {
    return InvalidArgument("a digest is 64 hex characters, got " + std::to_string(hex.size()));
  }
  std::array<uint8_t, kSize> out;
  for (size_t i = 0; i < kSize; ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument("a digest has only hex characters");
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return Digest(out);
}

Result<Digest> Digest::FromBytes(std::string_view raw) {
  if (raw.size() != kSize) return InvalidArgument("a raw digest is 32 bytes");
  std::array<uint8_t, kSize> out;
  std::memcpy(out.data(), raw.data(), kSize);
  return Digest(out);
}

std::string Digest::Hex() const {
  static const char* kHex = "0123456789abcdef";
  std::string s(2 * kSize, '0');
  for (size_t i = 0; i < kSize; ++i) {
    s[2 * i] = kHex[bytes_[i] >> 4];
    s[2 * i + 1] = kHex[bytes_[i] & 15];
  }
  return s;
}

bool Digest::IsZero() const {
  for (uint8_t b : bytes_)
    if (b) return false;
  return true;
}

}  // namespace kiln
