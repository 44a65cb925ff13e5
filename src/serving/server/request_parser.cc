#include "serving/server/request_parser.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/json.h"

namespace plinth::serving {
namespace {

using rapidjson::Value;
constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();
constexpr unsigned kParseFlags = rapidjson::kParseNanAndInfFlag | rapidjson::kParseInsituFlag;

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string ColumnName(const InputLayout& layout, size_t col) {
  return layout.named() ? layout.names()[col] : std::to_string(col);
}

const char* JsonKind(const Value& v) {
  if (v.IsString()) return "string";
  if (v.IsBool()) return "bool";
  if (v.IsObject()) return "object";
  if (v.IsArray()) return "list";
  if (v.IsDouble()) return "float64";
  return "int64";
}

Status Incompatible(const InputLayout& layout, size_t col, size_t row, const Value& v) {
  return InvalidArgument("Incompatible input types for column " + Quoted(ColumnName(layout, col)) +
                         ": cannot safely convert " + JsonKind(v) + " to " +
                         std::string(DataTypeName(layout.types()[col])) + " (row " +
                         std::to_string(row) + ")");
}

// One JSON cell of column `col` → the float the runtime sees.
Status Cell(const Value& v, const InputLayout& layout, size_t col, size_t row, float* out) {
  if (v.IsNull()) {
    *out = kMissing;
    return Status();
  }
  DataType type = layout.types()[col];
  if (v.IsBool()) {
    *out = v.GetBool() ? 1.0f : 0.0f;
    return Status();
  }
  if (!v.IsNumber()) return Incompatible(layout, col, row, v);
  switch (type) {
    case DataType::kDouble:
    case DataType::kFloat:
      *out = static_cast<float>(v.GetDouble());
      return Status();
    case DataType::kInteger:
    case DataType::kLong:
      // pandas reads 1.0 as float64, which MLflow refuses to cast to an integer column.
      if (v.IsDouble()) return Incompatible(layout, col, row, v);
      *out = static_cast<float>(v.GetDouble());
      return Status();
    case DataType::kBoolean:
    default:
      return Incompatible(layout, col, row, v);
  }
}

// Maps request column names to feature positions (-1 = ignored extra column) and checks that
// every required feature is present, with MLflow's message.
Status MapColumns(const std::vector<std::string_view>& columns, const InputLayout& layout,
                  std::vector<int>* positions) {
  positions->assign(columns.size(), -1);
  if (!layout.named()) {
    if (columns.size() != layout.width()) {
      return InvalidArgument("the model expects " + std::to_string(layout.width()) +
                             " input columns, got " + std::to_string(columns.size()));
    }
    for (size_t i = 0; i < columns.size(); ++i) (*positions)[i] = static_cast<int>(i);
    return Status();
  }
  std::vector<char> seen(layout.width(), 0);
  std::vector<std::string_view> extra;
  for (size_t i = 0; i < columns.size(); ++i) {
    int p = layout.Find(columns[i]);
    if (p < 0) {
      extra.push_back(columns[i]);
      continue;
    }
    if (seen[p]) return BadRequest("input column " + Quoted(columns[i]) + " appears twice");
    seen[p] = 1;
    (*positions)[i] = p;
  }
  std::string missing;
  for (size_t i = 0; i < layout.width(); ++i) {
    if (!seen[i] && layout.required(i)) {
      missing += (missing.empty() ? "" : ", ") + Quoted(layout.names()[i]);
    }
  }
  if (missing.empty()) return Status();
  std::string message = "Model is missing inputs [" + missing + "].";
  if (!extra.empty()) {
    std::string list;
    for (auto e : extra) list += (list.empty() ? "" : ", ") + Quoted(e);
    message += " Note that there were extra inputs: [" + list + "].";
  }
  return InvalidArgument(message);
}

void StartMatrix(size_t rows, const InputLayout& layout, ParsedInput* out) {
  out->rows = rows;
  out->values.assign(rows * layout.width(), kMissing);
}

// Rows given as arrays of cells, positionally or under `positions`.
Status FillRows(const Value& data, const std::vector<int>* positions, const InputLayout& layout,
                ParsedInput* out) {
  if (!data.IsArray()) return BadRequest("'data' must be a list of rows");
  StartMatrix(data.Size(), layout, out);
  size_t width = layout.width();
  size_t expected = positions != nullptr ? positions->size() : width;
  for (size_t r = 0; r < data.Size(); ++r) {
    const Value& row = data[r];
    if (!row.IsArray()) {
      return BadRequest("row " + std::to_string(r) + " must be a list of values, got a " +
                        JsonKind(row));
    }
    if (row.Size() != expected) {
      return InvalidArgument("row " + std::to_string(r) + " has " + std::to_string(row.Size()) +
                             " values; expected " + std::to_string(expected) +
                             (layout.named() && positions == nullptr
                                  ? " (" + layout.DescribeNames() + ")"
                                  : std::string()));
    }
    float* dst = out->values.data() + r * width;
    for (size_t c = 0; c < row.Size(); ++c) {
      int p = positions != nullptr ? (*positions)[c] : static_cast<int>(c);
      if (p < 0) continue;
      PLINTH_RETURN_IF_ERROR(Cell(row[c], layout, p, r, &dst[p]));
    }
  }
  return Status();
}

// Rows given as objects {column: value}; the first record fixes nothing, every record is mapped
// by its own keys (pandas fills absent keys with NaN).
Status FillRecords(const Value& records, const InputLayout& layout, ParsedInput* out) {
  StartMatrix(records.Size(), layout, out);
  size_t width = layout.width();
  std::vector<char> seen(width);
  for (size_t r = 0; r < records.Size(); ++r) {
    const Value& rec = records[r];
    if (!rec.IsObject()) {
      return BadRequest("record " + std::to_string(r) + " must be an object, got a " +
                        JsonKind(rec));
    }
    if (!layout.named()) {
      return InvalidArgument(
          "this model has no input names, so records cannot be matched to its inputs; send "
          "rows as lists");
    }
    std::fill(seen.begin(), seen.end(), 0);
    float* dst = out->values.data() + r * width;
    for (auto it = rec.MemberBegin(); it != rec.MemberEnd(); ++it) {
      int p = layout.Find({it->name.GetString(), it->name.GetStringLength()});
      if (p < 0) continue;
      seen[p] = 1;
      PLINTH_RETURN_IF_ERROR(Cell(it->value, layout, p, r, &dst[p]));
    }
    if (r == 0) {
      // Missing columns are judged on the first record, as a DataFrame built from records has
      // the union of keys; later records may leave cells out (NaN).
      std::vector<std::string_view> names;
      for (auto it = rec.MemberBegin(); it != rec.MemberEnd(); ++it) {
        names.emplace_back(it->name.GetString(), it->name.GetStringLength());
      }
      std::vector<int> positions;
      PLINTH_RETURN_IF_ERROR(MapColumns(names, layout, &positions));
    }
  }
  return Status();
}

// Columns given as {column: [values]}.
Status FillColumns(const Value& columns, const InputLayout& layout, ParsedInput* out) {
  std::vector<std::string_view> names;
  size_t rows = 0;
  bool first = true;
  for (auto it = columns.MemberBegin(); it != columns.MemberEnd(); ++it) {
    names.emplace_back(it->name.GetString(), it->name.GetStringLength());
    size_t n = it->value.IsArray() ? it->value.Size() : 1;
    if (!first && n != rows) {
      return InvalidArgument("input column " + Quoted(names.back()) + " has " + std::to_string(n) +
                             " values, others have " + std::to_string(rows));
    }
    rows = n;
    first = false;
  }
  std::vector<int> positions;
  PLINTH_RETURN_IF_ERROR(MapColumns(names, layout, &positions));
  StartMatrix(rows, layout, out);
  size_t width = layout.width();
  size_t i = 0;
  for (auto it = columns.MemberBegin(); it != columns.MemberEnd(); ++it, ++i) {
    int p = positions[i];
    if (p < 0) continue;
    if (!it->value.IsArray()) {
      PLINTH_RETURN_IF_ERROR(Cell(it->value, layout, p, 0, &out->values[p]));
      continue;
    }
    for (size_t r = 0; r < rows; ++r) {
      PLINTH_RETURN_IF_ERROR(Cell(it->value[r], layout, p, r, &out->values[r * width + p]));
    }
  }
  return Status();
}

Status ParseDataframeSplit(const Value& split, const InputLayout& layout, ParsedInput* out) {
  if (!split.IsObject()) return BadRequest("'dataframe_split' must be an object");
  auto data = split.FindMember("data");
  if (data == split.MemberEnd()) return BadRequest("'dataframe_split' has no 'data' field");
  auto columns = split.FindMember("columns");
  if (columns == split.MemberEnd() || columns->value.IsNull()) {
    if (layout.named() && layout.width() > 0) {
      // pandas names the columns 0..n-1, which matches nothing in a named schema.
      std::vector<std::string_view> none;
      std::vector<int> positions;
      PLINTH_RETURN_IF_ERROR(MapColumns(none, layout, &positions));
    }
    return FillRows(data->value, nullptr, layout, out);
  }
  if (!columns->value.IsArray()) return BadRequest("'columns' must be a list of names");
  std::vector<std::string_view> names;
  std::vector<std::string> numbered;  // keeps non-string names alive
  for (const Value& c : columns->value.GetArray()) {
    if (c.IsString()) {
      names.emplace_back(c.GetString(), c.GetStringLength());
    } else {
      numbered.push_back(c.IsNumber() ? std::to_string(c.GetInt64()) : "?");
    }
  }
  if (!numbered.empty()) {
    names.clear();
    size_t k = 0;
    numbered.reserve(columns->value.Size());
    for (const Value& c : columns->value.GetArray()) {
      if (!c.IsString()) {
        names.emplace_back(numbered[k++]);
      } else {
        names.emplace_back(c.GetString(), c.GetStringLength());
      }
    }
  }
  std::vector<int> positions;
  PLINTH_RETURN_IF_ERROR(MapColumns(names, layout, &positions));
  return FillRows(data->value, &positions, layout, out);
}

// `instances` and `inputs` (TF-serving style): rows, records, or a dict of columns.
Status ParseTensorStyle(const Value& v, std::string_view field, const InputLayout& layout,
                        ParsedInput* out) {
  if (v.IsObject()) return FillColumns(v, layout, out);
  if (!v.IsArray()) {
    return BadRequest("'" + std::string(field) + "' must be a list of rows or records");
  }
  if (v.Empty()) {
    StartMatrix(0, layout, out);
    return Status();
  }
  if (v[0].IsObject()) return FillRecords(v, layout, out);
  if (v[0].IsArray()) return FillRows(v, nullptr, layout, out);
  if (layout.width() == 1) {
    // A flat list feeds a one-input model one value per row.
    StartMatrix(v.Size(), layout, out);
    for (size_t r = 0; r < v.Size(); ++r) {
      PLINTH_RETURN_IF_ERROR(Cell(v[r], layout, 0, r, &out->values[r]));
    }
    return Status();
  }
  return InvalidArgument("'" + std::string(field) + "' must be a list of rows (lists of " +
                         std::to_string(layout.width()) + " values) or records (objects)");
}

Status ParseParams(const Value& params, PredictParams* out) {
  if (params.IsNull()) return Status();
  if (!params.IsObject()) return BadRequest("'params' must be an object");
  for (auto it = params.MemberBegin(); it != params.MemberEnd(); ++it) {
    std::string_view key(it->name.GetString(), it->name.GetStringLength());
    if (key == "output_margin") {
      if (!it->value.IsBool()) return InvalidArgument("params.output_margin must be a boolean");
      out->output_margin = it->value.GetBool();
    } else if (key == "predict_method") {
      if (!it->value.IsString()) return InvalidArgument("params.predict_method must be a string");
      std::string_view m(it->value.GetString(), it->value.GetStringLength());
      if (m == "predict_proba") {
        out->probabilities = true;
      } else if (m != "predict") {
        return InvalidArgument("params.predict_method must be 'predict' or 'predict_proba'");
      }
    }
    // Other params are ignored, as MLflow ignores what the model's predict does not take.
  }
  return Status();
}

Status ParseJsonDocument(std::string& body, rapidjson::Document* doc) {
  doc->ParseInsitu<kParseFlags>(body.data());
  if (doc->HasParseError()) {
    return BadRequest(std::string("Ensure that input is a valid JSON formatted string: ") +
                      rapidjson::GetParseError_En(doc->GetParseError()) + " at offset " +
                      std::to_string(doc->GetErrorOffset()));
  }
  return Status();
}

Status ParseJsonInvocation(std::string& body, const InputLayout& layout, ParsedInput* out) {
  rapidjson::Document doc;
  PLINTH_RETURN_IF_ERROR(ParseJsonDocument(body, &doc));
  if (!doc.IsObject()) {
    return BadRequest(std::string(kRequiredInputFormat) + ". Received a " + JsonKind(doc) + ".");
  }
  static constexpr std::string_view kFormats[] = {"dataframe_split", "dataframe_records",
                                                  "instances", "inputs"};
  const Value* input = nullptr;
  std::string_view format;
  int found = 0;
  std::string keys;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    std::string_view key(it->name.GetString(), it->name.GetStringLength());
    keys += (keys.empty() ? "'" : ", '") + std::string(key) + "'";
    for (auto f : kFormats) {
      if (key == f) {
        input = &it->value;
        format = f;
        ++found;
      }
    }
    if (key == "params") PLINTH_RETURN_IF_ERROR(ParseParams(it->value, &out->params));
  }
  if (found != 1) {
    return BadRequest(std::string(kRequiredInputFormat) +
                      ". Received dictionary with input fields: [" + keys + "].");
  }
  if (format == "dataframe_split") return ParseDataframeSplit(*input, layout, out);
  if (format == "dataframe_records") {
    if (!input->IsArray()) return BadRequest("'dataframe_records' must be a list of records");
    if (!input->Empty() && !(*input)[0].IsObject()) {
      return BadRequest("'dataframe_records' must be a list of objects {column: value}");
    }
    if (input->Empty()) {
      StartMatrix(0, layout, out);
      return Status();
    }
    return FillRecords(*input, layout, out);
  }
  return ParseTensorStyle(*input, format, layout, out);
}

// CSV as pandas.DataFrame.to_csv writes it: a header line, comma-separated, RFC 4180 quotes.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {}
  bool AtEnd() const { return pos_ >= text_.size(); }
  // Reads one record's fields (views into the text, or into `scratch_` for quoted fields).
  Status Next(std::vector<std::string>* fields) {
    fields->clear();
    std::string field;
    bool quoted = false;
    bool was_quoted = false;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (quoted) {
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') {
            field.push_back('"');
            ++pos_;
          } else {
            quoted = false;
          }
        } else {
          field.push_back(c);
        }
        continue;
      }
      if (c == '"' && field.empty() && !was_quoted) {
        quoted = was_quoted = true;
      } else if (c == ',') {
        fields->push_back(std::move(field));
        field.clear();
        was_quoted = false;
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
        break;
      } else {
        field.push_back(c);
      }
    }
    if (quoted) return BadRequest("Failed to parse input as CSV: unterminated quoted field");
    fields->push_back(std::move(field));
    ++line_;
    return Status();
  }
  size_t line() const { return line_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 0;
};

Status CsvCell(std::string_view text, const InputLayout& layout, size_t col, size_t row,
               float* out) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty() || text == "NaN" || text == "nan" || text == "NA") {
    *out = kMissing;
    return Status();
  }
  if (text == "True" || text == "true") {
    *out = 1.0f;
    return Status();
  }
  if (text == "False" || text == "false") {
    *out = 0.0f;
    return Status();
  }
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  bool integral = text.find_first_of(".eE") == std::string_view::npos;
  if (ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgument(
        "Incompatible input types for column " + Quoted(ColumnName(layout, col)) +
        ": cannot convert '" + std::string(text) + "' to " +
        std::string(DataTypeName(layout.types()[col])) + " (row " + std::to_string(row) + ")");
  }
  DataType type = layout.types()[col];
  if ((type == DataType::kLong || type == DataType::kInteger) && !integral) {
    return InvalidArgument("Incompatible input types for column " +
                           Quoted(ColumnName(layout, col)) + ": cannot safely convert float64 to " +
                           std::string(DataTypeName(type)) + " (row " + std::to_string(row) + ")");
  }
  *out = static_cast<float>(value);
  return Status();
}

Status ParseCsvInvocation(std::string_view body, const InputLayout& layout, ParsedInput* out) {
  CsvReader reader(body);
  std::vector<std::string> header;
  if (reader.AtEnd()) return BadRequest("Failed to parse input as CSV: the body is empty");
  PLINTH_RETURN_IF_ERROR(reader.Next(&header));
  std::vector<std::string_view> names(header.begin(), header.end());
  std::vector<int> positions;
  PLINTH_RETURN_IF_ERROR(MapColumns(names, layout, &positions));
  std::vector<std::string> fields;
  out->rows = 0;
  out->values.clear();
  size_t width = layout.width();
  while (!reader.AtEnd()) {
    PLINTH_RETURN_IF_ERROR(reader.Next(&fields));
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (fields.size() != header.size()) {
      return BadRequest("Failed to parse input as CSV: line " + std::to_string(reader.line()) +
                        " has " + std::to_string(fields.size()) + " fields, the header has " +
                        std::to_string(header.size()));
    }
    size_t r = out->rows++;
    out->values.resize(out->rows * width, kMissing);
    for (size_t c = 0; c < fields.size(); ++c) {
      if (positions[c] < 0) continue;
      PLINTH_RETURN_IF_ERROR(
          CsvCell(fields[c], layout, positions[c], r, &out->values[r * width + positions[c]]));
    }
  }
  return Status();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// --- OIP v2 ---

bool IsNumericDatatype(std::string_view t) {
  return t == "BOOL" || t == "UINT8" || t == "UINT16" || t == "UINT32" || t == "UINT64" ||
         t == "INT8" || t == "INT16" || t == "INT32" || t == "INT64" || t == "FP16" ||
         t == "FP32" || t == "FP64";
}

// Flattens (possibly nested) `data` in row-major order.
Status FlattenOip(const Value& data, std::string_view input, bool integer, bool boolean,
                  std::vector<float>* out) {
  if (data.IsArray()) {
    for (const Value& v : data.GetArray()) {
      PLINTH_RETURN_IF_ERROR(FlattenOip(v, input, integer, boolean, out));
    }
    return Status();
  }
  if (boolean) {
    if (!data.IsBool()) {
      return InvalidArgument("input '" + std::string(input) + "' has datatype BOOL but holds a " +
                             JsonKind(data));
    }
    out->push_back(data.GetBool() ? 1.0f : 0.0f);
    return Status();
  }
  if (data.IsNull()) {
    out->push_back(kMissing);
    return Status();
  }
  if (!data.IsNumber() || (integer && data.IsDouble())) {
    return InvalidArgument("input '" + std::string(input) + "' holds a " + JsonKind(data) +
                           " where its datatype needs " + (integer ? "an integer" : "a number"));
  }
  out->push_back(static_cast<float>(data.GetDouble()));
  return Status();
}

struct OipInput {
  std::string_view name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};

Status ReadOipInput(const Value& in, size_t index, OipInput* out) {
  std::string where = "inputs[" + std::to_string(index) + "]";
  if (!in.IsObject()) return BadRequest(where + " must be an object");
  auto name = in.FindMember("name");
  if (name == in.MemberEnd() || !name->value.IsString()) {
    return BadRequest(where + " has no 'name' string");
  }
  out->name = {name->value.GetString(), name->value.GetStringLength()};
  where = "input '" + std::string(out->name) + "'";
  auto shape = in.FindMember("shape");
  if (shape == in.MemberEnd() || !shape->value.IsArray() || shape->value.Empty()) {
    return BadRequest(where + " has no 'shape' list");
  }
  int64_t count = 1;
  for (const Value& d : shape->value.GetArray()) {
    if (!d.IsInt64() || d.GetInt64() < 0) {
      return BadRequest(where + ": 'shape' must hold non-negative integers");
    }
    out->shape.push_back(d.GetInt64());
    count *= d.GetInt64();
  }
  auto datatype = in.FindMember("datatype");
  if (datatype == in.MemberEnd() || !datatype->value.IsString()) {
    return BadRequest(where + " has no 'datatype' string");
  }
  std::string_view type(datatype->value.GetString(), datatype->value.GetStringLength());
  if (!IsNumericDatatype(type)) {
    return InvalidArgument(where + " has datatype " + std::string(type) +
                           "; this model takes numeric tensors (BOOL, INT*, UINT*, FP*)");
  }
  auto data = in.FindMember("data");
  if (data == in.MemberEnd()) return BadRequest(where + " has no 'data'");
  bool integer = type.starts_with("INT") || type.starts_with("UINT");
  out->data.reserve(static_cast<size_t>(count));
  PLINTH_RETURN_IF_ERROR(FlattenOip(data->value, out->name, integer, type == "BOOL", &out->data));
  if (static_cast<int64_t>(out->data.size()) != count) {
    return InvalidArgument(where + ": its shape holds " + std::to_string(count) +
                           " values but 'data' has " + std::to_string(out->data.size()));
  }
  return Status();
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void WriteValue(JsonWriter& w, const Predictions& p, size_t i) {
  if (p.integer) {
    w.Int64(static_cast<int64_t>(p.values[i]));
  } else {
    w.Double(p.values[i]);
  }
}

}  // namespace

InputLayout::InputLayout(const ModelInfo& info) {
  const Signature& sig = info.signature;
  size_t width = info.num_features;
  if (!info.feature_names.empty()) {
    names_ = info.feature_names;
  } else if (!sig.inputs.empty() && !sig.inputs[0].name.empty()) {
    for (const ColumnSpec& c : sig.inputs) names_.push_back(c.name);
  }
  if (width == 0) width = names_.size();
  if (!names_.empty() && names_.size() != width) names_.clear();  // inconsistent: positional
  types_.assign(width, DataType::kDouble);
  required_.assign(width, true);
  for (size_t i = 0; i < names_.size(); ++i) index_.emplace(names_[i], static_cast<int>(i));
  for (const ColumnSpec& c : sig.inputs) {
    if (c.name.empty()) continue;
    int p = Find(c.name);
    if (p < 0) continue;
    types_[p] = c.type;
    required_[p] = c.required;
  }
}

int InputLayout::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

std::string InputLayout::DescribeNames() const {
  std::string s;
  for (size_t i = 0; i < names_.size() && i < 10; ++i) s += (i ? ", " : "") + names_[i];
  if (names_.size() > 10) s += ", … " + std::to_string(names_.size() - 10) + " more";
  return s;
}

Status ParseInvocation(std::string_view content_type, std::string& body, const InputLayout& layout,
                       ParsedInput* out) {
  std::string_view rest = content_type;
  size_t semi = rest.find(';');
  std::string mime = Lower(Trim(rest.substr(0, semi)));
  while (semi != std::string_view::npos) {
    rest.remove_prefix(semi + 1);
    semi = rest.find(';');
    std::string_view param = Trim(rest.substr(0, semi));
    size_t eq = param.find('=');
    std::string key = Lower(Trim(param.substr(0, eq)));
    if (key == "charset") {
      std::string value = Lower(Trim(param.substr(eq == std::string_view::npos ? 0 : eq + 1)));
      if (value != "utf-8" && value != "utf8") {
        return Unimplemented("The scoring server only supports UTF-8");
      }
    } else if (!key.empty()) {
      return Unimplemented("Unrecognized content type parameters: " + key);
    }
  }
  if (mime.empty() || mime == "application/json") return ParseJsonInvocation(body, layout, out);
  if (mime == "text/csv") return ParseCsvInvocation(body, layout, out);
  return Unimplemented(
      "This predictor only supports the following content types: Types: ['text/csv', "
      "'application/json']. Got '" +
      std::string(content_type) + "'.");
}

Status ParseOipInfer(std::string& body, const InputLayout& layout, ParsedInput* out) {
  rapidjson::Document doc;
  PLINTH_RETURN_IF_ERROR(ParseJsonDocument(body, &doc));
  if (!doc.IsObject()) return BadRequest("the inference request must be a JSON object");
  if (auto id = doc.FindMember("id"); id != doc.MemberEnd()) {
    if (!id->value.IsString()) return BadRequest("'id' must be a string");
    out->oip_id.assign(id->value.GetString(), id->value.GetStringLength());
  }
  if (auto params = doc.FindMember("parameters"); params != doc.MemberEnd()) {
    PLINTH_RETURN_IF_ERROR(ParseParams(params->value, &out->params));
  }
  auto inputs = doc.FindMember("inputs");
  if (inputs == doc.MemberEnd() || !inputs->value.IsArray() || inputs->value.Empty()) {
    return BadRequest("the inference request needs a non-empty 'inputs' list");
  }
  size_t width = layout.width();
  const Value& list = inputs->value;
  if (list.Size() == 1 && list[0].IsObject()) {
    auto shape = list[0].FindMember("shape");
    if (shape != list[0].MemberEnd() && shape->value.IsArray() && shape->value.Size() == 2) {
      OipInput tensor;
      PLINTH_RETURN_IF_ERROR(ReadOipInput(list[0], 0, &tensor));
      if (static_cast<size_t>(tensor.shape[1]) != width) {
        return InvalidArgument("input '" + std::string(tensor.name) + "' has shape " +
                               ShapeText(tensor.shape) + "; the model expects [-1, " +
                               std::to_string(width) + "]");
      }
      out->rows = static_cast<size_t>(tensor.shape[0]);
      out->values = std::move(tensor.data);
      return Status();
    }
  }
  // One input per feature.
  std::vector<OipInput> columns(list.Size());
  std::vector<std::string_view> names;
  for (size_t i = 0; i < list.Size(); ++i) {
    PLINTH_RETURN_IF_ERROR(ReadOipInput(list[i], i, &columns[i]));
    const OipInput& c = columns[i];
    if (c.shape.size() > 2 || (c.shape.size() == 2 && c.shape[1] != 1)) {
      return InvalidArgument("input '" + std::string(c.name) + "' has shape " + ShapeText(c.shape) +
                             "; send one tensor of shape [rows, " + std::to_string(width) +
                             "] or one input per feature of shape [rows]");
    }
    if (c.shape[0] != columns[0].shape[0]) {
      return InvalidArgument("input '" + std::string(c.name) + "' has " +
                             std::to_string(c.shape[0]) + " rows, input '" +
                             std::string(columns[0].name) + "' has " +
                             std::to_string(columns[0].shape[0]));
    }
    if (layout.named() && layout.Find(c.name) < 0) {
      return InvalidArgument("unknown input '" + std::string(c.name) +
                             "'; the model's inputs are " + layout.DescribeNames());
    }
    names.push_back(c.name);
  }
  std::vector<int> positions;
  PLINTH_RETURN_IF_ERROR(MapColumns(names, layout, &positions));
  StartMatrix(static_cast<size_t>(columns[0].shape[0]), layout, out);
  for (size_t i = 0; i < columns.size(); ++i) {
    int p = positions[i];
    for (size_t r = 0; r < out->rows; ++r) out->values[r * width + p] = columns[i].data[r];
  }
  return Status();
}

std::string WriteMlflowPredictions(const Predictions& p) {
  JsonWriter w;
  w.StartObject();
  w.Key("predictions");
  w.StartArray();
  if (p.width == 1 && p.squeeze) {
    for (size_t i = 0; i < p.rows; ++i) WriteValue(w, p, i);
  } else {
    for (size_t r = 0; r < p.rows; ++r) {
      w.StartArray();
      for (size_t c = 0; c < p.width; ++c) WriteValue(w, p, r * p.width + c);
      w.EndArray();
    }
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

std::string WriteOipResponse(const Predictions& p, std::string_view model_name,
                             std::string_view model_version, std::string_view id) {
  JsonWriter w;
  w.StartObject();
  w.KeyString("model_name", model_name);
  w.KeyString("model_version", model_version);
  if (!id.empty()) w.KeyString("id", id);
  w.Key("parameters");
  w.StartObject();
  w.EndObject();
  w.Key("outputs");
  w.StartArray();
  w.StartObject();
  w.KeyString("name", "predict");
  w.Key("shape");
  w.StartArray();
  w.Int64(static_cast<int64_t>(p.rows));
  if (p.width != 1 || !p.squeeze) w.Int64(static_cast<int64_t>(p.width));
  w.EndArray();
  w.KeyString("datatype", p.integer ? "INT64" : "FP32");
  w.Key("data");
  w.StartArray();
  for (size_t i = 0; i < p.rows * p.width; ++i) WriteValue(w, p, i);
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return w.Take();
}

}  // namespace plinth::serving
