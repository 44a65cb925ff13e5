// Multi-objective helpers as Optuna 5 computes them (optuna/study/_multi_objective.py,
// optuna/_hypervolume/, optuna/samplers/_tpe/sampler.py): Pareto fronts, non-domination ranks,
// hypervolumes, the greedy hypervolume subset selection (HSSP) and MOTPE's below/above split.
//
// Points are rows of an n×m row-major array of losses: every objective minimised (negate the
// maximised ones first). Pure functions; thread-safe.
#ifndef PLINTH_TUNE_MULTI_OBJECTIVE_H_
#define PLINTH_TUNE_MULTI_OBJECTIVE_H_

#include <cstddef>
#include <span>
#include <vector>

namespace plinth::tune {

// Whether each row is on the Pareto front: no other row is ≤ in every objective and < in one.
// Equal rows share their fate (Optuna's _is_pareto_front with assume_unique_lexsorted=False).
std::vector<bool> ParetoFront(std::span<const double> loss, size_t m);

// Optuna's _fast_non_domination_rank without penalties: rank 0 for the front, 1 for the front
// of the rest, …; peeling stops once at least n_below distinct rows are ranked (n_below <= 0:
// all), and the rest share the next rank. One objective: the dense rank of the values.
std::vector<int> NondominationRanks(std::span<const double> loss, size_t m, int n_below = 0);

// The hypervolume dominated by the rows, bounded by `reference` (every row ≤ reference).
double Hypervolume(std::span<const double> loss, size_t m, std::span<const double> reference);

// MOTPE's reference point: per objective max(1.1·worst, 0.9·worst), 0 replaced by 1e-12.
std::vector<double> TpeReferencePoint(std::span<const double> loss, size_t m);

// Optuna's _solve_hssp: `subset_size` of the rows, greedily by hypervolume contribution
// (duplicates last), returned as the matching entries of `indices`.
std::vector<int> SolveHssp(std::span<const double> loss, size_t m, std::span<const int> indices,
                           size_t subset_size, std::span<const double> reference);

// MOTPE's split of the COMPLETE trials (_split_complete_trials_multi_objective): whether each
// row is among the n_below "below" ones — whole non-domination ranks first, the first rank that
// does not fit tie-broken by HSSP.
std::vector<bool> SplitMultiObjective(std::span<const double> loss, size_t m, int n_below);

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_MULTI_OBJECTIVE_H_
