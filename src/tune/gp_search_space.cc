#include "tune/gp_search_space.h"

#include <algorithm>
#include <cmath>

namespace plinth::tune {

GpSearchSpace::GpSearchSpace(const SearchSpace& space) {
  for (const SearchSpaceEntry& e : space) {
    const Distribution& d = e.distribution;
    Entry entry{d, d.is_categorical(), !d.is_categorical() && d.log(), 0.0, 0.0, 0.0};
    if (entry.categorical) {
      entry.high = static_cast<double>(d.choices().size());
      entry.step = 1.0;
    } else {
      entry.low = d.low();
      entry.high = d.high();
      // An int always has a step (1 under log): it is searched on its grid.
      entry.step = d.kind() == DistributionKind::kInt ? d.step() : (d.has_step() ? d.step() : 0.0);
    }
    is_categorical_.push_back(entry.categorical);
    (entry.step > 0.0 ? discrete_ : continuous_).push_back(entries_.size());
    entries_.push_back(std::move(entry));
  }
  for (size_t i : discrete_) {
    const Entry& e = entries_[i];
    std::vector<double> grid;
    if (e.categorical) {
      for (double c = 0; c < e.high; ++c) grid.push_back(c);
    } else {
      // numpy.arange(low, high + step/2, step): low + k·step.
      const size_t count = static_cast<size_t>(std::ceil((e.high + 0.5 * e.step - e.low) / e.step));
      for (size_t k = 0; k < count; ++k) grid.push_back(Normalize(i, e.low + k * e.step));
    }
    choices_.push_back(std::move(grid));
  }
}

double GpSearchSpace::Normalize(size_t i, double v) const {
  const Entry& e = entries_[i];
  if (e.categorical) return v;
  double low = e.low - 0.5 * e.step, high = e.high + 0.5 * e.step;
  if (e.log) {
    low = std::log(low);
    high = std::log(high);
    v = std::log(v);
  }
  if (high == low) return 0.5;
  return (v - low) / (high - low);
}

namespace {
double UnnormalizeRaw(bool log, double low, double high, double step, double c) {
  low -= 0.5 * step;
  high += 0.5 * step;
  if (log) {
    low = std::log(low);
    high = std::log(high);
  }
  double v = c * (high - low) + low;
  return log ? std::exp(v) : v;
}
}  // namespace

double GpSearchSpace::Unnormalize(size_t i, double c) const {
  const Entry& e = entries_[i];
  if (e.categorical) return c;
  double v = std::clamp(UnnormalizeRaw(e.log, e.low, e.high, e.step, c), e.low, e.high);
  if (e.distribution.kind() == DistributionKind::kInt) v = std::nearbyint(v);
  return v;
}

double GpSearchSpace::Round(size_t i, double c) const {
  const Entry& e = entries_[i];
  if (e.step == 0.0) return c;
  double v = UnnormalizeRaw(e.log, e.low, e.high, e.step, c);
  // Python's floor division: (v − low + step/2) // step.
  v = std::clamp(std::floor((v - e.low + 0.5 * e.step) / e.step) * e.step + e.low, e.low, e.high);
  return Normalize(i, v);
}

std::vector<double> GpSearchSpace::SamplePoints(size_t n, RandomState* rng) const {
  const size_t d = dim();
  std::vector<double> out(n * d);
  for (size_t p = 0; p < n; ++p) {
    for (size_t i = 0; i < d; ++i) {
      double u = rng->RandomSample();
      const Entry& e = entries_[i];
      if (e.categorical) {
        u = std::floor(u * e.high);
      } else if (e.step != 0.0) {
        u = Round(i, u);
      }
      out[p * d + i] = u;
    }
  }
  return out;
}

}  // namespace plinth::tune
