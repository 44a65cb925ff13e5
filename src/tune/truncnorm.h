// Truncated-normal arithmetic for the Parzen estimators, written to give the numbers of
// Optuna's own implementation (optuna/samplers/_tpe/_truncnorm.py), not merely close ones:
// the same case splits between the tails and the centre, the same Newton iteration for the
// inverse CDF with the same stopping rule, so TPE's kernels and candidates match to ~1e-15.
// Pure functions; thread-safe.
#ifndef PLINTH_TUNE_TRUNCNORM_H_
#define PLINTH_TUNE_TRUNCNORM_H_

#include <cstddef>
#include <span>
#include <vector>

namespace plinth::tune::truncnorm {

// log(sqrt(2π)), the normal log-density's constant (the double Python's math gives).
inline const double kLogSqrt2Pi = 0.9189385332046727;

// log Φ(a), accurate in both tails (erfc on the left, log1p-like on the right, an asymptotic
// series below -20).
double LogNdtr(double a);
// log(Φ(b) − Φ(a)) for a <= b, computed in whichever tail keeps precision.
double LogGaussMass(double a, double b);

// Scratch buffers for Ppf, kept by the caller so a hot loop allocates nothing.
struct PpfWorkspace {
  std::vector<double> y;
  std::vector<double> x;
  std::vector<unsigned char> flipped;
  std::vector<size_t> index;
};

// The inverse CDF of N(0,1) truncated to [a[i], b[i]] at quantile q[i], for a batch. The Newton
// iterations run on the batch as Optuna's do (all elements with a < 0 together, all others
// together, until every element converges), so results agree bit for bit as often as possible.
void Ppf(std::span<const double> q, std::span<const double> a, std::span<const double> b,
         std::span<double> out, PpfWorkspace* ws);
// The same with log_mass[i] = LogGaussMass(a[i], b[i]) given (the kernels' masses, which the
// caller has already), and, if not empty, log_tail[i] = LogNdtr(a[i]) where a[i] < 0, else
// LogNdtr(−b[i]) (PpfLogTail: a kernel's, which the caller can keep across draws).
void Ppf(std::span<const double> q, std::span<const double> a, std::span<const double> b,
         std::span<const double> log_mass, std::span<double> out, PpfWorkspace* ws,
         std::span<const double> log_tail = {});
// The log tail mass Ppf starts from for truncation bounds [a, b].
double PpfLogTail(double a, double b);

}  // namespace plinth::tune::truncnorm

#endif  // PLINTH_TUNE_TRUNCNORM_H_
