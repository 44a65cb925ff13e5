// Numerical building blocks of the drift tests: accurate sums, numpy's histogram bin edges,
// and the null distributions behind the p-values (normal, chi-square, the one- and two-sided
// Kolmogorov-Smirnov distributions, the Cramér-von Mises limit). Each follows the algorithm
// scipy uses for the same quantity, so a p-value agrees with scipy's to rounding even where
// scipy's own value is an approximation. Pure functions, thread-safe.
#ifndef PLINTH_DRIFT_NUMERIC_H_
#define PLINTH_DRIFT_NUMERIC_H_

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace plinth::drift {

// Neumaier's compensated sum: error independent of the number of terms, so sums over a
// million rows agree with numpy's pairwise sums far below the golden tolerance.
class CompensatedSum {
 public:
  void Add(double x) {
    const double t = sum_ + x;
    if (std::fabs(sum_) >= std::fabs(x)) {
      comp_ += (sum_ - t) + x;
    } else {
      comp_ += (x - t) + sum_;
    }
    sum_ = t;
  }
  double value() const { return sum_ + comp_; }

 private:
  double sum_ = 0.0;
  double comp_ = 0.0;
};

// numpy's np.sum of a float64 array: the first element plus the pairwise sum of the rest
// (blocks of 128 added in 8 interleaved lanes). Used where the reference sums few terms that
// may cancel (Jensen-Shannon, PSI), so the same order gives the same rounding.
double NumpySum(std::span<const double> values);

// np.histogram_bin_edges(data, bins="sturges") for data of `n` values spanning [lo, hi]:
// ceil(range / (range / (log2(n) + 1))) equal bins from np.linspace, widened to ±0.5 around a
// single value.
std::vector<double> SturgesBinEdges(double lo, double hi, uint64_t n);

// Standard normal CDF, computed as cephes' ndtr (erf near 0, erfc in the tails).
double NormalCdf(double x);

// Upper tail of the chi-square distribution with `df` degrees of freedom (scipy's chdtrc):
// df = 0 gives NaN at x = 0 and 0 above it, as scipy.
double ChiSquareSf(double x, double df);

// Survival function of the exact two-sided one-sample Kolmogorov-Smirnov statistic D_n
// (scipy.stats.kstwo.sf(x, n)), with Simard and L'Ecuyer's choice of method by n and n·x²:
// closed forms at the ends, Durbin's matrix (Marsaglia-Tsang-Wang) where it is cheap, the
// Pelz-Good asymptotic series for large n, and 2·Smirnov in the tail.
double KolmogorovTwoSidedSf(int64_t n, double x);

// Survival function of the one-sided statistic D_n^+ (scipy.special.smirnov): the
// Birnbaum-Tingey sum, with its closed-form and very-large-n cases.
double SmirnovSf(int64_t n, double x);

// CDF of the limiting Cramér-von Mises distribution (Csörgő and Faraway 1996, eq. 1.2), summed
// until a term falls below 1e-7 as scipy does.
double CramerVonMisesLimitCdf(double x);

}  // namespace plinth::drift

#endif  // PLINTH_DRIFT_NUMERIC_H_
