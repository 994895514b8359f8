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

namespace kiln {
namespace {

// An integer a JSON parser would silently turn into an inexact float.
TEST(Value, JsonIntegersOutside64BitsAreRefused) {
  for (const char* ok : {"{}", R"({"n": 9223372036854775807})", R"({"n": -9223372036854775808})",
                         R"({"f": 1e400, "g": 123456789012345678901234.5})",
                         R"({"s": "99999999999999999999999"})", R"([1, -2, 3.5e10])"}) {
    EXPECT_TRUE(Value::CheckJsonIntegers(ok).ok()) << ok;
  }
  for (const char* bad :
       {R"({"n": 18446744073709551616})", R"({"n": 9223372036854775808})",
        R"([-9223372036854775809])", R"({"s": "\"", "n": 99999999999999999999})"}) {
    Status st = Value::CheckJsonIntegers(bad);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("does not fit in 64 bits"), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace kiln
