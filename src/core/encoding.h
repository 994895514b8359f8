// Canonical encoding primitives (docs/formats.md, "Canonical encoding").
//
// Encoder appends tagged items to a byte string; Decoder reads them back and
// refuses anything non-canonical, so that equal objects always have equal
// bytes and thus equal digests. Objects with a fixed schema (nodes, commits)
// are written straight with these primitives; Value::Encode uses them too.
//
// Ownership: Encoder owns its output string; Decoder borrows the input view,
// which must outlive it. Thread-safety: not thread-safe; one per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace kiln {

enum class Tag : uint8_t {
  kNull = 0x00,
  kFalse = 0x01,
  kTrue = 0x02,
  kInt = 0x03,     // zigzag varint
  kFloat = 0x04,   // 8 bytes, IEEE 754 big-endian, NaN canonicalised
  kString = 0x05,  // varint length, UTF-8 bytes
  kBytes = 0x06,   // varint length, bytes
  kList = 0x08,    // varint count, items
  kMap = 0x09,     // varint count, (key: varint length + bytes, item) with keys strictly ascending
};

class Encoder {
 public:
  void Null() { out_.push_back(char(Tag::kNull)); }
  void Bool(bool b) { out_.push_back(char(b ? Tag::kTrue : Tag::kFalse)); }
  void Int(int64_t i);
  void Float(double d);
  void String(std::string_view s);
  void BytesItem(std::string_view b);
  void List(uint64_t count);
  // Begins a map of `count` entries; the caller then writes Key()+item pairs
  // with keys in strictly ascending byte order.
  void Map(uint64_t count);
  void Key(std::string_view key);

  void Varint(uint64_t v);
  void Raw(std::string_view raw) { out_.append(raw); }

  const std::string& bytes() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  bool AtEnd() const { return pos_ == in_.size(); }
  size_t position() const { return pos_; }
  Result<Tag> PeekTag() const;

  Status Null();
  Result<bool> Bool();
  Result<int64_t> Int();
  Result<double> Float();
  Result<std::string_view> String();
  Result<std::string_view> BytesItem();
  Result<uint64_t> List();
  Result<uint64_t> Map();
  // Reads a map key; `previous` is the key before it (nullptr for the first)
  // and must sort strictly before it.
  Result<std::string_view> Key(const std::string_view* previous);
  // Reads a key and checks it equals `expected` (fixed-schema objects).
  Status ExpectKey(std::string_view expected);
  Status ExpectEnd();

  Result<uint64_t> Varint();

 private:
  Status Expect(Tag tag);
  Result<std::string_view> LengthPrefixed();
  Status Error(const std::string& what) const;

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace kiln
