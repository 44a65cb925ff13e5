// CmaEsSampler: the covariance matrix adaptation evolution strategy as Optuna 5 runs it
// (optuna/samplers/_cmaes.py driving cmaes 0.13's `CMA`), with the same defaults and, for the
// same solutions and values, the same distribution updates.
//
// The numeric parameters every COMPLETE trial shares (Optuna's intersection search space,
// minus categorical and single-valued ones) are sampled jointly: each is mapped to [0, 1]
// (log scale under log, a step's range widened by half a step), the optimizer draws
// x ~ N(m, σ²C) inside the unit box (resampling up to 10·dim times, then clipping) and x is
// mapped back (rounded to the grid for int/step). Once `popsize` COMPLETE trials of the current
// generation exist, the optimizer is told the first `popsize` of them by number and moves to
// the next generation. Everything else — categorical parameters, conditional parameters, the
// first `n_startup_trials` trials — comes from an independent RandomSampler, with a warning.
// Restart strategies (IPOP/BIPOP), separable CMA, CMA with margin and learning-rate adaptation
// are not implemented; Optuna 5 turns restarts off by default (they moved to OptunaHub).
//
// Optuna keeps the optimizer pickled in the system attributes of the trial whose sampling did
// the last tell, and restores it from the newest COMPLETE trial that has one; this sampler
// keeps those snapshots itself, by trial number, and restores the same way, so parallel and
// failing trials see the state Optuna's would. Owns its random streams (numpy RandomState, as
// Optuna and cmaes seed them); not thread-safe.
#ifndef PLINTH_TUNE_CMAES_SAMPLER_H_
#define PLINTH_TUNE_CMAES_SAMPLER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "tune/random_sampler.h"
#include "tune/random_state.h"
#include "tune/study.h"

namespace plinth::tune {

// numpy RandomState's standard_normal (randn): the legacy polar Box–Muller that caches its
// second value, on top of RandomState's random_sample.
class LegacyGauss {
 public:
  explicit LegacyGauss(uint32_t seed) : rng_(seed) {}
  // RandomState.seed(seed): a fresh stream and no cached value.
  void Reseed(uint32_t seed) {
    rng_ = RandomState(seed);
    has_cached_ = false;
  }
  double Next();

 private:
  RandomState rng_;
  bool has_cached_ = false;
  double cached_ = 0.0;
};

// One solution told to the optimizer: a point in its [0, 1]^n space and the value to
// minimise.
struct CmaSolution {
  std::vector<double> x;
  double value = 0.0;
};

// cmaes.CMA: the state of one CMA-ES run and its ask/tell. Matrices are row-major n×n.
class Cma {
 public:
  // `bounds` are (low, high) per dimension; `cov` empty means the identity; `popsize` 0 means
  // cmaes' default 4 + floor(3·ln n). Failure: kInvalidArgument for an empty or out-of-bounds
  // mean, sigma <= 0, or a cov of the wrong size.
  static Result<Cma> Create(std::vector<double> mean, double sigma,
                            std::vector<std::pair<double, double>> bounds, int n_max_resampling,
                            uint32_t seed, int popsize, std::vector<double> cov = {});

  // One solution ~ N(mean, σ²C) inside the bounds: resampled up to n_max_resampling times,
  // then clipped.
  std::vector<double> Ask();
  // One generation: exactly popsize solutions (kInvalidArgument otherwise). Moves the mean,
  // the step size, both evolution paths and the covariance.
  Status Tell(std::vector<CmaSolution> solutions);
  void Reseed(uint32_t seed) { gauss_.Reseed(seed); }

  // The state as numbers, for a store (Optuna pickles it into the trial that told): n,
  // popsize, generation, σ, mean, p_σ, p_c, C. The bounds are the unit box and the learning
  // rates follow from n and popsize, as in every optimizer this sampler creates.
  std::vector<double> Serialize() const;
  // The inverse. Failure: kInvalidArgument for a malformed vector.
  static Result<Cma> Deserialize(const std::vector<double>& state);

  int dim() const { return n_; }
  int popsize() const { return popsize_; }
  int generation() const { return generation_; }
  const std::vector<double>& mean() const { return mean_; }
  double sigma() const { return sigma_; }
  const std::vector<double>& cov() const { return c_; }
  const std::vector<double>& p_sigma() const { return p_sigma_; }
  const std::vector<double>& p_c() const { return pc_; }
  const std::vector<double>& weights() const { return weights_; }

 private:
  Cma() : gauss_(0) {}
  // B (row-major, eigenvectors in columns) and D (square roots of the eigenvalues) of C, as
  // cmaes computes them, caching both and replacing C by B·diag(D²)·Bᵀ.
  void EigenDecomposition();

  int n_ = 0;
  int popsize_ = 0;
  int mu_ = 0;
  double mu_eff_ = 0, cc_ = 0, c1_ = 0, cmu_ = 0, c_sigma_ = 0, d_sigma_ = 0, cm_ = 1;
  double chi_n_ = 0;
  std::vector<double> weights_;
  std::vector<double> p_sigma_, pc_, mean_, c_;
  double sigma_ = 0;
  std::vector<std::pair<double, double>> bounds_;
  int n_max_resampling_ = 0;
  int generation_ = 0;
  bool have_eigen_ = false;
  std::vector<double> b_, d_;
  LegacyGauss gauss_;
};

// cmaes.get_warm_start_mgd (WS-CMA-ES): mean, sigma and covariance of the promising region
// of a source task from its best floor(γ·n) solutions. Failure: kInvalidArgument when that
// is no solution.
struct WarmStart {
  std::vector<double> mean;
  double sigma = 0;
  std::vector<double> cov;
};
Result<WarmStart> GetWarmStartMgd(std::vector<CmaSolution> solutions, double gamma = 0.1,
                                  double alpha = 0.1);

// A finished trial to warm-start from (Optuna's `source_trials`): internal values by name.
struct CmaSourceTrial {
  TrialState state = TrialState::kComplete;
  std::optional<double> value;
  std::vector<std::pair<std::string, double>> params;
};

struct CmaEsOptions {
  std::optional<uint32_t> seed;
  // Trials (COMPLETE) sampled independently before CMA-ES starts.
  int n_startup_trials = 1;
  // Initial mean, external numbers by name (deprecated in Optuna 4.9; default: the centre of
  // the space). Initial step size in the [0, 1] space (default: 1/6 of the narrowest range,
  // i.e. 1/6).
  std::optional<std::vector<std::pair<std::string, double>>> x0;
  std::optional<double> sigma0;
  // Population size; unset: cmaes' 4 + floor(3·ln n).
  std::optional<int> popsize;
  // Treat PRUNED trials as COMPLETE with their last reported value.
  bool consider_pruned_trials = false;
  // Log when a parameter falls back to the independent sampler.
  bool warn_independent_sampling = true;
  // Warm start from another task's trials (WS-CMA-ES); only trials over exactly the space's
  // parameters are used. Excludes x0 and sigma0.
  std::optional<std::vector<CmaSourceTrial>> source_trials;

  // kInvalidArgument: negative n_startup_trials, popsize < 1, sigma0 <= 0, or source_trials
  // with x0/sigma0.
  Status Validate() const;
};

class CmaEsSampler : public Sampler {
 public:
  static Result<std::unique_ptr<CmaEsSampler>> Create(CmaEsOptions options = {});

  SearchSpace InferRelativeSearchSpace(const Study& study, const FrozenTrial& trial) override;
  Result<ParamMap> SampleRelative(const Study& study, const FrozenTrial& trial,
                                  const SearchSpace& space) override;
  Result<double> SampleIndependent(const Study& study, const FrozenTrial& trial,
                                   std::string_view name,
                                   const Distribution& distribution) override;

  // The optimizer snapshot stored by trial `number` (the state after the tell its sampling
  // did), if any: for tests and persistence.
  const Cma* SnapshotOf(int number) const;
  // The generation trial `number` was sampled in (Optuna's `cma:generation`), -1 if none.
  int GenerationOf(int number) const;
  // Persistence for a store that builds a new sampler per request (Optuna keeps both in the
  // trial's system attributes): after a trial is sampled, save GenerationOf(number) and, if
  // SnapshotOf(number), its Serialize(); before sampling again, restore every trial's with
  // RestoreTrialState. Failure: kInvalidArgument for a malformed snapshot.
  Status RestoreTrialState(int number, int generation, const std::vector<double>& snapshot);
  const CmaEsOptions& options() const { return options_; }

 private:
  explicit CmaEsSampler(CmaEsOptions options);
  // The COMPLETE trials (and PRUNED ones with consider_pruned_trials) in number order, with
  // the value CMA-ES uses.
  void CompletedTrials(const Study& study, std::vector<std::pair<int, double>>* out) const;
  void UpdateIntersection(const Study& study);
  Result<Cma> InitOptimizer(const Study& study, const SearchSpace& space);

  CmaEsOptions options_;
  RandomState rng_;  // Optuna's `_cma_rng`
  RandomSampler independent_;
  // Intersection of the COMPLETE trials' (param id, distribution id), kept incrementally.
  size_t finish_seen_ = 0;
  std::optional<std::vector<std::pair<int, int>>> intersection_;
  std::map<int, Cma> snapshots_;
  std::vector<int> generations_;  // by trial number, -1 if none
  bool warned_dynamic_space_ = false;
  std::set<std::string> warned_params_;
  std::vector<std::pair<int, double>> completed_buf_;
};

// The [0, 1] coding of one numeric dimension (Optuna's _SearchSpaceTransform with
// transform_step and transform_0_1): the raw bounds, and the maps both ways.
struct UnitTransform {
  explicit UnitTransform(const Distribution& d);
  double Encode(double internal) const;
  // Back to an internal value on the distribution (rounded to its grid, clipped).
  double Decode(double unit) const;
  Distribution distribution;
  double low, high;
};

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_CMAES_SAMPLER_H_
