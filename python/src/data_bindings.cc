// plinth._native's data functions: validation and drift on the C++ data engine (src/data,
// src/drift). Columns come from Python as (name, kind, values): numeric kinds as numpy arrays
// read through the buffer protocol (no Python object per value), strings as lists. Results are
// the engine's own JSON, which the Python layer decodes, so Python and the CLI answer the same.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <memory>
#include <string>

#include "data/csv.h"
#include "data/drift_report.h"
#include "data/suite.h"
#include "data/table.h"
#include "data/validate.h"
#include "drift/stattests.h"

namespace py = pybind11;

namespace plinth::python {
namespace {

[[noreturn]] void RaiseData(const Status& s) {
  if (s.code() == StatusCode::kNotFound) throw py::key_error(s.message());
  if (s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kBadRequest) {
    throw py::value_error(s.message());
  }
  throw std::runtime_error(s.message());
}

template <typename T>
T TakeData(Result<T> r) {
  if (!r.ok()) RaiseData(r.status());
  return std::move(r).value();
}

// One column from Python. kind: "float", "int", "bool", "timestamp" (int64 microseconds),
// "string"; `mask` (optional, bool array) marks nulls for the numeric kinds, and NaN is null for
// floats (pandas' missing value).
data::Column ColumnFromPython(const std::string& name, const std::string& kind,
                              const py::handle& values, const py::handle& mask) {
  auto type = TakeData(data::DataTypeFromName(kind));
  data::Column column(name, type);
  py::array_t<bool, py::array::c_style | py::array::forcecast> nulls;
  const bool* null_at = nullptr;
  if (!mask.is_none()) {
    nulls = py::array_t<bool, py::array::c_style | py::array::forcecast>::ensure(mask);
    null_at = nulls.data();
  }
  switch (type) {
    case data::DataType::kFloat64: {
      auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(values);
      if (!a) throw py::type_error("column " + name + ": expected a numeric array");
      const double* v = a.data();
      column.Reserve(static_cast<size_t>(a.size()));
      for (py::ssize_t i = 0; i < a.size(); ++i) {
        if ((null_at && null_at[i]) || std::isnan(v[i])) {
          column.AppendNull();
        } else {
          column.AppendFloat(v[i]);
        }
      }
      break;
    }
    case data::DataType::kInt64:
    case data::DataType::kTimestamp: {
      auto a = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(values);
      if (!a) throw py::type_error("column " + name + ": expected an integer array");
      const int64_t* v = a.data();
      column.Reserve(static_cast<size_t>(a.size()));
      for (py::ssize_t i = 0; i < a.size(); ++i) {
        if (null_at && null_at[i]) {
          column.AppendNull();
        } else {
          column.AppendInt(v[i]);
        }
      }
      break;
    }
    case data::DataType::kBool: {
      auto a = py::array_t<bool, py::array::c_style | py::array::forcecast>::ensure(values);
      if (!a) throw py::type_error("column " + name + ": expected a boolean array");
      const bool* v = a.data();
      column.Reserve(static_cast<size_t>(a.size()));
      for (py::ssize_t i = 0; i < a.size(); ++i) {
        if (null_at && null_at[i]) {
          column.AppendNull();
        } else {
          column.AppendBool(v[i]);
        }
      }
      break;
    }
    case data::DataType::kString: {
      py::sequence seq = py::reinterpret_borrow<py::sequence>(values);
      column.Reserve(static_cast<size_t>(py::len(seq)));
      for (const py::handle& item : seq) {
        if (item.is_none() ||
            (py::isinstance<py::float_>(item) && std::isnan(item.cast<double>()))) {
          column.AppendNull();
        } else {
          column.AppendString(py::str(item).cast<std::string>());
        }
      }
      break;
    }
  }
  return column;
}

// columns: a list of (name, kind, values, mask) tuples of equal length.
data::Table TableFromPython(const py::list& columns) {
  data::Table table;
  size_t rows = 0;
  for (const py::handle& c : columns) {
    auto t = c.cast<py::tuple>();
    data::Column column =
        ColumnFromPython(t[0].cast<std::string>(), t[1].cast<std::string>(), t[2], t[3]);
    if (!table.columns.empty() && column.size() != rows) {
      throw py::value_error("column " + column.name() + " has " + std::to_string(column.size()) +
                            " values, the others " + std::to_string(rows));
    }
    rows = column.size();
    table.columns.push_back(std::move(column));
  }
  return table;
}

std::shared_ptr<const data::Suite> SuiteFrom(const std::string& text, bool is_path) {
  auto suite = is_path ? data::LoadSuiteFile(text) : data::ParseSuite(text);
  return std::make_shared<const data::Suite>(TakeData(std::move(suite)));
}

std::string ValidateTable(const py::list& columns, const std::string& suite_text, bool is_path,
                          const std::string& source) {
  auto suite = SuiteFrom(suite_text, is_path);
  data::CsvReadResult data;
  data.table = TableFromPython(columns);
  data::ValidationReport report;
  {
    py::gil_scoped_release release;
    report = data::Validate(suite, data);
  }
  report.source = source;
  return data::ValidationToJson(report);
}

std::string ValidateFile(const std::string& path, const std::string& suite_text, bool is_path,
                         bool html) {
  auto suite = SuiteFrom(suite_text, is_path);
  py::gil_scoped_release release;
  auto read = TakeData(data::ReadCsvFile(path, data::SuiteCsvOptions(*suite)));
  data::ValidationReport report = data::Validate(suite, read);
  report.source = path;
  return html ? data::ValidationToHtml(report) : data::ValidationToJson(report);
}

drift::DriftOptions DriftOptionsFrom(const py::dict& o) {
  drift::DriftOptions options;
  auto method = [](const py::handle& h) {
    return TakeData(drift::MethodFromId(h.cast<std::string>()));
  };
  if (o.contains("method") && !o["method"].is_none()) options.method = method(o["method"]);
  if (o.contains("numerical_method") && !o["numerical_method"].is_none()) {
    options.numerical_method = method(o["numerical_method"]);
  }
  if (o.contains("categorical_method") && !o["categorical_method"].is_none()) {
    options.categorical_method = method(o["categorical_method"]);
  }
  if (o.contains("threshold") && !o["threshold"].is_none()) {
    options.threshold = o["threshold"].cast<double>();
  }
  if (o.contains("drift_share")) options.drift_share = o["drift_share"].cast<double>();
  if (o.contains("per_column_method")) {
    for (const auto& [k, v] : o["per_column_method"].cast<py::dict>()) {
      options.per_column[k.cast<std::string>()].method = method(v);
    }
  }
  if (o.contains("per_column_threshold")) {
    for (const auto& [k, v] : o["per_column_threshold"].cast<py::dict>()) {
      options.per_column[k.cast<std::string>()].threshold = v.cast<double>();
    }
  }
  if (Status s = options.Validate(); !s.ok()) RaiseData(s);
  return options;
}

std::string DriftTables(const py::list& reference, const py::list& current, const py::dict& options,
                        bool html) {
  drift::DriftOptions o = DriftOptionsFrom(options);
  data::Table ref = TableFromPython(reference);
  data::Table cur = TableFromPython(current);
  py::gil_scoped_release release;
  auto drift = TakeData(data::ComputeTableDrift(ref, cur, o));
  return html ? data::DriftToHtml(drift, "reference", "current") : data::DriftToJson(drift);
}

std::string DriftFiles(const std::string& reference, const std::string& current,
                       const py::dict& options, bool html) {
  drift::DriftOptions o = DriftOptionsFrom(options);
  py::gil_scoped_release release;
  data::CsvOptions csv;
  auto ref = TakeData(data::ReadCsvFile(reference, csv));
  auto cur = TakeData(data::ReadCsvFile(current, csv));
  auto drift = TakeData(data::ComputeTableDrift(ref.table, cur.table, o));
  return html ? data::DriftToHtml(drift, reference, current) : data::DriftToJson(drift);
}

}  // namespace

void RegisterDataBindings(py::module_& m) {
  m.def("validate_table", &ValidateTable, py::arg("columns"), py::arg("suite"),
        py::arg("suite_is_path"), py::arg("source"));
  m.def("validate_file", &ValidateFile, py::arg("path"), py::arg("suite"), py::arg("suite_is_path"),
        py::arg("html") = false);
  m.def("drift_tables", &DriftTables, py::arg("reference"), py::arg("current"), py::arg("options"),
        py::arg("html") = false);
  m.def("drift_files", &DriftFiles, py::arg("reference"), py::arg("current"), py::arg("options"),
        py::arg("html") = false);
}

}  // namespace plinth::python
