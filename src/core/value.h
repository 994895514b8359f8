// Value: a typed, JSON-like datum (null, bool, int, float, string, bytes, list,
// map) with one canonical byte encoding (see docs/formats.md, "Canonical
// encoding"). Attribute and registry values of nodes are Values.
//
// Ownership: a value type; lists and maps own their elements.
// Thread-safety: values; no shared state.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <variant>
#include <vector>

#include "core/status.h"

namespace kiln {

struct Bytes {
  std::string data;
  auto operator<=>(const Bytes&) const = default;
};

class Value {
 public:
  using List = std::vector<Value>;
  using Map = std::map<std::string, Value>;  // std::string orders bytewise, as the encoding needs

  Value() = default;
  Value(std::nullptr_t) {}                      // NOLINT
  Value(bool b) : v_(b) {}                      // NOLINT
  Value(int i) : v_(int64_t{i}) {}              // NOLINT
  Value(int64_t i) : v_(i) {}                   // NOLINT
  Value(double d) : v_(d) {}                    // NOLINT
  Value(const char* s) : v_(std::string(s)) {}  // NOLINT
  Value(std::string s) : v_(std::move(s)) {}    // NOLINT
  Value(Bytes b) : v_(std::move(b)) {}          // NOLINT
  Value(List l) : v_(std::move(l)) {}           // NOLINT
  Value(Map m) : v_(std::move(m)) {}            // NOLINT

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int() const { return std::holds_alternative<int64_t>(v_); }
  bool is_float() const { return std::holds_alternative<double>(v_); }
  bool is_number() const { return is_int() || is_float(); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_bytes() const { return std::holds_alternative<Bytes>(v_); }
  bool is_list() const { return std::holds_alternative<List>(v_); }
  bool is_map() const { return std::holds_alternative<Map>(v_); }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  // An int or a float, as a double.
  double as_number() const { return is_int() ? double(as_int()) : as_float(); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const Bytes& as_bytes() const { return std::get<Bytes>(v_); }
  const List& as_list() const { return std::get<List>(v_); }
  const Map& as_map() const { return std::get<Map>(v_); }
  List& as_list() { return std::get<List>(v_); }
  Map& as_map() { return std::get<Map>(v_); }

  // "null", "bool", "int", "float", "string", "bytes", "list", "map".
  const char* TypeName() const;

  // Equality is of canonical encodings: 1 (int) != 1.0 (float); NaN == NaN.
  bool operator==(const Value& other) const;

  // Canonical bytes, and their inverse. Decode rejects anything that is not
  // exactly a canonical encoding (trailing bytes, unsorted keys, ...).
  std::string Encode() const;
  static Result<Value> Decode(std::string_view bytes);

  // JSON mapping: null/bool/string/list/map map directly; an integral JSON
  // number becomes int, any other number float; bytes become {"$bytes": hex}.
  nlohmann::json ToJson() const;
  static Result<Value> FromJson(const nlohmann::json& j);
  // InvalidArgument naming the first integer literal of the JSON text that
  // does not fit in 64 bits: a JSON parser would turn it into an inexact
  // float without a word. For request bodies and messages, before parsing.
  static Status CheckJsonIntegers(std::string_view json_text);

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, Bytes, List, Map> v_;
};

class Encoder;
class Decoder;
// The streaming form of Value::Encode/Decode, for objects that embed values
// among fixed fields (node objects). `depth` counts enclosing levels
// toward the limit of 64.
void EncodeValueTo(const Value& value, Encoder& e);
Result<Value> DecodeValueFrom(Decoder& d, int depth = 0);

}  // namespace kiln
