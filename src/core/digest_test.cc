#include "core/digest.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(Digest, KnownVectors) {
  EXPECT_EQ(Digest::Of("").Hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Digest::Of("abc").Hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, HexRoundTripAndErrors) {
  Digest d = Digest::Of("kiln");
  EXPECT_EQ(*Digest::FromHex(d.Hex()), d);
  EXPECT_FALSE(Digest::FromHex("abc").ok());
  EXPECT_FALSE(Digest::FromHex(std::string(64, 'g')).ok());
  EXPECT_EQ(*Digest::FromBytes(d.Raw()), d);
  EXPECT_TRUE(Digest().IsZero());
  EXPECT_FALSE(d.IsZero());
}

}  // namespace
}  // namespace kiln
