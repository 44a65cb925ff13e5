// The GP sampler's acquisition optimiser, Optuna v5's optimize_acqf_mixed
// (optuna/_gp/optim_mixed.py): evaluate n_preliminary_samples random points, start local
// searches from the best of them, n_local_search − 1 − |warm starts| more picked by roulette
// (probability ∝ exp(acqf − max), numpy's choice without replacement) and the warm starts
// (the best trial so far); each local search alternates L-BFGS on the continuous dimensions
// (preconditioned by the length scales: it moves z = x/ℓ in [0, 1/ℓ]) with a search of each
// discrete dimension on its grid (exhaustive for categorical or ≤ 16 values, else a
// golden-section search on the piecewise-linear interpolation, where Optuna runs Brent),
// until a full round changes nothing. Returns the best point found and its value.
#ifndef PLINTH_TUNE_GP_OPTIMIZER_H_
#define PLINTH_TUNE_GP_OPTIMIZER_H_

#include <utility>
#include <vector>

#include "tune/gp_acquisition.h"
#include "tune/gp_search_space.h"
#include "tune/random_state.h"

namespace plinth::tune {

struct AcqfOptimizerOptions {
  int n_preliminary_samples = 2048;
  int n_local_search = 10;
  double tol = 1e-4;
  int max_rounds = 100;
};

// warm_starts: rows (at most n_local_search − 1). Draws from rng as Optuna does: one randint
// seeding the preliminary points, then the roulette.
std::pair<std::vector<double>, double> OptimizeAcquisition(const AcquisitionFunction& acqf,
                                                           const GpSearchSpace& space,
                                                           const std::vector<double>& warm_starts,
                                                           const AcqfOptimizerOptions& options,
                                                           RandomState* rng);

// numpy's RandomState.choice(len(p), size, replace=False, p=p) (legacy algorithm: rounds of
// inverse-CDF draws keeping first occurrences, chosen entries zeroed). Requires at least
// `size` positive entries.
std::vector<size_t> ChoiceWithoutReplacement(RandomState* rng, std::vector<double> p, size_t size);

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_GP_OPTIMIZER_H_
