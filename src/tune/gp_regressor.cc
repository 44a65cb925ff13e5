#include "tune/gp_regressor.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cmath>
#include <utility>

#include "tune/lbfgsb.h"

namespace plinth::tune {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// Optuna's prior: the Gamma log density without its normalising constant.
double GammaLogPrior(double x, double concentration, double rate) {
  return (concentration - 1.0) * std::log(x) - rate * x;
}

// The lengthscale prior's log density at raw = log λ (constants omitted), and its derivative
// in raw. Dimension-scaled: log ℓ = −raw/2, log p = −log ℓ − (log ℓ − μ)²/(2σ²).
struct LengthscalePriorTerm {
  double log_prior;
  double derivative;
};
LengthscalePriorTerm LengthscaleLogPrior(GpLengthscalePrior prior, double raw, size_t dim) {
  if (prior == GpLengthscalePrior::kOptuna) {
    const double lambda = std::exp(raw);
    return {-(0.1 / lambda + 0.1 * lambda), 0.1 / lambda - 0.1 * lambda};
  }
  const double mu = std::sqrt(2.0) + 0.5 * std::log(static_cast<double>(dim));
  const double sigma_sq = 3.0;
  const double log_l = -0.5 * raw;
  const double z = log_l - mu;
  // d/d log ℓ = −1 − z/σ², and d log ℓ/d raw = −½.
  return {-log_l - z * z / (2.0 * sigma_sq), 0.5 + 0.5 * z / sigma_sq};
}

}  // namespace

std::string_view GpLengthscalePriorName(GpLengthscalePrior prior) {
  return prior == GpLengthscalePrior::kOptuna ? "optuna" : "dim_scaled";
}

Result<GpLengthscalePrior> ParseGpLengthscalePrior(std::string_view name) {
  if (name == "optuna") return GpLengthscalePrior::kOptuna;
  if (name == "dim_scaled") return GpLengthscalePrior::kDimensionScaled;
  return InvalidArgument("lengthscale_prior must be \"optuna\" or \"dim_scaled\".");
}

double Matern52(double squared_distance) {
  const double sqrt5d = std::sqrt(5.0 * squared_distance);
  return std::exp(-sqrt5d) * ((5.0 / 3.0) * squared_distance + sqrt5d + 1.0);
}

double Matern52Derivative(double squared_distance) {
  const double sqrt5d = std::sqrt(5.0 * squared_distance);
  return (-5.0 / 6.0) * (sqrt5d + 1.0) * std::exp(-sqrt5d);
}

GpRegressor::GpRegressor(std::vector<double> x, std::vector<double> y,
                         std::vector<bool> is_categorical, GpKernelParams params,
                         GpLengthscalePrior lengthscale_prior)
    : x_(std::move(x)),
      y_(std::move(y)),
      is_categorical_(std::move(is_categorical)),
      params_(std::move(params)),
      lengthscale_prior_(lengthscale_prior) {}

std::vector<double> GpRegressor::LengthScales() const {
  std::vector<double> out;
  for (double l : params_.inverse_squared_lengthscales) out.push_back(1.0 / std::sqrt(l));
  return out;
}

double GpRegressor::Kernel(const double* a, const double* b) const {
  const size_t d = dim();
  double sq = 0.0;
  for (size_t k = 0; k < d; ++k) {
    double diff = a[k] - b[k];
    double dk = is_categorical_[k] ? (diff * diff > 0.0 ? 1.0 : 0.0) : diff * diff;
    sq += dk * params_.inverse_squared_lengthscales[k];
  }
  return Matern52(sq) * params_.kernel_scale;
}

std::vector<double> GpRegressor::KernelMatrix() const {
  const size_t n = this->n(), d = dim();
  std::vector<double> out(n * n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) out[i * n + j] = Kernel(&x_[i * d], &x_[j * d]);
  }
  return out;
}

double GpRegressor::Loss(std::span<const double> raw, bool deterministic, double minimum_noise,
                         std::span<double> grad) const {
  const size_t n = this->n(), d = dim();
  std::vector<double> lambda(d);
  for (size_t k = 0; k < d; ++k) lambda[k] = std::exp(raw[k]);
  const double scale = std::exp(raw[d]);
  const double raw_noise = deterministic ? 0.0 : std::exp(raw[d + 1]);
  const double noise = deterministic ? minimum_noise : raw_noise + minimum_noise;

  m_buf_.resize(n * n);
  mp_buf_.resize(n * n);
  c_buf_.resize(n * n);
  w_buf_.resize(n * n);
  Eigen::Map<MatrixXd> m(m_buf_.data(), n, n), mp(mp_buf_.data(), n, n);
  Eigen::Map<MatrixXd> c(c_buf_.data(), n, n), w(w_buf_.data(), n, n);
  for (size_t i = 0; i < n; ++i) {
    m(i, i) = 1.0;
    mp(i, i) = Matern52Derivative(0.0);
    for (size_t j = 0; j < i; ++j) {
      double sq = 0.0;
      for (size_t k = 0; k < d; ++k) {
        double diff = x_[i * d + k] - x_[j * d + k];
        double dk = is_categorical_[k] ? (diff * diff > 0.0 ? 1.0 : 0.0) : diff * diff;
        sq += dk * lambda[k];
      }
      // Matern52 and Matern52Derivative sharing one sqrt and one exp.
      const double sqrt5d = std::sqrt(5.0 * sq);
      const double e = std::exp(-sqrt5d);
      m(i, j) = m(j, i) = e * ((5.0 / 3.0) * sq + sqrt5d + 1.0);
      mp(i, j) = mp(j, i) = (-5.0 / 6.0) * (sqrt5d + 1.0) * e;
    }
  }
  c = scale * m;
  c.diagonal().array() += noise;
  // In place: c's lower triangle becomes the Cholesky factor L.
  Eigen::LLT<Eigen::Ref<MatrixXd>> llt(c);
  if (llt.info() != Eigen::Success) {
    return std::nan("");
  }
  Eigen::Map<const VectorXd> y(y_.data(), n);
  double logdet_part = 0.0;
  for (size_t i = 0; i < n; ++i) logdet_part -= std::log(c(i, i));
  VectorXd inv_l_y = llt.matrixL().solve(y);
  const double mll = logdet_part - 0.5 * inv_l_y.squaredNorm();

  double log_prior = GammaLogPrior(scale, 2.0, 1.0) + GammaLogPrior(noise, 1.1, 30.0);
  std::vector<double> g_prior(d);
  for (size_t k = 0; k < d; ++k) {
    const LengthscalePriorTerm term = LengthscaleLogPrior(lengthscale_prior_, raw[k], d);
    log_prior += term.log_prior;
    g_prior[k] = term.derivative;
  }

  // d mll / dθ = ½ tr((αα' − C⁻¹) ∂C/∂θ), α = C⁻¹y; chain rule to the log parameters.
  VectorXd alpha = llt.matrixU().solve(inv_l_y);
  // C⁻¹ = L⁻ᵀL⁻¹: invert the triangle, then one symmetric rank-n product (lower half).
  w.setIdentity();
  llt.matrixL().solveInPlace(w);
  MatrixXd linv = w.triangularView<Eigen::Lower>();
  w.setZero();
  w.selfadjointView<Eigen::Lower>().rankUpdate(linv.transpose(), -1.0);
  w.selfadjointView<Eigen::Lower>().rankUpdate(alpha, 1.0);
  // Only the lower triangle of w = αα' − C⁻¹ is filled; the loops below read i >= j.
  std::vector<double> g_lambda(d, 0.0);
  double g_scale = 0.0;
  for (size_t i = 0; i < n; ++i) {
    g_scale += 0.5 * w(i, i) * m(i, i);
    for (size_t j = 0; j < i; ++j) {
      g_scale += w(i, j) * m(i, j);
      const double common = w(i, j) * scale * mp(i, j);
      for (size_t k = 0; k < d; ++k) {
        double diff = x_[i * d + k] - x_[j * d + k];
        double dk = is_categorical_[k] ? (diff * diff > 0.0 ? 1.0 : 0.0) : diff * diff;
        g_lambda[k] += common * dk;
      }
    }
  }
  for (size_t k = 0; k < d; ++k) {
    // Loss = −mll − prior (Optuna's: ∂prior/∂log λ = 0.1/λ − 0.1λ).
    grad[k] = -(lambda[k] * g_lambda[k] + g_prior[k]);
  }
  grad[d] = -(scale * g_scale + (1.0 - scale));
  grad[d + 1] =
      deterministic ? 0.0 : -(raw_noise * 0.5 * w.trace() + raw_noise * (0.1 / noise - 30.0));
  return -(mll + log_prior);
}

double GpRegressor::MarginalLogLikelihood() const {
  const size_t n = this->n();
  std::vector<double> k = KernelMatrix();
  Eigen::Map<MatrixXd> kk(k.data(), n, n);
  MatrixXd c = kk;
  c.diagonal().array() += params_.noise_var;
  Eigen::LLT<MatrixXd> llt(c);
  if (llt.info() != Eigen::Success) return std::nan("");
  double logdet_part = 0.0;
  for (size_t i = 0; i < n; ++i) logdet_part -= std::log(llt.matrixLLT()(i, i));
  VectorXd inv_l_y = llt.matrixL().solve(Eigen::Map<const VectorXd>(y_.data(), n));
  return logdet_part - 0.5 * inv_l_y.squaredNorm();
}

double GpRegressor::LogPrior() const {
  double lp =
      GammaLogPrior(params_.kernel_scale, 2.0, 1.0) + GammaLogPrior(params_.noise_var, 1.1, 30.0);
  const size_t d = dim();
  for (double l : params_.inverse_squared_lengthscales) {
    lp += LengthscaleLogPrior(lengthscale_prior_, std::log(l), d).log_prior;
  }
  return lp;
}

Status GpRegressor::Fit(bool deterministic, double minimum_noise, double gtol) {
  const size_t d = dim();
  std::vector<double> raw(d + 2);
  for (size_t k = 0; k < d; ++k) raw[k] = std::log(params_.inverse_squared_lengthscales[k]);
  raw[d] = std::log(params_.kernel_scale);
  // Optuna starts 1% of the minimum noise above it, so the log is finite.
  raw[d + 1] = std::log(params_.noise_var - 0.99 * minimum_noise);
  LbfgsbOptions options;
  options.pgtol = gtol;
  LbfgsbResult r =
      MinimizeLbfgsb([&](std::span<const double> p,
                         std::span<double> g) { return Loss(p, deterministic, minimum_noise, g); },
                     raw, {}, {}, options);
  if (!std::isfinite(r.f) || (!r.converged && r.iterations == 0)) {
    return Internal("GP kernel fit failed: no progress from the initial parameters.");
  }
  GpKernelParams fitted;
  for (size_t k = 0; k < d; ++k) fitted.inverse_squared_lengthscales.push_back(std::exp(r.x[k]));
  fitted.kernel_scale = std::exp(r.x[d]);
  fitted.noise_var = deterministic ? minimum_noise : minimum_noise + std::exp(r.x[d + 1]);
  GpKernelParams before = std::exchange(params_, std::move(fitted));
  if (Status s = Cache(); !s.ok()) {
    params_ = std::move(before);
    return s;
  }
  return Status::Ok();
}

Status GpRegressor::Cache() {
  const size_t n = this->n();
  std::vector<double> k = KernelMatrix();
  Eigen::Map<MatrixXd> c(k.data(), n, n);
  c.diagonal().array() += params_.noise_var;
  Eigen::LLT<MatrixXd> llt(c);
  if (llt.info() != Eigen::Success) {
    return Internal("GP covariance is not positive definite.");
  }
  chol_.assign(n * n, 0.0);
  Eigen::Map<MatrixXd> l(chol_.data(), n, n);
  l = llt.matrixL();
  alpha_ = y_;
  SolveCovariance(alpha_.data());
  return Status::Ok();
}

void GpRegressor::SolveCovariance(double* b) const {
  const size_t n = this->n();
  Eigen::Map<const MatrixXd> l(chol_.data(), n, n);
  Eigen::Map<VectorXd> v(b, n);
  l.triangularView<Eigen::Lower>().solveInPlace(v);
  l.transpose().triangularView<Eigen::Upper>().solveInPlace(v);
}

void GpRegressor::KernelVector(const double* x, double* k, double* dk) const {
  KernelRows(x, x_.data(), n(), k, dk);
}

void GpRegressor::KernelRows(const double* x, const double* rows, size_t count, double* k,
                             double* dk) const {
  const size_t n = count, d = dim();
  const auto& lambda = params_.inverse_squared_lengthscales;
  for (size_t i = 0; i < n; ++i) {
    const double* xi = &rows[i * d];
    double sq = 0.0;
    for (size_t m = 0; m < d; ++m) {
      double diff = x[m] - xi[m];
      double dm = is_categorical_[m] ? (diff * diff > 0.0 ? 1.0 : 0.0) : diff * diff;
      sq += dm * lambda[m];
    }
    k[i] = Matern52(sq) * params_.kernel_scale;
    if (dk != nullptr) {
      // The Hamming distance is a step function of x: no gradient on categorical dimensions.
      const double common = params_.kernel_scale * Matern52Derivative(sq) * 2.0;
      for (size_t m = 0; m < d; ++m) {
        dk[i * d + m] = is_categorical_[m] ? 0.0 : common * lambda[m] * (x[m] - xi[m]);
      }
    }
  }
}

void GpRegressor::Posterior(const double* x, double* mean, double* var) const {
  const size_t n = this->n();
  k_buf_.resize(n);
  KernelVector(x, k_buf_.data());
  double mu = 0.0;
  for (size_t i = 0; i < n; ++i) mu += k_buf_[i] * alpha_[i];
  // k'C⁻¹k = |L⁻¹k|²: one triangular solve.
  v_buf_ = k_buf_;
  Eigen::Map<const MatrixXd> l(chol_.data(), n, n);
  Eigen::Map<VectorXd> w(v_buf_.data(), n);
  l.triangularView<Eigen::Lower>().solveInPlace(w);
  *mean = mu;
  *var = std::max(params_.kernel_scale - w.squaredNorm(), 0.0);
}

void GpRegressor::PosteriorBatch(const double* xs, size_t count, double* mean, double* var) const {
  const size_t n = this->n(), d = dim();
  batch_buf_.resize(n * count);
  Eigen::Map<MatrixXd> kt(batch_buf_.data(), n, count);  // column p = k(x_p, X)
  for (size_t p = 0; p < count; ++p) KernelVector(&xs[p * d], &kt(0, p));
  Eigen::Map<const VectorXd> alpha(alpha_.data(), n);
  Eigen::Map<VectorXd>(mean, count) = kt.transpose() * alpha;
  Eigen::Map<const MatrixXd> l(chol_.data(), n, n);
  l.triangularView<Eigen::Lower>().solveInPlace(kt);
  for (size_t p = 0; p < count; ++p) {
    var[p] = std::max(params_.kernel_scale - kt.col(p).squaredNorm(), 0.0);
  }
}

void GpRegressor::PosteriorWithGradient(const double* x, double* mean, double* var, double* dmean,
                                        double* dvar) const {
  const size_t n = this->n(), d = dim();
  k_buf_.resize(n);
  dk_buf_.resize(n * d);
  KernelVector(x, k_buf_.data(), dk_buf_.data());
  v_buf_ = k_buf_;
  SolveCovariance(v_buf_.data());
  double mu = 0.0, kv = 0.0;
  for (size_t m = 0; m < d; ++m) dmean[m] = dvar[m] = 0.0;
  for (size_t i = 0; i < n; ++i) {
    mu += k_buf_[i] * alpha_[i];
    kv += k_buf_[i] * v_buf_[i];
    for (size_t m = 0; m < d; ++m) {
      dmean[m] += alpha_[i] * dk_buf_[i * d + m];
      dvar[m] -= 2.0 * v_buf_[i] * dk_buf_[i * d + m];
    }
  }
  *mean = mu;
  const double v = params_.kernel_scale - kv;
  *var = std::max(v, 0.0);
  if (v <= 0.0) {
    for (size_t m = 0; m < d; ++m) dvar[m] = 0.0;  // clamped
  }
}

Result<GpRegressor> FitGpRegressor(std::vector<double> x, std::vector<double> y,
                                   std::vector<bool> is_categorical,
                                   const std::optional<GpKernelParams>& cache, bool deterministic,
                                   double minimum_noise, double gtol,
                                   GpLengthscalePrior lengthscale_prior) {
  const size_t d = is_categorical.size();
  GpKernelParams ones{std::vector<double>(d, 1.0), 1.0, 1.0};
  std::vector<GpKernelParams> starts;
  if (cache && cache->inverse_squared_lengthscales.size() == d) starts.push_back(*cache);
  starts.push_back(ones);
  for (GpKernelParams& start : starts) {
    GpRegressor gpr(x, y, is_categorical, std::move(start), lengthscale_prior);
    if (gpr.Fit(deterministic, minimum_noise, gtol).ok()) {
      return gpr;
    }
  }
  // Optuna logs a warning and uses the default parameters as they are.
  GpRegressor gpr(std::move(x), std::move(y), std::move(is_categorical), std::move(ones),
                  lengthscale_prior);
  PLINTH_RETURN_IF_ERROR(gpr.Cache());
  return gpr;
}

}  // namespace plinth::tune
