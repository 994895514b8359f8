#include "core/encoding.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

std::string Hex(const std::string& s) {
  static const char* k = "0123456789abcdef";
  std::string h;
  for (unsigned char c : s) {
    h.push_back(k[c >> 4]);
    h.push_back(k[c & 15]);
  }
  return h;
}

// These byte strings are the ones written down in docs/formats.md.
TEST(Encoding, DocumentedBytes) {
  Encoder e;
  e.Int(-1);
  e.Int(300);
  e.String("hi");
  e.Map(1);
  e.Key("a");
  e.Bool(true);
  EXPECT_EQ(Hex(e.bytes()),
            "0301"
            "03d804"
            "05026869"
            "090101"
            "6102");
}

TEST(Encoding, IntRoundTripsAtExtremes) {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, INT64_MAX, INT64_MIN}) {
    Encoder e;
    e.Int(v);
    Decoder d(e.bytes());
    EXPECT_EQ(*d.Int(), v);
    EXPECT_TRUE(d.AtEnd());
  }
}

TEST(Encoding, RejectsNonCanonical) {
  // 0x80 0x00 is a non-minimal varint for 0.
  // (Decoders borrow their input, so each input lives in a named string.)
  std::string in1("\x03\x80\x00", 3);
  Decoder d1(in1);
  EXPECT_EQ(d1.Int().status().code(), Code::kCorruption);
  // A string whose length runs past the input.
  std::string in2(
      "\x05\x09"
      "ab",
      4);
  Decoder d2(in2);
  EXPECT_FALSE(d2.String().ok());
  // Keys out of order.
  std::string in3(
      "\x09\x02\x01"
      "b"
      "\x00\x01"
      "a"
      "\x00",
      8);
  Decoder d3(in3);
  ASSERT_TRUE(d3.Map().ok());
  auto k1 = d3.Key(nullptr);
  ASSERT_TRUE(k1.ok());
  std::string_view prev = *k1;
  ASSERT_TRUE(d3.Null().ok());
  EXPECT_FALSE(d3.Key(&prev).ok());
}

TEST(Encoding, HugeCountIsRejectedNotAllocated) {
  std::string in("\x08\xff\xff\xff\xff\x0f", 6);
  Decoder d(in);
  EXPECT_FALSE(d.List().ok());
}

}  // namespace
}  // namespace kiln
