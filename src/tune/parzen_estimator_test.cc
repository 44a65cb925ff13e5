// ParzenEstimator's caches (kernel masses kept by id, cell masses kept per study) must never
// change a result: an estimator rebuilt many times with ids, as TPE rebuilds one per
// suggestion, gives exactly the densities and draws of a fresh estimator given no ids. And
// the cheaper densities TPE ranks candidates with keep to their promises: LogPdfAt gives
// LogPdf's bits, LogPdfApprox stays within LogPdfApproxError of them.
#include "tune/parzen_estimator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tune/random_state.h"

namespace plinth::tune {
namespace {

struct Space {
  std::vector<Distribution> dists;
  std::vector<const Distribution*> Pointers() const {
    std::vector<const Distribution*> out;
    for (const Distribution& d : dists) out.push_back(&d);
    return out;
  }
};

// An internal value of `d` from `rng`, on its grid.
double Draw(const Distribution& d, RandomState& rng) {
  if (d.is_categorical()) {
    return std::floor(rng.RandomSample() * static_cast<double>(d.choices().size()));
  }
  double lo = d.low(), hi = d.high();
  double x = d.log() ? std::exp(std::log(lo) + rng.RandomSample() * (std::log(hi) - std::log(lo)))
                     : lo + rng.RandomSample() * (hi - lo);
  if (d.has_step()) {
    x = std::clamp(lo + std::nearbyint((x - lo) / d.step()) * d.step(), lo, hi);
  }
  return x;
}

// LogPdfAt on every other point gives LogPdf's bits there and leaves the rest; LogPdfApprox is
// within its error bound (and -inf / NaN exactly where LogPdf is).
void ExpectApproxAndSubsetKeepToLogPdf(ParzenEstimator& estimator, const Candidates& points) {
  std::vector<double> exact(points.n), approx(points.n), subset(points.n, 12345.0);
  estimator.LogPdf(points, exact);
  estimator.LogPdfApprox(points, approx);
  std::vector<uint32_t> odd;
  for (uint32_t i = 1; i < points.n; i += 2) odd.push_back(i);
  estimator.LogPdfAt(points, odd, subset);
  for (size_t i = 0; i < points.n; ++i) {
    if (i % 2 == 1) {
      ASSERT_EQ(std::bit_cast<uint64_t>(subset[i]), std::bit_cast<uint64_t>(exact[i])) << i;
    } else {
      ASSERT_EQ(subset[i], 12345.0) << i;
    }
    if (!std::isfinite(exact[i])) {
      ASSERT_EQ(std::isnan(approx[i]), std::isnan(exact[i])) << i;
      if (!std::isnan(exact[i])) {
        ASSERT_EQ(approx[i], exact[i]) << i;
      }
      continue;
    }
    ASSERT_TRUE(std::isfinite(approx[i])) << i;
    // The bound is ~1000× the worst rounding; the real difference is far below it.
    ASSERT_LE(std::abs(approx[i] - exact[i]), 1e-3 * estimator.LogPdfApproxError(approx[i]))
        << "point " << i << ": " << approx[i] << " vs " << exact[i];
  }
}

// Builds `reused` with ids and a fresh estimator without, over the same observations, and
// checks that both give the same log densities (on `probe` and on their own draws) and draws.
void ExpectSame(ParzenEstimator& reused, const Space& space, const std::vector<double>& obs,
                const std::vector<int>& ids, RandomState& rng) {
  const size_t n_obs = ids.size();
  std::vector<double> weights;
  for (size_t i = 0; i < n_obs; ++i) weights.push_back(1.0 + 0.01 * static_cast<double>(i));
  ParzenEstimatorParameters params;
  std::vector<const Distribution*> dims = space.Pointers();
  ParzenEstimator fresh;
  fresh.Build(dims, obs, n_obs, weights, params);
  reused.Build(dims, obs, n_obs, weights, params, {}, ids);

  Candidates probe;
  probe.n = 40;
  for (const Distribution& d : space.dists) {
    for (size_t i = 0; i < probe.n; ++i) probe.values.push_back(Draw(d, rng));
  }
  std::vector<double> a(probe.n), b(probe.n);
  fresh.LogPdf(probe, a);
  reused.LogPdf(probe, b);
  for (size_t i = 0; i < probe.n; ++i) {
    ASSERT_EQ(a[i], b[i]) << "point " << i;
  }

  RandomState r1(7), r2(7);
  Candidates c1, c2;
  fresh.Sample(&r1, 24, &c1);
  reused.Sample(&r2, 24, &c2);
  ASSERT_EQ(c1.values, c2.values);
  std::vector<double> l1(24), l2(24);
  fresh.LogPdf(c1, l1);
  reused.LogPdf(c2, l2);
  ASSERT_EQ(l1, l2);
  ExpectApproxAndSubsetKeepToLogPdf(reused, probe);
  ExpectApproxAndSubsetKeepToLogPdf(reused, c2);
}

TEST(ParzenEstimatorTest, CachedKernelsGiveTheResultsOfAFreshBuild) {
  Space space;
  space.dists = {
      *Distribution::Float(-10, 10),     *Distribution::Float(1e-5, 1e-1, true),
      *Distribution::Int(1, 64),         *Distribution::Categorical({"a", "b", "c", "d"}),
      *Distribution::Int(1, 1024, true), *Distribution::Float(0, 1, false, 0.125)};
  RandomState rng(3);
  // Trial numbers 0..n-1 with values; each round adds trials, drops some (they moved to the
  // other estimator) and changes a few values under the same id (a running trial finishing).
  std::vector<std::vector<double>> values;  // by id, per dimension
  ParzenEstimator reused;
  std::vector<int> ids;
  for (int round = 0; round < 30; ++round) {
    for (int add = 0; add < 7; ++add) {
      std::vector<double> v;
      for (const Distribution& d : space.dists) v.push_back(Draw(d, rng));
      // Repeated values, so that kernels share centres and bandwidths.
      if (!values.empty() && add % 3 == 0) v[2] = values.back()[2];
      values.push_back(v);
      ids.push_back(static_cast<int>(values.size()) - 1);
    }
    if (round % 4 == 1) ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(ids.size() / 3));
    if (round % 5 == 2) values[ids[0]][0] = Draw(space.dists[0], rng);
    std::vector<double> obs;
    for (size_t d = 0; d < space.dists.size(); ++d) {
      for (int id : ids) obs.push_back(values[id][d]);
    }
    ExpectSame(reused, space, obs, ids, rng);
    if (HasFatalFailure()) return;
  }
}

TEST(ParzenEstimatorTest, CachesStartAfreshWhenASlotHoldsAnotherRange) {
  // The same ids and values over other bounds (another parameter in the slot, as TPE's
  // independent sampling of conditional parameters does), then back.
  Space first, second;
  first.dists = {*Distribution::Float(0, 10), *Distribution::Int(0, 20)};
  second.dists = {*Distribution::Float(-10, 10), *Distribution::Int(0, 20, false, 2)};
  RandomState rng(5);
  std::vector<int> ids;
  std::vector<double> obs0, obs1;
  for (int i = 0; i < 40; ++i) {
    ids.push_back(i);
    obs0.push_back(Draw(first.dists[0], rng));
    obs1.push_back(2 * std::floor(Draw(first.dists[1], rng) / 2));
  }
  std::vector<double> obs = obs0;
  obs.insert(obs.end(), obs1.begin(), obs1.end());
  ParzenEstimator reused;
  for (const Space* space : {&first, &second, &first}) {
    ExpectSame(reused, *space, obs, ids, rng);
    if (HasFatalFailure()) return;
  }
}

TEST(ParzenEstimatorTest, ApproximateDensitiesOfALargeMixtureStayWithinTheirBound) {
  // g(x) of a long study: 3,000 kernels, the oldest weighted down, clustered where a search
  // converges; probes near the cluster, anywhere, and outside the range (-inf).
  Space space;
  space.dists = {*Distribution::Float(-10, 10), *Distribution::Float(1e-5, 1e-1, true),
                 *Distribution::Int(1, 64), *Distribution::Categorical({"a", "b", "c", "d"}),
                 *Distribution::Float(0, 1)};
  RandomState rng(11);
  const size_t n_obs = 3000;
  std::vector<double> obs;
  for (size_t d = 0; d < space.dists.size(); ++d) {
    for (size_t i = 0; i < n_obs; ++i) {
      double v = Draw(space.dists[d], rng);
      if (d == 0 && i % 2 == 0) v = 1.5 + 0.01 * (v / 10);
      obs.push_back(v);
    }
  }
  std::vector<double> weights;
  for (size_t i = 0; i < n_obs; ++i) {
    weights.push_back(std::min(1.0, static_cast<double>(i + 1) / 2000));
  }
  ParzenEstimator estimator;
  estimator.Build(space.Pointers(), obs, n_obs, weights, {});
  Candidates probe;
  probe.n = 64;
  for (size_t d = 0; d < space.dists.size(); ++d) {
    for (size_t i = 0; i < probe.n; ++i) {
      double v = Draw(space.dists[d], rng);
      if (d == 0 && i % 3 == 0) v = 1.5 + 0.001 * static_cast<double>(i);
      if (d == 0 && i == 5) v = 11;  // outside: -inf
      probe.values.push_back(v);
    }
  }
  ExpectApproxAndSubsetKeepToLogPdf(estimator, probe);
  RandomState draws(2);
  Candidates sampled;
  estimator.Sample(&draws, 48, &sampled);
  ExpectApproxAndSubsetKeepToLogPdf(estimator, sampled);
}

}  // namespace
}  // namespace plinth::tune
