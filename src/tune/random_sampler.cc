#include "tune/random_sampler.h"

#include <algorithm>
#include <cmath>

namespace plinth::tune {

double RandomSampler::Sample(const Distribution& d) {
  if (d.is_categorical()) {
    size_t best = 0;
    double best_u = -1.0;
    for (size_t i = 0; i < d.choices().size(); ++i) {
      double u = rng_.Uniform(0.0, 1.0);
      if (u > best_u) {
        best_u = u;
        best = i;
      }
    }
    return static_cast<double>(best);
  }
  const double low = d.low(), high = d.high();
  // The largest double below high: a continuous draw never returns high itself.
  const double below_high = std::nextafter(high, high - 1);
  if (d.kind() == DistributionKind::kFloat) {
    if (d.log()) {
      double v = std::exp(rng_.Uniform(std::log(low), std::log(high)));
      return d.Single() ? v : std::clamp(v, low, below_high);
    }
    if (d.has_step()) {
      const double half = 0.5 * d.step();
      double u = rng_.Uniform(low - half, high + half);
      return std::clamp(std::nearbyint((u - low) / d.step()) * d.step() + low, low, high);
    }
    double u = rng_.Uniform(low, high);
    return d.Single() ? u : std::min(u, below_high);
  }
  // Int.
  if (d.log()) {
    double u = rng_.Uniform(std::log(low - 0.5), std::log(high + 0.5));
    return std::clamp(std::nearbyint(std::exp(u)), low, high);  // Python's round: half to even
  }
  const double half = 0.5 * d.step();
  double u = rng_.Uniform(low - half, high + half);
  double step_index = std::floor((u - low) / d.step() + 0.5);
  return std::clamp(step_index * d.step() + low, low, high);
}

}  // namespace plinth::tune
