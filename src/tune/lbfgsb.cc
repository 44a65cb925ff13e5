#include "tune/lbfgsb.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

namespace plinth::tune {
namespace {

double Dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

LbfgsbResult MinimizeLbfgsb(const ObjectiveWithGradient& f, std::vector<double> x0,
                            std::span<const double> lower, std::span<const double> upper,
                            const LbfgsbOptions& options) {
  const size_t n = x0.size();
  const bool bounded = !lower.empty();
  auto clip = [&](std::vector<double>* x) {
    if (!bounded) return;
    for (size_t i = 0; i < n; ++i) (*x)[i] = std::clamp((*x)[i], lower[i], upper[i]);
  };
  LbfgsbResult r;
  r.x = std::move(x0);
  clip(&r.x);
  std::vector<double> g(n), xn(n), gn(n), d(n), q(n);
  r.f = f(r.x, g);
  r.evaluations = 1;
  if (!std::isfinite(r.f)) {
    return r;
  }
  std::deque<std::vector<double>> s_hist, y_hist;
  std::deque<double> rho_hist;
  std::vector<double> alpha(options.memory);
  // Variables held at a bound by a gradient pointing outwards take no part in the step.
  std::vector<char> free(n, 1);
  const double eps = std::numeric_limits<double>::epsilon();

  while (r.iterations < options.max_iterations && r.evaluations < options.max_evaluations) {
    double pg_norm = 0.0;
    for (size_t i = 0; i < n; ++i) {
      double pg = g[i];
      if (bounded) pg = r.x[i] - std::clamp(r.x[i] - g[i], lower[i], upper[i]);
      pg_norm = std::max(pg_norm, std::abs(pg));
      free[i] = !bounded || !((r.x[i] <= lower[i] && g[i] > 0) || (r.x[i] >= upper[i] && g[i] < 0));
    }
    if (pg_norm <= options.pgtol) {
      r.converged = true;
      break;
    }
    // Two-loop recursion on the free variables.
    for (size_t i = 0; i < n; ++i) q[i] = free[i] ? g[i] : 0.0;
    const int m = static_cast<int>(s_hist.size());
    for (int k = m - 1; k >= 0; --k) {
      double a = 0.0;
      for (size_t i = 0; i < n; ++i) {
        if (free[i]) a += s_hist[k][i] * q[i];
      }
      a *= rho_hist[k];
      alpha[k] = a;
      for (size_t i = 0; i < n; ++i) {
        if (free[i]) q[i] -= a * y_hist[k][i];
      }
    }
    double gamma = 1.0;
    if (m > 0) gamma = 1.0 / (rho_hist.back() * Dot(y_hist.back(), y_hist.back()));
    for (size_t i = 0; i < n; ++i) q[i] *= gamma;
    for (int k = 0; k < m; ++k) {
      double b = 0.0;
      for (size_t i = 0; i < n; ++i) {
        if (free[i]) b += y_hist[k][i] * q[i];
      }
      b *= rho_hist[k];
      for (size_t i = 0; i < n; ++i) {
        if (free[i]) q[i] += s_hist[k][i] * (alpha[k] - b);
      }
    }
    double dg = 0.0;
    for (size_t i = 0; i < n; ++i) {
      d[i] = free[i] ? -q[i] : 0.0;
      dg += d[i] * g[i];
    }
    if (!(dg < 0.0)) {  // not a descent direction: restart from steepest descent
      s_hist.clear();
      y_hist.clear();
      rho_hist.clear();
      dg = 0.0;
      for (size_t i = 0; i < n; ++i) {
        d[i] = free[i] ? -g[i] : 0.0;
        dg += d[i] * g[i];
      }
    }
    // First step: length 1 in the gradient's scale, as L-BFGS-B's first iteration.
    double t = 1.0;
    if (s_hist.empty()) {
      t = std::min(1.0, 1.0 / std::sqrt(Dot(d, d)));
    }
    bool accepted = false;
    double fn = 0.0;
    for (int ls = 0; ls < options.max_line_search && r.evaluations < options.max_evaluations;
         ++ls) {
      for (size_t i = 0; i < n; ++i) xn[i] = r.x[i] + t * d[i];
      clip(&xn);
      double decrease = 0.0;  // ∇f·(xn − x), the projected path's first-order change
      for (size_t i = 0; i < n; ++i) decrease += g[i] * (xn[i] - r.x[i]);
      fn = f(xn, gn);
      ++r.evaluations;
      if (std::isfinite(fn) && fn <= r.f + 1e-4 * decrease) {
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) {
      break;
    }
    ++r.iterations;
    std::vector<double> s(n), y(n);
    for (size_t i = 0; i < n; ++i) {
      s[i] = xn[i] - r.x[i];
      y[i] = gn[i] - g[i];
    }
    double sy = Dot(s, y);
    if (sy > eps * Dot(y, y)) {  // keep the curvature pairs that keep H positive definite
      if (static_cast<int>(s_hist.size()) == options.memory) {
        s_hist.pop_front();
        y_hist.pop_front();
        rho_hist.pop_front();
      }
      s_hist.push_back(std::move(s));
      y_hist.push_back(std::move(y));
      rho_hist.push_back(1.0 / sy);
    }
    double rel = (r.f - fn) / std::max({std::abs(r.f), std::abs(fn), 1.0});
    r.x.swap(xn);
    g.swap(gn);
    r.f = fn;
    if (rel <= options.factr * eps) {
      r.converged = true;
      break;
    }
  }
  return r;
}

}  // namespace plinth::tune
