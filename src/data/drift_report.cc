#include "data/drift_report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/parallel.h"
#include "data/sketches.h"
#include "data/validate.h"

namespace plinth::data {
namespace {

using ordered_json = nlohmann::ordered_json;

constexpr int kNumericBins = 30;
constexpr size_t kMaxCategories = 20;

enum class Plan { kNumeric, kStrings, kBoolCodes, kText };

std::shared_ptr<const drift::NumericSample> NumericOf(const Column& col) {
  // Nulls (a 0 validity bit, or NaN in a float column) count as missing and are dropped.
  const std::span<const uint64_t> validity =
      col.null_count() == 0 ? std::span<const uint64_t>() : col.validity();
  if (col.type() == DataType::kFloat64) {
    return std::make_shared<const drift::NumericSample>(
        drift::NumericSample::FromValues(col.floats(), validity));
  }
  if (col.type() == DataType::kInt64) {
    return std::make_shared<const drift::NumericSample>(
        drift::NumericSample::FromInts(col.ints(), validity));
  }
  std::vector<double> values(col.size());
  for (size_t i = 0; i < col.size(); ++i) {
    values[i] = col.IsValid(i) ? col.AsDouble(i) : std::nan("");
  }
  return std::make_shared<const drift::NumericSample>(drift::NumericSample::FromValues(values));
}

std::shared_ptr<const drift::CategoricalSample> CategoricalOf(const Column& col, Plan plan) {
  const size_t n = col.size();
  if (plan == Plan::kBoolCodes) {
    std::vector<int64_t> codes(n);
    for (size_t i = 0; i < n; ++i) {
      codes[i] = col.IsValid(i) ? (col.Bool(i) ? 1 : 0) : -1;
    }
    return std::make_shared<const drift::CategoricalSample>(
        drift::CategoricalSample::FromCodes(codes));
  }
  // Counted here with an open-addressing table of views into the column (no allocation per
  // row; a free-text column has about as many categories as rows), then handed to the sample
  // as counts.
  std::vector<std::string> texts;
  if (col.type() != DataType::kString) {
    texts.resize(n);
    for (size_t i = 0; i < n; ++i) {
      if (col.IsValid(i)) {
        texts[i] = col.ToText(i);
      }
    }
  }
  struct Slot {
    std::string_view key;
    uint64_t hash = 0;
    uint64_t count = 0;  // 0: empty
  };
  std::vector<Slot> slots(64);
  size_t used = 0;
  uint64_t missing = 0;
  auto insert = [&](std::string_view key, uint64_t hash, uint64_t count) {
    const size_t mask = slots.size() - 1;
    for (size_t k = hash & mask;; k = (k + 1) & mask) {
      Slot& slot = slots[k];
      if (slot.count == 0) {
        slot = {key, hash, count};
        ++used;
        return;
      }
      if (slot.hash == hash && slot.key == key) {
        slot.count += count;
        return;
      }
    }
  };
  for (size_t i = 0; i < n; ++i) {
    if (!col.IsValid(i)) {
      ++missing;
      continue;
    }
    const std::string_view key = col.type() == DataType::kString ? col.String(i) : texts[i];
    if (2 * (used + 1) > slots.size()) {
      std::vector<Slot> old(slots.size() * 2);
      old.swap(slots);
      used = 0;
      for (const Slot& slot : old) {
        if (slot.count != 0) {
          insert(slot.key, slot.hash, slot.count);
        }
      }
    }
    insert(key, HashBytes(key), 1);
  }
  std::vector<std::string> labels;
  std::vector<uint64_t> counts;
  labels.reserve(used);
  counts.reserve(used);
  for (const Slot& slot : slots) {
    if (slot.count != 0) {
      labels.emplace_back(slot.key);
      counts.push_back(slot.count);
    }
  }
  // Unique labels with positive counts: FromCounts cannot fail here.
  auto sample = drift::CategoricalSample::FromCounts(std::move(labels), std::move(counts), missing);
  return std::make_shared<const drift::CategoricalSample>(std::move(*sample));
}

ColumnDistribution NumericDistribution(const drift::NumericSample& ref,
                                       const drift::NumericSample& cur) {
  ColumnDistribution d;
  d.numeric = true;
  if (ref.distinct() == 0 && cur.distinct() == 0) {
    return d;
  }
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const drift::NumericSample* s : {&ref, &cur}) {
    if (s->distinct() > 0) {
      lo = std::min(lo, s->values().front());
      hi = std::max(hi, s->values().back());
    }
  }
  const int bins = hi > lo ? kNumericBins : 1;
  for (int b = 0; b <= bins; ++b) {
    d.edges.push_back(hi > lo ? lo + (hi - lo) * b / bins : lo + b);
  }
  auto shares = [&](const drift::NumericSample& s) {
    std::vector<double> out(static_cast<size_t>(bins), 0.0);
    if (s.size() == 0) {
      return out;
    }
    for (size_t i = 0; i < s.distinct(); ++i) {
      int b = hi > lo ? static_cast<int>((s.values()[i] - lo) / (hi - lo) * bins) : 0;
      out[static_cast<size_t>(std::clamp(b, 0, bins - 1))] += static_cast<double>(s.counts()[i]);
    }
    for (double& v : out) {
      v /= static_cast<double>(s.size());
    }
    return out;
  };
  d.reference = shares(ref);
  d.current = shares(cur);
  return d;
}

// Shares of the most frequent categories. Both samples list their categories in ascending
// key order, so one merge walk joins them (a free-text column can have a million categories).
ColumnDistribution CategoricalDistribution(const drift::CategoricalSample& ref,
                                           const drift::CategoricalSample& cur, bool bools) {
  ColumnDistribution d;
  d.numeric = false;
  const bool codes = ref.key_kind() == drift::CategoricalSample::KeyKind::kInteger;
  struct Entry {
    size_t ref_index;  // SIZE_MAX: absent from the reference
    size_t cur_index;  // SIZE_MAX: absent from the current data
    uint64_t ref_count;
    uint64_t cur_count;
  };
  std::vector<Entry> entries;
  entries.reserve(std::max(ref.distinct(), cur.distinct()));
  size_t i = 0, j = 0;
  while (i < ref.distinct() || j < cur.distinct()) {
    int order;
    if (i == ref.distinct()) {
      order = 1;
    } else if (j == cur.distinct()) {
      order = -1;
    } else if (codes) {
      order = ref.codes()[i] < cur.codes()[j] ? -1 : (ref.codes()[i] > cur.codes()[j] ? 1 : 0);
    } else {
      const int c = ref.labels()[i].compare(cur.labels()[j]);
      order = c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (order < 0) {
      entries.push_back({i, SIZE_MAX, ref.counts()[i], 0});
      ++i;
    } else if (order > 0) {
      entries.push_back({SIZE_MAX, j, 0, cur.counts()[j]});
      ++j;
    } else {
      entries.push_back({i, j, ref.counts()[i], cur.counts()[j]});
      ++i, ++j;
    }
  }
  const size_t shown = std::min(entries.size(), kMaxCategories);
  std::partial_sort(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(shown),
                    entries.end(), [](const Entry& a, const Entry& b) {
                      return a.ref_count + a.cur_count > b.ref_count + b.cur_count;
                    });
  entries.resize(shown);
  for (const Entry& e : entries) {
    const drift::CategoricalSample& s = e.ref_index != SIZE_MAX ? ref : cur;
    const size_t k = e.ref_index != SIZE_MAX ? e.ref_index : e.cur_index;
    if (codes) {
      const int64_t code = s.codes()[k];
      d.labels.push_back(bools ? (code ? "true" : "false") : std::to_string(code));
    } else {
      d.labels.push_back(s.labels()[k]);
    }
    d.reference.push_back(ref.size() ? static_cast<double>(e.ref_count) / ref.size() : 0.0);
    d.current.push_back(cur.size() ? static_cast<double>(e.cur_count) / cur.size() : 0.0);
  }
  return d;
}

ordered_json Finite(double v) {
  if (!std::isfinite(v)) {
    return nullptr;
  }
  return v;
}

std::string Fixed(double v, int digits = 4) {
  if (std::isnan(v)) {
    return "—";
  }
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
  return buf;
}

std::string Svg(const ColumnDistribution& d) {
  const size_t n = d.reference.size();
  if (n == 0) {
    return "";
  }
  constexpr double kWidth = 420, kHeight = 110, kPlot = 90;
  double top = 0.0;
  for (size_t i = 0; i < n; ++i) {
    top = std::max({top, d.reference[i], d.current[i]});
  }
  if (top <= 0.0) {
    top = 1.0;
  }
  const double slot = kWidth / static_cast<double>(n);
  const double bar = std::max(1.0, slot * 0.42);
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Fixed(kWidth) +
                    "\" height=\"" + Fixed(kHeight) + "\" viewBox=\"0 0 " + Fixed(kWidth) + " " +
                    Fixed(kHeight) + "\" role=\"img\">";
  svg += "<line x1=\"0\" y1=\"" + Fixed(kPlot) + "\" x2=\"" + Fixed(kWidth) + "\" y2=\"" +
         Fixed(kPlot) + "\" stroke=\"#999\"/>";
  for (size_t i = 0; i < n; ++i) {
    const std::string what =
        d.numeric ? "[" + Fixed(d.edges[i], 5) + ", " + Fixed(d.edges[i + 1], 5) + ")"
                  : d.labels[i];
    const double x = slot * static_cast<double>(i);
    for (int side = 0; side < 2; ++side) {
      const double share = side == 0 ? d.reference[i] : d.current[i];
      const double h = share / top * (kPlot - 4);
      svg += "<rect x=\"" + Fixed(x + side * bar + slot * 0.08, 6) + "\" y=\"" +
             Fixed(kPlot - h, 6) + "\" width=\"" + Fixed(bar, 6) + "\" height=\"" + Fixed(h, 6) +
             "\" fill=\"" + (side == 0 ? "#4C78A8" : "#F58518") + "\"><title>" + HtmlEscape(what) +
             (side == 0 ? " reference: " : " current: ") + Fixed(100 * share, 3) +
             "%</title></rect>";
    }
  }
  const std::string left = d.numeric ? Fixed(d.edges.front(), 5) : d.labels.front();
  const std::string right = d.numeric ? Fixed(d.edges.back(), 5) : d.labels.back();
  svg += "<text x=\"0\" y=\"106\" font-size=\"10\" fill=\"#555\">" + HtmlEscape(left) + "</text>";
  svg += "<text x=\"" + Fixed(kWidth) + "\" y=\"106\" font-size=\"10\" fill=\"#555\" " +
         "text-anchor=\"end\">" + HtmlEscape(right) + "</text>";
  svg += "</svg>";
  return svg;
}

}  // namespace

namespace {

bool IsNumericType(DataType t) { return t == DataType::kInt64 || t == DataType::kFloat64; }

// How a column pair is sampled: numeric when both sides are numbers, as strings or bool codes
// when both sides are, else as the text of each value on both sides.
Plan PlanFor(DataType a, DataType b) {
  if (IsNumericType(a) && IsNumericType(b)) {
    return Plan::kNumeric;
  }
  if (a == DataType::kString && b == DataType::kString) {
    return Plan::kStrings;
  }
  if (a == DataType::kBool && b == DataType::kBool) {
    return Plan::kBoolCodes;
  }
  return Plan::kText;
}

// Runs the tests on sampled columns and, when asked, draws their distributions.
Status Finish(std::vector<drift::DriftColumn>& columns, const std::vector<Plan>& plans,
              const drift::DriftOptions& options, bool distributions, TableDrift* out) {
  PLINTH_ASSIGN_OR_RETURN(out->result, drift::ComputeDrift(columns, options));
  if (!distributions) {
    return Status::Ok();
  }
  out->distributions.resize(columns.size());
  ParallelFor(columns.size(), options.threads, [&](size_t i) {
    const drift::DriftColumn& c = columns[i];
    out->distributions[i] =
        c.kind == drift::ColumnKind::kNumerical
            ? NumericDistribution(*c.numeric_reference, *c.numeric_current)
            : CategoricalDistribution(*c.categorical_reference, *c.categorical_current,
                                      plans[i] == Plan::kBoolCodes);
  });
  return Status::Ok();
}

// A reference column's categories as the text of its values, for a current column of another
// type (the kText plan): what ToText gives for the same values.
std::shared_ptr<const drift::CategoricalSample> TextOf(const DriftReferenceColumn& ref) {
  std::vector<std::string> labels;
  std::vector<uint64_t> counts;
  uint64_t missing = 0;
  if (ref.numeric) {
    const drift::NumericSample& s = *ref.numeric;
    missing = s.missing();
    for (size_t i = 0; i < s.distinct(); ++i) {
      if (ref.type == DataType::kInt64) {
        labels.push_back(std::to_string(static_cast<int64_t>(s.values()[i])));
      } else {
        char buf[32];
        auto res = std::to_chars(buf, buf + sizeof(buf), s.values()[i]);
        labels.emplace_back(buf, res.ptr);
      }
      counts.push_back(s.counts()[i]);
    }
  } else {
    const drift::CategoricalSample& s = *ref.categorical;
    if (s.key_kind() == drift::CategoricalSample::KeyKind::kString) {
      return ref.categorical;
    }
    missing = s.missing();
    for (size_t i = 0; i < s.distinct(); ++i) {
      labels.push_back(s.codes()[i] != 0 ? "true" : "false");
      counts.push_back(s.counts()[i]);
    }
  }
  auto sample = drift::CategoricalSample::FromCounts(std::move(labels), std::move(counts), missing);
  return std::make_shared<const drift::CategoricalSample>(std::move(*sample));
}

}  // namespace

Result<TableDrift> ComputeTableDrift(const Table& reference, const Table& current,
                                     const drift::DriftOptions& options, bool distributions) {
  PLINTH_RETURN_IF_ERROR(options.Validate());
  TableDrift out;
  out.drift_share_threshold = options.drift_share;
  out.reference_rows = reference.num_rows();
  out.current_rows = current.num_rows();
  struct Pair {
    const Column* ref;
    const Column* cur;
    Plan plan;
  };
  std::vector<Pair> pairs;
  for (const Column& ref : reference.columns) {
    const int index = current.FindColumn(ref.name());
    if (index < 0) {
      out.skipped.push_back(ref.name() + ": not in the current data");
      continue;
    }
    const Column& cur = current.columns[static_cast<size_t>(index)];
    if (ref.type() == DataType::kTimestamp || cur.type() == DataType::kTimestamp) {
      out.skipped.push_back(ref.name() + ": timestamp columns are not tested");
      continue;
    }
    pairs.push_back({&ref, &cur, PlanFor(ref.type(), cur.type())});
  }
  for (const Column& cur : current.columns) {
    if (reference.FindColumn(cur.name()) < 0) {
      out.skipped.push_back(cur.name() + ": not in the reference data");
    }
  }
  if (pairs.empty()) {
    return InvalidArgument("the reference and current data share no column to compare");
  }

  std::vector<drift::DriftColumn> columns(pairs.size());
  std::vector<Plan> plans(pairs.size());
  ParallelFor(pairs.size() * 2, options.threads, [&](size_t task) {
    const Pair& pair = pairs[task / 2];
    const Column& col = task % 2 == 0 ? *pair.ref : *pair.cur;
    drift::DriftColumn& column = columns[task / 2];
    if (pair.plan == Plan::kNumeric) {
      auto sample = NumericOf(col);
      (task % 2 == 0 ? column.numeric_reference : column.numeric_current) = std::move(sample);
    } else {
      auto sample = CategoricalOf(col, pair.plan);
      (task % 2 == 0 ? column.categorical_reference : column.categorical_current) =
          std::move(sample);
    }
  });
  for (size_t i = 0; i < pairs.size(); ++i) {
    columns[i].name = pairs[i].ref->name();
    columns[i].kind = pairs[i].plan == Plan::kNumeric ? drift::ColumnKind::kNumerical
                                                      : drift::ColumnKind::kCategorical;
    plans[i] = pairs[i].plan;
  }
  PLINTH_RETURN_IF_ERROR(Finish(columns, plans, options, distributions, &out));
  return out;
}

DriftReference BuildDriftReference(const Table& table, int threads) {
  DriftReference ref;
  ref.rows = table.num_rows();
  std::vector<const Column*> kept;
  for (const Column& col : table.columns) {
    if (col.type() == DataType::kTimestamp) {
      ref.skipped.push_back(col.name() + ": timestamp columns are not tested");
      continue;
    }
    kept.push_back(&col);
  }
  ref.columns.resize(kept.size());
  ParallelFor(kept.size(), threads, [&](size_t i) {
    const Column& col = *kept[i];
    DriftReferenceColumn& out = ref.columns[i];
    out.name = col.name();
    out.type = col.type();
    if (IsNumericType(col.type())) {
      out.numeric = NumericOf(col);
    } else {
      out.categorical =
          CategoricalOf(col, col.type() == DataType::kBool ? Plan::kBoolCodes : Plan::kStrings);
    }
  });
  return ref;
}

namespace {

constexpr std::string_view kReferenceMagic = "PLINTH-DRIFT-REFERENCE 1\n";

void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

void PutBytes(std::string& out, std::string_view bytes) {
  PutU64(out, bytes.size());
  out.append(bytes);
}

bool GetU64(std::string_view& in, uint64_t* v) {
  if (in.size() < 8) {
    return false;
  }
  *v = 0;
  for (int i = 0; i < 8; ++i) {
    *v |= static_cast<uint64_t>(static_cast<uint8_t>(in[static_cast<size_t>(i)])) << (8 * i);
  }
  in.remove_prefix(8);
  return true;
}

bool GetBytes(std::string_view& in, std::string_view* bytes) {
  uint64_t n = 0;
  if (!GetU64(in, &n) || in.size() < n) {
    return false;
  }
  *bytes = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

}  // namespace

std::string EncodeDriftReference(const DriftReference& reference) {
  std::string out(kReferenceMagic);
  PutU64(out, reference.rows);
  PutU64(out, reference.skipped.size());
  for (const std::string& s : reference.skipped) {
    PutBytes(out, s);
  }
  PutU64(out, reference.columns.size());
  for (const DriftReferenceColumn& c : reference.columns) {
    PutBytes(out, c.name);
    out.push_back(static_cast<char>(c.type));
    PutBytes(out, c.numeric ? c.numeric->Encode() : c.categorical->Encode());
  }
  return out;
}

bool IsDriftReference(std::string_view head) {
  return head.substr(0, kReferenceMagic.size()) == kReferenceMagic;
}

Result<DriftReference> DecodeDriftReference(std::string_view bytes) {
  if (!IsDriftReference(bytes)) {
    return InvalidArgument("not a plinth drift reference (it starts with another header)");
  }
  std::string_view in = bytes.substr(kReferenceMagic.size());
  const Status bad = InvalidArgument("drift reference is truncated or damaged");
  DriftReference ref;
  uint64_t skipped = 0, columns = 0;
  if (!GetU64(in, &ref.rows) || !GetU64(in, &skipped) || skipped > in.size() / 8) {
    return bad;
  }
  for (uint64_t i = 0; i < skipped; ++i) {
    std::string_view s;
    if (!GetBytes(in, &s)) {
      return bad;
    }
    ref.skipped.emplace_back(s);
  }
  if (!GetU64(in, &columns) || columns > in.size() / 17) {
    return bad;
  }
  ref.columns.resize(columns);
  std::vector<std::string_view> samples(columns);
  for (uint64_t i = 0; i < columns; ++i) {
    std::string_view name;
    if (!GetBytes(in, &name) || in.empty()) {
      return bad;
    }
    ref.columns[i].name = std::string(name);
    const auto type = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    if (type > static_cast<uint8_t>(DataType::kTimestamp) ||
        type == static_cast<uint8_t>(DataType::kTimestamp) || !GetBytes(in, &samples[i])) {
      return bad;
    }
    ref.columns[i].type = static_cast<DataType>(type);
  }
  if (!in.empty()) {
    return bad;
  }
  // Samples decode in parallel: a wide reference is mostly sorted numeric values.
  std::vector<Status> errors(columns, Status::Ok());
  ParallelFor(columns, 0, [&](size_t i) {
    DriftReferenceColumn& c = ref.columns[i];
    if (IsNumericType(c.type)) {
      auto s = drift::NumericSample::Decode(samples[i]);
      if (s.ok()) {
        c.numeric = std::make_shared<const drift::NumericSample>(std::move(*s));
      } else {
        errors[i] = s.status();
      }
    } else {
      auto s = drift::CategoricalSample::Decode(samples[i]);
      if (s.ok()) {
        c.categorical = std::make_shared<const drift::CategoricalSample>(std::move(*s));
      } else {
        errors[i] = s.status();
      }
    }
  });
  for (size_t i = 0; i < columns; ++i) {
    if (!errors[i].ok()) {
      return InvalidArgument("drift reference column '" + ref.columns[i].name +
                             "': " + errors[i].message());
    }
  }
  return ref;
}

Result<std::optional<DriftReference>> ReadDriftReferenceFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::error_code ec;
    return Status(std::filesystem::exists(path, ec) ? StatusCode::kInternal : StatusCode::kNotFound,
                  "cannot open " + path);
  }
  std::string head(64, '\0');
  file.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(file.gcount()));
  if (!IsDriftReference(head)) {
    return std::optional<DriftReference>();
  }
  std::ostringstream all;
  file.clear();
  file.seekg(0);
  all << file.rdbuf();
  if (!file && !file.eof()) {
    return Internal("cannot read " + path);
  }
  auto decoded = DecodeDriftReference(all.view());
  if (!decoded.ok()) {
    return InvalidArgument(path + ": " + decoded.status().message());
  }
  return std::optional<DriftReference>(std::move(*decoded));
}

Result<TableDrift> ComputeTableDrift(const DriftReference& reference, const Table& current,
                                     const drift::DriftOptions& options, bool distributions) {
  PLINTH_RETURN_IF_ERROR(options.Validate());
  TableDrift out;
  out.drift_share_threshold = options.drift_share;
  out.reference_rows = reference.rows;
  out.current_rows = current.num_rows();
  out.skipped = reference.skipped;
  struct Pair {
    const DriftReferenceColumn* ref;
    const Column* cur;
    Plan plan;
  };
  std::vector<Pair> pairs;
  for (const DriftReferenceColumn& ref : reference.columns) {
    const int index = current.FindColumn(ref.name);
    if (index < 0) {
      out.skipped.push_back(ref.name + ": not in the current data");
      continue;
    }
    const Column& cur = current.columns[static_cast<size_t>(index)];
    if (cur.type() == DataType::kTimestamp) {
      out.skipped.push_back(ref.name + ": timestamp columns are not tested");
      continue;
    }
    pairs.push_back({&ref, &cur, PlanFor(ref.type, cur.type())});
  }
  for (const Column& cur : current.columns) {
    const bool known =
        std::any_of(reference.columns.begin(), reference.columns.end(),
                    [&](const DriftReferenceColumn& r) { return r.name == cur.name(); }) ||
        std::any_of(reference.skipped.begin(), reference.skipped.end(),
                    [&](const std::string& s) { return s.starts_with(cur.name() + ": "); });
    if (!known) {
      out.skipped.push_back(cur.name() + ": not in the reference data");
    }
  }
  if (pairs.empty()) {
    return InvalidArgument("the reference and current data share no column to compare");
  }
  std::vector<drift::DriftColumn> columns(pairs.size());
  std::vector<Plan> plans(pairs.size());
  ParallelFor(pairs.size(), options.threads, [&](size_t i) {
    const Pair& pair = pairs[i];
    drift::DriftColumn& column = columns[i];
    column.name = pair.ref->name;
    plans[i] = pair.plan;
    if (pair.plan == Plan::kNumeric) {
      column.kind = drift::ColumnKind::kNumerical;
      column.numeric_reference = pair.ref->numeric;
      column.numeric_current = NumericOf(*pair.cur);
      return;
    }
    column.kind = drift::ColumnKind::kCategorical;
    column.categorical_reference =
        pair.plan == Plan::kText ? TextOf(*pair.ref) : pair.ref->categorical;
    column.categorical_current = CategoricalOf(*pair.cur, pair.plan);
  });
  PLINTH_RETURN_IF_ERROR(Finish(columns, plans, options, distributions, &out));
  return out;
}

std::string DriftToJson(const TableDrift& drift) {
  ordered_json out;
  out["dataset_drift"] = drift.result.dataset_drift;
  out["drift_share"] = drift.result.drifted_share;
  out["drift_share_threshold"] = drift.drift_share_threshold;
  out["number_of_columns"] = drift.result.columns.size();
  out["number_of_drifted_columns"] = drift.result.drifted_columns;
  out["reference_rows"] = drift.reference_rows;
  out["current_rows"] = drift.current_rows;
  ordered_json columns = ordered_json::object();
  for (size_t i = 0; i < drift.result.columns.size(); ++i) {
    const drift::ColumnDrift& c = drift.result.columns[i];
    const drift::TestResult& t = c.result;
    columns[c.name] = {
        {"test", std::string(drift::MethodId(t.method))},
        {"statistic", Finite(t.statistic)},
        {"p_value", Finite(t.p_value)},
        {"score", Finite(t.score)},
        {"threshold", t.threshold},
        {"drifted", t.drifted},
        {"column_type", c.kind == drift::ColumnKind::kNumerical ? "num" : "cat"},
        {"default_test", c.default_method},
    };
    if (i < drift.distributions.size()) {
      const ColumnDistribution& d = drift.distributions[i];
      ordered_json dist = {{"kind", d.numeric ? "histogram" : "categories"}};
      if (d.numeric) {
        dist["edges"] = d.edges;
      } else {
        dist["labels"] = d.labels;
      }
      dist["reference"] = d.reference;
      dist["current"] = d.current;
      columns[c.name]["distribution"] = std::move(dist);
    }
  }
  out["columns"] = columns;
  out["skipped"] = drift.skipped;
  return out.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

std::string DriftToHtml(const TableDrift& drift, std::string_view reference_name,
                        std::string_view current_name) {
  const drift::DatasetDrift& r = drift.result;
  std::string html =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Data drift</title><style>"
      "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
      "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;"
      "text-align:left;vertical-align:middle}th{background:#f4f4f4}"
      ".yes{color:#cf222e;font-weight:600}.no{color:#1a7f37}"
      ".badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff}"
      ".badge.yes{background:#cf222e;color:#fff}.badge.no{background:#1a7f37;color:#fff}"
      ".key span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}"
      "</style></head><body><h1>Data drift</h1>";
  html += "<p>Reference <b>" + HtmlEscape(reference_name) + "</b> (" +
          std::to_string(drift.reference_rows) + " rows) against current <b>" +
          HtmlEscape(current_name) + "</b> (" + std::to_string(drift.current_rows) + " rows).</p>";
  html += "<p><span class=\"badge " +
          std::string(r.dataset_drift ? "yes\">dataset drift" : "no\">no dataset drift") +
          "</span> " + std::to_string(r.drifted_columns) + " of " +
          std::to_string(r.columns.size()) + " columns drifted (share " +
          Fixed(r.drifted_share, 3) + ", threshold " + Fixed(drift.drift_share_threshold, 3) +
          ").</p>";
  html +=
      "<p class=\"key\"><span style=\"background:#4C78A8\"></span>reference"
      "<span style=\"background:#F58518\"></span>current</p>";
  html +=
      "<table><tr><th>column</th><th>type</th><th>test</th><th>statistic</th>"
      "<th>p-value</th><th>score</th><th>threshold</th><th>drift</th>"
      "<th>distribution</th></tr>";
  for (size_t i = 0; i < r.columns.size(); ++i) {
    const drift::ColumnDrift& c = r.columns[i];
    const drift::TestResult& t = c.result;
    html += "<tr><td>" + HtmlEscape(c.name) + "</td><td>" +
            (c.kind == drift::ColumnKind::kNumerical ? "num" : "cat") + "</td><td>" +
            HtmlEscape(drift::MethodDisplayName(t.method)) + "</td><td>" + Fixed(t.statistic) +
            "</td><td>" + Fixed(t.p_value) + "</td><td>" + Fixed(t.score) + "</td><td>" +
            Fixed(t.threshold) + "</td><td class=\"" + (t.drifted ? "yes\">drift" : "no\">no") +
            "</td><td>" + Svg(drift.distributions[i]) + "</td></tr>";
  }
  html += "</table>";
  if (!drift.skipped.empty()) {
    html += "<h2>Not compared</h2><ul>";
    for (const std::string& s : drift.skipped) {
      html += "<li>" + HtmlEscape(s) + "</li>";
    }
    html += "</ul>";
  }
  html += "</body></html>\n";
  return html;
}

}  // namespace plinth::data
