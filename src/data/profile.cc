#include "data/profile.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "data/parallel.h"

namespace plinth::data {
namespace {

using nlohmann::json;

constexpr double kQuantiles[] = {0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0};
constexpr int kHistogramBins = 20;
constexpr size_t kTopValues = 20;

ColumnProfile EmptyProfile(const std::string& name, DataType type, const ProfileOptions& options) {
  ColumnProfile p;
  p.name = name;
  p.type = type;
  p.distinct = HyperLogLog(options.hll_precision);
  if (type == DataType::kInt64 || type == DataType::kFloat64 || type == DataType::kTimestamp) {
    p.quantiles.emplace(options.kll_k);
  }
  if (type == DataType::kInt64 || type == DataType::kBool || type == DataType::kString) {
    p.frequent.emplace(options.frequent_capacity);
  }
  return p;
}

// Misra–Gries over one block, keyed by values that outlive the block (views into the column's
// arena, or integers): an open-addressing table with no allocation per value. Its state
// (counters, total, error) becomes a FrequentItems summary when the block ends.
template <typename Key>
class BlockCounter {
 public:
  explicit BlockCounter(size_t capacity) : capacity_(capacity) {
    size_t size = 16;
    while (size < 4 * capacity_) {
      size <<= 1;
    }
    slots_.resize(size);
    mask_ = size - 1;
  }

  void Add(Key key, uint64_t hash) {
    ++total_;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.count == 0) {
        slot = {key, 1, hash};
        if (++size_ > capacity_) {
          Shrink();
        }
        return;
      }
      if (slot.hash == hash && slot.key == key) {
        ++slot.count;
        return;
      }
    }
  }

  template <typename ToText>
  FrequentItems Summary(ToText to_text) const {
    std::vector<std::pair<std::string, uint64_t>> counts;
    for (const Slot& slot : slots_) {
      if (slot.count != 0) {
        counts.emplace_back(to_text(slot.key), slot.count);
      }
    }
    return FrequentItems::FromCounts(capacity_, total_, error_, counts);
  }

 private:
  struct Slot {
    Key key{};
    uint64_t count = 0;  // 0: empty
    uint64_t hash = 0;
  };

  // Subtracts the (capacity+1)-th largest count from every counter and drops the empty ones.
  void Shrink() {
    std::vector<uint64_t> counts;
    counts.reserve(size_);
    for (const Slot& slot : slots_) {
      if (slot.count != 0) {
        counts.push_back(slot.count);
      }
    }
    auto nth = counts.begin() + static_cast<std::ptrdiff_t>(capacity_);
    std::nth_element(counts.begin(), nth, counts.end(), std::greater<>());
    const uint64_t cut = *nth;
    error_ += cut;
    std::vector<Slot> survivors;
    for (const Slot& slot : slots_) {
      if (slot.count > cut) {
        survivors.push_back({slot.key, slot.count - cut, slot.hash});
      }
    }
    std::fill(slots_.begin(), slots_.end(), Slot{});
    size_ = 0;
    for (const Slot& slot : survivors) {
      size_t i = slot.hash & mask_;
      while (slots_[i].count != 0) {
        i = (i + 1) & mask_;
      }
      slots_[i] = slot;
      ++size_;
    }
  }

  size_t capacity_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  uint64_t total_ = 0;
  uint64_t error_ = 0;
};

// Adds the moments of values[lo, hi) (two passes: exact enough to be compared with a
// whole-column computation at 1e-12) into `p` by Chan's update.
void MergeMoments(ColumnProfile* p, uint64_t n, double mean, double m2) {
  if (n == 0) {
    return;
  }
  if (p->numeric_count == 0) {
    p->mean = mean;
    p->m2 = m2;
    return;
  }
  const double na = static_cast<double>(p->numeric_count);
  const double nb = static_cast<double>(n);
  const double total = na + nb;
  const double delta = mean - p->mean;
  p->mean += delta * nb / total;
  p->m2 += m2 + delta * delta * na * nb / total;
}

void MergeMinMax(ColumnProfile* p, uint64_t n, double min, double max) {
  if (n == 0) {
    return;
  }
  if (p->numeric_count == 0) {
    p->min = min;
    p->max = max;
  } else {
    p->min = std::min(p->min, min);
    p->max = std::max(p->max, max);
  }
}

// Profiles rows [lo, hi) of one column.
ColumnProfile ProfileBlock(const Column& column, size_t lo, size_t hi,
                           const ProfileOptions& options) {
  ColumnProfile p = EmptyProfile(column.name(), column.type(), options);
  p.count = hi - lo;
  const DataType type = column.type();
  if (type == DataType::kString) {
    uint64_t min_len = std::numeric_limits<uint64_t>::max(), max_len = 0, total = 0, n = 0;
    BlockCounter<std::string_view> counter(options.frequent_capacity);
    for (size_t i = lo; i < hi; ++i) {
      if (!column.IsValid(i)) {
        ++p.null_count;
        continue;
      }
      std::string_view s = column.String(i);
      ++n;
      min_len = std::min<uint64_t>(min_len, s.size());
      max_len = std::max<uint64_t>(max_len, s.size());
      total += s.size();
      const uint64_t hash = HashBytes(s);
      p.distinct.Add(hash);
      counter.Add(s, hash);
    }
    p.frequent = counter.Summary([](std::string_view v) { return std::string(v); });
    if (n > 0) {
      p.min_length = min_len;
      p.max_length = max_len;
      p.total_length = total;
    }
    return p;
  }
  if (type == DataType::kBool) {
    uint64_t trues = 0, n = 0;
    for (size_t i = lo; i < hi; ++i) {
      if (!column.IsValid(i)) {
        ++p.null_count;
        continue;
      }
      ++n;
      trues += column.Bool(i) ? 1 : 0;
    }
    p.true_count = trues;
    if (trues > 0) {
      p.distinct.Add(HashInt64(1));
      p.frequent->Add("true", trues);
    }
    if (n > trues) {
      p.distinct.Add(HashInt64(0));
      p.frequent->Add("false", n - trues);
    }
    if (n > 0) {
      const double mean = static_cast<double>(trues) / static_cast<double>(n);
      const double m2 = static_cast<double>(trues) * (1 - mean) * (1 - mean) +
                        static_cast<double>(n - trues) * mean * mean;
      p.min = trues == n ? 1.0 : 0.0;
      p.max = trues > 0 ? 1.0 : 0.0;
      p.mean = mean;
      p.m2 = m2;
      p.numeric_count = n;
    }
    return p;
  }
  // int, float, timestamp
  double min = std::numeric_limits<double>::infinity();
  double max = -min;
  double sum = 0.0;
  uint64_t n = 0;
  BlockCounter<int64_t> counter(options.frequent_capacity);
  for (size_t i = lo; i < hi; ++i) {
    if (!column.IsValid(i)) {
      ++p.null_count;
      continue;
    }
    double v;
    if (type == DataType::kFloat64) {
      v = column.Float(i);
      if (!std::isfinite(v)) {
        ++p.infinite_count;
        p.distinct.Add(HashDouble(v));
        continue;
      }
      p.distinct.Add(HashDouble(v));
    } else {
      const int64_t x = column.Int(i);
      v = static_cast<double>(x);
      const uint64_t hash = HashInt64(static_cast<uint64_t>(x));
      p.distinct.Add(hash);
      if (type == DataType::kInt64) {
        counter.Add(x, hash);
      }
    }
    ++n;
    min = std::min(min, v);
    max = std::max(max, v);
    sum += v;
    p.quantiles->Add(v);
  }
  if (type == DataType::kInt64) {
    p.frequent = counter.Summary([](int64_t v) { return std::to_string(v); });
  }
  if (n == 0) {
    return p;
  }
  p.min = min;
  p.max = max;
  if (type != DataType::kTimestamp) {
    const double mean = sum / static_cast<double>(n);
    double m2 = 0.0;
    for (size_t i = lo; i < hi; ++i) {
      if (!column.IsValid(i)) {
        continue;
      }
      const double v = column.AsDouble(i);
      if (std::isfinite(v)) {
        m2 += (v - mean) * (v - mean);
      }
    }
    p.mean = mean;
    p.m2 = m2;
  }
  p.numeric_count = n;
  return p;
}

Status MergeColumn(ColumnProfile* into, const ColumnProfile& other) {
  if (into->type != other.type) {
    return InvalidArgument("column '" + into->name + "' is " +
                           std::string(DataTypeName(into->type)) + " on one side and " +
                           std::string(DataTypeName(other.type)) + " on the other");
  }
  const uint64_t ours_present = into->count - into->null_count;
  const uint64_t theirs_present = other.count - other.null_count;
  into->count += other.count;
  into->null_count += other.null_count;
  into->infinite_count += other.infinite_count;
  into->true_count += other.true_count;
  if (into->type == DataType::kString && theirs_present > 0) {
    into->min_length =
        ours_present == 0 ? other.min_length : std::min(into->min_length, other.min_length);
    into->max_length = std::max(into->max_length, other.max_length);
    into->total_length += other.total_length;
  }
  MergeMinMax(into, other.numeric_count, other.min, other.max);
  MergeMoments(into, other.numeric_count, other.mean, other.m2);
  into->numeric_count += other.numeric_count;
  PLINTH_RETURN_IF_ERROR(into->distinct.Merge(other.distinct));
  if (into->quantiles && other.quantiles) {
    PLINTH_RETURN_IF_ERROR(into->quantiles->Merge(*other.quantiles));
  }
  if (into->frequent && other.frequent) {
    into->frequent->Merge(*other.frequent);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// JSON

json Number(double v) {
  if (!std::isfinite(v)) {
    return nullptr;
  }
  return v;
}

std::string TimestampText(double micros) { return FormatTimestamp(static_cast<int64_t>(micros)); }

json ColumnToJson(const ColumnProfile& p) {
  json c;
  c["name"] = p.name;
  c["type"] = std::string(DataTypeName(p.type));
  c["count"] = p.count;
  c["null_count"] = p.null_count;
  c["distinct_estimate"] = std::round(p.DistinctEstimate());
  if (p.type == DataType::kString) {
    const uint64_t n = p.count - p.null_count;
    c["min_length"] = p.min_length;
    c["max_length"] = p.max_length;
    c["total_length"] = p.total_length;
    c["mean_length"] = n > 0 ? Number(static_cast<double>(p.total_length) / n) : json(nullptr);
  } else {
    c["numeric_count"] = p.numeric_count;
    if (p.type == DataType::kFloat64) {
      c["infinite_count"] = p.infinite_count;
    }
    if (p.type == DataType::kBool) {
      c["true_count"] = p.true_count;
    }
    const bool any = p.numeric_count > 0;
    if (p.type == DataType::kTimestamp) {
      c["min"] = any ? json(TimestampText(p.min)) : json(nullptr);
      c["max"] = any ? json(TimestampText(p.max)) : json(nullptr);
      c["min_micros"] = any ? Number(p.min) : json(nullptr);
      c["max_micros"] = any ? Number(p.max) : json(nullptr);
    } else {
      c["min"] = any ? Number(p.min) : json(nullptr);
      c["max"] = any ? Number(p.max) : json(nullptr);
      c["mean"] = any ? Number(p.mean) : json(nullptr);
      c["m2"] = any ? Number(p.m2) : json(nullptr);
      c["std"] = Number(p.StdDev());
    }
  }
  if (p.quantiles && p.quantiles->count() > 0) {
    json q = json::object();
    for (double level : kQuantiles) {
      char key[16];
      std::snprintf(key, sizeof(key), "%g", level);
      q[key] = Number(p.quantiles->Quantile(level));
    }
    c["quantiles"] = q;
    // Equal-width bins over [min, max], counts read from the sketch.
    const double lo = p.min, hi = p.max;
    json edges = json::array(), counts = json::array();
    if (hi > lo) {
      const auto items = p.quantiles->SortedWeighted();
      std::vector<uint64_t> bins(kHistogramBins, 0);
      for (const auto& [value, weight] : items) {
        int b = static_cast<int>((value - lo) / (hi - lo) * kHistogramBins);
        bins[static_cast<size_t>(std::clamp(b, 0, kHistogramBins - 1))] += weight;
      }
      for (int b = 0; b <= kHistogramBins; ++b) {
        edges.push_back(lo + (hi - lo) * b / kHistogramBins);
      }
      for (uint64_t count : bins) {
        counts.push_back(count);
      }
    } else {
      edges = json::array({lo, hi});
      counts.push_back(p.quantiles->count());
    }
    c["histogram"] = {{"edges", edges}, {"counts", counts}};
  }
  if (p.frequent) {
    json top = json::array();
    for (const auto& [value, count] : p.frequent->Top(kTopValues)) {
      top.push_back({{"value", value}, {"count", count}});
    }
    c["top_values"] = top;
    c["top_values_exact"] = p.frequent->max_error() == 0;
  }
  // The sketches, for merging a stored profile.
  json sketches;
  const auto& regs = p.distinct.registers();
  sketches["hll"] = {{"precision", p.distinct.precision()},
                     {"registers", Base64Encode(std::string_view(
                                       reinterpret_cast<const char*>(regs.data()), regs.size()))}};
  if (p.quantiles) {
    sketches["kll"] = {
        {"k", p.quantiles->k()}, {"n", p.quantiles->count()}, {"levels", p.quantiles->levels()}};
  }
  if (p.frequent) {
    json counters = json::array();
    for (const auto& [value, count] : p.frequent->Top(p.frequent->capacity())) {
      counters.push_back(json::array({value, count}));
    }
    sketches["frequent"] = {{"capacity", p.frequent->capacity()},
                            {"total", p.frequent->total()},
                            {"max_error", p.frequent->max_error()},
                            {"counters", counters}};
  }
  c["sketches"] = sketches;
  return c;
}

double NumberOr(const json& j, const char* key, double fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return fallback;
  }
  return it->get<double>();
}

Result<ColumnProfile> ColumnFromJson(const json& c) {
  ColumnProfile p;
  p.name = c.at("name").get<std::string>();
  PLINTH_ASSIGN_OR_RETURN(p.type, DataTypeFromName(c.at("type").get<std::string>()));
  p.count = c.at("count").get<uint64_t>();
  p.null_count = c.at("null_count").get<uint64_t>();
  if (p.type == DataType::kString) {
    p.min_length = c.value("min_length", uint64_t{0});
    p.max_length = c.value("max_length", uint64_t{0});
    p.total_length = c.value("total_length", uint64_t{0});
  } else {
    p.numeric_count = c.value("numeric_count", uint64_t{0});
    p.infinite_count = c.value("infinite_count", uint64_t{0});
    p.true_count = c.value("true_count", uint64_t{0});
    if (p.type == DataType::kTimestamp) {
      p.min = NumberOr(c, "min_micros", 0.0);
      p.max = NumberOr(c, "max_micros", 0.0);
    } else {
      p.min = NumberOr(c, "min", 0.0);
      p.max = NumberOr(c, "max", 0.0);
      p.mean = NumberOr(c, "mean", 0.0);
      p.m2 = NumberOr(c, "m2", 0.0);
    }
  }
  const json& sketches = c.at("sketches");
  const json& hll = sketches.at("hll");
  auto regs = Base64Decode(hll.at("registers").get<std::string>());
  if (!regs) {
    return InvalidArgument("column '" + p.name + "': HyperLogLog registers are not base64");
  }
  PLINTH_ASSIGN_OR_RETURN(
      p.distinct, HyperLogLog::FromRegisters(hll.at("precision").get<int>(),
                                             std::vector<uint8_t>(regs->begin(), regs->end())));
  if (sketches.contains("kll")) {
    const json& kll = sketches["kll"];
    PLINTH_ASSIGN_OR_RETURN(
        auto sketch,
        KllSketch::FromLevels(kll.at("k").get<int>(), kll.at("n").get<uint64_t>(),
                              kll.at("levels").get<std::vector<std::vector<double>>>()));
    p.quantiles = std::move(sketch);
  }
  if (sketches.contains("frequent")) {
    const json& f = sketches["frequent"];
    std::vector<std::pair<std::string, uint64_t>> counts;
    for (const json& counter : f.at("counters")) {
      counts.emplace_back(counter.at(0).get<std::string>(), counter.at(1).get<uint64_t>());
    }
    p.frequent =
        FrequentItems::FromCounts(f.at("capacity").get<size_t>(), f.at("total").get<uint64_t>(),
                                  f.at("max_error").get<uint64_t>(), counts);
  }
  return p;
}

}  // namespace

double ColumnProfile::StdDev() const {
  if (numeric_count < 2) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return std::sqrt(m2 / static_cast<double>(numeric_count - 1));
}

const ColumnProfile* DatasetProfile::Find(std::string_view name) const {
  for (const ColumnProfile& c : columns) {
    if (c.name == name) {
      return &c;
    }
  }
  return nullptr;
}

DatasetProfile ProfileTable(const Table& table, const ProfileOptions& options) {
  DatasetProfile profile;
  profile.row_count = table.num_rows();
  const size_t rows = table.num_rows();
  const size_t block = std::max<size_t>(options.block_rows, 1);
  const size_t blocks = std::max<size_t>(1, (rows + block - 1) / block);
  const size_t ncols = table.num_columns();
  std::vector<ColumnProfile> parts(ncols * blocks);
  ParallelFor(ncols * blocks, options.threads, [&](size_t task) {
    const size_t c = task / blocks;
    const size_t b = task % blocks;
    const size_t lo = std::min(rows, b * block);
    const size_t hi = std::min(rows, lo + block);
    parts[task] = ProfileBlock(table.columns[c], lo, hi, options);
  });
  profile.columns.resize(ncols);
  ParallelFor(ncols, options.threads, [&](size_t c) {
    ColumnProfile merged = std::move(parts[c * blocks]);
    for (size_t b = 1; b < blocks; ++b) {
      // Same column, same parameters: cannot fail.
      (void)MergeColumn(&merged, parts[c * blocks + b]);
    }
    profile.columns[c] = std::move(merged);
  });
  return profile;
}

Status MergeProfiles(DatasetProfile* into, const DatasetProfile& other) {
  for (const ColumnProfile& theirs : other.columns) {
    ColumnProfile* ours = nullptr;
    for (ColumnProfile& c : into->columns) {
      if (c.name == theirs.name) {
        ours = &c;
      }
    }
    if (ours == nullptr) {
      ColumnProfile added = theirs;
      added.count += into->row_count;
      added.null_count += into->row_count;
      into->columns.push_back(std::move(added));
      continue;
    }
    PLINTH_RETURN_IF_ERROR(MergeColumn(ours, theirs));
  }
  for (ColumnProfile& c : into->columns) {
    if (other.Find(c.name) == nullptr) {
      c.count += other.row_count;
      c.null_count += other.row_count;
    }
  }
  into->row_count += other.row_count;
  return Status::Ok();
}

std::string ProfileToJson(const DatasetProfile& profile, bool pretty) {
  json out;
  out["row_count"] = profile.row_count;
  out["column_count"] = profile.columns.size();
  json columns = json::array();
  for (const ColumnProfile& c : profile.columns) {
    columns.push_back(ColumnToJson(c));
  }
  out["columns"] = columns;
  return out.dump(pretty ? 2 : -1, ' ', false, json::error_handler_t::replace);
}

Result<DatasetProfile> ProfileFromJson(std::string_view text) {
  try {
    const json j = json::parse(text);
    DatasetProfile profile;
    profile.row_count = j.at("row_count").get<uint64_t>();
    for (const json& c : j.at("columns")) {
      PLINTH_ASSIGN_OR_RETURN(auto column, ColumnFromJson(c));
      profile.columns.push_back(std::move(column));
    }
    return profile;
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("not a profile: ") + e.what());
  }
}

}  // namespace plinth::data
