// Acquisition functions of Optuna v5's GPSampler (optuna/_gp/acqf.py) on a fitted
// GpRegressor, for a maximised standardised objective:
//   LogEi   log E[max(0, f(x) − f*)], Optuna's numerically stable `logei` (Ament et al. 2023,
//           eq. 9: the direct form for z ≥ −25, the erfcx form below);
//   QLogEi  the batch-aware form used while other trials are RUNNING: the running trials'
//           values are fantasised from the joint posterior with fixed normal base samples,
//           f(x) is drawn conditionally on them, and the utility is the mean over samples of
//           the max over the q-batch (running + x) of log max(y − f*, 1e-12), in log space.
// Both give analytic gradients in x for the local search. Optuna draws its base samples from
// a scrambled Sobol sequence (torch); here they are any fixed matrix (the sampler uses
// numpy-compatible standard normals), so the same samples give the same numbers.
//
// An acquisition function keeps scratch buffers: not thread-safe.
#ifndef PLINTH_TUNE_GP_ACQUISITION_H_
#define PLINTH_TUNE_GP_ACQUISITION_H_

#include <vector>

#include "tune/gp_regressor.h"

namespace plinth::tune {

// log(z·Φ(z) + φ(z)) and its derivative Φ(z)/(z·Φ(z) + φ(z)).
double StandardLogEi(double z);
double StandardLogEiDerivative(double z);
// erfc(x)·exp(x²), accurate for large x where the product would overflow.
double Erfcx(double x);
// log E_{y~N(mean, var)}[max(0, y − f0)].
double LogEi(double mean, double var, double f0);

class AcquisitionFunction {
 public:
  virtual ~AcquisitionFunction() = default;
  virtual double Eval(const double* x) const = 0;
  // Values at `count` points (rows of xs); by default one Eval each.
  virtual void EvalBatch(const double* xs, size_t count, double* out) const {
    const size_t d = gpr().dim();
    for (size_t p = 0; p < count; ++p) out[p] = Eval(&xs[p * d]);
  }
  // Value, and its gradient in x into grad (size dim).
  virtual double EvalWithGradient(const double* x, double* grad) const = 0;
  virtual const GpRegressor& gpr() const = 0;
};

class LogEiAcquisition : public AcquisitionFunction {
 public:
  // `gpr` must outlive this; threshold = the best standardised value so far.
  LogEiAcquisition(const GpRegressor* gpr, double threshold, double stabilizing_noise = 1e-12)
      : gpr_(gpr), threshold_(threshold), stabilizing_noise_(stabilizing_noise) {}
  double Eval(const double* x) const override;
  void EvalBatch(const double* xs, size_t count, double* out) const override;
  double EvalWithGradient(const double* x, double* grad) const override;
  const GpRegressor& gpr() const override { return *gpr_; }

 private:
  const GpRegressor* gpr_;
  double threshold_;
  mutable std::vector<double> mean_buf_, var_buf_;
  double stabilizing_noise_;
  mutable std::vector<double> dmean_, dvar_;
};

class QLogEiAcquisition : public AcquisitionFunction {
 public:
  // running: r rows of the normalised parameters of RUNNING trials; base_samples: S rows of
  // r + 1 standard normals (the last column for the candidate). Fails (kInternal) if the
  // running trials' posterior covariance cannot be factorised.
  static Result<QLogEiAcquisition> Create(const GpRegressor* gpr, double threshold,
                                          std::vector<double> running,
                                          std::vector<double> base_samples,
                                          double stabilizing_noise = 1e-12);
  double Eval(const double* x) const override;
  double EvalWithGradient(const double* x, double* grad) const override;
  const GpRegressor& gpr() const override { return *gpr_; }
  // Fantasised values at the running trials, S×r row-major (for tests).
  const std::vector<double>& fantasies() const { return fantasies_; }

 private:
  QLogEiAcquisition() = default;
  double Compute(const double* x, double* grad) const;

  const GpRegressor* gpr_ = nullptr;
  double threshold_ = 0.0;
  double noise_ = 0.0;
  size_t r_ = 0, s_ = 0;
  std::vector<double> running_;
  std::vector<double> z_last_;        // S: the candidate's base samples
  std::vector<double> fantasies_;     // S×r
  std::vector<double> fantasy_util_;  // S: max over running of log max(f − f*, eps)
  std::vector<double> rr_chol_;       // r×r lower Cholesky of the running posterior cov, col-major
  std::vector<double> a_;             // r×S: cov_rr⁻¹ (fantasy − mean_r)
  std::vector<double> v_r_;           // n×r: C⁻¹ K(X, X_running)
  mutable std::vector<double> k_, dk_, kr_, dkr_, c_, dc_, w_, dmean_, dvar_, y_, dlogit_;
};

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_GP_ACQUISITION_H_
