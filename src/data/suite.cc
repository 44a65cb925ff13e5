#include "data/suite.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "data/csv.h"

namespace plinth::data {
namespace {

using nlohmann::json;

// Which arguments an expectation needs.
enum Needs : unsigned {
  kColumn = 1,
  kRange = 2,  // min_value and/or max_value
  kValue = 4,
  kValueSet = 8,
  kRegex = 16,
  kColumnList = 32,
  kPair = 64,
  kQuantiles = 128,
  kTypeName = 256,
};

struct Spec {
  std::string_view name;
  unsigned needs;
};

constexpr Spec kSpecs[] = {
    {"expect_column_to_exist", kColumn},
    {"expect_table_columns_to_match_ordered_list", kColumnList},
    {"expect_table_columns_to_match_set", kColumnList},
    {"expect_table_row_count_to_be_between", kRange},
    {"expect_table_row_count_to_equal", kValue},
    {"expect_table_column_count_to_be_between", kRange},
    {"expect_table_column_count_to_equal", kValue},
    {"expect_column_values_to_be_of_type", kColumn | kTypeName},
    {"expect_column_values_to_not_be_null", kColumn},
    {"expect_column_values_to_be_null", kColumn},
    {"expect_column_values_to_be_between", kColumn | kRange},
    {"expect_column_values_to_be_in_set", kColumn | kValueSet},
    {"expect_column_values_to_not_be_in_set", kColumn | kValueSet},
    {"expect_column_values_to_match_regex", kColumn | kRegex},
    {"expect_column_values_to_not_match_regex", kColumn | kRegex},
    {"expect_column_values_to_be_unique", kColumn},
    {"expect_compound_columns_to_be_unique", kColumnList},
    {"expect_column_value_lengths_to_be_between", kColumn | kRange},
    {"expect_column_value_lengths_to_equal", kColumn | kValue},
    {"expect_column_pair_values_A_to_be_greater_than_B", kPair},
    {"expect_column_mean_to_be_between", kColumn | kRange},
    {"expect_column_median_to_be_between", kColumn | kRange},
    {"expect_column_stdev_to_be_between", kColumn | kRange},
    {"expect_column_min_to_be_between", kColumn | kRange},
    {"expect_column_max_to_be_between", kColumn | kRange},
    {"expect_column_sum_to_be_between", kColumn | kRange},
    {"expect_column_quantile_values_to_be_between", kColumn | kQuantiles},
    {"expect_column_unique_value_count_to_be_between", kColumn | kRange},
    {"expect_column_proportion_of_unique_values_to_be_between", kColumn | kRange},
};

const Spec* FindSpec(std::string_view name) {
  for (const Spec& spec : kSpecs) {
    if (spec.name == name) {
      return &spec;
    }
  }
  // GE spells the pair expectation with capitals; accept any case.
  for (const Spec& spec : kSpecs) {
    if (spec.name.size() == name.size() &&
        std::equal(name.begin(), name.end(), spec.name.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return &spec;
    }
  }
  return nullptr;
}

// YAML scalars become JSON numbers, booleans or strings by their plain spelling; quoted
// scalars stay strings.
json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) {
        out.push_back(YamlToJson(item));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& item : node) {
        out[item.first.as<std::string>()] = YamlToJson(item.second);
      }
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (node.Tag() == "!") {  // quoted
        return text;
      }
      int64_t i;
      if (ParseInt64Text(text, &i) && text.find(' ') == std::string::npos) {
        return i;
      }
      double d;
      if (ParseFloatText(text, &d) && text.find(' ') == std::string::npos) {
        return d;
      }
      if (text == "true" || text == "True" || text == "TRUE") {
        return true;
      }
      if (text == "false" || text == "False" || text == "FALSE") {
        return false;
      }
      if (text == "~" || text == "null" || text == "Null" || text == "NULL") {
        return nullptr;
      }
      return text;
    }
  }
  return nullptr;
}

std::string ScalarText(const json& v) {
  if (v.is_string()) {
    return v.get<std::string>();
  }
  if (v.is_boolean()) {
    return v.get<bool>() ? "true" : "false";
  }
  return v.dump();
}

Result<std::optional<Bound>> ReadBound(const json& kwargs, const char* key,
                                       const std::string& where) {
  auto it = kwargs.find(key);
  if (it == kwargs.end() || it->is_null()) {
    return std::optional<Bound>();
  }
  Bound b;
  if (it->is_number()) {
    b.number = it->get<double>();
    b.is_number = true;
    b.text = it->dump();
  } else if (it->is_string()) {
    b.text = it->get<std::string>();
  } else {
    return InvalidArgument(where + ": " + key + " must be a number or a string");
  }
  return std::optional<Bound>(b);
}

Result<std::vector<std::string>> ReadStringList(const json& kwargs, const char* key,
                                                const std::string& where) {
  auto it = kwargs.find(key);
  if (it == kwargs.end() || !it->is_array()) {
    return InvalidArgument(where + ": " + key + " must be a list");
  }
  std::vector<std::string> out;
  for (const json& v : *it) {
    out.push_back(ScalarText(v));
  }
  return out;
}

Result<Expectation> ParseExpectation(const std::string& type, const json& kwargs,
                                     const std::string& where_prefix) {
  const std::string where = where_prefix + " (" + type + ")";
  const Spec* spec = FindSpec(type);
  if (spec == nullptr) {
    return InvalidArgument(where_prefix + ": unknown expectation '" + type + "'");
  }
  if (!kwargs.is_object()) {
    return InvalidArgument(where + ": the arguments must be a mapping");
  }
  Expectation e;
  e.type = std::string(spec->name);
  e.kwargs_json = kwargs.dump();
  try {
    if (spec->needs & kColumn) {
      if (!kwargs.contains("column") || !kwargs["column"].is_string()) {
        return InvalidArgument(where + ": needs 'column'");
      }
      e.column = kwargs["column"].get<std::string>();
    }
    if (kwargs.contains("mostly")) {
      if (!kwargs["mostly"].is_number()) {
        return InvalidArgument(where + ": mostly must be a number");
      }
      e.mostly = kwargs["mostly"].get<double>();
      if (!(e.mostly >= 0.0 && e.mostly <= 1.0)) {
        return InvalidArgument(where + ": mostly must be between 0 and 1");
      }
    }
    if (spec->needs & kRange) {
      PLINTH_ASSIGN_OR_RETURN(e.min_value, ReadBound(kwargs, "min_value", where));
      PLINTH_ASSIGN_OR_RETURN(e.max_value, ReadBound(kwargs, "max_value", where));
      if (!e.min_value && !e.max_value) {
        return InvalidArgument(where + ": needs min_value or max_value");
      }
      e.strict_min = kwargs.value("strict_min", false);
      e.strict_max = kwargs.value("strict_max", false);
    }
    if (spec->needs & kValue) {
      if (!kwargs.contains("value") || !kwargs["value"].is_number()) {
        return InvalidArgument(where + ": needs a numeric 'value'");
      }
      e.value = kwargs["value"].get<double>();
    }
    if (spec->needs & kValueSet) {
      PLINTH_ASSIGN_OR_RETURN(e.value_set, ReadStringList(kwargs, "value_set", where));
    }
    if (spec->needs & kRegex) {
      if (!kwargs.contains("regex") || !kwargs["regex"].is_string()) {
        return InvalidArgument(where + ": needs 'regex'");
      }
      e.regex = kwargs["regex"].get<std::string>();
    }
    if (spec->needs & kTypeName) {
      if (!kwargs.contains("type_") || !kwargs["type_"].is_string()) {
        return InvalidArgument(where + ": needs 'type_'");
      }
      e.type_name = kwargs["type_"].get<std::string>();
    }
    if (spec->needs & kColumnList) {
      const char* key = kwargs.contains("column_set") ? "column_set" : "column_list";
      PLINTH_ASSIGN_OR_RETURN(e.column_list, ReadStringList(kwargs, key, where));
    }
    if (spec->needs & kPair) {
      const json* a = kwargs.contains("column_A")   ? &kwargs["column_A"]
                      : kwargs.contains("column_a") ? &kwargs["column_a"]
                                                    : nullptr;
      const json* b = kwargs.contains("column_B")   ? &kwargs["column_B"]
                      : kwargs.contains("column_b") ? &kwargs["column_b"]
                                                    : nullptr;
      if (a == nullptr || b == nullptr || !a->is_string() || !b->is_string()) {
        return InvalidArgument(where + ": needs column_A and column_B");
      }
      e.column_a = a->get<std::string>();
      e.column_b = b->get<std::string>();
      e.or_equal = kwargs.value("or_equal", false);
    }
    if (spec->needs & kQuantiles) {
      if (!kwargs.contains("quantile_ranges")) {
        return InvalidArgument(where + ": needs quantile_ranges");
      }
      const json& qr = kwargs["quantile_ranges"];
      e.quantiles = qr.at("quantiles").get<std::vector<double>>();
      for (const json& range : qr.at("value_ranges")) {
        if (!range.is_array() || range.size() != 2) {
          return InvalidArgument(where + ": each value range is [min, max]");
        }
        std::optional<double> lo, hi;
        if (!range[0].is_null()) {
          lo = range[0].get<double>();
        }
        if (!range[1].is_null()) {
          hi = range[1].get<double>();
        }
        e.value_ranges.emplace_back(lo, hi);
      }
      if (e.quantiles.size() != e.value_ranges.size()) {
        return InvalidArgument(where + ": quantiles and value_ranges differ in length");
      }
      for (double q : e.quantiles) {
        if (!(q >= 0.0 && q <= 1.0)) {
          return InvalidArgument(where + ": quantiles must be between 0 and 1");
        }
      }
    }
  } catch (const json::exception& ex) {
    return InvalidArgument(where + ": " + ex.what());
  }
  return e;
}

Result<Suite> SuiteFromJson(const json& root) {
  if (!root.is_object()) {
    return InvalidArgument("a suite is a mapping with columns and expectations");
  }
  Suite suite;
  try {
    if (root.contains("name")) {
      suite.name = ScalarText(root["name"]);
    } else if (root.contains("expectation_suite_name")) {
      suite.name = ScalarText(root["expectation_suite_name"]);
    }
    suite.strict = root.value("strict", false);
    if (root.contains("primary_key")) {
      for (const json& k : root["primary_key"]) {
        suite.primary_key.push_back(ScalarText(k));
      }
    }
    if (root.contains("columns")) {
      const json& columns = root["columns"];
      std::vector<std::pair<std::string, json>> entries;
      if (columns.is_object()) {
        for (auto it = columns.begin(); it != columns.end(); ++it) {
          entries.emplace_back(it.key(), it.value().is_null() ? json::object() : it.value());
        }
      } else if (columns.is_array()) {
        for (const json& c : columns) {
          if (!c.is_object() || !c.contains("name")) {
            return InvalidArgument("columns: each entry needs a name");
          }
          entries.emplace_back(ScalarText(c["name"]), c);
        }
      } else {
        return InvalidArgument("columns must be a list or a mapping");
      }
      for (const auto& [name, spec] : entries) {
        ColumnSchema column;
        column.name = name;
        if (spec.contains("type") && !spec["type"].is_null()) {
          auto type = DataTypeFromName(ScalarText(spec["type"]));
          if (!type.ok()) {
            return InvalidArgument("column '" + name + "': " + type.status().message());
          }
          column.type = *type;
        }
        column.required = spec.value("required", true);
        column.nullable = spec.value("nullable", true);
        suite.columns.push_back(std::move(column));
      }
    }
    if (root.contains("expectations")) {
      const json& list = root["expectations"];
      if (!list.is_array()) {
        return InvalidArgument("expectations must be a list");
      }
      for (size_t i = 0; i < list.size(); ++i) {
        const json& entry = list[i];
        const std::string where = "expectation " + std::to_string(i + 1);
        std::string type;
        json kwargs;
        if (entry.is_object() && entry.contains("expectation_type")) {
          type = ScalarText(entry["expectation_type"]);
          kwargs = entry.value("kwargs", json::object());
        } else if (entry.is_object() && entry.contains("type") && entry.contains("kwargs")) {
          type = ScalarText(entry["type"]);
          kwargs = entry["kwargs"];
        } else if (entry.is_object() && entry.size() == 1) {
          type = entry.begin().key();
          kwargs = entry.begin().value().is_null() ? json::object() : entry.begin().value();
        } else {
          return InvalidArgument(where + ": write `- expect_…: {column: …}`");
        }
        PLINTH_ASSIGN_OR_RETURN(auto expectation, ParseExpectation(type, kwargs, where));
        suite.expectations.push_back(std::move(expectation));
      }
    }
  } catch (const json::exception& ex) {
    return InvalidArgument(std::string("bad suite: ") + ex.what());
  }
  return suite;
}

void EmitJson(YAML::Emitter& out, const json& v) {
  if (v.is_object()) {
    out << YAML::Flow << YAML::BeginMap;
    for (auto it = v.begin(); it != v.end(); ++it) {
      out << YAML::Key << it.key() << YAML::Value;
      EmitJson(out, it.value());
    }
    out << YAML::EndMap;
  } else if (v.is_array()) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const json& item : v) {
      EmitJson(out, item);
    }
    out << YAML::EndSeq;
  } else if (v.is_string()) {
    const std::string s = v.get<std::string>();
    // Strings that would read back as numbers, booleans or null keep their quotes.
    double d;
    const bool ambiguous = ParseFloatText(s, &d) || s == "true" || s == "false" || s == "True" ||
                           s == "False" || s == "null" || s == "~" || s.empty();
    if (ambiguous) {
      out << YAML::DoubleQuoted << s;
    } else {
      out << s;
    }
  } else if (v.is_boolean()) {
    out << v.get<bool>();
  } else if (v.is_number_integer()) {
    out << v.get<int64_t>();
  } else if (v.is_number()) {
    out << v.dump();
  } else {
    out << YAML::Null;
  }
}

json BoundJson(double v, DataType type) {
  if (type == DataType::kTimestamp) {
    return FormatTimestamp(static_cast<int64_t>(v));
  }
  if (type == DataType::kInt64 && std::abs(v) < 9e15) {
    return static_cast<int64_t>(v);
  }
  return v;
}

Expectation Make(std::string type, json kwargs) {
  // Built from our own well-formed arguments: parsing cannot fail.
  auto parsed = ParseExpectation(type, kwargs, "inferred");
  return parsed.ok() ? std::move(*parsed) : Expectation{};
}

}  // namespace

const ColumnSchema* Suite::FindColumn(std::string_view name) const {
  for (const ColumnSchema& c : columns) {
    if (c.name == name) {
      return &c;
    }
  }
  return nullptr;
}

const std::vector<std::string_view>& SupportedExpectations() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const Spec& spec : kSpecs) {
      out.push_back(spec.name);
    }
    return out;
  }();
  return names;
}

Result<Suite> ParseSuite(std::string_view yaml) {
  json root;
  try {
    root = YamlToJson(YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& ex) {
    return InvalidArgument(std::string("suite is not valid YAML: ") + ex.what());
  }
  return SuiteFromJson(root);
}

Result<Suite> LoadSuiteFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFound("cannot open suite " + path);
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto suite = ParseSuite(buffer.str());
  if (!suite.ok()) {
    return InvalidArgument(path + ": " + suite.status().message());
  }
  return suite;
}

std::string SuiteToYaml(const Suite& suite) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << suite.name;
  out << YAML::Key << "strict" << YAML::Value << suite.strict;
  if (!suite.primary_key.empty()) {
    out << YAML::Key << "primary_key" << YAML::Value << YAML::Flow << suite.primary_key;
  }
  out << YAML::Key << "columns" << YAML::Value << YAML::BeginSeq;
  for (const ColumnSchema& c : suite.columns) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value;
    EmitJson(out, c.name);
    if (c.type) {
      out << YAML::Key << "type" << YAML::Value << std::string(DataTypeName(*c.type));
    }
    out << YAML::Key << "required" << YAML::Value << c.required;
    out << YAML::Key << "nullable" << YAML::Value << c.nullable;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "expectations" << YAML::Value << YAML::BeginSeq;
  for (const Expectation& e : suite.expectations) {
    out << YAML::BeginMap << YAML::Key << e.type << YAML::Value;
    EmitJson(out, json::parse(e.kwargs_json));
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

Suite InferSuite(const DatasetProfile& profile, const InferSuiteOptions& options) {
  Suite suite;
  suite.name = options.name;
  const std::set<std::string> unique(options.unique_columns.begin(), options.unique_columns.end());
  const uint64_t rows = profile.row_count;
  suite.expectations.push_back(Make("expect_table_row_count_to_be_between",
                                    {{"min_value", rows / 2}, {"max_value", rows * 2}}));
  for (const ColumnProfile& p : profile.columns) {
    ColumnSchema column;
    column.name = p.name;
    column.type = p.type;
    column.nullable = p.null_count > 0;
    suite.columns.push_back(column);
    const uint64_t present = p.count - p.null_count;
    if (p.null_count == 0) {
      suite.expectations.push_back(
          Make("expect_column_values_to_not_be_null", {{"column", p.name}}));
    }
    if (present == 0) {
      continue;
    }
    if (unique.count(p.name) != 0) {
      suite.expectations.push_back(Make("expect_column_values_to_be_unique", {{"column", p.name}}));
    }
    const bool exact_set =
        p.frequent && p.frequent->max_error() == 0 &&
        p.frequent->Top(options.max_set_size + 1).size() <= options.max_set_size &&
        unique.count(p.name) == 0 && p.type != DataType::kBool;
    if (exact_set && (p.type == DataType::kString || p.type == DataType::kInt64)) {
      json set = json::array();
      std::vector<std::string> values;
      for (const auto& [value, count] : p.frequent->Top(options.max_set_size)) {
        values.push_back(value);
      }
      std::sort(values.begin(), values.end());
      for (const std::string& v : values) {
        set.push_back(v);
      }
      suite.expectations.push_back(
          Make("expect_column_values_to_be_in_set", {{"column", p.name}, {"value_set", set}}));
      continue;
    }
    if (p.type == DataType::kString) {
      suite.expectations.push_back(
          Make("expect_column_value_lengths_to_be_between",
               {{"column", p.name}, {"min_value", p.min_length}, {"max_value", p.max_length}}));
    } else if (p.type != DataType::kBool && p.numeric_count > 0) {
      suite.expectations.push_back(
          Make("expect_column_values_to_be_between", {{"column", p.name},
                                                      {"min_value", BoundJson(p.min, p.type)},
                                                      {"max_value", BoundJson(p.max, p.type)}}));
    }
  }
  if (!options.unique_columns.empty()) {
    suite.primary_key = {options.unique_columns.front()};
  }
  return suite;
}

}  // namespace plinth::data
