#include "tune/symmetric_eigen.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace plinth::tune {
namespace {

// LAPACK's machine constants (dlamch 'E' and 'S').
constexpr double kEps = std::numeric_limits<double>::epsilon() * 0.5;
constexpr double kSafeMin = std::numeric_limits<double>::min();

// The matrices below are column-major with 1-based indices, as in the Fortran they follow, so
// that the order of every reflection and rotation is easy to check against LAPACK.
class ColMajor {
 public:
  explicit ColMajor(int n) : n_(n), a_(static_cast<size_t>(n) * n, 0.0) {}
  double& operator()(int i, int j) { return a_[static_cast<size_t>(j - 1) * n_ + (i - 1)]; }

 private:
  int n_;
  std::vector<double> a_;
};

// dlapy2: sqrt(x² + y²) without avoidable overflow.
double Lapy2(double x, double y) {
  const double xa = std::abs(x), ya = std::abs(y);
  const double w = std::max(xa, ya), z = std::min(xa, ya);
  if (z == 0.0 || w > std::numeric_limits<double>::max()) {
    return w;
  }
  return w * std::sqrt(1.0 + (z / w) * (z / w));
}

// dlartg (LAPACK 3.10+): the plane rotation [c s; −s c]·[f; g] = [r; 0], with r carrying f's
// sign.
void Lartg(double f, double g, double* c, double* s, double* r) {
  const double safmax = 1.0 / kSafeMin;
  const double rtmin = std::sqrt(kSafeMin);
  const double rtmax = std::sqrt(safmax / 2);
  const double f1 = std::abs(f), g1 = std::abs(g);
  if (g == 0.0) {
    *c = 1.0;
    *s = 0.0;
    *r = f;
  } else if (f == 0.0) {
    *c = 0.0;
    *s = std::copysign(1.0, g);
    *r = g1;
  } else if (f1 > rtmin && f1 < rtmax && g1 > rtmin && g1 < rtmax) {
    const double d = std::sqrt(f * f + g * g);
    *c = f1 / d;
    *r = std::copysign(d, f);
    *s = g / *r;
  } else {
    const double u = std::min(safmax, std::max({kSafeMin, f1, g1}));
    const double fs = f / u, gs = g / u;
    const double d = std::sqrt(fs * fs + gs * gs);
    *c = std::abs(fs) / d;
    *r = std::copysign(d, f);
    *s = gs / *r;
    *r *= u;
  }
}

// dlaev2: eigenvalues rt1 (larger in magnitude), rt2 of [[a, b], [b, c]] and (cs1, sn1), the
// unit eigenvector of rt1.
void Laev2(double a, double b, double c, double* rt1, double* rt2, double* cs1, double* sn1) {
  const double sm = a + c, df = a - c, adf = std::abs(df), tb = b + b, ab = std::abs(tb);
  double acmx, acmn;
  if (std::abs(a) > std::abs(c)) {
    acmx = a;
    acmn = c;
  } else {
    acmx = c;
    acmn = a;
  }
  double rt;
  if (adf > ab) {
    rt = adf * std::sqrt(1.0 + (ab / adf) * (ab / adf));
  } else if (adf < ab) {
    rt = ab * std::sqrt(1.0 + (adf / ab) * (adf / ab));
  } else {
    rt = ab * std::sqrt(2.0);
  }
  int sgn1;
  if (sm < 0.0) {
    *rt1 = 0.5 * (sm - rt);
    sgn1 = -1;
    *rt2 = (acmx / *rt1) * acmn - (b / *rt1) * b;
  } else if (sm > 0.0) {
    *rt1 = 0.5 * (sm + rt);
    sgn1 = 1;
    *rt2 = (acmx / *rt1) * acmn - (b / *rt1) * b;
  } else {
    *rt1 = 0.5 * rt;
    *rt2 = -0.5 * rt;
    sgn1 = 1;
  }
  double cs;
  int sgn2;
  if (df >= 0.0) {
    cs = df + rt;
    sgn2 = 1;
  } else {
    cs = df - rt;
    sgn2 = -1;
  }
  if (std::abs(cs) > ab) {
    const double ct = -tb / cs;
    *sn1 = 1.0 / std::sqrt(1.0 + ct * ct);
    *cs1 = ct * *sn1;
  } else if (ab == 0.0) {
    *cs1 = 1.0;
    *sn1 = 0.0;
  } else {
    const double tn = -cs / tb;
    *cs1 = 1.0 / std::sqrt(1.0 + tn * tn);
    *sn1 = tn * *cs1;
  }
  if (sgn1 == sgn2) {
    const double tn = *cs1;
    *cs1 = -*sn1;
    *sn1 = tn;
  }
}

// dlasr with SIDE='R', PIVOT='V': rotations k = 1..cols−1 of the plane (col0+k−1, col0+k) of
// z, applied last to first (`backward`) or first to last; c[k], s[k] are 1-based.
void RotateColumns(ColMajor& z, int rows, int col0, int cols, const double* c, const double* s,
                   bool backward) {
  auto apply = [&](int j) {
    const double ct = c[j], st = s[j];
    if (ct == 1.0 && st == 0.0) {
      return;
    }
    for (int i = 1; i <= rows; ++i) {
      const double temp = z(i, col0 + j);
      z(i, col0 + j) = ct * temp - st * z(i, col0 + j - 1);
      z(i, col0 + j - 1) = st * temp + ct * z(i, col0 + j - 1);
    }
  };
  if (backward) {
    for (int j = cols - 1; j >= 1; --j) apply(j);
  } else {
    for (int j = 1; j <= cols - 1; ++j) apply(j);
  }
}

// dsteqr with COMPZ='I': eigenvalues (d) and eigenvectors (z) of the tridiagonal (d, e).
// Returns false on no convergence.
bool Steqr(int n, std::vector<double>& d, std::vector<double>& e, ColMajor& z) {
  const double eps2 = kEps * kEps;
  for (int i = 1; i <= n; ++i) {
    for (int j = 1; j <= n; ++j) z(i, j) = i == j ? 1.0 : 0.0;
  }
  const int nmaxit = n * 30;
  int jtot = 0;
  const int nm1 = n - 1;
  // work(1..n−1) holds cosines, work(n..2n−2) sines, both 1-based.
  std::vector<double> work(2 * static_cast<size_t>(n) + 1, 0.0);
  int l1 = 1;
  while (l1 <= n) {
    if (l1 > 1) e[l1 - 1] = 0.0;
    // Split off a block where a subdiagonal entry is negligible.
    int m = l1;
    for (; m <= nm1; ++m) {
      const double tst = std::abs(e[m]);
      if (tst == 0.0) break;
      if (tst <= (std::sqrt(std::abs(d[m])) * std::sqrt(std::abs(d[m + 1]))) * kEps) {
        e[m] = 0.0;
        break;
      }
    }
    int l = l1;
    const int lsv = l;
    int lend = m;
    const int lendsv = lend;
    l1 = m + 1;
    if (lend == l) continue;
    double anorm = 0.0;
    for (int i = l; i <= lend; ++i) anorm = std::max(anorm, std::abs(d[i]));
    for (int i = l; i < lend; ++i) anorm = std::max(anorm, std::abs(e[i]));
    if (anorm == 0.0) continue;
    // QL when the top is the larger end, else QR.
    if (std::abs(d[lend]) < std::abs(d[l])) {
      lend = lsv;
      l = lendsv;
    }
    double c, s, r, p, g, f, b, rt1, rt2;
    if (lend > l) {
      while (true) {
        if (l != lend) {
          for (m = l; m <= lend - 1; ++m) {
            const double tst = std::abs(e[m]) * std::abs(e[m]);
            if (tst <= (eps2 * std::abs(d[m])) * std::abs(d[m + 1]) + kSafeMin) break;
          }
        } else {
          m = lend;
        }
        if (m < lend) e[m] = 0.0;
        p = d[l];
        if (m == l) {
          d[l] = p;
          ++l;
          if (l <= lend) continue;
          break;
        }
        if (m == l + 1) {
          Laev2(d[l], e[l], d[l + 1], &rt1, &rt2, &c, &s);
          work[l] = c;
          work[n - 1 + l] = s;
          RotateColumns(z, n, l, 2, &work[l] - 1, &work[n - 1 + l] - 1, /*backward=*/true);
          d[l] = rt1;
          d[l + 1] = rt2;
          e[l] = 0.0;
          l += 2;
          if (l <= lend) continue;
          break;
        }
        if (jtot == nmaxit) break;
        ++jtot;
        g = (d[l + 1] - p) / (2.0 * e[l]);
        r = Lapy2(g, 1.0);
        g = d[m] - p + (e[l] / (g + std::copysign(r, g)));
        s = 1.0;
        c = 1.0;
        p = 0.0;
        for (int i = m - 1; i >= l; --i) {
          f = s * e[i];
          b = c * e[i];
          Lartg(g, f, &c, &s, &r);
          if (i != m - 1) e[i + 1] = r;
          g = d[i + 1] - p;
          r = (d[i] - g) * s + 2.0 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
          work[i] = c;
          work[n - 1 + i] = -s;
        }
        RotateColumns(z, n, l, m - l + 1, &work[l] - 1, &work[n - 1 + l] - 1, true);
        d[l] = d[l] - p;
        e[l] = g;
      }
    } else {
      while (true) {
        if (l != lend) {
          for (m = l; m >= lend + 1; --m) {
            const double tst = std::abs(e[m - 1]) * std::abs(e[m - 1]);
            if (tst <= (eps2 * std::abs(d[m])) * std::abs(d[m - 1]) + kSafeMin) break;
          }
        } else {
          m = lend;
        }
        if (m > lend) e[m - 1] = 0.0;
        p = d[l];
        if (m == l) {
          d[l] = p;
          --l;
          if (l >= lend) continue;
          break;
        }
        if (m == l - 1) {
          Laev2(d[l - 1], e[l - 1], d[l], &rt1, &rt2, &c, &s);
          work[m] = c;
          work[n - 1 + m] = s;
          RotateColumns(z, n, l - 1, 2, &work[m] - 1, &work[n - 1 + m] - 1, false);
          d[l - 1] = rt1;
          d[l] = rt2;
          e[l - 1] = 0.0;
          l -= 2;
          if (l >= lend) continue;
          break;
        }
        if (jtot == nmaxit) break;
        ++jtot;
        g = (d[l - 1] - p) / (2.0 * e[l - 1]);
        r = Lapy2(g, 1.0);
        g = d[m] - p + (e[l - 1] / (g + std::copysign(r, g)));
        s = 1.0;
        c = 1.0;
        p = 0.0;
        for (int i = m; i <= l - 1; ++i) {
          f = s * e[i];
          b = c * e[i];
          Lartg(g, f, &c, &s, &r);
          if (i != m) e[i - 1] = r;
          g = d[i] - p;
          r = (d[i + 1] - g) * s + 2.0 * c * b;
          p = s * r;
          d[i] = g + p;
          g = c * r - b;
          work[i] = c;
          work[n - 1 + i] = s;
        }
        RotateColumns(z, n, m, l - m + 1, &work[m] - 1, &work[n - 1 + m] - 1, false);
        d[l] = d[l] - p;
        e[l - 1] = g;
      }
    }
    if (jtot >= nmaxit) {
      for (int i = 1; i <= n - 1; ++i) {
        if (e[i] != 0.0) return false;
      }
      return true;  // LAPACK leaves this (degenerate) case unsorted too
    }
  }
  // Selection sort, ascending, swapping eigenvector columns.
  for (int ii = 2; ii <= n; ++ii) {
    const int i = ii - 1;
    int k = i;
    double p = d[i];
    for (int j = ii; j <= n; ++j) {
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    }
    if (k != i) {
      d[k] = d[i];
      d[i] = p;
      for (int row = 1; row <= n; ++row) std::swap(z(row, i), z(row, k));
    }
  }
  return true;
}

}  // namespace

bool SymmetricEigenLapack(int n, const std::vector<double>& input, std::vector<double>* w,
                          std::vector<double>* v) {
  w->assign(n, 0.0);
  v->assign(static_cast<size_t>(n) * n, 0.0);
  if (n == 1) {
    (*w)[0] = input[0];
    (*v)[0] = 1.0;
    return true;
  }
  ColMajor a(n);
  for (int i = 1; i <= n; ++i) {
    for (int j = 1; j <= i; ++j) a(i, j) = input[static_cast<size_t>(i - 1) * n + (j - 1)];
  }
  // dsytd2, lower: Householder reflectors H(i) = I − τ·v·vᵀ, v = [1; a(i+2:n, i)], reduce
  // a to tridiagonal (d, e).
  std::vector<double> d(n + 1, 0.0), e(n + 1, 0.0), tau(n + 1, 0.0), y(n + 1, 0.0);
  for (int i = 1; i <= n - 1; ++i) {
    const int len = n - i;  // the reflector's length
    double alpha = a(i + 1, i);
    double taui = 0.0;
    if (len > 1) {
      // dlarfg
      double xnorm = 0.0;
      for (int k = i + 2; k <= n; ++k) xnorm = Lapy2(xnorm, a(k, i));
      if (xnorm != 0.0) {
        const double beta = -std::copysign(Lapy2(alpha, xnorm), alpha);
        taui = (beta - alpha) / beta;
        const double scale = 1.0 / (alpha - beta);
        for (int k = i + 2; k <= n; ++k) a(k, i) *= scale;
        alpha = beta;
      }
    }
    a(i + 1, i) = alpha;
    e[i] = alpha;
    if (taui != 0.0) {
      a(i + 1, i) = 1.0;
      // y := τ·A·v over the trailing block (dsymv, lower), p and q 1-based in the block.
      auto block = [&](int p, int q) -> double& { return a(i + p, i + q); };
      auto vec = [&](int p) { return a(i + p, i); };
      for (int p = 1; p <= len; ++p) y[p] = 0.0;
      for (int q = 1; q <= len; ++q) {
        const double temp1 = taui * vec(q);
        double temp2 = 0.0;
        y[q] += temp1 * block(q, q);
        for (int p = q + 1; p <= len; ++p) {
          y[p] += temp1 * block(p, q);
          temp2 += block(p, q) * vec(p);
        }
        y[q] += taui * temp2;
      }
      // w := y − ½·τ·(yᵀv)·v
      double dot = 0.0;
      for (int p = 1; p <= len; ++p) dot += y[p] * vec(p);
      const double alpha2 = -0.5 * taui * dot;
      for (int p = 1; p <= len; ++p) y[p] += alpha2 * vec(p);
      // A := A − v·wᵀ − w·vᵀ (dsyr2, lower)
      for (int q = 1; q <= len; ++q) {
        if (vec(q) != 0.0 || y[q] != 0.0) {
          const double temp1 = -1.0 * y[q];
          const double temp2 = -1.0 * vec(q);
          for (int p = q; p <= len; ++p) block(p, q) = block(p, q) + vec(p) * temp1 + y[p] * temp2;
        }
      }
      a(i + 1, i) = e[i];
    }
    d[i] = a(i, i);
    tau[i] = taui;
  }
  d[n] = a(n, n);

  ColMajor z(n);
  if (!Steqr(n, d, e, z)) {
    return false;
  }
  // dormtr → dorm2r: eigenvectors = H(1)·…·H(n−1)·Z, applied H(n−1) first, each to rows i+1..n.
  for (int i = n - 1; i >= 1; --i) {
    if (tau[i] == 0.0) continue;
    auto vec = [&](int row) { return row == i + 1 ? 1.0 : a(row, i); };
    for (int col = 1; col <= n; ++col) {
      double wj = 0.0;
      for (int row = i + 1; row <= n; ++row) wj += z(row, col) * vec(row);
      const double temp = -tau[i] * wj;
      for (int row = i + 1; row <= n; ++row) z(row, col) += vec(row) * temp;
    }
  }
  for (int j = 1; j <= n; ++j) {
    (*w)[j - 1] = d[j];
    for (int i = 1; i <= n; ++i) (*v)[static_cast<size_t>(i - 1) * n + (j - 1)] = z(i, j);
  }
  return true;
}

}  // namespace plinth::tune
