#include "tune/parzen_estimator.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace plinth::tune {
namespace {

constexpr double kEps = 1e-12;
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

}  // namespace

void ParzenEstimator::Build(std::span<const Distribution* const> dims,
                            std::span<const double> observations, size_t n_obs,
                            std::span<const double> obs_weights,
                            const ParzenEstimatorParameters& params,
                            std::span<const uint32_t> sorted_order) {
  weights_.clear();
  if (n_obs == 0) {
    weights_.push_back(1.0);
  } else {
    weights_.assign(obs_weights.begin(), obs_weights.end());
    weights_.push_back(params.prior_weight);
  }
  double total = PairwiseSum(weights_.data(), weights_.size());
  log_weights_.resize(weights_.size());
  for (size_t k = 0; k < weights_.size(); ++k) {
    weights_[k] /= total;
    log_weights_[k] = std::log(weights_[k]);
  }

  dims_.resize(dims.size());
  for (size_t d = 0; d < dims.size(); ++d) {
    Dim& dim = dims_[d];
    dim.dist = dims[d];
    dim.categorical = dims[d]->is_categorical();
    const double* obs = observations.data() + d * n_obs;
    if (dim.categorical) {
      BuildCategorical(&dim, obs, n_obs, params);
    } else {
      const uint32_t* order = sorted_order.empty() ? nullptr : sorted_order.data() + d * n_obs;
      BuildNumerical(&dim, obs, order, n_obs, params);
    }
  }
}

void ParzenEstimator::BuildCategorical(Dim* dim, const double* obs, size_t n_obs,
                                       const ParzenEstimatorParameters& params) {
  const size_t n_choices = dim->dist->choices().size();
  dim->n_choices = n_choices;
  const size_t n_kernels = n_obs + 1;
  dim->cat_weights.resize(n_kernels * n_choices);
  if (n_obs == 0) {
    std::fill(dim->cat_weights.begin(), dim->cat_weights.end(), 1.0 / n_choices);
  } else {
    // Each observation's row: the prior spread over all choices, plus one on the observed
    // choice; the smoothing shrinks as observations accumulate.
    std::fill(dim->cat_weights.begin(), dim->cat_weights.end(),
              params.prior_weight / static_cast<double>(n_kernels));
    for (size_t i = 0; i < n_obs; ++i) {
      dim->cat_weights[i * n_choices + static_cast<size_t>(obs[i])] += 1;
    }
    for (size_t k = 0; k < n_kernels; ++k) {
      double* row = dim->cat_weights.data() + k * n_choices;
      double sum = PairwiseSum(row, n_choices);
      if (sum == 0) {
        sum = 1;
      }
      for (size_t c = 0; c < n_choices; ++c) {
        row[c] /= sum;
      }
    }
  }
  const size_t rows = n_obs == 0 ? 1 : n_kernels;
  dim->log_cat_weights.resize(rows * n_choices);
  for (size_t k = 0; k < rows; ++k) {
    for (size_t c = 0; c < n_choices; ++c) {
      dim->log_cat_weights[c * rows + k] = std::log(dim->cat_weights[k * n_choices + c]);
    }
  }
}

void ParzenEstimator::BuildNumerical(Dim* dim, const double* obs, const uint32_t* order,
                                     size_t n_obs, const ParzenEstimatorParameters& params) {
  const Distribution& dist = *dim->dist;
  dim->log = dist.log();
  dim->step = dist.has_step() ? dist.step() : 0.0;
  double low = dist.low(), high = dist.high();
  if (dim->step != 0.0) {
    low -= dim->step / 2;
    high += dim->step / 2;
  }
  if (dim->log) {
    low = std::log(low);
    high = std::log(high);
  }
  dim->low = low;
  dim->high = high;

  std::vector<double>& mu = dim->mu;
  std::vector<double>& sigma = dim->sigma;
  mu.resize(n_obs + 1);
  sigma.resize(n_obs + 1);
  for (size_t i = 0; i < n_obs; ++i) {
    mu[i] = dim->log ? std::log(obs[i]) : obs[i];
  }

  // Bandwidths from the gaps between sorted centres. Equal centres are ordered by observation
  // index (a stable sort): which of them gets the outer gaps then depends on nothing else.
  sort_buf_.resize(n_obs);
  if (order == nullptr) {
    for (size_t i = 0; i < n_obs; ++i) {
      sort_buf_[i] = {mu[i], i};
    }
    std::sort(sort_buf_.begin(), sort_buf_.end());
  } else {
    for (size_t r = 0; r < n_obs; ++r) {
      sort_buf_[r] = {mu[order[r]], order[r]};
    }
    // The log transform keeps the order but may merge neighbours into equal centres; such a
    // run must be ordered by index, as a sort of the transformed values would order it.
    for (size_t r = 1; r < n_obs; ++r) {
      if (sort_buf_[r].first == sort_buf_[r - 1].first &&
          sort_buf_[r].second < sort_buf_[r - 1].second) {
        size_t start = r - 1;
        while (start > 0 && sort_buf_[start - 1].first == sort_buf_[r].first) {
          --start;
        }
        size_t end = r + 1;
        while (end < n_obs && sort_buf_[end].first == sort_buf_[r].first) {
          ++end;
        }
        std::sort(sort_buf_.begin() + start, sort_buf_.begin() + end);
        r = end - 1;
      }
    }
  }
  std::vector<double>& s = sorted_buf_;
  s.resize(n_obs + 2);
  s[0] = low;
  for (size_t i = 0; i < n_obs; ++i) {
    s[i + 1] = sort_buf_[i].first;
  }
  s[n_obs + 1] = high;
  const double max_sigma = high - low;
  const double min_sigma =
      params.consider_magic_clip
          ? (high - low) / std::min(100.0, 1.0 + static_cast<double>(n_obs + 1))
          : kEps;
  for (size_t r = 0; r < n_obs; ++r) {
    double left_gap = s[r + 1] - s[r];
    double right_gap = s[r + 2] - s[r + 1];
    double sg = std::max(left_gap, right_gap);
    if (!params.consider_endpoints && n_obs >= 2) {
      // The range ends are not real neighbours: the outermost kernels use their inner gap.
      if (r == 0) {
        sg = s[2] - s[1];
      } else if (r == n_obs - 1) {
        sg = s[n_obs] - s[n_obs - 1];
      }
    }
    sigma[sort_buf_[r].second] = std::min(std::max(sg, min_sigma), max_sigma);
  }
  mu[n_obs] = 0.5 * (low + high);
  sigma[n_obs] = high - low;

  const size_t n_kernels = n_obs + 1;
  dim->log_mass.resize(n_kernels);
  if (dim->step == 0.0) {
    dim->log_sigma.resize(n_kernels);
    for (size_t k = 0; k < n_kernels; ++k) {
      dim->log_mass[k] =
          truncnorm::LogGaussMass((low - mu[k]) / sigma[k], (high - mu[k]) / sigma[k]);
      dim->log_sigma[k] = std::log(sigma[k]);
    }
    return;
  }
  // Discrete: many kernels share (mu, sigma) on a grid; compute each pair's masses once.
  // Equal pairs sit next to each other in centre order (tied centres get the outer gaps at the
  // ends of their run and the clipped minimum inside it), so one walk finds nearly all
  // repeats without another sort; a repeat missed only costs one more evaluation.
  dim->unique_mu.clear();
  dim->unique_sigma.clear();
  dim->unique_of_kernel.resize(n_kernels);
  for (size_t r = 0; r < n_obs; ++r) {
    size_t k = sort_buf_[r].second;
    if (dim->unique_mu.empty() || dim->unique_mu.back() != mu[k] ||
        dim->unique_sigma.back() != sigma[k]) {
      dim->unique_mu.push_back(mu[k]);
      dim->unique_sigma.push_back(sigma[k]);
    }
    dim->unique_of_kernel[k] = dim->unique_mu.size() - 1;
  }
  dim->unique_mu.push_back(mu[n_obs]);
  dim->unique_sigma.push_back(sigma[n_obs]);
  dim->unique_of_kernel[n_obs] = dim->unique_mu.size() - 1;
  cell_mass_.resize(dim->unique_mu.size());
  for (size_t u = 0; u < dim->unique_mu.size(); ++u) {
    double m = dim->unique_mu[u], sg = dim->unique_sigma[u];
    cell_mass_[u] = truncnorm::LogGaussMass((low - m) / sg, (high - m) / sg);
  }
  for (size_t k = 0; k < n_kernels; ++k) {
    dim->log_mass[k] = cell_mass_[dim->unique_of_kernel[k]];
  }
}

void ParzenEstimator::Sample(RandomState* rng, size_t n, Candidates* out) {
  const size_t n_dims = dims_.size();
  out->n = n;
  out->values.resize(n_dims * n);
  active_.clear();
  rng->ChoiceWithProbabilities(weights_, n, &active_);

  size_t n_numerical = 0;
  for (size_t d = 0; d < n_dims; ++d) {
    const Dim& dim = dims_[d];
    if (!dim.categorical) {
      ++n_numerical;
      continue;
    }
    // Inverse CDF of the active kernel's row; the last cumulative entry is forced to 1.
    for (size_t i = 0; i < n; ++i) {
      double u = rng->RandomSample();
      const double* row = dim.cat_weights.data() + active_[i] * dim.n_choices;
      double cum = 0.0;
      size_t index = 0;
      for (size_t c = 0; c < dim.n_choices; ++c) {
        cum += row[c];
        if (c + 1 == dim.n_choices) {
          cum = 1;
        }
        if (cum < u) {
          ++index;
        }
      }
      out->values[d * n + i] = static_cast<double>(index);
    }
  }
  if (n_numerical == 0) {
    return;
  }
  // All numerical dimensions' quantiles in one batch, dimension-major as numpy draws them.
  quantiles_.resize(n_numerical * n);
  a_buf_.resize(n_numerical * n);
  b_buf_.resize(n_numerical * n);
  ppf_out_.resize(n_numerical * n);
  for (double& q : quantiles_) {
    q = rng->Uniform(0.0, 1.0);
  }
  size_t j = 0;
  for (size_t d = 0; d < n_dims; ++d) {
    const Dim& dim = dims_[d];
    if (dim.categorical) {
      continue;
    }
    for (size_t i = 0; i < n; ++i, ++j) {
      size_t k = active_[i];
      a_buf_[j] = (dim.low - dim.mu[k]) / dim.sigma[k];
      b_buf_[j] = (dim.high - dim.mu[k]) / dim.sigma[k];
    }
  }
  truncnorm::Ppf(quantiles_, a_buf_, b_buf_, ppf_out_, &ppf_ws_);
  j = 0;
  for (size_t d = 0; d < n_dims; ++d) {
    const Dim& dim = dims_[d];
    if (dim.categorical) {
      continue;
    }
    const double dlow = dim.dist->low(), dhigh = dim.dist->high();
    for (size_t i = 0; i < n; ++i, ++j) {
      size_t k = active_[i];
      double x = ppf_out_[j] * dim.sigma[k] + dim.mu[k];
      if (dim.log) {
        x = std::exp(x);
      }
      if (dim.step != 0.0) {
        x = std::clamp(dlow + std::nearbyint((x - dlow) / dim.step) * dim.step, dlow, dhigh);
      }
      out->values[d * n + i] = x;
    }
  }
}

void ParzenEstimator::LogPdf(const Candidates& points, std::span<double> out) {
  const size_t n = points.n;
  const size_t K = weights_.size();
  acc_.assign(n * K, 0.0);

  // Categorical and discrete terms first, in dimension order, then the continuous ones summed
  // over dimensions, then the mixture weights: Optuna's order of additions.
  bool any_continuous = false;
  for (size_t d = 0; d < dims_.size(); ++d) {
    const Dim& dim = dims_[d];
    const double* x = points.values.data() + d * n;
    if (dim.categorical) {
      for (size_t i = 0; i < n; ++i) {
        const double* lw = dim.log_cat_weights.data() + static_cast<size_t>(x[i]) * K;
        double* row = acc_.data() + i * K;
        for (size_t k = 0; k < K; ++k) {
          row[k] += lw[k];
        }
      }
      continue;
    }
    if (dim.step == 0.0) {
      any_continuous = true;
      continue;
    }
    // Discrete: the mass of each kernel on the point's cell [x - step/2, x + step/2].
    const size_t n_unique = dim.unique_mu.size();
    unique_x_.assign(x, x + n);
    std::sort(unique_x_.begin(), unique_x_.end());
    unique_x_.erase(std::unique(unique_x_.begin(), unique_x_.end()), unique_x_.end());
    cell_mass_.resize(unique_x_.size() * n_unique);
    for (size_t ux = 0; ux < unique_x_.size(); ++ux) {
      double left = unique_x_[ux] - dim.step / 2;
      double right = unique_x_[ux] + dim.step / 2;
      if (dim.log) {
        left = std::log(left);
        right = std::log(right);
      }
      for (size_t u = 0; u < n_unique; ++u) {
        double m = dim.unique_mu[u], sg = dim.unique_sigma[u];
        cell_mass_[ux * n_unique + u] = truncnorm::LogGaussMass((left - m) / sg, (right - m) / sg);
      }
    }
    for (size_t i = 0; i < n; ++i) {
      size_t ux = static_cast<size_t>(std::lower_bound(unique_x_.begin(), unique_x_.end(), x[i]) -
                                      unique_x_.begin());
      const double* mass = cell_mass_.data() + ux * n_unique;
      double* row = acc_.data() + i * K;
      for (size_t k = 0; k < K; ++k) {
        row[k] += mass[dim.unique_of_kernel[k]];
      }
      for (size_t k = 0; k < K; ++k) {
        row[k] -= dim.log_mass[k];
      }
    }
  }

  if (any_continuous) {
    row_buf_.resize(K);
    for (size_t i = 0; i < n; ++i) {
      std::fill(row_buf_.begin(), row_buf_.end(), 0.0);
      bool outside = false;
      for (size_t d = 0; d < dims_.size(); ++d) {
        const Dim& dim = dims_[d];
        if (dim.categorical || dim.step != 0.0) {
          continue;
        }
        double x = points.values[d * n + i];
        if (dim.log) {
          x = std::log(x);
        }
        if (x < dim.low || x > dim.high) {
          outside = true;
        }
        const double* mu = dim.mu.data();
        const double* sigma = dim.sigma.data();
        const double* log_mass = dim.log_mass.data();
        const double* log_sigma = dim.log_sigma.data();
        double* sum = row_buf_.data();
        for (size_t k = 0; k < K; ++k) {
          double z = (x - mu[k]) / sigma[k];
          sum[k] += ((-(z * z) / 2.0 - truncnorm::kLogSqrt2Pi) - log_mass[k]) - log_sigma[k];
        }
      }
      double* row = acc_.data() + i * K;
      for (size_t k = 0; k < K; ++k) {
        row[k] += outside ? kNegInf : row_buf_[k];
      }
    }
  }

  row_buf_.resize(K);
  for (size_t i = 0; i < n; ++i) {
    double* row = acc_.data() + i * K;
    double max = kNegInf;
    for (size_t k = 0; k < K; ++k) {
      row[k] += log_weights_[k];
      max = std::max(max, row[k]);
    }
    if (std::isinf(max) && max < 0) {
      max = 0;  // every kernel gives 0: log 0 = -inf, not NaN
    }
    // exp underflows to exactly 0 below about -745; skipping those calls changes no bit of the
    // sum, and in a long history most kernels of g are that far from any one point.
    for (size_t k = 0; k < K; ++k) {
      double d = row[k] - max;
      row_buf_[k] = d < -746.0 ? 0.0 : std::exp(d);
    }
    out[i] = std::log(PairwiseSum(row_buf_.data(), K)) + max;
  }
}

}  // namespace plinth::tune
