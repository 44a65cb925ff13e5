#include "tune/parzen_estimator.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define PLINTH_SURVIVORS_AVX2 1
#endif

namespace plinth::tune {
namespace {

constexpr double kEps = 1e-12;
constexpr double kNegInf = -std::numeric_limits<double>::infinity();
// A kernel whose log density is this far below the largest one's adds less than e^-40 ≈ 4e-18
// of the mixture's density; LogPdf leaves it out (relative change < n_kernels · 4e-18).
constexpr double kNegligible = -40.0;
// The cell cache: discrete dimensions of at most kMaxCells grid points, at most kMaxCellCache
// masses (1 MB) per dimension; a 1,000-trial study on an integer in [1, 64] fills ~0.7 MB.
constexpr size_t kMaxCells = 1024;
constexpr size_t kMaxCellCache = size_t{1} << 17;

}  // namespace

void ParzenEstimator::Build(std::span<const Distribution* const> dims,
                            std::span<const double> observations, size_t n_obs,
                            std::span<const double> obs_weights,
                            const ParzenEstimatorParameters& params,
                            std::span<const uint32_t> sorted_order,
                            std::span<const int> kernel_ids) {
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

  // Ids index the caches: without one per observation, or with a negative one, go without.
  if (kernel_ids.size() != n_obs ||
      std::any_of(kernel_ids.begin(), kernel_ids.end(), [](int id) { return id < 0; })) {
    kernel_ids = {};
  }
  kernel_ids_.assign(kernel_ids.begin(), kernel_ids.end());
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
      BuildNumerical(&dim, obs, order, kernel_ids.empty() ? nullptr : kernel_ids.data(), n_obs,
                     params);
    }
  }

  continuous_dims_.clear();
  categorical_dims_.clear();
  discrete_dims_.clear();
  kernel_offset_ = log_weights_;
  const size_t n_kernels = weights_.size();
  for (size_t d = 0; d < dims_.size(); ++d) {
    Dim& dim = dims_[d];
    if (dim.categorical) {
      categorical_dims_.push_back(d);
      continue;
    }
    if (dim.step != 0.0) {
      discrete_dims_.push_back(d);
      dim.inv_sigma.resize(n_kernels);
      dim.min_sigma = std::numeric_limits<double>::infinity();
      for (size_t k = 0; k < n_kernels; ++k) {
        kernel_offset_[k] -= dim.log_mass[k];
        dim.inv_sigma[k] = 1.0 / dim.sigma[k];
        dim.min_sigma = std::min(dim.min_sigma, dim.sigma[k]);
      }
      continue;
    }
    continuous_dims_.push_back(d);
    dim.inv_sigma.resize(n_kernels);
    for (size_t k = 0; k < n_kernels; ++k) {
      dim.inv_sigma[k] = 1.0 / dim.sigma[k];
      kernel_offset_[k] -= (truncnorm::kLogSqrt2Pi + dim.log_mass[k]) + dim.log_sigma[k];
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
    dim->log_cat_weights.resize(n_choices);
    for (size_t c = 0; c < n_choices; ++c) {
      dim->log_cat_weights[c] = std::log(dim->cat_weights[c]);
    }
    return;
  }
  // Each observation's row: the prior spread over all choices, plus one on the observed
  // choice; the smoothing shrinks as observations accumulate. Rows differ only by the observed
  // choice, so the n_choices distinct ones (and the prior's, row n_choices) are normalised and
  // logged once, then copied.
  const double prior = params.prior_weight / static_cast<double>(n_kernels);
  std::vector<double>& rows = cat_rows_;
  std::vector<double>& log_rows = cat_log_rows_;
  rows.assign((n_choices + 1) * n_choices, prior);
  log_rows.resize(rows.size());
  for (size_t r = 0; r <= n_choices; ++r) {
    double* row = rows.data() + r * n_choices;
    if (r < n_choices) {
      row[r] += 1;
    }
    double sum = PairwiseSum(row, n_choices);
    if (sum == 0) {
      sum = 1;
    }
    for (size_t c = 0; c < n_choices; ++c) {
      row[c] /= sum;
      log_rows[r * n_choices + c] = std::log(row[c]);
    }
  }
  dim->log_cat_weights.resize(n_kernels * n_choices);
  for (size_t k = 0; k < n_kernels; ++k) {
    const size_t r = k < n_obs ? static_cast<size_t>(obs[k]) : n_choices;
    std::copy_n(rows.data() + r * n_choices, n_choices, dim->cat_weights.data() + k * n_choices);
    for (size_t c = 0; c < n_choices; ++c) {
      dim->log_cat_weights[c * n_kernels + k] = log_rows[r * n_choices + c];
    }
  }
}

void ParzenEstimator::BuildNumerical(Dim* dim, const double* obs, const uint32_t* order,
                                     const int* ids, size_t n_obs,
                                     const ParzenEstimatorParameters& params) {
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
  PrepareKernelCache(dim, ids, n_obs);
  if (!dim->log) {
    std::copy_n(obs, n_obs, mu.data());
  } else if (ids == nullptr) {
    for (size_t i = 0; i < n_obs; ++i) {
      mu[i] = std::log(obs[i]);
    }
  } else {
    for (size_t i = 0; i < n_obs; ++i) {
      const size_t id = static_cast<size_t>(ids[i]);
      mu[i] = dim->cached_obs[id] == obs[i] ? dim->cached_mu[id] : std::log(obs[i]);
    }
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
    // (Without it, equal centres are equal observations, which the order has by index.)
    for (size_t r = 1; r < n_obs && dim->log; ++r) {
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
  // Whether kernel k (an observation with an id) had this centre and bandwidth last time.
  auto cached = [&](size_t k) {
    if (ids == nullptr) {
      return false;
    }
    const size_t id = static_cast<size_t>(ids[k]);
    return dim->cached_mu[id] == mu[k] && dim->cached_sigma[id] == sigma[k];
  };
  auto remember = [&](size_t k) {
    if (ids != nullptr) {
      const size_t id = static_cast<size_t>(ids[k]);
      dim->cached_obs[id] = obs[k];
      dim->cached_mu[id] = mu[k];
      dim->cached_sigma[id] = sigma[k];
      dim->cached_log_mass[id] = dim->log_mass[k];
    }
  };
  if (dim->step == 0.0) {
    dim->log_sigma.resize(n_kernels);
    // Past ~100 observations most bandwidths are the clipped minimum: log it once.
    const double log_min_sigma = std::log(min_sigma);
    for (size_t k = 0; k < n_obs; ++k) {
      if (cached(k)) {
        dim->log_mass[k] = dim->cached_log_mass[ids[k]];
        dim->log_sigma[k] = dim->cached_log_sigma[ids[k]];
        continue;
      }
      dim->log_mass[k] =
          truncnorm::LogGaussMass((low - mu[k]) / sigma[k], (high - mu[k]) / sigma[k]);
      dim->log_sigma[k] = sigma[k] == min_sigma ? log_min_sigma : std::log(sigma[k]);
      remember(k);
      if (ids != nullptr) {
        dim->cached_log_sigma[ids[k]] = dim->log_sigma[k];
      }
    }
    dim->log_mass[n_obs] = dim->prior_log_mass;
    dim->log_sigma[n_obs] = std::log(sigma[n_obs]);
    return;
  }
  // Discrete: many kernels share (mu, sigma) on a grid; compute each pair's masses once.
  // Equal pairs sit next to each other in centre order (tied centres get the outer gaps at the
  // ends of their run and the clipped minimum inside it), so one walk finds nearly all
  // repeats without another sort; a repeat missed only costs one more evaluation.
  dim->unique_mu.clear();
  dim->unique_sigma.clear();
  cell_mass_.clear();
  dim->unique_slot.clear();
  dim->unique_of_kernel.resize(n_kernels);
  for (size_t r = 0; r < n_obs; ++r) {
    size_t k = sort_buf_[r].second;
    if (dim->unique_mu.empty() || dim->unique_mu.back() != mu[k] ||
        dim->unique_sigma.back() != sigma[k]) {
      dim->unique_mu.push_back(mu[k]);
      dim->unique_sigma.push_back(sigma[k]);
      cell_mass_.push_back(std::numeric_limits<double>::quiet_NaN());
      dim->unique_slot.push_back(kNoSlot);
    }
    const size_t u = dim->unique_mu.size() - 1;
    dim->unique_of_kernel[k] = u;
    if (std::isnan(cell_mass_[u]) && cached(k)) {
      cell_mass_[u] = dim->cached_log_mass[ids[k]];
      dim->unique_slot[u] = dim->cached_slot[ids[k]];
    }
  }
  dim->unique_mu.push_back(mu[n_obs]);
  dim->unique_sigma.push_back(sigma[n_obs]);
  cell_mass_.push_back(dim->prior_log_mass);
  dim->unique_slot.push_back(kNoSlot);
  dim->unique_of_kernel[n_obs] = dim->unique_mu.size() - 1;
  for (size_t u = 0; u < dim->unique_mu.size(); ++u) {
    if (std::isnan(cell_mass_[u])) {
      double m = dim->unique_mu[u], sg = dim->unique_sigma[u];
      cell_mass_[u] = truncnorm::LogGaussMass((low - m) / sg, (high - m) / sg);
    }
  }
  AssignCellSlots(dim);
  for (size_t k = 0; k < n_kernels; ++k) {
    const size_t u = dim->unique_of_kernel[k];
    dim->log_mass[k] = cell_mass_[u];
    if (k < n_obs && ids != nullptr) {
      remember(k);
      dim->cached_slot[ids[k]] = dim->unique_slot.empty() ? kNoSlot : dim->unique_slot[u];
    }
  }
  dim->kernel_row.clear();
  if (!dim->unique_slot.empty()) {
    dim->kernel_row.resize(n_kernels);
    for (size_t k = 0; k < n_kernels; ++k) {
      dim->kernel_row[k] = dim->unique_slot[dim->unique_of_kernel[k]] * dim->n_cells;
    }
  }
}

void ParzenEstimator::PrepareKernelCache(Dim* dim, const int* ids, size_t n_obs) {
  // Everything cached depends on the transformed bounds (and a cell on the step and the
  // log); another range, say another parameter in this slot, starts afresh.
  if (dim->cached_low != dim->low || dim->cached_high != dim->high ||
      dim->cached_step != dim->step || dim->cached_log != dim->log) {
    dim->cached_low = dim->low;
    dim->cached_high = dim->high;
    dim->cached_step = dim->step;
    dim->cached_log = dim->log;
    dim->cached_obs.clear();
    dim->cached_mu.clear();
    dim->cached_sigma.clear();
    dim->cached_log_sigma.clear();
    dim->cached_log_mass.clear();
    dim->cached_slot.clear();
    dim->slot_of_pair.clear();
    dim->cell_cache.clear();
    dim->n_cells = 0;
    if (dim->step != 0.0) {
      const Distribution& dist = *dim->dist;
      const double cells = std::nearbyint((dist.high() - dist.low()) / dim->step) + 1;
      if (cells <= static_cast<double>(kMaxCells)) {
        dim->n_cells = static_cast<size_t>(cells);
      }
    }
    const double m = 0.5 * (dim->low + dim->high), sg = dim->high - dim->low;
    dim->prior_log_mass = truncnorm::LogGaussMass((dim->low - m) / sg, (dim->high - m) / sg);
    dim->tail_mu.clear();
    dim->tail_sigma.clear();
    dim->tail_log.clear();
    dim->prior_log_tail = std::numeric_limits<double>::quiet_NaN();
  }
  if (ids == nullptr) {
    return;
  }
  int max_id = -1;
  for (size_t k = 0; k < n_obs; ++k) {
    max_id = std::max(max_id, ids[k]);
  }
  const size_t size = static_cast<size_t>(max_id + 1);
  if (size > dim->cached_mu.size()) {
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    dim->cached_obs.resize(size, kNaN);
    dim->cached_mu.resize(size, kNaN);
    dim->cached_log_sigma.resize(size, kNaN);
    dim->cached_sigma.resize(size, kNaN);
    dim->cached_log_mass.resize(size, kNaN);
    dim->cached_slot.resize(size, kNoSlot);
  }
}

void ParzenEstimator::AssignCellSlots(Dim* dim) {
  const size_t n_unique = dim->unique_mu.size();
  if (dim->n_cells == 0 || n_unique * dim->n_cells > kMaxCellCache) {
    dim->unique_slot.clear();  // LogPdf's per-call memo instead
    return;
  }
  if ((dim->slot_of_pair.size() + n_unique) * dim->n_cells > kMaxCellCache) {
    // Full: start again (rows of pairs no longer used go with it).
    dim->slot_of_pair.clear();
    dim->cell_cache.clear();
    std::fill(dim->cached_slot.begin(), dim->cached_slot.end(), kNoSlot);
    std::fill(dim->unique_slot.begin(), dim->unique_slot.end(), kNoSlot);
  }
  for (size_t u = 0; u < n_unique; ++u) {
    if (dim->unique_slot[u] != kNoSlot) {
      continue;
    }
    auto [it, inserted] = dim->slot_of_pair.try_emplace(
        {dim->unique_mu[u], dim->unique_sigma[u]}, static_cast<uint32_t>(dim->slot_of_pair.size()));
    if (inserted) {
      dim->cell_cache.resize(dim->cell_cache.size() + dim->n_cells,
                             std::numeric_limits<double>::quiet_NaN());
    }
    dim->unique_slot[u] = it->second;
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
  mass_buf_.resize(n_numerical * n);
  tail_buf_.resize(n_numerical * n);
  ppf_out_.resize(n_numerical * n);
  for (double& q : quantiles_) {
    q = rng->Uniform(0.0, 1.0);
  }
  size_t j = 0;
  const size_t n_obs = n_kernels() - 1;
  for (size_t d = 0; d < n_dims; ++d) {
    Dim& dim = dims_[d];
    if (dim.categorical) {
      continue;
    }
    for (size_t i = 0; i < n; ++i, ++j) {
      size_t k = active_[i];
      a_buf_[j] = (dim.low - dim.mu[k]) / dim.sigma[k];
      b_buf_[j] = (dim.high - dim.mu[k]) / dim.sigma[k];
      mass_buf_[j] = dim.log_mass[k];  // Build's LogGaussMass of these very (a, b)
      // The kernel's tail mass, kept by kernel id (as the masses are) for its (mu, sigma):
      // l(x)'s few kernels are drawn from again and again over a study.
      double* tail = nullptr;
      if (k == n_obs) {
        tail = &dim.prior_log_tail;
      } else if (!kernel_ids_.empty()) {
        const size_t id = static_cast<size_t>(kernel_ids_[k]);
        if (id >= dim.tail_log.size()) {
          dim.tail_mu.resize(id + 1, std::numeric_limits<double>::quiet_NaN());
          dim.tail_sigma.resize(id + 1, std::numeric_limits<double>::quiet_NaN());
          dim.tail_log.resize(id + 1, std::numeric_limits<double>::quiet_NaN());
        }
        if (dim.tail_mu[id] != dim.mu[k] || dim.tail_sigma[id] != dim.sigma[k]) {
          dim.tail_mu[id] = dim.mu[k];
          dim.tail_sigma[id] = dim.sigma[k];
          dim.tail_log[id] = std::numeric_limits<double>::quiet_NaN();
        }
        tail = &dim.tail_log[id];
      }
      if (tail == nullptr) {
        tail_buf_[j] = truncnorm::PpfLogTail(a_buf_[j], b_buf_[j]);
      } else {
        if (std::isnan(*tail)) {
          *tail = truncnorm::PpfLogTail(a_buf_[j], b_buf_[j]);
        }
        tail_buf_[j] = *tail;
      }
    }
  }
  truncnorm::Ppf(quantiles_, a_buf_, b_buf_, mass_buf_, ppf_out_, &ppf_ws_, tail_buf_);
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

double ParzenEstimator::CellLogMass(size_t dd, size_t ux, size_t u) {
  Dim& dim = dims_[discrete_dims_[dd]];
  const int64_t cell = grid_cell_[dd][ux];
  double* slot;
  if (cell >= 0) {
    slot = &dim.cell_cache[dim.unique_slot[u] * dim.n_cells + static_cast<size_t>(cell)];
  } else {
    slot = &cell_memo_[dd][ux * dim.unique_mu.size() + u];
  }
  if (std::isnan(*slot)) {
    const double x = unique_x_[dd][ux];
    double left = x - dim.step / 2;
    double right = x + dim.step / 2;
    if (dim.log) {
      left = std::log(left);
      right = std::log(right);
    }
    const double m = dim.unique_mu[u], sg = dim.unique_sigma[u];
    *slot = truncnorm::LogGaussMass((left - m) / sg, (right - m) / sg);
  }
  return *slot;
}

namespace {

// LogPdf's loops over all kernels, once per point. On x86-64 GCC also compiles them for AVX2
// and picks the build at load time: elementwise arithmetic (no FMA: parzen_estimator.cc is
// built with -ffp-contract=off) gives the same bits at either width.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define PLINTH_KERNEL_LOOP __attribute__((target_clones("avx2", "default")))
#else
#define PLINTH_KERNEL_LOOP
#endif

// row[k] = base[k] − ½·((x − mu[k]) / sigma[k])², a continuous dimension's term (base may be
// row).
PLINTH_KERNEL_LOOP void SubtractSquaredDistance(const double* base, const double* mu,
                                                const double* inv_sigma, double x, size_t n,
                                                double* row) {
  for (size_t k = 0; k < n; ++k) {
    const double z = (x - mu[k]) * inv_sigma[k];
    row[k] = base[k] - 0.5 * (z * z);
  }
}

// The same followed by a categorical dimension's term: row[k] = (base[k] − ½·z²) + add[k], the
// two steps' roundings as done one after the other.
PLINTH_KERNEL_LOOP void SubtractSquaredDistanceAdd(const double* base, const double* mu,
                                                   const double* inv_sigma, double x,
                                                   const double* add, size_t n, double* row) {
  for (size_t k = 0; k < n; ++k) {
    const double z = (x - mu[k]) * inv_sigma[k];
    row[k] = (base[k] - 0.5 * (z * z)) + add[k];
  }
}

PLINTH_KERNEL_LOOP void AddTo(const double* v, size_t n, double* row) {
  for (size_t k = 0; k < n; ++k) {
    row[k] += v[k];
  }
}

// bound[k] = base[k] + min(peak − ½·(gap_k / sigma_k)², 0), gap_k the distance from mu[k] to
// the cell [left, right]: a discrete dimension's bound on log(cell mass / range mass) (see
// LogPdf). base may be bound.
PLINTH_KERNEL_LOOP void AddCellBound(const double* base, const double* mu, const double* inv_sigma,
                                     double left, double right, double peak, size_t n,
                                     double* bound) {
  for (size_t k = 0; k < n; ++k) {
    const double gap = std::max(std::max(left - mu[k], mu[k] - right), 0.0);
    const double z = gap * inv_sigma[k];
    bound[k] = base[k] + std::min(peak - 0.5 * (z * z), 0.0);
  }
}

// AddCellBound that also writes the largest bound of each block of kBlock kernels to
// block_max[k / kBlock] (NaNs ignored, -inf for none), so that the kernel with the largest
// bound is found without two more passes over all of them.
constexpr size_t kBlock = 64;
PLINTH_KERNEL_LOOP void AddCellBoundWithMaxima(const double* base, const double* mu,
                                               const double* inv_sigma, double left, double right,
                                               double peak, size_t n, double* bound,
                                               double* block_max) {
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t end = std::min(n, start + kBlock);
    // Two simple loops over a block in L1 rather than one: each vectorizes cleanly.
    for (size_t k = start; k < end; ++k) {
      const double gap = std::max(std::max(left - mu[k], mu[k] - right), 0.0);
      const double z = gap * inv_sigma[k];
      bound[k] = base[k] + std::min(peak - 0.5 * (z * z), 0.0);
    }
    double m[8];
    std::fill(m, m + 8, kNegInf);
    size_t k = start;
    for (; k + 8 <= end; k += 8) {
      for (size_t l = 0; l < 8; ++l) {
        m[l] = bound[k + l] > m[l] ? bound[k + l] : m[l];
      }
    }
    for (; k < end; ++k) {
      m[0] = bound[k] > m[0] ? bound[k] : m[0];
    }
    double out = m[0];
    for (size_t l = 1; l < 8; ++l) {
      out = m[l] > out ? m[l] : out;
    }
    block_max[start / kBlock] = out;
  }
}

// FirstIndexOf(v, n, MaxOf(v, n)) from AddCellBoundWithMaxima's block maxima: the largest of
// them, then the first element equal to it in the first block that holds one.
size_t FirstIndexOfMax(const double* v, size_t n, const double* block_max) {
  const size_t n_blocks = (n + kBlock - 1) / kBlock;
  double max = kNegInf;
  for (size_t b = 0; b < n_blocks; ++b) {
    max = block_max[b] > max ? block_max[b] : max;
  }
  for (size_t b = 0; b < n_blocks; ++b) {
    if (block_max[b] != max) {
      continue;
    }
    for (size_t k = b * kBlock; k < std::min(n, (b + 1) * kBlock); ++k) {
      if (v[k] == max) {
        return k;
      }
    }
  }
  return n - 1;
}

// The largest of v[0..n), NaNs ignored (-inf for none); eight running maxima, which the
// compiler keeps in vector registers.
PLINTH_KERNEL_LOOP double MaxOf(const double* v, size_t n) {
  double m[8];
  std::fill(m, m + 8, kNegInf);
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    for (size_t j = 0; j < 8; ++j) {
      m[j] = v[k + j] > m[j] ? v[k + j] : m[j];
    }
  }
  for (; k < n; ++k) {
    m[0] = v[k] > m[0] ? v[k] : m[0];
  }
  double out = m[0];
  for (size_t j = 1; j < 8; ++j) {
    out = m[j] > out ? m[j] : out;
  }
  return out;
}

// Writes the indices k with !(v[k] < cutoff) to out (which has room for n + 3), ascending;
// returns how many. Branch-free: every index is written, the count advances past the
// survivors only.
size_t SurvivorsScalar(const double* v, size_t n, double cutoff, uint32_t* out) {
  size_t m = 0;
  for (size_t k = 0; k < n; ++k) {
    out[m] = static_cast<uint32_t>(k);
    m += !(v[k] < cutoff);
  }
  return m;
}

#ifdef PLINTH_SURVIVORS_AVX2
// The same four at a time: one compare gives a 4-bit mask, a table turns it into the indices
// of its set bits, packed to the front, and all four are stored (the count moves past the
// set ones only) — no branch per kernel and no chain through the count per kernel.
__attribute__((target("avx2"))) size_t SurvivorsAvx2(const double* v, size_t n, double cutoff,
                                                     uint32_t* out) {
  alignas(16) static constexpr uint32_t kPacked[16][4] = {
      {0, 0, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {2, 0, 0, 0}, {0, 2, 0, 0},
      {1, 2, 0, 0}, {0, 1, 2, 0}, {3, 0, 0, 0}, {0, 3, 0, 0}, {1, 3, 0, 0}, {0, 1, 3, 0},
      {2, 3, 0, 0}, {0, 2, 3, 0}, {1, 2, 3, 0}, {0, 1, 2, 3}};
  const __m256d c = _mm256_set1_pd(cutoff);
  size_t m = 0, k = 0;
  for (; k + 4 <= n; k += 4) {
    // _CMP_NLT_UQ: !(v < cutoff), true for NaN as the scalar test is.
    const int mask = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(v + k), c, _CMP_NLT_UQ));
    const __m128i packed =
        _mm_add_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(kPacked[mask])),
                      _mm_set1_epi32(static_cast<int>(k)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + m), packed);
    m += static_cast<size_t>(__builtin_popcount(static_cast<unsigned>(mask)));
  }
  for (; k < n; ++k) {
    out[m] = static_cast<uint32_t>(k);
    m += !(v[k] < cutoff);
  }
  return m;
}
#endif

size_t Survivors(const double* v, size_t n, double cutoff, uint32_t* out) {
#ifdef PLINTH_SURVIVORS_AVX2
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) {
    return SurvivorsAvx2(v, n, cutoff, out);
  }
#endif
  return SurvivorsScalar(v, n, cutoff, out);
}

// out[j] = e^d[j] within a relative 1e-14 (a degree-12 Taylor polynomial after reducing by
// multiples of ln 2; measured 5e-16), 0 where d[j] < kNegligible, for d[j] <= 0 not NaN:
// LogPdfApprox's stand-in for exp, which the compiler vectorizes (no branch, no libm call).
PLINTH_KERNEL_LOOP void ExpApprox(const double* d, size_t n, double* out) {
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kLn2Hi = 0x1.62e42fee00000p-1;  // exact times any |k| < 2^11
  constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;
  constexpr double kShift = 0x1.8p52;  // adding it rounds to an integer kept in the low bits
  const uint64_t shift_bits = std::bit_cast<uint64_t>(kShift);
  for (size_t j = 0; j < n; ++j) {
    const double x = d[j];
    const double shifted = x * kLog2e + kShift;
    const double k = shifted - kShift;
    const double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= ln 2 / 2
    double p = 1.0 / 479001600;
    p = p * r + 1.0 / 39916800;
    p = p * r + 1.0 / 3628800;
    p = p * r + 1.0 / 362880;
    p = p * r + 1.0 / 40320;
    p = p * r + 1.0 / 5040;
    p = p * r + 1.0 / 720;
    p = p * r + 1.0 / 120;
    p = p * r + 1.0 / 24;
    p = p * r + 1.0 / 6;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    const uint64_t two_to_k = (std::bit_cast<uint64_t>(shifted) - shift_bits + 1023) << 52;
    const double v = p * std::bit_cast<double>(two_to_k);
    // The sign of x − kNegligible as a mask rather than a branch, so that the loop vectorizes.
    const uint64_t negligible = std::bit_cast<uint64_t>(x - kNegligible) >> 63;
    out[j] = std::bit_cast<double>(std::bit_cast<uint64_t>(v) & (negligible - 1));
  }
}

}  // namespace

void ParzenEstimator::LogPdf(const Candidates& points, std::span<double> out) {
  LogPdfPoints(points, {}, /*approximate=*/false, out);
}

void ParzenEstimator::LogPdfAt(const Candidates& points, std::span<const uint32_t> which,
                               std::span<double> out) {
  if (!which.empty()) {
    LogPdfPoints(points, which, /*approximate=*/false, out);
  }
}

void ParzenEstimator::LogPdfApprox(const Candidates& points, std::span<double> out) {
  LogPdfPoints(points, {}, /*approximate=*/true, out);
}

double ParzenEstimator::LogPdfApproxError(double value) const {
  // Both sums are within (1e-14 + 2^-52 + n_kernels·2^-53) of Σ e^d relatively (positive terms:
  // the exp's error, PairwiseSum's or the loop's rounding), so their logs differ by at most
  // twice that; adding the maximum back rounds by an ulp of the result each. A thousand times
  // that, plus 1e-9.
  const double kernels = static_cast<double>(weights_.size());
  return 1e-9 + 1e-12 * kernels + 1e-12 * std::abs(value);
}

void ParzenEstimator::LogPdfPoints(const Candidates& points, std::span<const uint32_t> which,
                                   bool approximate, std::span<double> out) {
  const size_t n = points.n;
  const size_t K = weights_.size();
  row_buf_.resize(K);
  exp_buf_.resize(K);
  bound_buf_.resize(K);
  survivors_.resize(K + 4);  // Survivors stores four at a time
  block_max_.resize((K + kBlock - 1) / kBlock);

  // Discrete dimensions: each point's cell, and a memo of the cell masses filled on demand
  // (the cell cache where the dimension has one and the point is on its grid).
  const size_t n_discrete = discrete_dims_.size();
  unique_x_.resize(n_discrete);
  cell_memo_.resize(n_discrete);
  grid_cell_.resize(n_discrete);
  cell_column_.resize(n_discrete);
  point_cell_.resize(n_discrete * n);
  // The discrete terms are log(mass on the cell / mass on the range) <= 0 when every point lies
  // within its range, so the other terms bound a kernel's density from above (see below).
  bool discrete_bounded = true;
  for (size_t dd = 0; dd < n_discrete; ++dd) {
    const Dim& dim = dims_[discrete_dims_[dd]];
    const double* x = points.values.data() + discrete_dims_[dd] * n;
    std::vector<double>& ux = unique_x_[dd];
    ux.assign(x, x + n);
    std::sort(ux.begin(), ux.end());
    ux.erase(std::unique(ux.begin(), ux.end()), ux.end());
    std::vector<int64_t>& cells = grid_cell_[dd];
    cells.assign(ux.size(), -1);
    bool all_on_grid = !dim.unique_slot.empty();
    if (all_on_grid) {
      const double dlow = dim.dist->low();
      for (size_t j = 0; j < ux.size(); ++j) {
        const double c = std::nearbyint((ux[j] - dlow) / dim.step);
        if (c >= 0 && c < static_cast<double>(dim.n_cells) && dlow + c * dim.step == ux[j]) {
          cells[j] = static_cast<int64_t>(c);
        } else {
          all_on_grid = false;
        }
      }
    }
    if (all_on_grid) {
      cell_memo_[dd].clear();
    } else {
      cell_memo_[dd].assign(ux.size() * dim.unique_mu.size(),
                            std::numeric_limits<double>::quiet_NaN());
    }
    for (size_t i = 0; i < n; ++i) {
      point_cell_[dd * n + i] =
          static_cast<size_t>(std::lower_bound(ux.begin(), ux.end(), x[i]) - ux.begin());
      if (!(x[i] >= dim.dist->low() && x[i] <= dim.dist->high())) {
        discrete_bounded = false;
      }
    }
  }

  double* row = row_buf_.data();
  uint32_t* survivors = survivors_.data();
  const size_t n_points = which.empty() ? n : which.size();
  for (size_t w = 0; w < n_points; ++w) {
    const size_t i = which.empty() ? w : which[w];
    // Every term that is cheap for all kernels: the offset, the continuous kernels' squared
    // distances, the categorical rows.
    bool outside = false;
    for (size_t d : continuous_dims_) {
      const Dim& dim = dims_[d];
      const double x = points.values[d * n + i];
      const double t = dim.log ? std::log(x) : x;
      if (t < dim.low || t > dim.high) {
        outside = true;
      }
    }
    if (outside) {
      out[i] = kNegInf;  // a density of 0 under every kernel
      continue;
    }
    // The first categorical dimension's row is added in the last continuous dimension's pass.
    auto categorical_row = [&](size_t c) {
      const size_t d = categorical_dims_[c];
      return dims_[d].log_cat_weights.data() + static_cast<size_t>(points.values[d * n + i]) * K;
    };
    const double* base = kernel_offset_.data();
    size_t next_categorical = 0;
    for (size_t c = 0; c < continuous_dims_.size(); ++c) {
      const Dim& dim = dims_[continuous_dims_[c]];
      double x = points.values[continuous_dims_[c] * n + i];
      if (dim.log) {
        x = std::log(x);
      }
      if (c + 1 == continuous_dims_.size() && !categorical_dims_.empty()) {
        SubtractSquaredDistanceAdd(base, dim.mu.data(), dim.inv_sigma.data(), x, categorical_row(0),
                                   K, row);
        next_categorical = 1;
      } else {
        SubtractSquaredDistance(base, dim.mu.data(), dim.inv_sigma.data(), x, K, row);
      }
      base = row;
    }
    if (base != row) {
      std::copy_n(base, K, row);
    }
    for (size_t c = next_categorical; c < categorical_dims_.size(); ++c) {
      AddTo(categorical_row(c), K, row);
    }

    // Kernels more than -kNegligible below the largest change the sum by less than e^-40 of
    // itself each: only the others (the survivors) get an exp.
    double max = kNegInf;
    size_t n_survivors = 0;
    if (n_discrete == 0) {
      max = MaxOf(row, K);
      if (std::isinf(max) && max < 0) {
        max = 0;  // every kernel gives 0: log 0 = -inf, not NaN
      }
      // The test the exp loop below makes, row[k] - max < kNegligible, as a cutoff on row[k]
      // would round differently: make it here too.
      for (size_t k = 0; k < K; ++k) {
        survivors[n_survivors] = static_cast<uint32_t>(k);
        n_survivors += !(row[k] - max < kNegligible);
      }
    } else {
      // Cell masses cost an erfc each, so only kernels that can matter get them. A kernel's
      // mass on a cell is at most 1, and at most the cell's width times the normal density at
      // the cell's nearest point (over the smallest bandwidth): with those bounds added, a
      // kernel that falls -kNegligible below some kernel's complete density contributes less
      // than e^kNegligible of the sum and is left out.
      // The point's column of each cell cache (nullptr: the memo).
      for (size_t dd = 0; dd < n_discrete; ++dd) {
        Dim& dim = dims_[discrete_dims_[dd]];
        const int64_t cell = grid_cell_[dd][point_cell_[dd * n + i]];
        cell_column_[dd] = cell >= 0 ? dim.cell_cache.data() + cell : nullptr;
      }
      auto complete = [&](size_t k) {
        double v = row[k];
        for (size_t dd = 0; dd < n_discrete; ++dd) {
          const Dim& dim = dims_[discrete_dims_[dd]];
          const double* column = cell_column_[dd];
          double mass = column != nullptr ? column[dim.kernel_row[k]]
                                          : std::numeric_limits<double>::quiet_NaN();
          if (std::isnan(mass)) {
            mass = CellLogMass(dd, point_cell_[dd * n + i], dim.unique_of_kernel[k]);
          }
          v += mass;
        }
        return v;
      };
      double cutoff = kNegInf;
      double* bound = bound_buf_.data();
      if (discrete_bounded) {
        const double* bound_base = row;
        for (size_t dd = 0; dd < n_discrete; ++dd) {
          const Dim& dim = dims_[discrete_dims_[dd]];
          const double x = points.values[discrete_dims_[dd] * n + i];
          double left = x - dim.step / 2;
          double right = x + dim.step / 2;
          if (dim.log) {
            left = std::log(left);
            right = std::log(right);
          }
          // log of width / (sqrt(2π) · smallest sigma), and a margin for rounding.
          const double peak =
              std::log((right - left) / dim.min_sigma) - truncnorm::kLogSqrt2Pi + 1e-6;
          if (dd + 1 < n_discrete) {
            AddCellBound(bound_base, dim.mu.data(), dim.inv_sigma.data(), left, right, peak, K,
                         bound);
          } else {
            AddCellBoundWithMaxima(bound_base, dim.mu.data(), dim.inv_sigma.data(), left, right,
                                   peak, K, bound, block_max_.data());
          }
          bound_base = bound;
        }
        // The kernel with the largest bound (the first, as a scan would pick) sets the cutoff.
        cutoff = complete(FirstIndexOfMax(bound, K, block_max_.data())) + kNegligible;
        n_survivors = Survivors(bound, K, cutoff, survivors);
      } else {
        n_survivors = K;
        for (size_t k = 0; k < K; ++k) {
          survivors[k] = static_cast<uint32_t>(k);
        }
      }
      // A kernel below the cutoff has complete <= bound < cutoff <= max + kNegligible: its
      // exp would be skipped below in any case.
      for (size_t j = 0; j < n_survivors; ++j) {
        const size_t k = survivors[j];
        row[k] = complete(k);
        max = std::max(max, row[k]);
      }
      if (std::isinf(max) && max < 0) {
        max = 0;
      }
    }
    // The survivors' terms, in kernel order; every other kernel's term is 0.
    double* terms = exp_buf_.data();
    if (approximate) {
      bool nan = false;
      for (size_t j = 0; j < n_survivors; ++j) {
        terms[j] = row[survivors[j]] - max;
        nan = nan || std::isnan(terms[j]);
      }
      ExpApprox(terms, n_survivors, terms);
      double sum = 0.0;
      for (size_t j = 0; j < n_survivors; ++j) {
        sum += terms[j];
      }
      out[i] = nan ? std::numeric_limits<double>::quiet_NaN() : std::log(sum) + max;
      continue;
    }
    for (size_t j = 0; j < n_survivors; ++j) {
      const double d = row[survivors[j]] - max;
      terms[j] = d < kNegligible ? 0.0 : std::exp(d);
    }
    out[i] = std::log(SparsePairwiseSum(survivors, terms, n_survivors, 0, K)) + max;
  }
}

}  // namespace plinth::tune
