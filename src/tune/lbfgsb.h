// A limited-memory BFGS minimiser with optional box bounds, for the GP sampler's two smooth
// problems: the kernel hyperparameters' MAP fit (unbounded, in log space) and the local
// ascent of the acquisition function (bounded). It stands in for SciPy's L-BFGS-B, which
// Optuna calls for both, with the same knobs (memory m, pgtol on the projected gradient's
// max-norm, factr on the relative decrease, iteration and evaluation caps), but it is a
// projected-gradient variant with a backtracking Armijo line search, not Byrd–Lu–Nocedal's
// Cauchy-point code: it converges to the same kind of point, not along the same path.
//
// Pure function; thread-compatible.
#ifndef PLINTH_TUNE_LBFGSB_H_
#define PLINTH_TUNE_LBFGSB_H_

#include <functional>
#include <span>
#include <vector>

namespace plinth::tune {

struct LbfgsbOptions {
  int memory = 10;      // SciPy's m
  double pgtol = 1e-5;  // stop when max |projected gradient| <= pgtol
  double factr = 1e7;   // stop when the relative decrease <= factr * machine epsilon
  int max_iterations = 15000;
  int max_evaluations = 15000;
  int max_line_search = 20;
};

struct LbfgsbResult {
  std::vector<double> x;
  double f = 0.0;
  int iterations = 0;
  int evaluations = 0;
  // Whether a stopping test (pgtol or factr) was met, rather than a cap or a failed search.
  bool converged = false;
};

// f(x, grad) returns f(x) and writes ∇f(x) into grad; a non-finite return marks x as not
// evaluable (the line search then steps back). Empty `lower`/`upper` mean unbounded; x0 is
// clipped into the box first.
using ObjectiveWithGradient = std::function<double(std::span<const double>, std::span<double>)>;
LbfgsbResult MinimizeLbfgsb(const ObjectiveWithGradient& f, std::vector<double> x0,
                            std::span<const double> lower, std::span<const double> upper,
                            const LbfgsbOptions& options = {});

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_LBFGSB_H_
