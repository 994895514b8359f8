#include "model/patch.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/guid.h"

namespace kiln {
namespace {

Patch Everything() {
  std::string a = NewGuid(), b = NewGuid(), c = NewGuid();
  Patch p;
  p.base = Digest::Of("base");
  p.message = "all ops";
  p.ops = {
      PatchOp::Create(a, b, std::nullopt, {{"name", "x"}, {"n", int64_t(3)}, {"f", 1.5}},
                      {{"src", c}, {"none", std::nullopt}}, {{"position", Value::Map{{"x", 1}}}},
                      2),
      PatchOp::Create(c, b, a),
      PatchOp::SetAttr(a, "name", "y"),
      PatchOp::SetAttr(a, "list", Value::List{1, "two", nullptr, true, Bytes{"\x01\x02"}}),
      PatchOp::DelAttr(a, "name"),
      PatchOp::SetPointer(a, "src", c),
      PatchOp::SetPointer(a, "src", std::nullopt),
      PatchOp::DelPointer(a, "src"),
      PatchOp::SetRegistry(a, "position", Value::Map{{"x", 10}, {"y", 20}}),
      PatchOp::DelRegistry(a, "position"),
      PatchOp::Move(a, c),
      PatchOp::Move(a, c, 0),
      PatchOp::Copy(a, b, NewGuid(), 1),
      PatchOp::Delete(c),
  };
  return p;
}

TEST(PatchJson, RoundTrip) {
  Patch p = Everything();
  std::string json = PatchToJson(p);
  auto back = ParsePatchJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, p);
  EXPECT_EQ(PatchToJson(*back), json);
}

TEST(PatchJson, ParsesTheDocumentedForm) {
  std::string g = NewGuid(), parent = NewGuid();
  auto p = ParsePatchJson(R"({"message": "m", "ops": [
      {"op": "create", "guid": ")" +
                          g + R"(", "parent": ")" + parent + R"(", "base": null,
       "attrs": {"lr": 0.1, "epochs": 3}},
      {"op": "set_attr", "node": ")" +
                          g + R"(", "name": "lr", "value": 1}]})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->ops.size(), 2u);
  EXPECT_TRUE(p->ops[0].attrs.at("lr").is_float());
  EXPECT_TRUE(p->ops[0].attrs.at("epochs").is_int());
  EXPECT_TRUE(p->ops[1].value.is_int());
  EXPECT_FALSE(p->base.has_value());
}

struct BadCase {
  std::string json;
  std::string expect;  // a piece of the message
};

TEST(PatchJson, RefusesBadInput) {
  std::string g = NewGuid();
  std::vector<BadCase> cases = {
      {"", "not valid JSON"},
      {"{", "not valid JSON"},
      {"[]", "expected a JSON object"},
      {"{}", "'ops': missing"},
      {R"({"ops": {}})", "'ops': expected an array"},
      {R"({"ops": [], "extra": 1})", "unknown field 'extra'"},
      {R"({"ops": [], "base": "abc"})", "'base'"},
      {R"({"ops": [], "message": 3})", "'message'"},
      {R"({"ops": [1]})", "op 0: expected an object"},
      {R"({"ops": [{}]})", "op 0: field 'op': missing"},
      {R"({"ops": [{"op": 7}]})", "field 'op': expected a string"},
      {R"({"ops": [{"op": "explode"}]})", "unknown op 'explode'"},
      {R"({"ops": [{"op": "delete"}]})", "op 0 (delete): field 'node': missing"},
      {R"({"ops": [{"op": "delete", "node": 5}]})", "field 'node': expected a guid string"},
      {R"({"ops": [{"op": "delete", "node": "not-a-guid"}]})", "field 'node': not a guid"},
      {R"({"ops": [{"op": "delete", "node": ")" + g + R"(", "x": 1}]})", "field 'x': unknown"},
      {R"({"ops": [{"op": "set_attr", "node": ")" + g + R"(", "name": "", "value": 1}]})",
       "field 'name': must not be empty"},
      {R"({"ops": [{"op": "set_attr", "node": ")" + g + R"(", "name": 1, "value": 1}]})",
       "field 'name': expected a string"},
      {R"({"ops": [{"op": "set_attr", "node": ")" + g + R"(", "name": "a"}]})",
       "field 'value': missing"},
      {R"({"ops": [{"op": "move", "node": ")" + g + R"(", "parent": ")" + g +
           R"(", "index": -1}]})",
       "field 'index'"},
      {R"({"ops": [{"op": "move", "node": ")" + g + R"(", "parent": ")" + g +
           R"(", "index": 1.5}]})",
       "field 'index'"},
      {R"({"ops": [{"op": "move", "node": ")" + g + R"(", "parent": ")" + g +
           R"(", "index": 99999999999999999999999}]})",
       "field 'index'"},
      {R"({"ops": [{"op": "set_attr", "node": ")" + g + R"(", "name": "a",
           "value": 18446744073709551615}]})",
       "field 'value'"},
      {R"({"ops": [{"op": "create", "guid": ")" + g + R"(", "parent": ")" + g +
           R"(", "base": null, "attrs": []}]})",
       "field 'attrs': expected an object"},
      {R"({"ops": [{"op": "create", "guid": ")" + g + R"(", "parent": ")" + g +
           R"(", "base": null, "pointers": {"a": 1}}]})",
       "field 'pointers'"},
      {R"({"ops": [{"op": "set_pointer", "node": ")" + g + R"(", "name": "a",
           "target": "zz"}]})",
       "field 'target'"},
      {R"({"ops": [{"op": "set_attr", "node": ")" + g + R"(", "name": "a", "value": 1},
           {"op": "copy", "node": ")" +
           g + R"(", "parent": ")" + g + R"("}]})",
       "op 1 (copy): field 'guid': missing"},
  };
  for (const BadCase& c : cases) {
    auto p = ParsePatchJson(c.json);
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_EQ(p.status().code(), Code::kInvalidArgument) << c.json;
    EXPECT_NE(p.status().message().find(c.expect), std::string::npos)
        << "message: " << p.status().message() << "\nwanted: " << c.expect;
  }
}

TEST(PatchJson, DeepNestingIsRefusedNotCrashed) {
  std::string g = NewGuid();
  std::string deep(100000, '[');
  auto p = ParsePatchJson(R"({"ops": [{"op": "set_attr", "node": ")" + g +
                          R"(", "name": "a", "value": )" + deep + "]}");
  EXPECT_FALSE(p.ok());
  std::string nested;
  for (int i = 0; i < 200; ++i) nested += "[";
  nested += "1";
  for (int i = 0; i < 200; ++i) nested += "]";
  p = ParsePatchJson(R"({"ops": [{"op": "set_attr", "node": ")" + g +
                     R"(", "name": "a", "value": )" + nested + "}]}");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("op 0 (set_attr): field 'value'"), std::string::npos);
}

TEST(PatchJson, EveryTruncationIsHandled) {
  std::string json = PatchToJson(Everything());
  for (size_t i = 0; i < json.size(); ++i) {
    auto p = ParsePatchJson(json.substr(0, i));
    EXPECT_FALSE(p.ok());
  }
}

}  // namespace
}  // namespace kiln
