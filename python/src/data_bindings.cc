// plinth._native's data functions: validation and drift on the C++ data engine (src/data,
// src/drift). Columns come from Python as (name, kind, values): numeric kinds as numpy arrays
// read through the buffer protocol (no Python object per value), strings as lists. Results are
// the engine's own JSON, which the Python layer decodes, so Python and the CLI answer the same.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

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

// A table built from Python columns. Numeric columns borrow the numpy buffers (Column::Borrow:
// no copy), so `keep` holds those arrays for as long as the table is used.
struct PyTable {
  data::Table table;
  std::vector<py::object> keep;
};

// Validity bits (1: valid) from an optional null mask and, for floats, NaN; empty when every
// value is valid.
template <typename T>
std::vector<uint64_t> ValidityOf(const T* v, size_t n, const bool* null_at) {
  std::vector<uint64_t> bits((n + 63) / 64, ~uint64_t{0});
  bool any_null = false;
  for (size_t i = 0; i < n; ++i) {
    bool null = null_at != nullptr && null_at[i];
    if constexpr (std::is_floating_point_v<T>) {
      null = null || std::isnan(v[i]);
    }
    if (null) {
      bits[i >> 6] &= ~(uint64_t{1} << (i & 63));
      any_null = true;
    }
  }
  if (!any_null) {
    bits.clear();
  }
  return bits;
}

// Whether a Python object stands for a missing value: None, a float NaN, pandas' NA or NaT.
bool IsMissingObject(PyObject* item) {
  if (item == Py_None) {
    return true;
  }
  if (PyFloat_Check(item)) {
    return std::isnan(PyFloat_AS_DOUBLE(item));
  }
  const char* type = Py_TYPE(item)->tp_name;
  return std::strcmp(type, "NAType") == 0 || std::strcmp(type, "NaTType") == 0;
}

// A string column from a sequence of Python objects (an object ndarray is read through its
// buffer of pointers). A category column repeats the same few str objects, so each distinct
// object is converted to UTF-8 once, found again by its address.
data::Column StringsFromPython(const std::string& name, const py::handle& values) {
  PyObject* const* items = nullptr;
  size_t n = 0;
  py::object fast;
  if (py::isinstance<py::array>(values) &&
      py::reinterpret_borrow<py::array>(values).dtype().kind() == 'O' &&
      py::reinterpret_borrow<py::array>(values).ndim() == 1 &&
      (py::reinterpret_borrow<py::array>(values).flags() & py::array::c_style)) {
    auto a = py::reinterpret_borrow<py::array>(values);
    items = static_cast<PyObject* const*>(a.data());
    n = static_cast<size_t>(a.size());
  } else {
    fast = py::reinterpret_steal<py::object>(
        PySequence_Fast(values.ptr(), ("column " + name + ": expected a sequence").c_str()));
    if (!fast) throw py::error_already_set();
    items = PySequence_Fast_ITEMS(fast.ptr());
    n = static_cast<size_t>(PySequence_Fast_GET_SIZE(fast.ptr()));
  }
  struct Slot {
    PyObject* key = nullptr;
    int64_t offset = -1;  // into `bytes`; -1: missing
    size_t len = 0;
  };
  std::vector<Slot> slots(1024);
  size_t used = 0;
  std::string bytes;
  std::vector<py::object> converted;  // str() of non-str objects, alive while cached
  data::Column column(name, data::DataType::kString);
  column.Reserve(n, n * 8);
  for (size_t i = 0; i < n; ++i) {
    PyObject* item = items[i];
    const size_t mask = slots.size() - 1;
    size_t k = (reinterpret_cast<uintptr_t>(item) >> 4) * 0x9E3779B97F4A7C15ULL >> 20 & mask;
    while (slots[k].key != nullptr && slots[k].key != item) k = (k + 1) & mask;
    if (slots[k].key == nullptr) {
      Slot slot{item, -1, 0};
      if (!IsMissingObject(item)) {
        PyObject* text = item;
        if (!PyUnicode_Check(item)) {
          converted.push_back(py::str(item));
          text = converted.back().ptr();
        }
        Py_ssize_t len = 0;
        const char* utf8 = PyUnicode_AsUTF8AndSize(text, &len);
        if (utf8 == nullptr) throw py::error_already_set();
        slot.offset = static_cast<int64_t>(bytes.size());
        slot.len = static_cast<size_t>(len);
        bytes.append(utf8, static_cast<size_t>(len));
      }
      slots[k] = slot;
      if (2 * ++used > slots.size()) {  // grow: rehash by address
        std::vector<Slot> old(slots.size() * 2);
        old.swap(slots);
        for (const Slot& s : old) {
          if (s.key == nullptr) continue;
          size_t j = (reinterpret_cast<uintptr_t>(s.key) >> 4) * 0x9E3779B97F4A7C15ULL >> 20 &
                     (slots.size() - 1);
          while (slots[j].key != nullptr) j = (j + 1) & (slots.size() - 1);
          slots[j] = s;
        }
        k = 0;
        while (slots[k].key != item) ++k;
      }
    }
    const Slot& slot = slots[k];
    if (slot.offset < 0) {
      column.AppendNull();
    } else {
      column.AppendString(
          std::string_view(bytes).substr(static_cast<size_t>(slot.offset), slot.len));
    }
  }
  return column;
}

// One column from Python. kind: "float", "int", "bool", "timestamp" (int64 microseconds),
// "string"; `mask` (optional, bool array) marks nulls, and NaN is null for floats (pandas'
// missing value). Numeric arrays are borrowed: `keep` takes them.
data::Column ColumnFromPython(const std::string& name, const std::string& kind,
                              const py::handle& values, const py::handle& mask,
                              std::vector<py::object>* keep) {
  auto type = TakeData(data::DataTypeFromName(kind));
  if (type == data::DataType::kString) {
    return StringsFromPython(name, values);
  }
  py::array_t<bool, py::array::c_style | py::array::forcecast> nulls;
  const bool* null_at = nullptr;
  if (!mask.is_none()) {
    nulls = py::array_t<bool, py::array::c_style | py::array::forcecast>::ensure(mask);
    if (!nulls) throw py::type_error("column " + name + ": the null mask must be a bool array");
    null_at = nulls.data();
  }
  auto borrow = [&](auto array, const char* what) {
    if (!array) throw py::type_error("column " + name + ": expected " + what);
    if (array.ndim() != 1) throw py::value_error("column " + name + ": expected one dimension");
    const size_t n = static_cast<size_t>(array.size());
    if (null_at != nullptr && static_cast<size_t>(nulls.size()) != n) {
      throw py::value_error("column " + name + ": the null mask and the values differ in length");
    }
    auto validity = ValidityOf(array.data(), n, null_at);
    data::Column column = data::Column::Borrow(name, type, array.data(), n, std::move(validity));
    keep->push_back(std::move(array));
    return column;
  };
  switch (type) {
    case data::DataType::kFloat64:
      return borrow(py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(values),
                    "a numeric array");
    case data::DataType::kInt64:
    case data::DataType::kTimestamp:
      return borrow(py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(values),
                    "an integer array");
    case data::DataType::kBool:
      // numpy's bool is one byte holding 0 or 1: the layout Column keeps for kBool.
      return borrow(py::array_t<bool, py::array::c_style | py::array::forcecast>::ensure(values),
                    "a boolean array");
    case data::DataType::kString:
      break;
  }
  throw py::type_error("column " + name + ": unknown kind " + kind);
}

// columns: a list of (name, kind, values, mask) tuples of equal length.
PyTable TableFromPython(const py::list& columns) {
  PyTable out;
  size_t rows = 0;
  for (const py::handle& c : columns) {
    auto t = c.cast<py::tuple>();
    data::Column column =
        ColumnFromPython(t[0].cast<std::string>(), t[1].cast<std::string>(), t[2], t[3], &out.keep);
    if (!out.table.columns.empty() && column.size() != rows) {
      throw py::value_error("column " + column.name() + " has " + std::to_string(column.size()) +
                            " values, the others " + std::to_string(rows));
    }
    rows = column.size();
    out.table.columns.push_back(std::move(column));
  }
  return out;
}

std::shared_ptr<const data::Suite> SuiteFrom(const std::string& text, bool is_path) {
  auto suite = is_path ? data::LoadSuiteFile(text) : data::ParseSuite(text);
  return std::make_shared<const data::Suite>(TakeData(std::move(suite)));
}

std::string ValidateTable(const py::list& columns, const std::string& suite_text, bool is_path,
                          const std::string& source) {
  auto suite = SuiteFrom(suite_text, is_path);
  PyTable table = TableFromPython(columns);
  data::CsvReadResult data;
  data.table = std::move(table.table);
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

// One side of a drift report: Python columns (a list of tuples), a CSV path, or (reference
// only) the path of a stored drift reference.
struct DriftSide {
  std::optional<PyTable> columns;
  std::optional<data::CsvReadResult> csv;
  std::optional<data::DriftReference> stored;
  std::string name;
  const data::Table& table() const { return columns ? columns->table : csv->table; }
};

DriftSide SideFrom(const py::object& value, bool reference) {
  DriftSide side;
  if (py::isinstance<py::str>(value)) {
    side.name = value.cast<std::string>();
    py::gil_scoped_release release;
    auto read = data::ReadDriftReferenceFile(side.name);
    if (!read.ok()) throw py::value_error(read.status().message());  // as a CSV read failure
    if (auto stored = std::move(*read)) {
      if (!reference) {
        throw py::value_error(side.name + " is a drift reference: pass it as the reference");
      }
      side.stored = std::move(*stored);
    } else {
      side.csv = TakeData(data::ReadCsvFile(side.name, data::CsvOptions{}));
    }
    return side;
  }
  side.name = reference ? "reference" : "current";
  side.columns = TableFromPython(value.cast<py::list>());
  return side;
}

std::string Drift(const py::object& reference, const py::object& current, const py::dict& options,
                  bool html) {
  drift::DriftOptions o = DriftOptionsFrom(options);
  DriftSide ref = SideFrom(reference, true);
  DriftSide cur = SideFrom(current, false);
  py::gil_scoped_release release;
  auto drift = TakeData(ref.stored ? data::ComputeTableDrift(*ref.stored, cur.table(), o, html)
                                   : data::ComputeTableDrift(ref.table(), cur.table(), o, html));
  return html ? data::DriftToHtml(drift, ref.name, cur.name) : data::DriftToJson(drift);
}

// Writes the drift reference of `data` (columns or a CSV path) to `path`; returns
// (rows, columns, bytes).
py::tuple SaveReference(const py::object& data, const std::string& path) {
  DriftSide side = SideFrom(data, false);
  std::string bytes;
  uint64_t rows = 0;
  size_t columns = 0;
  {
    py::gil_scoped_release release;
    const data::DriftReference reference = data::BuildDriftReference(side.table());
    rows = reference.rows;
    columns = reference.columns.size();
    bytes = data::EncodeDriftReference(reference);
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw py::value_error("cannot write " + path);
  return py::make_tuple(rows, columns, bytes.size());
}

}  // namespace

void RegisterDataBindings(py::module_& m) {
  m.def("validate_table", &ValidateTable, py::arg("columns"), py::arg("suite"),
        py::arg("suite_is_path"), py::arg("source"));
  m.def("validate_file", &ValidateFile, py::arg("path"), py::arg("suite"), py::arg("suite_is_path"),
        py::arg("html") = false);
  m.def("drift", &Drift, py::arg("reference"), py::arg("current"), py::arg("options"),
        py::arg("html") = false);
  m.def("save_reference", &SaveReference, py::arg("data"), py::arg("path"));
}

}  // namespace plinth::python
