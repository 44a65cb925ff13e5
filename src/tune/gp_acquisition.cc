#include "tune/gp_acquisition.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

namespace plinth::tune {
namespace {

using Eigen::MatrixXd;

const double kSqrtHalf = std::sqrt(0.5);
const double kInvSqrt2Pi = 1.0 / std::sqrt(2.0 * std::numbers::pi);
const double kSqrtHalfPi = std::sqrt(0.5 * std::numbers::pi);
const double kLogSqrt2Pi = std::log(std::sqrt(2.0 * std::numbers::pi));
constexpr double kEps = 1e-12;  // Optuna's _EPS: log utilities are clamped here

}  // namespace

double Erfcx(double x) {
  if (x < 15.0) {
    return std::exp(x * x) * std::erfc(x);
  }
  // Asymptotic series 1/(x√π)·Σ (−1)^k (2k−1)!!/(2x²)^k; its terms shrink until k ≈ x², far
  // past double precision here.
  const double inv_2x2 = 1.0 / (2.0 * x * x);
  double term = 1.0, sum = 1.0;
  for (int k = 1; k < 60; ++k) {
    term *= -(2.0 * k - 1.0) * inv_2x2;
    sum += term;
    if (std::abs(term) < 1e-17 * std::abs(sum)) break;
  }
  return sum / (x * std::sqrt(std::numbers::pi));
}

double StandardLogEi(double z) {
  if (z >= -25.0) {
    // The order of operations follows Optuna's torch expression.
    const double z_half = 0.5 * z;
    return std::log(z_half * std::erfc(-kSqrtHalf * z) + std::exp(-z_half * z) * kInvSqrt2Pi);
  }
  return -0.5 * z * z - kLogSqrt2Pi + std::log(1.0 + kSqrtHalfPi * z * Erfcx(-kSqrtHalf * z));
}

double StandardLogEiDerivative(double z) {
  // d/dz log ei(z) = Φ(z)/ei(z); for z < 0 with the common factor exp(−z²/2) cancelled.
  if (z >= 0.0) {
    const double cdf = 0.5 * std::erfc(-kSqrtHalf * z);
    return cdf / (z * cdf + std::exp(-0.5 * z * z) * kInvSqrt2Pi);
  }
  const double e = Erfcx(-kSqrtHalf * z);
  return 0.5 * e / (kInvSqrt2Pi * (1.0 + kSqrtHalfPi * z * e));
}

double LogEi(double mean, double var, double f0) {
  const double sigma = std::sqrt(var);
  return StandardLogEi((mean - f0) / sigma) + std::log(sigma);
}

double LogEiAcquisition::Eval(const double* x) const {
  double mean, var;
  gpr_->Posterior(x, &mean, &var);
  return LogEi(mean, var + stabilizing_noise_, threshold_);
}

void LogEiAcquisition::EvalBatch(const double* xs, size_t count, double* out) const {
  mean_buf_.resize(count);
  var_buf_.resize(count);
  gpr_->PosteriorBatch(xs, count, mean_buf_.data(), var_buf_.data());
  for (size_t p = 0; p < count; ++p) {
    out[p] = LogEi(mean_buf_[p], var_buf_[p] + stabilizing_noise_, threshold_);
  }
}

double LogEiAcquisition::EvalWithGradient(const double* x, double* grad) const {
  const size_t d = gpr_->dim();
  dmean_.resize(d);
  dvar_.resize(d);
  double mean, var;
  gpr_->PosteriorWithGradient(x, &mean, &var, dmean_.data(), dvar_.data());
  const double sigma = std::sqrt(var + stabilizing_noise_);
  const double z = (mean - threshold_) / sigma;
  const double dlogei = StandardLogEiDerivative(z);
  for (size_t m = 0; m < d; ++m) {
    const double dsigma = dvar_[m] / (2.0 * sigma);
    const double dz = (dmean_[m] - z * dsigma) / sigma;
    grad[m] = dlogei * dz + dsigma / sigma;
  }
  return StandardLogEi(z) + std::log(sigma);
}

Result<QLogEiAcquisition> QLogEiAcquisition::Create(const GpRegressor* gpr, double threshold,
                                                    std::vector<double> running,
                                                    std::vector<double> base_samples,
                                                    double stabilizing_noise) {
  QLogEiAcquisition a;
  const size_t n = gpr->n(), d = gpr->dim();
  a.gpr_ = gpr;
  a.threshold_ = threshold;
  a.noise_ = stabilizing_noise;
  a.r_ = running.size() / d;
  a.s_ = base_samples.size() / (a.r_ + 1);
  a.running_ = std::move(running);
  const size_t r = a.r_, s = a.s_;

  // V_r = C⁻¹ K(X, X_r) and the running trials' joint posterior.
  a.v_r_.assign(n * r, 0.0);
  std::vector<double> col(n), mean_r(r);
  MatrixXd cov(r, r);
  for (size_t j = 0; j < r; ++j) {
    gpr->KernelVector(&a.running_[j * d], col.data());
    std::vector<double> v = col;
    gpr->SolveCovariance(v.data());
    for (size_t i = 0; i < n; ++i) a.v_r_[i * r + j] = v[i];
  }
  for (size_t j = 0; j < r; ++j) {
    double mean, var;
    gpr->Posterior(&a.running_[j * d], &mean, &var);
    mean_r[j] = mean;
    gpr->KernelVector(&a.running_[j * d], col.data());
    for (size_t l = 0; l < r; ++l) {
      double prior = gpr->Kernel(&a.running_[j * d], &a.running_[l * d]);
      double explained = 0.0;
      for (size_t i = 0; i < n; ++i) explained += col[i] * a.v_r_[i * r + l];
      cov(j, l) = prior - explained;
    }
  }
  for (size_t j = 0; j < r; ++j) cov(j, j) = std::max(cov(j, j), 0.0) + stabilizing_noise;
  Eigen::LLT<MatrixXd> llt(cov);
  if (llt.info() != Eigen::Success) {
    return Internal("qLogEI: the running trials' posterior covariance is not positive definite.");
  }
  a.rr_chol_.assign(r * r, 0.0);
  Eigen::Map<MatrixXd> lr(a.rr_chol_.data(), r, r);
  lr = llt.matrixL();

  a.z_last_.resize(s);
  a.fantasies_.assign(s * r, 0.0);
  a.fantasy_util_.assign(s, -std::numeric_limits<double>::infinity());
  MatrixXd delta(r, s);
  for (size_t q = 0; q < s; ++q) {
    const double* zq = &base_samples[q * (r + 1)];
    a.z_last_[q] = zq[r];
    for (size_t j = 0; j < r; ++j) {
      double f = 0.0;
      for (size_t i = 0; i <= j; ++i) f += zq[i] * lr(j, i);
      delta(j, q) = f;
      a.fantasies_[q * r + j] = mean_r[j] + f;
      a.fantasy_util_[q] = std::max(a.fantasy_util_[q],
                                    std::log(std::max(a.fantasies_[q * r + j] - threshold, kEps)));
    }
  }
  MatrixXd solved = llt.solve(delta);
  a.a_.assign(solved.data(), solved.data() + r * s);  // column-major: a_[q * r + j]
  return a;
}

double QLogEiAcquisition::Eval(const double* x) const { return Compute(x, nullptr); }

double QLogEiAcquisition::EvalWithGradient(const double* x, double* grad) const {
  return Compute(x, grad);
}

double QLogEiAcquisition::Compute(const double* x, double* grad) const {
  const GpRegressor& g = *gpr_;
  const size_t n = g.n(), d = g.dim(), r = r_, s = s_;
  const bool want_grad = grad != nullptr;
  double mu, var;
  k_.resize(n);
  kr_.resize(r);
  c_.assign(r, 0.0);
  if (want_grad) {
    dmean_.resize(d);
    dvar_.resize(d);
    dk_.resize(n * d);
    dkr_.resize(r * d);
    dc_.assign(r * d, 0.0);
    g.PosteriorWithGradient(x, &mu, &var, dmean_.data(), dvar_.data());
    g.KernelVector(x, k_.data(), dk_.data());
    g.KernelRows(x, running_.data(), r, kr_.data(), dkr_.data());
  } else {
    g.Posterior(x, &mu, &var);
    g.KernelVector(x, k_.data());
    g.KernelRows(x, running_.data(), r, kr_.data());
  }
  // c = posterior cross-covariance of f(x) with the running trials.
  for (size_t j = 0; j < r; ++j) {
    double c = kr_[j];
    for (size_t i = 0; i < n; ++i) c -= k_[i] * v_r_[i * r + j];
    c_[j] = c;
    if (want_grad) {
      for (size_t m = 0; m < d; ++m) {
        double dc = dkr_[j * d + m];
        for (size_t i = 0; i < n; ++i) dc -= v_r_[i * r + j] * dk_[i * d + m];
        dc_[j * d + m] = dc;
      }
    }
  }
  Eigen::Map<const MatrixXd> lr(rr_chol_.data(), r, r);
  w_ = c_;
  Eigen::Map<Eigen::VectorXd> w(w_.data(), r);
  lr.triangularView<Eigen::Lower>().solveInPlace(w);
  lr.transpose().triangularView<Eigen::Upper>().solveInPlace(w);
  double cw = 0.0;
  for (size_t j = 0; j < r; ++j) cw += c_[j] * w_[j];
  const double raw_cov = var + noise_ - cw;
  const double cond_cov = std::max(raw_cov, 0.0);
  const double sd = std::sqrt(cond_cov);

  y_.resize(s);
  dlogit_.resize(s);
  double top = -std::numeric_limits<double>::infinity();
  for (size_t q = 0; q < s; ++q) {
    double cm = mu;
    for (size_t j = 0; j < r; ++j) cm += c_[j] * a_[q * r + j];
    y_[q] = cm + sd * z_last_[q];
    const double u = std::log(std::max(y_[q] - threshold_, kEps));
    dlogit_[q] = std::max(u, fantasy_util_[q]);
    top = std::max(top, dlogit_[q]);
  }
  double sum = 0.0;
  for (size_t q = 0; q < s; ++q) sum += std::exp(dlogit_[q] - top);
  const double value = top + std::log(sum) - std::log(static_cast<double>(s));
  if (!want_grad) {
    return value;
  }
  // Chain rule through the logsumexp, the max (torch splits ties evenly), the clamp and
  // y_q = cond_mean_q(x) + √cond_cov(x)·z_q.
  double coef_sum = 0.0, coef_z = 0.0;
  std::vector<double>& coef_a = w_;  // reuse: Σ_q coef_q·a_jq needs r slots, w no longer needed
  std::vector<double> cw_grad(w_.begin(), w_.end());
  std::fill(coef_a.begin(), coef_a.end(), 0.0);
  for (size_t q = 0; q < s; ++q) {
    const double diff = y_[q] - threshold_;
    if (!(diff > kEps)) continue;
    const double u = std::log(diff);
    double share = u > fantasy_util_[q] ? 1.0 : (u == fantasy_util_[q] ? 0.5 : 0.0);
    if (share == 0.0) continue;
    const double coef = share * std::exp(dlogit_[q] - top) / sum / diff;
    coef_sum += coef;
    coef_z += coef * z_last_[q];
    for (size_t j = 0; j < r; ++j) coef_a[j] += coef * a_[q * r + j];
  }
  for (size_t m = 0; m < d; ++m) {
    double dcov = dvar_[m];
    for (size_t j = 0; j < r; ++j) dcov -= 2.0 * cw_grad[j] * dc_[j * d + m];
    if (raw_cov <= 0.0) dcov = 0.0;
    double gm = coef_sum * dmean_[m];
    for (size_t j = 0; j < r; ++j) gm += coef_a[j] * dc_[j * d + m];
    if (sd > 0.0) gm += coef_z * dcov / (2.0 * sd);
    grad[m] = gm;
  }
  return value;
}

}  // namespace plinth::tune
