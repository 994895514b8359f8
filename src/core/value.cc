#include "core/value.h"

#include <cctype>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/encoding.h"

namespace kiln {
namespace {

constexpr int kMaxDepth = 64;

void EncodeInto(const Value& v, Encoder& e) {
  if (v.is_null()) {
    e.Null();
  } else if (v.is_bool()) {
    e.Bool(v.as_bool());
  } else if (v.is_int()) {
    e.Int(v.as_int());
  } else if (v.is_float()) {
    e.Float(v.as_float());
  } else if (v.is_string()) {
    e.String(v.as_string());
  } else if (v.is_bytes()) {
    e.BytesItem(v.as_bytes().data);
  } else if (v.is_list()) {
    e.List(v.as_list().size());
    for (const Value& item : v.as_list()) EncodeInto(item, e);
  } else {
    e.Map(v.as_map().size());
    for (const auto& [k, item] : v.as_map()) {
      e.Key(k);
      EncodeInto(item, e);
    }
  }
}

Result<Value> DecodeFrom(Decoder& d, int depth) {
  if (depth > kMaxDepth) return Corruption("value nested deeper than 64 levels");
  KILN_ASSIGN_OR_RETURN(Tag tag, d.PeekTag());
  switch (tag) {
    case Tag::kNull:
      KILN_RETURN_IF_ERROR(d.Null());
      return Value();
    case Tag::kFalse:
    case Tag::kTrue: {
      KILN_ASSIGN_OR_RETURN(bool b, d.Bool());
      return Value(b);
    }
    case Tag::kInt: {
      KILN_ASSIGN_OR_RETURN(int64_t i, d.Int());
      return Value(i);
    }
    case Tag::kFloat: {
      KILN_ASSIGN_OR_RETURN(double f, d.Float());
      return Value(f);
    }
    case Tag::kString: {
      KILN_ASSIGN_OR_RETURN(std::string_view s, d.String());
      return Value(std::string(s));
    }
    case Tag::kBytes: {
      KILN_ASSIGN_OR_RETURN(std::string_view s, d.BytesItem());
      return Value(Bytes{std::string(s)});
    }
    case Tag::kList: {
      KILN_ASSIGN_OR_RETURN(uint64_t n, d.List());
      Value::List list;
      list.reserve(n);
      for (uint64_t i = 0; i < n; ++i) {
        KILN_ASSIGN_OR_RETURN(Value item, DecodeFrom(d, depth + 1));
        list.push_back(std::move(item));
      }
      return Value(std::move(list));
    }
    case Tag::kMap: {
      KILN_ASSIGN_OR_RETURN(uint64_t n, d.Map());
      Value::Map map;
      std::string_view prev;
      for (uint64_t i = 0; i < n; ++i) {
        KILN_ASSIGN_OR_RETURN(std::string_view key, d.Key(i ? &prev : nullptr));
        KILN_ASSIGN_OR_RETURN(Value item, DecodeFrom(d, depth + 1));
        map.emplace_hint(map.end(), std::string(key), std::move(item));
        prev = key;
      }
      return Value(std::move(map));
    }
  }
  return Corruption("unknown tag " + std::to_string(int(tag)) + " at byte " +
                    std::to_string(d.position()));
}

Result<Value> FromJsonAt(const nlohmann::json& j, int depth) {
  if (depth > kMaxDepth) return InvalidArgument("value nested deeper than 64 levels");
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return Value();
    case nlohmann::json::value_t::boolean:
      return Value(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > uint64_t(INT64_MAX)) return InvalidArgument("integer out of range");
      return Value(int64_t(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value(j.get<double>());
    case nlohmann::json::value_t::string:
      return Value(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      Value::List list;
      for (const auto& item : j) {
        KILN_ASSIGN_OR_RETURN(Value v, FromJsonAt(item, depth + 1));
        list.push_back(std::move(v));
      }
      return Value(std::move(list));
    }
    case nlohmann::json::value_t::object: {
      if (j.size() == 1 && j.contains("$bytes") && j["$bytes"].is_string()) {
        const std::string& hex = j["$bytes"].get_ref<const std::string&>();
        if (hex.size() % 2) return InvalidArgument("$bytes needs an even number of hex digits");
        std::string raw;
        auto nibble = [](char c) {
          if (c >= '0' && c <= '9') return c - '0';
          if (c >= 'a' && c <= 'f') return c - 'a' + 10;
          if (c >= 'A' && c <= 'F') return c - 'A' + 10;
          return -1;
        };
        for (size_t i = 0; i < hex.size(); i += 2) {
          int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
          if (hi < 0 || lo < 0) return InvalidArgument("$bytes holds a non-hex character");
          raw.push_back(char(hi * 16 + lo));
        }
        return Value(Bytes{raw});
      }
      Value::Map map;
      for (const auto& [k, item] : j.items()) {
        KILN_ASSIGN_OR_RETURN(Value v, FromJsonAt(item, depth + 1));
        map.emplace(k, std::move(v));
      }
      return Value(std::move(map));
    }
    default:
      return InvalidArgument("unsupported JSON value (binary or discarded)");
  }
}

}  // namespace

void EncodeValueTo(const Value& value, Encoder& e) { EncodeInto(value, e); }
Result<Value> DecodeValueFrom(Decoder& d, int depth) { return DecodeFrom(d, depth); }

const char* Value::TypeName() const {
  static const char* kNames[] = {"null", "bool", "int", "float", "string", "bytes", "list", "map"};
  return kNames[v_.index()];
}

bool Value::operator==(const Value& other) const {
  if (v_.index() != other.v_.index()) return false;
  if (is_float()) {
    double a = as_float(), b = other.as_float();
    return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
  }
  if (is_list()) return as_list() == other.as_list();
  if (is_map()) return as_map() == other.as_map();
  return v_ == other.v_;
}

std::string Value::Encode() const {
  Encoder e;
  EncodeInto(*this, e);
  return e.Take();
}

Result<Value> Value::Decode(std::string_view bytes) {
  Decoder d(bytes);
  KILN_ASSIGN_OR_RETURN(Value v, DecodeFrom(d, 0));
  KILN_RETURN_IF_ERROR(d.ExpectEnd());
  return v;
}

nlohmann::json Value::ToJson() const {
  if (is_null()) return nullptr;
  if (is_bool()) return as_bool();
  if (is_int()) return as_int();
  if (is_float()) {
    double d = as_float();
    if (!std::isfinite(d)) return nullptr;  // JSON has no NaN/Inf
    return d;
  }
  if (is_string()) return as_string();
  if (is_bytes()) {
    static const char* kHex = "0123456789abcdef";
    std::string hex;
    for (unsigned char c : as_bytes().data) {
      hex.push_back(kHex[c >> 4]);
      hex.push_back(kHex[c & 15]);
    }
    return nlohmann::json{{"$bytes", hex}};
  }
  if (is_list()) {
    nlohmann::json a = nlohmann::json::array();
    for (const Value& v : as_list()) a.push_back(v.ToJson());
    return a;
  }
  nlohmann::json o = nlohmann::json::object();
  for (const auto& [k, v] : as_map()) o[k] = v.ToJson();
  return o;
}

Result<Value> Value::FromJson(const nlohmann::json& j) { return FromJsonAt(j, 0); }

Status Value::CheckJsonIntegers(std::string_view text) {
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != '-' && (c < '0' || c > '9')) continue;
    size_t start = i;
    if (c == '-') ++i;
    size_t digits = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    bool integer = i == text.size() || (text[i] != '.' && text[i] != 'e' && text[i] != 'E');
    std::string_view literal = text.substr(start, i - start);
    std::string_view magnitude = text.substr(digits, i - digits);
    // Past int64: more than 19 digits, or 19 digits above the bound.
    std::string_view bound = c == '-' ? "9223372036854775808" : "9223372036854775807";
    if (integer && (magnitude.size() > bound.size() ||
                    (magnitude.size() == bound.size() && magnitude > bound))) {
      return InvalidArgument("the integer " + std::string(literal.substr(0, 40)) +
                             " does not fit in 64 bits (at most 9223372036854775807)");
    }
    // Skip the rest of a number (fraction, exponent) so its digits are not
    // taken for another literal.
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.' || text[i] == 'e' ||
            text[i] == 'E' || text[i] == '+' || text[i] == '-')) {
      ++i;
    }
    --i;
  }
  return Status::Ok();
}

}  // namespace kiln
