#include "core/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace kiln {
namespace {

TEST(Value, RoundTripsThroughBytes) {
  Value v(Value::Map{{"b", Value::List{1, 2.5, "x", nullptr, true}},
                     {"a", Bytes{"\x01\x02"}},
                     {"", Value::Map{}}});
  std::string bytes = v.Encode();
  Result<Value> back = Value::Decode(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, v);
  EXPECT_EQ(back->Encode(), bytes);
}

TEST(Value, IntAndFloatDiffer) {
  EXPECT_FALSE(Value(1) == Value(1.0));
  EXPECT_TRUE(Value(std::nan("")) == Value(std::nan("")));
}

TEST(Value, TrailingBytesAreCorruption) {
  std::string bytes = Value(5).Encode() + "x";
  EXPECT_EQ(Value::Decode(bytes).status().code(), Code::kCorruption);
}

TEST(Value, DeepNestingIsRefused) {
  std::string bytes;
  for (int i = 0; i < 100; ++i) bytes += std::string("\x08\x01", 2);
  bytes.push_back('\0');
  EXPECT_FALSE(Value::Decode(bytes).ok());
}

TEST(Value, JsonMapping) {
  auto j = nlohmann::json::parse(R"({"n": 3, "f": 0.5, "s": "x", "l": [null, false],
                                     "b": {"$bytes": "00ff"}})");
  Result<Value> v = Value::FromJson(j);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->as_map().at("n").is_int());
  EXPECT_TRUE(v->as_map().at("f").is_float());
  EXPECT_EQ(v->as_map().at("b").as_bytes().data, std::string("\x00\xff", 2));
  EXPECT_EQ(v->ToJson(), j);
  EXPECT_FALSE(Value::FromJson(nlohmann::json::parse(R"({"$bytes": "0g"})")).ok());
}

}  // namespace
}  // namespace kiln
