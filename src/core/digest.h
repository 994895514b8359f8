// Digest: the SHA-256 of an object's canonical bytes, Kiln's content address.
//
// Ownership: a 32-byte value type. Thread-safety: values; Sha256() is
// reentrant (OpenSSL's one-shot EVP digest).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace kiln {

class Digest {
 public:
  static constexpr size_t kSize = 32;
  Digest() { bytes_.fill(0); }
  explicit Digest(const std::array<uint8_t, kSize>& bytes) : bytes_(bytes) {}

  // SHA-256 of `data`.
  static Digest Of(std::string_view data);
  // Parses 64 lowercase or uppercase hex characters.
  static Result<Digest> FromHex(std::string_view hex);
  // From exactly kSize raw bytes.
  static Result<Digest> FromBytes(std::string_view raw);

  std::string Hex() const;
  std::string_view Raw() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  // The all-zero digest stands for "nothing" in a few formats.
  bool IsZero() const;
  const std::array<uint8_t, kSize>& bytes() const { return bytes_; }

  auto operator<=>(const Digest&) const = default;

 private:
  std::array<uint8_t, kSize> bytes_;
};

}  // namespace kiln

template <>
struct std::hash<kiln::Digest> {
  size_t operator()(const kiln::Digest& d) const noexcept {
    size_t h;
    static_assert(sizeof(h) <= kiln::Digest::kSize);
    __builtin_memcpy(&h, d.bytes().data(), sizeof(h));
    return h;
  }
};
