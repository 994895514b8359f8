#include "core/encoding.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace kiln {

void Encoder::Varint(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(char((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(char(v));
}

void Encoder::Int(int64_t i) {
  out_.push_back(char(Tag::kInt));
  Varint((uint64_t(i) << 1) ^ uint64_t(i >> 63));
}

void Encoder::Float(double d) {
  out_.push_back(char(Tag::kFloat));
  if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(char((bits >> shift) & 0xff));
}

void Encoder::String(std::string_view s) {
  out_.push_back(char(Tag::kString));
  Varint(s.size());
  out_.append(s);
}

void Encoder::BytesItem(std::string_view b) {
  out_.push_back(char(Tag::kBytes));
  Varint(b.size());
  out_.append(b);
}

void Encoder::List(uint64_t count) {
  out_.push_back(char(Tag::kList));
  Varint(count);
}

void Encoder::Map(uint64_t count) {
  out_.push_back(char(Tag::kMap));
  Varint(count);
}

void Encoder::Key(std::string_view key) {
  Varint(key.size());
  out_.append(key);
}

Status Decoder::Error(const std::string& what) const {
  return Corruption(what + " at byte " + std::to_string(pos_));
}

Result<uint64_t> Decoder::Varint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= in_.size()) return Error("truncated varint");
    uint8_t b = uint8_t(in_[pos_++]);
    if (shift == 63 && b > 1) return Error("varint overflows 64 bits");
    v |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      // Canonical: no redundant trailing zero groups.
      if (b == 0 && shift > 0) return Error("non-minimal varint");
      return v;
    }
  }
  return Error("varint too long");
}

Result<Tag> Decoder::PeekTag() const {
  if (pos_ >= in_.size()) return Error("unexpected end of input");
  return Tag(uint8_t(in_[pos_]));
}

Status Decoder::Expect(Tag tag) {
  if (pos_ >= in_.size()) return Error("unexpected end of input");
  if (Tag(uint8_t(in_[pos_])) != tag) {
    return Error("unexpected tag 0x" + std::to_string(int(uint8_t(in_[pos_]))));
  }
  ++pos_;
  return Status::Ok();
}

Status Decoder::Null() { return Expect(Tag::kNull); }

Result<bool> Decoder::Bool() {
  if (pos_ >= in_.size()) return Error("unexpected end of input");
  Tag t = Tag(uint8_t(in_[pos_]));
  if (t != Tag::kTrue && t != Tag::kFalse) return Error("expected a bool");
  ++pos_;
  return t == Tag::kTrue;
}

Result<int64_t> Decoder::Int() {
  KILN_RETURN_IF_ERROR(Expect(Tag::kInt));
  KILN_ASSIGN_OR_RETURN(uint64_t z, Varint());
  return int64_t((z >> 1) ^ (~(z & 1) + 1));
}

Result<double> Decoder::Float() {
  KILN_RETURN_IF_ERROR(Expect(Tag::kFloat));
  if (in_.size() - pos_ < 8) return Error("truncated float");
  uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits = (bits << 8) | uint8_t(in_[pos_++]);
  double d;
  std::memcpy(&d, &bits, sizeof d);
  if (std::isnan(d)) {
    double canon = std::numeric_limits<double>::quiet_NaN();
    if (std::memcmp(&canon, &d, sizeof d) != 0) return Error("non-canonical NaN");
  }
  return d;
}

Result<std::string_view> Decoder::LengthPrefixed() {
  KILN_ASSIGN_OR_RETURN(uint64_t n, Varint());
  if (n > in_.size() - pos_) return Error("length past end of input");
  std::string_view s = in_.substr(pos_, n);
  pos_ += n;
  return s;
}

Result<std::string_view> Decoder::String() {
  KILN_RETURN_IF_ERROR(Expect(Tag::kString));
  return LengthPrefixed();
}

Result<std::string_view> Decoder::BytesItem() {
  KILN_RETURN_IF_ERROR(Expect(Tag::kBytes));
  return LengthPrefixed();
}

Result<uint64_t> Decoder::List() {
  KILN_RETURN_IF_ERROR(Expect(Tag::kList));
  KILN_ASSIGN_OR_RETURN(uint64_t n, Varint());
  // Every item takes at least one byte: a larger count cannot be honest.
  if (n > in_.size() - pos_) return Error("list count past end of input");
  return n;
}

Result<uint64_t> Decoder::Map() {
  KILN_RETURN_IF_ERROR(Expect(Tag::kMap));
  KILN_ASSIGN_OR_RETURN(uint64_t n, Varint());
  if (n > (in_.size() - pos_) / 2) return Error("map count past end of input");
  return n;
}

Result<std::string_view> Decoder::Key(const std::string_view* previous) {
  KILN_ASSIGN_OR_RETURN(std::string_view key, LengthPrefixed());
  if (previous && !(*previous < key)) return Error("map keys not strictly ascending");
  return key;
}

Status Decoder::ExpectKey(std::string_view expected) {
  KILN_ASSIGN_OR_RETURN(std::string_view key, LengthPrefixed());
  if (key != expected) {
    return Error("expected key '" + std::string(expected) + "', found '" + std::string(key) + "'");
  }
  return Status::Ok();
}

Status Decoder::ExpectEnd() {
  if (!AtEnd()) return Error("trailing bytes");
  return Status::Ok();
}

}  // namespace kiln
