#include "drift/stattests.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "drift/numeric.h"

namespace plinth::drift {
namespace {

using int128 = __int128;
using uint128 = unsigned __int128;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct StatP {
  double statistic;
  double p_value;
};

struct MethodInfo {
  Method method;
  std::string_view id;
  std::string_view display;
  double threshold;
  bool numeric;
  bool categorical;
};

// Evidently's registry: ids, display names, default thresholds, allowed column types.
constexpr std::array<MethodInfo, 12> kMethods = {{
    {Method::kKs, "ks", "K-S p_value", 0.05, true, false},
    {Method::kChiSquare, "chisquare", "chi-square p_value", 0.05, false, true},
    {Method::kZ, "z", "Z-test p_value", 0.05, false, true},
    {Method::kWasserstein, "wasserstein", "Wasserstein distance (normed)", 0.1, true, false},
    {Method::kJensenShannon, "jensenshannon", "Jensen-Shannon distance", 0.1, true, true},
    {Method::kPsi, "psi", "PSI", 0.1, true, true},
    {Method::kKullbackLeibler, "kl_div", "Kullback-Leibler divergence", 0.1, true, true},
    {Method::kHellinger, "hellinger", "Hellinger distance", 0.1, true, true},
    {Method::kAndersonDarling, "anderson", "Anderson-Darling", 0.1, true, false},
    {Method::kCramerVonMises, "cramer_von_mises", "Cramer-von Mises", 0.1, true, false},
    {Method::kMannWhitney, "mannw", "Mann-Whitney U-rank test", 0.05, true, false},
    {Method::kEnergyDistance, "ed", "Energy-distance", 0.1, true, false},
}};

const MethodInfo& Info(Method m) { return kMethods[static_cast<size_t>(m)]; }

double RoundHalfEven(double x) { return std::nearbyint(x); }  // default mode: ties to even

// Calls f(value, count_a, count_b) for each distinct value of a ∪ b, ascending.
template <typename F>
void MergeWalk(const NumericSample& a, const NumericSample& b, F&& f) {
  const auto av = a.values(), bv = b.values();
  const auto ac = a.counts(), bc = b.counts();
  size_t i = 0, j = 0;
  while (i < av.size() || j < bv.size()) {
    if (j == bv.size() || (i < av.size() && av[i] < bv[j])) {
      f(av[i], ac[i], uint64_t{0});
      ++i;
    } else if (i == av.size() || bv[j] < av[i]) {
      f(bv[j], uint64_t{0}, bc[j]);
      ++j;
    } else {
      f(av[i], ac[i], bc[j]);
      ++i;
      ++j;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Kolmogorov-Smirnov (scipy.stats.ks_2samp, two-sided, method="auto").

// Pr(D_{n,n} >= h/n) = 2 sum_{k>=1} (-1)^(k-1) C(2n, n-kh) / C(2n, n), nested as
// 2 A_1 (1 - A_2 (1 - A_3 ...)) with A_k = C(2n, n-kh) / C(2n, n-(k-1)h) to avoid cancellation.
double KsEqualSizesSf(int64_t n, int64_t h) {
  double p = 0.0;
  for (int64_t k = n / h; k >= 0; --k) {
    double ratio = 1.0;
    for (int64_t j = 0; j < h; ++j) {
      ratio = static_cast<double>(n - k * h - j) * ratio / static_cast<double>(n + k * h + j + 1);
    }
    p = ratio * (1.0 - p);
  }
  return 2 * p;
}

// Pr(D_{m,n} >= h/lcm(m,n)) by Hodges' lattice-path count, carried as the share of paths that
// have already left the band |x/m - y/n| < h/lcm (Viehmann 2021: 1 - p directly, so small
// p-values keep their digits). B(i,j) = (i B(i-1,j) + j B(i,j-1)) / (i+j) inside, 1 outside.
double KsUnequalSizesSf(int64_t m, int64_t n, int64_t g, int64_t h) {
  if (m < n) {
    std::swap(m, n);
  }
  const int64_t mg = m / g, ng = n / g;
  auto floor_div = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  auto ceil_div = [&](int64_t a, int64_t b) { return -floor_div(-a, b); };
  // Column x = 0: inside for j < ceil(h / mg).
  std::vector<double> col(n + 1, 1.0);
  for (int64_t j = 0; j < std::min(ceil_div(h, mg), n + 1); ++j) {
    col[j] = 0.0;
  }
  int64_t lo = 0, hi = 0;
  for (int64_t i = 1; i <= m; ++i) {
    lo = std::min(std::max(floor_div(ng * i - h, mg) + 1, int64_t{0}), n);
    hi = std::min(ceil_div(ng * i + h, mg), n + 1);
    if (hi <= lo) {
      return 1.0;
    }
    // Windows only move up, so entries below `lo` are never read again and entries at or
    // above `hi` have never been inside: they still hold 1.
    double below = lo == 0 ? 0.0 : 1.0;
    for (int64_t j = lo; j < hi; ++j) {
      below = (col[j] * static_cast<double>(i) + below * static_cast<double>(j)) /
              static_cast<double>(i + j);
      col[j] = below;
    }
  }
  return col[hi - 1];
}

StatP KsTwoSample(const NumericSample& a, const NumericSample& b) {
  const uint64_t n1 = a.size(), n2 = b.size();
  const double d1 = static_cast<double>(n1), d2 = static_cast<double>(n2);
  uint64_t ca = 0, cb = 0;
  double max_diff = -std::numeric_limits<double>::infinity();
  double min_diff = std::numeric_limits<double>::infinity();
  MergeWalk(a, b, [&](double, uint64_t x, uint64_t y) {
    ca += x;
    cb += y;
    const double diff = static_cast<double>(ca) / d1 - static_cast<double>(cb) / d2;
    max_diff = std::max(max_diff, diff);
    min_diff = std::min(min_diff, diff);
  });
  const double min_s = std::clamp(-min_diff, 0.0, 1.0);
  double d = min_s > max_diff ? min_s : max_diff;
  const int64_t g = std::gcd(static_cast<int64_t>(n1), static_cast<int64_t>(n2));
  double p = kNaN;
  bool exact = std::max(n1, n2) <= 10000;
  if (exact) {
    // The exact distribution lives on multiples of 1/lcm: snap D to the nearest one.
    const int64_t lcm = static_cast<int64_t>(n1) / g * static_cast<int64_t>(n2);
    const int64_t h = static_cast<int64_t>(RoundHalfEven(d * static_cast<double>(lcm)));
    d = static_cast<double>(h) / static_cast<double>(lcm);
    if (h == 0) {
      p = 1.0;
    } else if (n1 == n2) {
      p = KsEqualSizesSf(static_cast<int64_t>(n1), h);
    } else {
      p = KsUnequalSizesSf(static_cast<int64_t>(n1), static_cast<int64_t>(n2), g, h);
    }
    exact = p >= 0.0 && p <= 1.0;
  }
  if (!exact) {
    // Smirnov's limit through the one-sample distribution at n = round(n1 n2 / (n1 + n2)).
    const double m = std::max(d1, d2), n = std::min(d1, d2);
    const double en = m * n / (m + n);
    p = KolmogorovTwoSidedSf(static_cast<int64_t>(RoundHalfEven(en)), d);
  }
  return {d, std::clamp(p, 0.0, 1.0)};
}

// ---------------------------------------------------------------------------------------------
// Wasserstein-1 and energy distance (scipy's _cdf_distance): integrals of |F_a - F_b|^p over
// the pooled values, one term per gap between consecutive distinct values.

template <int P>
double CdfDistanceIntegral(const NumericSample& a, const NumericSample& b) {
  const double d1 = static_cast<double>(a.size()), d2 = static_cast<double>(b.size());
  uint64_t ca = 0, cb = 0;
  bool first = true;
  double prev_value = 0.0, prev_gap = 0.0;
  CompensatedSum sum;
  MergeWalk(a, b, [&](double v, uint64_t x, uint64_t y) {
    if (!first) {
      const double gap = prev_gap;
      sum.Add(gap * (v - prev_value));
    }
    ca += x;
    cb += y;
    const double diff = std::fabs(static_cast<double>(ca) / d1 - static_cast<double>(cb) / d2);
    prev_gap = P == 1 ? diff : diff * diff;
    prev_value = v;
    first = false;
  });
  return sum.value();
}

// ---------------------------------------------------------------------------------------------
// Anderson-Darling k-sample, midrank variant (scipy.stats.anderson_ksamp; Scholz and Stephens
// 1987, eq. 7), k = 2, p-value interpolated from their Table 2 as scipy does.

// Quadratic least-squares fit of log(significance) on the critical values for k = 2 (one
// degree of freedom): the same fit np.polyfit(critical, log(sig), 2) makes, solved once by
// Householder QR.
struct AdInterpolation {
  std::array<double, 7> critical;
  std::array<double, 3> coef;  // highest power first
  double min_critical, max_critical;
};

const AdInterpolation& AndersonInterpolation() {
  static const AdInterpolation table = [] {
    constexpr std::array<double, 7> b0 = {0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085};
    constexpr std::array<double, 7> b1 = {-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615};
    constexpr std::array<double, 7> b2 = {-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154};
    constexpr std::array<double, 7> sig = {0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001};
    AdInterpolation t{};
    const double m = 1.0;  // k - 1 for two samples
    for (int i = 0; i < 7; ++i) {
      t.critical[i] = b0[i] + b1[i] / std::sqrt(m) + b2[i] / m;
    }
    // A = [x^2 x 1] (7x3) with unit-norm columns, y = log(sig).
    double A[7][3], y[7];
    double scale[3] = {0, 0, 0};
    for (int i = 0; i < 7; ++i) {
      const double x = t.critical[i];
      A[i][0] = x * x;
      A[i][1] = x;
      A[i][2] = 1.0;
      y[i] = std::log(sig[i]);
      for (int j = 0; j < 3; ++j) {
        scale[j] += A[i][j] * A[i][j];
      }
    }
    for (int j = 0; j < 3; ++j) {
      scale[j] = std::sqrt(scale[j]);
      for (int i = 0; i < 7; ++i) {
        A[i][j] /= scale[j];
      }
    }
    for (int j = 0; j < 3; ++j) {  // Householder reflections, applied to y as well
      double norm = 0;
      for (int i = j; i < 7; ++i) {
        norm += A[i][j] * A[i][j];
      }
      norm = std::sqrt(norm);
      const double alpha = A[j][j] > 0 ? -norm : norm;
      double v[7] = {0};
      for (int i = j; i < 7; ++i) {
        v[i] = A[i][j];
      }
      v[j] -= alpha;
      double vnorm2 = 0;
      for (int i = j; i < 7; ++i) {
        vnorm2 += v[i] * v[i];
      }
      for (int c = j; c < 3; ++c) {
        double dot = 0;
        for (int i = j; i < 7; ++i) {
          dot += v[i] * A[i][c];
        }
        for (int i = j; i < 7; ++i) {
          A[i][c] -= 2 * dot / vnorm2 * v[i];
        }
      }
      double dot = 0;
      for (int i = j; i < 7; ++i) {
        dot += v[i] * y[i];
      }
      for (int i = j; i < 7; ++i) {
        y[i] -= 2 * dot / vnorm2 * v[i];
      }
    }
    double c[3];
    for (int j = 2; j >= 0; --j) {  // back substitution on R
      double s = y[j];
      for (int l = j + 1; l < 3; ++l) {
        s -= A[j][l] * c[l];
      }
      c[j] = s / A[j][j];
    }
    for (int j = 0; j < 3; ++j) {
      t.coef[j] = c[j] / scale[j];
    }
    t.min_critical = *std::min_element(t.critical.begin(), t.critical.end());
    t.max_critical = *std::max_element(t.critical.begin(), t.critical.end());
    return t;
  }();
  return table;
}

Result<StatP> AndersonDarling(const NumericSample& a, const NumericSample& b) {
  const uint64_t n1 = a.size(), n2 = b.size();
  const uint64_t big_n = n1 + n2;
  if (UnionDistinct(a, b) < 2) {
    return InvalidArgument("anderson_ksamp needs more than one distinct observation");
  }
  if (big_n < 3) {
    // scipy's harmonic sums below are empty for N = 2 and it fails; at N = 3 the variance
    // divides by zero and the statistic and p-value come out NaN, as here.
    return InvalidArgument("anderson_ksamp needs at least 3 observations");
  }
  const double dn = static_cast<double>(big_n);
  uint64_t left = 0, ca = 0, cb = 0;
  CompensatedSum sum_a, sum_b;
  MergeWalk(a, b, [&](double, uint64_t x, uint64_t y) {
    const double lj = static_cast<double>(x + y);
    const double bj = static_cast<double>(left) + lj / 2.0;
    const double denom = bj * (dn - bj) - dn * lj / 4.0;
    const double ma = static_cast<double>(ca + x) - static_cast<double>(x) / 2.0;
    const double mb = static_cast<double>(cb + y) - static_cast<double>(y) / 2.0;
    const double ra = dn * ma - bj * static_cast<double>(n1);
    const double rb = dn * mb - bj * static_cast<double>(n2);
    sum_a.Add(lj / dn * (ra * ra) / denom);
    sum_b.Add(lj / dn * (rb * rb) / denom);
    left += x + y;
    ca += x;
    cb += y;
  });
  double a2kn = sum_a.value() / static_cast<double>(n1) + sum_b.value() / static_cast<double>(n2);
  a2kn *= (dn - 1.0) / dn;

  // Variance of A2kN under the null (Scholz and Stephens eq. 4), k = 2.
  const double k = 2.0;
  const double big_h = 1.0 / static_cast<double>(n1) + 1.0 / static_cast<double>(n2);
  double cumulative = 0.0;  // sum_{i=1}^{j} 1/(N-i) for j = 1..N-2
  CompensatedSum g_sum;
  for (uint64_t j = 1; j + 1 < big_n; ++j) {
    cumulative += 1.0 / static_cast<double>(big_n - j);
    g_sum.Add(cumulative / static_cast<double>(j + 1));
  }
  const double h = cumulative + 1;
  const double g = g_sum.value();
  const double ca_ = (4 * g - 6) * (k - 1) + (10 - 6 * g) * big_h;
  const double cb_ =
      (2 * g - 4) * k * k + 8 * h * k + (2 * g - 14 * h - 4) * big_h - 8 * h + 4 * g - 6;
  const double cc_ =
      (6 * h + 2 * g - 2) * k * k + (4 * h - 4 * g + 6) * k + (2 * h - 6) * big_h + 4 * h;
  const double cd_ = (2 * h + 6) * k * k - 4 * h * k;
  const double sigmasq = (ca_ * (dn * dn * dn) + cb_ * (dn * dn) + cc_ * dn + cd_) /
                         ((dn - 1.0) * (dn - 2.0) * (dn - 3.0));
  const double a2 = (a2kn - (k - 1)) / std::sqrt(sigmasq);

  const AdInterpolation& table = AndersonInterpolation();
  double p;
  if (a2 < table.min_critical) {
    p = 0.25;  // scipy caps: the table ends at 25%
  } else if (a2 > table.max_critical) {
    p = 0.001;  // and floors at 0.1%
  } else {
    p = std::exp((table.coef[0] * a2 + table.coef[1]) * a2 + table.coef[2]);
  }
  return StatP{a2, p};
}

// ---------------------------------------------------------------------------------------------
// Cramér-von Mises two-sample (scipy.stats.cramervonmises_2samp, method="auto"; Anderson 1962).

// Exact p-value (Xiao, Gordon and Yakovlev 2006): the distribution of the sum over the lattice
// points (v, u) a path visits of (a v - b u)^2, a = lcm/m, b = lcm/n, built column by column
// as sorted (value, count) lists. Counts are exact integers (C(40, 20) < 2^63).
double CvmExactSf(int128 zeta, int64_t m, int64_t n) {
  const int64_t lcm = std::lcm(m, n);
  const int64_t a = lcm / m, b = lcm / n;
  using Dist = std::vector<std::pair<int64_t, uint64_t>>;
  std::vector<Dist> gs(m + 1);
  gs[0] = {{0, 1}};
  Dist merged;
  for (int64_t u = 0; u <= n; ++u) {
    Dist tmp;  // distribution at (v-1, u), the path's other way into (v, u)
    for (int64_t v = 0; v <= m; ++v) {
      const Dist& from_below = gs[v];  // (v, u-1)
      merged.clear();
      merged.reserve(tmp.size() + from_below.size());
      size_t i = 0, j = 0;
      while (i < tmp.size() || j < from_below.size()) {
        if (j == from_below.size() || (i < tmp.size() && tmp[i].first < from_below[j].first)) {
          merged.push_back(tmp[i++]);
        } else if (i == tmp.size() || from_below[j].first < tmp[i].first) {
          merged.push_back(from_below[j++]);
        } else {
          merged.emplace_back(tmp[i].first, tmp[i].second + from_below[j].second);
          ++i;
          ++j;
        }
      }
      const int64_t step = (a * v - b * u) * (a * v - b * u);
      for (auto& entry : merged) {
        entry.first += step;
      }
      tmp.swap(merged);
      gs[v] = tmp;
    }
  }
  uint64_t tail = 0, total = 0;
  for (const auto& [value, count] : gs[m]) {
    total += count;
    if (static_cast<int128>(value) >= zeta) {
      tail += count;
    }
  }
  return static_cast<double>(tail) / static_cast<double>(total);
}

int128 FloorDiv(int128 a, int128 b) {
  int128 q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) {
    --q;
  }
  return q;
}

Result<StatP> CramerVonMises(const NumericSample& x, const NumericSample& y) {
  const int64_t nx = static_cast<int64_t>(x.size()), ny = static_cast<int64_t>(y.size());
  if (nx <= 1 || ny <= 1) {
    // scipy answers NaN for a sample this small (Evidently's copy raises instead).
    return StatP{kNaN, kNaN};
  }
  // U = nx sum_i (r_i - i)^2 + ny sum_j (s_j - j)^2 with midranks r, s of the pooled sample.
  // Midranks are half-integers, so 4U is an integer: summed exactly, T below has no rounding
  // before its final division (scipy's float sum cancels digits at very large n).
  uint128 sx4 = 0, sy4 = 0;
  int64_t left = 0, ix = 0, iy = 0;
  MergeWalk(x, y, [&](double, uint64_t cx, uint64_t cy) {
    const int64_t two_rank = 2 * left + static_cast<int64_t>(cx + cy) + 1;
    for (uint64_t t = 0; t < cx; ++t) {
      const int64_t dv = two_rank - 2 * (++ix);
      sx4 += static_cast<uint128>(static_cast<int128>(dv) * dv);
    }
    for (uint64_t t = 0; t < cy; ++t) {
      const int64_t dv = two_rank - 2 * (++iy);
      sy4 += static_cast<uint128>(static_cast<int128>(dv) * dv);
    }
    left += static_cast<int64_t>(cx + cy);
  });
  const int128 u4 = static_cast<int128>(nx) * static_cast<int128>(sx4) +
                    static_cast<int128>(ny) * static_cast<int128>(sy4);
  const int128 k = static_cast<int128>(nx) * ny;
  const int128 big_n = nx + ny;
  // T = U/(kN) - (4k-1)/(6N) = (3·4U - 2k(4k-1)) / (12 k N).
  const int128 t_num = 3 * u4 - 2 * k * (4 * k - 1);
  const int128 t_den = 12 * k * big_n;
  const double t =
      static_cast<double>(static_cast<long double>(t_num) / static_cast<long double>(t_den));
  double p;
  if (std::max(nx, ny) <= 20) {
    // zeta = floor(lcm^2 (m+n) (6U - mn(4mn-1)) / (6 (mn)^2)), with 6U = 3·4U/2.
    const int128 lcm = std::lcm(nx, ny);
    const int128 num = lcm * lcm * big_n * (3 * u4 - 2 * k * (4 * k - 1));
    const int128 den = 12 * k * k;
    p = CvmExactSf(FloorDiv(num, den), nx, ny);
  } else {
    // Normalize T by its exact mean and variance and use the limiting distribution.
    const long double dn = static_cast<long double>(big_n);
    const double et = static_cast<double>((1 + 1 / dn) / 6);
    const int128 vt_num =
        (big_n + 1) *
        (4 * k * big_n - 3 * (static_cast<int128>(nx) * nx + static_cast<int128>(ny) * ny) - 2 * k);
    const int128 vt_den = 45 * big_n * big_n * 4 * k;
    const double vt =
        static_cast<double>(static_cast<long double>(vt_num) / static_cast<long double>(vt_den));
    const double tn = 1.0 / 6 + (t - et) / std::sqrt(45 * vt);
    // Below 0.003 the limiting CDF is under 1.3e-18.
    p = tn < 0.003 ? 1.0 : std::max(0.0, 1.0 - CramerVonMisesLimitCdf(tn));
  }
  return StatP{t, p};
}

// ---------------------------------------------------------------------------------------------
// Mann-Whitney U (scipy.stats.mannwhitneyu(reference, current, alternative="less"),
// use_continuity=True, method="auto": exact when either sample has at most 8 values and there
// are no ties, else the normal approximation with tie correction).

// Pr(U >= u) for sample sizes n1, n2 without ties. The counts of U are the coefficients of
// the Gaussian binomial [n1+n2 choose m]_q = prod_{i=1}^{m} (1 - q^(M+i)) / (1 - q^i),
// m = min, M = max, needed only up to degree min(u, n1 n2 - u) thanks to symmetry. Products
// and quotients by (1 - q^j) are a subtraction and a running sum per coefficient; integer
// arithmetic modulo 2^128 is exact whenever the true counts fit.
double MannWhitneyExactSf(int64_t u, int64_t n1, int64_t n2) {
  const int64_t m = std::min(n1, n2), big_m = std::max(n1, n2);
  const int64_t kc = m * big_m - u;
  const int64_t degree = std::min(u, kc);
  const double log2_total =
      (std::lgamma(static_cast<double>(m + big_m + 1)) - std::lgamma(static_cast<double>(m + 1)) -
       std::lgamma(static_cast<double>(big_m + 1))) /
      std::log(2.0);
  auto run = [&](auto zero) {
    using T = decltype(zero);
    std::vector<T> c(degree + 1, T(0));
    c[0] = T(1);
    for (int64_t i = 1; i <= m; ++i) {
      for (int64_t d = degree; d >= big_m + i; --d) {
        c[d] -= c[d - (big_m + i)];
      }
      for (int64_t d = i; d <= degree; ++d) {
        c[d] += c[d - i];
      }
    }
    // total = C(n1+n2, m); cdf(k) = sum_{j<=k} c_j.
    T cdf = T(0);
    for (int64_t d = 0; d <= degree; ++d) {
      cdf += c[d];
    }
    T total = T(1);
    for (int64_t i = 1; i <= m; ++i) {
      total = total * T(big_m + i) / T(i);
    }
    long double tail;
    if (u < kc) {
      tail = static_cast<long double>(total - cdf + c[degree]);
    } else {
      tail = static_cast<long double>(cdf);
    }
    return static_cast<double>(tail / static_cast<long double>(total));
  };
  // Building `total` multiplies it by M + i before dividing: that product must fit too.
  if (log2_total + std::log2(static_cast<double>(m + big_m)) < 126) {
    return run(uint128{0});
  }
  // Counts beyond 2^126 (only when one sample has <= 8 values and the other ~10^5):
  // extended precision, exact for the leading digits only.
  return run(static_cast<long double>(0));
}

StatP MannWhitneyLess(const NumericSample& x, const NumericSample& y) {
  const uint64_t n1 = x.size(), n2 = y.size();
  uint128 two_r1 = 0;  // twice the rank sum of x: midranks are half-integers
  uint64_t left = 0;
  bool ties = false;
  long double tie_term = 0;
  MergeWalk(x, y, [&](double, uint64_t cx, uint64_t cy) {
    const uint64_t t = cx + cy;
    two_r1 += static_cast<uint128>(cx) * (2 * left + t + 1);
    if (t > 1) {
      ties = true;
      const long double lt = static_cast<long double>(t);
      tie_term += lt * lt * lt - lt;
    }
    left += t;
  });
  const double r1 = static_cast<double>(static_cast<long double>(two_r1) / 2);
  const double d1 = static_cast<double>(n1), d2 = static_cast<double>(n2);
  const double u1 = r1 - d1 * (d1 + 1) / 2;
  const double u2 = d1 * d2 - u1;  // "less" uses U2's survival function
  double p;
  if ((n1 > 8 && n2 > 8) || ties) {
    const double mu = d1 * d2 / 2;
    const double n = d1 + d2;
    const double s =
        std::sqrt(d1 * d2 / 12 * ((n + 1) - static_cast<double>(tie_term) / (n * (n - 1))));
    const double z = (u2 - mu - 0.5) / s;
    p = NormalCdf(-z);
  } else {
    p = MannWhitneyExactSf(static_cast<int64_t>(u2), static_cast<int64_t>(n1),
                           static_cast<int64_t>(n2));
  }
  return {u1, std::clamp(p, 0.0, 1.0)};
}

// ---------------------------------------------------------------------------------------------
// Category tables and binned shares (Evidently's get_binned_data and the chi-square and Z
// tests' value counts).

struct CountTable {
  std::vector<double> reference;  // count per key, keys ascending
  std::vector<double> current;
  uint64_t reference_distinct = 0;
  uint64_t current_distinct = 0;
};

CountTable TableOf(const NumericSample& a, const NumericSample& b) {
  CountTable t;
  MergeWalk(a, b, [&](double, uint64_t x, uint64_t y) {
    t.reference.push_back(static_cast<double>(x));
    t.current.push_back(static_cast<double>(y));
  });
  t.reference_distinct = a.distinct();
  t.current_distinct = b.distinct();
  return t;
}

Result<CountTable> TableOf(const CategoricalSample& a, const CategoricalSample& b) {
  if (a.key_kind() != b.key_kind()) {
    return InvalidArgument("reference and current categories are of different kinds");
  }
  CountTable t;
  const size_t na = a.distinct(), nb = b.distinct();
  const bool ints = a.key_kind() == CategoricalSample::KeyKind::kInteger;
  auto less = [&](size_t i, size_t j) {
    return ints ? a.codes()[i] < b.codes()[j] : a.labels()[i] < b.labels()[j];
  };
  auto greater = [&](size_t i, size_t j) {
    return ints ? b.codes()[j] < a.codes()[i] : b.labels()[j] < a.labels()[i];
  };
  size_t i = 0, j = 0;
  while (i < na || j < nb) {
    if (j == nb || (i < na && less(i, j))) {
      t.reference.push_back(static_cast<double>(a.counts()[i++]));
      t.current.push_back(0.0);
    } else if (i == na || greater(i, j)) {
      t.reference.push_back(0.0);
      t.current.push_back(static_cast<double>(b.counts()[j++]));
    } else {
      t.reference.push_back(static_cast<double>(a.counts()[i++]));
      t.current.push_back(static_cast<double>(b.counts()[j++]));
    }
  }
  t.reference_distinct = na;
  t.current_distinct = nb;
  return t;
}

// scipy.stats.chisquare(f_obs = current counts, f_exp = reference counts scaled to the current
// size) over the union of categories; a category absent from the reference makes it infinite.
StatP ChiSquare(const CountTable& t, uint64_t n_ref, uint64_t n_cur) {
  const double k_norm = static_cast<double>(n_cur) / static_cast<double>(n_ref);
  std::vector<double> terms(t.reference.size());
  for (size_t i = 0; i < terms.size(); ++i) {
    const double expected = t.reference[i] * k_norm;
    const double diff = t.current[i] - expected;
    terms[i] = diff * diff / expected;
  }
  const double stat = NumpySum(terms);
  return {stat, ChiSquareSf(stat, static_cast<double>(terms.size()) - 1)};
}

// Two-proportion Z-test on "is not the first category in sort order", two-sided.
StatP ZTest(const CountTable& t, uint64_t n_ref, uint64_t n_cur) {
  if (t.reference_distinct == 1 && t.current_distinct == 1 && t.reference.size() == 1) {
    return {kNaN, 1.0};  // one shared value: Evidently answers p = 1 without a statistic
  }
  const double n1 = static_cast<double>(n_ref), n2 = static_cast<double>(n_cur);
  const double p1 = (n1 - t.reference[0]) / n1;
  const double p2 = (n2 - t.current[0]) / n2;
  const double pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const double z = (p1 - p2) / std::sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2));
  return {z, 2 * (1 - NormalCdf(std::fabs(z)))};
}

// Counts of `s` in np.histogram's bins: [e_i, e_{i+1}) except the last, closed on the right.
std::vector<double> HistogramCounts(const NumericSample& s, std::span<const double> edges) {
  const auto values = s.values();
  const auto counts = s.counts();
  std::vector<double> out(edges.size() - 1, 0.0);
  size_t bin = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (v < edges.front() || v > edges.back()) {
      continue;
    }
    while (bin + 2 < edges.size() && v >= edges[bin + 1]) {
      ++bin;
    }
    out[bin] += static_cast<double>(counts[i]);
  }
  return out;
}

struct Shares {
  std::vector<double> reference;
  std::vector<double> current;
};

Shares SharesOf(const CountTable& t, uint64_t n_ref, uint64_t n_cur) {
  Shares s{t.reference, t.current};
  for (double& v : s.reference) {
    v /= static_cast<double>(n_ref);
  }
  for (double& v : s.current) {
    v /= static_cast<double>(n_cur);
  }
  return s;
}

// Evidently's get_binned_data for a numeric column: Sturges bins over both samples when the
// reference has more than 20 distinct values, else one bin per distinct value.
Shares NumericShares(const NumericSample& a, const NumericSample& b) {
  if (a.distinct() > 20) {
    const double lo = std::min(a.values().front(), b.values().front());
    const double hi = std::max(a.values().back(), b.values().back());
    const std::vector<double> edges = SturgesBinEdges(lo, hi, a.size() + b.size());
    Shares s{HistogramCounts(a, edges), HistogramCounts(b, edges)};
    for (double& v : s.reference) {
      v /= static_cast<double>(a.size());
    }
    for (double& v : s.current) {
      v /= static_cast<double>(b.size());
    }
    return s;
  }
  return SharesOf(TableOf(a, b), a.size(), b.size());
}

// PSI and KL need every share positive: empty bins get a millionth of the smallest non-empty
// share when that is at most 1e-4, else 1e-4 (Evidently's feel_zeroes).
void FillEmptyShares(std::vector<double>& shares) {
  double smallest = std::numeric_limits<double>::infinity();
  for (double v : shares) {
    if (v != 0.0) {
      smallest = std::min(smallest, v);
    }
  }
  const double fill = smallest <= 0.0001 ? smallest / 1e6 : 0.0001;
  for (double& v : shares) {
    if (v == 0.0) {
      v = fill;
    }
  }
}

// scipy.special.rel_entr.
double RelEntr(double x, double y) {
  if (std::isnan(x) || std::isnan(y)) {
    return kNaN;
  }
  if (x > 0 && y > 0) {
    return x * std::log(x / y);
  }
  if (x == 0 && y >= 0) {
    return 0.0;
  }
  return std::numeric_limits<double>::infinity();
}

std::vector<double> Normalized(const std::vector<double>& v) {
  const double total = NumpySum(v);
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    out[i] = v[i] / total;
  }
  return out;
}

// scipy.spatial.distance.jensenshannon (natural log).
double JensenShannon(const Shares& s) {
  const std::vector<double> p = Normalized(s.reference), q = Normalized(s.current);
  std::vector<double> left(p.size()), right(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    const double m = (p[i] + q[i]) / 2.0;
    left[i] = RelEntr(p[i], m);
    right[i] = RelEntr(q[i], m);
  }
  const double js = NumpySum(left) + NumpySum(right);
  return std::sqrt(js / 2.0);
}

double Psi(Shares s) {
  FillEmptyShares(s.reference);
  FillEmptyShares(s.current);
  std::vector<double> terms(s.reference.size());
  for (size_t i = 0; i < terms.size(); ++i) {
    terms[i] = (s.reference[i] - s.current[i]) * std::log(s.reference[i] / s.current[i]);
  }
  return NumpySum(terms);
}

// scipy.stats.entropy(reference, current): KL(reference || current) after normalizing.
double KullbackLeibler(Shares s) {
  FillEmptyShares(s.reference);
  FillEmptyShares(s.current);
  const std::vector<double> q = Normalized(s.current), p = Normalized(s.reference);
  std::vector<double> terms(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    terms[i] = RelEntr(p[i], q[i]);
  }
  return NumpySum(terms);
}

double HellingerFromAffinity(double affinity) {
  return std::sqrt(1 - std::clamp(affinity, 0.0, 1.0));
}

// Evidently's numeric Hellinger: density histograms on Sturges bins laid over the distinct
// values (not the rows) of both samples, affinity = sum sqrt(h1 h2) * mean bin width.
double HellingerNumeric(const NumericSample& a, const NumericSample& b) {
  const double lo = std::min(a.values().front(), b.values().front());
  const double hi = std::max(a.values().back(), b.values().back());
  const std::vector<double> edges = SturgesBinEdges(lo, hi, UnionDistinct(a, b));
  std::vector<double> h1 = HistogramCounts(a, edges), h2 = HistogramCounts(b, edges);
  const double total1 = NumpySum(h1), total2 = NumpySum(h2);
  for (size_t i = 0; i < h1.size(); ++i) {
    const double width = edges[i + 1] - edges[i];
    h1[i] = h1[i] / width / total1;
    h2[i] = h2[i] / width / total2;
  }
  const double bin_width = (edges.back() - edges.front()) / static_cast<double>(edges.size() - 1);
  double affinity = 0.0;
  for (size_t i = 0; i < h1.size(); ++i) {
    affinity += std::sqrt(h1[i] * h2[i]) * bin_width;
  }
  return HellingerFromAffinity(affinity);
}

double HellingerCategorical(const CountTable& t, uint64_t n_ref, uint64_t n_cur) {
  double affinity = 0.0;
  for (size_t i = 0; i < t.reference.size(); ++i) {
    const double p1 = t.reference[i] / static_cast<double>(n_ref);
    const double p2 = t.current[i] / static_cast<double>(n_cur);
    affinity += std::sqrt(p1 * p2);
  }
  return HellingerFromAffinity(affinity);
}

// Evidently's verdict for a score against a threshold.
bool Drifted(Method m, double score, double threshold) {
  switch (m) {
    case Method::kKs:
    case Method::kCramerVonMises:
      return score <= threshold;
    case Method::kChiSquare:
    case Method::kZ:
    case Method::kAndersonDarling:
    case Method::kMannWhitney:
      return score < threshold;
    case Method::kEnergyDistance:
      return score > threshold;
    case Method::kWasserstein:
    case Method::kJensenShannon:
    case Method::kPsi:
    case Method::kKullbackLeibler:
    case Method::kHellinger:
      return score >= threshold;
  }
  return false;
}

TestResult Finish(Method m, double statistic, double p_value, double score,
                  std::optional<double> threshold) {
  TestResult r;
  r.method = m;
  r.statistic = statistic;
  r.p_value = p_value;
  r.score = score;
  r.threshold = threshold.value_or(DefaultThreshold(m));
  r.drifted = Drifted(m, score, r.threshold);
  return r;
}

TestResult FromStatP(Method m, StatP s, std::optional<double> threshold) {
  return Finish(m, s.statistic, s.p_value, s.p_value, threshold);
}

TestResult FromDistance(Method m, double d, std::optional<double> threshold) {
  return Finish(m, d, kNaN, d, threshold);
}

Status CheckNotEmpty(uint64_t reference, uint64_t current) {
  if (reference == 0) {
    return InvalidArgument("the reference sample has no non-missing values");
  }
  if (current == 0) {
    return InvalidArgument("the current sample has no non-missing values");
  }
  return Status::Ok();
}

}  // namespace

std::string_view MethodId(Method method) { return Info(method).id; }
std::string_view MethodDisplayName(Method method) { return Info(method).display; }
double DefaultThreshold(Method method) { return Info(method).threshold; }

Result<Method> MethodFromId(std::string_view id) {
  std::string known;
  for (const MethodInfo& info : kMethods) {
    if (info.id == id) {
      return info.method;
    }
    known += known.empty() ? "" : ", ";
    known += info.id;
  }
  return InvalidArgument("unknown drift method '" + std::string(id) + "' (known: " + known + ")");
}

bool MethodAllows(Method method, ColumnKind kind) {
  return kind == ColumnKind::kNumerical ? Info(method).numeric : Info(method).categorical;
}

uint64_t UnionDistinct(const NumericSample& reference, const NumericSample& current) {
  uint64_t n = 0;
  MergeWalk(reference, current, [&](double, uint64_t, uint64_t) { ++n; });
  return n;
}

Result<uint64_t> UnionDistinct(const CategoricalSample& reference,
                               const CategoricalSample& current) {
  PLINTH_ASSIGN_OR_RETURN(CountTable t, TableOf(reference, current));
  return static_cast<uint64_t>(t.reference.size());
}

Method DefaultMethod(ColumnKind kind, uint64_t reference_size, uint64_t union_distinct) {
  if (reference_size <= 1000) {
    if (kind == ColumnKind::kNumerical && union_distinct > 5) {
      return Method::kKs;
    }
    return union_distinct > 2 ? Method::kChiSquare : Method::kZ;
  }
  if (kind == ColumnKind::kNumerical && union_distinct > 5) {
    return Method::kWasserstein;
  }
  return Method::kJensenShannon;
}

Result<TestResult> RunNumericTest(Method method, const NumericSample& reference,
                                  const NumericSample& current, std::optional<double> threshold) {
  PLINTH_RETURN_IF_ERROR(CheckNotEmpty(reference.size(), current.size()));
  switch (method) {
    case Method::kKs:
      return FromStatP(method, KsTwoSample(reference, current), threshold);
    case Method::kChiSquare:
      return FromStatP(method,
                       ChiSquare(TableOf(reference, current), reference.size(), current.size()),
                       threshold);
    case Method::kZ:
      return FromStatP(method, ZTest(TableOf(reference, current), reference.size(), current.size()),
                       threshold);
    case Method::kWasserstein: {
      const double distance = CdfDistanceIntegral<1>(reference, current);
      const double normed = distance / std::max(reference.StdDev(), 0.001);
      return Finish(method, distance, kNaN, normed, threshold);
    }
    case Method::kEnergyDistance:
      return FromDistance(method,
                          std::sqrt(2.0) * std::sqrt(CdfDistanceIntegral<2>(reference, current)),
                          threshold);
    case Method::kJensenShannon:
      return FromDistance(method, JensenShannon(NumericShares(reference, current)), threshold);
    case Method::kPsi:
      return FromDistance(method, Psi(NumericShares(reference, current)), threshold);
    case Method::kKullbackLeibler:
      return FromDistance(method, KullbackLeibler(NumericShares(reference, current)), threshold);
    case Method::kHellinger:
      return FromDistance(method, HellingerNumeric(reference, current), threshold);
    case Method::kAndersonDarling: {
      PLINTH_ASSIGN_OR_RETURN(StatP s, AndersonDarling(reference, current));
      return FromStatP(method, s, threshold);
    }
    case Method::kCramerVonMises: {
      PLINTH_ASSIGN_OR_RETURN(StatP s, CramerVonMises(reference, current));
      return FromStatP(method, s, threshold);
    }
    case Method::kMannWhitney:
      return FromStatP(method, MannWhitneyLess(reference, current), threshold);
  }
  return InvalidArgument("unknown drift method");
}

Result<TestResult> RunCategoricalTest(Method method, const CategoricalSample& reference,
                                      const CategoricalSample& current,
                                      std::optional<double> threshold) {
  if (!MethodAllows(method, ColumnKind::kCategorical)) {
    return InvalidArgument("drift method '" + std::string(MethodId(method)) +
                           "' is for numerical columns only");
  }
  PLINTH_RETURN_IF_ERROR(CheckNotEmpty(reference.size(), current.size()));
  PLINTH_ASSIGN_OR_RETURN(CountTable t, TableOf(reference, current));
  const uint64_t n_ref = reference.size(), n_cur = current.size();
  switch (method) {
    case Method::kChiSquare:
      return FromStatP(method, ChiSquare(t, n_ref, n_cur), threshold);
    case Method::kZ:
      return FromStatP(method, ZTest(t, n_ref, n_cur), threshold);
    case Method::kJensenShannon:
      return FromDistance(method, JensenShannon(SharesOf(t, n_ref, n_cur)), threshold);
    case Method::kPsi:
      return FromDistance(method, Psi(SharesOf(t, n_ref, n_cur)), threshold);
    case Method::kKullbackLeibler:
      return FromDistance(method, KullbackLeibler(SharesOf(t, n_ref, n_cur)), threshold);
    case Method::kHellinger:
      return FromDistance(method, HellingerCategorical(t, n_ref, n_cur), threshold);
    default:
      break;
  }
  return InvalidArgument("drift method is for numerical columns only");
}

}  // namespace plinth::drift
