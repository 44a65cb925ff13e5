#include "tune/truncnorm.h"

#include <cfloat>
#include <cmath>
#include <limits>

namespace plinth::tune::truncnorm {
namespace {

constexpr double kSqrt2 = 1.4142135623730951;  // 2**0.5, exactly the double Python computes
// sqrt(3)/π, the logistic approximation's scale; computed as Optuna does, not rounded by hand.
const double kLogisticScale = std::sqrt(3.0) / M_PI;

// Φ(a) for one value, picking erf or erfc by region as Optuna's _ndtr_single does.
double NdtrSingle(double a) {
  double x = a / kSqrt2;
  if (x < -1 / kSqrt2) {
    return 0.5 * std::erfc(-x);
  }
  if (x < 1 / kSqrt2) {
    return 0.5 + 0.5 * std::erf(x);
  }
  return 1.0 - 0.5 * std::erfc(x);
}

// Beyond this many sigmas erf(a / sqrt 2) is ±1 in double (erfc < 2^-60 past 8.5 sigmas): a
// kernel this deep inside its range has all its mass there.
constexpr double kWholeMass = 12.0;

// Φ(a) as Optuna's vectorised _ndtr: always through erf (used in the central mass only).
double NdtrErf(double a) { return 0.5 + 0.5 * std::erf(a / kSqrt2); }

// log(p − q) from log p and log q.
double LogDiff(double log_p, double log_q) { return log_p + std::log1p(-std::exp(log_q - log_p)); }

// numpy.logaddexp.
double LogAddExp(double x, double y) {
  if (x == y) {
    return x + M_LN2;
  }
  double d = x - y;
  if (d > 0) {
    return x + std::log1p(std::exp(-d));
  }
  if (d <= 0) {
    return y + std::log1p(std::exp(d));
  }
  return d;  // NaN
}

// Solves LogNdtr(x) = y for a batch (Optuna's _ndtri_exp): a closed-form start (tail
// asymptote or logistic approximation), then Newton steps until every element has moved by
// less than 1e-8 of itself, or 100 steps.
void NdtriExp(std::span<double> y_in_x_out, PpfWorkspace* ws) {
  const size_t n = y_in_x_out.size();
  std::vector<unsigned char>& flipped = ws->flipped;
  std::vector<double>& z = ws->y;
  flipped.assign(n, 0);
  z.resize(n);
  for (size_t i = 0; i < n; ++i) {
    double y = y_in_x_out[i];
    // Near y = 0 solve for −x on the other tail, where the logarithm keeps its precision.
    flipped[i] = y > -1e-2;
    z[i] = flipped[i] ? std::log(-std::expm1(y)) : y;
    double zi = z[i];
    y_in_x_out[i] = zi < -5 ? -std::sqrt(-2.0 * (zi + kLogSqrt2Pi))
                            : -kLogisticScale * std::log(std::expm1(-zi));
  }
  for (int iter = 0; iter < 100; ++iter) {
    bool converged = true;
    for (size_t i = 0; i < n; ++i) {
      double x = y_in_x_out[i];
      double log_ndtr_x = LogNdtr(x);
      double log_norm_pdf_x = -0.5 * (x * x) - kLogSqrt2Pi;
      double dx = (log_ndtr_x - z[i]) * std::exp(log_ndtr_x - log_norm_pdf_x);
      x -= dx;
      y_in_x_out[i] = x;
      if (!(std::abs(dx) < 1e-8 * std::abs(x))) {
        converged = false;
      }
    }
    if (converged) {
      break;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (flipped[i]) {
      y_in_x_out[i] = -y_in_x_out[i];
    }
  }
}

}  // namespace

double LogNdtr(double a) {
  if (a > 6) {
    return -NdtrSingle(-a);  // log(1 − ε) ≈ −ε
  }
  if (a > -20) {
    return std::log(NdtrSingle(a));
  }
  // Far left tail: log of the asymptotic series of Φ(a)·a·sqrt(2π)·exp(a²/2), summed until it
  // stops changing.
  double log_lhs = -0.5 * (a * a) - std::log(-a) - 0.5 * std::log(2 * M_PI);
  double last_total = 0.0;
  double right_hand_side = 1.0;
  double numerator = 1.0;
  double denom_factor = 1.0;
  double denom_cons = 1 / (a * a);
  int sign = 1;
  int i = 0;
  while (std::abs(last_total - right_hand_side) > DBL_EPSILON) {
    ++i;
    last_total = right_hand_side;
    sign = -sign;
    denom_factor *= denom_cons;
    numerator *= 2 * i - 1;
    right_hand_side += sign * numerator * denom_factor;
  }
  return log_lhs + std::log(right_hand_side);
}

double LogGaussMass(double a, double b) {
  // Work in the left tail where Φ is accurate; mirror the right tail onto it.
  if (b <= 0) {
    return LogDiff(LogNdtr(b), LogNdtr(a));
  }
  if (a > 0) {
    return LogDiff(LogNdtr(-a), LogNdtr(-b));
  }
  // Straddling zero: 1 − Φ(a) − Φ(−b) avoids cancellation as the mass nears 1.
  if (a < -kWholeMass && b > kWholeMass) {
    return -0.0;  // both erf terms round to ∓1, so log1p(−0 − 0), without the three calls
  }
  return std::log1p(-NdtrErf(a) - NdtrErf(-b));
}

void Ppf(std::span<const double> q, std::span<const double> a, std::span<const double> b,
         std::span<double> out, PpfWorkspace* ws) {
  Ppf(q, a, b, {}, out, ws);
}

double PpfLogTail(double a, double b) { return a < 0 ? LogNdtr(a) : LogNdtr(-b); }

void Ppf(std::span<const double> q, std::span<const double> a, std::span<const double> b,
         std::span<const double> log_mass, std::span<double> out, PpfWorkspace* ws,
         std::span<const double> log_tail) {
  const size_t n = q.size();
  std::vector<size_t>& index = ws->index;
  std::vector<double>& x = ws->x;
  // Two passes: a < 0 (solve on the left tail), then a >= 0 (mirror: solve for −x).
  for (int pass = 0; pass < 2; ++pass) {
    const bool left = pass == 0;
    index.clear();
    x.clear();
    for (size_t i = 0; i < n; ++i) {
      if ((a[i] < 0) != left) {
        continue;
      }
      const double mass = log_mass.empty() ? LogGaussMass(a[i], b[i]) : log_mass[i];
      const double tail = log_tail.empty() ? PpfLogTail(a[i], b[i]) : log_tail[i];
      double log_phi =
          left ? LogAddExp(tail, std::log(q[i]) + mass) : LogAddExp(tail, std::log1p(-q[i]) + mass);
      index.push_back(i);
      x.push_back(log_phi);
    }
    if (index.empty()) {
      continue;
    }
    NdtriExp(std::span<double>(x), ws);
    for (size_t j = 0; j < index.size(); ++j) {
      out[index[j]] = left ? x[j] : -x[j];
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (q[i] == 0) {
      out[i] = a[i];
    }
    if (q[i] == 1) {
      out[i] = b[i];
    }
    if (a[i] == b[i]) {
      out[i] = std::numeric_limits<double>::quiet_NaN();
    }
  }
}

}  // namespace plinth::tune::truncnorm
