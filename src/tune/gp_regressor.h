// GpRegressor: the Gaussian-process surrogate of Optuna v5's GPSampler (optuna/_gp/gp.py,
// prior.py), in double precision on Eigen instead of torch.
//
// Kernel: k(a, b) = kernel_scale · Matérn-5/2(Σ_k λ_k · d_k(a, b)) with ARD inverse squared
// length scales λ_k, d_k = (a_k − b_k)² on numeric dimensions and [a_k ≠ b_k] (Hamming) on
// categorical ones; Matérn-5/2(r²) = exp(−√(5r²))·(5/3·r² + √(5r²) + 1). Observations get
// noise_var on the diagonal. Hyperparameters are fitted MAP: minimise −(log marginal
// likelihood + log prior) over raw = (log λ, log kernel_scale, log(noise_var − minimum_noise))
// with Optuna's prior −Σ(0.1/λ + 0.1·λ) + Gamma(2, 1) on the scale + Gamma(1.1, 30) on the
// noise, by L-BFGS (lbfgsb.h) from the previous fit, then from all-ones if that fails. The
// lengthscale part of the prior can instead be the dimension-scaled one of Hvarfner et al.
// (GpLengthscalePrior::kDimensionScaled), an opt-in departure from Optuna.
//
// Inputs are rows of n×d doubles (numeric dimensions normalised to [0, 1], categorical ones
// the choice index); targets standardised. A regressor is immutable once fitted, apart from
// scratch buffers: thread-compatible, not thread-safe.
#ifndef PLINTH_TUNE_GP_REGRESSOR_H_
#define PLINTH_TUNE_GP_REGRESSOR_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace plinth::tune {

// Optuna's prior.DEFAULT_MINIMUM_NOISE_VAR.
inline constexpr double kGpMinimumNoiseVar = 1e-6;

// The prior the MAP fit puts on the lengthscales ℓ_k = λ_k^(−1/2) (inputs in [0, 1]).
enum class GpLengthscalePrior : uint8_t {
  // Optuna's: log p = −Σ(0.1/λ_k + 0.1·λ_k). Its mode is ℓ = 1 whatever the dimension, and it
  // all but forbids ℓ > 5 (−0.1/λ = −2.5 there, −17 at ℓ = 13).
  kOptuna,
  // Hvarfner, Hellsten & Nardi 2024 ("Vanilla Bayesian Optimization Performs Great in High
  // Dimensions"; BoTorch's default since 0.12): ℓ_k ~ LogNormal(μ = √2 + ½·log d, σ = √3), d
  // the number of kernel dimensions, its density evaluated at ℓ as a MAP fit does:
  // log p = Σ −log ℓ_k − (log ℓ_k − μ)²/(2σ²). The expected distance between points grows as
  // √d, and so does this prior's median lengthscale; its heavy upper tail lets the data make a
  // dimension smooth (or irrelevant) instead of holding every ℓ near 1. Opt-in: on the tuning
  // benchmark's Styblinski-Tang-10 it did not change AutoSampler's results (docs/tuning.md).
  kDimensionScaled,
};

// "optuna" / "dim_scaled" (the Python and JSON spelling). Parse fails with kInvalidArgument.
std::string_view GpLengthscalePriorName(GpLengthscalePrior prior);
Result<GpLengthscalePrior> ParseGpLengthscalePrior(std::string_view name);

struct GpKernelParams {
  std::vector<double> inverse_squared_lengthscales;
  double kernel_scale = 1.0;
  double noise_var = 1.0;
};

// Matérn-5/2 as a function of the squared distance, and its derivative in the squared
// distance (−5/6·(1 + √(5r²))·exp(−√(5r²)), finite at 0, as Optuna's custom autograd has it).
double Matern52(double squared_distance);
double Matern52Derivative(double squared_distance);

class GpRegressor {
 public:
  // x: n rows of is_categorical.size() values; y: n targets.
  GpRegressor(std::vector<double> x, std::vector<double> y, std::vector<bool> is_categorical,
              GpKernelParams params,
              GpLengthscalePrior lengthscale_prior = GpLengthscalePrior::kOptuna);

  size_t n() const { return y_.size(); }
  size_t dim() const { return is_categorical_.size(); }
  const GpKernelParams& params() const { return params_; }
  const std::vector<bool>& is_categorical() const { return is_categorical_; }
  GpLengthscalePrior lengthscale_prior() const { return lengthscale_prior_; }
  std::span<const double> x_train() const { return x_; }
  // 1/√λ per dimension (the acquisition optimiser's preconditioner).
  std::vector<double> LengthScales() const;

  // The n×n kernel matrix (no noise), row-major.
  std::vector<double> KernelMatrix() const;
  double Kernel(const double* a, const double* b) const;

  // Optuna's fit loss at raw hyperparameters (see the file comment): −(log marginal
  // likelihood without its constant + log prior), and its gradient in `grad` (size d + 2).
  // With `deterministic`, noise_var is minimum_noise and the last gradient entry is 0.
  // NaN when the covariance is not positive definite.
  double Loss(std::span<const double> raw, bool deterministic, double minimum_noise,
              std::span<double> grad) const;
  // Log marginal likelihood (no constant) and log prior at the current parameters.
  double MarginalLogLikelihood() const;
  double LogPrior() const;

  // MAP fit from the current parameters, L-BFGS with gradient tolerance `gtol` (Optuna: 1e-2).
  // Failure (kInternal): the minimiser could not make progress from the start point, or the
  // optimum's covariance is not positive definite. The regressor is then unchanged.
  Status Fit(bool deterministic, double minimum_noise, double gtol);
  // Factorises the covariance for Posterior. Failure (kInternal): not positive definite.
  Status Cache();

  // Posterior mean and variance (clamped at 0) of f at x. Requires Cache().
  void Posterior(const double* x, double* mean, double* var) const;
  // The same for `count` points (rows of xs) at once: one triangular matrix solve instead of
  // `count` vector solves.
  void PosteriorBatch(const double* xs, size_t count, double* mean, double* var) const;
  // Also their gradients in x (size dim(); categorical dimensions get 0).
  void PosteriorWithGradient(const double* x, double* mean, double* var, double* dmean,
                             double* dvar) const;
  // k(x, X_train) into k (size n), and with dk (n×dim, row-major) its gradient in x.
  void KernelVector(const double* x, double* k, double* dk = nullptr) const;
  // The same against `count` other rows (e.g. running trials' parameters).
  void KernelRows(const double* x, const double* rows, size_t count, double* k,
                  double* dk = nullptr) const;
  // Solves C z = b in place (C = K + noise·I, via the cached Cholesky factor).
  void SolveCovariance(double* b) const;

 private:
  std::vector<double> x_;
  std::vector<double> y_;
  std::vector<bool> is_categorical_;
  GpKernelParams params_;
  GpLengthscalePrior lengthscale_prior_;
  // Cached by Cache(): lower Cholesky factor of C (n×n, column-major) and C⁻¹y.
  std::vector<double> chol_;
  std::vector<double> alpha_;
  mutable std::vector<double> k_buf_, v_buf_, dk_buf_, batch_buf_;
  // Loss's n×n scratch (Matérn values, derivatives, covariance/inverse), reused across the
  // fit's evaluations so that each does not fault in fresh pages.
  mutable std::vector<double> m_buf_, mp_buf_, c_buf_, w_buf_;
};

// Optuna's fit_kernel_params: fit from `cache`'s parameters (if given and of the same
// dimension), else / on failure from all-ones; if both fail, the all-ones regressor unfitted.
// The result is cached (ready for Posterior). Failure (kInternal) only if even the all-ones
// covariance is not positive definite.
Result<GpRegressor> FitGpRegressor(
    std::vector<double> x, std::vector<double> y, std::vector<bool> is_categorical,
    const std::optional<GpKernelParams>& cache, bool deterministic,
    double minimum_noise = kGpMinimumNoiseVar, double gtol = 1e-2,
    GpLengthscalePrior lengthscale_prior = GpLengthscalePrior::kOptuna);

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_GP_REGRESSOR_H_
