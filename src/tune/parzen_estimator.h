// ParzenEstimator: TPE's density model, a mixture of product kernels with one kernel per
// observation plus a prior kernel (Optuna's _ParzenEstimator and
// _MixtureOfProductDistribution, optuna/samplers/_tpe/).
//
// Per numerical dimension (after log transform; a step widens the range by half a step each
// side) a kernel is a normal truncated to the range: centre = the observation, bandwidth =
// the larger gap to its sorted neighbours (the range ends count as neighbours; with
// consider_endpoints off the outermost kernels use their inner gap only), clipped to
// [range / min(100, n_kernels + 1), range]; the prior kernel sits mid-range with bandwidth =
// range. Stepped and integer dimensions give each grid point the kernel's mass on its cell.
// Per categorical dimension a kernel is a row of probabilities: prior_weight / n_kernels on
// every choice plus 1 on the observed one, normalised; the prior row is uniform.
// Mixture weights: the caller's per-observation weights plus prior_weight, normalised.
//
// Build() reuses its buffers, so rebuilding per suggestion allocates nothing once warm. Given
// kernel ids (TPE's trial numbers) it also keeps each kernel's masses, and a discrete
// dimension's cell masses, from one Build to the next, as most kernels of a long study are
// unchanged between suggestions. Not thread-safe.
#ifndef PLINTH_TUNE_PARZEN_ESTIMATOR_H_
#define PLINTH_TUNE_PARZEN_ESTIMATOR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/pairwise_sum.h"
#include "tune/distribution.h"
#include "tune/random_state.h"
#include "tune/truncnorm.h"

namespace plinth::tune {

struct ParzenEstimatorParameters {
  double prior_weight = 1.0;
  bool consider_magic_clip = true;
  bool consider_endpoints = false;
};

// Points in a search space, column-major: values[dim * n + i] is point i's internal value in
// dimension `dim` (a categorical index, an int or a float; never log-transformed).
struct Candidates {
  size_t n = 0;
  std::vector<double> values;
  double at(size_t dim, size_t i) const { return values[dim * n + i]; }
};

using ::plinth::PairwiseSum;  // numpy's summation order (core/pairwise_sum.h)

class ParzenEstimator {
 public:
  // Fits the mixture to `n_obs` observations over `dims` (the search space's distributions,
  // none Single()). `observations` is column-major (dims.size() × n_obs), internal values;
  // `obs_weights` has n_obs non-negative entries, the kernels' weights before the prior's.
  // `sorted_order`, if not empty, is column-major like `observations` and gives for each
  // numerical dimension the observation indices in ascending order of value (ties by index),
  // which spares the sort the bandwidth rule needs; categorical columns are ignored.
  // `kernel_ids`, if not empty, names each observation with a small non-negative integer that
  // is stable from one Build to the next (TPE passes trial numbers): a kernel whose centre and
  // bandwidth are those it had under the same id last time reuses its masses instead of
  // recomputing them. Ids are hints only; results never depend on them. The caches grow with
  // the largest id (a few doubles per id and numerical dimension).
  void Build(std::span<const Distribution* const> dims, std::span<const double> observations,
             size_t n_obs, std::span<const double> obs_weights,
             const ParzenEstimatorParameters& params, std::span<const uint32_t> sorted_order = {},
             std::span<const int> kernel_ids = {});

  // Draws `n` points from the mixture, consuming `rng` as Optuna's sampler consumes numpy's:
  // kernel indices, one uniform per point per categorical dimension, then one per point per
  // numerical dimension (inverse-CDF of the truncated normal), numerical values rounded onto
  // their grid.
  void Sample(RandomState* rng, size_t n, Candidates* out);

  // log density of each point; out.size() == points.n.
  void LogPdf(const Candidates& points, std::span<double> out);
  // LogPdf's values for the points `which` (ascending indices) only, bit for bit; the other
  // entries of `out` are left as they are.
  void LogPdfAt(const Candidates& points, std::span<const uint32_t> which, std::span<double> out);
  // LogPdf within LogPdfApproxError of it, cheaper: the same kernels and terms, but a
  // polynomial exp summed in order instead of libm's exp summed pairwise. NaN where LogPdf is
  // NaN, -inf where it is -inf. For ranking candidates before computing the few that can win.
  void LogPdfApprox(const Candidates& points, std::span<double> out);
  // A bound on |LogPdfApprox − LogPdf| at a point where LogPdfApprox gave the finite `value`
  // (generous: about a thousand times the worst rounding).
  double LogPdfApproxError(double value) const;

  size_t n_dims() const { return dims_.size(); }
  size_t n_kernels() const { return weights_.size(); }
  // Normalised mixture weights, the prior's last.
  const std::vector<double>& weights() const { return weights_; }
  // Numerical dimension: kernel centres and bandwidths in the transformed (log) scale.
  const std::vector<double>& mus(size_t dim) const { return dims_[dim].mu; }
  const std::vector<double>& sigmas(size_t dim) const { return dims_[dim].sigma; }
  // Categorical dimension: n_kernels × n_choices row-major probabilities.
  const std::vector<double>& categorical_weights(size_t dim) const {
    return dims_[dim].cat_weights;
  }

 private:
  static constexpr uint32_t kNoSlot = 0xFFFFFFFFu;
  struct PairHash {
    size_t operator()(const std::pair<double, double>& p) const {
      return std::hash<double>()(p.first) * 0x9E3779B97F4A7C15ull ^ std::hash<double>()(p.second);
    }
  };
  struct Dim {
    const Distribution* dist = nullptr;
    bool categorical = false;
    bool log = false;
    double step = 0.0;  // 0: continuous
    // Bounds the kernels are truncated to, transformed (widened by half a step, logged).
    double low = 0.0, high = 0.0;
    std::vector<double> mu, sigma;
    // Continuous: log of the kernel's mass on [low, high] and log sigma (the density's
    // normaliser). Discrete: the mass on [low, high] only.
    std::vector<double> log_mass, log_sigma;
    std::vector<double> inv_sigma;  // numerical: 1 / sigma, for LogPdf's inner loops
    double min_sigma = 0.0;         // discrete: the smallest sigma
    // Discrete: kernels with equal (mu, sigma) share their cell masses; kernel -> pair.
    std::vector<size_t> unique_of_kernel;
    std::vector<double> unique_mu, unique_sigma;
    // Discrete, with a cell cache: each pair's row in it.
    std::vector<uint32_t> unique_slot;
    std::vector<size_t> kernel_row;  // kernel -> its row's offset in cell_cache

    // Kept across Builds (see Build's kernel_ids), for the bounds they were computed with:
    // by kernel id, the observation, (mu, sigma) last seen and their log mass, log sigma and
    // cell-cache row.
    double cached_low = 0.0, cached_high = 0.0, cached_step = -1.0;
    bool cached_log = false;
    std::vector<double> cached_obs, cached_mu, cached_sigma, cached_log_mass, cached_log_sigma;
    std::vector<uint32_t> cached_slot;
    double prior_log_mass = 0.0;  // the prior kernel's, for these bounds
    // Sample's truncnorm::PpfLogTail of a kernel, by id, with the (mu, sigma) it is for (NaN:
    // none); the prior kernel's for these bounds (NaN until drawn from).
    std::vector<double> tail_mu, tail_sigma, tail_log;
    double prior_log_tail = 0.0;
    // Discrete dimensions with a small grid: log mass of a (mu, sigma) pair on each cell of the
    // grid, one row per pair (NaN until used), kept across Builds and LogPdf calls so that a
    // long study computes each cell mass once.
    size_t n_cells = 0;  // 0: no cell cache (grid too large)
    std::unordered_map<std::pair<double, double>, uint32_t, PairHash> slot_of_pair;
    std::vector<double> cell_cache;
    // Categorical.
    size_t n_choices = 0;
    std::vector<double> cat_weights;      // kernel-major
    std::vector<double> log_cat_weights;  // choice-major: log p[k][x] at [x * K + k]
  };

  void LogPdfPoints(const Candidates& points, std::span<const uint32_t> which, bool approximate,
                    std::span<double> out);
  void BuildNumerical(Dim* dim, const double* obs, const uint32_t* order, const int* ids,
                      size_t n_obs, const ParzenEstimatorParameters& params);
  // Clears the dimension's caches if its range changed, and sizes them for `ids`.
  void PrepareKernelCache(Dim* dim, const int* ids, size_t n_obs);
  void BuildCategorical(Dim* dim, const double* obs, size_t n_obs,
                        const ParzenEstimatorParameters& params);
  // Discrete: sets up the cell cache's row of each unique (mu, sigma) pair.
  void AssignCellSlots(Dim* dim);
  // The log mass of unique kernel `u` of discrete dimension `dd` on the cell of that
  // dimension's unique point `ux`, computed on first use (the cell cache, or LogPdf's memo).
  double CellLogMass(size_t dd, size_t ux, size_t u);

  std::vector<Dim> dims_;
  std::vector<int> kernel_ids_;  // Build's kernel_ids (empty: none)
  std::vector<double> weights_;
  std::vector<double> log_weights_;
  // The part of each kernel's log density that does not depend on the point: its log weight
  // minus every continuous dimension's normaliser and every discrete dimension's mass.
  std::vector<double> kernel_offset_;
  std::vector<size_t> continuous_dims_, categorical_dims_, discrete_dims_;

  // Scratch, reused.
  std::vector<std::pair<double, size_t>> sort_buf_;
  std::vector<double> sorted_buf_;
  std::vector<size_t> active_;
  std::vector<double> quantiles_, a_buf_, b_buf_, mass_buf_, tail_buf_, ppf_out_;
  std::vector<double> row_buf_, exp_buf_, bound_buf_, cell_mass_;
  // LogPdf, per discrete dimension: the points' distinct values, and the memo of cell masses
  // (distinct value-major, NaN until computed).
  std::vector<std::vector<double>> unique_x_, cell_memo_;
  // Per discrete dimension and distinct value: its cell in the cell cache, or -1 (memo).
  std::vector<std::vector<int64_t>> grid_cell_;
  std::vector<size_t> point_cell_;
  std::vector<uint32_t> survivors_;
  std::vector<double> block_max_;
  std::vector<const double*> cell_column_;
  truncnorm::PpfWorkspace ppf_ws_;
  std::vector<double> cat_rows_, cat_log_rows_;
};

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_PARZEN_ESTIMATOR_H_
