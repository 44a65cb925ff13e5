#include "drift/numeric.h"

#include <algorithm>
#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/bessel.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <numbers>

#include "core/pairwise_sum.h"

namespace plinth::drift {
namespace {

// Boost reports out-of-range arguments through errno and a NaN/inf result instead of throwing:
// the callers have already excluded those inputs, so an exception could only be a bug.
using NoThrowPolicy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::errno_on_error>,
    boost::math::policies::pole_error<boost::math::policies::errno_on_error>,
    boost::math::policies::overflow_error<boost::math::policies::errno_on_error>,
    boost::math::policies::evaluation_error<boost::math::policies::errno_on_error>>;

constexpr double kPi = std::numbers::pi;
constexpr double kSqrt2Pi = 2.5066282746310002;  // sqrt(2 pi)
// exp() of anything below this underflows to 0 (cephes' MINLOG).
constexpr double kMinLog = -7.08396418532264106224e2;

double Clip01(double p) { return std::clamp(p, 0.0, 1.0); }

// Pr(D_n <= d) by Durbin's matrix method in Marsaglia, Tsang and Wang's form: with
// d = (k - h)/n, the k-th diagonal element of H^n times n!/n^n, H an (2k-1)-square matrix.
// Powers are rescaled by 2^128 (exponent kept aside) so neither H^n nor n!/n^n overflows.
double DurbinMatrixCdf(int64_t n, double d) {
  if (d >= 1.0) {
    return 1.0;
  }
  const double nd = static_cast<double>(n) * d;
  if (nd <= 0.5) {
    return 0.0;
  }
  const int k = static_cast<int>(std::ceil(nd));
  const double h = k - nd;
  const int m = 2 * k - 1;
  std::vector<double> inv_fact(m + 1);
  inv_fact[0] = 1.0;
  for (int j = 1; j <= m; ++j) {
    inv_fact[j] = inv_fact[j - 1] / j;
  }
  auto at = [m](std::vector<double>& a, int i, int j) -> double& { return a[i * m + j]; };
  std::vector<double> H(static_cast<size_t>(m) * m, 0.0);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j <= std::min(i + 1, m - 1); ++j) {
      at(H, i, j) = inv_fact[i - j + 1];
    }
  }
  for (int i = 0; i < m; ++i) {
    at(H, i, 0) = (1.0 - std::pow(h, i + 1)) * inv_fact[i + 1];
    at(H, m - 1, i) = (1.0 - std::pow(h, m - i)) * inv_fact[m - i];
  }
  at(H, m - 1, 0) =
      (1.0 + (std::pow(std::max(2 * h - 1.0, 0.0), m) - 2 * std::pow(h, m))) * inv_fact[m];

  auto multiply = [m](const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> c(static_cast<size_t>(m) * m, 0.0);
    for (int i = 0; i < m; ++i) {
      for (int l = 0; l < m; ++l) {
        const double ail = a[i * m + l];
        if (ail == 0.0) {
          continue;
        }
        for (int j = 0; j < m; ++j) {
          c[i * m + j] += ail * b[l * m + j];
        }
      }
    }
    return c;
  };
  constexpr int kScaleExp = 128;
  const double kScale = std::ldexp(1.0, kScaleExp);
  std::vector<double> power(static_cast<size_t>(m) * m, 0.0);
  for (int i = 0; i < m; ++i) {
    at(power, i, i) = 1.0;
  }
  int64_t power_exp = 0;
  int64_t h_exp = 0;
  for (int64_t nn = n; nn > 0; nn /= 2) {
    if (nn % 2) {
      power = multiply(power, H);
      power_exp += h_exp;
    }
    H = multiply(H, H);
    h_exp *= 2;
    if (std::fabs(at(H, k - 1, k - 1)) > kScale) {
      for (double& v : H) {
        v /= kScale;
      }
      h_exp += kScaleExp;
    }
  }
  // n!/n^n in extended precision, rescaling as it shrinks.
  long double p = at(power, k - 1, k - 1);
  const long double tiny = std::ldexp(1.0L, -kScaleExp);
  for (int64_t i = 1; i <= n; ++i) {
    p = static_cast<long double>(i) * p / static_cast<long double>(n);
    if (std::fabs(p) < tiny) {
      p *= std::ldexp(1.0L, kScaleExp);
      power_exp -= kScaleExp;
    }
  }
  p = std::ldexp(p, static_cast<int>(power_exp));
  return Clip01(static_cast<double>(p));
}

// Pelz and Good's (1976) asymptotic series for Pr(D_n <= x): Kolmogorov's limit K0 plus the
// corrections K1/sqrt(n), K2/n and K3/n^1.5, each written with Jacobi theta functions so that
// the sums over odd m = 2k-1 converge fast for small z = x sqrt(n).
double PelzGoodCdf(int64_t n, double x) {
  if (x <= 0.0) {
    return 0.0;
  }
  if (x >= 1.0) {
    return 1.0;
  }
  const double dn = static_cast<double>(n);
  const double z = std::sqrt(dn) * x;
  const double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2, z8 = z4 * z4;
  const double qlog = -kPi * kPi / 8 / z2;
  if (qlog < -708) {
    return 0.0;
  }
  const double pi2 = kPi * kPi, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
  // Beyond k = 16 z / pi every term is below exp(-128) of the first.
  const int maxk = static_cast<int>(std::ceil(16 * z / kPi));
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int k = maxk; k >= 1; --k) {  // small terms first
    const double m = 2.0 * k - 1;
    const double m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
    const double w = std::exp(qlog * m2);
    s0 += w;
    s1 += (-z2 + pi2 * m2 / 4) * w;
    s2 += (6 * z6 + 2 * z4 + (2 * z4 - 5 * z2) * pi2 / 4 * m2 + pi4 * (1 - 2 * z2) / 16 * m4) * w;
    s3 += (-30 * z6 - 90 * z8 + pi2 * (135 * z4 - 96 * z6) / 4 * m2 +
           pi4 * (-60 * z2 + 212 * z4) / 16 * m4 + pi6 * (5 - 30 * z2) / 64 * m6) *
          w;
  }
  double k0 = s0 * kSqrt2Pi / z;
  double k1 = s1 * kSqrt2Pi / (6 * z4);
  double k2 = s2 * kSqrt2Pi / (72 * z3 * z4);
  double k3 = s3 * kSqrt2Pi / (6480 * z4 * z6);
  // The remaining theta-function terms run over all integers k.
  const double q2log = -kPi * kPi / 2 / z2;
  double t2 = 0, t3 = 0;
  for (int k = maxk; k >= 1; --k) {
    const double kk = static_cast<double>(k) * k;
    const double w = std::exp(q2log * kk);
    t2 += kk * w;
    t3 += (3 * z2 - pi2 * kk) * kk * w;
  }
  k2 += t2 * pi2 * kSqrt2Pi / (-36 * z3);
  k3 += t3 * pi2 * kSqrt2Pi / (216 * z6);
  return ((k0 + k1 / std::sqrt(dn)) + k2 / dn) + k3 / std::pow(dn, 1.5);
}

// floor(n x) and n x - floor(n x), exactly: the product as a double plus its rounding error.
void SplitNx(int64_t n, double x, int64_t* floor_nx, long double* frac) {
  const double dn = static_cast<double>(n);
  const double hi = dn * x;
  const double lo = std::fma(dn, x, -hi);
  const double fl = std::floor(hi);
  long double alpha = static_cast<long double>(hi - fl) + lo;
  int64_t f = static_cast<int64_t>(fl);
  if (alpha < 0) {
    f -= 1;
    alpha += 1;
  }
  if (alpha >= 1) {
    f += 1;
    alpha -= 1;
  }
  *floor_nx = f;
  *frac = alpha;
}

}  // namespace

double NumpySum(std::span<const double> values) {
  if (values.empty()) {
    return 0.0;
  }
  return values[0] + PairwiseSum(values.data() + 1, values.size() - 1);
}

std::vector<double> SturgesBinEdges(double lo, double hi, uint64_t n) {
  const double ptp = hi - lo;
  double first = lo, last = hi;
  if (first == last) {
    first -= 0.5;
    last += 0.5;
  }
  const double width = ptp / (std::log2(static_cast<double>(n)) + 1.0);
  const size_t bins = width != 0.0 ? static_cast<size_t>(std::ceil((last - first) / width)) : 1;
  // np.linspace(first, last, bins + 1): i * step + first, the last edge exactly `last`.
  std::vector<double> edges(bins + 1);
  const double delta = last - first;
  const double step = delta / static_cast<double>(bins);
  for (size_t i = 0; i <= bins; ++i) {
    const double y = step == 0.0 ? static_cast<double>(i) / static_cast<double>(bins) * delta
                                 : static_cast<double>(i) * step;
    edges[i] = y + first;
  }
  edges[bins] = last;
  return edges;
}

double NormalCdf(double a) {
  const double x = a * std::numbers::sqrt2 / 2;
  const double z = std::fabs(x);
  if (z < std::numbers::sqrt2 / 2) {
    return 0.5 + 0.5 * std::erf(x);
  }
  const double y = 0.5 * std::erfc(z);
  return x > 0 ? 1.0 - y : y;
}

double ChiSquareSf(double x, double df) {
  if (std::isnan(x) || std::isnan(df) || df < 0 || x < 0) {
    return std::nan("");
  }
  if (std::isinf(x)) {
    return 0.0;
  }
  if (df == 0) {
    // The limit of a chi-square with no freedom is a point mass at 0.
    return x == 0 ? std::nan("") : 0.0;
  }
  if (x == 0) {
    return 1.0;
  }
  return boost::math::gamma_q(df / 2, x / 2, NoThrowPolicy());
}

double SmirnovSf(int64_t n, double x) {
  if (!(n > 0 && x >= 0.0 && x <= 1.0)) {
    return std::nan("");
  }
  if (n == 1) {
    return 1 - x;
  }
  if (x == 0.0) {
    return 1.0;
  }
  if (x == 1.0) {
    return 0.0;
  }
  int64_t nxfl = 0;
  long double alpha = 0;
  SplitNx(n, x, &nxfl, &alpha);
  const long double lx = x;
  const long double ln = static_cast<long double>(n);
  if (nxfl == 0 || (nxfl == 1 && alpha == 0)) {
    // x <= 1/n: Pr(D+ <= x) = x (1 + x)^(n-1).
    return Clip01(static_cast<double>(1.0L - lx * std::pow(1.0L + lx, ln - 1)));
  }
  if (-2 * static_cast<double>(n) * x * x < kMinLog) {
    return 0.0;
  }
  if (nxfl >= n - 1) {
    return Clip01(static_cast<double>(std::pow(1.0L - lx, ln)));
  }
  if (n > 1000000) {
    // Beyond a million terms, scipy uses the asymptotic e^(-(6nx+1)^2 / 18n).
    const double logp = -std::pow(6.0 * n * x + 1, 2) / 18.0 / n;
    if (logp < -std::numbers::ln2) {
      return std::exp(logp);
    }
    return 1 - (-std::expm1(logp));
  }
  // Birnbaum-Tingey: sf = x * sum_{j=0}^{floor(n(1-x))} C(n,j) (1-x-j/n)^(n-j) (x+j/n)^(j-1).
  // Every term is positive, so the sum is accurate term by term; logs in extended precision
  // keep C(n,j) (a running sum of logs: its error grows like sqrt(j) ulps) and the powers
  // accurate to ~1e-13 even at n = 10^6.
  const int64_t last = n - nxfl - (alpha == 0 ? 1 : 0);
  long double log_binomial = 0;  // log C(n, j), updated by log((n-j+1)/j) per step
  long double sum = 0, prev = 0;
  for (int64_t j = 0; j <= last; ++j) {
    const long double lj = static_cast<long double>(j);
    if (j > 0) {
      log_binomial += std::log((ln - lj + 1) / lj);
    }
    const long double upper = (ln - lj) / ln - lx;  // 1 - x - j/n
    if (upper <= 0) {
      break;
    }
    const long double lower = lj / ln + lx;  // x + j/n
    const long double log_term =
        log_binomial + (ln - lj) * std::log(upper) + (lj - 1) * std::log(lower);
    const long double term = std::exp(log_term);
    sum += term;
    // Past the peak, stop once the rest cannot reach the last bit of the sum.
    if (j > 0 && term < prev && term * static_cast<long double>(last - j + 1) < 1e-21L * sum) {
      break;
    }
    prev = term;
  }
  return Clip01(static_cast<double>(lx * sum));
}

double KolmogorovTwoSidedSf(int64_t n, double x) {
  if (n <= 0 || std::isnan(x)) {
    return std::nan("");
  }
  if (x >= 1.0) {
    return 0.0;
  }
  if (x <= 0.0) {
    return 1.0;
  }
  const double dn = static_cast<double>(n);
  const double t = dn * x;
  if (t <= 1.0) {  // Ruben and Gambino: 1/2n <= x <= 1/n has a closed form
    if (t <= 0.5) {
      return 1.0;
    }
    double cdf;
    if (n <= 140) {
      cdf = 1.0;
      for (int64_t i = 1; i <= n; ++i) {
        cdf *= static_cast<double>(i) * (1.0 / dn) * (2 * t - 1);
      }
    } else {
      cdf = std::exp(std::lgamma(dn + 1) - dn * std::log(dn) + dn * std::log(2 * t - 1));
    }
    return Clip01(1.0 - cdf);
  }
  if (t >= dn - 1) {
    return Clip01(2 * std::pow(1.0 - x, dn));
  }
  if (x >= 0.5) {
    return Clip01(2 * SmirnovSf(n, x));
  }
  const double nxsquared = t * x;
  if (n <= 140) {
    // scipy splits this range between Durbin's matrix and Pomeranz's recursion; both are
    // exact, and the matrix stays small here (2k-1 <= 47), so it serves both.
    if (nxsquared <= 4) {
      return Clip01(1.0 - DurbinMatrixCdf(n, x));
    }
    return Clip01(2 * SmirnovSf(n, x));
  }
  if (nxsquared >= 370.0) {
    return 0.0;
  }
  if (nxsquared >= 2.2) {
    return Clip01(2 * SmirnovSf(n, x));
  }
  double cdf;
  if (n <= 100000 && dn * std::pow(x, 1.5) <= 1.4) {
    cdf = DurbinMatrixCdf(n, x);
  } else {
    cdf = PelzGoodCdf(n, x);
  }
  return Clip01(1.0 - cdf);
}

double CramerVonMisesLimitCdf(double x) {
  if (!(x > 0)) {
    return 0.0;
  }
  double total = 0.0;
  for (int k = 0;; ++k) {
    const double u =
        std::exp(std::lgamma(k + 0.5) - std::lgamma(k + 1.0)) / (std::pow(kPi, 1.5) * std::sqrt(x));
    const double y = 4.0 * k + 1;
    const double q = y * y / (16 * x);
    const double b = boost::math::cyl_bessel_k(0.25, q, NoThrowPolicy());
    double term = u * std::sqrt(y) * std::exp(-q) * b;
    if (!std::isfinite(term)) {
      term = 0.0;  // exp(-q) * K(q) underflowed: nothing left to add
    }
    total += term;
    if (std::fabs(term) < 1e-7) {
      break;
    }
  }
  return total;
}

}  // namespace plinth::drift
