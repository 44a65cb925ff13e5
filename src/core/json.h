// JSON for the hot paths: RapidJSON's DOM parser and Writer behind a few helpers that speak
// MLflow's proto-JSON conventions (int64 as numbers in, numbers or strings accepted; doubles
// NaN/Infinity as strings). JsonWriter is not thread-safe; use one per response.
#ifndef PLINTH_CORE_JSON_H_
#define PLINTH_CORE_JSON_H_

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace plinth {

using JsonDocument = rapidjson::Document;
using JsonValue = rapidjson::Value;

// The deepest nesting ParseJson accepts.
inline constexpr size_t kMaxJsonDepth = 64;

// Parses `text` into `doc`. Failure: kBadRequest naming the offset and reason, or the nesting
// when it is deeper than kMaxJsonDepth.
Status ParseJson(std::string_view text, JsonDocument* doc);

// Field readers for a JSON object. Each returns nullopt when the field is absent or null, and
// kInvalidArgument naming the field when it has the wrong type.
// `allow_number`: accept an integer and stringify it (ids, which old clients send as numbers).
Result<std::optional<std::string>> JsonGetString(const JsonValue& obj, std::string_view field,
                                                 bool allow_number = false);
Result<std::optional<int64_t>> JsonGetInt64(const JsonValue& obj, std::string_view field);
Result<std::optional<double>> JsonGetDouble(const JsonValue& obj, std::string_view field);
Result<std::optional<bool>> JsonGetBool(const JsonValue& obj, std::string_view field);
// The member `field` when present and not null, else nullptr.
const JsonValue* JsonFind(const JsonValue& obj, std::string_view field);

// Proto-JSON scalar conversions shared with query-string parsing.
Result<int64_t> ParseInt64(std::string_view text, std::string_view field);
// Accepts numbers and "NaN", "Infinity", "-Infinity" (any case, as Python's float()).
Result<double> ParseDouble(std::string_view text, std::string_view field);
Result<bool> ParseBool(std::string_view text, std::string_view field);

class JsonWriter {
 public:
  JsonWriter() : writer_(buffer_) {}
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  void StartObject() { writer_.StartObject(); }
  void EndObject() { writer_.EndObject(); }
  void StartArray() { writer_.StartArray(); }
  void EndArray() { writer_.EndArray(); }
  void Key(std::string_view k) {
    writer_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
  }
  void String(std::string_view s) {
    writer_.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  }
  void Int64(int64_t v) { writer_.Int64(v); }
  void Bool(bool v) { writer_.Bool(v); }
  void Null() { writer_.Null(); }
  // Finite doubles as shortest round-trip numbers; NaN and ±Infinity as proto-JSON strings.
  void Double(double v);
  // Writes already-serialized JSON as a value.
  void Raw(std::string_view json) {
    writer_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  }

  // Convenience: "key": value pairs.
  void KeyString(std::string_view k, std::string_view v) { Key(k), String(v); }
  void KeyInt64(std::string_view k, int64_t v) { Key(k), Int64(v); }
  void KeyDouble(std::string_view k, double v) { Key(k), Double(v); }
  void KeyBool(std::string_view k, bool v) { Key(k), Bool(v); }

  std::string_view View() const { return {buffer_.GetString(), buffer_.GetSize()}; }
  std::string Take() const { return std::string(View()); }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

}  // namespace plinth

#endif  // PLINTH_CORE_JSON_H_
