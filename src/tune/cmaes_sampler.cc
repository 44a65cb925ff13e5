#include "tune/cmaes_sampler.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/log.h"
#include "core/pairwise_sum.h"
#include "tune/symmetric_eigen.h"

namespace plinth::tune {
namespace {

// cmaes' _EPS (eigenvalue floor, w_io's guard) and Optuna's floor on sigma0.
constexpr double kCmaEps = 1e-8;
constexpr double kSigma0Floor = 1e-10;
constexpr double kSigmaMax = 1e32;
constexpr double kMeanMax = 1e32;

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace

// ---------------------------------------------------------------------------------------------
// numpy's legacy Gaussian

double LegacyGauss::Next() {
  if (has_cached_) {
    has_cached_ = false;
    return cached_;
  }
  double x1, x2, r2;
  do {
    x1 = 2.0 * rng_.RandomSample() - 1.0;
    x2 = 2.0 * rng_.RandomSample() - 1.0;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1.0 || r2 == 0.0);
  const double f = std::sqrt(-2.0 * std::log(r2) / r2);
  cached_ = f * x1;
  has_cached_ = true;
  return f * x2;
}

// ---------------------------------------------------------------------------------------------
// cmaes.CMA

Result<Cma> Cma::Create(std::vector<double> mean, double sigma,
                        std::vector<std::pair<double, double>> bounds, int n_max_resampling,
                        uint32_t seed, int popsize, std::vector<double> cov) {
  const int n = static_cast<int>(mean.size());
  if (n == 0) {
    return InvalidArgument("The dimension of mean must be positive");
  }
  if (!(sigma > 0)) {
    return InvalidArgument("sigma must be non-zero positive value");
  }
  if (static_cast<int>(bounds.size()) != n) {
    return InvalidArgument("invalid bounds");
  }
  for (int i = 0; i < n; ++i) {
    if (!(std::abs(mean[i]) < kMeanMax) || mean[i] < bounds[i].first ||
        mean[i] > bounds[i].second) {
      return InvalidArgument("The mean must lie inside the bounds.");
    }
  }
  if (!cov.empty() && cov.size() != static_cast<size_t>(n) * n) {
    return InvalidArgument("Invalid shape of covariance matrix");
  }
  Cma cma;
  cma.gauss_.Reseed(seed);
  const int lambda = popsize > 0 ? popsize : 4 + static_cast<int>(std::floor(3 * std::log(n)));
  const int mu = lambda / 2;
  // Weights (eq. 49–53 of Hansen's tutorial), in cmaes' order of operations.
  std::vector<double> wp(lambda);
  for (int i = 0; i < lambda; ++i) {
    wp[i] = std::log((lambda + 1) / 2.0) - std::log(i + 1.0);
  }
  auto eff = [](const double* w, int k) {
    std::vector<double> sq(w, w + k);
    for (double& x : sq) x *= x;
    const double s = PairwiseSum(w, k);
    return (s * s) / PairwiseSum(sq.data(), k);
  };
  const double mu_eff = eff(wp.data(), mu);
  const double mu_eff_minus = eff(wp.data() + mu, lambda - mu);
  const double alpha_cov = 2;
  const double c1 = alpha_cov / ((n + 1.3) * (n + 1.3) + mu_eff);
  const double cmu = std::min(1 - c1 - 1e-8, alpha_cov * (mu_eff - 2 + 1 / mu_eff) /
                                                 ((n + 2) * (n + 2) + alpha_cov * mu_eff / 2));
  if (!(c1 <= 1 - cmu) || !(cmu <= 1 - c1)) {
    return InvalidArgument("invalid learning rate for the rank-one or rank-mu update");
  }
  const double min_alpha =
      std::min({1 + c1 / cmu, 1 + (2 * mu_eff_minus) / (mu_eff + 2), (1 - c1 - cmu) / (n * cmu)});
  std::vector<double> pos, neg;
  for (double w : wp) {
    if (w > 0) pos.push_back(w);
    if (w < 0) neg.push_back(std::abs(w));
  }
  const double positive_sum = PairwiseSum(pos.data(), pos.size());
  const double negative_sum = PairwiseSum(neg.data(), neg.size());
  cma.weights_.resize(lambda);
  for (int i = 0; i < lambda; ++i) {
    cma.weights_[i] = wp[i] >= 0 ? 1 / positive_sum * wp[i] : min_alpha / negative_sum * wp[i];
  }
  cma.c_sigma_ = (mu_eff + 2) / (n + mu_eff + 5);
  cma.d_sigma_ = 1 + 2 * std::max(0.0, std::sqrt((mu_eff - 1) / (n + 1)) - 1) + cma.c_sigma_;
  cma.cc_ = (4 + mu_eff / n) / (n + 4 + 2 * mu_eff / n);
  cma.n_ = n;
  cma.popsize_ = lambda;
  cma.mu_ = mu;
  cma.mu_eff_ = mu_eff;
  cma.c1_ = c1;
  cma.cmu_ = cmu;
  cma.cm_ = 1;
  cma.chi_n_ = std::sqrt(static_cast<double>(n)) *
               (1.0 - (1.0 / (4.0 * n)) + 1.0 / (21.0 * (static_cast<double>(n) * n)));
  cma.p_sigma_.assign(n, 0.0);
  cma.pc_.assign(n, 0.0);
  cma.mean_ = std::move(mean);
  if (cov.empty()) {
    cma.c_.assign(static_cast<size_t>(n) * n, 0.0);
    for (int i = 0; i < n; ++i) cma.c_[i * n + i] = 1.0;
  } else {
    cma.c_ = std::move(cov);
  }
  cma.sigma_ = sigma;
  cma.bounds_ = std::move(bounds);
  cma.n_max_resampling_ = n_max_resampling;
  return cma;
}

void Cma::EigenDecomposition() {
  if (have_eigen_) {
    return;
  }
  const int n = n_;
  std::vector<double> sym(static_cast<size_t>(n) * n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) sym[i * n + j] = (c_[i * n + j] + c_[j * n + i]) / 2;
  }
  std::vector<double> d2;
  // numpy's eigh is LAPACK dsyevd; below 26 dimensions we follow its steps so that the
  // eigenvector signs, which decide the points drawn, are LAPACK's. Above, LAPACK switches to
  // divide and conquer, which is not reproduced: Eigen's solver gives the same distribution
  // with possibly flipped columns.
  if (n > kLapackSteqrMaxN || !SymmetricEigenLapack(n, sym, &d2, &b_)) {
    Eigen::SelfAdjointEigenSolver<RowMatrix> solver(Eigen::Map<RowMatrix>(sym.data(), n, n));
    RowMatrix b = solver.eigenvectors();
    b_.assign(b.data(), b.data() + static_cast<size_t>(n) * n);
    d2.assign(solver.eigenvalues().data(), solver.eigenvalues().data() + n);
  }
  d_.resize(n);
  for (int i = 0; i < n; ++i) {
    d_[i] = std::sqrt(d2[i] < 0 ? kCmaEps : d2[i]);
  }
  // C = B·diag(D²)·Bᵀ, as cmaes rebuilds it.
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      double sum = 0;
      for (int k = 0; k < n; ++k) sum += (b_[i * n + k] * (d_[k] * d_[k])) * b_[j * n + k];
      c_[i * n + j] = sum;
    }
  }
  have_eigen_ = true;
}

std::vector<double> Cma::Ask() {
  EigenDecomposition();
  const int n = n_;
  std::vector<double> z(n), x(n);
  auto sample = [&] {
    for (int i = 0; i < n; ++i) z[i] = gauss_.Next();
    for (int i = 0; i < n; ++i) {
      double y = 0;
      for (int k = 0; k < n; ++k) y += (b_[i * n + k] * d_[k]) * z[k];
      x[i] = mean_[i] + sigma_ * y;
    }
  };
  auto feasible = [&] {
    for (int i = 0; i < n; ++i) {
      if (!(x[i] >= bounds_[i].first && x[i] <= bounds_[i].second)) return false;
    }
    return true;
  };
  for (int i = 0; i < n_max_resampling_; ++i) {
    sample();
    if (feasible()) return x;
  }
  sample();
  for (int i = 0; i < n; ++i) {
    x[i] = std::min(std::max(x[i], bounds_[i].first), bounds_[i].second);
  }
  return x;
}

Status Cma::Tell(std::vector<CmaSolution> solutions) {
  if (static_cast<int>(solutions.size()) != popsize_) {
    return InvalidArgument("Must tell popsize-length solutions.");
  }
  const int n = n_;
  for (const CmaSolution& s : solutions) {
    if (static_cast<int>(s.x.size()) != n) {
      return InvalidArgument("A solution has the wrong dimension.");
    }
    for (double v : s.x) {
      if (!(std::abs(v) < kMeanMax)) {
        return InvalidArgument("Abs of all param values must be less than 1e32");
      }
    }
  }
  ++generation_;
  std::stable_sort(solutions.begin(), solutions.end(),
                   [](const CmaSolution& a, const CmaSolution& b) { return a.value < b.value; });
  EigenDecomposition();
  have_eigen_ = false;
  Eigen::Map<const RowMatrix> b(b_.data(), n, n);
  Eigen::Map<const Eigen::VectorXd> d(d_.data(), n);

  // y_k = (x_k − m) / σ; the weighted mean step over the best mu.
  RowMatrix y(popsize_, n);
  for (int k = 0; k < popsize_; ++k) {
    for (int i = 0; i < n; ++i) y(k, i) = (solutions[k].x[i] - mean_[i]) / sigma_;
  }
  Eigen::VectorXd y_w = Eigen::VectorXd::Zero(n);
  for (int k = 0; k < mu_; ++k) {
    for (int i = 0; i < n; ++i) y_w[i] += y(k, i) * weights_[k];
  }
  for (int i = 0; i < n; ++i) mean_[i] += cm_ * sigma_ * y_w[i];

  // Step size: C^(−1/2) = B·D⁻¹·Bᵀ.
  RowMatrix c_inv_sqrt = b * d.cwiseInverse().asDiagonal() * b.transpose();
  Eigen::VectorXd cy = c_inv_sqrt * y_w;
  const double ps_coef = std::sqrt(c_sigma_ * (2 - c_sigma_) * mu_eff_);
  double norm2 = 0;
  for (int i = 0; i < n; ++i) {
    p_sigma_[i] = (1 - c_sigma_) * p_sigma_[i] + ps_coef * cy[i];
    norm2 += p_sigma_[i] * p_sigma_[i];
  }
  const double norm_p_sigma = std::sqrt(norm2);
  sigma_ *= std::exp((c_sigma_ / d_sigma_) * (norm_p_sigma / chi_n_ - 1));
  sigma_ = std::min(sigma_, kSigmaMax);

  // Covariance: rank-one and rank-mu updates, h_sigma stalling p_c after big steps.
  const double left = norm_p_sigma / std::sqrt(1 - std::pow(1 - c_sigma_, 2.0 * (generation_ + 1)));
  const double right = (1.4 + 2.0 / (n + 1)) * chi_n_;
  const double h_sigma = left < right ? 1.0 : 0.0;
  const double pc_coef = h_sigma * std::sqrt(cc_ * (2 - cc_) * mu_eff_);
  for (int i = 0; i < n; ++i) pc_[i] = (1 - cc_) * pc_[i] + pc_coef * y_w[i];
  std::vector<double> w_io(popsize_);
  for (int k = 0; k < popsize_; ++k) {
    if (weights_[k] >= 0) {
      w_io[k] = weights_[k] * 1;
    } else {
      const double norm = (c_inv_sqrt * y.row(k).transpose()).norm();
      w_io[k] = weights_[k] * (n / (norm * norm + kCmaEps));
    }
  }
  const double delta_h_sigma = (1 - h_sigma) * cc_ * (2 - cc_);
  RowMatrix rank_mu = RowMatrix::Zero(n, n);
  for (int k = 0; k < popsize_; ++k) {
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) rank_mu(i, j) += w_io[k] * (y(k, i) * y(k, j));
    }
  }
  const double decay =
      1 + c1_ * delta_h_sigma - c1_ - cmu_ * PairwiseSum(weights_.data(), weights_.size());
  Eigen::Map<RowMatrix> c(c_.data(), n, n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      c(i, j) = decay * c(i, j) + c1_ * (pc_[i] * pc_[j]) + cmu_ * rank_mu(i, j);
    }
  }
  // cmaes pickles C as its upper triangle (Optuna restores the optimizer from that pickle
  // before every trial), so the lower triangle is the mirrored upper one.
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < i; ++j) c(i, j) = c(j, i);
  }
  return Status::Ok();
}

std::vector<double> Cma::Serialize() const {
  std::vector<double> out = {static_cast<double>(n_), static_cast<double>(popsize_),
                             static_cast<double>(generation_), sigma_};
  out.insert(out.end(), mean_.begin(), mean_.end());
  out.insert(out.end(), p_sigma_.begin(), p_sigma_.end());
  out.insert(out.end(), pc_.begin(), pc_.end());
  out.insert(out.end(), c_.begin(), c_.end());
  return out;
}

Result<Cma> Cma::Deserialize(const std::vector<double>& state) {
  if (state.size() < 4) {
    return InvalidArgument("A CMA-ES state has at least 4 numbers.");
  }
  const double n_value = state[0], popsize_value = state[1];
  if (!(n_value >= 1 && n_value <= 10000 && n_value == std::floor(n_value)) ||
      !(popsize_value >= 1 && popsize_value == std::floor(popsize_value))) {
    return InvalidArgument("A CMA-ES state has an invalid dimension or population size.");
  }
  const size_t n = static_cast<size_t>(n_value);
  if (state.size() != 4 + 3 * n + n * n) {
    return InvalidArgument("A CMA-ES state of dimension " + std::to_string(n) + " has " +
                           std::to_string(4 + 3 * n + n * n) + " numbers, not " +
                           std::to_string(state.size()) + ".");
  }
  auto part = [&](size_t offset, size_t count) {
    return std::vector<double>(state.begin() + static_cast<std::ptrdiff_t>(offset),
                               state.begin() + static_cast<std::ptrdiff_t>(offset + count));
  };
  // Built at the centre, then moved: the mean may have left the box (cmaes checks the bounds
  // only when an optimizer is created).
  PLINTH_ASSIGN_OR_RETURN(Cma cma, Create(std::vector<double>(n, 0.5), state[3],
                                          std::vector<std::pair<double, double>>(n, {0.0, 1.0}),
                                          10 * static_cast<int>(n), 0,
                                          static_cast<int>(popsize_value), part(4 + 3 * n, n * n)));
  cma.generation_ = static_cast<int>(state[2]);
  cma.mean_ = part(4, n);
  cma.p_sigma_ = part(4 + n, n);
  cma.pc_ = part(4 + 2 * n, n);
  return cma;
}

Result<WarmStart> GetWarmStartMgd(std::vector<CmaSolution> solutions, double gamma, double alpha) {
  if (!(gamma > 0 && gamma <= 1)) {
    return InvalidArgument("gamma should be in (0, 1]");
  }
  if (solutions.empty()) {
    return InvalidArgument("solutions should contain one or more items.");
  }
  std::stable_sort(solutions.begin(), solutions.end(),
                   [](const CmaSolution& a, const CmaSolution& b) { return a.value < b.value; });
  const int gamma_n = static_cast<int>(std::floor(solutions.size() * gamma));
  if (gamma_n < 1) {
    return InvalidArgument("One or more solutions must be selected from a source task");
  }
  const int dim = static_cast<int>(solutions[0].x.size());
  RowMatrix cov_term = RowMatrix::Zero(dim, dim);
  Eigen::VectorXd mean_term = Eigen::VectorXd::Zero(dim);
  for (int k = 0; k < gamma_n; ++k) {
    Eigen::Map<const Eigen::VectorXd> x(solutions[k].x.data(), dim);
    cov_term += x * x.transpose();
  }
  for (int k = 0; k < gamma_n; ++k) {
    mean_term += Eigen::Map<const Eigen::VectorXd>(solutions[k].x.data(), dim);
  }
  mean_term /= gamma_n;
  RowMatrix sigma_matrix = alpha * alpha * RowMatrix::Identity(dim, dim) + cov_term / gamma_n -
                           mean_term * mean_term.transpose();
  const double det = sigma_matrix.partialPivLu().determinant();
  WarmStart out;
  out.mean.assign(mean_term.data(), mean_term.data() + dim);
  out.sigma = std::pow(det, 1.0 / 2.0 / dim);
  RowMatrix cov = sigma_matrix / std::pow(det, 1.0 / dim);
  out.cov.assign(cov.data(), cov.data() + static_cast<size_t>(dim) * dim);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The [0, 1] coding

UnitTransform::UnitTransform(const Distribution& d) : distribution(d) {
  if (d.kind() == DistributionKind::kInt) {
    const double half = 0.5 * d.step();
    if (d.log()) {
      low = std::log(d.low() - half);
      high = std::log(d.high() + half);
    } else {
      low = d.low() - half;
      high = d.high() + half;
    }
  } else if (d.log()) {
    low = std::log(d.low());
    high = std::log(d.high());
  } else if (d.has_step()) {
    low = d.low() - 0.5 * d.step();
    high = d.high() + 0.5 * d.step();
  } else {
    low = d.low();
    high = d.high();
  }
}

double UnitTransform::Encode(double internal) const {
  if (low == high) {
    return 0.5;
  }
  const double t = distribution.log() ? std::log(internal) : internal;
  return (t - low) / (high - low);
}

double UnitTransform::Decode(double unit) const {
  const Distribution& d = distribution;
  const double t = low + unit * (high - low);
  // Python's round() and numpy's round both round half to even: nearbyint under the default
  // rounding mode.
  if (d.kind() == DistributionKind::kInt) {
    double v;
    if (d.log()) {
      v = std::nearbyint(std::exp(t));
    } else {
      v = std::floor((t - d.low()) / d.step() + 0.5) * d.step() + d.low();
    }
    return std::min(std::max(v, d.low()), d.high());
  }
  const double below_high = std::nextafter(d.high(), d.high() - 1);
  if (d.log()) {
    return std::min(std::max(std::exp(t), d.low()), below_high);
  }
  if (d.has_step()) {
    const double v = std::nearbyint((t - d.low()) / d.step()) * d.step() + d.low();
    return std::min(std::max(v, d.low()), d.high());
  }
  return std::min(t, below_high);
}

// ---------------------------------------------------------------------------------------------
// The sampler

Status CmaEsOptions::Validate() const {
  if (n_startup_trials < 0) {
    return InvalidArgument("n_startup_trials must be >= 0.");
  }
  if (popsize && *popsize < 1) {
    return InvalidArgument("popsize must be non-zero positive value.");
  }
  if (sigma0 && !(*sigma0 > 0)) {
    return InvalidArgument("sigma0 must be positive.");
  }
  if (source_trials && (x0 || sigma0)) {
    return InvalidArgument(
        "It is prohibited to pass `source_trials` argument when x0 or sigma0 is specified.");
  }
  return Status::Ok();
}

Result<std::unique_ptr<CmaEsSampler>> CmaEsSampler::Create(CmaEsOptions options) {
  PLINTH_RETURN_IF_ERROR(options.Validate());
  return std::unique_ptr<CmaEsSampler>(new CmaEsSampler(std::move(options)));
}

// Optuna seeds `_cma_rng` and the independent RandomSampler with the same seed, separately.
CmaEsSampler::CmaEsSampler(CmaEsOptions options)
    : options_(std::move(options)),
      rng_(options_.seed ? RandomState(*options_.seed) : RandomState::FromEntropy()),
      independent_(options_.seed) {}

void CmaEsSampler::UpdateIntersection(const Study& study) {
  const std::vector<int>& order = study.FinishOrder();
  std::vector<std::pair<int, int>> params, kept;
  for (; finish_seen_ < order.size(); ++finish_seen_) {
    const FrozenTrial& t = study.trial(order[finish_seen_]);
    if (t.state != TrialState::kComplete) {
      continue;
    }
    params.clear();
    for (const TrialParam& p : t.params) {
      params.emplace_back(p.param_id, p.distribution_id);
    }
    std::sort(params.begin(), params.end());
    if (!intersection_) {
      intersection_ = params;
      continue;
    }
    kept.clear();
    std::set_intersection(intersection_->begin(), intersection_->end(), params.begin(),
                          params.end(), std::back_inserter(kept));
    intersection_->swap(kept);
  }
}

SearchSpace CmaEsSampler::InferRelativeSearchSpace(const Study& study, const FrozenTrial& trial) {
  UpdateIntersection(study);
  SearchSpace space;
  if (!intersection_) {
    return space;
  }
  for (const auto& [pid, did] : *intersection_) {
    const Distribution& d = study.distribution(did);
    // CMA-ES cannot move along a single value, and categorical choices have no order.
    if (d.Single() || d.is_categorical()) {
      continue;
    }
    space.push_back({study.ParamName(pid), d});
  }
  std::sort(space.begin(), space.end(),
            [](const SearchSpaceEntry& a, const SearchSpaceEntry& b) { return a.name < b.name; });
  return space;
}

void CmaEsSampler::CompletedTrials(const Study& study,
                                   std::vector<std::pair<int, double>>* out) const {
  out->clear();
  for (const FrozenTrial& t : study.trials()) {
    if (t.state == TrialState::kComplete) {
      out->emplace_back(t.number, *t.value);
    } else if (t.state == TrialState::kPruned && options_.consider_pruned_trials &&
               !t.intermediate_values.empty()) {
      out->emplace_back(t.number, t.intermediate_values.back().second);
    }
  }
}

Result<Cma> CmaEsSampler::InitOptimizer(const Study& study, const SearchSpace& space) {
  const size_t n = space.size();
  std::vector<UnitTransform> trans;
  for (const SearchSpaceEntry& e : space) trans.emplace_back(e.distribution);
  std::vector<double> mean(n);
  double sigma0;
  std::vector<double> cov;
  if (!options_.source_trials) {
    if (!options_.x0) {
      // The centre of [0, 1] is lower + (upper − lower) / 2.
      for (size_t i = 0; i < n; ++i) mean[i] = 0.0 + (1.0 - 0.0) / 2;
    } else {
      for (size_t i = 0; i < n; ++i) {
        auto it = std::find_if(options_.x0->begin(), options_.x0->end(),
                               [&](const auto& kv) { return kv.first == space[i].name; });
        if (it == options_.x0->end()) {
          return InvalidArgument("x0 has no value for parameter '" + space[i].name + "'.");
        }
        mean[i] = trans[i].Encode(it->second);
      }
    }
    sigma0 = options_.sigma0 ? *options_.sigma0 : (1.0 - 0.0) / 6;
  } else {
    const bool maximize = study.direction() == StudyDirection::kMaximize;
    std::vector<CmaSolution> source;
    for (const CmaSourceTrial& t : *options_.source_trials) {
      const bool state_ok = t.state == TrialState::kComplete ||
                            (t.state == TrialState::kPruned && options_.consider_pruned_trials);
      if (!state_ok || !t.value || t.params.size() != n) {
        continue;
      }
      CmaSolution s;
      for (size_t i = 0; i < n && s.x.size() == i; ++i) {
        for (const auto& [name, value] : t.params) {
          if (name == space[i].name) {
            s.x.push_back(trans[i].Encode(value));
            break;
          }
        }
      }
      if (s.x.size() != n) {
        continue;  // another space
      }
      s.value = maximize ? -*t.value : *t.value;
      source.push_back(std::move(s));
    }
    if (source.empty()) {
      return InvalidArgument("No compatible source_trials");
    }
    PLINTH_ASSIGN_OR_RETURN(WarmStart ws, GetWarmStartMgd(std::move(source)));
    mean = std::move(ws.mean);
    sigma0 = ws.sigma;
    cov = std::move(ws.cov);
  }
  sigma0 = std::max(sigma0, kSigma0Floor);
  const uint32_t seed = static_cast<uint32_t>(rng_.RandInt(1, (int64_t{1} << 31) - 2));
  return Cma::Create(std::move(mean), sigma0, std::vector<std::pair<double, double>>(n, {0.0, 1.0}),
                     10 * static_cast<int>(n), seed, options_.popsize.value_or(0), std::move(cov));
}

Result<ParamMap> CmaEsSampler::SampleRelative(const Study& study, const FrozenTrial& trial,
                                              const SearchSpace& space) {
  if (space.empty()) {
    return ParamMap{};
  }
  CompletedTrials(study, &completed_buf_);
  if (static_cast<int>(completed_buf_.size()) < options_.n_startup_trials) {
    return ParamMap{};
  }
  // The newest snapshot among the (COMPLETE) trials, else a fresh optimizer.
  std::optional<Cma> optimizer;
  for (auto it = completed_buf_.rbegin(); it != completed_buf_.rend(); ++it) {
    if (auto s = snapshots_.find(it->first); s != snapshots_.end()) {
      optimizer = s->second;
      break;
    }
  }
  if (!optimizer) {
    PLINTH_ASSIGN_OR_RETURN(Cma fresh, InitOptimizer(study, space));
    optimizer = std::move(fresh);
  }
  if (optimizer->dim() != static_cast<int>(space.size())) {
    if (options_.warn_independent_sampling && !warned_dynamic_space_) {
      PLINTH_LOG_WARN(
          "`CmaEsSampler` does not support dynamic search space. `RandomSampler` is used "
          "instead of `CmaEsSampler`.");
      warned_dynamic_space_ = true;
    }
    return ParamMap{};
  }
  std::vector<UnitTransform> trans;
  std::vector<int> param_ids;
  for (const SearchSpaceEntry& e : space) {
    trans.emplace_back(e.distribution);
    param_ids.push_back(study.ParamId(e.name));
  }
  // Tell once popsize trials of the current generation are done (the first by number).
  std::vector<CmaSolution> solutions;
  const bool maximize = study.direction() == StudyDirection::kMaximize;
  for (const auto& [number, value] : completed_buf_) {
    if (static_cast<int>(solutions.size()) == optimizer->popsize()) {
      break;
    }
    if (GenerationOf(number) != optimizer->generation()) {
      continue;
    }
    CmaSolution s;
    for (size_t i = 0; i < space.size(); ++i) {
      s.x.push_back(trans[i].Encode(study.ParamColumn(param_ids[i])[number]));
    }
    s.value = maximize ? -value : value;
    solutions.push_back(std::move(s));
  }
  if (static_cast<int>(solutions.size()) == optimizer->popsize()) {
    PLINTH_RETURN_IF_ERROR(optimizer->Tell(std::move(solutions)));
    snapshots_.insert_or_assign(trial.number, *optimizer);
  }
  const int64_t seed = rng_.RandInt(1, int64_t{1} << 16) + trial.number;
  optimizer->Reseed(static_cast<uint32_t>(seed));
  std::vector<double> x = optimizer->Ask();
  if (trial.number >= static_cast<int>(generations_.size())) {
    generations_.resize(trial.number + 1, -1);
  }
  generations_[trial.number] = optimizer->generation();
  ParamMap out;
  for (size_t i = 0; i < space.size(); ++i) {
    out.emplace_back(space[i].name, trans[i].Decode(x[i]));
  }
  return out;
}

Result<double> CmaEsSampler::SampleIndependent(const Study& study, const FrozenTrial& trial,
                                               std::string_view name,
                                               const Distribution& distribution) {
  if (options_.warn_independent_sampling) {
    CompletedTrials(study, &completed_buf_);
    // Optuna warns at every such suggestion; once per parameter says the same without
    // flooding a long study's log.
    if (static_cast<int>(completed_buf_.size()) >= options_.n_startup_trials &&
        warned_params_.insert(std::string(name)).second) {
      PLINTH_LOG_WARN(
          "The parameter '{}' in trial#{} is sampled independently by RandomSampler instead of "
          "CmaEsSampler: dynamic search space and categorical parameters are not supported by "
          "CmaEsSampler.",
          name, trial.number);
    }
  }
  return independent_.SampleIndependent(study, trial, name, distribution);
}

const Cma* CmaEsSampler::SnapshotOf(int number) const {
  auto it = snapshots_.find(number);
  return it == snapshots_.end() ? nullptr : &it->second;
}

Status CmaEsSampler::RestoreTrialState(int number, int generation,
                                       const std::vector<double>& snapshot) {
  if (number < 0) {
    return InvalidArgument("A trial number is not negative.");
  }
  if (!snapshot.empty()) {
    PLINTH_ASSIGN_OR_RETURN(Cma cma, Cma::Deserialize(snapshot));
    snapshots_.insert_or_assign(number, std::move(cma));
  }
  if (number >= static_cast<int>(generations_.size())) {
    generations_.resize(number + 1, -1);
  }
  generations_[number] = generation;
  return Status::Ok();
}

int CmaEsSampler::GenerationOf(int number) const {
  return number < static_cast<int>(generations_.size()) ? generations_[number] : -1;
}

}  // namespace plinth::tune
